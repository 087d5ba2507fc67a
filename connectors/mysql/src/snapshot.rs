//! The initial snapshot's database side: a consistent read view tied to a binlog position
//! without blocking writers (MariaDB: `START TRANSACTION WITH CONSISTENT SNAPSHOT` and the
//! `binlog_snapshot_file/position` status; MySQL: a brief `FLUSH TABLES WITH READ LOCK`),
//! the captured tables and their columns, and each table's rows streamed in primary-key
//! order (or, to resume, after a given integer key). Turning rows into records is
//! [`crate::snapshot_reader`]'s job.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};

use crate::error::{Error, Result};
use crate::filters::TableFilter;
use crate::flavour::Flavour;
use crate::offset::BinlogPosition;
use crate::table::TableMapping;
use crate::types::{InformationSchemaColumn, IntWidth, Signedness, TypeKind};
use sluice_schemas::{Struct, Value};

/// The binlog position the snapshot's read view corresponds to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotPoint {
    pub position: BinlogPosition,
    /// MariaDB's GTID position at that point (`BINLOG_GTID_POS`), when known.
    pub gtids: Option<String>,
}

/// A table the snapshot reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedTable {
    pub db: String,
    pub table: String,
    /// The server's row estimate (`information_schema.TABLES.TABLE_ROWS`).
    pub rows_estimated: Option<u64>,
}

fn db_error(context: String) -> impl FnOnce(mysql_async::Error) -> Error {
    move |source| Error::Database { context, source }
}

/// Opens the snapshot transaction on `conn` and returns its binlog position.
pub async fn open_read_view(conn: &mut Conn, flavour: Flavour) -> Result<SnapshotPoint> {
    let step = |what: &str| db_error(format!("snapshot: {what}"));
    conn.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .await
        .map_err(step("set REPEATABLE READ"))?;
    // TIMESTAMP text comes back in UTC; the type mapping relies on it.
    conn.query_drop("SET time_zone = '+00:00'")
        .await
        .map_err(step("set the session time zone to UTC"))?;
    match flavour {
        Flavour::MariaDb => {
            conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT")
                .await
                .map_err(step("start a consistent snapshot"))?;
            let status: Vec<(String, String)> = conn
                .query("SHOW STATUS LIKE 'binlog_snapshot_%'")
                .await
                .map_err(step("read binlog_snapshot_file/position"))?;
            let value = |name: &str| {
                status
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.clone())
            };
            let file = value("Binlog_snapshot_file").unwrap_or_default();
            let pos = value("Binlog_snapshot_position")
                .and_then(|p| p.parse().ok())
                .unwrap_or(4);
            let gtids: Option<String> = conn
                .exec_first("SELECT BINLOG_GTID_POS(?, ?)", (file.clone(), pos))
                .await
                .map_err(step("read the GTID position of the snapshot"))?;
            Ok(SnapshotPoint {
                position: BinlogPosition::new(file, pos),
                gtids: gtids.filter(|g| !g.is_empty()),
            })
        }
        Flavour::MySql => {
            // MySQL has no snapshot position status: hold the global read lock just long
            // enough to open the read view and read the position.
            conn.query_drop("FLUSH TABLES WITH READ LOCK")
                .await
                .map_err(step("take the global read lock"))?;
            let opened = async {
                conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT")
                    .await
                    .map_err(step("start a consistent snapshot"))?;
                let row: Option<Row> = conn
                    .query_first("SHOW MASTER STATUS")
                    .await
                    .map_err(step("read the binlog position"))?;
                let row = row.ok_or_else(|| Error::ServerSetting {
                    variable: "log_bin",
                    found: "OFF".into(),
                    needed: "ON",
                })?;
                let file: String = row.get(0).unwrap_or_default();
                let pos: u64 = row.get(1).unwrap_or(4);
                let gtids: Option<String> = row.get::<Option<String>, _>(4).flatten();
                Ok(SnapshotPoint {
                    position: BinlogPosition::new(file, pos),
                    gtids: gtids.filter(|g| !g.is_empty()),
                })
            }
            .await;
            conn.query_drop("UNLOCK TABLES")
                .await
                .map_err(step("release the global read lock"))?;
            opened
        }
    }
}

/// The base tables the filter captures, in name order (bytes of database, then table: the
/// order snapshot positions follow).
pub async fn captured_tables(conn: &mut Conn, filter: &TableFilter) -> Result<Vec<CapturedTable>> {
    let rows: Vec<(String, String, Option<u64>)> = conn
        .query(
            "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES \
             WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_SCHEMA, TABLE_NAME",
        )
        .await
        .map_err(db_error("snapshot: list the tables".into()))?;
    let mut tables: Vec<CapturedTable> = rows
        .into_iter()
        .filter(|(db, table, _)| filter.includes_table(db, table))
        .map(|(db, table, rows)| CapturedTable {
            db,
            table,
            rows_estimated: rows,
        })
        .collect();
    tables.sort_by(|a, b| {
        (a.db.as_bytes(), a.table.as_bytes()).cmp(&(b.db.as_bytes(), b.table.as_bytes()))
    });
    Ok(tables)
}

/// A table's columns (in ordinal order) and its primary-key column names (in key order).
pub async fn table_columns(
    conn: &mut Conn,
    db: &str,
    table: &str,
) -> Result<(Vec<InformationSchemaColumn>, Vec<String>)> {
    let context = || format!("read the columns of {db}.{table}");
    let rows: Vec<Row> = conn
        .exec(
            "SELECT COLUMN_NAME, ORDINAL_POSITION, DATA_TYPE, COLUMN_TYPE, CHARACTER_SET_NAME, \
             NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, CHARACTER_MAXIMUM_LENGTH, \
             IS_NULLABLE, COLUMN_DEFAULT FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
            (db, table),
        )
        .await
        .map_err(db_error(context()))?;
    let columns = rows
        .into_iter()
        .map(|row| InformationSchemaColumn {
            column_name: row.get(0).unwrap_or_default(),
            ordinal_position: row.get(1).unwrap_or_default(),
            data_type: row.get(2).unwrap_or_default(),
            column_type: row.get(3).unwrap_or_default(),
            character_set_name: row.get::<Option<String>, _>(4).flatten(),
            numeric_precision: row.get::<Option<u64>, _>(5).flatten(),
            numeric_scale: row.get::<Option<u64>, _>(6).flatten(),
            datetime_precision: row.get::<Option<u64>, _>(7).flatten(),
            character_maximum_length: row.get::<Option<u64>, _>(8).flatten(),
            is_nullable: row.get::<String, _>(9).is_some_and(|n| n == "YES"),
            column_default: row.get::<Option<String>, _>(10).flatten(),
        })
        .collect();
    let key: Vec<String> = conn
        .exec(
            "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' \
             ORDER BY ORDINAL_POSITION",
            (db, table),
        )
        .await
        .map_err(db_error(context()))?;
    Ok((columns, key))
}

/// Quotes an identifier with backticks.
pub fn quote(identifier: &str) -> String {
    format!("`{}`", identifier.replace('`', "``"))
}

/// Whether a table's snapshot rows can be placed (and a snapshot resumed) by primary key:
/// the record key is the whole primary key and every key column is an integer whose order
/// an `i64` keeps (not BIGINT UNSIGNED).
pub fn key_is_ordered(mapping: &TableMapping, primary_key: &[String]) -> bool {
    let key: Vec<_> = mapping.key_columns().collect();
    !key.is_empty()
        && key.len() == primary_key.len()
        && key.iter().zip(primary_key).all(|(column, name)| {
            column.name == *name
                && matches!(
                    column.ty.kind(),
                    TypeKind::Integer { width, sign }
                        if !(*width == IntWidth::Big && *sign == Signedness::Unsigned)
                )
        })
}

/// The integers of a key struct whose columns passed [`key_is_ordered`].
pub fn key_integers(key: &Struct) -> Option<Vec<i64>> {
    key.values()
        .iter()
        .map(|value| match value {
            Value::Int8(v) => Some(i64::from(*v)),
            Value::Int16(v) => Some(i64::from(*v)),
            Value::Int32(v) => Some(i64::from(*v)),
            Value::Int64(v) => Some(*v),
            _ => None,
        })
        .collect()
}

/// The SELECT that reads a table in primary-key order (unordered without a key), from the
/// row after the integer key `after` when resuming.
pub fn select_statement(db: &str, table: &str, key: &[String], after: Option<&[i64]>) -> String {
    let mut sql = format!("SELECT * FROM {}.{}", quote(db), quote(table));
    if let Some(after) = after.filter(|after| after.len() == key.len() && !after.is_empty()) {
        // (a, b) > (x, y) spelled out, which every server turns into index ranges.
        let alternatives: Vec<String> = (0..key.len())
            .map(|i| {
                let mut terms: Vec<String> = (0..i)
                    .map(|j| format!("{} = {}", quote(&key[j]), after[j]))
                    .collect();
                terms.push(format!("{} > {}", quote(&key[i]), after[i]));
                format!("({})", terms.join(" AND "))
            })
            .collect();
        sql.push_str(" WHERE ");
        sql.push_str(&alternatives.join(" OR "));
    }
    if !key.is_empty() {
        let order: Vec<String> = key.iter().map(|k| quote(k)).collect();
        sql.push_str(" ORDER BY ");
        sql.push_str(&order.join(", "));
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_in_key_order_with_quoted_names() {
        assert_eq!(
            select_statement("shop", "or`ders", &["a".into(), "b".into()], None),
            "SELECT * FROM `shop`.`or``ders` ORDER BY `a`, `b`"
        );
        assert_eq!(
            select_statement("s", "t", &[], None),
            "SELECT * FROM `s`.`t`"
        );
        assert_eq!(
            select_statement("s", "t", &["a".into(), "b".into()], Some(&[3, -4])),
            "SELECT * FROM `s`.`t` WHERE (`a` > 3) OR (`a` = 3 AND `b` > -4) ORDER BY `a`, `b`"
        );
    }
}
