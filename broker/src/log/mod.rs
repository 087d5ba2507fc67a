//! The storage core, synchronous and thread-safe: one [`PartitionLog`] per partition directory.
//!
//! - [`index`]: sparse offset and time indexes of a segment.
//! - [`cursor`]: chunked, positioned reads of consecutive batches.
//! - [`segment`]: one `.log` file with its indexes: append, seal, positioned reads.
//! - [`recovery`]: opening segments: tail validation and truncation, sealed-segment checks.
//! - [`partition`]: opening a partition, appends with group commit, rolling.
//! - [`read`]: reads from an offset with a byte budget, ListOffsets by timestamp.
//! - [`retention`]: deleting sealed segments by time and size.
//! - [`compaction`]: keeping the latest record per key in sealed segments.

pub mod compaction;
pub mod cursor;
pub mod index;
pub mod partition;
pub mod read;
pub mod recovery;
pub mod retention;
pub mod segment;

use std::time::Duration;

pub use partition::{AppendInfo, PartitionLog, TornTail};
pub use read::LogRead;

use crate::config::FsyncPolicy;
use crate::error::Error;

/// Per-partition storage settings, derived from the topic config and the broker config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogConfig {
    /// Roll to a new segment before the active one would exceed this size.
    pub segment_bytes: u64,
    /// Roll to a new segment once the active one is this old (since created or opened).
    pub segment_age: Duration,
    pub index_interval_bytes: u64,
    pub fsync: FsyncPolicy,
    pub max_batch_bytes: usize,
    /// How this log's appended batches store their records (the topic's `compression.type`).
    pub codec: crate::codec::Codec,
}

/// Maps an `io::Error` to [`Error::Io`] with a description of what was being done.
pub(crate) fn io_error(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let context = context.into();
    move |source| Error::Io { context, source }
}

/// Makes a directory's entries (created, renamed or deleted files) durable.
pub(crate) fn sync_dir(dir: &std::path::Path) -> crate::Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(format!("fsync of directory {}", dir.display())))
}
