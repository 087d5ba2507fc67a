//! Test-only backends: an append-only, fsynced file as the [`GroupLog`], a fixed topic
//! table, and helpers to build coordinators and wait on conditions.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::{
    Clock, GroupConfig, GroupCoordinator, GroupLog, GroupLogRecord, ManualClock, Millis,
    TopicMetadata,
};
use crate::error::{Error, Result};

/// Records as `key_len:u32 key value_len:i32 value` (-1 for a tombstone), fsynced per append.
#[derive(Debug)]
pub(super) struct FileGroupLog {
    path: PathBuf,
    file: Mutex<File>,
}

fn io_error(context: &str, path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        context: format!("{context} {}", path.display()),
        source,
    }
}

impl FileGroupLog {
    pub(super) fn open(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| io_error("opening", path, e))?;
        Ok(Self {
            path: path.to_owned(),
            file: Mutex::new(file),
        })
    }
}

impl GroupLog for FileGroupLog {
    fn append(&self, records: Vec<GroupLogRecord>) -> Result<()> {
        let mut buf = Vec::new();
        for record in records {
            buf.extend_from_slice(&(record.key.len() as u32).to_be_bytes());
            buf.extend_from_slice(&record.key);
            match record.value {
                Some(value) => {
                    buf.extend_from_slice(&(value.len() as i32).to_be_bytes());
                    buf.extend_from_slice(&value);
                }
                None => buf.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        let mut file = self.file.lock();
        file.write_all(&buf)
            .and_then(|()| file.sync_data())
            .map_err(|e| io_error("appending to", &self.path, e))
    }

    fn replay(&self) -> Result<Vec<GroupLogRecord>> {
        let mut bytes = Vec::new();
        File::open(&self.path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| io_error("reading", &self.path, e))?;
        let mut records = Vec::new();
        let mut rest = bytes.as_slice();
        while !rest.is_empty() {
            let key_len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
            let key = rest[4..4 + key_len].to_vec();
            rest = &rest[4 + key_len..];
            let value_len = i32::from_be_bytes(rest[..4].try_into().unwrap());
            rest = &rest[4..];
            let value = (value_len >= 0).then(|| {
                let value = rest[..value_len as usize].to_vec();
                rest = &rest[value_len as usize..];
                value
            });
            records.push(GroupLogRecord { key, value });
        }
        Ok(records)
    }
}

/// A fixed table of topics and their partition counts.
#[derive(Debug)]
pub(super) struct StaticTopics(Mutex<BTreeMap<String, i32>>);

impl StaticTopics {
    pub(super) fn new(topics: &[(&str, i32)]) -> Self {
        Self(Mutex::new(
            topics.iter().map(|(t, n)| (t.to_string(), *n)).collect(),
        ))
    }

    /// Changes a topic's partition count, as adding partitions would.
    pub(super) fn set(&self, topic: &str, partitions: i32) {
        self.0.lock().insert(topic.to_owned(), partitions);
    }
}

impl TopicMetadata for StaticTopics {
    fn partition_count(&self, topic: &str) -> Option<i32> {
        self.0.lock().get(topic).copied()
    }
}

/// A coordinator over a file log in `dir`, on a manual clock, with short timeouts allowed.
pub(super) fn open_coordinator(
    dir: &Path,
    clock: &Arc<ManualClock>,
    topics: &[(&str, i32)],
) -> GroupCoordinator {
    let clock: Arc<dyn Clock> = Arc::clone(clock) as Arc<dyn Clock>;
    open_coordinator_with(dir, clock, Arc::new(StaticTopics::new(topics)))
}

/// Like [`open_coordinator`], with any clock and a topic table the test may change later.
pub(super) fn open_coordinator_with(
    dir: &Path,
    clock: Arc<dyn Clock>,
    topics: Arc<StaticTopics>,
) -> GroupCoordinator {
    let log = FileGroupLog::open(&dir.join("__consumer_offsets.log")).unwrap();
    let config = GroupConfig {
        min_session_timeout: Duration::from_millis(100),
        ..GroupConfig::default()
    };
    GroupCoordinator::open(Arc::new(log), topics, clock, config).unwrap()
}

pub(super) fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(Millis(1_700_000_000_000)))
}

/// Polls `condition` until it holds, failing the test after five seconds.
pub(super) async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// A [`FileGroupLog`] that counts appends and can be told to fail them.
#[derive(Debug)]
pub(super) struct FlakyLog {
    inner: FileGroupLog,
    appends: std::sync::atomic::AtomicUsize,
    failing: std::sync::atomic::AtomicBool,
}

impl FlakyLog {
    pub(super) fn open(path: &Path) -> Self {
        Self {
            inner: FileGroupLog::open(path).unwrap(),
            appends: Default::default(),
            failing: Default::default(),
        }
    }

    pub(super) fn appends(&self) -> usize {
        self.appends.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(super) fn set_failing(&self, failing: bool) {
        self.failing
            .store(failing, std::sync::atomic::Ordering::SeqCst);
    }
}

impl GroupLog for FlakyLog {
    fn append(&self, records: Vec<GroupLogRecord>) -> Result<()> {
        self.appends
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::Io {
                context: "appending to a log told to fail".into(),
                source: std::io::Error::other("disk full"),
            });
        }
        self.inner.append(records)
    }

    fn replay(&self) -> Result<Vec<GroupLogRecord>> {
        self.inner.replay()
    }
}
