//! The non-row records Debezium connectors emit, with Debezium's schema names and field order:
//! heartbeats (`__debezium-heartbeat.<prefix>`), transaction metadata BEGIN/END
//! (`<prefix>.transaction`) and schema changes (`<prefix>`).

use crate::error::Result;
use crate::schema::{
    INT32_SCHEMA, INT64_SCHEMA, OPTIONAL_BOOLEAN_SCHEMA, OPTIONAL_INT32_SCHEMA,
    OPTIONAL_INT64_SCHEMA, OPTIONAL_STRING_SCHEMA, STRING_SCHEMA, SchemaBuilder, SchemaRef,
};
use crate::value::{Struct, Value};

/// A record's key and value with their schemas; `key` is `None` when the record has no key.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyedRecord {
    pub key: Option<Struct>,
    pub value: Struct,
}

/// Heartbeat key `io.debezium.connector.common.ServerNameKey{serverName}` and value
/// `io.debezium.connector.common.Heartbeat{ts_ms}`.
pub fn heartbeat(server_name: &str, ts_ms: i64) -> Result<KeyedRecord> {
    let key_schema = SchemaBuilder::struct_()
        .name("io.debezium.connector.common.ServerNameKey")
        .version(1)
        .field("serverName", STRING_SCHEMA.clone())
        .build();
    let value_schema = SchemaBuilder::struct_()
        .name("io.debezium.connector.common.Heartbeat")
        .version(1)
        .field("ts_ms", INT64_SCHEMA.clone())
        .build();
    Ok(KeyedRecord {
        key: Some(Struct::new(key_schema).with("serverName", server_name)?),
        value: Struct::new(value_schema).with("ts_ms", ts_ms)?,
    })
}

/// Whether a transaction-metadata record opens or closes a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionStatus {
    Begin,
    End,
}

impl TransactionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionStatus::Begin => "BEGIN",
            TransactionStatus::End => "END",
        }
    }
}

/// Schemas of the transaction topic's records, built once per connector.
#[derive(Debug, Clone)]
pub struct TransactionSchemas {
    key: SchemaRef,
    value: SchemaRef,
    collection: SchemaRef,
}

impl Default for TransactionSchemas {
    fn default() -> Self {
        Self::new()
    }
}

impl TransactionSchemas {
    pub fn new() -> TransactionSchemas {
        let key = SchemaBuilder::struct_()
            .name("io.debezium.connector.common.TransactionMetadataKey")
            .version(1)
            .field("id", STRING_SCHEMA.clone())
            .build();
        let collection = SchemaBuilder::struct_()
            .optional()
            .name("event.collection")
            .version(1)
            .field("data_collection", STRING_SCHEMA.clone())
            .field("event_count", INT64_SCHEMA.clone())
            .build();
        let value = SchemaBuilder::struct_()
            .name("io.debezium.connector.common.TransactionMetadataValue")
            .version(1)
            .field("status", STRING_SCHEMA.clone())
            .field("id", STRING_SCHEMA.clone())
            .field("event_count", OPTIONAL_INT64_SCHEMA.clone())
            .field(
                "data_collections",
                SchemaBuilder::array(collection.clone()).optional().build(),
            )
            .field("ts_ms", INT64_SCHEMA.clone())
            .build();
        TransactionSchemas {
            key,
            value,
            collection,
        }
    }

    /// A BEGIN record (no counts).
    pub fn begin(&self, id: &str, ts_ms: i64) -> Result<KeyedRecord> {
        self.record(TransactionStatus::Begin, id, None, ts_ms)
    }

    /// An END record with the number of events per table (`<db>.<table>`, count).
    pub fn end(&self, id: &str, per_table: &[(String, i64)], ts_ms: i64) -> Result<KeyedRecord> {
        self.record(TransactionStatus::End, id, Some(per_table), ts_ms)
    }

    fn record(
        &self,
        status: TransactionStatus,
        id: &str,
        per_table: Option<&[(String, i64)]>,
        ts_ms: i64,
    ) -> Result<KeyedRecord> {
        let mut value = Struct::new(self.value.clone())
            .with("status", status.as_str())?
            .with("id", id)?
            .with("ts_ms", ts_ms)?;
        if let Some(per_table) = per_table {
            let mut collections = Vec::with_capacity(per_table.len());
            for (table, count) in per_table {
                let entry = Struct::new(self.collection.clone())
                    .with("data_collection", table.as_str())?
                    .with("event_count", *count)?;
                collections.push(Value::Struct(entry));
            }
            value.put("event_count", per_table.iter().map(|(_, c)| c).sum::<i64>())?;
            value.put("data_collections", Value::Array(collections))?;
        }
        Ok(KeyedRecord {
            key: Some(Struct::new(self.key.clone()).with("id", id)?),
            value,
        })
    }
}

/// One column of a table in a schema-change record (`io.debezium.connector.schema.Column`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ColumnChange {
    pub name: String,
    /// `java.sql.Types` code.
    pub jdbc_type: i32,
    pub native_type: Option<i32>,
    pub type_name: String,
    pub type_expression: Option<String>,
    pub charset_name: Option<String>,
    pub length: Option<i32>,
    pub scale: Option<i32>,
    /// 1-based position.
    pub position: i32,
    pub optional: Option<bool>,
    pub auto_incremented: Option<bool>,
    pub generated: Option<bool>,
    pub comment: Option<String>,
    pub default_value_expression: Option<String>,
    pub enum_values: Option<Vec<String>>,
}

/// One table change in a schema-change record (`io.debezium.connector.schema.Change`).
#[derive(Debug, Clone, PartialEq)]
pub struct TableChange {
    /// `CREATE`, `ALTER` or `DROP`.
    pub change_type: String,
    /// The quoted table id, e.g. `"inventory"."customers"`.
    pub id: String,
    /// The table after the change; `None` for DROP.
    pub table: Option<TableDefinition>,
}

/// A table's definition in a schema-change record (`io.debezium.connector.schema.Table`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableDefinition {
    pub default_charset_name: Option<String>,
    pub primary_key_column_names: Option<Vec<String>>,
    pub columns: Vec<ColumnChange>,
    pub comment: Option<String>,
}

/// Schemas of a connector's schema-change topic, built once per connector.
#[derive(Debug, Clone)]
pub struct SchemaChangeSchemas {
    key: SchemaRef,
    value: SchemaRef,
    change: SchemaRef,
    table: SchemaRef,
    column: SchemaRef,
}

fn strings(items: &[String]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|s| Value::String(s.as_str().into()))
            .collect(),
    )
}

impl SchemaChangeSchemas {
    /// Schemas for `connector` (`mysql`, `postgresql`, …) whose source blocks have `source`.
    pub fn new(connector: &str, source: SchemaRef) -> SchemaChangeSchemas {
        let optional_strings = || {
            SchemaBuilder::array(STRING_SCHEMA.clone())
                .optional()
                .build()
        };
        let key = SchemaBuilder::struct_()
            .name(format!("io.debezium.connector.{connector}.SchemaChangeKey"))
            .version(1)
            .field("databaseName", STRING_SCHEMA.clone())
            .build();
        let column = SchemaBuilder::struct_()
            .name("io.debezium.connector.schema.Column")
            .version(1)
            .field("name", STRING_SCHEMA.clone())
            .field("jdbcType", INT32_SCHEMA.clone())
            .field("nativeType", OPTIONAL_INT32_SCHEMA.clone())
            .field("typeName", STRING_SCHEMA.clone())
            .field("typeExpression", OPTIONAL_STRING_SCHEMA.clone())
            .field("charsetName", OPTIONAL_STRING_SCHEMA.clone())
            .field("length", OPTIONAL_INT32_SCHEMA.clone())
            .field("scale", OPTIONAL_INT32_SCHEMA.clone())
            .field("position", INT32_SCHEMA.clone())
            .field("optional", OPTIONAL_BOOLEAN_SCHEMA.clone())
            .field("autoIncremented", OPTIONAL_BOOLEAN_SCHEMA.clone())
            .field("generated", OPTIONAL_BOOLEAN_SCHEMA.clone())
            .field("comment", OPTIONAL_STRING_SCHEMA.clone())
            .field("defaultValueExpression", OPTIONAL_STRING_SCHEMA.clone())
            .field("enumValues", optional_strings())
            .build();
        let table = SchemaBuilder::struct_()
            .name("io.debezium.connector.schema.Table")
            .version(1)
            .field("defaultCharsetName", OPTIONAL_STRING_SCHEMA.clone())
            .field("primaryKeyColumnNames", optional_strings())
            .field("columns", SchemaBuilder::array(column.clone()).build())
            .field("comment", OPTIONAL_STRING_SCHEMA.clone())
            .optional()
            .build();
        let change = SchemaBuilder::struct_()
            .name("io.debezium.connector.schema.Change")
            .version(1)
            .field("type", STRING_SCHEMA.clone())
            .field("id", STRING_SCHEMA.clone())
            .field("table", table.clone())
            .build();
        let value = SchemaBuilder::struct_()
            .name(format!(
                "io.debezium.connector.{connector}.SchemaChangeValue"
            ))
            .version(1)
            .field("source", source)
            .field("ts_ms", INT64_SCHEMA.clone())
            .field("databaseName", OPTIONAL_STRING_SCHEMA.clone())
            .field("schemaName", OPTIONAL_STRING_SCHEMA.clone())
            .field("ddl", OPTIONAL_STRING_SCHEMA.clone())
            .field("tableChanges", SchemaBuilder::array(change.clone()).build())
            .build();
        SchemaChangeSchemas {
            key,
            value,
            change,
            table,
            column,
        }
    }

    /// A schema-change record: `source` is a struct of the connector's source schema.
    pub fn record(
        &self,
        source: Struct,
        ts_ms: i64,
        database: &str,
        schema_name: Option<&str>,
        ddl: &str,
        changes: &[TableChange],
    ) -> Result<KeyedRecord> {
        let mut table_changes = Vec::with_capacity(changes.len());
        for change in changes {
            let table = match &change.table {
                Some(t) => Value::Struct(self.table_struct(t)?),
                None => Value::Null,
            };
            let entry = Struct::new(self.change.clone())
                .with("type", change.change_type.as_str())?
                .with("id", change.id.as_str())?
                .with("table", table)?;
            table_changes.push(Value::Struct(entry));
        }
        let value = Struct::new(self.value.clone())
            .with("source", source)?
            .with("ts_ms", ts_ms)?
            .with("databaseName", database)?
            .with("schemaName", schema_name)?
            .with("ddl", ddl)?
            .with("tableChanges", Value::Array(table_changes))?;
        let key = Struct::new(self.key.clone()).with("databaseName", database)?;
        Ok(KeyedRecord {
            key: Some(key),
            value,
        })
    }

    fn table_struct(&self, t: &TableDefinition) -> Result<Struct> {
        let mut columns = Vec::with_capacity(t.columns.len());
        for c in &t.columns {
            let column = Struct::new(self.column.clone())
                .with("name", c.name.as_str())?
                .with("jdbcType", c.jdbc_type)?
                .with("nativeType", c.native_type)?
                .with("typeName", c.type_name.as_str())?
                .with("typeExpression", c.type_expression.clone())?
                .with("charsetName", c.charset_name.clone())?
                .with("length", c.length)?
                .with("scale", c.scale)?
                .with("position", c.position)?
                .with("optional", c.optional)?
                .with("autoIncremented", c.auto_incremented)?
                .with("generated", c.generated)?
                .with("comment", c.comment.clone())?
                .with("defaultValueExpression", c.default_value_expression.clone())?
                .with(
                    "enumValues",
                    c.enum_values.as_deref().map_or(Value::Null, strings),
                )?;
            columns.push(Value::Struct(column));
        }
        Struct::new(self.table.clone())
            .with("defaultCharsetName", t.default_charset_name.clone())?
            .with(
                "primaryKeyColumnNames",
                t.primary_key_column_names
                    .as_deref()
                    .map_or(Value::Null, strings),
            )?
            .with("columns", Value::Array(columns))?
            .with("comment", t.comment.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_shapes() {
        let r = heartbeat("dbserver1", 1_700_000_000_000).unwrap();
        let key = r.key.unwrap();
        assert_eq!(
            key.schema().name(),
            Some("io.debezium.connector.common.ServerNameKey")
        );
        assert_eq!(key.get("serverName"), Some(&Value::from("dbserver1")));
        assert_eq!(
            r.value.schema().name(),
            Some("io.debezium.connector.common.Heartbeat")
        );
    }

    #[test]
    fn transaction_end_counts_events() {
        let schemas = TransactionSchemas::new();
        let begin = schemas.begin("571:53195829", 1).unwrap();
        assert_eq!(begin.value.get("event_count"), Some(&Value::Null));
        let per_table = [("s1.a".to_string(), 1), ("s1.b".to_string(), 1)];
        let end = schemas.end("571:53195829", &per_table, 2).unwrap();
        assert_eq!(end.value.get("status"), Some(&Value::from("END")));
        assert_eq!(end.value.get("event_count"), Some(&Value::Int64(2)));
        end.value.validate().unwrap();
    }
}
