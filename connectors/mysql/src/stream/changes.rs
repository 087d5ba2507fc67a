//! Turns live binlog events into change records: tracks the event group in progress (its
//! start, GTID, rows-event index), keeps a [`TableMapping`] per TABLE_MAP (rebuilt when the
//! map changes, so DDL is followed without a catalog query), skips rows a previous run or
//! connection already emitted (by the offset's event/row index, and whole MySQL transactions
//! whose GTID is in the executed set), tracks the executed GTIDs offsets carry
//! ([`super::executed`]), and hands DDL to the schema-change side.

use std::collections::HashMap;
use std::sync::Arc;

use sluice_connect::api::{SharedOffsetMap, SourceRecord};
use sluice_schemas::envelope::{EpochNanos, Op};
use sluice_schemas::source::SnapshotMarker;

use super::client::{LiveBody, LiveEvent};
use super::executed::{ExecutedGtids, GroupGtid};
use super::mariadb::GroupKind;
use super::transactions::{OpenTransaction, TransactionTopic};
use crate::binlog::{GtidKind, RowsKind, TableMap};
use crate::config::{SkippedOperations, Tombstones};
use crate::error::Result;
use crate::filters::{GtidSourceFilter, TableFilter};
use crate::offset::{BinlogPosition, RowKey, SnapshotState, SourceOffset};
use crate::records::{RowChange, RowOrigin, RowPlace, push_change};
use crate::source_info::{SourceBuilder, SourceInfo};
use crate::table::TableMapping;
use crate::tables::TableFactory;

/// Whether the rows of a group are captured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum SourceCapture {
    #[default]
    Captured,
    /// The group's GTID source is filtered out (`gtid.source.*`): its rows are skipped, its
    /// position counts.
    Skipped,
    /// The group's MySQL GTID is in the executed set: an earlier run emitted all of it.
    AlreadyExecuted,
}

/// The event group being read.
#[derive(Debug, Clone, Default)]
struct Group {
    start: u64,
    gtid: Option<String>,
    /// The group's GTID, executed once the group ends.
    executed: Option<GroupGtid>,
    /// The GTIDs executed before this group (MariaDB position or MySQL set).
    gtids_before: Option<String>,
    /// Rows events seen so far in the group.
    rows_events: u64,
    thread: Option<u32>,
    query: Option<String>,
    /// The group's transaction, when transaction metadata is on.
    transaction: Option<OpenTransaction>,
    capture: SourceCapture,
}

/// A DDL statement seen in the stream, for the schema-change topic.
#[derive(Debug, Clone)]
pub struct DdlEvent {
    pub schema: String,
    pub query: String,
    pub offset: SourceOffset,
    pub position: RowKey,
    pub timestamp: u32,
    pub server_id: u32,
    pub gtid: Option<String>,
    pub thread: u32,
}

/// What one event produced besides row records.
#[derive(Debug)]
pub enum Produced {
    Nothing,
    Ddl(Box<DdlEvent>),
    /// A TRUNCATE TABLE statement: a truncate event, not a schema change.
    Truncate(Box<DdlEvent>),
}

/// Builds records from live events.
#[derive(Debug)]
pub struct ChangeBuilder {
    partition: SharedOffsetMap,
    tables: TableFactory,
    filter: TableFilter,
    source: SourceBuilder,
    tombstones: Tombstones,
    include_query: bool,
    mappings: HashMap<u64, (TableMap, Option<Arc<TableMapping>>)>,
    group: Group,
    executed: ExecutedGtids,
    /// Rows below this key were emitted before (by an earlier run or connection).
    floor: RowKey,
    /// The offset at the last group boundary, for heartbeats.
    boundary: SourceOffset,
    /// Set when `provide.transaction.metadata` is on.
    transactions: Option<TransactionTopic>,
    skipped: SkippedOperations,
    gtid_sources: GtidSourceFilter,
}

impl ChangeBuilder {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        partition: SharedOffsetMap,
        tables: TableFactory,
        filter: TableFilter,
        source: SourceBuilder,
        tombstones: Tombstones,
        include_query: bool,
        resume: &SourceOffset,
    ) -> Self {
        Self {
            partition,
            tables,
            filter,
            source,
            tombstones,
            include_query,
            mappings: HashMap::new(),
            group: Group::default(),
            executed: ExecutedGtids::from_text(resume.gtids.as_deref()),
            floor: resume.row_key(),
            boundary: SourceOffset::at(resume.group.clone(), resume.gtids.clone()),
            transactions: None,
            skipped: SkippedOperations::default(),
            gtid_sources: GtidSourceFilter::default(),
        }
    }

    /// Skips the row events of transactions whose GTID source `filter` rejects.
    pub fn with_gtid_source_filter(mut self, filter: GtidSourceFilter) -> Self {
        self.gtid_sources = filter;
        self
    }

    /// Notes whether the group's GTID `source` is captured.
    fn filter_source(&mut self, source: impl FnOnce() -> String) {
        if !self.gtid_sources.is_empty() && !self.gtid_sources.accepts(&source()) {
            self.group.capture = SourceCapture::Skipped;
        }
    }

    /// Leaves out the row changes of the operations in `skipped` (`skipped.operations`).
    pub fn with_skipped_operations(mut self, skipped: SkippedOperations) -> Self {
        self.skipped = skipped;
        self
    }

    /// Writes transaction metadata (BEGIN/END on `<prefix>.transaction`, blocks in events).
    pub fn with_transaction_metadata(mut self, topic_prefix: &str) -> Self {
        self.transactions = Some(TransactionTopic::new(topic_prefix));
        self
    }

    /// The offset at the last finished group: where a heartbeat says the connector is.
    pub fn boundary(&self) -> &SourceOffset {
        &self.boundary
    }

    /// Handles one event, appending its records to `out`.
    pub fn handle(
        &mut self,
        mut event: LiveEvent,
        out: &mut Vec<SourceRecord>,
    ) -> Result<Produced> {
        let mut produced = Produced::Nothing;
        match event.body {
            LiveBody::Rotate(_) => {}
            LiveBody::MariaGtid(gtid) => {
                self.start_group(&event.file, event.group_start);
                self.group.executed = Some(GroupGtid::MariaDb(gtid.gtid));
                self.group.gtid = Some(gtid.gtid.to_string());
                self.filter_source(|| format!("{}-{}", gtid.gtid.domain, gtid.gtid.server_id));
                if gtid.kind == GroupKind::Transaction
                    && self.group.capture == SourceCapture::Captured
                {
                    self.open_transaction(&event);
                }
            }
            LiveBody::MySqlGtid(gtid) => {
                self.start_group(&event.file, event.group_start);
                // An anonymous GTID (gtid_mode=OFF) names no transaction.
                if gtid.kind == GtidKind::Assigned {
                    self.group.gtid = Some(gtid.gtid.to_string());
                    if self.executed.contains(gtid.gtid) {
                        self.group.capture = SourceCapture::AlreadyExecuted;
                    } else {
                        self.group.executed = Some(GroupGtid::MySql(gtid.gtid));
                        self.filter_source(|| gtid.gtid.sid.to_string());
                    }
                }
            }
            LiveBody::PreviousGtids(ref previous) => self.executed.previous_gtids(previous),
            LiveBody::Query {
                thread_id,
                ref schema,
                ref query,
            } => {
                self.group.thread = Some(thread_id);
                if event.group_start != self.group.start {
                    self.start_group(&event.file, event.group_start);
                }
                if query.trim().eq_ignore_ascii_case("BEGIN")
                    && self.group.transaction.is_none()
                    && self.group.capture == SourceCapture::Captured
                {
                    self.open_transaction(&event);
                }
                if crate::ddl::is_ddl(query) && self.group.capture != SourceCapture::AlreadyExecuted
                {
                    let key = RowKey {
                        file_number: crate::offset::file_number(&event.file),
                        group_pos: event.group_start,
                        event: self.group.rows_events,
                        row: 0,
                    };
                    if key >= self.floor {
                        let kind = if crate::ddl::is_truncate(query) {
                            Produced::Truncate
                        } else {
                            Produced::Ddl
                        };
                        produced = kind(Box::new(DdlEvent {
                            schema: schema.clone(),
                            query: query.clone(),
                            offset: self.offset(&event.file, &event, 0, 0),
                            position: key,
                            timestamp: event.timestamp,
                            server_id: event.server_id,
                            gtid: self.group.gtid.clone(),
                            thread: thread_id,
                        }));
                    }
                }
            }
            LiveBody::RowsQuery(query) => {
                if self.include_query {
                    self.group.query = Some(query);
                }
            }
            LiveBody::TableMap(map) => {
                let unchanged = self
                    .mappings
                    .get(&map.table_id)
                    .is_some_and(|(known, _)| *known == map);
                if !unchanged {
                    let mapping = if self.filter.includes_table(&map.schema, &map.table) {
                        Some(Arc::new(self.tables.from_table_map(&map)?))
                    } else {
                        None
                    };
                    self.mappings.insert(map.table_id, (map, mapping));
                }
            }
            LiveBody::Rows(ref mut rows) => {
                // The row images are consumed: their byte strings become the values' strings.
                let images = std::mem::take(&mut rows.rows);
                let index = self.group.rows_events;
                self.group.rows_events += 1;
                self.rows(&event, images, index, out)?;
            }
            LiveBody::Xid => {}
        }
        if event.ends_group {
            self.group.query = None;
            if let Some(gtid) = self.group.executed.take() {
                self.executed.commit(gtid);
            }
            self.boundary = SourceOffset::at(
                BinlogPosition::new(event.file.to_string(), event.next),
                self.gtids(),
            );
            self.boundary.server_id = event.server_id;
            self.boundary.ts_sec = u64::from(event.timestamp);
            if let (Some(topic), Some(transaction)) =
                (&self.transactions, self.group.transaction.take())
                && let Some(end) = transaction.end(
                    topic,
                    &self.partition,
                    self.boundary.to_map(),
                    i64::from(event.timestamp) * 1000,
                )?
            {
                out.push(end);
            }
        }
        Ok(produced)
    }

    /// Starts the group's transaction (metadata on only): named by its GTID, else by where
    /// its BEGIN is, as Debezium does.
    fn open_transaction(&mut self, event: &LiveEvent) {
        if self.transactions.is_none() {
            return;
        }
        let id = match &self.group.gtid {
            Some(gtid) => gtid.clone(),
            None => format!("file={},pos={}", event.file, event.start),
        };
        let group = RowKey {
            file_number: crate::offset::file_number(&event.file),
            group_pos: event.group_start,
            event: 0,
            row: 0,
        };
        self.group.transaction = Some(OpenTransaction::new(
            id,
            i64::from(event.timestamp) * 1000,
            group,
        ));
    }

    fn gtids(&self) -> Option<String> {
        self.executed.text()
    }

    fn start_group(&mut self, _file: &str, start: u64) {
        self.group = Group {
            start,
            gtids_before: self.gtids(),
            ..Group::default()
        };
    }

    fn offset(&self, file: &str, event: &LiveEvent, rows_event: u64, row: u64) -> SourceOffset {
        SourceOffset {
            group: BinlogPosition::new(file, event.group_start),
            event: rows_event,
            row,
            gtids: self.group.gtids_before.clone(),
            server_id: event.server_id,
            ts_sec: u64::from(event.timestamp),
            snapshot: SnapshotState::Complete,
            cursor: None,
        }
    }

    /// The change records of one rows event (`images`: its rows, taken out of `event`).
    ///
    /// Only the event's last emitted record carries the offset (with that row's index); the
    /// records before it carry an empty one. The runtime stores the newest offset of each
    /// polled batch, and batches end only between events (the pipeline hands over after
    /// [`Self::handle`]), so every batch still ends with a full offset — while building and
    /// copying a map of seven entries per row cost a quarter of this builder's time.
    fn rows(
        &mut self,
        event: &LiveEvent,
        images: Vec<crate::binlog::RowChange>,
        index: u64,
        out: &mut Vec<SourceRecord>,
    ) -> Result<()> {
        let LiveBody::Rows(rows) = &event.body else {
            return Ok(());
        };
        let op = match rows.kind {
            RowsKind::Insert => Op::Create,
            RowsKind::Update | RowsKind::PartialUpdate => Op::Update,
            RowsKind::Delete => Op::Delete,
        };
        if self.skipped.contains(op) || self.group.capture != SourceCapture::Captured {
            return Ok(());
        }
        let Some((_, Some(mapping))) = self.mappings.get(&rows.table_id) else {
            return Ok(());
        };
        let mapping = mapping.clone();
        let file_number = crate::offset::file_number(&event.file);
        // Rows of one rows event differ only in their row index: the source block and the
        // offset are built once per event and copied with the index set.
        let source_template = self.source.build(&SourceInfo {
            db: &rows.schema,
            table: Some(&rows.table),
            event_time_micros: i64::from(event.timestamp) * 1_000_000,
            snapshot: SnapshotMarker::False,
            server_id: event.server_id,
            gtid: self.group.gtid.as_deref(),
            file: &event.file,
            pos: event.start,
            row: 0,
            thread: self.group.thread,
            query: self.group.query.as_deref(),
        })?;
        // One clock read per rows event, not per row.
        let processed_at = EpochNanos::now();
        let mut last_emitted_row: Option<usize> = None;
        for (row_index, change) in images.into_iter().enumerate() {
            let key = RowKey {
                file_number,
                group_pos: event.group_start,
                event: index,
                row: row_index as u64,
            };
            // Rows emitted before are skipped, but still numbered inside their transaction.
            let replayed = key < self.floor;
            if replayed && self.group.transaction.is_none() {
                continue;
            }
            let (change, keys) = match (rows.kind, change.before, change.after) {
                (RowsKind::Insert, _, Some(after)) => {
                    let key = mapping.key_from_binlog(&after)?;
                    (
                        RowChange::Insert(mapping.row_from_binlog_image(after)?),
                        (None, key),
                    )
                }
                (RowsKind::Delete, Some(before), _) => {
                    let key = mapping.key_from_binlog(&before)?;
                    (
                        RowChange::Delete(mapping.row_from_binlog_image(before)?),
                        (key, None),
                    )
                }
                (RowsKind::Update | RowsKind::PartialUpdate, Some(before), Some(after)) => {
                    let (before_row, after_row) =
                        mapping.row_from_binlog_update(&before, &after)?;
                    let old_key = mapping.key_from_binlog(&before)?;
                    let resolved = crate::table::resolve_json_diffs(&before, &after)?;
                    let new_key = mapping.key_from_binlog(&resolved)?;
                    (
                        RowChange::Update {
                            before: before_row,
                            after: after_row,
                        },
                        (old_key, new_key),
                    )
                }
                _ => continue,
            };
            // Inserts need only the new key and deletes only the old one (`push_change`).
            let source = if row_index == 0 {
                source_template.clone()
            } else {
                self.source.for_row(&source_template, row_index as u32)?
            };
            let origin = RowOrigin {
                partition: &self.partition,
                offset: SharedOffsetMap::empty(),
                place: RowPlace::Stream(key),
                timestamp_ms: i64::from(event.timestamp) * 1000,
                processed_at,
            };
            let first = out.len();
            if self
                .group
                .transaction
                .as_ref()
                .is_some_and(OpenTransaction::is_pending)
            {
                // BEGIN carries the group's start: a restart re-reads the whole group.
                let offset = self.offset(&event.file, event, 0, 0).to_map();
                if let (Some(topic), Some(transaction)) =
                    (&self.transactions, &mut self.group.transaction)
                    && let Some(begin) =
                        transaction.begin_if_pending(topic, &self.partition, offset)?
                {
                    out.push(begin);
                }
            }
            let first_change = out.len();
            push_change(out, &mapping, change, keys, source, self.tombstones, origin)?;
            if let Some(transaction) = &mut self.group.transaction {
                transaction.stamp(&mut out[first_change..], &rows.schema, &rows.table)?;
            }
            if replayed {
                out.truncate(first);
                continue;
            }
            // A reconnect re-reads the group from its start: skip what is out already.
            self.floor = RowKey {
                row: key.row + 1,
                ..key
            };
            last_emitted_row = Some(row_index);
        }
        if let (Some(row), Some(last)) = (last_emitted_row, out.last_mut()) {
            last.source_offset = self
                .offset(&event.file, event, index, row as u64)
                .to_map()
                .into();
        }
        Ok(())
    }
}
