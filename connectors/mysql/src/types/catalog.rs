//! Column types from the catalog: one row of `information_schema.COLUMNS` to a
//! [`ColumnType`], giving the same type the binlog TABLE_MAP gives for the column.

use super::charset::{Charset, charset_of_name};
use super::column::{ColumnType, GeometryKind, IntWidth, LobSize, Signedness, TypeKind};
use crate::error::{Error, Result};

/// The `information_schema.COLUMNS` fields a column type is built from. `SELECT COLUMN_NAME,
/// ORDINAL_POSITION, DATA_TYPE, COLUMN_TYPE, CHARACTER_SET_NAME, NUMERIC_PRECISION,
/// NUMERIC_SCALE, DATETIME_PRECISION, CHARACTER_MAXIMUM_LENGTH, IS_NULLABLE, COLUMN_DEFAULT`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InformationSchemaColumn {
    pub column_name: String,
    pub ordinal_position: u32,
    /// `int`, `varchar`, `enum`, … (lowercase or not).
    pub data_type: String,
    /// The full type: `int(10) unsigned`, `enum('a','b')`, `decimal(30,10)`, …
    pub column_type: String,
    pub character_set_name: Option<String>,
    pub numeric_precision: Option<u64>,
    pub numeric_scale: Option<u64>,
    pub datetime_precision: Option<u64>,
    pub character_maximum_length: Option<u64>,
    /// `IS_NULLABLE = 'YES'`.
    pub is_nullable: bool,
    /// `COLUMN_DEFAULT` as the catalog writes it (MariaDB quotes string defaults).
    pub column_default: Option<String>,
}

fn unsupported(col: &InformationSchemaColumn, reason: impl Into<String>) -> Error {
    Error::UnsupportedColumnType {
        column: col.column_name.clone(),
        reason: reason.into(),
    }
}

fn length(col: &InformationSchemaColumn) -> Option<u32> {
    col.character_maximum_length
        .and_then(|n| u32::try_from(n).ok())
}

impl ColumnType {
    /// The type of a catalog column.
    pub fn from_information_schema(col: &InformationSchemaColumn) -> Result<Self> {
        let data_type = col.data_type.to_ascii_lowercase();
        let column_type = col.column_type.to_ascii_lowercase();
        let sign = if column_type.contains("unsigned") {
            Signedness::Unsigned
        } else {
            Signedness::Signed
        };
        let charset = || match &col.character_set_name {
            Some(name) => charset_of_name(name, &col.column_name),
            None => Ok(Charset::Utf8mb4),
        };
        let fsp = col
            .datetime_precision
            .and_then(|p| u8::try_from(p).ok())
            .unwrap_or(0);
        let integer = |width| TypeKind::Integer { width, sign };
        let text = |size| -> Result<TypeKind> {
            Ok(TypeKind::Lob {
                charset: charset()?,
                size,
            })
        };
        let blob = |size| TypeKind::Lob {
            charset: Charset::Binary,
            size,
        };
        let kind = match data_type.as_str() {
            "tinyint" | "bool" | "boolean" => integer(IntWidth::Tiny),
            "smallint" => integer(IntWidth::Small),
            "mediumint" => integer(IntWidth::Medium),
            "int" | "integer" => integer(IntWidth::Int),
            "bigint" => integer(IntWidth::Big),
            "decimal" | "numeric" => TypeKind::Decimal {
                precision: col.numeric_precision.unwrap_or(10) as u32,
                scale: col.numeric_scale.unwrap_or(0) as u32,
            },
            // FLOAT(p > 24) is stored as DOUBLE and reported as `double`.
            "float" => TypeKind::Float,
            "double" | "real" | "double precision" => TypeKind::Double,
            "bit" => TypeKind::Bit {
                length: col.numeric_precision.unwrap_or(1) as u32,
            },
            "char" => TypeKind::FixedString {
                charset: charset()?,
                length: length(col),
            },
            "varchar" => TypeKind::VarString {
                charset: charset()?,
                length: length(col),
            },
            "binary" => TypeKind::FixedString {
                charset: Charset::Binary,
                length: length(col),
            },
            "varbinary" => TypeKind::VarString {
                charset: Charset::Binary,
                length: length(col),
            },
            "tinytext" => text(LobSize::Tiny)?,
            "text" => text(LobSize::Regular)?,
            "mediumtext" => text(LobSize::Medium)?,
            // MariaDB's JSON is a LONGTEXT alias, and the catalog says so.
            "longtext" => text(LobSize::Long)?,
            "tinyblob" => blob(LobSize::Tiny),
            "blob" => blob(LobSize::Regular),
            "mediumblob" => blob(LobSize::Medium),
            "longblob" => blob(LobSize::Long),
            "date" => TypeKind::Date,
            "time" => TypeKind::Time { fsp },
            "datetime" => TypeKind::DateTime { fsp },
            "timestamp" => TypeKind::Timestamp { fsp },
            "year" => TypeKind::Year,
            "enum" => TypeKind::Enum {
                values: parse_enum_values(&col.column_type)
                    .map_err(|reason| unsupported(col, reason))?,
            },
            "set" => TypeKind::Set {
                values: parse_enum_values(&col.column_type)
                    .map_err(|reason| unsupported(col, reason))?,
            },
            "json" => TypeKind::Json,
            "point" => TypeKind::Geometry(GeometryKind::Point),
            "geometry" => TypeKind::Geometry(GeometryKind::Other("GEOMETRY")),
            "linestring" => TypeKind::Geometry(GeometryKind::Other("LINESTRING")),
            "polygon" => TypeKind::Geometry(GeometryKind::Other("POLYGON")),
            "multipoint" => TypeKind::Geometry(GeometryKind::Other("MULTIPOINT")),
            "multilinestring" => TypeKind::Geometry(GeometryKind::Other("MULTILINESTRING")),
            "multipolygon" => TypeKind::Geometry(GeometryKind::Other("MULTIPOLYGON")),
            "geometrycollection" | "geomcollection" => {
                TypeKind::Geometry(GeometryKind::Other("GEOMETRYCOLLECTION"))
            }
            other => {
                return Err(unsupported(
                    col,
                    format!("data type `{other}` has no mapping"),
                ));
            }
        };
        Ok(ColumnType::new(kind))
    }
}

/// The quoted members of `enum('a','b')` / `set('x','y')`; a doubled quote inside a member is
/// one quote (`'c''d'` is `c'd`), commas inside quotes belong to the member.
pub fn parse_enum_values(column_type: &str) -> std::result::Result<Vec<String>, String> {
    let open = column_type
        .find('(')
        .ok_or_else(|| format!("`{column_type}` has no member list"))?;
    let mut values = Vec::new();
    let mut chars = column_type[open + 1..].chars().peekable();
    loop {
        match chars.next() {
            Some('\'') => {
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            value.push('\'');
                        }
                        Some('\'') => break,
                        Some(c) => value.push(c),
                        None => return Err(format!("`{column_type}` has an unclosed quote")),
                    }
                }
                values.push(value);
            }
            Some(',') | Some(' ') => {}
            Some(')') => return Ok(values),
            Some(c) => return Err(format!("unexpected `{c}` in `{column_type}`")),
            None => return Err(format!("`{column_type}` has no closing parenthesis")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_members_with_quotes_and_commas() {
        assert_eq!(
            parse_enum_values("enum('a,b','c''d','plain')").unwrap(),
            ["a,b", "c'd", "plain"]
        );
        assert_eq!(
            parse_enum_values("set('x','y','z')").unwrap(),
            ["x", "y", "z"]
        );
        assert!(parse_enum_values("enum('a'").is_err());
    }

    fn column(data_type: &str, column_type: &str) -> InformationSchemaColumn {
        InformationSchemaColumn {
            column_name: "c".into(),
            data_type: data_type.into(),
            column_type: column_type.into(),
            ..Default::default()
        }
    }

    #[test]
    fn catalog_rows_become_kinds() {
        let t = ColumnType::from_information_schema(&column("int", "int(10) unsigned")).unwrap();
        assert_eq!(
            t.kind,
            TypeKind::Integer {
                width: IntWidth::Int,
                sign: Signedness::Unsigned
            }
        );
        let mut latin = column("varchar", "varchar(20)");
        latin.character_set_name = Some("latin1".into());
        latin.character_maximum_length = Some(20);
        assert_eq!(
            ColumnType::from_information_schema(&latin).unwrap().kind,
            TypeKind::VarString {
                charset: Charset::Latin1,
                length: Some(20)
            }
        );
        let err = ColumnType::from_information_schema(&column("vector", "vector(3)"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("vector") && err.contains('c'), "{err}");
    }
}
