//! The Debezium change-event envelope: per table, a key schema `<prefix>.<db>.<table>.Key`, a row
//! schema `….Value` and the envelope `….Envelope` with fields in Debezium's order (`before`,
//! `after`, `source`, `op`, `ts_ms`, `ts_us`, `ts_ns`, `transaction`). [`TableEnvelope`] builds the
//! schemas once per table (version) and then makes event values cheaply: no validation of what it
//! put together itself, only a pointer check of the row structs it is given.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::schema::{INT64_SCHEMA, OPTIONAL_INT64_SCHEMA, STRING_SCHEMA, SchemaBuilder, SchemaRef};
use crate::value::{Struct, Value, validate_value};

/// The version Debezium gives envelope schemas (since ts_us/ts_ns joined them).
pub const ENVELOPE_SCHEMA_VERSION: i32 = 2;
/// The schema name of the `transaction` block.
pub const TRANSACTION_BLOCK: &str = "event.block";

/// The kind of change (`op`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `c`: a row was inserted.
    Create,
    /// `u`: a row was updated.
    Update,
    /// `d`: a row was deleted.
    Delete,
    /// `r`: a row was read by a snapshot.
    Read,
    /// `t`: a table was truncated.
    Truncate,
    /// `m`: a logical decoding message (Postgres).
    Message,
}

impl Op {
    pub fn code(self) -> &'static str {
        match self {
            Op::Create => "c",
            Op::Update => "u",
            Op::Delete => "d",
            Op::Read => "r",
            Op::Truncate => "t",
            Op::Message => "m",
        }
    }

    pub fn from_code(code: &str) -> Option<Op> {
        Some(match code {
            "c" => Op::Create,
            "u" => Op::Update,
            "d" => Op::Delete,
            "r" => Op::Read,
            "t" => Op::Truncate,
            "m" => Op::Message,
            _ => return None,
        })
    }
}

/// The `transaction` block of an event (`provide.transaction.metadata=true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionBlock {
    pub id: String,
    /// Position of the event among all events of the transaction, from 1.
    pub total_order: i64,
    /// Position of the event among the transaction's events for the same table, from 1.
    pub data_collection_order: i64,
}

/// The schema of the `transaction` block.
pub fn transaction_block_schema() -> SchemaRef {
    SchemaBuilder::struct_()
        .optional()
        .name(TRANSACTION_BLOCK)
        .version(1)
        .field("id", STRING_SCHEMA.clone())
        .field("total_order", INT64_SCHEMA.clone())
        .field("data_collection_order", INT64_SCHEMA.clone())
        .build()
}

/// When the connector processed an event, in nanoseconds since the epoch (`ts_ms/us/ns`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EpochNanos(pub i64);

impl EpochNanos {
    /// The current wall-clock time.
    pub fn now() -> EpochNanos {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        EpochNanos(i64::try_from(since.as_nanos()).unwrap_or(i64::MAX))
    }
}

/// The schemas of one table's change events, built once; makes keys and envelope values.
#[derive(Debug, Clone)]
pub struct TableEnvelope {
    key: Option<SchemaRef>,
    row: SchemaRef,
    envelope: SchemaRef,
    transaction: SchemaRef,
}

impl TableEnvelope {
    /// Schemas for the table whose records are named `<record_prefix>.Key/Value/Envelope`
    /// (`record_prefix` is `<topic.prefix>.<db or schema>.<table>`). `key_fields` are the
    /// primary-key columns (empty: the table has no key, events have a null key); `row_fields`
    /// all columns; `source` the connector's source schema.
    pub fn new(
        record_prefix: &str,
        key_fields: &[(String, SchemaRef)],
        row_fields: &[(String, SchemaRef)],
        source: SchemaRef,
    ) -> TableEnvelope {
        let key = (!key_fields.is_empty()).then(|| {
            let builder = SchemaBuilder::struct_().name(format!("{record_prefix}.Key"));
            key_fields
                .iter()
                .fold(builder, |b, (n, s)| b.field(n.clone(), s.clone()))
                .build()
        });
        let row_builder = SchemaBuilder::struct_()
            .optional()
            .name(format!("{record_prefix}.Value"));
        let row = row_fields
            .iter()
            .fold(row_builder, |b, (n, s)| b.field(n.clone(), s.clone()))
            .build();
        let transaction = transaction_block_schema();
        let envelope = SchemaBuilder::struct_()
            .name(format!("{record_prefix}.Envelope"))
            .version(ENVELOPE_SCHEMA_VERSION)
            .field("before", row.clone())
            .field("after", row.clone())
            .field("source", source)
            .field("op", STRING_SCHEMA.clone())
            .field("ts_ms", OPTIONAL_INT64_SCHEMA.clone())
            .field("ts_us", OPTIONAL_INT64_SCHEMA.clone())
            .field("ts_ns", OPTIONAL_INT64_SCHEMA.clone())
            .field("transaction", transaction.clone())
            .build();
        TableEnvelope {
            key,
            row,
            envelope,
            transaction,
        }
    }

    /// The key schema; `None` for tables without a primary key.
    pub fn key_schema(&self) -> Option<&SchemaRef> {
        self.key.as_ref()
    }

    /// The row schema (`….Value`), used for `before` and `after`.
    pub fn row_schema(&self) -> &SchemaRef {
        &self.row
    }

    pub fn envelope_schema(&self) -> &SchemaRef {
        &self.envelope
    }

    pub fn source_schema(&self) -> &SchemaRef {
        self.envelope.fields()[2].schema()
    }

    /// A row struct from column values in field order.
    pub fn row(&self, values: Vec<Value>) -> Result<Struct> {
        Struct::from_values(self.row.clone(), values)
    }

    /// A key struct from key-column values in field order.
    pub fn key(&self, values: Vec<Value>) -> Result<Struct> {
        match &self.key {
            Some(schema) => Struct::from_values(schema.clone(), values),
            None => Err(self.no_key()),
        }
    }

    /// A row struct from column values in field order that the caller converted by the row
    /// schema's own field schemas, in one allocation (see [`Struct::from_built_values`]: only
    /// the count is checked in release builds).
    pub fn built_row<I>(&self, values: I) -> Result<Struct>
    where
        I: IntoIterator<Item = Value>,
        I::IntoIter: ExactSizeIterator,
    {
        Struct::from_built_values(self.row.clone(), values)
    }

    /// A key struct from key-column values in field order, built as [`TableEnvelope::built_row`].
    pub fn built_key<I>(&self, values: I) -> Result<Struct>
    where
        I: IntoIterator<Item = Value>,
        I::IntoIter: ExactSizeIterator,
    {
        match &self.key {
            Some(schema) => Struct::from_built_values(schema.clone(), values),
            None => Err(self.no_key()),
        }
    }

    fn no_key(&self) -> Error {
        Error::InvalidSchema {
            name: self.envelope.name().map(str::to_string),
            reason: "the table has no primary key, so its events have no key".to_string(),
        }
    }

    fn check_row(&self, row: &Option<Struct>, path: &str) -> Result<()> {
        match row {
            Some(s) if !Arc::ptr_eq(s.schema(), &self.row) => {
                validate_value(&self.row, &Value::Struct(s.clone()), path)
            }
            _ => Ok(()),
        }
    }

    /// An envelope value. `before`/`after` must be structs of [`TableEnvelope::row_schema`];
    /// `source` a struct of the source schema.
    pub fn value(
        &self,
        op: Op,
        before: Option<Struct>,
        after: Option<Struct>,
        source: Struct,
        processed_at: EpochNanos,
        transaction: Option<&TransactionBlock>,
    ) -> Result<Struct> {
        self.check_row(&before, "before")?;
        self.check_row(&after, "after")?;
        if !Arc::ptr_eq(source.schema(), self.source_schema()) {
            validate_value(
                self.source_schema(),
                &Value::Struct(source.clone()),
                "source",
            )?;
        }
        let transaction = match transaction {
            Some(t) => Value::Struct(Struct::from_trusted_values(
                self.transaction.clone(),
                [
                    Value::String(t.id.as_str().into()),
                    Value::Int64(t.total_order),
                    Value::Int64(t.data_collection_order),
                ],
            )),
            None => Value::Null,
        };
        let nanos = processed_at.0;
        // An array: the envelope's values are allocated once, in the struct.
        let values = [
            before.map_or(Value::Null, Value::Struct),
            after.map_or(Value::Null, Value::Struct),
            Value::Struct(source),
            Value::String(op.code().into()),
            Value::Int64(nanos.div_euclid(1_000_000)),
            Value::Int64(nanos.div_euclid(1_000)),
            Value::Int64(nanos),
            transaction,
        ];
        Ok(Struct::from_trusted_values(self.envelope.clone(), values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{INT32_SCHEMA, OPTIONAL_STRING_SCHEMA};
    use crate::source::{SnapshotMarker, SourceCommon, SourceSchemaBuilder};

    fn customers() -> TableEnvelope {
        TableEnvelope::new(
            "dbserver1.inventory.customers",
            &[("id".into(), INT32_SCHEMA.clone())],
            &[
                ("id".into(), INT32_SCHEMA.clone()),
                ("email".into(), OPTIONAL_STRING_SCHEMA.clone()),
            ],
            SourceSchemaBuilder::mysql(),
        )
    }

    fn source(t: &TableEnvelope) -> Struct {
        let common = SourceCommon {
            version: "0.1.0".into(),
            connector: "mysql".into(),
            name: "dbserver1".into(),
            event_time_micros: 1_000_000,
            snapshot: SnapshotMarker::False,
            db: "inventory".into(),
            sequence: None,
        };
        let extra = [
            ("server_id", Value::Int64(223344)),
            ("file", Value::from("mysql-bin.000003")),
            ("pos", Value::Int64(154)),
            ("row", Value::Int32(0)),
        ];
        common.to_struct(t.source_schema(), extra).unwrap()
    }

    #[test]
    fn envelope_fields_are_in_debezium_order() {
        let t = customers();
        let names: Vec<&str> = t
            .envelope_schema()
            .fields()
            .iter()
            .map(|f| f.name())
            .collect();
        assert_eq!(
            names,
            [
                "before",
                "after",
                "source",
                "op",
                "ts_ms",
                "ts_us",
                "ts_ns",
                "transaction"
            ]
        );
        assert_eq!(
            t.envelope_schema().name(),
            Some("dbserver1.inventory.customers.Envelope")
        );
        assert_eq!(
            t.key_schema().unwrap().name(),
            Some("dbserver1.inventory.customers.Key")
        );
        assert!(t.row_schema().is_optional());
    }

    #[test]
    fn values_carry_op_and_timestamps() {
        let t = customers();
        let after = t.row(vec![1001.into(), "a@b".into()]).unwrap();
        let tx = TransactionBlock {
            id: "tx1".into(),
            total_order: 1,
            data_collection_order: 1,
        };
        let v = t
            .value(
                Op::Create,
                None,
                Some(after),
                source(&t),
                EpochNanos(1_500_000_123),
                Some(&tx),
            )
            .unwrap();
        assert_eq!(v.get("op"), Some(&Value::from("c")));
        assert_eq!(v.get("ts_ms"), Some(&Value::Int64(1500)));
        assert_eq!(v.get("ts_us"), Some(&Value::Int64(1_500_000)));
        assert_eq!(v.get("before"), Some(&Value::Null));
        v.validate().unwrap();
    }

    #[test]
    fn built_rows_and_keys_equal_checked_ones() {
        let t = customers();
        let values = [Value::from(1001), Value::from("a@b")];
        assert_eq!(
            t.built_row(values.iter().cloned()).unwrap(),
            t.row(values.to_vec()).unwrap()
        );
        assert_eq!(
            t.built_key([Value::from(1001)]).unwrap(),
            t.key(vec![Value::from(1001)]).unwrap()
        );
        assert!(t.built_row([Value::from(1001)]).is_err());
    }

    #[test]
    fn foreign_rows_are_rejected() {
        let t = customers();
        let other = SchemaBuilder::struct_()
            .name("x")
            .field("id", INT32_SCHEMA.clone())
            .build();
        let row = Struct::new(other).with("id", 1).unwrap();
        let err = t
            .value(Op::Create, None, Some(row), source(&t), EpochNanos(0), None)
            .unwrap_err();
        assert!(err.to_string().contains("`after`"), "{err}");
        let keyless = TableEnvelope::new("p.d.t", &[], &[], SourceSchemaBuilder::postgres());
        assert!(keyless.key_schema().is_none());
        assert!(keyless.key(vec![]).is_err());
        assert!(keyless.built_key([]).is_err());
        assert_eq!(Op::from_code("t"), Some(Op::Truncate));
    }
}
