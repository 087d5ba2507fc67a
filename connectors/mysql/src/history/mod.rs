//! The schema history: an in-memory model of the captured tables' schemas, kept in step with
//! the binlog, and its durable log in the internal topic `schema.history.internal.kafka.topic`
//! (default [`DEFAULT_HISTORY_TOPIC`]; one partition, never cleaned).
//!
//! - At a snapshot (and with `snapshot.mode=no_data` or `recovery`) the model is read from
//!   the catalog and written to the topic ([`SchemaHistory::seed`]).
//! - Each streamed DDL is applied to the model ([`apply`]); a statement it does not
//!   understand is logged with a warning naming it, and the tables it touched are read from
//!   the catalog instead. The DDL and the tables it changed go to the topic, and schema-change
//!   records take their `tableChanges` from the model — so two ALTERs read after the
//!   connector was down each carry the table as it was after that ALTER, not as it is now.
//! - On a restart from a stored offset, the model is rebuilt from the topic
//!   ([`SchemaHistory::recover`]) up to that offset: history records at or after it were
//!   written before a crash let the offset follow, and their DDL is streamed (and applied)
//!   again, while the runtime drops the repeated history record by its position.
//!
//! Row events are decoded from their TABLE_MAP (with `binlog_row_metadata=FULL` it carries
//! the names and types as of that row), so rows never depend on the model or the catalog.
//!
//! - [`model`]: the model and its Debezium `tableChanges` / history JSON forms.
//! - [`apply`]: DDL statements applied to the model; [`column_def`]: column definitions;
//!   [`tokens`]: the DDL tokenizer.
//! - [`record`]: history records as written and read.
//! - `start`: the task's start (rebuild, seed or recovery), as a `Pipeline` method.

pub mod apply;
#[cfg(test)]
mod apply_tests;
pub mod column_def;
pub mod model;
pub mod record;
pub(crate) mod start;
pub mod tokens;

use std::sync::{Arc, Mutex};

use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use serde_json::Value as Json;
use sluice_connect::api::{OffsetMap, SharedOffsetMap, SourceRecord, SourceTaskContext};
use sluice_schemas::records::TableChange;

use crate::config::SourceConfig;
use crate::connection;
use crate::ddl::{TableChangeKind, database_of, touched_tables};
use crate::error::{Error, Result};
use crate::filters::TableFilter;
use crate::flavour::Flavour;
use crate::offset::{BinlogPosition, SourceOffset, snapshot_table_prefix, stream_position};
use crate::snapshot::{captured_tables, table_columns};
use crate::stream::changes::DdlEvent;

use model::{SchemaModel, TableSchema, change_json, table_change};
use record::{HistoryEntry, SNAPSHOT_START_DDL};

/// Debezium's key naming the history topic.
pub const HISTORY_TOPIC_KEY: &str = "schema.history.internal.kafka.topic";
/// The history topic when the key is not set (DESIGN.md's internal topic).
pub const DEFAULT_HISTORY_TOPIC: &str = "__sluice_schema_history";

/// What one DDL did, for the schema-change record.
#[derive(Debug)]
pub struct DdlChanges {
    /// The database the record is keyed by.
    pub database: String,
    /// The touched captured tables with their definitions after the DDL.
    pub changes: Vec<TableChange>,
    /// The history record to write with it.
    pub history: SourceRecord,
}

/// The model and its topic, shared by the task's pipeline.
#[derive(Debug)]
pub struct SchemaHistory {
    topic: String,
    server: String,
    flavour: Flavour,
    /// The connector's source partition: each history record carries the offset of the
    /// record it goes with, so the offsets a user sees are Debezium's (one partition).
    partition: SharedOffsetMap,
    model: Mutex<SchemaModel>,
}

fn context_error(what: &str, source: sluice_connect::Error) -> Error {
    Error::Stream {
        position: what.to_owned(),
        source: Box::new(Error::config(source)),
    }
}

impl SchemaHistory {
    pub fn new(config: &SourceConfig, flavour: Flavour) -> Self {
        let topic = config
            .props
            .get(HISTORY_TOPIC_KEY)
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .unwrap_or(DEFAULT_HISTORY_TOPIC)
            .to_owned();
        let partition = SourceOffset::partition(&config.topic_prefix);
        Self {
            topic,
            server: config.topic_prefix.clone(),
            flavour,
            partition,
            model: Mutex::new(SchemaModel::default()),
        }
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// A copy of one table's schema in the model.
    pub fn table(&self, db: &str, table: &str) -> Option<TableSchema> {
        self.lock()
            .tables
            .get(&(db.to_owned(), table.to_owned()))
            .cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SchemaModel> {
        // A panic while holding the lock cannot leave a half-applied model behind: every
        // change is made on a copy and swapped in.
        self.model
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Creates the topic (1 partition, never cleaned) or checks the existing one.
    pub async fn ensure_topic(&self, context: &Arc<dyn SourceTaskContext>) -> Result<()> {
        context
            .ensure_history_topic(&self.topic)
            .await
            .map_err(|source| context_error(&format!("the history topic {}", self.topic), source))
    }

    /// Rebuilds the model from the topic: every record of this server before `stored`.
    /// Returns how many records were applied; a missing topic is [`Error::HistoryMissing`].
    pub async fn recover(
        &self,
        context: &Arc<dyn SourceTaskContext>,
        stored: &SourceOffset,
    ) -> Result<usize> {
        let records = context
            .read_topic(&self.topic, 0, 0)
            .await
            .map_err(|source| context_error(&format!("the history topic {}", self.topic), source))?
            .ok_or_else(|| Error::HistoryMissing {
                topic: self.topic.clone(),
            })?;
        let floor = stream_position(stored.row_key(), 0);
        let mut model = SchemaModel::default();
        let mut applied = 0;
        for stored_record in &records {
            // Written before a crash let the offset follow: the DDL is streamed again.
            if stored_record.position.as_ref().is_none_or(|p| *p >= floor) {
                continue;
            }
            let entry = record::parse(&stored_record.value.value)?;
            if entry.server != self.server {
                continue;
            }
            if entry.ddl == SNAPSHOT_START_DDL {
                model = SchemaModel::default();
            }
            for change in &entry.changes {
                model::apply_change_json(&mut model, change)?;
            }
            applied += 1;
        }
        tracing::info!(
            topic = %self.topic,
            records = applied,
            tables = model.tables.len(),
            at = %stored.group,
            "rebuilt the schema model from the schema history topic"
        );
        *self.lock() = model;
        Ok(applied)
    }

    /// Reads the captured tables' schemas from the catalog into the model and returns the
    /// history records that store them, positioned at binlog position `at` (before any
    /// stream event there), with `offset` as their source offset (what a restart after
    /// them should resume from).
    pub async fn seed(
        &self,
        conn: &mut Conn,
        filter: &TableFilter,
        at: &BinlogPosition,
        offset: &OffsetMap,
    ) -> Result<Vec<SourceRecord>> {
        let offset = offset.clone();
        let mut records = vec![
            HistoryEntry {
                server: &self.server,
                offset: &offset,
                database: "",
                ddl: SNAPSHOT_START_DDL,
                changes: Vec::new(),
            }
            .into_record(&self.topic, &self.partition, snapshot_position(at, "", "")),
        ];
        let mut model = SchemaModel::default();
        for table in captured_tables(conn, filter).await? {
            let schema = read_table(conn, &table.db, &table.table).await?;
            let ddl = format!(
                "/* sluice: schema of `{}`.`{}` read from the catalog */",
                table.db, table.table
            );
            let change = change_json(
                &table.db,
                &table.table,
                &TableChangeKind::Create,
                Some(&schema),
            )?;
            records.push(
                HistoryEntry {
                    server: &self.server,
                    offset: &offset,
                    database: &table.db,
                    ddl: &ddl,
                    changes: vec![change],
                }
                .into_record(
                    &self.topic,
                    &self.partition,
                    snapshot_position(at, &table.db, &table.table),
                ),
            );
            model.tables.insert((table.db, table.table), schema);
        }
        tracing::info!(
            topic = %self.topic,
            tables = model.tables.len(),
            %at,
            "schema history seeded from the catalog"
        );
        *self.lock() = model;
        Ok(records)
    }

    /// Applies a streamed DDL to the model; `None` when it touches no captured table or
    /// database. `catalog` is connected on demand, for statements the model cannot apply.
    pub async fn apply(
        &self,
        ddl: &DdlEvent,
        filter: &TableFilter,
        config: &SourceConfig,
        catalog: &mut Option<Conn>,
    ) -> Result<Option<DdlChanges>> {
        let touched: Vec<_> = touched_tables(&ddl.query, &ddl.schema)
            .into_iter()
            .filter(|(db, table, _)| filter.includes_table(db, table))
            .collect();
        let database = match touched.first() {
            Some((db, _, _)) => db.clone(),
            None => match database_of(&ddl.query) {
                Some(db) if filter.includes_database(&db) => db,
                _ => return Ok(None),
            },
        };
        let before = self.lock().clone();
        let mut after = before.clone();
        let applied = apply::apply_ddl(&mut after, &ddl.query, &ddl.schema, self.flavour);
        let mut from_catalog: Vec<&(String, String, TableChangeKind)> = Vec::new();
        match applied {
            Ok(()) => {
                // A table the DDL made but the model lacks (say, created before a filter
                // change) is read from the catalog.
                from_catalog.extend(touched.iter().filter(|(db, table, kind)| {
                    *kind != TableChangeKind::Drop
                        && !after.tables.contains_key(&(db.clone(), table.clone()))
                }));
            }
            Err(reason) => {
                tracing::warn!(
                    statement = %ddl.query,
                    %reason,
                    "the schema model cannot apply this DDL; reading the tables it touched \
                     from the catalog instead (right unless more DDL on them followed)"
                );
                after = before.clone();
                for (db, table, kind) in &touched {
                    let id = (db.clone(), table.clone());
                    if *kind == TableChangeKind::Drop {
                        after.tables.remove(&id);
                    }
                }
                from_catalog.extend(touched.iter().filter(|t| t.2 != TableChangeKind::Drop));
            }
        }
        for (db, table, _) in from_catalog {
            if catalog.is_none() {
                *catalog = Some(connection::connect(config).await?);
            }
            if let Some(conn) = catalog.as_mut() {
                let schema = read_table(conn, db, table).await?;
                let id = (db.clone(), table.clone());
                if schema.columns.is_empty() {
                    after.tables.remove(&id);
                } else {
                    after.tables.insert(id, schema);
                }
            }
        }
        after
            .tables
            .retain(|(db, table), _| filter.includes_table(db, table));
        let mut changes = Vec::with_capacity(touched.len());
        for (db, table, kind) in &touched {
            let schema = after.tables.get(&(db.clone(), table.clone()));
            changes.push(table_change(db, table, kind, schema)?);
        }
        let history = HistoryEntry {
            server: &self.server,
            offset: &ddl.offset.to_map(),
            database: &database,
            ddl: &ddl.query,
            changes: differences(&before, &after)?,
        }
        .into_record(
            &self.topic,
            &self.partition,
            stream_position(ddl.position, 0),
        );
        *self.lock() = after;
        Ok(Some(DdlChanges {
            database,
            changes,
            history,
        }))
    }
}

/// The position of a schema snapshot's record for `db`.`table` at `at`: before every stream
/// event at `at` (the snapshot phase), in table order.
fn snapshot_position(
    at: &BinlogPosition,
    db: &str,
    table: &str,
) -> sluice_connect::api::SourcePosition {
    sluice_connect::api::SourcePosition::from_bytes(snapshot_table_prefix(at, db, table))
}

/// History `tableChanges` turning `before` into `after`: DROP, CREATE or ALTER per table.
fn differences(before: &SchemaModel, after: &SchemaModel) -> Result<Vec<Json>> {
    let mut out = Vec::new();
    for ((db, table), schema) in &before.tables {
        if !after.tables.contains_key(&(db.clone(), table.clone())) {
            out.push(change_json(
                db,
                table,
                &TableChangeKind::Drop,
                Some(schema),
            )?);
        }
    }
    for (id, schema) in &after.tables {
        let kind = match before.tables.get(id) {
            None => TableChangeKind::Create,
            Some(old) if old != schema => TableChangeKind::Alter,
            Some(_) => continue,
        };
        out.push(change_json(&id.0, &id.1, &kind, Some(schema))?);
    }
    Ok(out)
}

/// One table's schema from the catalog (no columns: the table does not exist).
async fn read_table(conn: &mut Conn, db: &str, table: &str) -> Result<TableSchema> {
    let (columns, primary_key) = table_columns(conn, db, table).await?;
    let collation: Option<Option<String>> = conn
        .exec_first(
            "SELECT TABLE_COLLATION FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            (db, table),
        )
        .await
        .map_err(|source| Error::Database {
            context: format!("read the default charset of {db}.{table}"),
            source,
        })?;
    Ok(TableSchema {
        columns,
        primary_key,
        charset: collation
            .flatten()
            .as_deref()
            .and_then(column_def::charset_of_collation),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::InformationSchemaColumn;
    use model::TableId;

    #[test]
    fn differences_name_dropped_created_and_altered_tables() {
        let column = |name: &str| InformationSchemaColumn {
            column_name: name.into(),
            data_type: "int".into(),
            column_type: "int".into(),
            ordinal_position: 1,
            ..Default::default()
        };
        let schema = |name: &str| TableSchema {
            columns: vec![column(name)],
            ..TableSchema::default()
        };
        let id = |t: &str| -> TableId { ("d".into(), t.into()) };
        let mut before = SchemaModel::default();
        before.tables.insert(id("gone"), schema("a"));
        before.tables.insert(id("same"), schema("a"));
        before.tables.insert(id("altered"), schema("a"));
        let mut after = before.clone();
        after.tables.remove(&id("gone"));
        after.tables.insert(id("altered"), schema("b"));
        after.tables.insert(id("new"), schema("a"));
        let kinds: Vec<String> = differences(&before, &after)
            .unwrap()
            .iter()
            .map(|c| {
                format!(
                    "{} {}",
                    c["type"].as_str().unwrap(),
                    c["tableName"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(kinds, ["DROP gone", "ALTER altered", "CREATE new"]);
        let mut replayed = before.clone();
        for change in differences(&before, &after).unwrap() {
            model::apply_change_json(&mut replayed, &change).unwrap();
        }
        assert_eq!(replayed, after);
    }
}
