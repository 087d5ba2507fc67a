//! Change records of one table: the envelope value with its key, the tombstone after a
//! delete, and the delete + tombstone + create triple (with Debezium's
//! `__debezium.oldkey` / `__debezium.newkey` headers) when an update changes the key.

use sluice_connect::api::{SchemaAndValue, SharedOffsetMap, SourcePosition, SourceRecord};
use sluice_schemas::envelope::{EpochNanos, Op};
use sluice_schemas::{Struct, Value};

use crate::config::Tombstones;
use crate::error::{Error, Result};
use crate::offset::{RowKey, stream_position};
use crate::table::TableMapping;

/// The header Debezium puts on the delete of a key change, holding the new key.
pub const NEW_KEY_HEADER: &str = "__debezium.newkey";
/// The header Debezium puts on the create of a key change, holding the old key.
pub const OLD_KEY_HEADER: &str = "__debezium.oldkey";

/// Where the records of one row go and how they are placed in the stream.
#[derive(Debug)]
pub struct RowOrigin<'a> {
    pub partition: &'a SharedOffsetMap,
    pub offset: SharedOffsetMap,
    /// Where the row sits; its records are numbered from 0 within it.
    pub place: RowPlace<'a>,
    pub timestamp_ms: i64,
    /// When the connector processed the change (the envelope's `ts_ms`/`ts_us`/`ts_ns`): the
    /// caller reads the clock once for all the rows of one event.
    pub processed_at: EpochNanos,
}

/// A row's place in the task's stream, which gives its records their positions.
#[derive(Debug, Clone, Copy)]
pub enum RowPlace<'a> {
    Stream(RowKey),
    /// A snapshot row: one record (op `r`) at this position.
    Snapshot(&'a SourcePosition),
}

impl RowPlace<'_> {
    fn position(self, sub: u64) -> SourcePosition {
        match self {
            Self::Stream(key) => stream_position(key, sub),
            Self::Snapshot(position) => {
                debug_assert_eq!(sub, 0, "a snapshot row makes one record");
                position.clone()
            }
        }
    }
}

/// One row change, already converted to row structs.
#[derive(Debug)]
pub enum RowChange {
    Read(Struct),
    Insert(Struct),
    Update { before: Struct, after: Struct },
    Delete(Struct),
}

fn key_value(mapping: &TableMapping, key: Option<Struct>) -> SchemaAndValue {
    match (mapping.envelope().key_schema(), key) {
        (Some(schema), Some(key)) => SchemaAndValue::with_schema(schema.clone(), key),
        _ => SchemaAndValue::null(),
    }
}

fn schema_error(mapping: &TableMapping, source: sluice_schemas::Error) -> Error {
    Error::Schema {
        table: mapping.topic().to_string(),
        source,
    }
}

/// Appends the records of one row change to `out`; `keys` are the before/after keys (an
/// insert or read needs only the after key, a delete only the before key). The origin's
/// offset goes to the last record, copies of it to the others.
#[allow(clippy::too_many_arguments)]
pub fn push_change(
    out: &mut Vec<SourceRecord>,
    mapping: &TableMapping,
    change: RowChange,
    keys: (Option<Struct>, Option<Struct>),
    source: Struct,
    tombstones: Tombstones,
    origin: RowOrigin<'_>,
) -> Result<()> {
    let first = out.len();
    let envelope = mapping.envelope();
    let value_schema = envelope.envelope_schema().clone();
    let now = origin.processed_at;
    let mut sub = 0;
    let mut record = |key: SchemaAndValue, value: SchemaAndValue| {
        let record = SourceRecord::new(
            origin.partition.clone(),
            SharedOffsetMap::empty(),
            mapping.topic().clone(),
            key,
            value,
        )
        .with_position(origin.place.position(sub))
        .with_timestamp_ms(origin.timestamp_ms);
        sub += 1;
        record
    };
    let envelope_value = |op, before, after, source| -> Result<SchemaAndValue> {
        let value = envelope
            .value(op, before, after, source, now, None)
            .map_err(|e| schema_error(mapping, e))?;
        Ok(SchemaAndValue::with_schema(
            value_schema.clone(),
            Value::Struct(value),
        ))
    };
    let (old_key, new_key) = keys;
    match change {
        RowChange::Read(row) => {
            let value = envelope_value(Op::Read, None, Some(row), source)?;
            out.push(record(key_value(mapping, new_key), value));
        }
        RowChange::Insert(row) => {
            let value = envelope_value(Op::Create, None, Some(row), source)?;
            out.push(record(key_value(mapping, new_key), value));
        }
        RowChange::Delete(row) => {
            let value = envelope_value(Op::Delete, Some(row), None, source)?;
            out.push(record(key_value(mapping, old_key.clone()), value));
            if tombstones == Tombstones::Emit && old_key.is_some() {
                out.push(record(key_value(mapping, old_key), SchemaAndValue::null()));
            }
        }
        RowChange::Update { before, after } if old_key != new_key => {
            let old = key_value(mapping, old_key.clone());
            let new = key_value(mapping, new_key.clone());
            let delete_value = envelope_value(Op::Delete, Some(before), None, source.clone())?;
            let mut delete = record(old.clone(), delete_value);
            delete
                .headers
                .add(NEW_KEY_HEADER, new.schema.clone(), new.value.clone());
            out.push(delete);
            if tombstones == Tombstones::Emit && old_key.is_some() {
                out.push(record(old.clone(), SchemaAndValue::null()));
            }
            let create_value = envelope_value(Op::Create, None, Some(after), source)?;
            let mut create = record(new, create_value);
            create.headers.add(OLD_KEY_HEADER, old.schema, old.value);
            out.push(create);
        }
        RowChange::Update { before, after } => {
            let value = envelope_value(Op::Update, Some(before), Some(after), source)?;
            out.push(record(key_value(mapping, new_key), value));
        }
    }
    let mut offset = Some(origin.offset);
    let last = out.len().saturating_sub(1);
    for (index, record) in out.iter_mut().enumerate().skip(first) {
        record.source_offset = if index == last {
            offset.take().unwrap_or_default()
        } else {
            offset.clone().unwrap_or_default()
        };
    }
    Ok(())
}

/// The key and value of a record without a table (heartbeat, transaction, …) with their
/// schemas; no key is a null key.
pub fn keyed_parts(
    keyed: sluice_schemas::records::KeyedRecord,
) -> (SchemaAndValue, SchemaAndValue) {
    let key = keyed
        .key
        .map(|k| SchemaAndValue::with_schema(k.schema().clone(), Value::Struct(k)))
        .unwrap_or_else(SchemaAndValue::null);
    let value =
        SchemaAndValue::with_schema(keyed.value.schema().clone(), Value::Struct(keyed.value));
    (key, value)
}
