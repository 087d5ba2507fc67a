//! Reading a sink record as a change: a Debezium envelope (`before`, `after`, `source`, `op`,
//! `ts_ms`), a plain row (ExtractNewRecordState already unwrapped it), or a schemaless map
//! of either shape (JSON without schemas). [`Change`] borrows from the record: nothing is
//! copied per event.

use std::fmt;

use sluice_connect::api::SinkRecord;
use sluice_schemas::{SchemaRef, SchemaType, Struct, Value};

/// The row image of a change.
#[derive(Debug, Clone, Copy)]
pub enum Row<'a> {
    Struct(&'a Struct),
    /// A schemaless row: a map with string keys.
    Map(&'a [(Value, Value)]),
    /// No row (a truncate event).
    Absent,
}

/// What a change does to the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Insert, update or snapshot read: the row is the current state of its key.
    Upsert,
    /// The row (the before image) is gone.
    Delete,
    /// Every row of the table is gone.
    Truncate,
}

/// Where in the source's log a change happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position<'a> {
    /// A Postgres LSN, written as Postgres does (`16/B374D848`).
    Lsn(i64),
    /// A binlog file and position, written `file:pos`.
    Binlog(&'a str, i64),
}

impl fmt::Display for Position<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Lsn(lsn) => write!(f, "{:X}/{:X}", (*lsn as u64) >> 32, *lsn as u32),
            Position::Binlog(file, pos) => write!(f, "{file}:{pos}"),
        }
    }
}

/// One record read as a change event.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub record: &'a SinkRecord,
    pub row: Row<'a>,
    /// The schema of struct rows (the envelope's row schema, so known even for truncates).
    pub row_schema: Option<&'a SchemaRef>,
    pub effect: Effect,
    pub op: Option<&'a str>,
    pub ts_ms: Option<i64>,
    pub source_ts_ms: Option<i64>,
    pub position: Option<Position<'a>>,
}

impl<'a> Change<'a> {
    /// The change a record carries; `None` for tombstones and for events that change no
    /// row (Postgres logical messages).
    pub fn of(record: &'a SinkRecord) -> Option<Change<'a>> {
        match &record.value.value {
            Value::Null => None,
            Value::Struct(value) if is_envelope(value) => from_envelope(record, value),
            Value::Struct(row) => Some(plain(
                record,
                Row::Struct(row),
                Some(row.schema()),
                deleted_flag(row.get("__deleted")),
            )),
            Value::Map(entries) if is_map_envelope(entries) => from_map_envelope(record, entries),
            Value::Map(entries) => Some(plain(
                record,
                Row::Map(entries),
                None,
                deleted_flag(map_get(entries, "__deleted")),
            )),
            _ => None,
        }
    }

    pub fn deleted(&self) -> bool {
        self.effect != Effect::Upsert
    }
}

fn plain<'a>(
    record: &'a SinkRecord,
    row: Row<'a>,
    row_schema: Option<&'a SchemaRef>,
    deleted: bool,
) -> Change<'a> {
    Change {
        record,
        row,
        row_schema,
        effect: if deleted {
            Effect::Delete
        } else {
            Effect::Upsert
        },
        op: None,
        ts_ms: None,
        source_ts_ms: None,
        position: None,
    }
}

/// ExtractNewRecordState's `__deleted` (a "true"/"false" string, or a boolean).
fn deleted_flag(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Boolean(flag)) => *flag,
        Some(Value::String(text)) => text == "true",
        _ => false,
    }
}

fn is_envelope(value: &Struct) -> bool {
    let schema = value.schema();
    ["before", "after", "op"]
        .iter()
        .all(|name| schema.field(name).is_some())
}

fn from_envelope<'a>(record: &'a SinkRecord, value: &'a Struct) -> Option<Change<'a>> {
    let op = value.get("op").and_then(Value::as_str);
    let effect = effect_of(op)?;
    let image = if effect == Effect::Delete {
        "before"
    } else {
        "after"
    };
    let row = match value.get(image) {
        Some(Value::Struct(row)) => Row::Struct(row),
        _ => Row::Absent,
    };
    let row_schema = value
        .schema()
        .field("after")
        .map(|field| field.schema())
        .filter(|schema| schema.schema_type() == SchemaType::Struct);
    let source = value.get("source").and_then(Value::as_struct);
    Some(Change {
        record,
        row,
        row_schema,
        effect,
        op,
        ts_ms: value.get("ts_ms").and_then(Value::as_i64),
        source_ts_ms: source.and_then(|s| s.get("ts_ms")).and_then(Value::as_i64),
        position: source.and_then(|s| position(|name| s.get(name))),
    })
}

/// The effect of an `op` code; `None` for events that change no row.
fn effect_of(op: Option<&str>) -> Option<Effect> {
    match op {
        Some("d") => Some(Effect::Delete),
        Some("t") => Some(Effect::Truncate),
        Some("m") => None,
        _ => Some(Effect::Upsert),
    }
}

fn position<'a>(field: impl Fn(&str) -> Option<&'a Value>) -> Option<Position<'a>> {
    if let Some(lsn) = field("lsn").and_then(Value::as_i64) {
        return Some(Position::Lsn(lsn));
    }
    let file = field("file").and_then(Value::as_str)?;
    let pos = field("pos").and_then(Value::as_i64)?;
    Some(Position::Binlog(file, pos))
}

/// The value under a string key of a schemaless map.
pub fn map_get<'a>(entries: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    entries
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
}

fn is_map_envelope(entries: &[(Value, Value)]) -> bool {
    map_get(entries, "op").is_some_and(|op| op.as_str().is_some())
        && (map_get(entries, "after").is_some() || map_get(entries, "before").is_some())
}

fn from_map_envelope<'a>(
    record: &'a SinkRecord,
    entries: &'a [(Value, Value)],
) -> Option<Change<'a>> {
    let op = map_get(entries, "op").and_then(Value::as_str);
    let effect = effect_of(op)?;
    let image = if effect == Effect::Delete {
        "before"
    } else {
        "after"
    };
    let row = match map_get(entries, image) {
        Some(Value::Map(row)) => Row::Map(row),
        _ => Row::Absent,
    };
    let source = match map_get(entries, "source") {
        Some(Value::Map(source)) => Some(source.as_slice()),
        _ => None,
    };
    Some(Change {
        record,
        row,
        row_schema: None,
        effect,
        op,
        ts_ms: map_get(entries, "ts_ms").and_then(Value::as_i64),
        source_ts_ms: source
            .and_then(|s| map_get(s, "ts_ms"))
            .and_then(Value::as_i64),
        position: source.and_then(|s| position(|name| map_get(s, name))),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use sluice_broker::{Offset, PartitionId};
    use sluice_connect::api::{Headers, SchemaAndValue};
    use sluice_schemas::envelope::{EpochNanos, Op, TableEnvelope};
    use sluice_schemas::schema::{INT32_SCHEMA, OPTIONAL_STRING_SCHEMA};
    use sluice_schemas::source::{SnapshotMarker, SourceCommon, SourceSchemaBuilder};

    pub fn customers() -> TableEnvelope {
        TableEnvelope::new(
            "db.inv.customers",
            &[("id".into(), INT32_SCHEMA.clone())],
            &[
                ("id".into(), INT32_SCHEMA.clone()),
                ("email".into(), OPTIONAL_STRING_SCHEMA.clone()),
            ],
            SourceSchemaBuilder::postgres(),
        )
    }

    pub fn record(offset: i64, key: SchemaAndValue, value: SchemaAndValue) -> SinkRecord {
        SinkRecord {
            topic: "db.inv.customers".into(),
            partition: PartitionId(0),
            offset: Offset(offset),
            key,
            value,
            headers: Headers::new(),
            timestamp_ms: 1_700_000_000_000,
        }
    }

    /// A Postgres-shaped envelope record for customer `id`.
    pub fn pg_event(
        table: &TableEnvelope,
        offset: i64,
        op: Op,
        id: i32,
        email: &str,
    ) -> SinkRecord {
        let row = table.row(vec![id.into(), email.into()]).unwrap();
        let (before, after) = match op {
            Op::Delete => (Some(row), None),
            _ => (None, Some(row)),
        };
        let common = SourceCommon {
            version: "0.1.0".into(),
            connector: "postgresql".into(),
            name: "db".into(),
            event_time_micros: 1_700_000_000_000_000,
            snapshot: SnapshotMarker::False,
            db: "inv".into(),
            sequence: None,
        };
        let source = common
            .to_struct(
                table.source_schema(),
                [
                    ("schema", Value::from("public")),
                    ("table", Value::from("customers")),
                    ("lsn", Value::Int64(0x16_B374_D848)),
                ],
            )
            .unwrap();
        let value = table
            .value(
                op,
                before,
                after,
                source,
                EpochNanos(1_700_000_000_123_000_000),
                None,
            )
            .unwrap();
        let key = table.key(vec![id.into()]).unwrap();
        record(
            offset,
            SchemaAndValue::with_schema(table.key_schema().unwrap().clone(), key),
            SchemaAndValue::with_schema(table.envelope_schema().clone(), value),
        )
    }

    #[test]
    fn envelopes_give_the_after_image_or_the_before_image_of_deletes() {
        let table = customers();
        let insert = pg_event(&table, 0, Op::Create, 1, "a@x");
        let change = Change::of(&insert).unwrap();
        assert_eq!(change.effect, Effect::Upsert);
        assert_eq!(change.op, Some("c"));
        assert_eq!(change.ts_ms, Some(1_700_000_000_123));
        assert_eq!(change.source_ts_ms, Some(1_700_000_000_000));
        assert_eq!(change.position.unwrap().to_string(), "16/B374D848");
        let Row::Struct(row) = change.row else {
            panic!("no row")
        };
        assert_eq!(row.get("email"), Some(&Value::from("a@x")));

        let delete = pg_event(&table, 1, Op::Delete, 1, "a@x");
        let change = Change::of(&delete).unwrap();
        assert_eq!(change.effect, Effect::Delete);
        assert!(matches!(change.row, Row::Struct(_)));
        assert!(Change::of(&record(2, SchemaAndValue::null(), SchemaAndValue::null())).is_none());
    }

    #[test]
    fn plain_rows_and_schemaless_envelopes_are_understood() {
        let table = customers();
        let row = table.row(vec![5.into(), "e".into()]).unwrap();
        let plain = record(
            0,
            SchemaAndValue::null(),
            SchemaAndValue::with_schema(table.row_schema().clone(), row),
        );
        let change = Change::of(&plain).unwrap();
        assert_eq!(change.effect, Effect::Upsert);
        assert!(change.op.is_none());

        let map = |pairs: Vec<(&str, Value)>| {
            Value::Map(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
        };
        let envelope = map(vec![
            ("before", map(vec![("id", Value::Int64(5))])),
            ("after", Value::Null),
            (
                "source",
                map(vec![
                    ("file", "mysql-bin.000003".into()),
                    ("pos", Value::Int64(154)),
                ]),
            ),
            ("op", "d".into()),
        ]);
        let schemaless = record(
            1,
            SchemaAndValue::null(),
            SchemaAndValue::new(None, envelope),
        );
        let change = Change::of(&schemaless).unwrap();
        assert_eq!(change.effect, Effect::Delete);
        assert!(matches!(change.row, Row::Map(_)));
        assert_eq!(change.position.unwrap().to_string(), "mysql-bin.000003:154");
    }
}
