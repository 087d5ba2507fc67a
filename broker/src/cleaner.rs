//! Background upkeep: retention and compaction every `cleaner_interval`, and, under
//! `FsyncPolicy::Interval`, a flusher that syncs written data. The tasks hold only a weak
//! reference, so they end when the last [`Broker`] handle is dropped.

use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::broker::{Broker, BrokerInner, blocking};
use crate::config::FsyncPolicy;
use crate::error::Result;
use crate::types::now_ms;

/// What one cleaner pass did, summed over all partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CleanerReport {
    pub segments_deleted: usize,
    pub segments_compacted: usize,
    pub records_removed: u64,
}

impl Broker {
    /// Runs retention and compaction on every partition now (the background task does this
    /// every `cleaner_interval`).
    pub async fn run_cleaner(&self) -> Result<CleanerReport> {
        let this = self.clone();
        blocking(move || this.clean_all(now_ms())).await
    }

    fn clean_all(&self, now: i64) -> Result<CleanerReport> {
        let mut report = CleanerReport::default();
        for topic in self.all_topics() {
            let config = topic.config();
            for log in topic.partitions().iter() {
                if config.cleanup_policy.compacts() {
                    let compacted = log.compact(config.delete_retention_ms, now)?;
                    report.segments_compacted += compacted.segments_rewritten;
                    report.records_removed += compacted.records_removed;
                }
                if let Some(limits) = config.retention_limits() {
                    report.segments_deleted += log.apply_retention(limits, now)?;
                }
            }
        }
        Ok(report)
    }
}

/// Starts the cleaner and, for `FsyncPolicy::Interval`, the flusher, if a tokio runtime is
/// running (it always is when called from [`Broker::open`]).
pub(crate) fn spawn_background_tasks(broker: &Broker) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let weak = Arc::downgrade(&broker.inner);
    runtime.spawn(periodic(
        weak.clone(),
        broker.inner.config.cleaner_interval,
        |broker| async move {
            if let Err(error) = broker.run_cleaner().await {
                tracing::error!(%error, "retention/compaction pass failed");
            }
        },
    ));
    if let FsyncPolicy::Interval(interval) = broker.inner.config.fsync {
        runtime.spawn(periodic(weak, interval, |broker| async move {
            if let Err(error) = broker.flush().await {
                tracing::error!(%error, "periodic flush failed");
            }
        }));
    }
}

async fn periodic<F, Fut>(broker: Weak<BrokerInner>, every: Duration, mut work: F)
where
    F: FnMut(Broker) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut ticker = tokio::time::interval(every.max(Duration::from_millis(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let Some(inner) = broker.upgrade() else {
            return;
        };
        work(Broker { inner }).await;
    }
}
