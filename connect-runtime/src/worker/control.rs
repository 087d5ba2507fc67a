//! How the worker steers a running task and how the task reports back: the requested
//! [`TaskControl`] (run, pause, stop) and the live [`TaskState`] shown by `/status`.

use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::watch;

use crate::api::ConnectorTaskId;
use crate::stores::{State, Status, StatusStore};

/// What the worker wants a task to be doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskControl {
    Run,
    Pause,
    Stop,
}

/// A task's current state and, when failed, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskState {
    pub state: State,
    pub trace: Option<String>,
}

/// Shared view of one task's state, written by the task, read by the REST API.
#[derive(Debug, Clone)]
pub struct TaskStateCell(Arc<Mutex<TaskState>>);

impl TaskStateCell {
    pub fn new(state: State) -> Self {
        Self(Arc::new(Mutex::new(TaskState { state, trace: None })))
    }

    pub fn get(&self) -> TaskState {
        self.0.lock().clone()
    }

    pub fn set(&self, state: State, trace: Option<String>) {
        *self.0.lock() = TaskState { state, trace };
    }
}

/// The worker's handle on a running task.
#[derive(Debug)]
pub struct TaskHandle {
    pub control: watch::Sender<TaskControl>,
    pub state: TaskStateCell,
    pub metrics: super::metrics::TaskMetrics,
    pub join: tokio::task::JoinHandle<()>,
}

/// Sets a task's live state and stores it in the status topic. The returned future owns
/// what it needs, so callers whose `self` is not `Sync` hold no borrow across its await.
pub fn publish_task_state(
    cell: &TaskStateCell,
    statuses: &Arc<StatusStore>,
    id: &ConnectorTaskId,
    worker_id: &str,
    state: State,
    trace: Option<String>,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    cell.set(state, trace.clone());
    let status = Status {
        state,
        trace,
        worker_id: worker_id.to_string(),
        generation: 0,
    };
    let statuses = statuses.clone();
    let id = id.clone();
    async move {
        if let Err(error) = statuses.put_task(&id.connector, id.task, &status).await {
            tracing::warn!(task = %id, %error, "cannot store task status");
        }
    }
}

/// Renders an error with all its causes, for a FAILED status's `trace`.
pub fn error_trace(error: &(dyn std::error::Error + 'static)) -> String {
    let mut trace = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        trace.push_str("\nCaused by: ");
        trace.push_str(&cause.to_string());
        source = cause.source();
    }
    trace
}
