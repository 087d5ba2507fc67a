//! A connector's record pipeline on the source side: its transform chain and its key/value
//! converters (selected by `key.converter` / `value.converter`, JSON with schemas by
//! default), built once per connector and applied to every record on its way to the broker.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use sluice_broker::{Header as BrokerHeader, PartitionId, Record};
use sluice_schemas::registry::SchemaRegistry;

use super::dedup::TASK_HEADER;
use super::sink_settings::ErrorTolerance;
use crate::api::{POSITION_HEADER, SchemaAndValue, SourceRecord};
use crate::config::Props;
use crate::converter::header::header_bytes;
use crate::converter::{Converter, RecordConverters};
use crate::error::{Error, Result};
use crate::transforms::TransformChain;

/// A source record made ready for the broker.
#[derive(Debug)]
pub struct PreparedRecord {
    pub topic: Arc<str>,
    /// The partition the connector (or a transform) chose, if any; else the key decides.
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
    transforms: TransformChain<SourceRecord>,
    converters: RecordConverters,
    tolerance: ErrorTolerance,
    /// Recent encoded sizes of keys and values, so each output buffer is allocated once at
    /// about the right size instead of growing by reallocation.
    key_size: SizeHint,
    value_size: SizeHint,
}

impl SourcePipeline {
    /// Builds the pipeline from the connector's (secret-resolved) configuration; errors name
    /// the offending key.
    pub fn from_props(props: &Props, registry: &Arc<SchemaRegistry>) -> Result<Self> {
        Ok(Self {
            inner: Arc::new(PipelineInner {
                transforms: TransformChain::from_props(props)?,
                converters: RecordConverters::from_props(props, Some(registry))?,
                tolerance: tolerance(props)?,
                key_size: SizeHint::default(),
                value_size: SizeHint::default(),
            }),
        })
    }

    /// Whether a record that fails its transforms or conversion is skipped (`all`) or fails
    /// the task (`none`, the default).
    pub fn tolerance(&self) -> ErrorTolerance {
        self.inner.tolerance
    }

    /// The key and value converters (a task reads its own topics back with them).
    pub fn converters(&self) -> &RecordConverters {
        &self.inner.converters
    }

    /// Transforms and converts one record; `None` when a transform dropped it. `task`
    /// (the [`TASK_HEADER`] value) and the record's position travel as headers.
    pub async fn prepare(
        &self,
        record: SourceRecord,
        task: &Bytes,
    ) -> Result<Option<PreparedRecord>> {
        // Copied once, straight into the header's bytes (the record moves through the chain).
        let position = record
            .position
            .as_ref()
            .map(|position| Bytes::copy_from_slice(position.as_bytes()));
        let Some(record) = self.inner.transforms.apply(record)? else {
            return Ok(None);
        };
        let inner = &*self.inner;
        let key = encode_sized(
            &*inner.converters.key,
            &inner.key_size,
            &record.topic,
            &record.key,
        )
        .await?;
        let value = encode_sized(
            &*inner.converters.value,
            &inner.value_size,
            &record.topic,
            &record.value,
        )
        .await?;
        let mut stored = Record::new(key, value);
        if let Some(timestamp) = record.timestamp_ms {
            stored.timestamp_ms = timestamp;
        }
        stored.headers.reserve(record.headers.len() + 2);
        for header in record.headers.iter() {
            stored.headers.push(BrokerHeader {
                key: header.key.clone().into(),
                value: header_bytes(header),
            });
        }
        stored.headers.push(BrokerHeader {
            key: TASK_HEADER.into(),
            value: Some(task.clone()),
        });
        if let Some(position) = position {
            // The constant keys are borrowed `&'static str`s: no allocation per record.
            stored.headers.push(BrokerHeader {
                key: POSITION_HEADER.into(),
                value: Some(position),
            });
        }
        Ok(Some(PreparedRecord {
            topic: record.topic,
            partition: record.kafka_partition.map(PartitionId),
            record: stored,
        }))
    }
}

/// The size the next encoded key or value is likely to need: the last one's, with room to
/// spare. Shared by the connector's tasks; a stale value only costs a reallocation.
#[derive(Debug, Default)]
struct SizeHint(AtomicUsize);

impl SizeHint {
    fn buffer(&self) -> Vec<u8> {
        let last = self.0.load(Ordering::Relaxed);
        Vec::with_capacity(last + last / 8)
    }

    fn note(&self, len: usize) {
        self.0.store(len, Ordering::Relaxed);
    }
}

/// Encodes `data` into a buffer sized by `hint`; `None` for a null key or value.
async fn encode_sized(
    converter: &dyn Converter,
    hint: &SizeHint,
    topic: &str,
    data: &SchemaAndValue,
) -> Result<Option<Bytes>> {
    let mut out = hint.buffer();
    if !converter.encode_into(topic, data, &mut out).await? {
        return Ok(None);
    }
    hint.note(out.len());
    Ok(Some(Bytes::from(out)))
}

/// `errors.tolerance` of a source connector (Kafka Connect skips, never dead-letters, failed
/// source records).
fn tolerance(props: &Props) -> Result<ErrorTolerance> {
    let value = props.get("errors.tolerance").map_or("none", |v| v.trim());
    match value.to_ascii_lowercase().as_str() {
        "none" | "" => Ok(ErrorTolerance::None),
        "all" => Ok(ErrorTolerance::All),
        _ => Err(Error::InvalidConfig {
            key: "errors.tolerance".into(),
            value: value.into(),
            reason: "expected none or all".into(),
        }),
    }
}
