//! TABLE_MAP events: the table's name and per-column types, what the per-column metadata
//! carries (DECIMAL precision/scale, fsp, string max length, BIT length, BLOB length bytes),
//! nullability, plus what the optional metadata (binlog_row_metadata=MINIMAL/FULL) adds —
//! signedness, charsets, names, ENUM/SET strings, geometry types, primary key.

use mysql_common::binlog::events::{
    ColumnCharsets, DefaultCharset, OptionalMetadataField, TableMapEvent,
};
use mysql_common::constants::ColumnType;

use crate::error::{Error, Result};
use crate::types::Charset;

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
    /// Whether the column accepts NULL (the TABLE_MAP null bitmap).
    pub nullable: bool,
    /// NEWDECIMAL precision and scale from the column metadata.
    pub decimal: Option<DecimalDigits>,
    /// Fractional-seconds precision of TIME2/DATETIME2/TIMESTAMP2 (0 for the old formats).
    pub fsp: Option<u8>,
    /// Maximum length in bytes of CHAR/BINARY (STRING) and VARCHAR/VARBINARY columns.
    pub max_length: Option<u32>,
    /// Length-prefix bytes of BLOB/TEXT/JSON/GEOMETRY values: 1 = TINY, 2 = plain, 3 = MEDIUM,
    /// 4 = LONG.
    pub pack_length: Option<u8>,
    /// Number of bits of a BIT column.
    pub bit_length: Option<u16>,
    /// Charset+collation id from DEFAULT_CHARSET/COLUMN_CHARSET (character columns) or
    /// ENUM_AND_SET_DEFAULT_CHARSET/ENUM_AND_SET_COLUMN_CHARSET (ENUM and SET columns).
    pub collation: Option<u16>,
}

/// Precision and scale of a DECIMAL column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecimalDigits {
    pub precision: u8,
    pub scale: u8,
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

/// Columns that get a charset from DEFAULT_CHARSET/COLUMN_CHARSET, in that metadata's order.
fn is_character(column_type: ColumnType) -> bool {
    column_type.is_character_type()
}

fn is_enum_or_set(column_type: ColumnType) -> bool {
    column_type.is_enum_or_set_type()
}

/// DEFAULT_CHARSET: one default plus (index among the listed columns, collation) exceptions.
fn apply_default_charset(
    mut columns: Vec<&mut ColumnInfo>,
    charsets: &DefaultCharset<'_>,
    what: &str,
) -> Result<()> {
    for column in columns.iter_mut() {
        column.collation = Some(charsets.default_charset());
    }
    for exception in charsets.iter_non_default() {
        let exception = exception.map_err(|e| meta_error(what, e))?;
        if let Some(column) = columns.get_mut(exception.column_index() as usize) {
            column.collation = Some(exception.charset());
        }
    }
    Ok(())
}

/// COLUMN_CHARSET: one collation per listed column.
fn apply_column_charsets(
    columns: Vec<&mut ColumnInfo>,
    charsets: &ColumnCharsets<'_>,
    what: &str,
) -> Result<()> {
    for (column, collation) in columns.into_iter().zip(charsets.iter_charsets()) {
        column.collation = Some(collation.map_err(|e| meta_error(what, e))?);
    }
    Ok(())
}

fn meta_error(what: &str, source: std::io::Error) -> Error {
    Error::Decode {
        context: format!("TABLE_MAP optional metadata {what}"),
        source,
    }
}

impl ColumnInfo {
    /// Reads the per-column TABLE_MAP metadata, whose layout depends on the raw column type.
    fn apply_type_metadata(&mut self, raw_type: ColumnType, meta: &[u8]) {
        use ColumnType::*;
        let byte = |i: usize| meta.get(i).copied().unwrap_or(0);
        match raw_type {
            MYSQL_TYPE_NEWDECIMAL => {
                self.decimal = Some(DecimalDigits {
                    precision: byte(0),
                    scale: byte(1),
                });
            }
            MYSQL_TYPE_TIME2 | MYSQL_TYPE_DATETIME2 | MYSQL_TYPE_TIMESTAMP2 => {
                self.fsp = Some(byte(0));
            }
            MYSQL_TYPE_TIME | MYSQL_TYPE_DATETIME | MYSQL_TYPE_TIMESTAMP => self.fsp = Some(0),
            MYSQL_TYPE_VARCHAR | MYSQL_TYPE_VAR_STRING => {
                self.max_length = Some(u32::from(u16::from_le_bytes([byte(0), byte(1)])));
            }
            // The first byte is the real type; for CHAR/BINARY its bits 4-5 (inverted) are the
            // high bits of a 10-bit max length whose low bits are the second byte.
            MYSQL_TYPE_STRING if !self.column_type.is_enum_or_set_type() => {
                let high = (u32::from(byte(0)) & 0x30) ^ 0x30;
                self.max_length = Some((high << 4) | u32::from(byte(1)));
            }
            MYSQL_TYPE_BIT => self.bit_length = Some(u16::from(byte(1)) * 8 + u16::from(byte(0))),
            MYSQL_TYPE_BLOB
            | MYSQL_TYPE_TINY_BLOB
            | MYSQL_TYPE_MEDIUM_BLOB
            | MYSQL_TYPE_LONG_BLOB
            | MYSQL_TYPE_GEOMETRY
            | MYSQL_TYPE_JSON => self.pack_length = Some(byte(0)),
            _ => {}
        }
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
            let mut column = ColumnInfo {
                column_type,
                name: None,
                unsigned: None,
                enum_values: Vec::new(),
                set_values: Vec::new(),
                geometry_type: None,
                nullable: event.null_bitmask().get(index).is_some_and(|b| *b),
                decimal: None,
                fsp: None,
                max_length: None,
                pack_length: None,
                bit_length: None,
                collation: None,
            };
            let raw_type = event.get_raw_column_type(index).ok().flatten();
            if let (Some(raw_type), Some(meta)) = (raw_type, event.get_column_metadata(index)) {
                column.apply_type_metadata(raw_type, meta);
            }
            columns.push(column);
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
        // The ENUM/SET strings precede their charsets in the metadata: decode them again now
        // that the charsets are known (latin1 members are not UTF-8).
        for field in event.iter_optional_meta() {
            map.decode_members(field.map_err(|e| meta_error("field", e))?)?;
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
            OptionalMetadataField::DefaultCharset(charsets) => {
                let columns = self.columns_where(is_character);
                apply_default_charset(columns, &charsets, "DEFAULT_CHARSET")?;
            }
            OptionalMetadataField::ColumnCharset(charsets) => {
                let columns = self.columns_where(is_character);
                apply_column_charsets(columns, &charsets, "COLUMN_CHARSET")?;
            }
            OptionalMetadataField::EnumAndSetDefaultCharset(charsets) => {
                let columns = self.columns_where(is_enum_or_set);
                apply_default_charset(columns, &charsets, "ENUM_AND_SET_DEFAULT_CHARSET")?;
            }
            OptionalMetadataField::EnumAndSetColumnCharset(charsets) => {
                let columns = self.columns_where(is_enum_or_set);
                apply_column_charsets(columns, &charsets, "ENUM_AND_SET_COLUMN_CHARSET")?;
            }
            // Visibility is not needed to decode values; vector sizes are 9.x.
            _ => {}
        }
        Ok(())
    }

    /// Re-decodes ENUM/SET member strings with each column's charset.
    fn decode_members(&mut self, field: OptionalMetadataField<'_>) -> Result<()> {
        let decode = |column: &ColumnInfo, raw: &[u8]| -> String {
            match column.collation.and_then(Charset::from_collation_id) {
                Some(charset) => charset.decode(raw),
                None => String::from_utf8_lossy(raw).into_owned(),
            }
        };
        match field {
            OptionalMetadataField::EnumStrValue(values) => {
                let enums = self.columns_where(|t| t == ColumnType::MYSQL_TYPE_ENUM);
                for (column, strings) in enums.into_iter().zip(values.iter_values()) {
                    let strings = strings.map_err(|e| meta_error("ENUM_STR_VALUE", e))?;
                    let members = strings
                        .values()
                        .iter()
                        .map(|v| decode(column, v.value_raw()));
                    column.enum_values = members.collect();
                }
            }
            OptionalMetadataField::SetStrValue(values) => {
                let sets = self.columns_where(|t| t == ColumnType::MYSQL_TYPE_SET);
                for (column, strings) in sets.into_iter().zip(values.iter_values()) {
                    let strings = strings.map_err(|e| meta_error("SET_STR_VALUE", e))?;
                    let members = strings
                        .values()
                        .iter()
                        .map(|v| decode(column, v.value_raw()));
                    column.set_values = members.collect();
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The column names, or `None` when the server did not send COLUMN_NAME metadata.
    pub fn column_names(&self) -> Option<Vec<&str>> {
        self.columns.iter().map(|c| c.name.as_deref()).collect()
    }
}
