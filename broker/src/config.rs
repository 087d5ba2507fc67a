//! Broker-wide settings: durability policy, topic auto-creation and limits.

use std::time::Duration;

use crate::topic::TopicConfig;

/// When appended data is forced to stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FsyncPolicy {
    /// Every append is fdatasync'ed before it is acknowledged (concurrent appends to one
    /// partition share one fsync). Acknowledged records survive `kill -9` and power loss.
    #[default]
    EveryAppend,
    /// Appends are acknowledged once written to the OS; data is fsync'ed at most this long
    /// after it was written. Survives `kill -9`, may lose the last interval on power loss.
    Interval(Duration),
}

/// Whether producing to a missing topic creates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoCreateTopics {
    /// Create missing topics with this config on first produce.
    Enabled(TopicConfig),
    /// Producing to a missing topic fails with [`crate::Error::UnknownTopic`].
    Disabled,
}

/// Settings for [`crate::Broker::open`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerConfig {
    pub fsync: FsyncPolicy,
    pub auto_create_topics: AutoCreateTopics,
    /// The largest encoded batch one produce call may write.
    pub max_batch_bytes: usize,
    /// Log bytes between sparse index entries.
    pub index_interval_bytes: u64,
    /// How often retention and compaction run in the background.
    pub cleaner_interval: Duration,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            fsync: FsyncPolicy::EveryAppend,
            auto_create_topics: AutoCreateTopics::Enabled(TopicConfig::default()),
            max_batch_bytes: 16 << 20,
            index_interval_bytes: 4096,
            cleaner_interval: Duration::from_secs(30),
        }
    }
}
