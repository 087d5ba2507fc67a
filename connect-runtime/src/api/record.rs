//! The records connectors exchange with the runtime: [`SourceRecord`] (what a source task
//! produces) and [`SinkRecord`] (what a sink task receives), their Connect headers, the
//! [`ConnectRecord`], the view of either that transforms work on. The bookkeeping types a
//! source record carries live beside it: [`SharedOffsetMap`] (`offset_map`) and
//! [`SourcePosition`] (`position`), re-exported here.
//!
//! Keys and values are a schema plus a [`Value`]; `Value::Null` is a null key or value (a
//! value-less record is a tombstone). This is the shape the converters of `sluice-schemas`
//! produce and consume, so no `Option<Value>` wraps a second kind of null.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use sluice_broker::{Offset, PartitionId};
use sluice_schemas::{SchemaRef, Value};

pub use super::offset_map::{OffsetMap, SharedOffsetMap};
pub use super::position::{POSITION_HEADER, SourcePosition};

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

/// A record produced by a source task.
///
/// Its bookkeeping is cheap to make and clone per record: the source partition and offset
/// are [`SharedOffsetMap`]s (clone a connector's or table's template: a reference count, not
/// a copy), the topic is a shared string (clone the table's), and a position of up to
/// [`SourcePosition::INLINE_CAPACITY`] bytes is stored inline.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    /// Which part of the source this record comes from (e.g. `{"server": "dbserver1"}`).
    pub source_partition: SharedOffsetMap,
    /// Where to resume that part of the source once this record is durable; empty when the
    /// record carries no offset (a later record of the same event does).
    pub source_offset: SharedOffsetMap,
    /// The record's place in the task's totally ordered stream (see [`SourcePosition`]).
    pub position: Option<SourcePosition>,
    pub topic: Arc<str>,
    /// The target partition; `None` lets the runtime partition by key.
    pub kafka_partition: Option<i32>,
    pub key: SchemaAndValue,
    pub value: SchemaAndValue,
    pub headers: Headers,
    /// Epoch milliseconds; `None` stamps the record with the append time.
    pub timestamp_ms: Option<i64>,
}

impl SourceRecord {
    /// A record with no partition choice, headers or timestamp. Pass shared values (a cloned
    /// template [`SharedOffsetMap`], an `Arc<str>` topic) on hot paths; plain maps and strings
    /// are converted.
    pub fn new(
        source_partition: impl Into<SharedOffsetMap>,
        source_offset: impl Into<SharedOffsetMap>,
        topic: impl Into<Arc<str>>,
        key: SchemaAndValue,
        value: SchemaAndValue,
    ) -> Self {
        Self {
            source_partition: source_partition.into(),
            source_offset: source_offset.into(),
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
                self.topic = topic.into();
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
