//! Building the records the connector emits: change events (Debezium envelope with the
//! Postgres `source` block) of snapshot rows and streamed changes, tombstones, transaction
//! BEGIN/END records and heartbeats. Schemas come from the table's
//! [`TableMapping`](crate::table::TableMapping); this module adds the source block, the
//! record's topic, key, offset, position and headers.

use std::sync::Arc;

use sluice_connect::api::{Headers, SchemaAndValue, SharedOffsetMap, SourcePosition, SourceRecord};
use sluice_schemas::envelope::{EpochNanos, Op, TransactionBlock};
use sluice_schemas::records::{KeyedRecord, TransactionSchemas, heartbeat};
use sluice_schemas::source::{SnapshotMarker, SourceSchemaBuilder};
use sluice_schemas::{SchemaRef, Struct, Text, Value};

use crate::config::PostgresConfig;
use crate::error::{Error, Result};
use crate::lsn::Lsn;
use crate::table::TableMapping;

/// The connector name in the source block.
pub const CONNECTOR: &str = "postgresql";

/// Where an event was read, for its `source` block.
#[derive(Debug, Clone, Copy)]
pub struct SourceFacts<'a> {
    pub snapshot: SnapshotMarker,
    /// When the change happened (commit time; snapshot time for snapshot rows).
    pub event_micros: i64,
    pub schema: &'a str,
    pub table: &'a str,
    /// The transaction: the streamed change's xid, or the snapshot transaction's
    /// `txid_current()`.
    pub tx_id: Option<i64>,
    pub lsn: Option<Lsn>,
    /// The slot's `catalog_xmin` as last fetched (`xmin.fetch.interval.ms`; `None` when off).
    pub xmin: Option<i64>,
    /// The previous transaction's commit LSN, for `sequence`.
    pub last_commit: Option<Lsn>,
}

/// The key and row images of one change event.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub key: Option<Struct>,
    pub before: Option<Struct>,
    pub after: Option<Struct>,
}

/// The two times of a change event.
#[derive(Debug, Clone, Copy)]
pub struct EventTiming {
    /// When the change happened (the record's timestamp), in microseconds since the epoch.
    pub event_micros: i64,
    /// When the connector processed it (the envelope's `ts_ms/us/ns`).
    pub processed_at: EpochNanos,
}

/// Where a record goes in the task's stream.
#[derive(Debug, Clone)]
pub struct Placement {
    pub offset: SharedOffsetMap,
    pub position: SourcePosition,
}

/// Makes the records of one connector.
#[derive(Debug, Clone)]
pub struct EventFactory {
    /// The source block's `name`, `db` and `version`, the same in every event: kept as [`Text`]
    /// so each event clones them without allocating.
    prefix: Text,
    db: Text,
    version: Text,
    source_schema: SchemaRef,
    /// The source partition every record shares.
    partition: SharedOffsetMap,
    transactions: TransactionSchemas,
    transaction_topic: Arc<str>,
    heartbeat_topic: Arc<str>,
}

impl EventFactory {
    pub fn new(config: &PostgresConfig) -> Self {
        Self {
            prefix: Text::new(&config.topic_prefix),
            db: Text::new(&config.dbname),
            version: Text::from_static(env!("CARGO_PKG_VERSION")),
            source_schema: SourceSchemaBuilder::postgres(),
            partition: config.source_partition().into(),
            transactions: TransactionSchemas::new(),
            transaction_topic: format!("{}.transaction", config.topic_prefix).into(),
            heartbeat_topic: format!("__debezium-heartbeat.{}", config.topic_prefix).into(),
        }
    }

    /// The source schema every table mapping must be built with.
    pub fn source_schema(&self) -> SchemaRef {
        self.source_schema.clone()
    }

    /// The `source` block, its values written straight in the field order of
    /// [`SourceSchemaBuilder::postgres`] (the common fields, then `schema, table, txId, lsn,
    /// xmin`; a test compares it with the block built field by field): one struct in one
    /// allocation per event instead of a by-name lookup per field.
    pub(crate) fn source(&self, facts: &SourceFacts<'_>) -> Result<Struct> {
        let micros = facts.event_micros;
        let values = [
            Value::String(self.version.clone()),
            Value::String(Text::from_static(CONNECTOR)),
            Value::String(self.prefix.clone()),
            Value::Int64(micros.div_euclid(1000)),
            Value::String(Text::from_static(facts.snapshot.as_str())),
            Value::String(self.db.clone()),
            facts.lsn.map_or(Value::Null, |lsn| {
                Value::String(sequence(facts.last_commit, lsn))
            }),
            Value::Int64(micros),
            Value::Int64(micros.saturating_mul(1000)),
            Value::String(facts.schema.into()),
            Value::String(facts.table.into()),
            facts.tx_id.map_or(Value::Null, Value::Int64),
            facts.lsn.map_or(Value::Null, |l| Value::Int64(l.0 as i64)),
            facts.xmin.map_or(Value::Null, Value::Int64),
        ];
        Struct::from_built_values(self.source_schema.clone(), values)
            .map_err(|source| event_error(facts.table, source))
    }

    /// A change event (`op` c/u/d/r) of `mapping`'s table.
    #[allow(clippy::too_many_arguments)]
    pub fn change(
        &self,
        mapping: &TableMapping,
        op: Op,
        key: Option<Struct>,
        before: Option<Struct>,
        after: Option<Struct>,
        facts: &SourceFacts<'_>,
        transaction: Option<&TransactionBlock>,
        placement: Placement,
    ) -> Result<SourceRecord> {
        let source = self.source(facts)?;
        let rows = Rows { key, before, after };
        let timing = EventTiming {
            event_micros: facts.event_micros,
            processed_at: EpochNanos::now(),
        };
        self.change_with_source(mapping, op, rows, source, timing, transaction, placement)
    }

    /// A change event with a `source` block made by [`EventFactory::source`] — for events
    /// that share one (a snapshot table's rows), so it is built once and cloned.
    #[allow(clippy::too_many_arguments)]
    pub fn change_with_source(
        &self,
        mapping: &TableMapping,
        op: Op,
        rows: Rows,
        source: Struct,
        timing: EventTiming,
        transaction: Option<&TransactionBlock>,
        placement: Placement,
    ) -> Result<SourceRecord> {
        let envelope = mapping.envelope();
        let value = envelope
            .value(
                op,
                rows.before,
                rows.after,
                source,
                timing.processed_at,
                transaction,
            )
            .map_err(|source| event_error(mapping.topic(), source))?;
        let key = key_value(mapping, rows.key);
        let value =
            SchemaAndValue::with_schema(envelope.envelope_schema().clone(), Value::Struct(value));
        Ok(self.record(mapping.topic(), key, value, placement, timing.event_micros))
    }

    /// The tombstone (null value) that follows a delete.
    pub fn tombstone(
        &self,
        mapping: &TableMapping,
        key: Option<Struct>,
        facts: &SourceFacts<'_>,
        placement: Placement,
    ) -> SourceRecord {
        let key = key_value(mapping, key);
        self.record(
            mapping.topic(),
            key,
            SchemaAndValue::null(),
            placement,
            facts.event_micros,
        )
    }

    /// A TRUNCATE event (`op` t, null key, no before/after).
    pub fn truncate(
        &self,
        mapping: &TableMapping,
        facts: &SourceFacts<'_>,
        transaction: Option<&TransactionBlock>,
        placement: Placement,
    ) -> Result<SourceRecord> {
        self.change(
            mapping,
            Op::Truncate,
            None,
            None,
            None,
            facts,
            transaction,
            placement,
        )
        .map(|mut record| {
            record.key = SchemaAndValue::null();
            record
        })
    }

    /// The BEGIN record of a transaction on `<prefix>.transaction`.
    pub fn transaction_begin(
        &self,
        id: &str,
        ts_ms: i64,
        placement: Placement,
    ) -> Result<SourceRecord> {
        let keyed = self
            .transactions
            .begin(id, ts_ms)
            .map_err(|source| event_error(&self.transaction_topic, source))?;
        Ok(self.keyed(&self.transaction_topic, keyed, placement, ts_ms * 1000))
    }

    /// The END record with the number of events per table (`schema.table`).
    pub fn transaction_end(
        &self,
        id: &str,
        per_table: &[(String, i64)],
        ts_ms: i64,
        placement: Placement,
    ) -> Result<SourceRecord> {
        let keyed = self
            .transactions
            .end(id, per_table, ts_ms)
            .map_err(|source| event_error(&self.transaction_topic, source))?;
        Ok(self.keyed(&self.transaction_topic, keyed, placement, ts_ms * 1000))
    }

    /// A heartbeat on `__debezium-heartbeat.<prefix>`, carrying `offset` (no position: a
    /// heartbeat repeated after a restart is harmless).
    pub fn heartbeat(&self, offset: SharedOffsetMap) -> Result<SourceRecord> {
        let now_ms = EpochNanos::now().0 / 1_000_000;
        let keyed = heartbeat(&self.prefix, now_ms)
            .map_err(|source| event_error(&self.heartbeat_topic, source))?;
        let mut record = self.keyed(
            &self.heartbeat_topic,
            keyed,
            Placement {
                offset,
                position: SourcePosition::default(),
            },
            now_ms * 1000,
        );
        record.position = None;
        Ok(record)
    }

    fn keyed(
        &self,
        topic: &Arc<str>,
        keyed: KeyedRecord,
        placement: Placement,
        micros: i64,
    ) -> SourceRecord {
        let key = match keyed.key {
            Some(key) => SchemaAndValue::with_schema(key.schema().clone(), Value::Struct(key)),
            None => SchemaAndValue::null(),
        };
        let value =
            SchemaAndValue::with_schema(keyed.value.schema().clone(), Value::Struct(keyed.value));
        self.record(topic, key, value, placement, micros)
    }

    /// A record of this connector (partition, timestamp, position) on `topic`.
    pub(crate) fn record(
        &self,
        topic: &Arc<str>,
        key: SchemaAndValue,
        value: SchemaAndValue,
        placement: Placement,
        micros: i64,
    ) -> SourceRecord {
        // Written out rather than `SourceRecord::new(…).with_position(…)…`, whose builder
        // steps each move the whole record once more (measurable at a million rows).
        SourceRecord {
            source_partition: self.partition.clone(),
            source_offset: placement.offset,
            position: Some(placement.position),
            topic: topic.clone(),
            kafka_partition: None,
            key,
            value,
            headers: Headers::new(),
            timestamp_ms: Some(micros.div_euclid(1000)),
        }
    }
}

/// `source.sequence`: `["<previous commit LSN>","<change LSN>"]`, `null` for the first —
/// written into a stack buffer (every streamed event has one) and copied once into the text.
fn sequence(last_commit: Option<Lsn>, lsn: Lsn) -> Text {
    // `["` + 20 digits + `","` + 20 digits + `"]` at most.
    let mut text = [0u8; 48];
    let mut length = 0;
    let mut push = |bytes: &[u8]| {
        text[length..length + bytes.len()].copy_from_slice(bytes);
        length += bytes.len();
    };
    let mut digits = [0u8; 20];
    match last_commit {
        Some(last) => {
            push(b"[\"");
            push(decimal(last.0, &mut digits));
            push(b"\",\"");
        }
        None => push(b"[null,\""),
    }
    push(decimal(lsn.0, &mut digits));
    push(b"\"]");
    Text::new(std::str::from_utf8(&text[..length]).expect("ASCII digits and punctuation"))
}

/// `value` in decimal digits, written at the end of `buffer`.
fn decimal(mut value: u64, buffer: &mut [u8; 20]) -> &[u8] {
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            return &buffer[start..];
        }
    }
}

fn key_value(mapping: &TableMapping, key: Option<Struct>) -> SchemaAndValue {
    match (mapping.envelope().key_schema(), key) {
        (Some(schema), Some(key)) => {
            SchemaAndValue::with_schema(schema.clone(), Value::Struct(key))
        }
        _ => SchemaAndValue::null(),
    }
}

fn event_error(what: &str, source: sluice_schemas::Error) -> Error {
    Error::Event {
        table: what.to_string(),
        source: Box::new(source),
    }
}

/// A rough size of a record in memory and on the wire, for the queue's byte bound: the text
/// of its row plus a fixed overhead for names and the source block.
pub fn estimated_size(row_text_bytes: usize) -> usize {
    row_text_bytes * 2 + 400
}

#[cfg(test)]
mod tests {
    use sluice_schemas::source::SourceCommon;

    use super::*;

    #[test]
    fn sequences_print_both_lsns_in_decimal() {
        assert_eq!(
            sequence(Some(Lsn(650)), Lsn(700)).as_str(),
            r#"["650","700"]"#
        );
        assert_eq!(sequence(None, Lsn(0)).as_str(), r#"[null,"0"]"#);
        let widest = sequence(Some(Lsn(u64::MAX)), Lsn(u64::MAX));
        assert_eq!(widest.as_str(), format!(r#"["{0}","{0}"]"#, u64::MAX));
    }

    /// The positional source block equals the one built field by field from the shared
    /// `SourceCommon`, so a change to the source schema cannot silently shift values.
    #[test]
    fn source_block_matches_the_common_builder() {
        let config = crate::config::tests_support::minimal();
        let factory = EventFactory::new(&config);
        for (lsn, last_commit, tx_id, xmin) in [
            (Some(Lsn(700)), Some(Lsn(650)), Some(42), Some(9)),
            (Some(Lsn(700)), None, None, None),
            (None, None, None, None),
        ] {
            let facts = SourceFacts {
                snapshot: SnapshotMarker::First,
                event_micros: 1_700_000_000_123_456,
                schema: "public",
                table: "orders",
                tx_id,
                lsn,
                xmin,
                last_commit,
            };
            let common = SourceCommon {
                version: factory.version.clone(),
                connector: CONNECTOR.into(),
                name: factory.prefix.clone(),
                event_time_micros: facts.event_micros,
                snapshot: facts.snapshot,
                db: factory.db.clone(),
                sequence: lsn.map(|lsn| {
                    let last = last_commit.map(|l| format!("\"{}\"", l.0));
                    format!("[{},\"{}\"]", last.as_deref().unwrap_or("null"), lsn.0).into()
                }),
            };
            let expected = common
                .to_struct(
                    &factory.source_schema,
                    [
                        ("schema", Value::String("public".into())),
                        ("table", Value::String("orders".into())),
                        ("txId", tx_id.map_or(Value::Null, Value::Int64)),
                        ("lsn", lsn.map_or(Value::Null, |l| Value::Int64(l.0 as i64))),
                        ("xmin", xmin.map_or(Value::Null, Value::Int64)),
                    ],
                )
                .unwrap();
            assert_eq!(factory.source(&facts).unwrap(), expected);
        }
    }
}
