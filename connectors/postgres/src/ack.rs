//! What may be confirmed to the replication slot: only transactions whose every record is
//! durable in the broker (reported through `SourceTask::commit`), and — when nothing is in
//! flight — the server's own WAL position from keepalives, so an idle slot keeps moving.
//!
//! The reader records what it emits and which transactions are complete; `commit` records the
//! newest durable position; the reader asks [`AckTracker::confirmable`] what to report.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use sluice_connect::api::SourcePosition;

use crate::lsn::Lsn;

/// A transaction the reader has seen to its Commit.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Completed {
    end: Lsn,
    /// Its last record's position; `None` when it produced no record.
    last: Option<SourcePosition>,
}

#[derive(Debug, Default)]
struct State {
    durable: Option<SourcePosition>,
    emitted: Option<SourcePosition>,
    completed: VecDeque<Completed>,
    in_transaction: bool,
    confirmed: Lsn,
}

/// Shared between the task (`commit`) and the reader.
#[derive(Debug, Clone, Default)]
pub struct AckTracker(Arc<Mutex<State>>);

impl AckTracker {
    /// A tracker whose slot is known to be confirmed up to `confirmed`.
    pub fn new(confirmed: Lsn) -> Self {
        let tracker = Self::default();
        tracker.lock().confirmed = confirmed;
        tracker
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The runtime made everything up to `position` durable.
    pub fn durable(&self, position: SourcePosition) {
        let mut state = self.lock();
        if state.durable.as_ref().is_none_or(|d| *d < position) {
            state.durable = Some(position);
        }
    }

    /// The reader queued a record at `position`.
    pub fn emitted(&self, position: &SourcePosition) {
        self.lock().emitted = Some(position.clone());
    }

    /// A transaction started (Begin).
    pub fn begin(&self) {
        self.lock().in_transaction = true;
    }

    /// A transaction ended at `end` (Commit) after its last record `last`.
    pub fn complete(&self, end: Lsn, last: Option<SourcePosition>) {
        let mut state = self.lock();
        state.in_transaction = false;
        state.completed.push_back(Completed { end, last });
    }

    /// The reader lost its session mid-transaction: the transaction will be read again.
    pub fn abandon_transaction(&self) {
        self.lock().in_transaction = false;
    }

    /// The LSN to report as flushed now, if it moved past what was reported: the end of the
    /// newest complete transaction whose records are all durable, or `idle_wal_end` (a
    /// keepalive's position) when nothing at all is in flight.
    pub fn confirmable(&self, idle_wal_end: Option<Lsn>) -> Option<Lsn> {
        let mut state = self.lock();
        let mut target = state.confirmed;
        while let Some(front) = state.completed.front() {
            let durable = match &front.last {
                None => true,
                Some(last) => state.durable.as_ref().is_some_and(|d| d >= last),
            };
            if !durable {
                break;
            }
            target = target.max(front.end);
            state.completed.pop_front();
        }
        let all_durable = match (&state.emitted, &state.durable) {
            (None, _) => true,
            (Some(emitted), Some(durable)) => durable >= emitted,
            (Some(_), None) => false,
        };
        if let Some(wal_end) = idle_wal_end
            && all_durable
            && !state.in_transaction
            && state.completed.is_empty()
        {
            target = target.max(wal_end);
        }
        (target > state.confirmed).then(|| {
            state.confirmed = target;
            target
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(commit: u64, index: u64) -> SourcePosition {
        SourcePosition::from_parts(&[commit, 1, index])
    }

    #[test]
    fn confirms_only_durable_transactions_and_idle_positions() {
        let tracker = AckTracker::new(Lsn(10));
        tracker.begin();
        tracker.emitted(&pos(100, 0));
        tracker.emitted(&pos(100, 1));
        assert_eq!(tracker.confirmable(Some(Lsn(500))), None, "in flight");
        tracker.complete(Lsn(110), Some(pos(100, 1)));
        tracker.durable(pos(100, 0));
        assert_eq!(tracker.confirmable(Some(Lsn(500))), None, "half durable");
        tracker.durable(pos(100, 1));
        assert_eq!(tracker.confirmable(None), Some(Lsn(110)));
        assert_eq!(tracker.confirmable(None), None, "nothing new");
        // An empty transaction after a durable one, then an idle keepalive.
        tracker.begin();
        tracker.complete(Lsn(120), None);
        assert_eq!(tracker.confirmable(Some(Lsn(130))), Some(Lsn(130)));
        // A newer emitted record not yet durable holds the idle position back.
        tracker.emitted(&pos(140, 0));
        tracker.complete(Lsn(150), Some(pos(140, 0)));
        assert_eq!(tracker.confirmable(Some(Lsn(900))), None);
        tracker.durable(pos(140, 0));
        assert_eq!(tracker.confirmable(Some(Lsn(900))), Some(Lsn(900)));
    }
}
