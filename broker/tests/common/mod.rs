//! Helpers shared by the broker's integration tests (included with `mod common;`).
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use sluice_broker::codec::batch::decode_records;
use sluice_broker::log::{LogConfig, PartitionLog};
use sluice_broker::{FetchedRecord, FsyncPolicy, Offset, Record};

pub fn log_config(segment_bytes: u64) -> LogConfig {
    LogConfig {
        segment_bytes,
        segment_age: Duration::from_secs(3600),
        index_interval_bytes: 256,
        fsync: FsyncPolicy::EveryAppend,
        max_batch_bytes: 1 << 20,
        codec: sluice_broker::Codec::None,
    }
}

pub fn open_log(dir: &Path, segment_bytes: u64) -> PartitionLog {
    PartitionLog::open(dir, "t-0".into(), log_config(segment_bytes)).expect("open partition log")
}

pub fn value_for(offset_hint: u64) -> Bytes {
    Bytes::from(format!(
        "value-{offset_hint}-{}",
        "x".repeat((offset_hint % 37) as usize)
    ))
}

pub fn keyed(key: &str, value: Option<&str>, timestamp_ms: i64) -> Record {
    Record {
        key: Some(Bytes::copy_from_slice(key.as_bytes())),
        value: value.map(|v| Bytes::copy_from_slice(v.as_bytes())),
        headers: Vec::new(),
        timestamp_ms,
    }
}

/// Every record from `from` to the high watermark, via the storage core.
pub fn read_all(log: &PartitionLog, from: Offset) -> sluice_broker::Result<Vec<FetchedRecord>> {
    let mut out = Vec::new();
    let mut offset = from;
    while offset < log.high_watermark() {
        let read = log.read(offset, 64 * 1024)?;
        assert!(!read.batches.is_empty(), "no progress at offset {offset}");
        for batch in read.batches {
            let records = decode_records(&batch.bytes).expect("served batches decode");
            offset = batch.header.last_offset().plus(1);
            out.extend(records.into_iter().filter(|r| r.offset >= from));
        }
    }
    Ok(out)
}

/// A tiny deterministic PRNG so failures reproduce.
#[derive(Debug)]
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// Copies a directory tree (partition dirs are flat, topic dirs one level deeper).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
