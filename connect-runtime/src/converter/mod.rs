//! Converters: Connect data ⇄ the bytes stored in topics, chosen per connector with Kafka
//! Connect's keys — `key.converter` / `value.converter` (default: the JSON converter with
//! schemas enabled, as in Kafka Connect) and their settings under the same prefix
//! (`value.converter.schemas.enable`, `value.converter.schema.registry.url`, …).
//!
//! Accepted classes (short names in brackets):
//! - `org.apache.kafka.connect.json.JsonConverter` (`json`): `schemas.enable`,
//!   `decimal.format`, `schemas.cache.size`.
//! - `io.confluent.connect.avro.AvroConverter` (`avro`): Confluent wire format with a
//!   schema registry — the one at `schema.registry.url`, else the worker's embedded one;
//!   `auto.register.schemas`.
//! - `org.apache.kafka.connect.storage.StringConverter` (`string`): UTF-8 text.
//! - `org.apache.kafka.connect.converters.ByteArrayConverter` (`bytes`): bytes as they are.
//!
//! Worker-level defaults are applied by merging them beneath the connector's properties
//! before calling [`RecordConverters::from_props`].
//!
//! - [`header`]: header values as bytes, as Kafka's `SimpleHeaderConverter` writes them.

pub mod header;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use sluice_broker::{FetchedRecord, PartitionId};
use sluice_schemas::avro::{AVRO_CONVERTER_CLASS, AvroConverter, AvroConverterConfig};
use sluice_schemas::json::{
    JSON_CONVERTER_CLASS, JsonConverter, JsonConverterConfig, is_json_converter_class,
};
use sluice_schemas::registry::{RecordPart, SchemaRegistry};
use sluice_schemas::schema::{OPTIONAL_BYTES_SCHEMA, OPTIONAL_STRING_SCHEMA};
use sluice_schemas::{SchemaType, Value};

use crate::api::{Header, HeaderValue, SchemaAndValue, SinkRecord};
use crate::config::Props;
use crate::error::{Error, Result};

pub const STRING_CONVERTER_CLASS: &str = "org.apache.kafka.connect.storage.StringConverter";
pub const BYTE_ARRAY_CONVERTER_CLASS: &str =
    "org.apache.kafka.connect.converters.ByteArrayConverter";

/// Turns Connect data into topic bytes and back, for one side (key or value) of records.
#[async_trait]
pub trait Converter: Send + Sync + fmt::Debug {
    /// Appends the bytes of `data` to `out` (a reused buffer); returns `false` and writes
    /// nothing when the Kafka key or value is null (a null value: a tombstone). Converters
    /// that never wait implement [`Converter::encode_now`] instead, which this calls.
    async fn encode_into(
        &self,
        topic: &str,
        data: &SchemaAndValue,
        out: &mut Vec<u8>,
    ) -> Result<bool> {
        self.encode_now(topic, data, out).unwrap_or_else(|| {
            Err(Error::WrongConnectorState(format!(
                "the {self:?} converter implements neither encode_into nor encode_now"
            )))
        })
    }

    /// [`Converter::encode_into`] for converters that never wait (JSON, string, bytes): the
    /// same result without a boxed future per call; `None` when this converter has to be
    /// awaited (Avro may ask the schema registry).
    fn encode_now(
        &self,
        _topic: &str,
        _data: &SchemaAndValue,
        _out: &mut Vec<u8>,
    ) -> Option<Result<bool>> {
        None
    }

    /// Connect data from a Kafka key or value (`None`: null). Kafka calls this
    /// `toConnectData`; `encode` is its `fromConnectData`.
    async fn decode(&self, topic: &str, bytes: Option<&[u8]>) -> Result<SchemaAndValue>;

    /// The bytes of `data`, `None` for null.
    async fn encode(&self, topic: &str, data: &SchemaAndValue) -> Result<Option<Vec<u8>>> {
        let mut out = Vec::new();
        Ok(self
            .encode_into(topic, data, &mut out)
            .await?
            .then_some(out))
    }
}

/// The converter a connector configured for one side, before it is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConverterChoice {
    Json(JsonConverterConfig),
    Avro(AvroConverterConfig),
    String,
    ByteArray,
}

fn part_name(part: RecordPart) -> &'static str {
    match part {
        RecordPart::Key => "key",
        RecordPart::Value => "value",
    }
}

/// The settings under `<part>.converter.`, prefix removed.
fn settings(props: &Props, part: RecordPart) -> Vec<(&str, &str)> {
    let prefix = format!("{}.converter.", part_name(part));
    props
        .iter()
        .filter_map(|(key, value)| Some((key.strip_prefix(&prefix)?, value.as_str())))
        .collect()
}

fn invalid_settings(part: RecordPart, source: sluice_schemas::Error) -> Error {
    Error::InvalidConverterConfig {
        prefix: format!("{}.converter.", part_name(part)),
        source: Box::new(source),
    }
}

impl ConverterChoice {
    /// The converter `<part>.converter` names, with its settings.
    pub fn from_props(props: &Props, part: RecordPart) -> Result<Self> {
        let key = format!("{}.converter", part_name(part));
        let class = props
            .get(&key)
            .map(|c| c.trim())
            .unwrap_or(JSON_CONVERTER_CLASS);
        let settings = settings(props, part);
        if is_json_converter_class(class) {
            return JsonConverterConfig::from_properties(settings)
                .map(Self::Json)
                .map_err(|source| invalid_settings(part, source));
        }
        match class {
            AVRO_CONVERTER_CLASS | "avro" | "AvroConverter" => {
                AvroConverterConfig::from_properties(settings)
                    .map(Self::Avro)
                    .map_err(|source| invalid_settings(part, source))
            }
            STRING_CONVERTER_CLASS | "string" | "StringConverter" => {
                for (name, value) in settings {
                    let utf8 = value.trim().eq_ignore_ascii_case("UTF-8")
                        || value.trim().eq_ignore_ascii_case("UTF8");
                    if name.ends_with("encoding") && !utf8 {
                        return Err(Error::InvalidConfig {
                            key: format!("{key}.{name}"),
                            value: value.to_string(),
                            reason: "only UTF-8 is supported".into(),
                        });
                    }
                }
                Ok(Self::String)
            }
            BYTE_ARRAY_CONVERTER_CLASS | "bytes" | "ByteArrayConverter" => Ok(Self::ByteArray),
            other => Err(Error::InvalidConfig {
                key,
                value: other.to_string(),
                reason: format!(
                    "unknown converter; use {JSON_CONVERTER_CLASS}, {AVRO_CONVERTER_CLASS}, \
                     {STRING_CONVERTER_CLASS} or {BYTE_ARRAY_CONVERTER_CLASS}"
                ),
            }),
        }
    }

    /// Builds the converter. Avro without `schema.registry.url` uses `embedded`, which must
    /// then be given.
    pub fn build(
        &self,
        part: RecordPart,
        embedded: Option<&Arc<SchemaRegistry>>,
    ) -> Result<Arc<dyn Converter>> {
        let name = part_name(part);
        Ok(match self {
            Self::Json(config) => Arc::new(Json {
                part: name,
                inner: JsonConverter::new(*config),
            }),
            Self::Avro(config) => {
                // `from_config` talks to `schema.registry.url` when set (with its auth and
                // subject strategy) and to the embedded registry otherwise.
                let placeholder;
                let registry = match (&config.registry_url, embedded) {
                    (_, Some(registry)) => registry,
                    (Some(_), None) => {
                        placeholder = Arc::new(SchemaRegistry::in_memory());
                        &placeholder
                    }
                    (None, None) => {
                        return Err(Error::MissingConfig {
                            key: format!("{name}.converter.schema.registry.url"),
                            doc: "the Avro converter needs a schema registry and this worker runs none".into(),
                        });
                    }
                };
                let inner = AvroConverter::from_config(config, part, registry)
                    .map_err(|source| invalid_settings(part, source))?;
                Arc::new(Avro { part: name, inner })
            }
            Self::String => Arc::new(Text { part: name }),
            Self::ByteArray => Arc::new(RawBytes { part: name }),
        })
    }
}

/// A connector's key and value converters.
#[derive(Debug, Clone)]
pub struct RecordConverters {
    pub key: Arc<dyn Converter>,
    pub value: Arc<dyn Converter>,
}

impl RecordConverters {
    /// The converters a connector configuration selects (JSON with schemas by default).
    pub fn from_props(props: &Props, embedded: Option<&Arc<SchemaRegistry>>) -> Result<Self> {
        Ok(Self {
            key: ConverterChoice::from_props(props, RecordPart::Key)?
                .build(RecordPart::Key, embedded)?,
            value: ConverterChoice::from_props(props, RecordPart::Value)?
                .build(RecordPart::Value, embedded)?,
        })
    }

    /// A sink record from a record fetched from `topic`/`partition`: key and value decoded,
    /// headers kept as the raw bytes stored (a null header becomes a typed null).
    pub async fn sink_record(
        &self,
        topic: &str,
        partition: PartitionId,
        fetched: &FetchedRecord,
    ) -> Result<SinkRecord> {
        let record = &fetched.record;
        let key = self.key.decode(topic, record.key.as_deref()).await?;
        let value = self.value.decode(topic, record.value.as_deref()).await?;
        let headers = record
            .headers
            .iter()
            .map(|header| Header {
                key: header.key.to_string(),
                value: match &header.value {
                    Some(bytes) => HeaderValue::Raw(bytes.clone()),
                    None => HeaderValue::Typed {
                        schema: None,
                        value: Value::Null,
                    },
                },
            })
            .collect();
        Ok(SinkRecord {
            topic: topic.to_string(),
            partition,
            offset: fetched.offset,
            key,
            value,
            headers,
            timestamp_ms: record.timestamp_ms,
        })
    }
}

fn conversion(topic: &str, part: &'static str, source: sluice_schemas::Error) -> Error {
    Error::Conversion {
        topic: topic.to_string(),
        part,
        source: Box::new(source),
    }
}

fn mismatch(topic: &str, part: &'static str, expected: &str, found: &str) -> Error {
    let source = sluice_schemas::Error::ValueMismatch {
        path: part.to_string(),
        expected: expected.to_string(),
        found: found.to_string(),
    };
    conversion(topic, part, source)
}

#[derive(Debug)]
struct Json {
    part: &'static str,
    inner: JsonConverter,
}

#[async_trait]
impl Converter for Json {
    fn encode_now(
        &self,
        topic: &str,
        data: &SchemaAndValue,
        out: &mut Vec<u8>,
    ) -> Option<Result<bool>> {
        Some(
            self.inner
                .write(data.schema.as_ref(), &data.value, out)
                .map_err(|source| conversion(topic, self.part, source)),
        )
    }

    async fn decode(&self, topic: &str, bytes: Option<&[u8]>) -> Result<SchemaAndValue> {
        let (schema, value) = self
            .inner
            .from_bytes(bytes)
            .map_err(|source| conversion(topic, self.part, source))?;
        Ok(SchemaAndValue::new(schema, value))
    }
}

#[derive(Debug)]
struct Avro {
    part: &'static str,
    inner: AvroConverter,
}

#[async_trait]
impl Converter for Avro {
    async fn encode_into(
        &self,
        topic: &str,
        data: &SchemaAndValue,
        out: &mut Vec<u8>,
    ) -> Result<bool> {
        let Some(schema) = &data.schema else {
            if data.value.is_null() {
                return Ok(false);
            }
            return Err(mismatch(
                topic,
                self.part,
                "a value with a schema (Avro needs one)",
                data.value.kind(),
            ));
        };
        self.inner
            .from_connect_into(topic, schema, &data.value, out)
            .await
            .map_err(|source| conversion(topic, self.part, source))
    }

    async fn decode(&self, topic: &str, bytes: Option<&[u8]>) -> Result<SchemaAndValue> {
        let Some(bytes) = bytes else {
            return Ok(SchemaAndValue::null());
        };
        let (schema, value) = self
            .inner
            .to_connect(bytes)
            .await
            .map_err(|source| conversion(topic, self.part, source))?;
        Ok(SchemaAndValue::new(Some(schema), value))
    }
}

/// Kafka's StringConverter: text as UTF-8; numbers and booleans as their text.
#[derive(Debug)]
struct Text {
    part: &'static str,
}

#[async_trait]
impl Converter for Text {
    fn encode_now(
        &self,
        topic: &str,
        data: &SchemaAndValue,
        out: &mut Vec<u8>,
    ) -> Option<Result<bool>> {
        // A closure so the body can return early with `?` and `return`.
        let mut encode = || -> Result<bool> {
            use std::io::Write;
            let written = match &data.value {
                Value::Null => return Ok(false),
                Value::String(text) => {
                    out.extend_from_slice(text.as_bytes());
                    Ok(())
                }
                Value::Int8(v) => write!(out, "{v}"),
                Value::Int16(v) => write!(out, "{v}"),
                Value::Int32(v) => write!(out, "{v}"),
                Value::Int64(v) => write!(out, "{v}"),
                // Java's Float/Double text, as Kafka writes them ("1.0", "1.0E10").
                Value::Float32(v) => {
                    sluice_schemas::json::number::write_f32(out, *v);
                    Ok(())
                }
                Value::Float64(v) => {
                    sluice_schemas::json::number::write_f64(out, *v);
                    Ok(())
                }
                Value::Boolean(v) => write!(out, "{v}"),
                other => {
                    return Err(mismatch(
                        topic,
                        self.part,
                        "a string, number or boolean",
                        other.kind(),
                    ));
                }
            };
            written.map_err(|source| Error::Io {
                context: format!("writing the {} of a record of topic {topic:?}", self.part),
                source,
            })?;
            Ok(true)
        };
        Some(encode())
    }

    async fn decode(&self, topic: &str, bytes: Option<&[u8]>) -> Result<SchemaAndValue> {
        let schema = Some(OPTIONAL_STRING_SCHEMA.clone());
        let Some(bytes) = bytes else {
            return Ok(SchemaAndValue::new(schema, Value::Null));
        };
        let text = std::str::from_utf8(bytes).map_err(|err| {
            mismatch(
                topic,
                self.part,
                "UTF-8 text",
                &format!("invalid UTF-8 after byte {}", err.valid_up_to()),
            )
        })?;
        Ok(SchemaAndValue::new(schema, Value::String(text.into())))
    }
}

/// Kafka's ByteArrayConverter: bytes pass through unchanged.
#[derive(Debug)]
struct RawBytes {
    part: &'static str,
}

#[async_trait]
impl Converter for RawBytes {
    fn encode_now(
        &self,
        topic: &str,
        data: &SchemaAndValue,
        out: &mut Vec<u8>,
    ) -> Option<Result<bool>> {
        // A closure so the body can return early with `?` and `return`.
        let mut encode = || -> Result<bool> {
            if let Some(schema) = &data.schema
                && schema.schema_type() != SchemaType::Bytes
            {
                return Err(mismatch(
                    topic,
                    self.part,
                    "a bytes schema",
                    &schema.describe(),
                ));
            }
            match &data.value {
                Value::Null => Ok(false),
                Value::Bytes(bytes) => {
                    out.extend_from_slice(bytes);
                    Ok(true)
                }
                other => Err(mismatch(topic, self.part, "bytes", other.kind())),
            }
        };
        Some(encode())
    }

    async fn decode(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<SchemaAndValue> {
        let value = bytes.map_or(Value::Null, |bytes| Value::Bytes(bytes.to_vec()));
        Ok(SchemaAndValue::new(
            Some(OPTIONAL_BYTES_SCHEMA.clone()),
            value,
        ))
    }
}
