//! TRUNCATE TABLE as Debezium's truncate event: op `t` on the table's topic, a null key, no
//! `before`/`after`, written unless `skipped.operations` holds `t` (its default, as in
//! Debezium). Like Debezium, a TRUNCATE writes no schema-change record. The binlog has no
//! TABLE_MAP for it, so the table's envelope is read from the catalog when the statement is
//! streamed; a table already dropped by then is skipped with a warning.

use mysql_async::Conn;
use sluice_connect::api::{SchemaAndValue, SharedOffsetMap, SourceRecord};
use sluice_schemas::Value;
use sluice_schemas::envelope::{EpochNanos, Op};
use sluice_schemas::source::SnapshotMarker;

use crate::ddl::touched_tables;
use crate::error::{Error, Result};
use crate::filters::TableFilter;
use crate::offset::stream_position;
use crate::snapshot::table_columns;
use crate::source_info::{SourceBuilder, SourceInfo};
use crate::stream::changes::DdlEvent;
use crate::tables::TableFactory;

/// What a truncate event needs besides the statement.
#[derive(Debug)]
pub struct TruncateContext<'a> {
    pub filter: &'a TableFilter,
    pub tables: &'a TableFactory,
    pub source: &'a SourceBuilder,
    pub partition: &'a SharedOffsetMap,
}

/// The truncate event of `truncate` (a TRUNCATE statement from the stream), or `None` when
/// its table is not captured or no longer exists.
pub async fn truncate_record(
    truncate: &DdlEvent,
    context: &TruncateContext<'_>,
    catalog: &mut Conn,
) -> Result<Option<SourceRecord>> {
    let Some((db, table, _)) = touched_tables(&truncate.query, &truncate.schema)
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    if !context.filter.includes_table(&db, &table) {
        return Ok(None);
    }
    let (columns, key) = table_columns(catalog, &db, &table).await?;
    if columns.is_empty() {
        tracing::warn!(
            table = %format!("{db}.{table}"),
            "TRUNCATE of a table that no longer exists: no truncate event"
        );
        return Ok(None);
    }
    let mapping = context.tables.from_catalog(&db, &table, &columns, &key)?;
    let source = context.source.build(&SourceInfo {
        db: &db,
        table: Some(&table),
        event_time_micros: i64::from(truncate.timestamp) * 1_000_000,
        snapshot: SnapshotMarker::False,
        server_id: truncate.server_id,
        gtid: truncate.gtid.as_deref(),
        file: &truncate.offset.group.file,
        pos: truncate.offset.group.pos,
        row: 0,
        thread: Some(truncate.thread),
        query: None,
    })?;
    let envelope = mapping.envelope();
    let value = envelope
        .value(Op::Truncate, None, None, source, EpochNanos::now(), None)
        .map_err(|source| Error::Schema {
            table: mapping.topic().to_string(),
            source,
        })?;
    let value =
        SchemaAndValue::with_schema(envelope.envelope_schema().clone(), Value::Struct(value));
    Ok(Some(
        SourceRecord::new(
            context.partition.clone(),
            truncate.offset.to_map(),
            mapping.topic().clone(),
            SchemaAndValue::null(),
            value,
        )
        .with_position(stream_position(truncate.position, 0))
        .with_timestamp_ms(i64::from(truncate.timestamp) * 1000),
    ))
}
