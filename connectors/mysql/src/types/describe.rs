//! [`ColumnDescription`]: what Debezium's schema-change events (`tableChanges[].table.columns`)
//! say about a column's type — type name, JDBC type code, length, scale, charset, ENUM/SET
//! members.

use super::charset::Charset;
use super::column::{ColumnType, GeometryKind, IntWidth, LobSize, Signedness, TypeKind};

/// `java.sql.Types` codes Debezium reports as `jdbcType`.
pub mod jdbc {
    pub const BIT: i32 = -7;
    pub const SMALLINT: i32 = 5;
    pub const INTEGER: i32 = 4;
    pub const BIGINT: i32 = -5;
    pub const FLOAT: i32 = 6;
    pub const DOUBLE: i32 = 8;
    pub const DECIMAL: i32 = 3;
    pub const CHAR: i32 = 1;
    pub const VARCHAR: i32 = 12;
    pub const BINARY: i32 = -2;
    pub const VARBINARY: i32 = -3;
    pub const BLOB: i32 = 2004;
    pub const DATE: i32 = 91;
    pub const TIME: i32 = 92;
    pub const TIMESTAMP: i32 = 93;
    pub const TIMESTAMP_WITH_TIMEZONE: i32 = 2014;
    pub const OTHER: i32 = 1111;
}

/// A column type as schema-change records describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDescription {
    /// `INT UNSIGNED`, `VARCHAR`, `DECIMAL`, `ENUM`, …
    pub type_name: String,
    /// `jdbcType`.
    pub jdbc_type: i32,
    /// Character length, DECIMAL precision, BIT length or fsp.
    pub length: Option<u32>,
    /// DECIMAL scale.
    pub scale: Option<u32>,
    /// `charsetName` for character columns.
    pub charset_name: Option<String>,
    /// ENUM/SET members, in definition order.
    pub enum_values: Vec<String>,
}

impl ColumnType {
    /// The description used in schema-change `tableChanges`.
    pub fn describe(&self) -> ColumnDescription {
        use TypeKind::*;
        let mut out = ColumnDescription {
            type_name: type_name(self),
            jdbc_type: jdbc_type(self),
            length: None,
            scale: None,
            charset_name: None,
            enum_values: Vec::new(),
        };
        match &self.kind {
            Decimal { precision, scale } => {
                out.length = Some(*precision);
                out.scale = Some(*scale);
            }
            Bit { length } => out.length = Some(*length),
            FixedString { charset, length } | VarString { charset, length } => {
                out.length = *length;
                out.charset_name = text_charset(*charset);
            }
            Lob { charset, .. } => out.charset_name = text_charset(*charset),
            Time { fsp } | DateTime { fsp } | Timestamp { fsp } if *fsp > 0 => {
                out.length = Some(u32::from(*fsp));
            }
            Enum { values } | Set { values } => out.enum_values = values.clone(),
            _ => {}
        }
        out
    }
}

fn text_charset(charset: Charset) -> Option<String> {
    (charset != Charset::Binary).then(|| charset.name().to_owned())
}

/// MySQL's type name, uppercase, with UNSIGNED where it applies.
pub(crate) fn type_name(ty: &ColumnType) -> String {
    use TypeKind::*;
    let binary = ty.is_binary();
    let name = match &ty.kind {
        Integer { width, sign } => {
            let base = match width {
                IntWidth::Tiny => "TINYINT",
                IntWidth::Small => "SMALLINT",
                IntWidth::Medium => "MEDIUMINT",
                IntWidth::Int => "INT",
                IntWidth::Big => "BIGINT",
            };
            return match sign {
                Signedness::Signed => base.to_owned(),
                Signedness::Unsigned => format!("{base} UNSIGNED"),
            };
        }
        Decimal { .. } => "DECIMAL",
        Float => "FLOAT",
        Double => "DOUBLE",
        Bit { .. } => "BIT",
        FixedString { .. } if binary => "BINARY",
        FixedString { .. } => "CHAR",
        VarString { .. } if binary => "VARBINARY",
        VarString { .. } => "VARCHAR",
        Lob { size, .. } => match (size, binary) {
            (LobSize::Tiny, true) => "TINYBLOB",
            (LobSize::Regular, true) => "BLOB",
            (LobSize::Medium, true) => "MEDIUMBLOB",
            (LobSize::Long, true) => "LONGBLOB",
            (LobSize::Tiny, false) => "TINYTEXT",
            (LobSize::Regular, false) => "TEXT",
            (LobSize::Medium, false) => "MEDIUMTEXT",
            (LobSize::Long, false) => "LONGTEXT",
        },
        Date => "DATE",
        Time { .. } => "TIME",
        DateTime { .. } => "DATETIME",
        Timestamp { .. } => "TIMESTAMP",
        Year => "YEAR",
        Enum { .. } => "ENUM",
        Set { .. } => "SET",
        Json => "JSON",
        Geometry(GeometryKind::Point) => "POINT",
        Geometry(GeometryKind::Other(name)) => name,
    };
    name.to_owned()
}

fn jdbc_type(ty: &ColumnType) -> i32 {
    use TypeKind::*;
    let binary = ty.is_binary();
    match &ty.kind {
        // Debezium's DDL parser types TINYINT as SMALLINT and FLOAT as FLOAT.
        Integer { width, .. } => match width {
            IntWidth::Tiny | IntWidth::Small => jdbc::SMALLINT,
            IntWidth::Medium | IntWidth::Int => jdbc::INTEGER,
            IntWidth::Big => jdbc::BIGINT,
        },
        Decimal { .. } => jdbc::DECIMAL,
        Float => jdbc::FLOAT,
        Double => jdbc::DOUBLE,
        Bit { .. } => jdbc::BIT,
        FixedString { .. } if binary => jdbc::BINARY,
        VarString { .. } if binary => jdbc::VARBINARY,
        Lob { .. } if binary => jdbc::BLOB,
        FixedString { .. } | Enum { .. } | Set { .. } => jdbc::CHAR,
        VarString { .. } | Lob { .. } => jdbc::VARCHAR,
        Date => jdbc::DATE,
        Time { .. } => jdbc::TIME,
        DateTime { .. } => jdbc::TIMESTAMP,
        Timestamp { .. } => jdbc::TIMESTAMP_WITH_TIMEZONE,
        Year => jdbc::INTEGER,
        Json | Geometry(_) => jdbc::OTHER,
    }
}
