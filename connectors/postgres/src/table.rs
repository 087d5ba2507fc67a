//! [`TableMapping`]: one captured table's Debezium schemas (`<prefix>.<schema>.<table>.Key`,
//! `.Value`, `.Envelope`) and the conversion of a row's cells — in the table's column order,
//! as pgoutput tuples and snapshot rows give them — into the row and key structs.

use std::sync::Arc;

use sluice_schemas::envelope::TableEnvelope;
use sluice_schemas::{Schema, SchemaRef, SchemaType, Struct, Value, logical};

use crate::error::{Error, Result};
use crate::pgoutput::ColumnValue;
use crate::types::{ColumnFilter, ColumnType, MessageKeyColumns, TypeOptions};

/// One column of a captured table, in the table's column order.
#[derive(Debug, Clone)]
pub struct TableColumn {
    pub name: String,
    pub ty: ColumnType,
    /// Whether the column may be NULL (not `NOT NULL`).
    pub optional: bool,
    /// Whether the column is part of the event key.
    pub key: bool,
}

/// One value of a row, borrowed from a pgoutput tuple or a snapshot row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell<'a> {
    Null,
    /// A TOASTed value the change left untouched, which pgoutput does not send.
    UnchangedToast,
    /// The value in the type's text output format.
    Text(&'a str),
}

impl<'a> TryFrom<&ColumnValue<'a>> for Cell<'a> {
    type Error = Error;

    /// pgoutput text values become [`Cell::Text`]; binary values (only sent when the
    /// subscription asks for `binary`) and non-UTF-8 text are refused.
    fn try_from(value: &ColumnValue<'a>) -> Result<Cell<'a>> {
        match value {
            ColumnValue::Null => Ok(Cell::Null),
            ColumnValue::UnchangedToast => Ok(Cell::UnchangedToast),
            ColumnValue::Text(bytes) => {
                std::str::from_utf8(bytes)
                    .map(Cell::Text)
                    .map_err(|_| Error::InvalidColumnValue {
                        type_name: "text".to_string(),
                        text: String::from_utf8_lossy(bytes).into_owned(),
                        reason: "the value is not UTF-8; use a UTF8 database encoding".to_string(),
                    })
            }
            ColumnValue::Binary(_) => Err(Error::InvalidColumnValue {
                type_name: "binary".to_string(),
                text: String::new(),
                reason: "pgoutput sent a binary-format value; start replication without the \
                         `binary` option"
                    .to_string(),
            }),
        }
    }
}

/// An emptied list of cells, its allocation kept, for cells of another lifetime (a list kept
/// between rows whose cells borrow each row's text): the in-place `collect` of a vector into
/// one of a same-sized type reuses its buffer.
pub(crate) fn recycle_cells<'b>(mut cells: Vec<Cell<'_>>) -> Vec<Cell<'b>> {
    cells.clear();
    cells.into_iter().map(|_| Cell::Null).collect()
}

/// Marks the columns `message.key.columns` names for `schema.table` as the key (and no others).
/// A named column the table does not have is an error.
pub fn apply_message_key_columns(
    keys: &MessageKeyColumns,
    schema: &str,
    table: &str,
    columns: &mut [TableColumn],
) -> Result<()> {
    let Some(wanted) = keys.for_table(schema, table) else {
        return Ok(());
    };
    if let Some(missing) = wanted
        .iter()
        .find(|name| !columns.iter().any(|c| &c.name == *name))
    {
        return Err(Error::InvalidMessageKeyColumns {
            text: wanted.join(","),
            reason: format!("table {schema}.{table} has no column {missing:?}"),
        });
    }
    for column in columns.iter_mut() {
        column.key = wanted.contains(&column.name);
    }
    Ok(())
}

/// The converted values of a row, kept by whoever converts many rows so that each row reuses
/// one buffer: the values move from it into the row struct's single allocation.
#[derive(Debug, Default)]
pub struct RowBuffer {
    values: Vec<Value>,
}

/// A column that is part of the events: where it sits in the row, and its field schema.
#[derive(Debug, Clone)]
struct MappedColumn {
    index: usize,
    name: String,
    ty: ColumnType,
    schema: SchemaRef,
}

/// The schemas and value conversion of one captured table.
#[derive(Debug, Clone)]
pub struct TableMapping {
    /// Shared with every record of the table (cloning it is a reference count).
    topic: Arc<str>,
    table: String,
    envelope: TableEnvelope,
    value_columns: Vec<MappedColumn>,
    key_columns: Vec<MappedColumn>,
    /// Where each key column sits among the value columns (every key column is one), so a
    /// key can be copied from a converted row instead of converting its cells again.
    key_in_value: Vec<usize>,
    column_count: usize,
    options: TypeOptions,
    placeholder: String,
}

impl TableMapping {
    /// Builds the mapping of `schema.table`, whose events go to topic
    /// `<topic_prefix>.<schema>.<table>`. Columns excluded by `filter`, and columns of unknown
    /// types when `include.unknown.datatypes` is off, are left out of the schemas.
    /// `unavailable_placeholder` stands in for unchanged TOASTed values.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        topic_prefix: &str,
        schema: &str,
        table: &str,
        columns: Vec<TableColumn>,
        opts: &TypeOptions,
        filter: &ColumnFilter,
        unavailable_placeholder: &str,
        source_schema: SchemaRef,
    ) -> Result<TableMapping> {
        let column_count = columns.len();
        let mut value_columns = Vec::with_capacity(column_count);
        let mut key_columns = Vec::new();
        for (index, column) in columns.into_iter().enumerate() {
            if !filter.includes(schema, table, &column.name) {
                continue;
            }
            let Some(field_schema) = column.ty.schema(column.optional, opts) else {
                tracing::debug!(
                    table = %format!("{schema}.{table}"),
                    column = %column.name,
                    r#type = column.ty.name(),
                    "column of an unknown type left out (include.unknown.datatypes=false)"
                );
                continue;
            };
            let mapped = MappedColumn {
                index,
                name: column.name,
                ty: column.ty,
                schema: field_schema,
            };
            if column.key {
                key_columns.push(mapped.clone());
            }
            value_columns.push(mapped);
        }
        let topic = format!("{topic_prefix}.{schema}.{table}");
        let envelope = build_envelope(&topic, &key_columns, &value_columns, source_schema);
        Ok(TableMapping {
            topic: topic.into(),
            table: format!("{schema}.{table}"),
            envelope,
            key_in_value: key_positions(&key_columns, &value_columns),
            value_columns,
            key_columns,
            column_count,
            options: *opts,
            placeholder: unavailable_placeholder.to_string(),
        })
    }

    /// The Key/Value/Envelope schemas; `key_schema()` is `None` for keyless tables.
    pub fn envelope(&self) -> &TableEnvelope {
        &self.envelope
    }

    /// `<prefix>.<schema>.<table>`, shared: records clone it instead of copying it.
    pub fn topic(&self) -> &Arc<str> {
        &self.topic
    }

    /// How many columns the table has (captured or not): the cells a row must have.
    pub fn column_count(&self) -> usize {
        self.column_count
    }

    /// The names of the columns in the value, in order.
    pub fn value_column_names(&self) -> impl Iterator<Item = &str> {
        self.value_columns.iter().map(|c| c.name.as_str())
    }

    /// Puts the key fields in the order of `names` — Debezium orders a primary key's fields as
    /// the key declares them (`PRIMARY KEY (b, a)`), not in table order. Key columns `names`
    /// leaves out keep their table order after the named ones; a name that is not a key column
    /// is an error.
    pub fn with_key_order(mut self, names: &[String]) -> Result<TableMapping> {
        if let Some(stranger) = names
            .iter()
            .find(|name| !self.key_columns.iter().any(|c| &c.name == *name))
        {
            return Err(Error::InvalidMessageKeyColumns {
                text: names.join(","),
                reason: format!("{stranger:?} is not a key column of table {}", self.table),
            });
        }
        self.key_columns.sort_by_key(|column| {
            names
                .iter()
                .position(|name| *name == column.name)
                .unwrap_or(usize::MAX)
        });
        self.envelope = build_envelope(
            &self.topic,
            &self.key_columns,
            &self.value_columns,
            self.envelope.source_schema().clone(),
        );
        self.key_in_value = key_positions(&self.key_columns, &self.value_columns);
        Ok(self)
    }

    /// The names of the key columns, in order (empty for keyless tables).
    pub fn key_column_names(&self) -> impl Iterator<Item = &str> {
        self.key_columns.iter().map(|c| c.name.as_str())
    }

    /// The row struct (`….Value`) from all of the table's cells in column order.
    pub fn row(&self, cells: &[Cell]) -> Result<Struct> {
        let mut buffer = RowBuffer::default();
        self.convert(&self.value_columns, cells, &mut buffer)?;
        self.built_row(&mut buffer)
    }

    /// The key struct from all of the table's cells; `None` for tables without key columns.
    pub fn key(&self, cells: &[Cell]) -> Result<Option<Struct>> {
        if self.envelope.key_schema().is_none() {
            return Ok(None);
        }
        let mut buffer = RowBuffer::default();
        self.convert(&self.key_columns, cells, &mut buffer)?;
        self.built_key(buffer.values.drain(..)).map(Some)
    }

    /// [`row`](Self::row) and [`key`](Self::key) of the same cells, converting each cell
    /// once: the key's values are copies of the row's.
    pub fn row_and_key(&self, cells: &[Cell]) -> Result<(Struct, Option<Struct>)> {
        self.row_and_key_in(cells, &mut RowBuffer::default())
    }

    /// [`row_and_key`](Self::row_and_key) converting into `buffer`, a [`RowBuffer`] the caller
    /// keeps between rows: then the row and key structs are a row's only allocations besides
    /// its long strings.
    pub fn row_and_key_in(
        &self,
        cells: &[Cell],
        buffer: &mut RowBuffer,
    ) -> Result<(Struct, Option<Struct>)> {
        self.convert(&self.value_columns, cells, buffer)?;
        let key = match self.envelope.key_schema() {
            None => None,
            Some(_) => {
                let values = &buffer.values;
                Some(self.built_key(self.key_in_value.iter().map(|&at| values[at].clone()))?)
            }
        };
        Ok((self.built_row(buffer)?, key))
    }

    /// The row struct of the values converted into `buffer` (left empty).
    fn built_row(&self, buffer: &mut RowBuffer) -> Result<Struct> {
        self.envelope
            .built_row(buffer.values.drain(..))
            .map_err(|source| Error::Schema {
                context: format!("building a row of table {}", self.table),
                source,
            })
    }

    fn built_key<I>(&self, values: I) -> Result<Struct>
    where
        I: IntoIterator<Item = Value>,
        I::IntoIter: ExactSizeIterator,
    {
        self.envelope
            .built_key(values)
            .map_err(|source| Error::Schema {
                context: format!("building a key of table {}", self.table),
                source,
            })
    }

    /// Converts the cells of `columns` into `buffer` (emptied first), in their order.
    fn convert(
        &self,
        columns: &[MappedColumn],
        cells: &[Cell],
        buffer: &mut RowBuffer,
    ) -> Result<()> {
        let values = &mut buffer.values;
        values.clear();
        if cells.len() != self.column_count {
            return Err(Error::RowShapeMismatch {
                table: self.table.clone(),
                expected: self.column_count,
                actual: cells.len(),
            });
        }
        values.reserve(columns.len());
        for column in columns {
            // Text, by far the most common cell, is decoded here with a small error type; the
            // rest (and every error) goes through `cell_value`.
            let converted = match cells[column.index] {
                Cell::Text(text) => match column.ty.decode(text, &self.options) {
                    Ok(Value::Struct(value)) => Ok(with_field_schema(value, &column.schema)),
                    Ok(value) => Ok(value),
                    Err(reason) => Err(column.ty.invalid_text(text, reason)),
                },
                cell => self.cell_value(column, cell),
            };
            match converted {
                Ok(value) => values.push(value),
                Err(source) => {
                    values.clear();
                    return Err(self.conversion_error(column, source));
                }
            }
        }
        Ok(())
    }

    #[cold]
    fn conversion_error(&self, column: &MappedColumn, source: Error) -> Error {
        Error::ColumnConversion {
            table: self.table.clone(),
            column: column.name.clone(),
            source: Box::new(source),
        }
    }

    fn cell_value(&self, column: &MappedColumn, cell: Cell) -> Result<Value> {
        match cell {
            Cell::Text(text) => match column.ty.decode_text(text, &self.options)? {
                Value::Struct(value) => Ok(with_field_schema(value, &column.schema)),
                value => Ok(value),
            },
            // A NOT NULL column can still arrive as NULL: the non-key columns of a key-only old
            // tuple. Debezium fills those with the type's zero value; so do we.
            Cell::Null if column.schema.is_optional() => Ok(Value::Null),
            Cell::Null => Ok(zero_value(&column.schema)),
            Cell::UnchangedToast => placeholder_value(&column.schema, &self.placeholder)
                .ok_or_else(|| Error::InvalidColumnValue {
                    type_name: column.ty.name().to_string(),
                    text: String::new(),
                    reason: "the value is an unchanged TOASTed value that was not sent, and \
                                 this type cannot carry unavailable.value.placeholder; set \
                                 REPLICA IDENTITY FULL on the table so the old value is sent"
                        .to_string(),
                }),
        }
    }
}

fn build_envelope(
    topic: &str,
    key_columns: &[MappedColumn],
    value_columns: &[MappedColumn],
    source_schema: SchemaRef,
) -> TableEnvelope {
    let fields = |list: &[MappedColumn]| -> Vec<(String, SchemaRef)> {
        list.iter()
            .map(|c| (c.name.clone(), c.schema.clone()))
            .collect()
    };
    TableEnvelope::new(
        topic,
        &fields(key_columns),
        &fields(value_columns),
        source_schema,
    )
}

/// The index among `value_columns` of each key column (a key column is always a value column:
/// both lists keep the same filtered, typed columns).
fn key_positions(key_columns: &[MappedColumn], value_columns: &[MappedColumn]) -> Vec<usize> {
    key_columns
        .iter()
        .map(|key| {
            value_columns
                .iter()
                .position(|value| value.index == key.index)
                .expect("every key column is a value column")
        })
        .collect()
}

/// Struct values (VariableScaleDecimal, Point) are decoded with an optional schema; a NOT NULL
/// column's field schema is required, and structs must carry their field's exact schema.
fn with_field_schema(value: Struct, schema: &SchemaRef) -> Value {
    if **value.schema() == **schema {
        return Value::Struct(value);
    }
    Struct::from_values(schema.clone(), value.values().to_vec())
        .map_or(Value::Struct(value), Value::Struct)
}

/// `unavailable.value.placeholder` in a column's schema: the text for strings, its bytes for
/// bytes, a one-element array for arrays of those, the bytes as numbers for integer arrays;
/// `None` for types that cannot carry it.
fn placeholder_value(schema: &Schema, placeholder: &str) -> Option<Value> {
    match schema.schema_type() {
        SchemaType::String => Some(Value::String(placeholder.into())),
        SchemaType::Bytes if schema.name() != Some(logical::DECIMAL) => {
            Some(Value::Bytes(placeholder.as_bytes().to_vec()))
        }
        SchemaType::Array => {
            let items = schema.value_schema()?;
            // Integer arrays carry the placeholder's bytes as numbers, as Debezium does.
            let as_numbers = |to_value: fn(i8) -> Value| {
                Some(Value::Array(
                    placeholder.bytes().map(|b| to_value(b as i8)).collect(),
                ))
            };
            match (items.schema_type(), items.name()) {
                (SchemaType::Int16, None) => as_numbers(|b| Value::Int16(b.into())),
                (SchemaType::Int32, None) => as_numbers(|b| Value::Int32(b.into())),
                (SchemaType::Int64, None) => as_numbers(|b| Value::Int64(b.into())),
                _ => Some(Value::Array(vec![placeholder_value(items, placeholder)?])),
            }
        }
        // An hstore in map mode: {placeholder: placeholder}.
        SchemaType::Map => Some(Value::Map(vec![(
            Value::String(placeholder.into()),
            Value::String(placeholder.into()),
        )])),
        _ => None,
    }
}

/// The zero value Debezium gives a NOT NULL column that arrived without a value.
fn zero_value(schema: &Schema) -> Value {
    match schema.schema_type() {
        SchemaType::Int8 => Value::Int8(0),
        SchemaType::Int16 => Value::Int16(0),
        SchemaType::Int32 => Value::Int32(0),
        SchemaType::Int64 => Value::Int64(0),
        SchemaType::Float32 => Value::Float32(0.0),
        SchemaType::Float64 => Value::Float64(0.0),
        SchemaType::Boolean => Value::Boolean(false),
        SchemaType::String => Value::String(Default::default()),
        SchemaType::Bytes if schema.name() == Some(logical::DECIMAL) => Value::Bytes(vec![0]),
        SchemaType::Bytes => Value::Bytes(Vec::new()),
        SchemaType::Array => Value::Array(Vec::new()),
        SchemaType::Map => Value::Map(Vec::new()),
        SchemaType::Struct if schema.name() == Some(logical::VARIABLE_SCALE_DECIMAL) => {
            let zero = vec![Value::Int32(0), Value::Bytes(vec![0])];
            Struct::from_values(schema_ref(schema), zero).map_or(Value::Null, Value::Struct)
        }
        SchemaType::Struct => {
            let fields = schema.fields().iter().map(|f| zero_value(f.schema()));
            match Struct::from_values(schema_ref(schema), fields.collect()) {
                Ok(s) => Value::Struct(s),
                Err(_) => Value::Null,
            }
        }
    }
}

fn schema_ref(schema: &Schema) -> SchemaRef {
    SchemaRef::new(schema.clone())
}

#[cfg(test)]
mod tests;
