//! DDL into Debezium schema-change records on the `<prefix>` topic: key
//! `SchemaChangeKey{databaseName}`, value `SchemaChangeValue{source, ts_ms, databaseName,
//! schemaName, ddl, tableChanges}`. A table's definition after CREATE/ALTER comes from the
//! schema model ([`crate::history`]) as that DDL left it, not from the catalog as it is when
//! the DDL is streamed (rows themselves are decoded from the TABLE_MAP).

use sluice_connect::api::{SchemaAndValue, SharedOffsetMap, SourceRecord};
use sluice_schemas::Value;
use sluice_schemas::envelope::EpochNanos;
use sluice_schemas::records::SchemaChangeSchemas;
use sluice_schemas::source::SnapshotMarker;

use crate::error::{Error, Result};
use crate::history::DdlChanges;
use crate::offset::stream_position;
use crate::source_info::{SourceBuilder, SourceInfo};
use crate::stream::changes::DdlEvent;

/// Builds schema-change records for one connector.
#[derive(Debug)]
pub struct SchemaChanges {
    topic: String,
    schemas: SchemaChangeSchemas,
    partition: SharedOffsetMap,
}

impl SchemaChanges {
    pub fn new(
        connector: &str,
        topic_prefix: &str,
        source: &SourceBuilder,
        partition: SharedOffsetMap,
    ) -> Self {
        Self {
            topic: topic_prefix.to_owned(),
            schemas: SchemaChangeSchemas::new(connector, source.schema().clone()),
            partition,
        }
    }

    /// The record of one DDL statement whose effect [`crate::history::SchemaHistory::apply`] worked out.
    pub fn record(
        &self,
        ddl: &DdlEvent,
        applied: &DdlChanges,
        source: &SourceBuilder,
    ) -> Result<SourceRecord> {
        let database = applied.database.clone();
        let first_table = applied
            .changes
            .first()
            .and_then(|change| change.id.rsplit_once('.'))
            .map(|(_, table)| table.trim_matches('"').to_owned());
        let source_struct = source.build(&SourceInfo {
            db: &database,
            table: first_table.as_deref(),
            event_time_micros: i64::from(ddl.timestamp) * 1_000_000,
            snapshot: SnapshotMarker::False,
            server_id: ddl.server_id,
            gtid: ddl.gtid.as_deref(),
            file: &ddl.offset.group.file,
            pos: ddl.offset.group.pos,
            row: 0,
            thread: Some(ddl.thread),
            query: None,
        })?;
        let now_ms = EpochNanos::now().0 / 1_000_000;
        let keyed = self
            .schemas
            .record(
                source_struct,
                now_ms,
                &database,
                None,
                &ddl.query,
                &applied.changes,
            )
            .map_err(|source| Error::Schema {
                table: database.clone(),
                source,
            })?;
        let key = match keyed.key {
            Some(key) => SchemaAndValue::with_schema(key.schema().clone(), Value::Struct(key)),
            None => SchemaAndValue::null(),
        };
        let value =
            SchemaAndValue::with_schema(keyed.value.schema().clone(), Value::Struct(keyed.value));
        Ok(SourceRecord::new(
            self.partition.clone(),
            ddl.offset.to_map(),
            self.topic.clone(),
            key,
            value,
        )
        .with_position(stream_position(ddl.position, 0)))
    }
}
