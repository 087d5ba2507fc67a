//! Debezium-shaped change events for transform tests, built with the schemas crate's
//! envelope builder: a Postgres `inventory.customers` table.

#![allow(dead_code)]

use serde_json::json;
use sluice_connect::api::{OffsetMap, SchemaAndValue, SourceRecord};
use sluice_connect::config::Props;
use sluice_schemas::envelope::{EpochNanos, Op, TableEnvelope, TransactionBlock};
use sluice_schemas::schema::{INT32_SCHEMA, OPTIONAL_STRING_SCHEMA, STRING_SCHEMA};
use sluice_schemas::source::{SnapshotMarker, SourceCommon, SourceSchemaBuilder};
use sluice_schemas::{Struct, Value};

pub const TOPIC: &str = "dbserver1.inventory.customers";
pub const LSN: i64 = 24_023_128;
pub const EVENT_TIME_MICROS: i64 = 1_700_000_000_123_456;

pub fn props(pairs: &[(&str, &str)]) -> Props {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The customers table: `id` (key), `first_name`, `email` (nullable).
pub struct Customers {
    pub table: TableEnvelope,
}

impl Default for Customers {
    fn default() -> Self {
        let table = TableEnvelope::new(
            "dbserver1.inventory.customers",
            &[("id".into(), INT32_SCHEMA.clone())],
            &[
                ("id".into(), INT32_SCHEMA.clone()),
                ("first_name".into(), STRING_SCHEMA.clone()),
                ("email".into(), OPTIONAL_STRING_SCHEMA.clone()),
            ],
            SourceSchemaBuilder::postgres(),
        );
        Self { table }
    }
}

fn offset_map(value: serde_json::Value) -> OffsetMap {
    value.as_object().cloned().unwrap_or_default()
}

impl Customers {
    pub fn row(&self, id: i32, name: &str, email: Option<&str>) -> Struct {
        self.table
            .row(vec![
                id.into(),
                name.into(),
                email.map(str::to_string).into(),
            ])
            .unwrap()
    }

    fn source(&self) -> Struct {
        let common = SourceCommon {
            version: "0.1.0".into(),
            connector: "postgresql".into(),
            name: "dbserver1".into(),
            event_time_micros: EVENT_TIME_MICROS,
            snapshot: SnapshotMarker::False,
            db: "postgres".into(),
            sequence: None,
        };
        common
            .to_struct(
                self.table.source_schema(),
                [
                    ("schema", Value::from("inventory")),
                    ("table", Value::from("customers")),
                    ("txId", Value::Int64(555)),
                    ("lsn", Value::Int64(LSN)),
                ],
            )
            .unwrap()
    }

    fn record(&self, id: i32, value: SchemaAndValue) -> SourceRecord {
        let key = self.table.key(vec![id.into()]).unwrap();
        SourceRecord::new(
            offset_map(json!({"server": "dbserver1"})),
            offset_map(json!({"lsn": LSN})),
            TOPIC,
            SchemaAndValue::with_schema(self.table.key_schema().unwrap().clone(), key),
            value,
        )
    }

    /// A change event; `transaction` fills the envelope's `transaction` block.
    pub fn event(
        &self,
        op: Op,
        before: Option<Struct>,
        after: Option<Struct>,
        transaction: Option<&TransactionBlock>,
    ) -> SourceRecord {
        let id = after
            .as_ref()
            .or(before.as_ref())
            .and_then(|row| row.get("id").and_then(Value::as_i64))
            .unwrap_or(0) as i32;
        let envelope = self
            .table
            .value(
                op,
                before,
                after,
                self.source(),
                EpochNanos(1_700_000_001_000_000_000),
                transaction,
            )
            .unwrap();
        self.record(
            id,
            SchemaAndValue::with_schema(self.table.envelope_schema().clone(), envelope),
        )
    }

    pub fn insert(&self, id: i32, name: &str) -> SourceRecord {
        self.event(Op::Create, None, Some(self.row(id, name, None)), None)
    }

    pub fn delete(&self, id: i32, name: &str) -> SourceRecord {
        self.event(
            Op::Delete,
            Some(self.row(id, name, Some("x@y"))),
            None,
            None,
        )
    }

    /// Debezium's tombstone after a delete: the key and a null value.
    pub fn tombstone(&self, id: i32) -> SourceRecord {
        self.record(id, SchemaAndValue::null())
    }
}

/// The value of a flattened record as a struct.
pub fn value_struct(record: &SourceRecord) -> &Struct {
    record.value.value.as_struct().expect("a struct value")
}
