//! What the catalog says about a captured table's columns: names, types, nullability and
//! key membership, in the order pgoutput sends them (attribute number, without dropped or
//! generated columns). Both the snapshot and the stream build their event schemas from it;
//! pgoutput's Relation message lacks nullability and flags every column as key under
//! REPLICA IDENTITY FULL, so the catalog is the authority for both (defaults too, which
//! Relation messages do not carry).

use tokio_postgres::Client;

use crate::error::{Error, Result};
use crate::table::TableColumn;
use crate::types::ColumnType;

/// One column of a captured table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnFacts {
    pub name: String,
    pub type_oid: u32,
    pub type_modifier: i32,
    pub not_null: bool,
    /// The column's place in the event key (primary key, else replica identity index), from 0.
    pub key_position: Option<usize>,
    /// `pg_attribute.attndims`-independent type name (`format_type`), for messages.
    pub type_name: String,
    /// The column's `DEFAULT` expression as the server prints it, if it has one.
    pub default_expression: Option<String>,
}

impl ColumnFacts {
    /// The column for a table mapping, of type `ty` (resolved from this column's type or
    /// from a Relation message's), with its default, nullability and key membership.
    pub fn to_table_column(&self, ty: ColumnType) -> TableColumn {
        TableColumn {
            name: self.name.clone(),
            ty: match &self.default_expression {
                Some(expression) => ty.with_default_expression(expression.as_str()),
                None => ty,
            },
            optional: !self.not_null,
            key: self.key_position.is_some(),
        }
    }
}

/// The columns of table `oid`, in attribute order.
pub async fn describe_columns(client: &Client, oid: u32) -> Result<Vec<ColumnFacts>> {
    let rows = client
        .query(
            "WITH key_index AS (
                 SELECT i.indkey FROM pg_index i
                 WHERE i.indrelid = $1 AND (i.indisprimary OR i.indisreplident)
                 ORDER BY i.indisprimary DESC LIMIT 1)
             SELECT a.attname::text, a.atttypid, a.atttypmod, a.attnotnull,
                    (SELECT array_position(k.indkey::int2[], a.attnum) FROM key_index k),
                    format_type(a.atttypid, a.atttypmod),
                    pg_get_expr(d.adbin, d.adrelid)
             FROM pg_attribute a
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
               AND a.attgenerated = ''
             ORDER BY a.attnum",
            &[&oid],
        )
        .await
        .map_err(|source| {
            Error::postgres(format!("read the columns of table oid {oid}"), source)
        })?;
    Ok(rows
        .iter()
        .map(|row| {
            let position: Option<i32> = row.get(4);
            ColumnFacts {
                name: row.get(0),
                type_oid: row.get(1),
                type_modifier: row.get(2),
                not_null: row.get(3),
                key_position: position.map(|p| (p - 1) as usize),
                type_name: row.get(5),
                default_expression: row.get(6),
            }
        })
        .collect())
}

/// The columns of `schema.table`; a table that does not exist is an error naming it.
pub async fn describe_table(
    client: &Client,
    schema: &str,
    table: &str,
) -> Result<Vec<ColumnFacts>> {
    let not_found = || Error::TableNotFound {
        table: format!("{schema}.{table}"),
    };
    let oid = table_oid(client, schema, table)
        .await?
        .ok_or_else(not_found)?;
    let columns = describe_columns(client, oid).await?;
    if columns.is_empty() {
        return Err(not_found());
    }
    Ok(columns)
}

/// The oid of `schema.table`, if the table exists.
pub async fn table_oid(client: &Client, schema: &str, table: &str) -> Result<Option<u32>> {
    let row = client
        .query_opt(
            "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relname = $2",
            &[&schema, &table],
        )
        .await
        .map_err(|source| Error::postgres(format!("look up table {schema}.{table}"), source))?;
    Ok(row.map(|row| row.get(0)))
}
