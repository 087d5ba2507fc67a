//! `org.apache.kafka.connect.transforms.MaskField$Value` / `$Key`: replaces the listed
//! top-level `fields` of a struct (or schemaless map) with a neutral value of their type —
//! `0`, `false`, `""`, empty bytes/array/map, Decimal zero — or with `replacement`, which
//! must parse as the field's type (numbers and strings only, as in Kafka). A null field
//! stays null: there is nothing to hide. A listed field the record lacks is an error, as in
//! Kafka; use a predicate to apply the transform to the right topics.

use sluice_schemas::{SchemaRef, SchemaType, Struct, Text, Value, logical};

use super::config::TransformConfig;
use super::{Transform, record_error, schema_error};
use crate::api::{ConnectRecord, SchemaAndValue};
use crate::error::Result;

/// Which part of the record a transform works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordPart {
    Key,
    Value,
}

/// Masks fields of the key or the value.
#[derive(Debug)]
pub struct MaskField {
    alias: String,
    part: RecordPart,
    fields: Vec<String>,
    replacement: Option<String>,
}

impl MaskField {
    pub fn new(config: &TransformConfig<'_>, part: RecordPart) -> Result<Self> {
        config.warn_unknown(&["fields", "replacement"]);
        config.required("fields", "the comma-separated names of the fields to mask")?;
        Ok(Self {
            alias: config.alias().to_string(),
            part,
            fields: config.list("fields"),
            replacement: config.get("replacement").map(str::to_string),
        })
    }

    fn mask_data(&self, data: &mut SchemaAndValue) -> Result<()> {
        match &data.value {
            Value::Null => Ok(()),
            Value::Struct(current) => {
                let masked = self.mask_struct(current)?;
                data.value = Value::Struct(masked);
                Ok(())
            }
            Value::Map(entries) if data.schema.is_none() => {
                let mut entries = entries.clone();
                for field in &self.fields {
                    let entry = entries
                        .iter_mut()
                        .find(|(key, _)| key.as_str() == Some(field.as_str()))
                        .ok_or_else(|| {
                            record_error(
                                &self.alias,
                                format!("the record has no field {field:?} to mask"),
                            )
                        })?;
                    entry.1 = self.masked(None, &entry.1, field)?;
                }
                data.value = Value::Map(entries);
                Ok(())
            }
            other => Err(record_error(
                &self.alias,
                format!(
                    "MaskField needs a struct or a schemaless map, found {}",
                    other.kind()
                ),
            )),
        }
    }

    fn mask_struct(&self, current: &Struct) -> Result<Struct> {
        let schema = current.schema();
        let mut values = current.values().to_vec();
        for name in &self.fields {
            let field = schema.field(name).ok_or_else(|| {
                let known: Vec<&str> = schema.fields().iter().map(|f| f.name()).collect();
                record_error(
                    &self.alias,
                    format!(
                        "the record has no field {name:?} to mask; its fields are: {}",
                        known.join(", ")
                    ),
                )
            })?;
            values[field.index()] =
                self.masked(Some(field.schema()), &values[field.index()], name)?;
        }
        Struct::from_values(schema.clone(), values).map_err(|source| {
            schema_error(
                &self.alias,
                "the masked struct does not fit its schema",
                source,
            )
        })
    }

    fn masked(&self, schema: Option<&SchemaRef>, value: &Value, name: &str) -> Result<Value> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        let decimal = schema.and_then(|s| s.name()) == Some(logical::DECIMAL);
        match &self.replacement {
            None => neutral(value, decimal)
                .ok_or_else(|| record_error(&self.alias, format!("cannot mask field {name:?} of type {}", value.kind()))),
            Some(text) => replace(value, text).ok_or_else(|| {
                record_error(
                    &self.alias,
                    format!(
                        "replacement {text:?} does not fit field {name:?} of type {} (replacements work for numbers and strings)",
                        schema.map_or(value.kind(), |s| s.schema_type().name())
                    ),
                )
            }),
        }
    }
}

/// Kafka's neutral value for a type; `None` for structs.
fn neutral(value: &Value, decimal: bool) -> Option<Value> {
    Some(match value {
        Value::Int8(_) => Value::Int8(0),
        Value::Int16(_) => Value::Int16(0),
        Value::Int32(_) => Value::Int32(0),
        Value::Int64(_) => Value::Int64(0),
        Value::Float32(_) => Value::Float32(0.0),
        Value::Float64(_) => Value::Float64(0.0),
        Value::Boolean(_) => Value::Boolean(false),
        Value::String(_) => Value::String(Text::default()),
        // A Decimal's unscaled value zero is the single byte 0.
        Value::Bytes(_) if decimal => Value::Bytes(vec![0]),
        Value::Bytes(_) => Value::Bytes(Vec::new()),
        Value::Array(_) => Value::Array(Vec::new()),
        Value::Map(_) => Value::Map(Vec::new()),
        Value::Null | Value::Struct(_) => return None,
    })
}

/// `text` as a value of `value`'s type, for numbers and strings.
fn replace(value: &Value, text: &str) -> Option<Value> {
    let trimmed = text.trim();
    Some(match value {
        Value::Int8(_) => Value::Int8(trimmed.parse().ok()?),
        Value::Int16(_) => Value::Int16(trimmed.parse().ok()?),
        Value::Int32(_) => Value::Int32(trimmed.parse().ok()?),
        Value::Int64(_) => Value::Int64(trimmed.parse().ok()?),
        Value::Float32(_) => Value::Float32(trimmed.parse().ok()?),
        Value::Float64(_) => Value::Float64(trimmed.parse().ok()?),
        Value::String(_) => Value::String(text.into()),
        _ => return None,
    })
}

impl<R: ConnectRecord> Transform<R> for MaskField {
    fn apply(&self, mut record: R) -> Result<Option<R>> {
        let data = match self.part {
            RecordPart::Key => record.key_mut(),
            RecordPart::Value => record.value_mut(),
        };
        if data
            .schema
            .as_ref()
            .is_some_and(|s| s.schema_type() != SchemaType::Struct)
        {
            return Err(record_error(
                &self.alias,
                format!(
                    "MaskField needs a struct schema, found {}",
                    data.schema.as_ref().map_or(String::new(), |s| s.describe())
                ),
            ));
        }
        self.mask_data(data)?;
        Ok(Some(record))
    }
}
