//! [`Broker`]: the async, cheaply clonable handle over the storage core. It owns the topic
//! map and the data directory layout (`<data_dir>/topics/<topic>/{topic.json,<partition>/}`),
//! and runs blocking storage work on tokio's blocking pool so async callers never stall a
//! runtime worker. Produce lives in [`crate::produce`], fetch in [`crate::fetch`], the
//! background retention/compaction/flush tasks in [`crate::cleaner`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use parking_lot::{Mutex, RwLock};

use crate::config::{AutoCreateTopics, BrokerConfig};
use crate::error::{Error, Result};
use crate::group::{CONSUMER_OFFSETS_TOPIC, GroupCoordinator};
use crate::log::{PartitionLog, io_error, sync_dir};
use crate::topic::{Topic, TopicConfig, validate_topic_name};
use crate::types::{Offset, PartitionId};

const TOPICS_DIR: &str = "topics";
const TRASH_DIR: &str = "trash";

/// The embedded broker. Clone it freely: clones share one set of topics.
#[derive(Debug, Clone)]
pub struct Broker {
    pub(crate) inner: Arc<BrokerInner>,
}

#[derive(Debug)]
pub(crate) struct BrokerInner {
    pub(crate) data_dir: PathBuf,
    pub(crate) config: BrokerConfig,
    pub(crate) topics: RwLock<HashMap<String, Arc<Topic>>>,
    /// Serialises create/delete/add-partitions so they cannot interleave on disk.
    admin: Mutex<()>,
    /// The consumer-group coordinator over `__consumer_offsets`, set once during open.
    groups: OnceLock<GroupCoordinator>,
    /// Held (flock) for the broker's lifetime so a second broker cannot open the same data.
    _lock: std::fs::File,
    /// Bytes appended and served since open.
    pub(crate) traffic: crate::traffic::Traffic,
}

/// A topic's config and the state of each partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicDescription {
    pub name: String,
    pub config: TopicConfig,
    pub partitions: Vec<PartitionDescription>,
}

/// Offsets and size of one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionDescription {
    pub partition: PartitionId,
    pub log_start_offset: Offset,
    pub high_watermark: Offset,
    pub size_bytes: u64,
}

impl Broker {
    /// Opens (creating if needed) the broker in `data_dir`, recovering every partition, and
    /// starts the background cleaner (and interval flusher) on the current tokio runtime.
    pub async fn open(data_dir: impl AsRef<Path>, config: BrokerConfig) -> Result<Broker> {
        let data_dir = data_dir.as_ref().to_path_buf();
        let broker = blocking(move || {
            let broker = Broker::open_blocking(data_dir, config)?;
            let coordinator = crate::group_log::open_coordinator(&broker)?;
            if broker.inner.groups.set(coordinator).is_err() {
                unreachable!("the coordinator is set once, here");
            }
            Ok(broker)
        })
        .await?;
        crate::cleaner::spawn_background_tasks(&broker);
        crate::group_log::spawn_group_expiry(broker.groups());
        Ok(broker)
    }

    fn open_blocking(data_dir: PathBuf, config: BrokerConfig) -> Result<Broker> {
        let topics_dir = data_dir.join(TOPICS_DIR);
        std::fs::create_dir_all(&topics_dir)
            .map_err(io_error(format!("creating {}", topics_dir.display())))?;
        let lock = lock_data_dir(&data_dir)?;
        let trash = data_dir.join(TRASH_DIR);
        if trash.exists() {
            std::fs::remove_dir_all(&trash)
                .map_err(io_error(format!("emptying {}", trash.display())))?;
        }
        let mut topics = HashMap::new();
        let entries = std::fs::read_dir(&topics_dir)
            .map_err(io_error(format!("listing {}", topics_dir.display())))?;
        for entry in entries {
            let entry = entry.map_err(io_error(format!("listing {}", topics_dir.display())))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if validate_topic_name(&name).is_err() || !entry.path().is_dir() {
                tracing::warn!(path = %entry.path().display(), "ignoring entry that is not a topic directory");
                continue;
            }
            let topic = Topic::open(entry.path(), &name, &config)?;
            topics.insert(name, Arc::new(topic));
        }
        Ok(Broker {
            inner: Arc::new(BrokerInner {
                data_dir,
                config,
                topics: RwLock::new(topics),
                admin: Mutex::new(()),
                groups: OnceLock::new(),
                _lock: lock,
                traffic: crate::traffic::Traffic::default(),
            }),
        })
    }

    /// Bytes appended and served since the broker opened.
    pub fn traffic(&self) -> crate::traffic::TrafficTotals {
        self.inner.traffic.totals()
    }

    /// The consumer-group coordinator (membership, assignment, committed offsets), backed by
    /// the compacted `__consumer_offsets` topic.
    pub fn groups(&self) -> &GroupCoordinator {
        self.inner
            .groups
            .get()
            .expect("Broker::open sets the coordinator before returning")
    }

    /// The settings the broker was opened with.
    pub fn config(&self) -> &BrokerConfig {
        &self.inner.config
    }

    /// Creates a topic; fails with [`Error::TopicExists`] if it exists.
    pub async fn create_topic(&self, name: &str, config: TopicConfig) -> Result<()> {
        let this = self.clone();
        let name = name.to_owned();
        blocking(move || this.create_topic_blocking(&name, config).map(drop)).await
    }

    pub(crate) fn create_topic_blocking(
        &self,
        name: &str,
        config: TopicConfig,
    ) -> Result<Arc<Topic>> {
        validate_topic_name(name)?;
        config.validate()?;
        let _admin = self.inner.admin.lock();
        if self.inner.topics.read().contains_key(name) {
            return Err(Error::TopicExists(name.to_owned()));
        }
        let dir = self.inner.data_dir.join(TOPICS_DIR).join(name);
        let topic = Arc::new(Topic::create(dir, name, config, &self.inner.config)?);
        self.inner
            .topics
            .write()
            .insert(name.to_owned(), topic.clone());
        tracing::info!(topic = name, "created topic");
        Ok(topic)
    }

    /// Deletes a topic and all its data. In-flight reads of it finish on the open files.
    pub async fn delete_topic(&self, name: &str) -> Result<()> {
        let this = self.clone();
        let name = name.to_owned();
        blocking(move || this.delete_topic_blocking(&name)).await
    }

    fn delete_topic_blocking(&self, name: &str) -> Result<()> {
        if name == CONSUMER_OFFSETS_TOPIC {
            return Err(Error::InvalidConfig {
                key: "topic".into(),
                reason: format!(
                    "{name} is internal: it holds consumer-group offsets and cannot be deleted"
                ),
            });
        }
        let _admin = self.inner.admin.lock();
        let topic = self
            .inner
            .topics
            .write()
            .remove(name)
            .ok_or_else(|| Error::UnknownTopic(name.to_owned()))?;
        // Move out of `topics/` first so a crash mid-delete never leaves half a topic behind.
        let trash = self.inner.data_dir.join(TRASH_DIR);
        std::fs::create_dir_all(&trash)
            .map_err(io_error(format!("creating {}", trash.display())))?;
        let doomed = trash.join(format!("{name}-{}", crate::types::now_ms()));
        std::fs::rename(topic.dir(), &doomed).map_err(io_error(format!(
            "moving {} to {}",
            topic.dir().display(),
            doomed.display()
        )))?;
        sync_dir(&self.inner.data_dir.join(TOPICS_DIR))?;
        std::fs::remove_dir_all(&doomed)
            .map_err(io_error(format!("removing {}", doomed.display())))?;
        tracing::info!(topic = name, "deleted topic");
        Ok(())
    }

    /// Names of all topics except the internal `__consumer_offsets`, sorted (like Kafka's
    /// default listing).
    pub fn list_topics(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .inner
            .topics
            .read()
            .keys()
            .filter(|name| *name != CONSUMER_OFFSETS_TOPIC)
            .cloned()
            .collect();
        names.sort();
        names
    }

    /// Config and per-partition offsets of a topic.
    pub fn describe_topic(&self, name: &str) -> Result<TopicDescription> {
        let topic = self.topic(name)?;
        let partitions = topic
            .partitions()
            .iter()
            .enumerate()
            .map(|(i, log)| PartitionDescription {
                partition: PartitionId(i as i32),
                log_start_offset: log.log_start_offset(),
                high_watermark: log.high_watermark(),
                size_bytes: log.size_bytes(),
            })
            .collect();
        Ok(TopicDescription {
            name: name.to_owned(),
            config: topic.config(),
            partitions,
        })
    }

    /// Grows a topic to `total` partitions and rebalances the consumer groups reading it. Keys
    /// may map to other partitions afterwards, as in Kafka.
    pub async fn add_partitions(&self, name: &str, total: u32) -> Result<()> {
        let topic = self.topic(name)?;
        let this = self.clone();
        blocking(move || {
            let _admin = this.inner.admin.lock();
            topic.add_partitions(total)
        })
        .await?;
        // In-process consumer groups reading the topic must be reassigned to cover the new
        // partitions (Kafka clients notice through metadata themselves).
        self.groups().topic_partitions_changed(name).await;
        Ok(())
    }

    /// The topic, or [`Error::UnknownTopic`].
    pub fn topic(&self, name: &str) -> Result<Arc<Topic>> {
        self.inner
            .topics
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::UnknownTopic(name.to_owned()))
    }

    /// The topic, created with the auto-create config if it is missing and that is enabled.
    pub async fn topic_or_create(&self, name: &str) -> Result<Arc<Topic>> {
        match self.topic(name) {
            Err(Error::UnknownTopic(_)) => {}
            other => return other,
        }
        let AutoCreateTopics::Enabled(config) = &self.inner.config.auto_create_topics else {
            return Err(Error::UnknownTopic(name.to_owned()));
        };
        let (this, owned, config) = (self.clone(), name.to_owned(), config.clone());
        blocking(move || match this.create_topic_blocking(&owned, config) {
            Err(Error::TopicExists(_)) => this.topic(&owned),
            other => other,
        })
        .await
    }

    /// The synchronous log of one partition, for callers that manage their own threads.
    pub fn partition_log(&self, topic: &str, partition: PartitionId) -> Result<Arc<PartitionLog>> {
        self.topic(topic)?.partition(partition)
    }

    /// Forces every partition's written data to disk (useful with `FsyncPolicy::Interval`).
    pub async fn flush(&self) -> Result<()> {
        let this = self.clone();
        blocking(move || {
            for topic in this.all_topics() {
                for log in topic.partitions().iter() {
                    log.flush()?;
                }
            }
            Ok(())
        })
        .await
    }

    pub(crate) fn all_topics(&self) -> Vec<Arc<Topic>> {
        self.inner.topics.read().values().cloned().collect()
    }
}

/// Takes an exclusive lock on `<data_dir>/.lock`; fails if another broker (in this or another
/// process) has the directory open.
fn lock_data_dir(data_dir: &Path) -> Result<std::fs::File> {
    let path = data_dir.join(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_error(format!("opening {}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Io {
            context: format!(
                "data directory {} is in use by another broker (lock file {}); stop it or use another directory",
                data_dir.display(),
                path.display()
            ),
            source: std::io::ErrorKind::WouldBlock.into(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(Error::Io {
            context: format!("locking {}", path.display()),
            source,
        }),
    }
}

/// Runs blocking storage work on tokio's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(Error::Task)?
}
