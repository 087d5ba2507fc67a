//! Sluice's data model: Kafka Connect schemas and values, Debezium change events, converters (JSON, Avro) and the schema registry.
//!
//! # Layout
//!
//! - [`schema`]: Connect schemas (`Schema`, `SchemaBuilder`, `Field`, ready-made primitives).
//! - [`value`]: Connect values (`Value`, `Struct`) and validation against a schema.
//! - [`binary`]: `binary.handling.mode`, how sources represent binary column values.
//! - [`text`]: `Text`, the immutable string of `Value::String` (inline when short, shared when
//!   long: cloning never allocates).
//! - [`logical`]: logical/semantic type names and schema constructors (Kafka Decimal/Date/…,
//!   `io.debezium.time.*`, `io.debezium.data.*`).
//! - [`source`]: the `source` block of change events (common fields, MySQL/Postgres builders,
//!   `SnapshotMarker`).
//! - [`envelope`]: per-table Key/Value/Envelope schemas and change-event values (`Op`).
//! - [`records`]: heartbeat, transaction-metadata and schema-change records.
//! - [`json`]: the JSON converter (Kafka Connect JsonConverter byte layout, schema cache).
//! - [`decimal`]: Decimal's unscaled two's-complement bytes ↔ decimal text.
//! - [`temporal`]: days / times of day / timestamps ↔ ISO-8601 text.
//! - [`avro`]: Connect schema/value ⇄ Avro (Confluent's AvroConverter naming and
//!   properties), Confluent wire format, the Avro converter with schema caching.
//! - [`registry`]: the embedded Confluent-compatible schema registry (subjects, ids,
//!   compatibility, durable store, REST router) and registry clients (embedded, HTTP).
//! - [`error`]: the crate's error type and `Result` alias.

pub mod avro;
pub mod binary;
pub mod decimal;
pub mod envelope;
pub mod error;
pub mod json;
pub mod logical;
pub mod records;
pub mod registry;
pub mod schema;
pub mod source;
pub mod temporal;
pub mod text;
pub mod value;

pub use error::{Error, Result};
pub use schema::{Field, Schema, SchemaBuilder, SchemaRef, SchemaType};
pub use text::Text;
pub use value::{Struct, Value};
