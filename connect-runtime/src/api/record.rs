//! The records connectors exchange with the runtime: [`SourceRecord`] (what a source task
//! produces) and [`SinkRecord`] (what a sink task receives), their Connect headers, the
//! totally ordered [`SourcePosition`] the runtime uses to drop replayed records, and
//! [`ConnectRecord`], the view of either that transforms work on.
//!
//! Keys and values are a schema plus a [`Value`]; `Value::Null` is a null key or value (a
//! value-less record is a tombstone). This is the shape the converters of `sluice-schemas`
//! produce and consume, so no `Option<Value>` wraps a second kind of null.

use std::fmt;

use bytes::Bytes;
use sluice_broker::{Offset, PartitionId};
use sluice_schemas::{SchemaRef, Value};

/// A Kafka Connect source partition or source offset: a JSON object, as `Map<String, ?>` is in
/// Kafka Connect (e.g. `{"server": "dbserver1"}` and `{"lsn": 24023128, "txId": 555}`).
pub type OffsetMap = serde_json::Map<String, serde_json::Value>;

/// A Connect schema (absent for schemaless data) and a value.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaAndValue {
    pub schema: Option<SchemaRef>,
    pub value: Value,
}

impl SchemaAndValue {
    pub fn new(schema: Option<SchemaRef>, value: Value) -> Self {
        Self { schema, value }
    }

    /// A value with its schema.
    pub fn with_schema(schema: SchemaRef, value: impl Into<Value>) -> Self {
        Self {
            schema: Some(schema),
            value: value.into(),
        }
    }

    /// No schema and a null value: an absent key or a tombstone's value.
    pub fn null() -> Self {
        Self {
            schema: None,
            value: Value::Null,
        }
    }

    pub fn is_null(&self) -> bool {
        self.value.is_null()
    }
}

/// The value of a Connect header: a typed value (with its schema, as Kafka Connect's
/// `Header.schema()/value()`), or the raw bytes stored in the log (what a sink sees before any
/// header conversion, and what the runtime's own headers carry).
#[derive(Debug, Clone, PartialEq)]
pub enum HeaderValue {
    Typed {
        schema: Option<SchemaRef>,
        value: Value,
    },
    Raw(Bytes),
}

/// One Connect header.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub key: String,
    pub value: HeaderValue,
}

impl Header {
    /// The header's text when it holds a string (typed) or UTF-8 bytes (raw).
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            HeaderValue::Typed { value, .. } => value.as_str(),
            HeaderValue::Raw(bytes) => std::str::from_utf8(bytes).ok(),
        }
    }
}

/// The headers of a record, in order; a key may appear more than once (as in Kafka).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Headers(Vec<Header>);

impl Headers {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, header: Header) -> &mut Self {
        self.0.push(header);
        self
    }

    /// Appends a typed header.
    pub fn add(
        &mut self,
        key: impl Into<String>,
        schema: Option<SchemaRef>,
        value: Value,
    ) -> &mut Self {
        self.push(Header {
            key: key.into(),
            value: HeaderValue::Typed { schema, value },
        })
    }

    /// Appends a string header (schema `string`).
    pub fn add_string(&mut self, key: impl Into<String>, text: impl Into<String>) -> &mut Self {
        let schema = sluice_schemas::schema::STRING_SCHEMA.clone();
        self.add(
            key,
            Some(schema),
            Value::String(Into::<String>::into(text).into()),
        )
    }

    /// Appends a raw-bytes header.
    pub fn add_raw(&mut self, key: impl Into<String>, bytes: impl Into<Bytes>) -> &mut Self {
        self.push(Header {
            key: key.into(),
            value: HeaderValue::Raw(bytes.into()),
        })
    }

    /// The last header with this key (Kafka's `lastWithName`).
    pub fn last(&self, key: &str) -> Option<&Header> {
        self.0.iter().rev().find(|header| header.key == key)
    }

    /// Every header with this key, in order.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Header> + 'a {
        self.0.iter().filter(move |header| header.key == key)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.0.iter().any(|header| header.key == key)
    }

    /// Removes every header with this key.
    pub fn remove(&mut self, key: &str) -> &mut Self {
        self.0.retain(|header| header.key != key);
        self
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Header> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a Header;
    type IntoIter = std::slice::Iter<'a, Header>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl FromIterator<Header> for Headers {
    fn from_iter<I: IntoIterator<Item = Header>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// The header in which the runtime stores a record's [`SourcePosition`] in the log.
pub const POSITION_HEADER: &str = "__sluice.position";

/// Where a record comes from in its source's change stream, as bytes whose lexicographic order
/// is the stream's order.
///
/// The runtime stores it with each record (in [`POSITION_HEADER`]) and, after a restart,
/// reads the newest position already in each target topic partition; a replayed record whose
/// position is not greater than that is dropped instead of written twice. For this to be
/// exact, positions must **strictly increase** over all records one task returns — across
/// polls and across restarts — so two records never share one (include the event's index
/// within its transaction or binlog event). Build positions from fixed-width parts with
/// [`SourcePosition::from_parts`]; a record without a position is never de-duplicated.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SourcePosition(Vec<u8>);

impl SourcePosition {
    /// A position from bytes already encoded in stream order.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// A position from integer parts, most significant first (e.g. `[commit_lsn,
    /// event_index]` or `[binlog_file_number, position, row]`): each is written as 8 big-endian
    /// bytes, so byte order equals the order of the tuples.
    pub fn from_parts(parts: &[u64]) -> Self {
        let mut bytes = Vec::with_capacity(parts.len() * 8);
        for part in parts {
            bytes.extend_from_slice(&part.to_be_bytes());
        }
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for SourcePosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SourcePosition(")?;
        for byte in &self.0 {
            write!(f, "{byte:02x}")?;
        }
        f.write_str(")")
    }
}

/// A record produced by a source task.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    /// Which part of the source this record comes from (e.g. `{"server": "dbserver1"}`).
    pub source_partition: OffsetMap,
    /// Where to resume that part of the source once this record is durable.
    pub source_offset: OffsetMap,
    /// The record's place in the task's totally ordered stream (see [`SourcePosition`]).
    pub position: Option<SourcePosition>,
    pub topic: String,
    /// The target partition; `None` lets the runtime partition by key.
    pub kafka_partition: Option<i32>,
    pub key: SchemaAndValue,
    pub value: SchemaAndValue,
    pub headers: Headers,
    /// Epoch milliseconds; `None` stamps the record with the append time.
    pub timestamp_ms: Option<i64>,
}

impl SourceRecord {
    /// A record with no partition choice, headers or timestamp.
    pub fn new(
        source_partition: OffsetMap,
        source_offset: OffsetMap,
        topic: impl Into<String>,
        key: SchemaAndValue,
        value: SchemaAndValue,
    ) -> Self {
        Self {
            source_partition,
            source_offset,
            position: None,
            topic: topic.into(),
            kafka_partition: None,
            key,
            value,
            headers: Headers::new(),
            timestamp_ms: None,
        }
    }

    pub fn with_position(mut self, position: SourcePosition) -> Self {
        self.position = Some(position);
        self
    }

    pub fn with_timestamp_ms(mut self, timestamp_ms: i64) -> Self {
        self.timestamp_ms = Some(timestamp_ms);
        self
    }
}

/// One partition of a topic.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: PartitionId,
}

impl TopicPartition {
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        Self {
            topic: topic.into(),
            partition: PartitionId(partition),
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// A record delivered to a sink task, decoded by the connector's converters.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkRecord {
    pub topic: String,
    pub partition: PartitionId,
    pub offset: Offset,
    pub key: SchemaAndValue,
    pub value: SchemaAndValue,
    pub headers: Headers,
    /// The record's timestamp in the log, epoch milliseconds.
    pub timestamp_ms: i64,
}

impl SinkRecord {
    pub fn topic_partition(&self) -> TopicPartition {
        TopicPartition {
            topic: self.topic.clone(),
            partition: self.partition,
        }
    }
}

/// What source and sink records share: the part transforms and predicates read and change.
pub trait ConnectRecord: Clone + Send + Sync + fmt::Debug + 'static {
    fn topic(&self) -> &str;
    fn set_topic(&mut self, topic: String);
    fn key(&self) -> &SchemaAndValue;
    fn key_mut(&mut self) -> &mut SchemaAndValue;
    fn value(&self) -> &SchemaAndValue;
    fn value_mut(&mut self) -> &mut SchemaAndValue;
    fn headers(&self) -> &Headers;
    fn headers_mut(&mut self) -> &mut Headers;

    /// A record whose value is null: a deletion marker for log compaction.
    fn is_tombstone(&self) -> bool {
        self.value().is_null()
    }
}

macro_rules! connect_record {
    ($record:ty) => {
        impl ConnectRecord for $record {
            fn topic(&self) -> &str {
                &self.topic
            }
            fn set_topic(&mut self, topic: String) {
                self.topic = topic;
            }
            fn key(&self) -> &SchemaAndValue {
                &self.key
            }
            fn key_mut(&mut self) -> &mut SchemaAndValue {
                &mut self.key
            }
            fn value(&self) -> &SchemaAndValue {
                &self.value
            }
            fn value_mut(&mut self) -> &mut SchemaAndValue {
                &mut self.value
            }
            fn headers(&self) -> &Headers {
                &self.headers
            }
            fn headers_mut(&mut self) -> &mut Headers {
                &mut self.headers
            }
        }
    };
}

connect_record!(SourceRecord);
connect_record!(SinkRecord);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_order_like_their_parts() {
        let a = SourcePosition::from_parts(&[1, u64::MAX]);
        let b = SourcePosition::from_parts(&[2, 0]);
        let c = SourcePosition::from_parts(&[2, 1]);
        assert!(a < b && b < c);
        assert_eq!(
            format!("{:?}", SourcePosition::from_bytes(vec![0xab, 1])),
            "SourcePosition(ab01)"
        );
    }

    #[test]
    fn headers_keep_order_and_find_the_last() {
        let mut headers = Headers::new();
        headers
            .add_string("op", "c")
            .add_raw("raw", &b"x"[..])
            .add_string("op", "u");
        assert_eq!(headers.last("op").and_then(Header::as_str), Some("u"));
        assert_eq!(headers.all("op").count(), 2);
        assert_eq!(headers.last("raw").and_then(Header::as_str), Some("x"));
        headers.remove("op");
        assert_eq!(headers.len(), 1);
        assert!(!headers.contains("op"));
    }
}
