//! [`ColumnType`]: one column's type, built the same way from a binlog TABLE_MAP column or an
//! information_schema row, and the Kafka Connect schema Debezium gives it.
//!
//! Values are converted in [`super::binlog_value`] (row-image cells) and
//! [`super::snapshot_value`] (SELECT results); the schema-change description is in
//! [`super::describe`].

use sluice_schemas::logical;
use sluice_schemas::{SchemaBuilder, SchemaRef};

use super::charset::{Charset, charset_of_collation};
use super::options::{
    BigintUnsignedHandlingMode, BinaryHandlingMode, DecimalHandlingMode, TimePrecisionMode,
    TypeOptions,
};
use crate::binlog::{ColumnInfo, ColumnType as BinlogType};
use crate::error::{Error, Result};

/// The storage width of an integer column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntWidth {
    Tiny,
    Small,
    Medium,
    Int,
    Big,
}

/// Signedness of an integer column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signedness {
    Signed,
    Unsigned,
}

/// The length-prefix size of a TEXT/BLOB column: TINY, plain, MEDIUM or LONG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LobSize {
    Tiny,
    Regular,
    Medium,
    Long,
}

/// GEOMETRY columns: a POINT column gets Debezium's Point struct, the others its Geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeometryKind {
    Point,
    /// GEOMETRY, LINESTRING, POLYGON, MULTI*, GEOMETRYCOLLECTION; the name is MySQL's.
    Other(&'static str),
}

/// What kind of column this is, with what the value mapping needs to know about it.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeKind {
    Integer {
        width: IntWidth,
        sign: Signedness,
    },
    Decimal {
        precision: u32,
        scale: u32,
    },
    Float,
    Double,
    Bit {
        length: u32,
    },
    /// CHAR(n) / BINARY(n): `length` in characters (bytes for BINARY).
    FixedString {
        charset: Charset,
        length: Option<u32>,
    },
    /// VARCHAR(n) / VARBINARY(n).
    VarString {
        charset: Charset,
        length: Option<u32>,
    },
    /// TEXT / BLOB of any size.
    Lob {
        charset: Charset,
        size: LobSize,
    },
    Date,
    Time {
        fsp: u8,
    },
    DateTime {
        fsp: u8,
    },
    Timestamp {
        fsp: u8,
    },
    Year,
    Enum {
        values: Vec<String>,
    },
    Set {
        values: Vec<String>,
    },
    /// MySQL's native JSON (binary in the binlog). MariaDB's JSON is a LONGTEXT: [`TypeKind::Lob`].
    Json,
    Geometry(GeometryKind),
}

/// One column's type, independent of where it was learnt.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnType {
    pub(crate) kind: TypeKind,
}

impl ColumnType {
    /// Wraps a kind (for callers that learn types elsewhere, e.g. from DDL).
    pub fn new(kind: TypeKind) -> Self {
        ColumnType { kind }
    }

    pub fn kind(&self) -> &TypeKind {
        &self.kind
    }

    /// Whether the column holds bytes rather than text (binary charset).
    pub fn is_binary(&self) -> bool {
        matches!(
            self.kind,
            TypeKind::FixedString {
                charset: Charset::Binary,
                ..
            } | TypeKind::VarString {
                charset: Charset::Binary,
                ..
            } | TypeKind::Lob {
                charset: Charset::Binary,
                ..
            }
        )
    }

    /// The type of a TABLE_MAP column. Needs the metadata MySQL 8 / MariaDB send with
    /// `binlog_row_metadata=FULL` (signedness, charsets, ENUM/SET values); without it integers
    /// are taken as signed and strings as utf8mb4 text.
    pub fn from_binlog(info: &ColumnInfo) -> Result<Self> {
        use BinlogType::*;
        let name = info.name.as_deref().unwrap_or("?");
        let sign = if info.unsigned == Some(true) {
            Signedness::Unsigned
        } else {
            Signedness::Signed
        };
        let integer = |width| TypeKind::Integer { width, sign };
        let charset = || match info.collation {
            Some(id) => charset_of_collation(id, name),
            None => Ok(Charset::Utf8mb4),
        };
        let fsp = info.fsp.unwrap_or(0);
        let kind = match info.column_type {
            MYSQL_TYPE_TINY => integer(IntWidth::Tiny),
            MYSQL_TYPE_SHORT => integer(IntWidth::Small),
            MYSQL_TYPE_INT24 => integer(IntWidth::Medium),
            MYSQL_TYPE_LONG => integer(IntWidth::Int),
            MYSQL_TYPE_LONGLONG => integer(IntWidth::Big),
            MYSQL_TYPE_NEWDECIMAL | MYSQL_TYPE_DECIMAL => {
                let digits = info.decimal.ok_or_else(|| Error::UnsupportedColumnType {
                    column: name.to_owned(),
                    reason: "the TABLE_MAP carries no DECIMAL precision/scale".into(),
                })?;
                TypeKind::Decimal {
                    precision: u32::from(digits.precision),
                    scale: u32::from(digits.scale),
                }
            }
            MYSQL_TYPE_FLOAT => TypeKind::Float,
            MYSQL_TYPE_DOUBLE => TypeKind::Double,
            MYSQL_TYPE_BIT => TypeKind::Bit {
                length: u32::from(info.bit_length.unwrap_or(1)),
            },
            MYSQL_TYPE_STRING => {
                let charset = charset()?;
                TypeKind::FixedString {
                    charset,
                    length: info
                        .max_length
                        .map(|bytes| bytes / max_bytes_per_char(charset)),
                }
            }
            MYSQL_TYPE_VARCHAR | MYSQL_TYPE_VAR_STRING => {
                let charset = charset()?;
                TypeKind::VarString {
                    charset,
                    length: info
                        .max_length
                        .map(|bytes| bytes / max_bytes_per_char(charset)),
                }
            }
            MYSQL_TYPE_BLOB
            | MYSQL_TYPE_TINY_BLOB
            | MYSQL_TYPE_MEDIUM_BLOB
            | MYSQL_TYPE_LONG_BLOB => TypeKind::Lob {
                // A BLOB column without charset metadata cannot be told from TEXT; bytes lose
                // nothing.
                charset: match info.collation {
                    Some(id) => charset_of_collation(id, name)?,
                    None => Charset::Binary,
                },
                size: match info.pack_length {
                    Some(1) => LobSize::Tiny,
                    Some(3) => LobSize::Medium,
                    Some(4) => LobSize::Long,
                    _ => LobSize::Regular,
                },
            },
            MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE => TypeKind::Date,
            MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => TypeKind::Time { fsp },
            MYSQL_TYPE_DATETIME | MYSQL_TYPE_DATETIME2 => TypeKind::DateTime { fsp },
            MYSQL_TYPE_TIMESTAMP | MYSQL_TYPE_TIMESTAMP2 => TypeKind::Timestamp { fsp },
            MYSQL_TYPE_YEAR => TypeKind::Year,
            MYSQL_TYPE_ENUM => TypeKind::Enum {
                values: info.enum_values.clone(),
            },
            MYSQL_TYPE_SET => TypeKind::Set {
                values: info.set_values.clone(),
            },
            MYSQL_TYPE_JSON => TypeKind::Json,
            MYSQL_TYPE_GEOMETRY => TypeKind::Geometry(geometry_kind(info.geometry_type)),
            other => {
                return Err(Error::UnsupportedColumnType {
                    column: name.to_owned(),
                    reason: format!("binlog column type {other:?} has no mapping"),
                });
            }
        };
        Ok(ColumnType { kind })
    }

    /// The Kafka Connect schema of the column's values, as Debezium's MySQL connector builds
    /// it for the given settings.
    pub fn schema(&self, optional: bool, opts: &TypeOptions) -> SchemaRef {
        self.schema_with_default(optional, opts, None)
    }

    /// Like [`ColumnType::schema`], with the column's default value (see
    /// [`ColumnType::default_value`]) as the schema default, as Debezium writes it.
    pub fn schema_with_default(
        &self,
        optional: bool,
        opts: &TypeOptions,
        default: Option<sluice_schemas::Value>,
    ) -> SchemaRef {
        let mut builder = self.schema_builder(opts);
        if let Some(default) = default {
            builder = builder.default_value(default);
        }
        if optional {
            builder.optional().build()
        } else {
            builder.build()
        }
    }

    fn schema_builder(&self, opts: &TypeOptions) -> SchemaBuilder {
        use TypeKind::*;
        let binary = || match opts.binary {
            BinaryHandlingMode::Bytes => SchemaBuilder::bytes(),
            _ => SchemaBuilder::string(),
        };
        let adaptive = opts.time_precision != TimePrecisionMode::Connect;
        match &self.kind {
            Integer { width, sign } => match (width, sign) {
                (IntWidth::Tiny, _) | (IntWidth::Small, Signedness::Signed) => {
                    SchemaBuilder::int16()
                }
                (IntWidth::Small, Signedness::Unsigned)
                | (IntWidth::Medium, _)
                | (IntWidth::Int, Signedness::Signed) => SchemaBuilder::int32(),
                (IntWidth::Int, Signedness::Unsigned) | (IntWidth::Big, Signedness::Signed) => {
                    SchemaBuilder::int64()
                }
                (IntWidth::Big, Signedness::Unsigned) => match opts.bigint_unsigned {
                    BigintUnsignedHandlingMode::Long => SchemaBuilder::int64(),
                    BigintUnsignedHandlingMode::Precise => logical::decimal_with_precision(20, 0),
                },
            },
            Decimal { precision, scale } => match opts.decimal {
                DecimalHandlingMode::Precise => {
                    logical::decimal_with_precision(*precision, *scale as i32)
                }
                DecimalHandlingMode::Double => SchemaBuilder::float64(),
                DecimalHandlingMode::String => SchemaBuilder::string(),
            },
            Float => SchemaBuilder::float32(),
            Double => SchemaBuilder::float64(),
            Bit { length: 1 } => SchemaBuilder::boolean(),
            Bit { length } => logical::bits(*length),
            FixedString { .. } | VarString { .. } | Lob { .. } if self.is_binary() => binary(),
            FixedString { .. } | VarString { .. } | Lob { .. } => SchemaBuilder::string(),
            Date if adaptive => logical::date(),
            Date => logical::connect_date(),
            Time { fsp } => match opts.time_precision {
                TimePrecisionMode::AdaptiveTimeMicroseconds => logical::micro_time(),
                TimePrecisionMode::Adaptive if *fsp <= 3 => logical::time(),
                TimePrecisionMode::Adaptive => logical::micro_time(),
                TimePrecisionMode::Connect => logical::connect_time(),
            },
            DateTime { fsp } if adaptive && *fsp <= 3 => logical::timestamp(),
            DateTime { .. } if adaptive => logical::micro_timestamp(),
            DateTime { .. } => logical::connect_timestamp(),
            Timestamp { .. } => logical::zoned_timestamp(),
            Year => logical::year(),
            Enum { values } => logical::enumeration(&escape_members(values)),
            Set { values } => logical::enum_set(&escape_members(values)),
            Json => logical::json(),
            Geometry(GeometryKind::Point) => logical::point(),
            Geometry(GeometryKind::Other(_)) => logical::geometry(),
        }
    }
}

/// ENUM/SET members for the `allowed` parameter: Debezium escapes a comma inside a member as
/// `\,` so the comma-joined list stays unambiguous.
fn escape_members(values: &[String]) -> Vec<String> {
    values.iter().map(|v| v.replace(',', "\\,")).collect()
}

/// The most bytes one character takes, to turn a byte length into a character length.
pub(crate) fn max_bytes_per_char(charset: Charset) -> u32 {
    match charset {
        Charset::Utf8mb4 | Charset::Utf16 | Charset::Utf16le | Charset::Utf32 => 4,
        Charset::Utf8mb3 => 3,
        Charset::Ucs2 => 2,
        Charset::Latin1 | Charset::Ascii | Charset::Binary => 1,
    }
}

/// GEOMETRY_TYPE metadata values (MySQL's `Field::geometry_type`).
fn geometry_kind(code: Option<u8>) -> GeometryKind {
    match code {
        Some(1) => GeometryKind::Point,
        Some(2) => GeometryKind::Other("LINESTRING"),
        Some(3) => GeometryKind::Other("POLYGON"),
        Some(4) => GeometryKind::Other("MULTIPOINT"),
        Some(5) => GeometryKind::Other("MULTILINESTRING"),
        Some(6) => GeometryKind::Other("MULTIPOLYGON"),
        Some(7) => GeometryKind::Other("GEOMETRYCOLLECTION"),
        _ => GeometryKind::Other("GEOMETRY"),
    }
}
