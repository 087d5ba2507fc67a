//! The history's part of the task's start: rebuild the model from the topic when resuming
//! from a stored offset, or read it from the catalog (and write it to the topic) when a
//! snapshot is due, when streaming starts without one, and with `snapshot.mode=recovery`.

use sluice_connect::api::{SharedOffsetMap, SourceRecord};

use crate::config::SnapshotMode;
use crate::connection;
use crate::error::Result;
use crate::offset::{BinlogPosition, SnapshotState, SourceOffset};
use crate::pipeline::{Pipeline, StartPlan, current_position};
use crate::queue::BatchSender;

impl Pipeline {
    /// Prepares the schema model before anything is read; `false` when the receiver is gone.
    pub(crate) async fn start_history(&self, sender: &BatchSender) -> Result<bool> {
        let history = &self.history;
        // The seeds carry the offset a restart right after them should resume from (none
        // before a snapshot: see [`unstored`]).
        let (seed_at, offset) = match &self.plan {
            StartPlan::Resume(stored) if self.config.snapshot_mode != SnapshotMode::Recovery => {
                // Read before the topic is ensured: a deleted topic must not pass as empty.
                history.recover(&self.context, stored).await?;
                history.ensure_topic(&self.context).await?;
                return Ok(true);
            }
            StartPlan::Resume(stored) => {
                tracing::info!(
                    topic = %history.topic(),
                    at = %stored.group,
                    "snapshot.mode=recovery: rebuilding the schema history from the catalog"
                );
                (stored.group.clone(), stored.to_map())
            }
            StartPlan::ResumeSnapshot(stored) => (self.current_position().await?, stored.to_map()),
            StartPlan::Snapshot => {
                // A crash right after the seeds takes the snapshot again.
                let at = self.current_position().await?;
                let mut offset = SourceOffset::at(at.clone(), None);
                offset.snapshot = SnapshotState::InProgress;
                (at, offset.to_map())
            }
            StartPlan::Current => {
                let at = self.current_position().await?;
                (at.clone(), SourceOffset::at(at, None).to_map())
            }
        };
        history.ensure_topic(&self.context).await?;
        let mut conn = connection::connect(&self.config).await?;
        let records = history
            .seed(&mut conn, &self.filter, &seed_at, &offset)
            .await;
        let _ = conn.disconnect().await;
        let mut records = records?;
        if matches!(self.plan, StartPlan::Snapshot) {
            unstored(&mut records);
        }
        Ok(sender.send(Ok(records)).await.is_ok())
    }

    async fn current_position(&self) -> Result<BinlogPosition> {
        let mut conn = connection::connect(&self.config).await?;
        let position = current_position(&mut conn).await;
        let _ = conn.disconnect().await;
        position
    }
}

/// Seeds written before a snapshot store no offset (they keep their position in their
/// history entries): a restart before the first snapshot batch is stored takes the snapshot
/// again either way, and an offset here would be the task's first commit, which puts the
/// first stored snapshot cursor an offset flush interval later; a crash in between took the
/// snapshot again and duplicated every row already appended.
pub(crate) fn unstored(seeds: &mut [SourceRecord]) {
    for record in seeds {
        record.source_offset = SharedOffsetMap::default();
    }
}
