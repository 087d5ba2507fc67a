//! What the catalog says about a captured table's columns: names, types, nullability and
//! key membership, in the order pgoutput sends them (attribute number, without dropped or
//! generated columns). Both the snapshot and the stream build their event schemas from it;
//! pgoutput's Relation message lacks nullability and flags every column as key under
//! REPLICA IDENTITY FULL, so the catalog is the authority for both.

use tokio_postgres::Client;

use crate::error::{Error, Result};

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
                    format_type(a.atttypid, a.atttypmod)
             FROM pg_attribute a
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
            }
        })
        .collect())
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
