//! Sluice's data model: Kafka Connect schemas and values, Debezium change events, converters (JSON, Avro) and the schema registry.
//!
//! # Layout
//!
//! (modules arrive with issue #4: schema, value, envelope, json, avro, registry)
//! - [`registry`]: the embedded Confluent-compatible schema registry (subjects, ids,
//!   compatibility, durable store, REST router) and registry clients (embedded, HTTP).
//! - [`error`]: the crate's error type and `Result` alias.

pub mod error;
pub mod registry;

pub use error::{Error, Result};
