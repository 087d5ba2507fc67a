//! The public value types of the broker: offsets, partition ids, records and headers.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;

/// A position in a partition's log. Offsets are dense when written and strictly increasing;
/// compaction may leave gaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Offset(pub i64);

impl Offset {
    /// The offset `n` records after this one.
    pub fn plus(self, n: i64) -> Offset {
        Offset(self.0 + n)
    }
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The index of a partition within its topic, `0..partitions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PartitionId(pub i32);

impl fmt::Display for PartitionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A record header: a UTF-8 key and an optional (nullable) value.
///
/// The key is a `Cow` so the constant keys a producer stamps on every record (`"x".into()`
/// from a `&'static str`) cost no allocation; keys read back from the log are owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub key: Cow<'static, str>,
    pub value: Option<Bytes>,
}

/// One record as produced: key and value are both nullable (a null value with a key is a
/// tombstone for compaction); the timestamp is the producer's create time in epoch milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<Header>,
    pub timestamp_ms: i64,
}

impl Record {
    /// A record with the given key and value, no headers, stamped with the current time.
    pub fn new(key: Option<Bytes>, value: Option<Bytes>) -> Record {
        Record {
            key,
            value,
            headers: Vec::new(),
            timestamp_ms: now_ms(),
        }
    }

    /// True when this record deletes its key under `cleanup.policy=compact`.
    pub fn is_tombstone(&self) -> bool {
        self.key.is_some() && self.value.is_none()
    }
}

/// A record read back from the log, with the offset it was stored at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedRecord {
    pub offset: Offset,
    pub record: Record,
}

/// The current wall-clock time in epoch milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
