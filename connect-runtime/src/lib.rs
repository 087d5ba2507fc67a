//! The Connect runtime: connector API, worker, offset/config/status stores, transforms and the Kafka Connect REST API.
//!
//! # Layout
//!
//! (modules arrive with issue #5: api, worker, stores, transforms, rest)
//! - [`error`]: the crate's error type and `Result` alias.

pub mod error;

pub use error::{Error, Result};
