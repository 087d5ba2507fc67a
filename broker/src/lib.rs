//! The embedded durable log broker: topics, partitions, segments of Kafka RecordBatch v2, indexes, recovery, retention, compaction and consumer groups.
//!
//! # Layout
//!
//! (modules arrive with issue #3: batch codec, segment, index, partition log, topics, groups)
//! - [`error`]: the crate's error type and `Result` alias.

pub mod error;

pub use error::{Error, Result};
