//! Streaming: a replication session on the slot, pgoutput messages turned into change events
//! (c/u/d with tombstones, primary-key changes as delete + tombstone + create, truncate `t`,
//! transaction BEGIN/END), queued in order with offsets and positions; standby status updates
//! that confirm only what is durable ([`AckTracker`]); heartbeats; and reconnection with
//! backoff that resumes at the last transaction boundary and skips what was already queued.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pgwire_replication::{ReplicationClient, ReplicationEvent};
use sluice_connect::api::{SharedOffsetMap, SourcePosition, SourceRecord};
use sluice_schemas::envelope::{EpochNanos, Op, TransactionBlock};
use sluice_schemas::source::SnapshotMarker;
use sluice_schemas::{Struct, Value};
use tokio_postgres::Client;

use crate::ack::AckTracker;
use crate::catalog::describe_columns;
use crate::config::PostgresConfig;
use crate::connection;
use crate::error::{Error, Result};
use crate::events::{EventFactory, Placement, SourceFacts, estimated_size};
use crate::lsn::Lsn;
use crate::mapping::{MappingContext, RelationColumnFacts};
use crate::messages::{LogicalMessages, MESSAGE_COLLECTION};
use crate::offsets::StreamPoint;
use crate::pgoutput::{self, ColumnValue, Message, OldTuple, PgTimestamp, TupleData};
use crate::queue::QueueSender;
use crate::slot::replication_config;
use crate::table::{Cell, RowBuffer, TableMapping, recycle_cells};
use crate::tables::TableFilter;

/// Records per queued chunk inside a large transaction.
const CHUNK: usize = 512;
/// How often the loop wakes without events (status, heartbeats, stop).
const TICK: Duration = Duration::from_millis(200);
/// The first pause before reconnecting.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// Whether a logical decoding message belongs to the transaction being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MessageKind {
    InTransaction,
    Standalone,
}

/// Which row change a message describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChangeKind {
    Insert,
    Update,
    Delete,
}

/// Where streaming starts.
#[derive(Debug, Clone)]
pub struct StreamStart {
    /// The LSN to ask the server for (a transaction boundary).
    pub lsn: Lsn,
    /// Records at or before this position were queued (or stored) already.
    pub skip_through: Option<SourcePosition>,
    /// The offset of the newest stored record, carried by heartbeats until a new one exists.
    pub last_offset: Option<SharedOffsetMap>,
}

/// One captured relation of the session.
#[derive(Debug)]
struct RelationState {
    schema: String,
    table: String,
    /// `schema.table`, as transaction metadata counts events per table.
    qualified: String,
    /// `None`: the table is not captured (published but filtered out).
    mapping: Option<TableMapping>,
}

/// The transaction being read.
#[derive(Debug)]
struct Transaction {
    commit: Lsn,
    xid: u32,
    commit_micros: i64,
    next_index: u64,
    last_position: Option<SourcePosition>,
    begin_sent: bool,
    total: i64,
    per_table: Vec<(String, i64)>,
}

/// The streaming half of the reader.
#[derive(Debug)]
pub struct Streamer {
    config: PostgresConfig,
    filter: TableFilter,
    factory: EventFactory,
    mapping: MappingContext,
    messages: LogicalMessages,
    queue: QueueSender,
    tracker: AckTracker,
    query: Option<Client>,
    /// Shared so that a row change holds its relation while `self` is borrowed mutably
    /// (one lookup per row, no remove and re-insert).
    relations: HashMap<u32, Arc<RelationState>>,
    resume_lsn: Lsn,
    last_queued: Option<SourcePosition>,
    last_offset: Option<SharedOffsetMap>,
    /// The point of the newest placement handed out, until its record is staged.
    issued: Option<StreamPoint>,
    /// The point of the newest staged record that has no offset yet: the one whose offset
    /// the next flush gives to its last record.
    staged: Option<StreamPoint>,
    last_commit: Option<Lsn>,
    flushable: Lsn,
    transaction: Option<Transaction>,
    pending: Vec<SourceRecord>,
    pending_bytes: usize,
    last_heartbeat: Instant,
    xmin: XminFetch,
    /// A new tuple's cells and a row's converted values, kept between row changes so that
    /// a change allocates only its structs.
    spare_cells: Vec<Cell<'static>>,
    row_values: RowBuffer,
}

/// The slot's `catalog_xmin` for `source.xmin`, re-read every `xmin.fetch.interval.ms`
/// (Debezium's behaviour; without the setting `xmin` stays null).
#[derive(Debug, Default)]
struct XminFetch {
    value: Option<i64>,
    fetched_at: Option<Instant>,
}

impl Streamer {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: PostgresConfig,
        filter: TableFilter,
        factory: EventFactory,
        mapping: MappingContext,
        messages: LogicalMessages,
        queue: QueueSender,
        tracker: AckTracker,
        start: StreamStart,
    ) -> Self {
        Self {
            config,
            filter,
            factory,
            mapping,
            messages,
            queue,
            tracker,
            query: None,
            relations: HashMap::new(),
            resume_lsn: start.lsn,
            last_queued: start.skip_through,
            last_offset: start.last_offset,
            issued: None,
            staged: None,
            last_commit: None,
            flushable: start.lsn,
            transaction: None,
            pending: Vec::new(),
            pending_bytes: 0,
            last_heartbeat: Instant::now(),
            xmin: XminFetch::default(),
            spare_cells: Vec::new(),
            row_values: RowBuffer::default(),
        }
    }

    /// Streams until the task stops (`Ok`) or a non-transient error; transient ones
    /// (server restart, network loss) are retried with exponential backoff.
    pub async fn run(mut self) -> Result<()> {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let mut progressed = false;
            match self.session(&mut progressed).await {
                Ok(()) => return Ok(()),
                Err(Error::Stopped) => return Ok(()),
                Err(error) if error.is_transient() => {
                    if progressed {
                        backoff = FIRST_BACKOFF;
                    }
                    tracing::warn!(
                        %error, retry_in = ?backoff, resume = %self.resume_lsn,
                        "replication session lost; reconnecting"
                    );
                    self.reset_session();
                    let jitter = fastrand::u64(0..=backoff.as_millis() as u64 / 4);
                    tokio::time::sleep(backoff + Duration::from_millis(jitter)).await;
                    backoff = (backoff * 2).min(self.config.max_retry_wait);
                    if self.queue.is_closed() {
                        return Ok(());
                    }
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Forgets session state: the server re-sends Relation messages and the interrupted
    /// transaction in the next session.
    fn reset_session(&mut self) {
        self.relations.clear();
        self.transaction = None;
        self.pending.clear();
        self.pending_bytes = 0;
        self.query = None;
        self.tracker.abandon_transaction();
    }

    async fn query_client(&mut self) -> Result<&Client> {
        if self.query.as_ref().is_none_or(Client::is_closed) {
            self.query = Some(connection::connect(&self.config, "sluice-catalog").await?);
        }
        Ok(self.query.as_ref().expect("connected above"))
    }

    async fn session(&mut self, progressed: &mut bool) -> Result<()> {
        let replication = replication_config(&self.config)
            .await
            .with_start_lsn(pgwire_replication::Lsn(self.resume_lsn.0))
            .with_ack_lsn(pgwire_replication::Lsn(self.flushable.0))
            .with_buffer_size(1024);
        let mut client = ReplicationClient::connect(replication)
            .await
            .map_err(|source| {
                crate::slot::replication_failure(&self.config, "start streaming", source)
            })?;
        let result = self.pump(&mut client, progressed).await;
        client.stop();
        client.abort();
        result
    }

    async fn pump(&mut self, client: &mut ReplicationClient, progressed: &mut bool) -> Result<()> {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // So that the first events already carry xmin when it is asked for.
        self.maybe_fetch_xmin().await?;
        loop {
            tokio::select! {
                event = client.recv() => {
                    let event = event.map_err(|source| replication_error("read the replication stream", source))?;
                    let Some(event) = event else {
                        return Err(Error::Replication {
                            context: "read the replication stream".into(),
                            source: pgwire_replication::PgWireError::Task("the server ended the stream".into()),
                        });
                    };
                    *progressed = true;
                    self.handle(client, event).await?;
                }
                _ = tick.tick() => {
                    if self.queue.is_closed() {
                        return Err(Error::Stopped);
                    }
                    self.confirm(client, None);
                    self.maybe_heartbeat().await?;
                    self.maybe_fetch_xmin().await?;
                }
            }
        }
    }

    fn confirm(&self, client: &ReplicationClient, idle_wal_end: Option<Lsn>) {
        if let Some(lsn) = self.tracker.confirmable(idle_wal_end) {
            tracing::debug!(%lsn, "confirming to the slot");
            client.update_applied_lsn(pgwire_replication::Lsn(lsn.0));
        }
    }

    async fn handle(&mut self, client: &ReplicationClient, event: ReplicationEvent) -> Result<()> {
        match event {
            ReplicationEvent::KeepAlive { wal_end, .. } => {
                if self.transaction.is_none() && self.pending.is_empty() {
                    self.confirm(client, Some(Lsn(wal_end.0)));
                }
            }
            ReplicationEvent::Begin {
                final_lsn,
                xid,
                commit_time_micros,
            } => {
                self.tracker.begin();
                self.transaction = Some(Transaction {
                    commit: Lsn(final_lsn.0),
                    xid,
                    commit_micros: PgTimestamp(commit_time_micros).unix_micros(),
                    next_index: 0,
                    last_position: None,
                    begin_sent: false,
                    total: 0,
                    per_table: Vec::new(),
                });
            }
            ReplicationEvent::XLogData {
                wal_start, data, ..
            } => {
                let message = pgoutput::decode(&data)?;
                self.on_message(message, Lsn(wal_start.0)).await?;
            }
            ReplicationEvent::Commit { lsn, end_lsn, .. } => {
                self.on_commit(Lsn(lsn.0), Lsn(end_lsn.0)).await?;
                self.confirm(client, None);
            }
            ReplicationEvent::Message {
                transactional,
                lsn,
                prefix,
                content,
            } => {
                let kind = if transactional && self.transaction.is_some() {
                    MessageKind::InTransaction
                } else {
                    MessageKind::Standalone
                };
                self.on_logical_message(kind, Lsn(lsn.0), &prefix, &content)
                    .await?;
            }
            ReplicationEvent::StoppedAt { .. } => {}
        }
        Ok(())
    }

    async fn on_commit(&mut self, commit: Lsn, end: Lsn) -> Result<()> {
        if let Some(transaction) = &self.transaction
            && transaction.begin_sent
        {
            let id = transaction_id(transaction);
            let per_table = transaction.per_table.clone();
            let ts_ms = transaction.commit_micros.div_euclid(1000);
            let placement = self.next_placement(Lsn::INVALID);
            if let Some(placement) = placement {
                let record = self
                    .factory
                    .transaction_end(&id, &per_table, ts_ms, placement)?;
                self.stage(record, 0);
            }
        }
        self.flush().await?;
        let last = self.transaction.take().and_then(|t| t.last_position);
        self.tracker.complete(end, last);
        self.resume_lsn = end;
        self.flushable = end;
        self.last_commit = Some(commit);
        Ok(())
    }

    async fn on_message(&mut self, message: Message<'_>, change_lsn: Lsn) -> Result<()> {
        match message {
            Message::Relation(relation) => {
                let captured = self.filter.captures(relation.namespace, relation.name);
                let mapping = if captured {
                    let columns: Vec<RelationColumnFacts> = relation
                        .columns
                        .iter()
                        .map(|c| RelationColumnFacts {
                            name: c.name.to_string(),
                            type_oid: c.type_oid.0,
                            type_modifier: c.type_modifier,
                        })
                        .collect();
                    self.query_client().await?;
                    let client = self.query.take().expect("connected above");
                    let mapping = async {
                        let facts = describe_columns(&client, relation.oid.0).await?;
                        self.mapping
                            .from_relation(
                                &client,
                                relation.namespace,
                                relation.name,
                                &columns,
                                &facts,
                            )
                            .await
                    }
                    .await;
                    self.query = Some(client);
                    Some(mapping?)
                } else {
                    None
                };
                self.relations.insert(
                    relation.oid.0,
                    Arc::new(RelationState {
                        schema: relation.namespace.to_string(),
                        table: relation.name.to_string(),
                        qualified: format!("{}.{}", relation.namespace, relation.name),
                        mapping,
                    }),
                );
            }
            Message::Insert(insert) => {
                self.on_row_change(
                    insert.relation.0,
                    change_lsn,
                    ChangeKind::Insert,
                    None,
                    Some(&insert.new),
                )?;
            }
            Message::Update(update) => {
                self.on_row_change(
                    update.relation.0,
                    change_lsn,
                    ChangeKind::Update,
                    update.old.as_ref(),
                    Some(&update.new),
                )?;
            }
            Message::Delete(delete) => {
                self.on_row_change(
                    delete.relation.0,
                    change_lsn,
                    ChangeKind::Delete,
                    Some(&delete.old),
                    None,
                )?;
            }
            Message::Truncate(truncate) => {
                for oid in &truncate.relations {
                    self.on_truncate(oid.0, change_lsn)?;
                }
            }
            Message::Begin(_)
            | Message::Commit(_)
            | Message::Origin(_)
            | Message::Type(_)
            | Message::Message(_) => {}
        }
        if self.pending.len() >= CHUNK {
            self.flush().await?;
        }
        Ok(())
    }

    /// A logical decoding message: inside its transaction like a row change, or — when
    /// non-transactional — as a transaction of its own at its LSN (it arrives between the
    /// transactions committed before and after it), without BEGIN/END records.
    async fn on_logical_message(
        &mut self,
        kind: MessageKind,
        lsn: Lsn,
        prefix: &str,
        content: &[u8],
    ) -> Result<()> {
        if !self.messages.captures(prefix) {
            return Ok(());
        }
        if kind == MessageKind::Standalone {
            self.tracker.begin();
            self.transaction = Some(Transaction {
                commit: lsn,
                xid: 0,
                commit_micros: EpochNanos::now().0.div_euclid(1000),
                next_index: 0,
                last_position: None,
                begin_sent: true,
                total: 0,
                per_table: Vec::new(),
            });
        }
        let block = match kind {
            MessageKind::InTransaction => self.transaction_block(MESSAGE_COLLECTION)?,
            MessageKind::Standalone => None,
        };
        if let Some(placement) = self.next_placement(lsn) {
            let transaction = self.transaction.as_ref();
            let facts = SourceFacts {
                snapshot: SnapshotMarker::False,
                event_micros: transaction.map_or(0, |t| t.commit_micros),
                schema: "",
                table: "",
                tx_id: match kind {
                    MessageKind::InTransaction => transaction.map(|t| i64::from(t.xid)),
                    MessageKind::Standalone => None,
                },
                lsn: Some(lsn),
                xmin: self.xmin.value,
                last_commit: self.last_commit,
            };
            let record = self.messages.record(
                &self.factory,
                prefix,
                content,
                &facts,
                block.as_ref(),
                placement,
            )?;
            self.stage(record, estimated_size(prefix.len() + content.len()));
        }
        match kind {
            MessageKind::Standalone => {
                self.flush().await?;
                let last = self.transaction.take().and_then(|t| t.last_position);
                // Nothing new may be confirmed: the slot's position stays where it was.
                self.tracker.complete(self.flushable, last);
            }
            MessageKind::InTransaction if self.pending.len() >= CHUNK => self.flush().await?,
            MessageKind::InTransaction => {}
        }
        Ok(())
    }

    /// The placement of the transaction's next record, or `None` when that record was queued
    /// in an earlier session (it is then skipped; the index still advances).
    fn next_placement(&mut self, change_lsn: Lsn) -> Option<Placement> {
        let transaction = self.transaction.as_mut()?;
        let point = StreamPoint {
            commit: transaction.commit,
            change_lsn,
            xid: transaction.xid,
            commit_micros: transaction.commit_micros,
            event_index: transaction.next_index,
            flushable: self.flushable,
        };
        transaction.next_index += 1;
        let position = point.position();
        if self
            .last_queued
            .as_ref()
            .is_some_and(|done| position <= *done)
        {
            return None;
        }
        transaction.last_position = Some(position.clone());
        // No offset yet: only the last record of each flush gets one (see `flush`).
        self.issued = Some(point);
        Some(Placement {
            offset: SharedOffsetMap::empty(),
            position,
        })
    }

    /// The transaction block of the next event of `table`, opening the transaction on the
    /// transaction topic first when metadata is on.
    fn transaction_block(&mut self, table: &str) -> Result<Option<TransactionBlock>> {
        if !self.config.provide_transaction_metadata {
            return Ok(None);
        }
        let needs_begin = self.transaction.as_ref().is_some_and(|t| !t.begin_sent);
        if needs_begin {
            let (id, ts_ms) = {
                let t = self.transaction.as_mut().expect("checked");
                t.begin_sent = true;
                (transaction_id(t), t.commit_micros.div_euclid(1000))
            };
            if let Some(placement) = self.next_placement(Lsn::INVALID) {
                let record = self.factory.transaction_begin(&id, ts_ms, placement)?;
                self.stage(record, 0);
            }
        }
        let Some(t) = self.transaction.as_mut() else {
            return Ok(None);
        };
        t.total += 1;
        let count = match t.per_table.iter_mut().find(|(name, _)| name == table) {
            Some((_, count)) => {
                *count += 1;
                *count
            }
            None => {
                t.per_table.push((table.to_string(), 1));
                1
            }
        };
        Ok(Some(TransactionBlock {
            id: transaction_id(t),
            total_order: t.total,
            data_collection_order: count,
        }))
    }

    fn facts<'s>(&'s self, state: &'s RelationState, change_lsn: Lsn) -> SourceFacts<'s> {
        let transaction = self.transaction.as_ref();
        SourceFacts {
            snapshot: SnapshotMarker::False,
            event_micros: transaction.map_or(0, |t| t.commit_micros),
            schema: &state.schema,
            table: &state.table,
            tx_id: transaction.map(|t| i64::from(t.xid)),
            lsn: Some(change_lsn),
            xmin: self.xmin.value,
            last_commit: self.last_commit,
        }
    }

    fn on_row_change(
        &mut self,
        oid: u32,
        change_lsn: Lsn,
        kind: ChangeKind,
        old: Option<&OldTuple<'_>>,
        new: Option<&TupleData<'_>>,
    ) -> Result<()> {
        let state = self.relation(oid)?;
        let mut cells = recycle_cells(std::mem::take(&mut self.spare_cells));
        let result = self.row_change_of(&state, change_lsn, kind, old, new, &mut cells);
        self.spare_cells = recycle_cells(cells);
        result
    }

    /// The events of one row change; `cells` is an empty list (kept between changes) for the
    /// new tuple's cells.
    fn row_change_of<'m>(
        &mut self,
        state: &RelationState,
        change_lsn: Lsn,
        kind: ChangeKind,
        old: Option<&OldTuple<'m>>,
        new: Option<&TupleData<'m>>,
        cells: &mut Vec<Cell<'m>>,
    ) -> Result<()> {
        let Some(mapping) = &state.mapping else {
            return Ok(());
        };
        let qualified = state.qualified.as_str();
        let old_cells = old.map(|o| cells_of(o.tuple())).transpose()?;
        let full_old = matches!(old, Some(OldTuple::Full(_)));
        let mut new_cells = match new {
            Some(tuple) => {
                fill_cells(tuple, cells)?;
                Some(cells)
            }
            None => None,
        };
        // An unchanged TOASTed value is not sent; the full old row has it.
        if let (Some(new_cells), Some(old_cells), true) = (&mut new_cells, &old_cells, full_old) {
            for (cell, old_cell) in new_cells.iter_mut().zip(old_cells) {
                if *cell == Cell::UnchangedToast && matches!(old_cell, Cell::Text(_) | Cell::Null) {
                    *cell = *old_cell;
                }
            }
        }
        let size = estimated_size(new.or(old.map(OldTuple::tuple)).map_or(0, tuple_bytes));
        if kind == ChangeKind::Delete {
            let old_cells = old_cells.expect("a delete carries its old tuple");
            let (before, key) = mapping.row_and_key_in(&old_cells, &mut self.row_values)?;
            self.emit_delete(
                state,
                mapping,
                qualified,
                change_lsn,
                key,
                Some(before),
                None,
                size,
            )?;
            return Ok(());
        }
        let new_cells = new_cells.expect("inserts and updates carry the new tuple");
        let (after, new_key) = mapping.row_and_key_in(new_cells, &mut self.row_values)?;
        let Some(old_cells) = old_cells else {
            let op = if kind == ChangeKind::Insert {
                Op::Create
            } else {
                Op::Update
            };
            return self.emit_change(
                state,
                mapping,
                qualified,
                change_lsn,
                op,
                new_key,
                None,
                Some(after),
                size,
            );
        };
        let before = if full_old {
            Some(mapping.row(&old_cells)?)
        } else {
            None
        };
        let old_key = mapping.key(&old_cells)?;
        if old_key.is_some() && old_key != new_key {
            let delete_before = match &before {
                Some(before) => before.clone(),
                None => mapping.row(&old_cells)?,
            };
            let headers_new = new_key.clone();
            self.emit_delete(
                state,
                mapping,
                qualified,
                change_lsn,
                old_key.clone(),
                Some(delete_before),
                headers_new,
                size,
            )?;
            let facts_block = self.transaction_block(qualified)?;
            if let Some(placement) = self.next_placement(change_lsn) {
                let facts = self.facts(state, change_lsn);
                let mut record = self.factory.change(
                    mapping,
                    Op::Create,
                    new_key,
                    None,
                    Some(after),
                    &facts,
                    facts_block.as_ref(),
                    placement,
                )?;
                if let Some(old_key) = old_key {
                    record.headers.add(
                        "__debezium.oldkey",
                        Some(old_key.schema().clone()),
                        Value::Struct(old_key),
                    );
                }
                self.stage(record, size);
            }
            return Ok(());
        }
        self.emit_change(
            state,
            mapping,
            qualified,
            change_lsn,
            Op::Update,
            new_key,
            before,
            Some(after),
            size,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn emit_change(
        &mut self,
        state: &RelationState,
        mapping: &TableMapping,
        qualified: &str,
        change_lsn: Lsn,
        op: Op,
        key: Option<Struct>,
        before: Option<Struct>,
        after: Option<Struct>,
        size: usize,
    ) -> Result<()> {
        let block = self.transaction_block(qualified)?;
        if let Some(placement) = self.next_placement(change_lsn) {
            let facts = self.facts(state, change_lsn);
            let record = self.factory.change(
                mapping,
                op,
                key,
                before,
                after,
                &facts,
                block.as_ref(),
                placement,
            )?;
            self.stage(record, size);
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn emit_delete(
        &mut self,
        state: &RelationState,
        mapping: &TableMapping,
        qualified: &str,
        change_lsn: Lsn,
        key: Option<Struct>,
        before: Option<Struct>,
        new_key: Option<Struct>,
        size: usize,
    ) -> Result<()> {
        let block = self.transaction_block(qualified)?;
        if let Some(placement) = self.next_placement(change_lsn) {
            let facts = self.facts(state, change_lsn);
            let mut record = self.factory.change(
                mapping,
                Op::Delete,
                key.clone(),
                before,
                None,
                &facts,
                block.as_ref(),
                placement,
            )?;
            if let Some(new_key) = &new_key {
                record.headers.add(
                    "__debezium.newkey",
                    Some(new_key.schema().clone()),
                    Value::Struct(new_key.clone()),
                );
            }
            self.stage(record, size);
        }
        if self.config.tombstones_on_delete
            && let Some(placement) = self.next_placement(change_lsn)
        {
            let facts = self.facts(state, change_lsn);
            let mut record = self.factory.tombstone(mapping, key, &facts, placement);
            if let Some(new_key) = new_key {
                record.headers.add(
                    "__debezium.newkey",
                    Some(new_key.schema().clone()),
                    Value::Struct(new_key),
                );
            }
            self.stage(record, 64);
        }
        Ok(())
    }

    fn on_truncate(&mut self, oid: u32, change_lsn: Lsn) -> Result<()> {
        let state = self.relation(oid)?;
        (|| {
            let Some(mapping) = &state.mapping else {
                return Ok(());
            };
            let block = self.transaction_block(&state.qualified)?;
            if let Some(placement) = self.next_placement(change_lsn) {
                let facts = self.facts(&state, change_lsn);
                let record = self
                    .factory
                    .truncate(mapping, &facts, block.as_ref(), placement)?;
                self.stage(record, 256);
            }
            Ok(())
        })()
    }

    /// The relation a change refers to (its Relation message came earlier in the session).
    fn relation(&self, oid: u32) -> Result<Arc<RelationState>> {
        self.relations
            .get(&oid)
            .cloned()
            .ok_or(Error::UnknownRelation {
                oid: pgoutput::Oid(oid),
            })
    }

    /// Adds a record made with the newest placement to the records the next flush queues.
    fn stage(&mut self, record: SourceRecord, bytes: usize) {
        if record.source_offset.is_empty() {
            self.staged = self.issued.take();
        }
        self.pending_bytes += bytes;
        self.pending.push(record);
    }

    /// Queues the staged records (waiting for room). Only the last one gets its offset: the
    /// runtime stores the newest offset of each batch it appends, a record without one never
    /// replaces a stored one, and `QueueReceiver::take` ends every batch at a record with an
    /// offset — while building and storing an offset per record cost more than the rest of a
    /// record's bookkeeping.
    async fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut records = std::mem::take(&mut self.pending);
        let bytes = std::mem::take(&mut self.pending_bytes);
        let staged = self.staged.take();
        let last = records.last_mut().expect("not empty");
        if last.source_offset.is_empty()
            && let Some(point) = staged
        {
            last.source_offset = point.offset().into();
        }
        let position = last.position.clone();
        let offset = last.source_offset.clone();
        if let Some(position) = &position {
            self.tracker.emitted(position);
        }
        self.queue
            .send(records, bytes)
            .await
            .map_err(|_| Error::Stopped)?;
        if position.is_some() {
            self.last_queued = position;
        }
        self.last_offset = Some(offset);
        Ok(())
    }

    async fn maybe_fetch_xmin(&mut self) -> Result<()> {
        let Some(interval) = self.config.xmin_fetch_interval else {
            return Ok(());
        };
        if self
            .xmin
            .fetched_at
            .is_some_and(|at| at.elapsed() < interval)
        {
            return Ok(());
        }
        let slot = self.config.slot_name.clone();
        let client = self.query_client().await?;
        let row = client
            .query_opt(
                "SELECT catalog_xmin::text::bigint FROM pg_replication_slots WHERE slot_name = $1",
                &[&slot],
            )
            .await
            .map_err(|source| Error::postgres("read the slot's catalog_xmin", source))?;
        self.xmin.value = row.and_then(|row| row.get(0));
        self.xmin.fetched_at = Some(Instant::now());
        Ok(())
    }

    async fn maybe_heartbeat(&mut self) -> Result<()> {
        let Some(interval) = self.config.heartbeat_interval else {
            return Ok(());
        };
        if self.last_heartbeat.elapsed() < interval {
            return Ok(());
        }
        self.last_heartbeat = Instant::now();
        if let Some(query) = self.config.heartbeat_action_query.clone() {
            let client = self.query_client().await?;
            if let Err(error) = client.batch_execute(&query).await {
                tracing::warn!(%error, "heartbeat.action.query failed");
            }
        }
        if self.transaction.is_some() || !self.pending.is_empty() {
            return Ok(());
        }
        if let Some(offset) = self.last_offset.clone() {
            let record = self.factory.heartbeat(offset)?;
            self.queue
                .send(vec![record], 256)
                .await
                .map_err(|_| Error::Stopped)?;
        }
        Ok(())
    }
}

fn transaction_id(transaction: &Transaction) -> String {
    format!("{}:{}", transaction.xid, transaction.commit.0)
}

fn cells_of<'a>(tuple: &TupleData<'a>) -> Result<Vec<Cell<'a>>> {
    tuple.columns.iter().map(Cell::try_from).collect()
}

/// The cells of `tuple` in `cells` (which must be empty).
fn fill_cells<'a>(tuple: &TupleData<'a>, cells: &mut Vec<Cell<'a>>) -> Result<()> {
    for column in &tuple.columns {
        cells.push(Cell::try_from(column)?);
    }
    Ok(())
}

fn tuple_bytes(tuple: &TupleData<'_>) -> usize {
    tuple
        .columns
        .iter()
        .map(|c| match c {
            ColumnValue::Text(b) | ColumnValue::Binary(b) => b.len(),
            _ => 1,
        })
        .sum()
}

fn replication_error(context: &str, source: pgwire_replication::PgWireError) -> Error {
    Error::Replication {
        context: context.to_string(),
        source,
    }
}
