//! [`TableFactory`]: builds a table's [`TableMapping`] with the connector's settings, from a
//! binlog TABLE_MAP (streaming) or from the catalog (snapshot, schema changes). The key is
//! `message.key.columns` when it names the table, else the primary key.

use sluice_connect::config::Props;
use sluice_schemas::SchemaRef;

use crate::binlog::TableMap;
use crate::error::{Error, Result};
use crate::table::{
    ColumnFilter, MessageKeyColumns, TableColumn, TableMapping, parse_message_key_columns,
};
use crate::types::{ColumnType, InformationSchemaColumn, TypeOptions};

/// Makes table mappings for one connector.
#[derive(Debug, Clone)]
pub struct TableFactory {
    topic_prefix: String,
    opts: TypeOptions,
    columns: ColumnFilter,
    message_keys: Option<MessageKeyColumns>,
    source_schema: SchemaRef,
}

impl TableFactory {
    pub fn new(topic_prefix: &str, props: &Props, source_schema: SchemaRef) -> Result<Self> {
        let message_keys = match props.get("message.key.columns") {
            Some(text) if !text.trim().is_empty() => Some(parse_message_key_columns(text)?),
            _ => None,
        };
        Ok(Self {
            topic_prefix: topic_prefix.to_owned(),
            opts: TypeOptions::from_props(props)?,
            columns: ColumnFilter::from_props(props)?,
            message_keys,
            source_schema,
        })
    }

    /// The key column indexes: `message.key.columns` for the table, else `primary_key`.
    fn key_indexes(
        &self,
        db: &str,
        table: &str,
        columns: &[TableColumn],
        primary_key: Vec<usize>,
    ) -> Result<Vec<usize>> {
        let Some(chosen) = self
            .message_keys
            .as_ref()
            .and_then(|keys| keys.columns_for(db, table))
        else {
            return Ok(primary_key);
        };
        chosen
            .iter()
            .map(|name| {
                columns
                    .iter()
                    .position(|c| c.name.eq_ignore_ascii_case(name))
                    .ok_or_else(|| Error::TableMapping {
                        table: format!("{db}.{table}"),
                        reason: format!(
                            "message.key.columns names the column {name}, which the table does not have"
                        ),
                    })
            })
            .collect()
    }

    fn mapping(
        &self,
        db: &str,
        table: &str,
        columns: Vec<TableColumn>,
        primary_key: Vec<usize>,
    ) -> Result<TableMapping> {
        let key = self.key_indexes(db, table, &columns, primary_key)?;
        TableMapping::new(
            &self.topic_prefix,
            db,
            table,
            columns,
            &key,
            &self.opts,
            &self.columns,
            self.source_schema.clone(),
        )
    }

    /// The mapping of the table a TABLE_MAP describes (needs binlog_row_metadata=FULL for
    /// column names and the primary key).
    pub fn from_table_map(&self, map: &TableMap) -> Result<TableMapping> {
        let mut columns = Vec::with_capacity(map.columns.len());
        for (index, info) in map.columns.iter().enumerate() {
            let name = info.name.clone().ok_or_else(|| Error::TableMapping {
                table: format!("{}.{}", map.schema, map.table),
                reason: format!(
                    "the binlog has no name for column {index}: set binlog_row_metadata=FULL on the server"
                ),
            })?;
            columns.push(TableColumn {
                name,
                ty: ColumnType::from_binlog(info)?,
                optional: info.nullable,
            });
        }
        self.mapping(&map.schema, &map.table, columns, map.primary_key.clone())
    }

    /// The mapping of a table from its catalog columns and primary-key column names.
    pub fn from_catalog(
        &self,
        db: &str,
        table: &str,
        catalog: &[InformationSchemaColumn],
        primary_key: &[String],
    ) -> Result<TableMapping> {
        let mut columns = Vec::with_capacity(catalog.len());
        for column in catalog {
            columns.push(TableColumn {
                name: column.column_name.clone(),
                ty: ColumnType::from_information_schema(column)?,
                optional: column.is_nullable,
            });
        }
        let key = primary_key
            .iter()
            .filter_map(|name| columns.iter().position(|c| &c.name == name))
            .collect();
        self.mapping(db, table, columns, key)
    }
}
