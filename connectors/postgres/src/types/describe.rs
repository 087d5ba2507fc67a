//! A table's columns as the catalog describes them — name, type, nullability and key
//! membership — in the order pgoutput and `SELECT *` give them, ready for
//! [`crate::table::TableMapping`].

use tokio_postgres::Client;

use super::catalog::TypeCatalog;
use crate::error::{Error, Result};
use crate::table::TableColumn;

/// Generated columns are left out: pgoutput does not publish them (Postgres ≤ 17), so a row's
/// cells would not line up otherwise. The key is the primary key, else the columns of the
/// `REPLICA IDENTITY USING INDEX` index.
const SELECT_COLUMNS: &str = "
    SELECT a.attname::text, a.atttypid, a.atttypmod, a.attnotnull,
           coalesce(a.attnum = ANY (pk.indkey), false) AS in_primary_key,
           coalesce(a.attnum = ANY (ri.indkey), false) AS in_identity_index,
           pk.indexrelid IS NOT NULL AS has_primary_key,
           pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS default_expression
    FROM pg_catalog.pg_attribute a
    JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_catalog.pg_index pk ON pk.indrelid = c.oid AND pk.indisprimary
    LEFT JOIN pg_catalog.pg_index ri ON ri.indrelid = c.oid AND ri.indisreplident
    LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
    WHERE n.nspname = $1 AND c.relname = $2
      AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
    ORDER BY a.attnum";

/// Reads the columns of `schema.table`, loading any type the catalog does not know yet.
/// A table that does not exist is an error naming it.
pub async fn load_table_columns(
    client: &Client,
    catalog: &mut TypeCatalog,
    schema: &str,
    table: &str,
) -> Result<Vec<TableColumn>> {
    let rows = client
        .query(SELECT_COLUMNS, &[&schema, &table])
        .await
        .map_err(|source| Error::TypeCatalog {
            context: format!("reading the columns of {schema}.{table}"),
            source,
        })?;
    if rows.is_empty() {
        return Err(Error::TableNotFound {
            table: format!("{schema}.{table}"),
        });
    }
    let oids: Vec<u32> = rows.iter().map(|row| row.get(1)).collect();
    catalog.ensure(client, &oids).await?;
    Ok(rows
        .iter()
        .map(|row| {
            let has_primary_key: bool = row.get(6);
            let key_column = if has_primary_key { 4 } else { 5 };
            let not_null: bool = row.get(3);
            let ty = catalog.resolve(row.get(1), row.get(2));
            let default_expression: Option<String> = row.get(7);
            TableColumn {
                name: row.get(0),
                ty: match default_expression {
                    Some(expression) => ty.with_default_expression(expression),
                    None => ty,
                },
                optional: !not_null,
                key: row.get(key_column),
            }
        })
        .collect())
}
