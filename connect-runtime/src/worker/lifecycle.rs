//! One connector on this worker: starting it (resolving secrets, planning tasks, spawning
//! them in the requested state), changing its target state, restarting tasks, and stopping
//! it within a deadline. Failures never escape as errors: they become a FAILED state with
//! the cause as its trace, as Kafka Connect reports them.

use std::time::Duration;

use tokio::sync::watch;

use super::control::{TaskControl, TaskHandle, TaskStateCell, error_trace};
use super::pipeline::SourcePipeline;
use super::sink_settings::{self, SinkSettings, sink_config_def};
use super::sink_task::SinkTaskRun;
use super::source_task::{ProgressBoard, SourceTaskRun};
use super::{ConnectorInfo, ConnectorStatus, Inner, TaskStatus};
use crate::api::{ConnectorKind, ConnectorTaskId, TaskConfig};
use crate::config::def::{ConfigDef, ConfigKey, KeyReport, ValidationReport};
use crate::config::{Props, secrets};
use crate::error::{Error, Result};
use crate::registry::ConnectorInstance;
use crate::stores::{State, Status, TargetState};

/// Keys every connector accepts because the runtime reads them.
fn runtime_keys() -> ConfigDef {
    ConfigDef::new()
        .define(ConfigKey::string("name").doc("The connector's unique name."))
        .define(
            ConfigKey::class("connector.class")
                .required()
                .doc("The connector to run (class name or short name)."),
        )
        .define(
            ConfigKey::int("tasks.max")
                .default("1")
                .at_least(1)
                .doc("Most tasks to run."),
        )
}

/// Prefixes of keys owned by the runtime (converters, transforms, error handling).
const RUNTIME_KEY_PREFIXES: &[&str] = &[
    "key.converter",
    "value.converter",
    "header.converter",
    "transforms",
    "predicates",
    "errors.",
    "topic.creation.",
    "config.action.reload",
];

/// The keys the runtime reads from this kind of connector.
fn runtime_def(instance: &ConnectorInstance) -> ConfigDef {
    match instance {
        ConnectorInstance::Source(_) => runtime_keys(),
        ConnectorInstance::Sink(_) => runtime_keys().merge(&sink_config_def()),
    }
}

/// The connector's declared keys plus the runtime's own.
pub fn config_def(instance: &ConnectorInstance) -> ConfigDef {
    let own = match instance {
        ConnectorInstance::Source(connector) => connector.config_def(),
        ConnectorInstance::Sink(connector) => connector.config_def(),
    };
    runtime_def(instance).merge(&own)
}

/// Validates `props` against the connector's keys plus the runtime's own. Like Kafka Connect,
/// the values `${env:…}` / `${file:…}` references resolve to are validated (a port given as
/// `${env:PG_PORT}` must resolve to a number), while the report shows what was typed.
pub fn validate(instance: &ConnectorInstance, props: &Props) -> ValidationReport {
    let (resolved, failures) = secrets::resolve_for_validation(props);
    let mut report = validate_resolved(instance, &resolved);
    for key in &mut report.keys {
        let (Some(typed), Some(value)) = (props.get(&key.name), resolved.get(&key.name)) else {
            continue;
        };
        if typed == value {
            continue;
        }
        if key.value.as_deref() == Some(secrets::MASK) {
            // A secret's resolved value never appears in a message.
            for error in &mut key.errors {
                *error = error.replace(value.as_str(), secrets::MASK);
            }
        } else if key.value.as_deref() == Some(value.as_str()) {
            key.value = Some(typed.clone());
        }
    }
    for (name, failure) in failures {
        let message = failure.to_string();
        match report.keys.iter_mut().find(|key| key.name == name) {
            // The typed text cannot be checked as a value: the resolution error says it all.
            Some(key) => key.errors = vec![message],
            None => report.keys.push(KeyReport {
                name,
                value: None,
                errors: vec![message],
                recommended_values: Vec::new(),
            }),
        }
    }
    report
}

fn validate_resolved(instance: &ConnectorInstance, props: &Props) -> ValidationReport {
    let (mut report, def) = match instance {
        ConnectorInstance::Source(connector) => (connector.validate(props), connector.config_def()),
        ConnectorInstance::Sink(connector) => (connector.validate(props), connector.config_def()),
    };
    let runtime_def = runtime_def(instance);
    let runtime = runtime_def.validate(props);
    for key in runtime.keys {
        if def.key(&key.name).is_none() {
            report.keys.push(key);
        }
    }
    if let ConnectorInstance::Sink(_) = instance {
        sink_settings::check_props(props, &mut report);
    }
    report.unknown_keys.retain(|key| {
        runtime_def.key(key).is_none()
            && !RUNTIME_KEY_PREFIXES
                .iter()
                .any(|prefix| key.starts_with(prefix))
    });
    report
}

/// A connector's runtime state on this worker.
#[derive(Debug)]
pub(crate) struct RunningConnector {
    /// The stored configuration (secret references unresolved).
    pub props: Props,
    pub kind: ConnectorKind,
    pub target: TargetState,
    pub state: State,
    pub trace: Option<String>,
    pub task_configs: Vec<TaskConfig>,
    pub tasks: Vec<TaskHandle>,
    pub progress: ProgressBoard,
    instance: Option<ConnectorInstance>,
    pipeline: Option<SourcePipeline>,
    sink: Option<SinkSettings>,
}

impl RunningConnector {
    /// Starts the connector in `target` state; a failure leaves it FAILED with a trace.
    pub async fn start(inner: &Inner, name: &str, props: Props, target: TargetState) -> Self {
        let kind = props
            .get("connector.class")
            .and_then(|class| inner.registry.plugin(class).ok())
            .map_or(ConnectorKind::Source, |plugin| plugin.kind);
        let mut running = Self {
            props,
            kind,
            target,
            state: State::Unassigned,
            trace: None,
            task_configs: Vec::new(),
            tasks: Vec::new(),
            progress: ProgressBoard::default(),
            instance: None,
            pipeline: None,
            sink: None,
        };
        if target == TargetState::Stopped {
            running.state = State::Stopped;
        } else {
            match running.launch(inner, name).await {
                Ok(()) => {
                    running.state = match target {
                        TargetState::Paused => State::Paused,
                        _ => State::Running,
                    }
                }
                Err(error) => {
                    tracing::error!(connector = name, error = %error_trace(&error), "connector failed to start");
                    running.state = State::Failed;
                    running.trace = Some(error_trace(&error));
                }
            }
        }
        running.publish(inner, name).await;
        running
    }

    async fn launch(&mut self, inner: &Inner, name: &str) -> Result<()> {
        let resolved = secrets::resolve_references(&self.props)?;
        let class = resolved.get("connector.class").cloned().unwrap_or_default();
        let mut instance = inner.registry.create(&class)?;
        let report = validate(&instance, &resolved);
        if let Some(problem) = report.keys.iter().find(|key| !key.errors.is_empty()) {
            return Err(Error::InvalidConfig {
                key: problem.name.clone(),
                value: problem.value.clone().unwrap_or_default(),
                reason: problem.errors.join("; "),
            });
        }
        for key in &report.unknown_keys {
            tracing::warn!(connector = name, key, "unknown configuration key ignored");
        }
        let max_tasks = resolved
            .get("tasks.max")
            .and_then(|value| value.trim().parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        let task_configs = match &mut instance {
            ConnectorInstance::Source(connector) => connector.start(&resolved, max_tasks).await?,
            ConnectorInstance::Sink(connector) => connector.start(&resolved, max_tasks).await?,
        };
        self.task_configs = task_configs;
        match &instance {
            ConnectorInstance::Source(_) => {
                self.pipeline = Some(SourcePipeline::from_props(
                    &resolved,
                    &inner.schema_registry,
                )?);
            }
            ConnectorInstance::Sink(_) => {
                self.sink = Some(SinkSettings::from_props(
                    name,
                    &resolved,
                    &inner.schema_registry,
                )?);
            }
        }
        self.instance = Some(instance);
        for task in 0..self.task_configs.len() as u32 {
            let handle = self.spawn_task(inner, name, task)?;
            self.tasks.push(handle);
        }
        Ok(())
    }

    fn spawn_task(&self, inner: &Inner, name: &str, task: u32) -> Result<TaskHandle> {
        let initial = match self.target {
            TargetState::Paused => TaskControl::Pause,
            _ => TaskControl::Run,
        };
        let (control, control_rx) = watch::channel(initial);
        let state = TaskStateCell::new(State::Unassigned);
        let metrics = super::metrics::TaskMetrics::default();
        let config = self.task_configs[task as usize].clone();
        let id = ConnectorTaskId::new(name, task);
        let join = match self.instance.as_ref() {
            Some(ConnectorInstance::Source(connector)) => {
                let run = SourceTaskRun {
                    id,
                    task: connector.create_task(),
                    config,
                    broker: inner.broker.clone(),
                    offsets: inner.offsets.clone(),
                    statuses: inner.statuses.clone(),
                    worker_id: inner.worker_id.clone(),
                    pipeline: self.pipeline.clone().ok_or_else(|| missing("pipeline"))?,
                    control: control_rx,
                    state: state.clone(),
                    progress: self.progress.clone(),
                    offset_flush_interval: Duration::from_millis(
                        inner.settings.offset_flush_interval_ms,
                    ),
                    epoch: inner.offsets.epoch(name),
                    metrics: metrics.clone(),
                    queue_max_bytes: inner.settings.queue_max_bytes,
                };
                tokio::spawn(run.run())
            }
            Some(ConnectorInstance::Sink(connector)) => {
                let run = SinkTaskRun {
                    id,
                    task: connector.create_task(),
                    config,
                    broker: inner.broker.clone(),
                    statuses: inner.statuses.clone(),
                    worker_id: inner.worker_id.clone(),
                    settings: self.sink.clone().ok_or_else(|| missing("sink settings"))?,
                    control: control_rx,
                    state: state.clone(),
                    metrics: metrics.clone(),
                    offset_flush_interval: Duration::from_millis(
                        inner.settings.offset_flush_interval_ms,
                    ),
                    max_bytes_in_flight: usize::try_from(inner.settings.queue_max_bytes)
                        .unwrap_or(usize::MAX),
                };
                tokio::spawn(run.run())
            }
            None => return Err(missing("connector instance")),
        };
        Ok(TaskHandle {
            control,
            state,
            metrics,
            join,
        })
    }

    pub fn info(&self, name: &str) -> ConnectorInfo {
        ConnectorInfo {
            name: name.to_string(),
            config: secrets::masked(&self.props),
            tasks: self.task_configs.len() as u32,
            kind: self.kind,
        }
    }

    pub fn status(&self, name: &str, worker_id: &str) -> ConnectorStatus {
        ConnectorStatus {
            name: name.to_string(),
            kind: self.kind,
            state: self.state,
            trace: self.trace.clone(),
            worker_id: worker_id.to_string(),
            tasks: self
                .tasks
                .iter()
                .enumerate()
                .map(|(id, task)| {
                    let state = task.state.get();
                    TaskStatus {
                        id: id as u32,
                        state: state.state,
                        trace: state.trace,
                    }
                })
                .collect(),
        }
    }

    /// Switches between running and paused without restarting tasks.
    pub async fn set_target(&mut self, inner: &Inner, name: &str, target: TargetState) {
        self.target = target;
        let control = match target {
            TargetState::Paused => TaskControl::Pause,
            _ => TaskControl::Run,
        };
        for task in &self.tasks {
            let _ = task.control.send(control);
        }
        if self.state != State::Failed {
            self.state = match target {
                TargetState::Paused => State::Paused,
                _ => State::Running,
            };
        }
        self.publish(inner, name).await;
    }

    pub fn signal_stop(&self) {
        for task in &self.tasks {
            let _ = task.control.send(TaskControl::Stop);
        }
    }

    /// Stops every task (waiting up to `deadline`, then abandoning it) and the connector.
    pub async fn stop(mut self, inner: &Inner, deadline: Duration) {
        self.signal_stop();
        let tasks = std::mem::take(&mut self.tasks);
        for task in tasks {
            await_task(task, deadline).await;
        }
        let stopped = match self.instance.as_mut() {
            Some(ConnectorInstance::Source(connector)) => connector.stop().await,
            Some(ConnectorInstance::Sink(connector)) => connector.stop().await,
            None => Ok(()),
        };
        if let Err(error) = stopped {
            tracing::warn!(%error, "connector did not stop cleanly");
        }
        let _ = inner.broker.flush().await;
    }

    pub async fn restart_task(
        &mut self,
        inner: &Inner,
        name: &str,
        task: u32,
        deadline: Duration,
    ) -> Result<()> {
        let index = task as usize;
        if index >= self.tasks.len() {
            return Err(Error::UnknownTask {
                connector: name.to_string(),
                task,
            });
        }
        let fresh = self.spawn_task(inner, name, task)?;
        let old = std::mem::replace(&mut self.tasks[index], fresh);
        let _ = old.control.send(TaskControl::Stop);
        await_task(old, deadline).await;
        Ok(())
    }

    async fn publish(&self, inner: &Inner, name: &str) {
        let status = Status {
            state: self.state,
            trace: self.trace.clone(),
            worker_id: inner.worker_id.clone(),
            generation: 0,
        };
        if let Err(error) = inner.statuses.put_connector(name, &status).await {
            tracing::warn!(connector = name, %error, "cannot store connector status");
        }
    }
}

async fn await_task(task: TaskHandle, deadline: Duration) {
    let _ = task.control.send(TaskControl::Stop);
    let mut join = task.join;
    if tokio::time::timeout(deadline, &mut join).await.is_err() {
        tracing::warn!("task did not stop within the shutdown deadline; abandoning it");
        join.abort();
    }
}

fn missing(what: &str) -> Error {
    Error::WrongConnectorState(format!("internal: connector has no {what}"))
}
