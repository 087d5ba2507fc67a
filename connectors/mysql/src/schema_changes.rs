//! DDL into Debezium schema-change records on the `<prefix>` topic: key
//! `SchemaChangeKey{databaseName}`, value `SchemaChangeValue{source, ts_ms, databaseName,
//! schemaName, ddl, tableChanges}`. A table's definition after CREATE/ALTER is read from the
//! catalog right when the DDL is streamed (rows themselves are decoded from the TABLE_MAP,
//! so a later catalog change never alters row events).

use mysql_async::Conn;
use sluice_connect::api::{OffsetMap, SchemaAndValue, SourceRecord};
use sluice_schemas::Value;
use sluice_schemas::envelope::EpochNanos;
use sluice_schemas::records::{ColumnChange, SchemaChangeSchemas, TableChange, TableDefinition};
use sluice_schemas::source::SnapshotMarker;

use crate::ddl::{TableChangeKind, database_of, touched_tables};
use crate::error::{Error, Result};
use crate::filters::TableFilter;
use crate::offset::stream_position;
use crate::snapshot::table_columns;
use crate::source_info::{SourceBuilder, SourceInfo};
use crate::stream::changes::DdlEvent;
use crate::types::ColumnType;

/// Builds schema-change records for one connector.
#[derive(Debug)]
pub struct SchemaChanges {
    topic: String,
    schemas: SchemaChangeSchemas,
    partition: OffsetMap,
}

impl SchemaChanges {
    pub fn new(
        connector: &str,
        topic_prefix: &str,
        source: &SourceBuilder,
        partition: OffsetMap,
    ) -> Self {
        Self {
            topic: topic_prefix.to_owned(),
            schemas: SchemaChangeSchemas::new(connector, source.schema().clone()),
            partition,
        }
    }

    /// The record of one DDL statement, or `None` when it touches no captured table or
    /// database. `catalog` reads the definitions of created and altered tables.
    pub async fn record(
        &self,
        ddl: &DdlEvent,
        filter: &TableFilter,
        source: &SourceBuilder,
        catalog: &mut Conn,
    ) -> Result<Option<SourceRecord>> {
        let touched: Vec<_> = touched_tables(&ddl.query, &ddl.schema)
            .into_iter()
            .filter(|(db, table, _)| filter.includes_table(db, table))
            .collect();
        let database = match touched.first() {
            Some((db, _, _)) => db.clone(),
            None => match database_of(&ddl.query) {
                Some(db) if filter.includes_database(&db) => db,
                _ => return Ok(None),
            },
        };
        let mut changes = Vec::with_capacity(touched.len());
        for (db, table, kind) in &touched {
            let definition = match kind {
                TableChangeKind::Drop => None,
                _ => Some(definition(catalog, db, table).await?),
            };
            changes.push(TableChange {
                change_type: kind.as_str().to_owned(),
                id: format!("\"{db}\".\"{table}\""),
                table: definition,
            });
        }
        let source_struct = source.build(&SourceInfo {
            db: &database,
            table: touched.first().map(|(_, t, _)| t.as_str()),
            event_time_micros: i64::from(ddl.timestamp) * 1_000_000,
            snapshot: SnapshotMarker::False,
            server_id: ddl.server_id,
            gtid: ddl.gtid.as_deref(),
            file: &ddl.offset.group.file,
            pos: ddl.offset.group.pos,
            row: 0,
            thread: Some(ddl.thread),
            query: None,
        })?;
        let now_ms = EpochNanos::now().0 / 1_000_000;
        let keyed = self
            .schemas
            .record(source_struct, now_ms, &database, None, &ddl.query, &changes)
            .map_err(|source| Error::Schema {
                table: database.clone(),
                source,
            })?;
        let key = match keyed.key {
            Some(key) => SchemaAndValue::with_schema(key.schema().clone(), Value::Struct(key)),
            None => SchemaAndValue::null(),
        };
        let value =
            SchemaAndValue::with_schema(keyed.value.schema().clone(), Value::Struct(keyed.value));
        Ok(Some(
            SourceRecord::new(
                self.partition.clone(),
                ddl.offset.to_map(),
                self.topic.clone(),
                key,
                value,
            )
            .with_position(stream_position(ddl.position, 0)),
        ))
    }
}

/// A table's definition from the catalog, in Debezium's `tableChanges` shape.
async fn definition(catalog: &mut Conn, db: &str, table: &str) -> Result<TableDefinition> {
    let (columns, key) = table_columns(catalog, db, table).await?;
    let mut out = Vec::with_capacity(columns.len());
    for column in &columns {
        let described = ColumnType::from_information_schema(column)?.describe();
        out.push(ColumnChange {
            name: column.column_name.clone(),
            jdbc_type: described.jdbc_type,
            native_type: None,
            type_name: described.type_name.clone(),
            type_expression: Some(described.type_name),
            charset_name: described.charset_name,
            length: described.length.map(|l| l as i32),
            scale: described.scale.map(|s| s as i32),
            position: column.ordinal_position as i32,
            optional: Some(column.is_nullable),
            auto_incremented: None,
            generated: None,
            comment: None,
            default_value_expression: column.column_default.clone(),
            enum_values: (!described.enum_values.is_empty()).then_some(described.enum_values),
        });
    }
    Ok(TableDefinition {
        default_charset_name: None,
        primary_key_column_names: Some(key),
        columns: out,
        comment: None,
    })
}
