//! HTTP sink: batched delivery with retries, idempotency keys and a dead-letter topic.
//!
//! # Layout
//!
//! (modules arrive with issue #9: config, batching, retry policy, client)
//! - [`error`]: the crate's error type and `Result` alias.

pub mod error;

pub use error::{Error, Result};
