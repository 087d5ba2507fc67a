//! Debezium's MySQL type mapping: column types (from the binlog TABLE_MAP or from
//! information_schema), their Kafka Connect schemas, and values from binlog cells or snapshot
//! rows.
//!
//! - [`options`]: `decimal.handling.mode`, `time.precision.mode`,
//!   `bigint.unsigned.handling.mode`, `binary.handling.mode`.
//! - [`column`]: [`ColumnType`], its kinds, `from_binlog` and `schema`.
//! - [`catalog`]: [`InformationSchemaColumn`] and `from_information_schema`.
//! - [`charset`]: collation ids / charset names and decoding.
//! - [`value`]: the shared value conversions (integers, decimals, temporals, geometry, …).
//! - [`geometry`]: SRID + WKB → Geometry / Point structs.
//! - [`binlog_value`]: binlog cells → values.
//! - [`snapshot_value`]: `mysql_async` values (text or binary protocol) → values.
//! - [`json_diff`]: applying partial JSON updates to the before image.
//! - [`default_value`]: catalog `COLUMN_DEFAULT` → schema default.
//! - [`describe`]: [`ColumnDescription`] for schema-change records.

pub mod binlog_value;
pub mod catalog;
pub mod charset;
pub mod column;
pub mod default_value;
pub mod describe;
pub(crate) mod geometry;
pub mod json_diff;
pub mod options;
pub mod snapshot_value;
pub(crate) mod value;

pub use catalog::InformationSchemaColumn;
pub use charset::Charset;
pub use column::{ColumnType, GeometryKind, IntWidth, LobSize, Signedness, TypeKind};
pub use describe::ColumnDescription;
pub use json_diff::apply_json_diff;
pub use options::{
    BigintUnsignedHandlingMode, BinaryHandlingMode, DecimalHandlingMode, TimePrecisionMode,
    TypeOptions,
};

/// ` of column <name>` for error messages, or nothing when the column is not known yet.
pub(crate) fn column_suffix(column: &str) -> String {
    if column.is_empty() {
        String::new()
    } else {
        format!(" of column {column}")
    }
}

impl crate::error::Error {
    /// Names the column in a value error raised before the column was known.
    pub(crate) fn in_column(self, name: &str) -> Self {
        use crate::error::Error;
        match self {
            Error::BadValue { column, reason } if column.is_empty() => Error::BadValue {
                column: name.to_owned(),
                reason,
            },
            Error::ValueEncoding { column, source } if column.is_empty() => Error::ValueEncoding {
                column: name.to_owned(),
                source,
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_semantic;
