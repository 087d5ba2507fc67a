//! TABLE_MAP events: the table's name and per-column types plus what the optional metadata
//! (binlog_row_metadata=MINIMAL/FULL) adds — signedness, names, ENUM/SET strings, geometry
//! types, primary key.

use mysql_common::binlog::events::{OptionalMetadataField, TableMapEvent};
use mysql_common::constants::ColumnType;

use crate::error::{Error, Result};

/// One column as the TABLE_MAP describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    /// The real column type (ENUM/SET/STRING resolved from the metadata).
    pub column_type: ColumnType,
    /// From COLUMN_NAME (FULL metadata only).
    pub name: Option<String>,
    /// From SIGNEDNESS, for numeric columns only: `Some(true)` means UNSIGNED.
    pub unsigned: Option<bool>,
    /// ENUM value strings from ENUM_STR_VALUE (FULL metadata), 1-based index = position + 1.
    pub enum_values: Vec<String>,
    /// SET member strings from SET_STR_VALUE (FULL metadata), bit i = member i.
    pub set_values: Vec<String>,
    /// From GEOMETRY_TYPE (0 = GEOMETRY, 1 = POINT, ...).
    pub geometry_type: Option<u8>,
}

/// A decoded TABLE_MAP event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableMap {
    pub table_id: u64,
    pub schema: String,
    pub table: String,
    pub columns: Vec<ColumnInfo>,
    /// Column indexes of the primary key (SIMPLE_PRIMARY_KEY / PRIMARY_KEY_WITH_PREFIX).
    pub primary_key: Vec<usize>,
}

/// MySQL sends a signedness bit for exactly these types, in column order.
fn is_numeric(column_type: ColumnType) -> bool {
    use ColumnType::*;
    matches!(
        column_type,
        MYSQL_TYPE_TINY
            | MYSQL_TYPE_SHORT
            | MYSQL_TYPE_INT24
            | MYSQL_TYPE_LONG
            | MYSQL_TYPE_LONGLONG
            | MYSQL_TYPE_FLOAT
            | MYSQL_TYPE_DOUBLE
            | MYSQL_TYPE_DECIMAL
            | MYSQL_TYPE_NEWDECIMAL
    )
}

fn meta_error(what: &str, source: std::io::Error) -> Error {
    Error::Decode {
        context: format!("TABLE_MAP optional metadata {what}"),
        source,
    }
}

impl TableMap {
    /// Builds the owned description from a parsed TABLE_MAP event.
    pub(crate) fn from_event(event: &TableMapEvent<'_>) -> Result<Self> {
        let count = event.columns_count() as usize;
        let mut columns = Vec::with_capacity(count);
        for index in 0..count {
            let column_type = event
                .get_column_type(index)
                .map_err(|e| meta_error("column type", std::io::Error::other(e)))?
                .ok_or_else(|| meta_error("column type", std::io::Error::other("missing")))?;
            columns.push(ColumnInfo {
                column_type,
                name: None,
                unsigned: None,
                enum_values: Vec::new(),
                set_values: Vec::new(),
                geometry_type: None,
            });
        }
        let mut map = TableMap {
            table_id: event.table_id(),
            schema: event.database_name().into_owned(),
            table: event.table_name().into_owned(),
            columns,
            primary_key: Vec::new(),
        };
        for field in event.iter_optional_meta() {
            map.apply(field.map_err(|e| meta_error("field", e))?)?;
        }
        Ok(map)
    }

    fn columns_where(&mut self, pred: fn(ColumnType) -> bool) -> Vec<&mut ColumnInfo> {
        self.columns
            .iter_mut()
            .filter(|c| pred(c.column_type))
            .collect()
    }

    fn apply(&mut self, field: OptionalMetadataField<'_>) -> Result<()> {
        match field {
            OptionalMetadataField::Signedness(bits) => {
                for (column, unsigned) in self.columns_where(is_numeric).into_iter().zip(bits) {
                    column.unsigned = Some(*unsigned);
                }
            }
            OptionalMetadataField::ColumnName(names) => {
                for (column, name) in self.columns.iter_mut().zip(names.iter_names()) {
                    column.name = Some(
                        name.map_err(|e| meta_error("COLUMN_NAME", e))?
                            .name()
                            .into(),
                    );
                }
            }
            OptionalMetadataField::EnumStrValue(values) => {
                let enums = self.columns_where(|t| t == ColumnType::MYSQL_TYPE_ENUM);
                for (column, strings) in enums.into_iter().zip(values.iter_values()) {
                    let strings = strings.map_err(|e| meta_error("ENUM_STR_VALUE", e))?;
                    column.enum_values =
                        strings.values().iter().map(|v| v.value().into()).collect();
                }
            }
            OptionalMetadataField::SetStrValue(values) => {
                let sets = self.columns_where(|t| t == ColumnType::MYSQL_TYPE_SET);
                for (column, strings) in sets.into_iter().zip(values.iter_values()) {
                    let strings = strings.map_err(|e| meta_error("SET_STR_VALUE", e))?;
                    column.set_values = strings.values().iter().map(|v| v.value().into()).collect();
                }
            }
            OptionalMetadataField::GeometryType(types) => {
                let geos = self.columns_where(|t| t == ColumnType::MYSQL_TYPE_GEOMETRY);
                for (column, kind) in geos.into_iter().zip(types.iter_geometry_types()) {
                    column.geometry_type =
                        Some(kind.map_err(|e| meta_error("GEOMETRY_TYPE", e))? as u8);
                }
            }
            OptionalMetadataField::SimplePrimaryKey(key) => {
                for index in key.iter_indexes() {
                    let index = index.map_err(|e| meta_error("SIMPLE_PRIMARY_KEY", e))?;
                    self.primary_key.push(index as usize);
                }
            }
            OptionalMetadataField::PrimaryKeyWithPrefix(keys) => {
                for key in keys.iter_keys() {
                    let key = key.map_err(|e| meta_error("PRIMARY_KEY_WITH_PREFIX", e))?;
                    self.primary_key.push(key.column_index() as usize);
                }
            }
            // Charsets and visibility are not needed to decode values; vector sizes are 9.x.
            _ => {}
        }
        Ok(())
    }

    /// The column names, or `None` when the server did not send COLUMN_NAME metadata.
    pub fn column_names(&self) -> Option<Vec<&str>> {
        self.columns.iter().map(|c| c.name.as_deref()).collect()
    }
}
