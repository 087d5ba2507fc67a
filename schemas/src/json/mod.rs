//! The JSON converter, byte-compatible with Kafka Connect's `org.apache.kafka.connect.json.JsonConverter`:
//! `schemas.enable=true` writes `{"schema":…,"payload":…}`, `false` the payload alone;
//! `decimal.format` BASE64 (default) or NUMERIC. A schema's JSON is built once per schema
//! instance and cached (keyed by the `Arc`), so per event only the payload is written, straight
//! into the caller's buffer. Within the payload, a nested struct that many events share (a
//! snapshot table's `source` block) is written once and its bytes copied for the next events.
//!
//! - [`number`]: Java-style float text.
//! - [`write`]: schema and payload writers.
//! - `shared`: the bytes of shared nested structs (a table's `source` block), written once.
//! - [`parse`]: the JSON parser of the read side.
//! - [`read`]: JSON → schema and value.

pub mod number;
pub mod parse;
pub mod read;
mod shared;
pub mod write;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::error::{Error, Result};
use crate::schema::{Schema, SchemaRef};
use crate::value::Value;
use shared::SharedStructCache;

/// The class name connector configs use for this converter.
pub const JSON_CONVERTER_CLASS: &str = "org.apache.kafka.connect.json.JsonConverter";

/// Whether records carry their schema (`schemas.enable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaEnvelope {
    /// `{"schema":…,"payload":…}` (`schemas.enable=true`, Kafka's default).
    WithSchema,
    /// The payload alone (`schemas.enable=false`).
    PayloadOnly,
}

/// How Decimal values are written (`decimal.format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalFormat {
    /// The unscaled bytes, base64 (Kafka's default).
    Base64,
    /// A JSON number (KIP-481).
    Numeric,
}

/// The converter's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonConverterConfig {
    pub schemas: SchemaEnvelope,
    pub decimal_format: DecimalFormat,
    /// How many schemas' JSON to keep (`schemas.cache.size`, default 1000).
    pub schema_cache_size: usize,
}

impl Default for JsonConverterConfig {
    fn default() -> Self {
        JsonConverterConfig {
            schemas: SchemaEnvelope::WithSchema,
            decimal_format: DecimalFormat::Base64,
            schema_cache_size: 1000,
        }
    }
}

fn invalid(key: &str, value: &str, reason: &str) -> Error {
    Error::InvalidConfig {
        key: key.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

impl JsonConverterConfig {
    /// Reads the converter's properties, as given to Kafka's converter after the
    /// `key.converter.` / `value.converter.` prefix is stripped. Other keys are ignored (the
    /// runtime warns about unknown keys where it knows the whole config).
    pub fn from_properties<'a>(
        props: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self> {
        let mut config = JsonConverterConfig::default();
        for (key, value) in props {
            match key {
                "schemas.enable" => {
                    config.schemas = match value.trim().to_ascii_lowercase().as_str() {
                        "true" => SchemaEnvelope::WithSchema,
                        "false" => SchemaEnvelope::PayloadOnly,
                        _ => return Err(invalid(key, value, "use true or false")),
                    }
                }
                "decimal.format" => {
                    config.decimal_format = match value.trim().to_ascii_uppercase().as_str() {
                        "BASE64" => DecimalFormat::Base64,
                        "NUMERIC" => DecimalFormat::Numeric,
                        _ => return Err(invalid(key, value, "use BASE64 or NUMERIC")),
                    }
                }
                "schemas.cache.size" => {
                    config.schema_cache_size = value
                        .trim()
                        .parse()
                        .map_err(|_| invalid(key, value, "use a non-negative integer"))?;
                }
                _ => {}
            }
        }
        Ok(config)
    }
}

/// Checks a `key.converter` / `value.converter` class name.
pub fn is_json_converter_class(class: &str) -> bool {
    matches!(
        class.trim(),
        JSON_CONVERTER_CLASS | "json" | "JsonConverter"
    )
}

/// Serialized schema JSON, keyed by the schema's address; the entry holds the `Arc` so the address
/// cannot be reused by another schema while cached.
#[derive(Debug, Default)]
struct SchemaJsonCache {
    entries: RwLock<HashMap<usize, CachedSchemaJson>>,
}

/// The schema (kept alive so its address stays its own) and its JSON.
type CachedSchemaJson = (SchemaRef, Arc<[u8]>);

/// Converts Connect data to and from Kafka Connect JSON.
#[derive(Debug)]
pub struct JsonConverter {
    config: JsonConverterConfig,
    cache: SchemaJsonCache,
    /// The bytes of the newest shared nested structs (see the `shared` module).
    shared: SharedStructCache,
}

impl JsonConverter {
    pub fn new(config: JsonConverterConfig) -> JsonConverter {
        JsonConverter {
            config,
            cache: SchemaJsonCache::default(),
            shared: SharedStructCache::default(),
        }
    }

    pub fn config(&self) -> &JsonConverterConfig {
        &self.config
    }

    /// The JSON of `schema`, from the cache or built once.
    pub fn schema_json(&self, schema: &SchemaRef) -> Result<Arc<[u8]>> {
        let address = Arc::as_ptr(schema) as usize;
        if let Ok(entries) = self.cache.entries.read()
            && let Some((_, json)) = entries.get(&address)
        {
            return Ok(json.clone());
        }
        let mut out = Vec::with_capacity(512);
        write::write_schema(&mut out, schema, None, self.config.decimal_format)?;
        let json: Arc<[u8]> = out.into();
        if let Ok(mut entries) = self.cache.entries.write() {
            if entries.len() >= self.config.schema_cache_size.max(1) {
                entries.clear();
            }
            entries.insert(address, (schema.clone(), json.clone()));
        }
        Ok(json)
    }

    /// Appends the JSON of `schema`: copied from the cache under its read lock (no reference
    /// count to change on the shared `Arc` per record), or built once and cached.
    fn append_schema_json(&self, schema: &SchemaRef, out: &mut Vec<u8>) -> Result<()> {
        let address = Arc::as_ptr(schema) as usize;
        if let Ok(entries) = self.cache.entries.read()
            && let Some((_, json)) = entries.get(&address)
        {
            out.extend_from_slice(json);
            return Ok(());
        }
        out.extend_from_slice(&self.schema_json(schema)?);
        Ok(())
    }

    /// Appends the serialized record to `out`. Returns `false` (and writes nothing) for a record
    /// with neither schema nor value — a tombstone, whose Kafka value is null.
    pub fn write(
        &self,
        schema: Option<&SchemaRef>,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> Result<bool> {
        let Some(schema) = schema else {
            if value.is_null() {
                return Ok(false);
            }
            return Err(Error::InvalidSchema {
                name: None,
                reason: format!(
                    "a {} value needs a schema to be written as JSON",
                    value.kind()
                ),
            });
        };
        match self.config.schemas {
            SchemaEnvelope::WithSchema => {
                out.extend_from_slice(b"{\"schema\":");
                self.append_schema_json(schema, out)?;
                out.extend_from_slice(b",\"payload\":");
                self.write_payload(schema, value, out)?;
                out.push(b'}');
            }
            SchemaEnvelope::PayloadOnly => self.write_payload(schema, value, out)?,
        }
        Ok(true)
    }

    fn write_payload(&self, schema: &Schema, value: &Value, out: &mut Vec<u8>) -> Result<()> {
        let path = schema.name().unwrap_or("payload");
        let writer = write::ValueWriter {
            decimals: self.config.decimal_format,
            shared: Some(&self.shared),
        };
        write::write_value_with(out, schema, value, writer, path)
    }

    /// The serialized record; `None` for a tombstone.
    pub fn to_bytes(&self, schema: Option<&SchemaRef>, value: &Value) -> Result<Option<Vec<u8>>> {
        let mut out = Vec::with_capacity(256);
        Ok(self.write(schema, value, &mut out)?.then_some(out))
    }

    /// Reads a record back: `None` bytes (a tombstone) give no schema and a null value. With
    /// schemas enabled the bytes must be a `{"schema","payload"}` envelope.
    pub fn from_bytes(&self, bytes: Option<&[u8]>) -> Result<(Option<SchemaRef>, Value)> {
        let Some(bytes) = bytes else {
            return Ok((None, Value::Null));
        };
        let node = parse::parse(bytes)?;
        match self.config.schemas {
            SchemaEnvelope::PayloadOnly => Ok((None, read::read_value(None, &node, "payload")?)),
            SchemaEnvelope::WithSchema => {
                let members = match &node {
                    parse::JsonNode::Object(members) => members,
                    _ => &Vec::new(),
                };
                let (Some(schema_node), Some(payload), 2) =
                    (node.get("schema"), node.get("payload"), members.len())
                else {
                    return Err(Error::JsonShape {
                        path: String::new(),
                        reason: "with schemas.enable=true the record must be an object with exactly \
                                 \"schema\" and \"payload\"; for plain JSON set schemas.enable=false"
                            .to_string(),
                    });
                };
                let schema = match schema_node {
                    parse::JsonNode::Null => None,
                    other => Some(read::read_schema(other, "schema")?),
                };
                let value = read::read_value(schema.as_ref(), payload, "payload")?;
                Ok((schema, value))
            }
        }
    }
}

#[cfg(test)]
mod tests;
