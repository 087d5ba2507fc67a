//! Sluice's data model: Kafka Connect schemas and values, Debezium change events, converters (JSON, Avro) and the schema registry.
//!
//! # Layout
//!
//! - [`schema`]: Connect schemas (`Schema`, `SchemaBuilder`, `Field`, ready-made primitives).
//! - [`value`]: Connect values (`Value`, `Struct`) and validation against a schema.
//! - [`logical`]: logical/semantic type names and schema constructors (Kafka Decimal/Date/…,
//!   `io.debezium.time.*`, `io.debezium.data.*`).
//! - [`decimal`]: Decimal's unscaled two's-complement bytes ↔ decimal text.
//! - [`temporal`]: days / times of day / timestamps ↔ ISO-8601 text.
//!   properties), Confluent wire format, the Avro converter with schema caching.
//!   compatibility, durable store, REST router) and registry clients (embedded, HTTP).
//! - [`error`]: the crate's error type and `Result` alias.

pub mod decimal;
pub mod error;
pub mod logical;
pub mod schema;
pub mod temporal;
pub mod value;

pub use error::{Error, Result};
pub use schema::{Field, Schema, SchemaBuilder, SchemaRef, SchemaType};
pub use value::{Struct, Value};
