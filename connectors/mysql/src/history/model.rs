//! The in-memory schema model: `(database, table)` → columns (as catalog rows), primary key
//! and default charset. Schema-change records describe tables from it, and the history topic
//! stores it as Debezium's `tableChanges` JSON, extended with the catalog fields of each
//! column so a replay rebuilds exactly the same model.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};
use sluice_schemas::records::{ColumnChange, TableChange, TableDefinition};

use crate::ddl::TableChangeKind;
use crate::error::{Error, Result};
use crate::types::{ColumnType, InformationSchemaColumn};

/// A table's schema: its columns in order, primary-key column names, default charset.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableSchema {
    pub columns: Vec<InformationSchemaColumn>,
    pub primary_key: Vec<String>,
    pub charset: Option<String>,
}

/// `(database, table)`.
pub type TableId = (String, String);

/// Every known table's schema.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SchemaModel {
    pub tables: BTreeMap<TableId, TableSchema>,
}

impl TableSchema {
    /// Renumbers `ordinal_position` 1.. after columns moved.
    pub fn renumber(&mut self) {
        for (index, column) in self.columns.iter_mut().enumerate() {
            column.ordinal_position = index as u32 + 1;
        }
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.column_name.eq_ignore_ascii_case(name))
    }

    /// The table in Debezium's `tableChanges[].table` shape.
    pub fn definition(&self) -> Result<TableDefinition> {
        let mut columns = Vec::with_capacity(self.columns.len());
        for column in &self.columns {
            let described = ColumnType::from_information_schema(column)?.describe();
            columns.push(ColumnChange {
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
            default_charset_name: self.charset.clone(),
            primary_key_column_names: Some(self.primary_key.clone()),
            columns,
            comment: None,
        })
    }
}

/// Debezium's quoted table id: `"db"."table"`.
pub fn table_id_text(db: &str, table: &str) -> String {
    format!("\"{db}\".\"{table}\"")
}

/// A `tableChanges` entry for the schema-change record.
pub fn table_change(
    db: &str,
    table: &str,
    kind: &TableChangeKind,
    schema: Option<&TableSchema>,
) -> Result<TableChange> {
    Ok(TableChange {
        change_type: kind.as_str().to_owned(),
        id: table_id_text(db, table),
        table: match (kind, schema) {
            (TableChangeKind::Drop, _) | (_, None) => None,
            (_, Some(schema)) => Some(schema.definition()?),
        },
    })
}

/// A `tableChanges` entry as history JSON (Debezium's fields plus each column's catalog row).
pub fn change_json(
    db: &str,
    table: &str,
    kind: &TableChangeKind,
    schema: Option<&TableSchema>,
) -> Result<Json> {
    let change = table_change(db, table, kind, schema)?;
    let table_json = match (&change.table, schema) {
        (Some(definition), Some(schema)) => {
            let columns: Vec<Json> = definition
                .columns
                .iter()
                .zip(&schema.columns)
                .map(|(described, catalog)| column_json(described, catalog))
                .collect();
            json!({
                "defaultCharsetName": definition.default_charset_name,
                "primaryKeyColumnNames": definition.primary_key_column_names,
                "columns": columns,
                "comment": null,
            })
        }
        _ => Json::Null,
    };
    Ok(json!({
        "type": change.change_type,
        "id": change.id,
        "database": db,
        "tableName": table,
        "table": table_json,
    }))
}

fn column_json(described: &ColumnChange, catalog: &InformationSchemaColumn) -> Json {
    json!({
        "name": described.name,
        "jdbcType": described.jdbc_type,
        "typeName": described.type_name,
        "typeExpression": described.type_expression,
        "charsetName": described.charset_name,
        "length": described.length,
        "scale": described.scale,
        "position": described.position,
        "optional": described.optional,
        "defaultValueExpression": described.default_value_expression,
        "enumValues": described.enum_values,
        "dataType": catalog.data_type,
        "columnType": catalog.column_type,
        "characterSetName": catalog.character_set_name,
        "numericPrecision": catalog.numeric_precision,
        "numericScale": catalog.numeric_scale,
        "datetimePrecision": catalog.datetime_precision,
        "characterMaximumLength": catalog.character_maximum_length,
    })
}

/// Applies one history `tableChanges` entry (as [`change_json`] wrote it) to `model`.
pub fn apply_change_json(model: &mut SchemaModel, change: &Json) -> Result<()> {
    let text = |value: &Json, key: &str| value.get(key).and_then(Json::as_str).map(str::to_owned);
    let invalid = |reason: &str| Error::HistoryRecord {
        reason: format!("{reason} in {change}"),
    };
    let db = text(change, "database").ok_or_else(|| invalid("no \"database\""))?;
    let table = text(change, "tableName").ok_or_else(|| invalid("no \"tableName\""))?;
    let id = (db, table);
    if text(change, "type").as_deref() == Some("DROP") {
        model.tables.remove(&id);
        return Ok(());
    }
    let definition = change
        .get("table")
        .filter(|t| t.is_object())
        .ok_or_else(|| invalid("no \"table\""))?;
    let number = |value: &Json, key: &str| value.get(key).and_then(Json::as_u64);
    let mut columns = Vec::new();
    for column in definition
        .get("columns")
        .and_then(Json::as_array)
        .ok_or_else(|| invalid("no \"columns\""))?
    {
        columns.push(InformationSchemaColumn {
            column_name: text(column, "name").ok_or_else(|| invalid("a column without name"))?,
            ordinal_position: number(column, "position").unwrap_or(0) as u32,
            data_type: text(column, "dataType").ok_or_else(|| invalid("no \"dataType\""))?,
            column_type: text(column, "columnType").unwrap_or_default(),
            character_set_name: text(column, "characterSetName"),
            numeric_precision: number(column, "numericPrecision"),
            numeric_scale: number(column, "numericScale"),
            datetime_precision: number(column, "datetimePrecision"),
            character_maximum_length: number(column, "characterMaximumLength"),
            is_nullable: column
                .get("optional")
                .and_then(Json::as_bool)
                .unwrap_or(true),
            column_default: text(column, "defaultValueExpression"),
        });
    }
    let primary_key = definition
        .get("primaryKeyColumnNames")
        .and_then(Json::as_array)
        .map(|names| {
            names
                .iter()
                .filter_map(Json::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    model.tables.insert(
        id,
        TableSchema {
            columns,
            primary_key,
            charset: text(definition, "defaultCharsetName"),
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, data_type: &str, column_type: &str) -> InformationSchemaColumn {
        InformationSchemaColumn {
            column_name: name.into(),
            data_type: data_type.into(),
            column_type: column_type.into(),
            is_nullable: true,
            ..Default::default()
        }
    }

    #[test]
    fn history_json_round_trips_the_model() {
        let mut schema = TableSchema {
            columns: vec![
                column("id", "int", "int(11) unsigned"),
                InformationSchemaColumn {
                    character_set_name: Some("latin1".into()),
                    character_maximum_length: Some(20),
                    column_default: Some("'x'".into()),
                    ..column("name", "varchar", "varchar(20)")
                },
                InformationSchemaColumn {
                    numeric_precision: Some(9),
                    numeric_scale: Some(2),
                    ..column("price", "decimal", "decimal(9,2)")
                },
            ],
            primary_key: vec!["id".into()],
            charset: Some("latin1".into()),
        };
        schema.columns[0].is_nullable = false;
        schema.renumber();
        let json = change_json("shop", "items", &TableChangeKind::Create, Some(&schema)).unwrap();
        assert_eq!(json["table"]["columns"][1]["typeName"], "VARCHAR");
        let mut model = SchemaModel::default();
        apply_change_json(&mut model, &json).unwrap();
        assert_eq!(model.tables[&("shop".into(), "items".into())], schema);

        let drop = change_json("shop", "items", &TableChangeKind::Drop, None).unwrap();
        apply_change_json(&mut model, &drop).unwrap();
        assert!(model.tables.is_empty());
        assert!(apply_change_json(&mut model, &json!({"type": "CREATE"})).is_err());
    }
}
