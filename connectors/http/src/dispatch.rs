//! The dispatcher: a background task per sink task that sends sealed batches while `put`
//! keeps accepting records, so serialization and HTTP overlap. It wakes when `put` seals
//! batches, when a request ends, and at the next linger or retry deadline; it never blocks
//! `put` — a partition whose head batch is being retried is paused instead.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use sluice_connect::api::SinkTaskContext;
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::error::{AttemptFailure, Error};
use crate::retry::RetrySettings;
use crate::sender::{Attempt, Sender};
use crate::state::{Ready, State};

/// The state `put`/`flush` and the dispatcher share, and the dispatcher's doorbell.
#[derive(Debug)]
pub struct Shared {
    state: Mutex<State>,
    pub wake: Notify,
}

impl Shared {
    pub fn new(state: State) -> Self {
        Self {
            state: Mutex::new(state),
            wake: Notify::new(),
        }
    }

    /// The state; a panic elsewhere while it was held does not poison the task.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Runs until aborted (the task's `stop`), which also drops the requests under way.
pub async fn run(
    shared: Arc<Shared>,
    sender: Arc<Sender>,
    retry: RetrySettings,
    context: Arc<dyn SinkTaskContext>,
) {
    let mut sends: JoinSet<(Ready, Attempt)> = JoinSet::new();
    loop {
        let (ready, deadline) = {
            let mut state = shared.lock();
            (state.take_ready(Instant::now()), state.next_deadline())
        };
        for item in ready {
            let sender = sender.clone();
            sends.spawn(async move {
                let attempt = sender.send(&item.batch).await;
                (item, attempt)
            });
        }
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            Some(done) = sends.join_next(), if !sends.is_empty() => match done {
                Ok((item, attempt)) => {
                    shared.lock().complete(&item, attempt, &retry, context.as_ref());
                }
                Err(join_error) => {
                    tracing::error!(%join_error, "an HTTP send ended abnormally");
                    shared.lock().fail(Error::RetriesExhausted {
                        key: "(unknown)".into(),
                        attempts: 1,
                        source: AttemptFailure::Status {
                            status: 0,
                            reason: format!("the send task ended abnormally: {join_error}"),
                        },
                    });
                    context.request_commit();
                }
            },
            () = shared.wake.notified() => {}
            () = sleep => {}
        }
    }
}
