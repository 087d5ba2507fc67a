//! The history's part of the task's start: rebuild the model from the topic when resuming
//! from a stored offset, or read it from the catalog (and write it to the topic) when a
//! snapshot is due, when streaming starts without one, and with `snapshot.mode=recovery`.

use crate::config::SnapshotMode;
use crate::connection;
use crate::error::Result;
use crate::pipeline::{Pipeline, StartPlan, current_position};
use crate::queue::BatchSender;

impl Pipeline {
    /// Prepares the schema model before anything is read; `false` when the receiver is gone.
    pub(crate) async fn start_history(&self, sender: &BatchSender) -> Result<bool> {
        let history = &self.history;
        let seed_at = match &self.plan {
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
                stored.group.clone()
            }
            StartPlan::Snapshot | StartPlan::ResumeSnapshot(_) | StartPlan::Current => {
                let mut conn = connection::connect(&self.config).await?;
                let position = current_position(&mut conn).await;
                let _ = conn.disconnect().await;
                position?
            }
        };
        history.ensure_topic(&self.context).await?;
        let mut conn = connection::connect(&self.config).await?;
        let records = history.seed(&mut conn, &self.filter, &seed_at).await;
        let _ = conn.disconnect().await;
        Ok(sender.send(Ok(records?)).await.is_ok())
    }
}
