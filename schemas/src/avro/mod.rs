//! Avro: Connect schemas as Avro schemas the way Confluent's AvroConverter writes them, Connect
//! values as Avro datums and back, and the converter that frames them in the Confluent wire
//! format with ids from a schema registry.
//!
//! - [`schema`]: Connect schema → Avro schema JSON (`AvroData.fromConnectSchema`).
//! - [`encode`]: Connect value → Avro datum bytes, into a reused buffer.
//! - [`names`]: valid Avro names and Confluent's `scrub.invalid.names` rewriting.
//! - [`from_avro`]: Avro schema JSON → Connect schema + decoding plan (`toConnectSchema`).
//! - [`decode`]: Avro datum bytes → Connect value.
//! - [`subject`]: subject name strategies (topic, record, topic+record).
//! - [`config`]: the converter's settings from connector properties.
//! - [`converter`]: [`AvroConverter`], wire format, registry use and caching.

pub mod config;
pub mod converter;
pub mod decode;
pub mod encode;
pub mod from_avro;
pub mod names;
pub mod schema;
pub mod subject;

pub use config::{
    AVRO_CONVERTER_CLASS, AvroConverterConfig, Registration, is_avro_converter_class,
};
pub use converter::{AvroConverter, split_wire, write_framed};
pub use encode::encode_value;
pub use from_avro::connect_schema;
pub use names::NameMode;
pub use schema::{avro_schema, avro_schema_with};
pub use subject::SubjectNameStrategy;
