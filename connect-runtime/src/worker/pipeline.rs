//! A connector's record pipeline: its transform chain and its key/value converters, built
//! once per connector from its configuration and applied to every record.

use std::sync::Arc;

use bytes::Bytes;
use sluice_broker::{Header as BrokerHeader, PartitionId, Record};
use sluice_schemas::json::{JsonConverter, JsonConverterConfig};

use crate::api::{HeaderValue, POSITION_HEADER, SchemaAndValue, SourceRecord};
use crate::config::Props;
use crate::error::{Error, Result};

use super::dedup::TASK_HEADER;

/// A source record made ready for the broker.
#[derive(Debug)]
pub struct PreparedRecord {
    pub topic: String,
    /// The partition the connector chose, if any (else the key decides).
    pub partition: Option<PartitionId>,
    pub record: Record,
}

/// Transforms and converters of one connector; cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct SourcePipeline {
    inner: Arc<PipelineInner>,
}

#[derive(Debug)]
struct PipelineInner {
    key_converter: JsonConverter,
    value_converter: JsonConverter,
}

fn converter_props<'a>(
    props: &'a Props,
    prefix: &'a str,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    props
        .iter()
        .filter_map(move |(key, value)| Some((key.strip_prefix(prefix)?, value.as_str())))
}

impl SourcePipeline {
    pub fn from_props(_connector: &str, props: &Props) -> Result<Self> {
        let converter = |prefix: &str| {
            JsonConverterConfig::from_properties(converter_props(props, prefix))
                .map(JsonConverter::new)
                .map_err(|source| Error::Conversion {
                    topic: String::new(),
                    part: "configuration",
                    source: Box::new(source),
                })
        };
        Ok(Self {
            inner: Arc::new(PipelineInner {
                key_converter: converter("key.converter.")?,
                value_converter: converter("value.converter.")?,
            }),
        })
    }

    /// Transforms and converts one record; `None` when a transform dropped it.
    pub fn prepare(&self, record: SourceRecord, task: &Bytes) -> Result<Option<PreparedRecord>> {
        let topic = record.topic;
        let key = encode(&self.inner.key_converter, &topic, "key", &record.key)?;
        let value = encode(&self.inner.value_converter, &topic, "value", &record.value)?;
        let mut stored = Record::new(key, value);
        if let Some(timestamp) = record.timestamp_ms {
            stored.timestamp_ms = timestamp;
        }
        for header in record.headers.iter() {
            let value = match &header.value {
                HeaderValue::Raw(bytes) => Some(bytes.clone()),
                HeaderValue::Typed { schema, value } => match value.as_str() {
                    Some(text) => Some(Bytes::copy_from_slice(text.as_bytes())),
                    None => encode(
                        &self.inner.value_converter,
                        &topic,
                        "header",
                        &SchemaAndValue::new(schema.clone(), value.clone()),
                    )?,
                },
            };
            stored.headers.push(BrokerHeader {
                key: header.key.clone(),
                value,
            });
        }
        stored.headers.push(BrokerHeader {
            key: TASK_HEADER.into(),
            value: Some(task.clone()),
        });
        if let Some(position) = &record.position {
            stored.headers.push(BrokerHeader {
                key: POSITION_HEADER.into(),
                value: Some(Bytes::copy_from_slice(position.as_bytes())),
            });
        }
        Ok(Some(PreparedRecord {
            topic,
            partition: record.kafka_partition.map(PartitionId),
            record: stored,
        }))
    }
}

fn encode(
    converter: &JsonConverter,
    topic: &str,
    part: &'static str,
    data: &SchemaAndValue,
) -> Result<Option<Bytes>> {
    converter
        .to_bytes(data.schema.as_ref(), &data.value)
        .map(|bytes| bytes.map(Bytes::from))
        .map_err(|source| Error::Conversion {
            topic: topic.to_string(),
            part,
            source: Box::new(source),
        })
}
