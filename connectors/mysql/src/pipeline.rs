//! The task's background worker: takes the snapshot when one is due, then streams the binlog
//! from the snapshot's (or the stored) position, and hands batches of records to
//! [`crate::task`] through a bounded channel — so a slow broker slows the reader instead of
//! growing memory, and `poll` only ever receives (cancel-safe). When the binlog to resume
//! from was purged, `snapshot.mode=when_needed` takes a new snapshot instead of failing.

use std::sync::Arc;

use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use sluice_connect::api::{SharedOffsetMap, SourceRecord, SourceTaskContext};
use sluice_schemas::envelope::{EpochNanos, Op};

use crate::config::{SnapshotMode, SourceConfig};
use crate::connection;
use crate::error::{Error, Result};
use crate::filters::{GtidSourceFilter, TableFilter};
use crate::offset::{BinlogPosition, SourceOffset};
use crate::queue::{BatchBytes, BatchSender, TryReserveError};
use crate::schema_changes::SchemaChanges;
use crate::source_info::SourceBuilder;
use crate::stream::changes::{ChangeBuilder, Produced};
use crate::stream::client::BinlogClient;
use crate::tables::TableFactory;
use crate::truncate::{TruncateContext, truncate_record};
use crate::validate::ServerInfo;

/// Whether the first binlog connection asks for the stored offset's GTIDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GtidStart {
    /// Resuming a stored offset: by its GTIDs where it has them, else file/pos.
    Stored,
    /// Right after a snapshot or from the current position: file/pos.
    FilePos,
}

/// A batch of records, or the error that ends the task.
pub type Batch = std::result::Result<Vec<SourceRecord>, Error>;

/// Where the worker begins.
#[derive(Debug, Clone)]
pub enum StartPlan {
    /// Snapshot the captured tables, then stream from the snapshot's position.
    Snapshot,
    /// Finish the snapshot a crash interrupted (the stored offset names where it was), then
    /// stream from its original position.
    ResumeSnapshot(SourceOffset),
    /// Stream from a stored offset.
    Resume(SourceOffset),
    /// Stream from the server's current position (no offset, no data snapshot).
    Current,
}

/// Everything the worker needs; moved into its tokio task.
#[derive(Debug)]
pub struct Pipeline {
    pub config: SourceConfig,
    pub server: ServerInfo,
    pub source: SourceBuilder,
    pub tables: TableFactory,
    pub filter: TableFilter,
    pub gtid_sources: GtidSourceFilter,
    pub schema_changes: SchemaChanges,
    pub history: crate::history::SchemaHistory,
    pub partition: SharedOffsetMap,
    pub context: Arc<dyn SourceTaskContext>,
    pub plan: StartPlan,
}

impl Pipeline {
    /// Runs until the receiver is dropped or an error ends it (sent as the last batch).
    pub async fn run(self, sender: BatchSender) {
        let result = self.run_inner(&sender).await;
        if let Err(error) = result {
            let _ = sender.send(Err(error)).await;
        }
    }

    async fn run_inner(self, sender: &BatchSender) -> Result<()> {
        if !self.start_history(sender).await? {
            return Ok(());
        }
        let resume = match &self.plan {
            StartPlan::Resume(offset) => offset.clone(),
            StartPlan::Current => {
                let mut conn = connection::connect(&self.config).await?;
                let position = current_position(&mut conn).await?;
                let _ = conn.disconnect().await;
                SourceOffset::at(position, None)
            }
            StartPlan::Snapshot | StartPlan::ResumeSnapshot(_) => {
                let interrupted = match &self.plan {
                    StartPlan::ResumeSnapshot(offset) => Some(offset),
                    _ => None,
                };
                let Some(point) = self.snapshot(sender, interrupted).await? else {
                    return Ok(());
                };
                if self.config.snapshot_mode == SnapshotMode::InitialOnly {
                    tracing::info!("snapshot.mode=initial_only: snapshot done, not streaming");
                    sender.closed().await;
                    return Ok(());
                }
                SourceOffset::at(point.position, point.gtids)
            }
        };
        let by_gtids = match &self.plan {
            StartPlan::Resume(_) => GtidStart::Stored,
            _ => GtidStart::FilePos,
        };
        match self.stream(resume, by_gtids, sender).await {
            Err(Error::BinlogPurged { position, oldest })
                if self.config.snapshot_mode == SnapshotMode::WhenNeeded =>
            {
                // The changes since the stored position are gone: only a new snapshot gives
                // a complete picture again; streaming continues from its position.
                tracing::warn!(%position, %oldest, "the binlog to resume from was purged; snapshot.mode=when_needed takes a new snapshot");
                // DDL in the purged binlog is lost too: the schema history starts again from
                // the catalog, as before a first snapshot.
                let mut conn = connection::connect(&self.config).await?;
                let seed_at = current_position(&mut conn).await;
                let seeded = match seed_at {
                    Ok(at) => {
                        // A crash right after the seeds takes the snapshot again.
                        let mut offset = SourceOffset::at(at.clone(), None);
                        offset.snapshot = crate::offset::SnapshotState::InProgress;
                        let offset = offset.to_map();
                        self.history
                            .seed(&mut conn, &self.filter, &at, &offset)
                            .await
                    }
                    Err(error) => Err(error),
                };
                let _ = conn.disconnect().await;
                let mut seeded = seeded?;
                crate::history::start::unstored(&mut seeded);
                if sender.send(Ok(seeded)).await.is_err() {
                    return Ok(());
                }
                let Some(point) = self.snapshot(sender, None).await? else {
                    return Ok(());
                };
                let resume = SourceOffset::at(point.position, point.gtids);
                self.stream(resume, GtidStart::FilePos, sender).await
            }
            other => other,
        }
    }

    async fn stream(
        &self,
        resume: SourceOffset,
        by_gtids: GtidStart,
        sender: &BatchSender,
    ) -> Result<()> {
        let mut client = BinlogClient::new(
            self.config.clone(),
            self.server.flavour,
            &self.server.checksum,
            resume.group.clone(),
        );
        if by_gtids == GtidStart::Stored {
            // A stored offset resumes by its GTIDs where the server has GTIDs.
            client = client.with_gtid_start(resume.gtids.as_deref());
        }
        let mut builder = ChangeBuilder::new(
            self.partition.clone(),
            self.tables.clone(),
            self.filter.clone(),
            self.source.clone(),
            self.config.tombstones,
            self.config.include_query,
            &resume,
        );
        builder = builder
            .with_skipped_operations(self.config.skipped_operations)
            .with_gtid_source_filter(self.gtid_sources.clone());
        if self.config.transaction_metadata {
            builder = builder.with_transaction_metadata(&self.config.topic_prefix);
        }
        let mut catalog: Option<Conn> = None;
        let mut batch: Vec<SourceRecord> = Vec::new();
        let mut tally = BatchBytes::new(sender);
        let mut heartbeat = self.config.heartbeat_interval.map(|period| {
            let mut interval = tokio::time::interval(period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval
        });
        loop {
            // `next_event` is cancel-safe: its only awaits are the stream's `next`, a reconnect
            // attempt and a backoff sleep, all of which can be started again.
            let event = tokio::select! {
                event = client.next_event() => event?,
                permit = sender.reserve(tally.of(&batch)), if !batch.is_empty() => {
                    // The task caught up while the stream is quiet: hand over what is ready.
                    match permit {
                        Ok(permit) => permit.send(Ok(tally.take(&mut batch))),
                        Err(_) => return Ok(()),
                    }
                    continue;
                }
                _ = tick(&mut heartbeat) => {
                    batch.push(self.heartbeat_record(builder.boundary())?);
                    if sender.send(Ok(tally.take(&mut batch))).await.is_err() {
                        return Ok(());
                    }
                    continue;
                }
            };
            let ends_group = event.ends_group;
            let produced = builder.handle(event, &mut batch)?;
            if let Produced::Truncate(truncate) = &produced
                && !self.config.skipped_operations.contains(Op::Truncate)
            {
                if catalog.is_none() {
                    catalog = Some(connection::connect(&self.config).await?);
                }
                let context = TruncateContext {
                    filter: &self.filter,
                    tables: &self.tables,
                    source: &self.source,
                    partition: &self.partition,
                };
                if let Some(conn) = catalog.as_mut()
                    && let Some(record) = truncate_record(truncate, &context, conn).await?
                {
                    batch.push(record);
                }
            }
            if let Produced::Ddl(ddl) = produced
                && let Some(applied) = self
                    .history
                    .apply(&ddl, &self.filter, &self.config, &mut catalog)
                    .await?
            {
                if self.config.include_schema_changes {
                    batch.push(self.schema_changes.record(&ddl, &applied, &self.source)?);
                }
                batch.push(applied.history);
            }
            if batch.len() >= self.config.max_batch_size {
                if sender.send(Ok(tally.take(&mut batch))).await.is_err() {
                    return Ok(());
                }
            } else if ends_group && !batch.is_empty() {
                // Hand over at group ends when the task is keeping up; otherwise keep
                // filling the batch up to max.batch.size (the select above flushes it once
                // the channel has room).
                match sender.try_reserve(tally.of(&batch)) {
                    Ok(permit) => permit.send(Ok(tally.take(&mut batch))),
                    Err(TryReserveError::Full) => {}
                    Err(TryReserveError::Closed) => return Ok(()),
                }
            }
        }
    }

    fn heartbeat_record(&self, at: &SourceOffset) -> Result<SourceRecord> {
        let now_ms = EpochNanos::now().0 / 1_000_000;
        let keyed = sluice_schemas::records::heartbeat(&self.config.topic_prefix, now_ms).map_err(
            |source| Error::Schema {
                table: "heartbeat".into(),
                source,
            },
        )?;
        let (key, value) = crate::records::keyed_parts(keyed);
        Ok(SourceRecord::new(
            self.partition.clone(),
            at.to_map(),
            format!("__debezium-heartbeat.{}", self.config.topic_prefix),
            key,
            value,
        ))
    }
}

async fn tick(interval: &mut Option<tokio::time::Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending::<()>().await,
    }
}

/// The server's current binlog position (`SHOW MASTER STATUS`).
pub async fn current_position(conn: &mut Conn) -> Result<BinlogPosition> {
    let row: Option<mysql_async::Row> =
        conn.query_first("SHOW MASTER STATUS")
            .await
            .map_err(|source| Error::Database {
                context: "read the current binlog position".into(),
                source,
            })?;
    let row = row.ok_or_else(|| Error::ServerSetting {
        variable: "log_bin",
        found: "OFF".into(),
        needed: "ON",
    })?;
    Ok(BinlogPosition::new(
        row.get::<String, _>(0).unwrap_or_default(),
        row.get::<u64, _>(1).unwrap_or(4),
    ))
}
