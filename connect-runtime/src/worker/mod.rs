//! The worker: runs connectors and their tasks, keeps their configs, target states, statuses
//! and offsets in the internal topics, and restarts them with the process. The REST API and
//! `sluice standalone` drive it.
//!
//! - [`control`]: task control signals and live task state.
//! - [`dedup`]: dropping replayed source records by position (exactly-once appends).
//! - [`metrics`]: per-task counters for `/metrics`.
//! - [`pipeline`]: a connector's transforms and converters applied to each record.
//! - [`source_task`]: the poll half of a source task: poll, transforms, converters, queue.
//! - [`source_append`]: the append half: dedup, durable appends, offset commits.
//! - [`topic_reader`]: a source task reading back (and keeping) its own history topic.
//! - [`sink_task`]: the loop that runs one sink task (consumer group, flush and commit), with
//!   [`sink_settings`] (topics, `errors.*`), [`sink_consumer`] (assigned partitions and
//!   positions), [`sink_fetch`] (bounded per-partition fetching),
//!   [`sink_records`] (conversion), [`sink_context`] (the task's context), [`dead_letter`]
//!   (`errors.tolerance` and the dead-letter topic), [`retry`] (put retries) and
//!   [`sink_offsets`] (KIP-875 offsets of sinks: the group's committed offsets).
//! - [`lifecycle`]: starting and stopping one connector and its tasks.

pub mod control;
pub mod dead_letter;
pub mod dedup;
pub mod lifecycle;
pub mod metrics;
pub mod pipeline;
pub mod retry;
pub mod sink_consumer;
pub mod sink_context;
pub mod sink_fetch;
pub mod sink_offsets;
pub mod sink_records;
pub mod sink_settings;
pub mod sink_task;
pub mod source_append;
pub mod source_task;
pub mod topic_reader;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use sluice_broker::Broker;
use sluice_schemas::registry::SchemaRegistry;
use tokio::sync::Mutex;

use crate::api::{ConnectorKind, TaskConfig};
use crate::config::def::ValidationReport;
use crate::config::{Props, secrets};
use crate::error::{Error, Result};
use crate::registry::{ConnectorRegistry, PluginInfo};
use crate::stores::{ConfigStore, JsonMap, OffsetStore, State, StatusStore, TargetState};
use crate::worker_config::RuntimeSettings;
use lifecycle::RunningConnector;

/// One connector as the REST API shows it (`GET /connectors/{name}`).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorInfo {
    pub name: String,
    /// The stored configuration with secrets masked.
    pub config: Props,
    pub tasks: u32,
    pub kind: ConnectorKind,
}

/// A connector's and its tasks' states (`GET /connectors/{name}/status`).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorStatus {
    pub name: String,
    pub kind: ConnectorKind,
    pub state: State,
    pub trace: Option<String>,
    pub worker_id: String,
    pub tasks: Vec<TaskStatus>,
}

/// Live figures of one connector for `/metrics`.
#[derive(Debug, Clone)]
pub struct ConnectorMetrics {
    pub name: String,
    pub kind: ConnectorKind,
    pub state: State,
    pub tasks: Vec<(u32, metrics::TaskMetrics)>,
    pub snapshot: Vec<crate::api::SnapshotProgress>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskStatus {
    pub id: u32,
    pub state: State,
    pub trace: Option<String>,
}

/// The worker. Clone freely; clones share one set of connectors.
#[derive(Debug, Clone)]
pub struct Worker {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) broker: Broker,
    pub(crate) registry: Arc<ConnectorRegistry>,
    pub(crate) configs: ConfigStore,
    pub(crate) offsets: Arc<OffsetStore>,
    pub(crate) statuses: Arc<StatusStore>,
    pub(crate) worker_id: String,
    pub(crate) settings: RuntimeSettings,
    /// The embedded schema registry the Avro converter uses when no URL is configured.
    pub(crate) schema_registry: Arc<SchemaRegistry>,
    connectors: Mutex<BTreeMap<String, RunningConnector>>,
}

impl Worker {
    /// Opens the worker's stores in `broker`. Call [`Worker::start_stored`] to run the
    /// connectors that were configured before.
    pub async fn open(
        broker: Broker,
        registry: Arc<ConnectorRegistry>,
        worker_id: String,
        settings: RuntimeSettings,
        schema_registry: Arc<SchemaRegistry>,
    ) -> Result<Self> {
        let inner = Inner {
            schema_registry,
            configs: ConfigStore::open(&broker).await?,
            offsets: Arc::new(OffsetStore::open(&broker).await?),
            statuses: Arc::new(StatusStore::open(&broker).await?),
            broker,
            registry,
            worker_id,
            settings,
            connectors: Mutex::new(BTreeMap::new()),
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    pub fn broker(&self) -> &Broker {
        &self.inner.broker
    }

    /// The embedded schema registry (served under `/schema-registry`).
    pub fn schema_registry(&self) -> &Arc<SchemaRegistry> {
        &self.inner.schema_registry
    }

    pub fn worker_id(&self) -> &str {
        &self.inner.worker_id
    }

    /// Starts every stored connector in its stored target state (a paused or stopped
    /// connector stays so across restarts).
    pub async fn start_stored(&self) -> Result<()> {
        for (name, props) in self.inner.configs.connectors()? {
            let target = self.inner.configs.target_state(&name)?;
            let mut connectors = self.inner.connectors.lock().await;
            let running = RunningConnector::start(&self.inner, &name, props, target).await;
            connectors.insert(name, running);
        }
        Ok(())
    }

    pub async fn connector_names(&self) -> Vec<String> {
        self.inner.connectors.lock().await.keys().cloned().collect()
    }

    /// Creates and starts a connector; fails if one of that name exists or the config is
    /// invalid (the error names the key).
    pub async fn create(
        &self,
        name: &str,
        props: Props,
        initial: TargetState,
    ) -> Result<ConnectorInfo> {
        let mut connectors = self.inner.connectors.lock().await;
        if connectors.contains_key(name) {
            return Err(Error::ConnectorExists(name.to_string()));
        }
        self.check_config(&props)?;
        self.inner.configs.put(name, &props).await?;
        self.inner.configs.put_target_state(name, initial).await?;
        let running = RunningConnector::start(&self.inner, name, props, initial).await;
        let info = running.info(name);
        connectors.insert(name.to_string(), running);
        Ok(info)
    }

    /// Creates or reconfigures a connector; `true` when it was created.
    pub async fn put_config(&self, name: &str, props: Props) -> Result<(bool, ConnectorInfo)> {
        let mut connectors = self.inner.connectors.lock().await;
        let stored = self.inner.configs.get(name)?;
        let props = secrets::keep_masked_secrets(props, stored.as_ref());
        self.check_config(&props)?;
        let created = !connectors.contains_key(name);
        let target = if created {
            TargetState::Started
        } else {
            self.inner.configs.target_state(name)?
        };
        if let Some(previous) = connectors.remove(name) {
            previous.stop(&self.inner, self.stop_deadline()).await;
        }
        self.inner.configs.put(name, &props).await?;
        let running = RunningConnector::start(&self.inner, name, props, target).await;
        let info = running.info(name);
        connectors.insert(name.to_string(), running);
        Ok((created, info))
    }

    fn check_config(&self, props: &Props) -> Result<()> {
        let report = self.validate(props)?;
        if let Some(problem) = report.keys.iter().find(|key| !key.errors.is_empty()) {
            return Err(Error::InvalidConfig {
                key: problem.name.clone(),
                value: problem.value.clone().unwrap_or_default(),
                reason: problem.errors.join("; "),
            });
        }
        Ok(())
    }

    /// Validates a configuration against its connector class (REST `validate`).
    pub fn validate(&self, props: &Props) -> Result<ValidationReport> {
        let class = props
            .get("connector.class")
            .ok_or_else(|| Error::MissingConfig {
                key: "connector.class".into(),
                doc: "the connector to run, e.g. io.debezium.connector.postgresql.PostgresConnector or postgres".into(),
            })?;
        let instance = self.inner.registry.create(class)?;
        Ok(lifecycle::validate(&instance, props))
    }

    /// The keys a connector class accepts: its own plus the runtime's.
    pub fn config_def(&self, props: &Props) -> Result<crate::config::ConfigDef> {
        let class = props
            .get("connector.class")
            .map(String::as_str)
            .unwrap_or_default();
        let instance = self.inner.registry.create(class)?;
        Ok(lifecycle::config_def(&instance))
    }

    pub fn plugins(&self) -> Vec<PluginInfo> {
        self.inner.registry.plugins()
    }

    pub async fn info(&self, name: &str) -> Result<ConnectorInfo> {
        let connectors = self.inner.connectors.lock().await;
        Ok(found(&connectors, name)?.info(name))
    }

    /// The stored configuration, secrets masked.
    pub async fn config(&self, name: &str) -> Result<Props> {
        Ok(self.info(name).await?.config)
    }

    /// The task configurations the connector planned, secrets masked.
    pub async fn task_configs(&self, name: &str) -> Result<Vec<TaskConfig>> {
        let connectors = self.inner.connectors.lock().await;
        Ok(found(&connectors, name)?
            .task_configs
            .iter()
            .map(secrets::masked)
            .collect())
    }

    pub async fn status(&self, name: &str) -> Result<ConnectorStatus> {
        let connectors = self.inner.connectors.lock().await;
        Ok(found(&connectors, name)?.status(name, &self.inner.worker_id))
    }

    /// Every connector's live figures.
    pub async fn metrics(&self) -> Vec<ConnectorMetrics> {
        let connectors = self.inner.connectors.lock().await;
        connectors
            .iter()
            .map(|(name, running)| ConnectorMetrics {
                name: name.clone(),
                kind: running.kind,
                state: running.state,
                tasks: running
                    .tasks
                    .iter()
                    .enumerate()
                    .map(|(id, task)| (id as u32, task.metrics.clone()))
                    .collect(),
                snapshot: running.progress.lock().values().cloned().collect(),
            })
            .collect()
    }

    pub async fn pause(&self, name: &str) -> Result<()> {
        self.retarget(name, TargetState::Paused).await
    }

    /// Resumes a paused or stopped connector.
    pub async fn resume(&self, name: &str) -> Result<()> {
        self.retarget(name, TargetState::Started).await
    }

    /// Stops the connector's tasks, keeping its config and offsets (KIP-875 STOPPED).
    pub async fn stop(&self, name: &str) -> Result<()> {
        self.retarget(name, TargetState::Stopped).await
    }

    async fn retarget(&self, name: &str, target: TargetState) -> Result<()> {
        let mut connectors = self.inner.connectors.lock().await;
        let running = found_mut(&mut connectors, name)?;
        self.inner.configs.put_target_state(name, target).await?;
        if running.target == target {
            return Ok(());
        }
        let needs_restart =
            running.target == TargetState::Stopped || target == TargetState::Stopped;
        if needs_restart {
            let previous = connectors.remove(name).expect("present: checked above");
            let props = previous.props.clone();
            previous.stop(&self.inner, self.stop_deadline()).await;
            let running = RunningConnector::start(&self.inner, name, props, target).await;
            connectors.insert(name.to_string(), running);
        } else {
            running.set_target(&self.inner, name, target).await;
        }
        Ok(())
    }

    /// Restarts the connector (and, with `include_tasks`, its tasks; with `only_failed`,
    /// only those that failed).
    pub async fn restart(&self, name: &str, include_tasks: bool, only_failed: bool) -> Result<()> {
        let mut connectors = self.inner.connectors.lock().await;
        let running = found(&connectors, name)?;
        let connector_failed = running.state == State::Failed;
        let any_task_failed = running
            .tasks
            .iter()
            .any(|t| t.state.get().state == State::Failed);
        let restart_all = if only_failed {
            connector_failed || (include_tasks && any_task_failed)
        } else {
            true
        };
        if !restart_all {
            return Ok(());
        }
        let previous = connectors.remove(name).expect("present: checked above");
        let (props, target) = (previous.props.clone(), previous.target);
        previous.stop(&self.inner, self.stop_deadline()).await;
        let running = RunningConnector::start(&self.inner, name, props, target).await;
        connectors.insert(name.to_string(), running);
        Ok(())
    }

    pub async fn restart_task(&self, name: &str, task: u32) -> Result<()> {
        let mut connectors = self.inner.connectors.lock().await;
        let running = found_mut(&mut connectors, name)?;
        running
            .restart_task(&self.inner, name, task, self.stop_deadline())
            .await
    }

    /// Stops and removes a connector; its offsets stay (a re-created connector resumes).
    pub async fn delete(&self, name: &str) -> Result<()> {
        let mut connectors = self.inner.connectors.lock().await;
        let running = connectors
            .remove(name)
            .ok_or_else(|| Error::UnknownConnector(name.to_string()))?;
        running.stop(&self.inner, self.stop_deadline()).await;
        self.inner.configs.remove(name).await?;
        self.inner.statuses.remove(name).await?;
        Ok(())
    }

    /// The stored offsets of a connector (KIP-875 `GET …/offsets`): a source's source
    /// offsets, a sink's committed offsets in its consumer group.
    pub async fn offsets(&self, name: &str) -> Result<Vec<(JsonMap, JsonMap)>> {
        let connectors = self.inner.connectors.lock().await;
        match found(&connectors, name)?.kind {
            ConnectorKind::Sink => Ok(sink_offsets::committed(&self.inner.broker, name)),
            ConnectorKind::Source => self.inner.offsets.connector_offsets(name),
        }
    }

    /// Replaces or removes offsets (`None`) of a STOPPED connector (KIP-875 `PATCH`).
    pub async fn alter_offsets(
        &self,
        name: &str,
        offsets: Vec<(JsonMap, Option<JsonMap>)>,
    ) -> Result<()> {
        let connectors = self.inner.connectors.lock().await;
        let running = found(&connectors, name)?;
        require_stopped(running, name)?;
        match running.kind {
            ConnectorKind::Sink => sink_offsets::alter(&self.inner.broker, name, &offsets).await,
            ConnectorKind::Source => self.inner.offsets.rewrite(name, &offsets).await,
        }
    }

    /// Removes every offset of a STOPPED connector (KIP-875 `DELETE`).
    pub async fn reset_offsets(&self, name: &str) -> Result<()> {
        let connectors = self.inner.connectors.lock().await;
        let running = found(&connectors, name)?;
        require_stopped(running, name)?;
        match running.kind {
            ConnectorKind::Sink => sink_offsets::reset(&self.inner.broker, name).await,
            ConnectorKind::Source => self.inner.offsets.reset(name).await,
        }
    }

    /// Stops every connector within the shutdown deadline (offsets commit, tasks stop).
    pub async fn shutdown(&self) {
        let mut connectors = self.inner.connectors.lock().await;
        let all = std::mem::take(&mut *connectors);
        // Signal every task first so they wind down side by side, then wait for each.
        for running in all.values() {
            running.signal_stop();
        }
        for running in all.into_values() {
            running.stop(&self.inner, self.stop_deadline()).await;
        }
    }

    fn stop_deadline(&self) -> Duration {
        Duration::from_millis(self.inner.settings.shutdown_timeout_ms)
    }
}

fn require_stopped(running: &RunningConnector, name: &str) -> Result<()> {
    if running.target != TargetState::Stopped {
        return Err(Error::WrongConnectorState(format!(
            "connector {name} must be STOPPED to change its offsets; \
             stop it with PUT /connectors/{name}/stop first"
        )));
    }
    Ok(())
}

fn found<'a>(
    connectors: &'a BTreeMap<String, RunningConnector>,
    name: &str,
) -> Result<&'a RunningConnector> {
    connectors
        .get(name)
        .ok_or_else(|| Error::UnknownConnector(name.to_string()))
}

fn found_mut<'a>(
    connectors: &'a mut BTreeMap<String, RunningConnector>,
    name: &str,
) -> Result<&'a mut RunningConnector> {
    connectors
        .get_mut(name)
        .ok_or_else(|| Error::UnknownConnector(name.to_string()))
}
