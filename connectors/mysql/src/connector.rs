//! The `SourceConnector` and `SourceTask` of the MySQL / MariaDB source. The connector
//! checks the configuration and the server (so a bad setting fails the connector with the
//! reason); the single task decides where to begin from its stored offset and runs the
//! [`Pipeline`] in the background, receiving its batches in `poll`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sluice_connect::api::{
    CommittedOffset, SourceConnector, SourceRecord, SourceTask, SourceTaskContext, TaskConfig,
};
use sluice_connect::config::def::ValidationReport;
use sluice_connect::config::{ConfigDef, Props};
use tokio::task::JoinHandle;

use crate::config::{SourceConfig, config_def};
use crate::connection;
use crate::error::{Error, Result};
use crate::filters::{GtidSourceFilter, TableFilter};
use crate::flavour::ConnectorVariant;
use crate::offset::{SnapshotState, SourceOffset};
use crate::pipeline::{Pipeline, StartPlan};
use crate::queue::{self, BatchReceiver, Taken};
use crate::schema_changes::SchemaChanges;
use crate::source_info::SourceBuilder;
use crate::tables::TableFactory;
use crate::validate::{ServerInfo, check_server};

/// How long `poll` waits for a batch before returning an empty one.
const POLL_WAIT: Duration = Duration::from_millis(500);

/// The connector; `variant` is the Debezium class it was registered as.
#[derive(Debug)]
pub struct MySqlConnector {
    variant: ConnectorVariant,
}

impl MySqlConnector {
    pub fn new(variant: ConnectorVariant) -> Self {
        Self { variant }
    }
}

/// Connects, checks the server settings and privileges, and disconnects.
async fn check(config: &SourceConfig) -> Result<ServerInfo> {
    let mut conn = connection::connect(config).await?;
    let checked = check_server(&mut conn, &config.user).await;
    let _ = conn.disconnect().await;
    checked
}

#[async_trait]
impl SourceConnector for MySqlConnector {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    fn validate(&self, props: &Props) -> ValidationReport {
        config_def().validate(props)
    }

    async fn start(
        &mut self,
        props: &Props,
        _max_tasks: usize,
    ) -> sluice_connect::Result<Vec<TaskConfig>> {
        let config = SourceConfig::parse(props)?;
        TableFilter::from_props(props)?;
        GtidSourceFilter::from_props(props)?;
        TableFactory::new(&config.topic_prefix, props, self.variant.source_schema())?;
        let server = check(&config).await?;
        tracing::info!(
            flavour = %server.flavour,
            version = %server.version,
            "MySQL source connector checked the server"
        );
        // The binlog is one ordered stream: one task reads it.
        Ok(vec![props.clone()])
    }

    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(MySqlTask::new(self.variant))
    }

    async fn stop(&mut self) -> sluice_connect::Result<()> {
        Ok(())
    }
}

/// The task: a receiver of the pipeline's batches.
#[derive(Debug)]
pub struct MySqlTask {
    variant: ConnectorVariant,
    receiver: Option<BatchReceiver>,
    worker: Option<JoinHandle<()>>,
    /// `max.batch.size`: how many records `poll` gathers at most.
    max_batch_size: usize,
}

impl MySqlTask {
    pub fn new(variant: ConnectorVariant) -> Self {
        Self {
            variant,
            receiver: None,
            worker: None,
            max_batch_size: 1,
        }
    }

    async fn prepare(
        &self,
        context: Arc<dyn SourceTaskContext>,
        props: &TaskConfig,
    ) -> Result<Pipeline> {
        let config = SourceConfig::parse(props)?;
        let server = check(&config).await?;
        let partition = SourceOffset::partition(&config.topic_prefix);
        let stored = context
            .stored_offset(&partition)
            .await
            .map_err(|source| Error::Stream {
                position: "the stored offset".into(),
                source: Box::new(Error::config(source)),
            })?;
        let stored = stored.as_ref().map(SourceOffset::from_map).transpose()?;
        let plan = match stored {
            // A snapshot that did not finish resumes where it was when the offset says where;
            // otherwise it is taken again from the start.
            Some(offset) if offset.snapshot == SnapshotState::InProgress => {
                if offset.cursor.is_some() {
                    StartPlan::ResumeSnapshot(offset)
                } else {
                    StartPlan::Snapshot
                }
            }
            Some(offset) if !config.snapshot_mode.snapshots_data(true) => StartPlan::Resume(offset),
            Some(_) => StartPlan::Snapshot,
            None if config.snapshot_mode.snapshots_data(false) => StartPlan::Snapshot,
            None => StartPlan::Current,
        };
        tracing::info!(?plan, "MySQL source task starting");
        let source = SourceBuilder::new(self.variant, &config.topic_prefix);
        let tables = TableFactory::new(&config.topic_prefix, props, source.schema().clone())?;
        let schema_changes = SchemaChanges::new(
            self.variant.connector_name(),
            &config.topic_prefix,
            &source,
            partition.clone(),
        );
        let history = crate::history::SchemaHistory::new(&config, server.flavour);
        Ok(Pipeline {
            history,
            filter: TableFilter::from_props(props)?,
            gtid_sources: GtidSourceFilter::from_props(props)?,
            config,
            server,
            source,
            tables,
            schema_changes,
            partition,
            context,
            plan,
        })
    }
}

#[async_trait]
impl SourceTask for MySqlTask {
    async fn start(
        &mut self,
        context: Arc<dyn SourceTaskContext>,
        config: &TaskConfig,
    ) -> sluice_connect::Result<()> {
        let pipeline = self.prepare(context, config).await?;
        let capacity = (pipeline.config.max_queue_size / pipeline.config.max_batch_size).max(2);
        let (sender, receiver) = queue::bounded(capacity, pipeline.config.max_queue_bytes);
        self.max_batch_size = pipeline.config.max_batch_size;
        self.worker = Some(tokio::spawn(pipeline.run(sender)));
        self.receiver = Some(receiver);
        Ok(())
    }

    async fn poll(&mut self) -> sluice_connect::Result<Vec<SourceRecord>> {
        let Some(receiver) = self.receiver.as_mut() else {
            return Ok(Vec::new());
        };
        match receiver.take(self.max_batch_size, POLL_WAIT).await {
            Taken::Records(records) => Ok(records),
            Taken::Failed(error) => Err(error.into()),
            Taken::Ended => {
                // The worker ended without an error (initial_only); idle.
                self.receiver = None;
                Ok(Vec::new())
            }
        }
    }

    async fn commit(&mut self, _committed: &[CommittedOffset]) -> sluice_connect::Result<()> {
        // A binlog reader acknowledges nothing to the server: the offset store is the truth.
        Ok(())
    }

    async fn stop(&mut self) -> sluice_connect::Result<()> {
        self.receiver = None;
        if let Some(worker) = self.worker.take() {
            worker.abort();
            let _ = worker.await;
        }
        Ok(())
    }
}
