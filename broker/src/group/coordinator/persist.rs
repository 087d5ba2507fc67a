//! Writing to the [`GroupLog`](crate::group::GroupLog). Every change joins one queue that a
//! single writer task appends in batches: concurrent commits share one append (and so one
//! fsync), the log keeps the order in which changes were made, and each change reaches
//! memory only once it is durable. The writer is a task of its own so that a caller giving
//! up on its commit cannot stall the queue.

use std::sync::Arc;

use tokio::sync::oneshot;

use super::{GroupCoordinator, State, queue_snapshot};
use crate::error::{Error, Result};
use crate::group::offsets::CommittedOffset;
use crate::group::{GroupLogRecord, TopicPartition};

/// What a write changes in memory once it is durable.
#[derive(Debug)]
pub(super) enum Effect {
    /// Only group snapshots, which change nothing in memory.
    Nothing,
    Commit {
        group: String,
        commits: Vec<(TopicPartition, CommittedOffset)>,
    },
    Delete {
        group: String,
        partitions: Vec<TopicPartition>,
    },
}

#[derive(Debug)]
struct PendingWrite {
    records: Vec<GroupLogRecord>,
    effect: Effect,
    done: oneshot::Sender<Result<()>>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Writer {
    #[default]
    Idle,
    Running,
}

/// Writes waiting for the writer task.
#[derive(Debug, Default)]
pub(super) struct WriteQueue {
    pending: Vec<PendingWrite>,
    writer: Writer,
}

impl GroupCoordinator {
    /// Appends `records` after any queued group snapshots, applies `effect` once they are
    /// durable, and returns then.
    pub(super) async fn write(&self, records: Vec<GroupLogRecord>, effect: Effect) -> Result<()> {
        let (done, written) = oneshot::channel();
        let start_writer = {
            let mut state = self.inner.state.lock();
            state.writes.pending.push(PendingWrite {
                records,
                effect,
                done,
            });
            let idle = state.writes.writer == Writer::Idle;
            state.writes.writer = Writer::Running;
            idle
        };
        if start_writer {
            let coordinator = self.clone();
            tokio::spawn(async move { coordinator.run_writer().await });
        }
        written.await.map_err(|_| Error::GroupLogWriterStopped)?
    }

    /// Writes queued group snapshots; a failure is logged and the snapshots stay queued for
    /// the next write (they only record generations, so membership carries on).
    pub(super) async fn flush_outbox(&self) {
        if self.inner.state.lock().outbox.is_empty() {
            return;
        }
        if let Err(error) = self.write(Vec::new(), Effect::Nothing).await {
            tracing::warn!(%error, "writing consumer group snapshots failed; will retry with the next write");
        }
    }

    async fn run_writer(self) {
        loop {
            let (snapshots, batch) = {
                let mut state = self.inner.state.lock();
                if state.writes.pending.is_empty() {
                    state.writes.writer = Writer::Idle;
                    return;
                }
                (
                    std::mem::take(&mut state.outbox),
                    std::mem::take(&mut state.writes.pending),
                )
            };
            let mut records = snapshots.clone();
            for write in &batch {
                records.extend(write.records.iter().cloned());
            }
            let log = Arc::clone(&self.inner.log);
            let appended = tokio::task::spawn_blocking(move || log.append(records))
                .await
                .map_err(Error::Task)
                .and_then(|appended| appended);
            let mut state = self.inner.state.lock();
            match appended {
                Ok(()) => {
                    for write in batch {
                        self.apply(&mut state, write.effect);
                        let _ = write.done.send(Ok(()));
                    }
                }
                Err(error) => {
                    let newer = std::mem::replace(&mut state.outbox, snapshots);
                    for snapshot in newer {
                        queue_snapshot(&mut state.outbox, snapshot);
                    }
                    let error = Arc::new(error);
                    for write in batch {
                        let _ = write.done.send(Err(Error::GroupLogWrite {
                            source: Arc::clone(&error),
                        }));
                    }
                }
            }
        }
    }

    fn apply(&self, state: &mut State, effect: Effect) {
        match effect {
            Effect::Nothing => {}
            Effect::Commit { group, commits } => {
                let entry = state.entry(&group, self.ctx());
                for (partition, committed) in commits {
                    entry.offsets.apply(partition, Some(committed));
                }
            }
            Effect::Delete { group, partitions } => {
                if let Some(entry) = state.groups.get_mut(&group) {
                    for partition in partitions {
                        entry.offsets.apply(partition, None);
                    }
                    // A member may have joined while the tombstones were written; keep it.
                    if entry.membership.is_empty() {
                        state.groups.remove(&group);
                    }
                }
            }
        }
    }
}
