//! The Connect runtime: connector API, worker, offset/config/status stores, transforms and
//! the Kafka Connect REST API.
//!
//! # Layout
//!
//! - [`config`]: connector configurations: parsing, declared keys and validation, secrets.
//! - [`error`]: the crate's error type and `Result` alias.
//!
//! The connector API, worker, stores, transforms and REST API arrive with issue #5.

pub mod config;
pub mod error;

pub use error::{Error, Result};
