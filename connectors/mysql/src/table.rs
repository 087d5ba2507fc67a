//! [`TableMapping`]: one captured table's columns and key, its Debezium record schemas
//! (`<prefix>.<db>.<table>.Key/Value/Envelope`) and the conversion of whole binlog row images
//! or snapshot rows into row and key structs.
//!
//! Submodules: [`filter`] (`column.include.list` / `column.exclude.list`) and
//! [`message_key`] (`message.key.columns`).

pub mod filter;
pub mod message_key;

pub use filter::ColumnFilter;
pub use message_key::{MessageKeyColumns, parse_message_key_columns};

use std::sync::Arc;

use sluice_schemas::envelope::TableEnvelope;
use sluice_schemas::{SchemaRef, Struct, Value};

use crate::binlog::{Cell, ColumnInfo, TableMap};
use crate::error::{Error, Result};
use crate::types::{ColumnType, TypeOptions, apply_json_diff};

/// One column of a captured table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableColumn {
    pub name: String,
    pub ty: ColumnType,
    /// Whether the column accepts NULL (its field schema is optional).
    pub optional: bool,
}

impl TableColumn {
    /// The column as a TABLE_MAP describes it (`index` is its position, for messages). Needs
    /// the column names of `binlog_row_metadata=FULL`.
    pub fn from_binlog(info: &ColumnInfo, index: usize) -> Result<Self> {
        let name = info
            .name
            .clone()
            .ok_or_else(|| Error::UnsupportedColumnType {
                column: format!("#{index}"),
                reason: "the TABLE_MAP carries no column names; set binlog_row_metadata=FULL on \
                     the server"
                    .into(),
            })?;
        let ty = ColumnType::from_binlog(info).map_err(|e| match e {
            Error::UnsupportedColumnType { reason, .. } => Error::UnsupportedColumnType {
                column: name.clone(),
                reason,
            },
            other => other,
        })?;
        Ok(TableColumn {
            name,
            ty,
            optional: info.nullable,
        })
    }

    /// All columns of a TABLE_MAP, in order.
    pub fn all_from_table_map(map: &TableMap) -> Result<Vec<Self>> {
        map.columns
            .iter()
            .enumerate()
            .map(|(index, info)| TableColumn::from_binlog(info, index))
            .collect()
    }
}

/// (name, field schema) pairs for [`TableEnvelope::new`].
fn pairs(list: &[MappedColumn]) -> Vec<(String, SchemaRef)> {
    list.iter()
        .map(|m| (m.column.name.clone(), m.schema.clone()))
        .collect()
}

/// A column that made it through the column filter: where it sits in the source row, and
/// its field schema.
#[derive(Debug, Clone)]
struct MappedColumn {
    source_index: usize,
    column: TableColumn,
    schema: SchemaRef,
}

/// The record schemas of one table and the conversion of its rows.
#[derive(Debug, Clone)]
pub struct TableMapping {
    /// Shared with every record of the table (cloning it is a reference count).
    topic: Arc<str>,
    table: String,
    column_count: usize,
    opts: TypeOptions,
    fields: Vec<MappedColumn>,
    key: Vec<MappedColumn>,
    envelope: TableEnvelope,
}

impl TableMapping {
    /// `columns` in table order; `key_columns` indexes into them (the primary key, or the
    /// `message.key.columns` choice; empty: events have no key). Columns the filter excludes
    /// are left out of the row (key columns stay in the key).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        topic_prefix: &str,
        database: &str,
        table: &str,
        columns: Vec<TableColumn>,
        key_columns: &[usize],
        opts: &TypeOptions,
        filter: &ColumnFilter,
        source_schema: SchemaRef,
    ) -> Result<Self> {
        let qualified = format!("{database}.{table}");
        let column_count = columns.len();
        let mapped = |source_index: usize, column: &TableColumn| MappedColumn {
            source_index,
            schema: column.ty.schema(column.optional, opts),
            column: column.clone(),
        };
        let mut key = Vec::with_capacity(key_columns.len());
        for &index in key_columns {
            let column = columns.get(index).ok_or_else(|| Error::TableMapping {
                table: qualified.clone(),
                reason: format!(
                    "key column index {index} but the table has {column_count} columns"
                ),
            })?;
            key.push(mapped(index, column));
        }
        let fields: Vec<MappedColumn> = columns
            .iter()
            .enumerate()
            .filter(|(_, c)| filter.includes(database, table, &c.name))
            .map(|(i, c)| mapped(i, c))
            .collect();
        let record_prefix = format!("{topic_prefix}.{database}.{table}");
        let envelope =
            TableEnvelope::new(&record_prefix, &pairs(&key), &pairs(&fields), source_schema);
        Ok(TableMapping {
            topic: record_prefix.into(),
            table: qualified,
            column_count,
            opts: *opts,
            fields,
            key,
            envelope,
        })
    }

    /// The same mapping with the columns' catalog defaults (`COLUMN_DEFAULT` text, one entry
    /// per table column, `None` where the column has none) as field-schema defaults, as
    /// Debezium writes them. Mappings built from a TABLE_MAP alone have no defaults.
    pub fn with_column_defaults(mut self, defaults: &[Option<String>]) -> Result<Self> {
        self.check_width(defaults.len())?;
        let opts = self.opts;
        for m in self.fields.iter_mut().chain(self.key.iter_mut()) {
            let default = defaults[m.source_index]
                .as_deref()
                .and_then(|text| m.column.ty.default_value(text, &opts));
            m.schema = m
                .column
                .ty
                .schema_with_default(m.column.optional, &opts, default);
        }
        self.envelope = TableEnvelope::new(
            &self.topic,
            &pairs(&self.key),
            &pairs(&self.fields),
            self.envelope.source_schema().clone(),
        );
        Ok(self)
    }

    pub fn envelope(&self) -> &TableEnvelope {
        &self.envelope
    }

    /// The data topic, `<prefix>.<db>.<table>`.
    pub fn topic(&self) -> &Arc<str> {
        &self.topic
    }

    /// The columns in the row, in order (after the column filter).
    pub fn row_columns(&self) -> impl Iterator<Item = &TableColumn> {
        self.fields.iter().map(|m| &m.column)
    }

    /// The key columns, in key order.
    pub fn key_columns(&self) -> impl Iterator<Item = &TableColumn> {
        self.key.iter().map(|m| &m.column)
    }

    fn check_width(&self, found: usize) -> Result<()> {
        if found == self.column_count {
            return Ok(());
        }
        Err(Error::TableMapping {
            table: self.table.clone(),
            reason: format!(
                "a row has {found} values but the table has {} columns; the table's schema \
                 changed without the mapping being rebuilt",
                self.column_count
            ),
        })
    }

    /// Makes a converted value fit the field: zero dates in NOT NULL columns become the epoch,
    /// struct values (geometry) take the field's schema.
    fn fit(&self, m: &MappedColumn, value: Value) -> Result<Value> {
        let value = match value {
            Value::Null if !m.column.optional => {
                m.column
                    .ty
                    .zero_value(&self.opts)
                    .ok_or_else(|| Error::BadValue {
                        column: m.column.name.clone(),
                        reason: "the column is NOT NULL but the row has no value for it (is \
                             binlog_row_image=FULL?)"
                            .into(),
                    })?
            }
            Value::Struct(s) if !std::sync::Arc::ptr_eq(s.schema(), &m.schema) => Value::Struct(
                Struct::from_values(m.schema.clone(), s.values().to_vec()).map_err(|source| {
                    Error::ValueEncoding {
                        column: m.column.name.clone(),
                        source,
                    }
                })?,
            ),
            other => other,
        };
        Ok(value)
    }

    /// Converts the values of `list`'s columns out of a whole source row.
    fn values<T>(
        &self,
        list: &[MappedColumn],
        row: &[T],
        convert: impl Fn(&ColumnType, &T, &TypeOptions) -> Result<Value>,
    ) -> Result<Vec<Value>> {
        self.check_width(row.len())?;
        // Filled in a loop: collecting an iterator of results starts from an empty vector
        // and grows it, a reallocation or two per row.
        let mut values = Vec::with_capacity(list.len());
        for m in list {
            let value = convert(&m.column.ty, &row[m.source_index], &self.opts)
                .map_err(|e| e.in_column(&m.column.name))?;
            values.push(self.fit(m, value)?);
        }
        Ok(values)
    }

    fn binlog_values(&self, list: &[MappedColumn], cells: &[Cell]) -> Result<Vec<Value>> {
        self.values(list, cells, ColumnType::binlog_value)
    }

    fn snapshot_values(
        &self,
        list: &[MappedColumn],
        row: &[mysql_async::Value],
    ) -> Result<Vec<Value>> {
        self.values(list, row, ColumnType::snapshot_value)
    }

    fn row_struct(&self, values: Vec<Value>) -> Result<Struct> {
        self.envelope
            .row(values)
            .map_err(|source| Error::ValueEncoding {
                column: String::new(),
                source,
            })
    }

    fn key_struct(&self, values: Vec<Value>) -> Result<Option<Struct>> {
        if self.key.is_empty() {
            return Ok(None);
        }
        self.envelope
            .key(values)
            .map(Some)
            .map_err(|source| Error::ValueEncoding {
                column: String::new(),
                source,
            })
    }

    /// The row struct of one binlog row image (all table columns, in order).
    pub fn row_from_binlog(&self, cells: &[Cell]) -> Result<Struct> {
        self.row_struct(self.binlog_values(&self.fields, cells)?)
    }

    /// [`Self::row_from_binlog`] of an image the caller gives up: its byte strings become
    /// the row's strings without a copy.
    pub fn row_from_binlog_image(&self, cells: Vec<Cell>) -> Result<Struct> {
        self.row_from_owned(cells, Cell::Absent, ColumnType::binlog_value_owned)
    }

    /// The row struct of a whole source row the caller gives up, each column's value moved
    /// out (`taken` left in its place) and converted by `convert`.
    fn row_from_owned<T>(
        &self,
        mut row: Vec<T>,
        taken: T,
        convert: impl Fn(&ColumnType, T, &TypeOptions) -> Result<Value>,
    ) -> Result<Struct>
    where
        T: Clone,
    {
        self.check_width(row.len())?;
        let mut values = Vec::with_capacity(self.fields.len());
        for m in &self.fields {
            // Each column is mapped at most once, so its value is taken only once.
            let value = std::mem::replace(&mut row[m.source_index], taken.clone());
            let value = convert(&m.column.ty, value, &self.opts)
                .map_err(|e| e.in_column(&m.column.name))?;
            values.push(self.fit(m, value)?);
        }
        self.row_struct(values)
    }

    /// The before and after row structs of an UPDATE; partial JSON updates in `after` are
    /// applied to the JSON documents of `before`.
    pub fn row_from_binlog_update(
        &self,
        before: &[Cell],
        after: &[Cell],
    ) -> Result<(Struct, Struct)> {
        let after = resolve_json_diffs(before, after).map_err(|e| self.name_indexed_column(e))?;
        Ok((
            self.row_from_binlog(before)?,
            self.row_from_binlog(after.as_ref())?,
        ))
    }

    /// Replaces the `#<index>` column of a [`resolve_json_diffs`] error with the column's name.
    fn name_indexed_column(&self, error: Error) -> Error {
        match error {
            Error::BadValue { column, reason } => {
                let name = column
                    .strip_prefix('#')
                    .and_then(|i| i.parse::<usize>().ok())
                    .and_then(|i| self.fields.iter().find(|m| m.source_index == i))
                    .map_or(column.clone(), |m| m.column.name.clone());
                Error::BadValue {
                    column: name,
                    reason,
                }
            }
            other => other,
        }
    }

    /// The row struct of one snapshot row (all table columns, in order).
    pub fn row_from_snapshot(&self, row: &[mysql_async::Value]) -> Result<Struct> {
        self.row_struct(self.snapshot_values(&self.fields, row)?)
    }

    /// [`Self::row_from_snapshot`] of a row the caller gives up: its byte strings become the
    /// row's strings and bytes without a copy.
    pub fn row_from_snapshot_owned(&self, row: Vec<mysql_async::Value>) -> Result<Struct> {
        self.row_from_owned(
            row,
            mysql_async::Value::NULL,
            ColumnType::snapshot_value_owned,
        )
    }

    /// The key struct of a binlog row image; `None` when the table has no key.
    pub fn key_from_binlog(&self, cells: &[Cell]) -> Result<Option<Struct>> {
        if self.key.is_empty() {
            return Ok(None);
        }
        self.key_struct(self.binlog_values(&self.key, cells)?)
    }

    /// The key struct of a snapshot row; `None` when the table has no key.
    pub fn key_from_snapshot(&self, row: &[mysql_async::Value]) -> Result<Option<Struct>> {
        if self.key.is_empty() {
            return Ok(None);
        }
        self.key_struct(self.snapshot_values(&self.key, row)?)
    }
}

/// `after` with every [`Cell::JsonDiff`] replaced by the patched document of the same column
/// in `before` (borrowed unchanged when there is none).
pub fn resolve_json_diffs<'a>(
    before: &[Cell],
    after: &'a [Cell],
) -> Result<std::borrow::Cow<'a, [Cell]>> {
    if !after.iter().any(|c| matches!(c, Cell::JsonDiff(_))) {
        return Ok(std::borrow::Cow::Borrowed(after));
    }
    let mut resolved = after.to_vec();
    for (index, cell) in resolved.iter_mut().enumerate() {
        let Cell::JsonDiff(patches) = cell else {
            continue;
        };
        let document = match before.get(index) {
            Some(Cell::Json(document)) => apply_json_diff(document, patches)?,
            _ => {
                return Err(Error::BadValue {
                    column: format!("#{index}"),
                    reason: "a partial JSON update whose before image lacks the JSON document; \
                             set binlog_row_image=FULL"
                        .into(),
                });
            }
        };
        *cell = Cell::Json(document);
    }
    Ok(std::borrow::Cow::Owned(resolved))
}
