//! Postgres data types to Debezium's Connect schemas and values.
//!
//! [`TypeCatalog`] resolves a column's type OID and modifier (from a pgoutput Relation message
//! or the catalog) to a [`ColumnType`]; [`ColumnType::schema`] gives its Connect schema and
//! [`ColumnType::decode_text`] converts values in Postgres's text output format, both under the
//! connector's [`TypeOptions`]. [`ColumnFilter`] and [`MessageKeyColumns`] read the column and
//! key selection settings used by [`crate::table::TableMapping`].
//!
//! - [`options`]: `decimal.handling.mode`, `time.precision.mode`, … ([`TypeOptions`]).
//! - [`catalog`]: [`TypeCatalog`] over `pg_type` / `pg_enum`.
//! - [`builtin`]: built-in types by fixed OID, type modifiers (numeric, time precision, bits).
//! - [`column`]: [`ColumnType`], [`TypeKind`] and their schemas.
//! - [`decode`]: text → [`sluice_schemas::Value`] per type.
//! - [`extras`]: `hstore` and `point` values.
//! - [`default`]: column default expressions → schema default values.
//! - [`numeric`], [`temporal`], [`interval`], [`array`]: the text formats of those types.
//! - [`selection`]: [`ColumnFilter`], [`MessageKeyColumns`].

pub mod array;
pub mod builtin;
pub mod catalog;
pub mod column;
pub mod decode;
pub mod default;
pub mod extras;
pub mod interval;
pub mod numeric;
pub mod options;
pub mod selection;
pub mod temporal;

pub use catalog::TypeCatalog;
pub use column::{ColumnType, TypeKind};
pub use options::{
    BinaryHandlingMode, DecimalHandlingMode, HstoreHandlingMode, IntervalHandlingMode,
    TimePrecisionMode, TypeOptions, UnknownTypes,
};
pub use selection::{ColumnFilter, MessageKeyColumns, parse_message_key_columns};
