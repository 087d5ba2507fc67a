//! The source task: `start` checks the server, sets up the publication and slot and plans
//! where to begin; a background reader then runs the snapshot and the stream into the bounded
//! queue; `poll` drains the queue; `commit` tells the reader what is durable so it can
//! confirm it to the slot; `stop` ends the reader (and drops the slot when asked to).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sluice_connect::api::{
    CommittedOffset, SourceRecord, SourceTask, SourceTaskContext, TaskConfig,
};
use tokio::task::JoinHandle;

use crate::ack::AckTracker;
use crate::config::PostgresConfig;
use crate::connection;
use crate::error::{Error, Result};
use crate::events::EventFactory;
use crate::mapping::MappingContext;
use crate::messages::LogicalMessages;
use crate::offsets::{Resume, StreamPoint, snapshot_position};
use crate::plan::{StartPlan, plan_start};
use crate::queue::{QueueReceiver, QueueSender, bounded};
use crate::snapshot::{self, SnapshotSinks};
use crate::stream::Streamer;
use crate::tables::TableFilter;

/// How long `poll` waits for the first record.
const POLL_WAIT: Duration = Duration::from_millis(500);

/// A running PostgreSQL source task.
#[derive(Debug, Default)]
pub struct PostgresTask {
    config: Option<PostgresConfig>,
    queue: Option<QueueReceiver>,
    tracker: AckTracker,
    reader: Option<JoinHandle<()>>,
}

#[async_trait]
impl SourceTask for PostgresTask {
    async fn start(
        &mut self,
        context: Arc<dyn SourceTaskContext>,
        props: &TaskConfig,
    ) -> sluice_connect::Result<()> {
        let config = PostgresConfig::from_props(props)?;
        let client = connection::connect(&config, "sluice-setup").await?;
        let filter = TableFilter::from_config(&config)?;
        let tables = crate::validate::check_server(&client, &config, &filter).await?;
        crate::publication::ensure_publication(&client, &config, &tables).await?;
        let stored = context.stored_offset(&config.source_partition()).await?;
        let factory = EventFactory::new(&config);
        let mapping = MappingContext::new(&config, props, factory.source_schema(), &client).await?;
        let binary = crate::types::TypeOptions::from_props(props)?.binary;
        let messages = LogicalMessages::new(&config, binary, factory.source_schema())?;
        let plan = plan_start(&client, &config, tables, stored.as_ref()).await?;
        tracing::info!(
            snapshot = plan.snapshot.is_some(),
            stream_from = ?plan.stream.as_ref().map(|s| s.lsn.to_string()),
            "postgres source starting"
        );
        self.tracker = AckTracker::new(plan.confirmed);
        let (sender, receiver) = bounded(config.max_queue_size, config.max_queue_bytes);
        let reader = Reader {
            config: config.clone(),
            filter,
            factory,
            mapping,
            messages,
            queue: sender,
            tracker: self.tracker.clone(),
            context,
        };
        self.reader = Some(tokio::spawn(reader.run(plan)));
        self.queue = Some(receiver);
        self.config = Some(config);
        Ok(())
    }

    async fn poll(&mut self) -> sluice_connect::Result<Vec<SourceRecord>> {
        let (Some(queue), Some(config)) = (self.queue.as_mut(), self.config.as_ref()) else {
            return Ok(Vec::new());
        };
        Ok(queue.take(config.max_batch_size, POLL_WAIT).await?)
    }

    async fn commit(&mut self, committed: &[CommittedOffset]) -> sluice_connect::Result<()> {
        let Some(config) = &self.config else {
            return Ok(());
        };
        let partition = config.source_partition();
        for offset in committed.iter().filter(|c| c.source_partition == partition) {
            let position = match crate::offsets::parse(&offset.source_offset) {
                Some(Resume::Snapshot {
                    slot_lsn,
                    table,
                    row,
                    ..
                }) => snapshot_position(slot_lsn, table, row),
                Some(Resume::Stream {
                    commit,
                    event_index,
                    flushable,
                }) => StreamPoint {
                    commit,
                    change_lsn: crate::lsn::Lsn::INVALID,
                    xid: 0,
                    commit_micros: 0,
                    event_index,
                    flushable,
                }
                .position(),
                None => continue,
            };
            self.tracker.durable(position);
        }
        Ok(())
    }

    async fn stop(&mut self) -> sluice_connect::Result<()> {
        self.queue = None;
        if let Some(reader) = self.reader.take() {
            reader.abort();
            let _ = reader.await;
        }
        if let Some(config) = &self.config
            && config.slot_drop_on_stop
        {
            let client = connection::connect(config, "sluice-teardown").await?;
            crate::slot::drop_slot(&client, config, Duration::from_secs(10)).await?;
            tracing::info!(slot = %config.slot_name, "dropped the replication slot (slot.drop.on.stop)");
        }
        Ok(())
    }
}

/// The background half of the task.
struct Reader {
    config: PostgresConfig,
    filter: TableFilter,
    factory: EventFactory,
    mapping: MappingContext,
    messages: LogicalMessages,
    queue: QueueSender,
    tracker: AckTracker,
    context: Arc<dyn SourceTaskContext>,
}

impl Reader {
    async fn run(mut self, plan: StartPlan) {
        let queue = self.queue.clone();
        match self.read(plan).await {
            Ok(()) | Err(Error::Stopped) => {}
            Err(error) => {
                tracing::error!(%error, "postgres source reader failed");
                queue.fail(error);
            }
        }
    }

    async fn read(&mut self, plan: StartPlan) -> Result<()> {
        if let Some((snapshot_plan, session)) = plan.snapshot {
            let client = connection::connect(&self.config, "sluice-snapshot").await?;
            snapshot::run(
                &client,
                &snapshot_plan,
                &mut self.mapping,
                SnapshotSinks {
                    factory: &self.factory,
                    queue: &self.queue,
                    tracker: &self.tracker,
                    context: &self.context,
                },
            )
            .await?;
            // The exported snapshot was needed until the snapshot transaction imported it.
            drop(session);
            tracing::info!(tables = snapshot_plan.tables.len(), "snapshot complete");
        }
        let Some(start) = plan.stream else {
            tracing::info!("snapshot.mode=initial_only: not streaming");
            return Ok(());
        };
        let streamer = Streamer::new(
            self.config.clone(),
            self.filter.clone(),
            self.factory.clone(),
            self.mapping.clone(),
            self.messages.clone(),
            self.queue.clone(),
            self.tracker.clone(),
            start,
        );
        streamer.run().await
    }
}
