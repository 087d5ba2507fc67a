//! A connector's record pipeline on the source side: its transform chain and its key/value
//! converters (selected by `key.converter` / `value.converter`, JSON with schemas by
//! default), built once per connector and applied to every record on its way to the broker.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use sluice_broker::{Header as BrokerHeader, PartitionId, Record};
use sluice_schemas::registry::SchemaRegistry;

use super::dedup::TASK_HEADER;
use super::sink_settings::ErrorTolerance;
use crate::api::{POSITION_HEADER, SchemaAndValue, SourcePosition, SourceRecord};
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
    /// The bytes per record of the previous batch, so a batch's buffer is allocated once at
    /// about the right size instead of growing by reallocation.
    record_size: SizeHint,
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
                record_size: SizeHint::default(),
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

    /// Transforms and converts the records of one poll. All their keys, values and positions
    /// are written into one buffer, which the records then share (one allocation per batch,
    /// not several per record). `task` (the [`TASK_HEADER`] value) and each record's position
    /// travel as headers. A record that fails its transforms or conversion is passed to
    /// `skipped` and left out with `errors.tolerance=all`, and fails the batch otherwise.
    pub async fn prepare_batch(
        &self,
        records: Vec<SourceRecord>,
        task: &Bytes,
        mut skipped: impl FnMut(&Error),
    ) -> Result<Vec<(PreparedRecord, Option<SourcePosition>)>> {
        let inner = &*self.inner;
        let mut arena = BatchArena::with_capacity(records.len(), inner.record_size.expected());
        let mut staged = Vec::with_capacity(records.len());
        let mut settle =
            |outcome: Result<Option<StagedRecord>>, mark: usize, arena: &mut BatchArena| {
                match outcome {
                    Ok(Some(record)) => staged.push(record),
                    Ok(None) => arena.bytes.truncate(mark),
                    Err(error) if inner.tolerance == ErrorTolerance::All => {
                        arena.bytes.truncate(mark);
                        skipped(&error);
                    }
                    Err(error) => return Err(error),
                }
                Ok(())
            };
        if inner.transforms.is_empty() {
            // Converted where they lie: a record (a few hundred bytes) is not moved into each
            // step; the batch's records are dropped together afterwards.
            for record in &records {
                let mark = arena.bytes.len();
                let position = self.position(record, &mut arena);
                let outcome = self.convert(record, position, &mut arena).await.map(Some);
                settle(outcome, mark, &mut arena)?;
            }
            drop(records);
        } else {
            for record in records {
                let mark = arena.bytes.len();
                let outcome = self.transform_and_convert(record, &mut arena).await;
                settle(outcome, mark, &mut arena)?;
            }
        }
        if !staged.is_empty() {
            inner.record_size.note(arena.bytes.len() / staged.len());
        }
        let shared = Bytes::from(trimmed(arena.bytes));
        let now = now_ms();
        Ok(staged
            .into_iter()
            .map(|staged| staged.finish(&shared, task, now))
            .collect())
    }

    /// The record's position, and its bytes written into `arena`: taken from the record as
    /// the source made it, before any transform.
    fn position(
        &self,
        record: &SourceRecord,
        arena: &mut BatchArena,
    ) -> (Option<SourcePosition>, Option<Range<usize>>) {
        let position = record.position.clone();
        let bytes = position
            .as_ref()
            .map(|position| arena.push(position.as_bytes()));
        (position, bytes)
    }

    /// Runs one record through the transforms, then [`convert`](Self::convert)s it; `None`
    /// when a transform dropped it.
    async fn transform_and_convert(
        &self,
        record: SourceRecord,
        arena: &mut BatchArena,
    ) -> Result<Option<StagedRecord>> {
        let position = self.position(&record, arena);
        match self.inner.transforms.apply(record)? {
            Some(record) => self.convert(&record, position, arena).await.map(Some),
            None => Ok(None),
        }
    }

    /// Writes the record's key and value into `arena` with the connector's converters.
    async fn convert(
        &self,
        record: &SourceRecord,
        (position, position_bytes): (Option<SourcePosition>, Option<Range<usize>>),
        arena: &mut BatchArena,
    ) -> Result<StagedRecord> {
        let converters = &self.inner.converters;
        let key = arena
            .encode(&*converters.key, &record.topic, &record.key)
            .await?;
        let value = arena
            .encode(&*converters.value, &record.topic, &record.value)
            .await?;
        let mut headers = Vec::with_capacity(record.headers.len() + 2);
        for header in record.headers.iter() {
            headers.push(BrokerHeader {
                key: header.key.clone().into(),
                value: header_bytes(header),
            });
        }
        Ok(StagedRecord {
            topic: record.topic.clone(),
            partition: record.kafka_partition.map(PartitionId),
            timestamp_ms: record.timestamp_ms,
            key,
            value,
            headers,
            position,
            position_bytes,
        })
    }
}

/// The bytes of one batch's records, written back to back.
struct BatchArena {
    bytes: Vec<u8>,
}

impl BatchArena {
    fn with_capacity(records: usize, bytes_per_record: usize) -> Self {
        let estimate = records.saturating_mul(bytes_per_record + bytes_per_record / 8 + 32);
        Self {
            bytes: Vec::with_capacity(estimate.min(MAX_ARENA_RESERVE)),
        }
    }

    /// Appends `bytes`; their range.
    fn push(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        start..self.bytes.len()
    }

    /// Appends `data` as encoded by `converter`; `None` (nothing written) for a null key or
    /// value. Converters that never wait are called without an await point's boxing.
    async fn encode(
        &mut self,
        converter: &dyn Converter,
        topic: &str,
        data: &SchemaAndValue,
    ) -> Result<Option<Range<usize>>> {
        let start = self.bytes.len();
        let written = match converter.encode_now(topic, data, &mut self.bytes) {
            Some(written) => written?,
            None => converter.encode_into(topic, data, &mut self.bytes).await?,
        };
        Ok(written.then_some(start..self.bytes.len()))
    }
}

/// The arena is reserved up front up to this size; a larger batch grows it as it goes.
const MAX_ARENA_RESERVE: usize = 16 << 20;

/// Unused room a batch's buffer may keep; more than this (and more than it holds) is given
/// back before its records go to the queue, which counts only the records' bytes.
const SLACK_KEPT: usize = 64 << 10;

/// `bytes` without unused room beyond [`SLACK_KEPT`]: the buffer lives as long as any of its
/// records, so its spare capacity would be held (uncounted by the queue) too.
fn trimmed(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.capacity() > 2 * bytes.len() + SLACK_KEPT {
        bytes.shrink_to_fit();
    }
    bytes
}

/// A converted record whose bytes are still ranges of the batch's arena.
struct StagedRecord {
    topic: Arc<str>,
    partition: Option<PartitionId>,
    timestamp_ms: Option<i64>,
    key: Option<Range<usize>>,
    value: Option<Range<usize>>,
    headers: Vec<BrokerHeader>,
    position: Option<SourcePosition>,
    position_bytes: Option<Range<usize>>,
}

impl StagedRecord {
    /// The broker record, its bytes slices of `shared` (no copy); stamped `now` unless the
    /// source gave a timestamp.
    fn finish(
        self,
        shared: &Bytes,
        task: &Bytes,
        now: i64,
    ) -> (PreparedRecord, Option<SourcePosition>) {
        let mut headers = self.headers;
        headers.push(BrokerHeader {
            key: TASK_HEADER.into(),
            value: Some(task.clone()),
        });
        if let Some(range) = self.position_bytes {
            // The constant keys are borrowed `&'static str`s: no allocation per record.
            headers.push(BrokerHeader {
                key: POSITION_HEADER.into(),
                value: Some(shared.slice(range)),
            });
        }
        let record = Record {
            key: self.key.map(|range| shared.slice(range)),
            value: self.value.map(|range| shared.slice(range)),
            headers,
            timestamp_ms: self.timestamp_ms.unwrap_or(now),
        };
        let prepared = PreparedRecord {
            topic: self.topic,
            partition: self.partition,
            record,
        };
        (prepared, self.position)
    }
}

/// The bytes the next batch's records are likely to need each: the last batch's average.
/// Shared by the connector's tasks; a stale value only costs a reallocation or a shrink.
#[derive(Debug, Default)]
struct SizeHint(AtomicUsize);

impl SizeHint {
    fn expected(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }

    fn note(&self, len: usize) {
        self.0.store(len, Ordering::Relaxed);
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
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

#[cfg(test)]
pub(crate) mod tests {
    use sluice_schemas::Value;
    use sluice_schemas::schema::{INT64_SCHEMA, STRING_SCHEMA};

    use super::*;
    use crate::api::OffsetMap;

    /// A pipeline built from `settings` as a connector's props, with an in-memory registry.
    pub(crate) fn pipeline(settings: &[(&str, &str)]) -> SourcePipeline {
        let props: Props = settings
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        SourcePipeline::from_props(&props, &Arc::new(SchemaRegistry::in_memory())).unwrap()
    }

    fn record(key: Option<i64>, value: SchemaAndValue, position: u64) -> SourceRecord {
        let key = key.map_or_else(SchemaAndValue::null, |key| {
            SchemaAndValue::with_schema(INT64_SCHEMA.clone(), Value::Int64(key))
        });
        SourceRecord::new(OffsetMap::new(), OffsetMap::new(), "t", key, value)
            .with_position(SourcePosition::from_parts(&[3, position]))
    }

    fn text(value: &str) -> SchemaAndValue {
        SchemaAndValue::with_schema(STRING_SCHEMA.clone(), value.to_string())
    }

    fn header<'a>(record: &'a Record, key: &str) -> Option<&'a [u8]> {
        record
            .headers
            .iter()
            .find(|header| header.key == key)
            .and_then(|header| header.value.as_deref())
    }

    #[tokio::test]
    async fn a_batch_shares_one_buffer_and_every_record_keeps_its_own_bytes() {
        let pipeline = pipeline(&[
            ("key.converter.schemas.enable", "false"),
            ("value.converter.schemas.enable", "false"),
        ]);
        let mut with_header = record(Some(1), text("one"), 0);
        with_header.headers.add_raw("trace", b"abc".to_vec());
        with_header.timestamp_ms = Some(1_700_000_000_000);
        let records = vec![
            with_header,
            record(None, text("two"), 1),
            record(Some(3), SchemaAndValue::null(), 2),
        ];
        let task = Bytes::from_static(b"t-0@0");
        let before = now_ms();
        let prepared = pipeline
            .prepare_batch(records, &task, |error| panic!("{error}"))
            .await
            .unwrap();
        assert_eq!(prepared.len(), 3);
        let stored: Vec<&Record> = prepared.iter().map(|(p, _)| &p.record).collect();
        assert_eq!(stored[0].key.as_deref(), Some(&b"1"[..]));
        assert_eq!(stored[0].value.as_deref(), Some(&b"\"one\""[..]));
        assert_eq!(stored[1].key, None);
        assert_eq!(stored[1].value.as_deref(), Some(&b"\"two\""[..]));
        assert_eq!(stored[2].key.as_deref(), Some(&b"3"[..]));
        assert_eq!(stored[2].value, None, "a null value stays a tombstone");
        // The source's headers first, then the task and the position.
        let keys: Vec<&str> = stored[0].headers.iter().map(|h| &*h.key).collect();
        assert_eq!(keys, ["trace", TASK_HEADER, POSITION_HEADER]);
        assert_eq!(header(stored[0], "trace"), Some(&b"abc"[..]));
        for (i, (prepared, position)) in prepared.iter().enumerate() {
            let expected = SourcePosition::from_parts(&[3, i as u64]);
            assert_eq!(position.as_ref(), Some(&expected));
            assert_eq!(
                header(&prepared.record, POSITION_HEADER),
                Some(expected.as_bytes())
            );
            assert_eq!(header(&prepared.record, TASK_HEADER), Some(&b"t-0@0"[..]));
        }
        assert_eq!(stored[0].timestamp_ms, 1_700_000_000_000);
        assert!(
            stored[1].timestamp_ms >= before,
            "unstamped records get the batch's time"
        );
    }

    #[tokio::test]
    async fn a_skipped_record_leaves_nothing_behind_in_the_shared_buffer() {
        let pipeline = pipeline(&[
            ("errors.tolerance", "all"),
            ("key.converter.schemas.enable", "false"),
        ]);
        // With schemas, JSON cannot write a value that has no schema: this record fails.
        let failing = record(
            Some(2),
            SchemaAndValue::new(None, Value::String("no schema".into())),
            1,
        );
        let records = vec![
            record(Some(1), text("a"), 0),
            failing,
            record(Some(3), text("c"), 2),
        ];
        let mut skipped = Vec::new();
        let prepared = pipeline
            .prepare_batch(records, &Bytes::from_static(b"t"), |error| {
                skipped.push(error.to_string())
            })
            .await
            .unwrap();
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        let values: Vec<(&[u8], &[u8])> = prepared
            .iter()
            .map(|(p, _)| {
                (
                    p.record.key.as_deref().unwrap(),
                    p.record.value.as_deref().unwrap(),
                )
            })
            .collect();
        let with_schema = |v: &str| {
            format!(r#"{{"schema":{{"type":"string","optional":false}},"payload":"{v}"}}"#)
        };
        assert_eq!(values[0].0, b"1");
        assert_eq!(values[0].1, with_schema("a").as_bytes());
        assert_eq!(values[1].0, b"3");
        assert_eq!(values[1].1, with_schema("c").as_bytes());
        let positions: Vec<_> = prepared.iter().map(|(_, p)| p.clone().unwrap()).collect();
        assert_eq!(
            positions,
            [
                SourcePosition::from_parts(&[3, 0]),
                SourcePosition::from_parts(&[3, 2])
            ]
        );
    }

    #[test]
    fn a_batch_buffer_gives_back_room_it_did_not_use() {
        let mut oversized = Vec::with_capacity(16 << 20);
        oversized.extend_from_slice(&[7; 1000]);
        let kept = trimmed(oversized);
        assert_eq!(kept, vec![7; 1000]);
        assert!(
            kept.capacity() < 2 * 1000 + SLACK_KEPT,
            "{}",
            kept.capacity()
        );
        let mut nearly_full = Vec::with_capacity(300 << 10);
        nearly_full.extend_from_slice(&[1; 200 << 10]);
        assert_eq!(
            trimmed(nearly_full).capacity(),
            300 << 10,
            "small slack is kept"
        );
    }

    #[tokio::test]
    async fn without_tolerance_a_failing_record_fails_the_batch() {
        let pipeline = pipeline(&[]);
        let records = vec![record(
            Some(1),
            SchemaAndValue::new(None, Value::String("no schema".into())),
            0,
        )];
        let outcome = pipeline
            .prepare_batch(records, &Bytes::from_static(b"t"), |_| {
                panic!("nothing is skipped with errors.tolerance=none")
            })
            .await;
        assert!(outcome.is_err());
    }
}
