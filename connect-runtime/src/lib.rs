//! The Connect runtime: connector API, worker, offset/config/status stores, transforms and
//! the Kafka Connect REST API.
//!
//! # Layout
//!
//! - [`api`]: the connector API: source/sink connector and task traits, records, task contexts.
//! - [`builtin`]: connectors built into the runtime (the `sequence` generator).
//! - [`config`]: connector configurations: parsing, declared keys and validation, secrets.
//! - [`converter`]: per-connector key/value converter selection (JSON, Avro, String, ByteArray).
//! - [`error`]: the crate's error type and `Result` alias.
//! - [`registry`]: `connector.class` names → connector factories; plugin list.
//! - [`rest`]: the REST API (Kafka Connect endpoints, topics, records, groups, metrics,
//!   health, schema registry).
//! - [`stores`]: offsets, connector configs, statuses and schema-registry records in compacted
//!   internal topics.
//! - [`transforms`]: single message transforms and predicates (`transforms=…`, `predicates=…`).
//! - [`worker`]: runs connectors and tasks: lifecycle, source task loop, exactly-once appends,
//!   sink task loop (consumer groups, flush and commit, dead-letter topic).
//! - [`worker_config`]: the worker's own layered configuration (`worker.toml`, `SLUICE_*`, flags).

pub mod api;
pub mod builtin;
pub mod config;
pub mod converter;
pub mod error;
pub mod registry;
pub mod rest;
pub mod stores;
pub mod transforms;
pub mod worker;
pub mod worker_config;

pub use error::{Error, Result};
