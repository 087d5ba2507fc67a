//! What a task knows about each assigned partition, shared by `put`/`flush` (the runtime's
//! calls) and the dispatcher (the background sender): the open batch, sealed batches
//! waiting in order (the head is the one being sent or retried), a rejected batch being
//! rewound to the dead-letter topic, and why the partition is paused.
//!
//! Offsets: a partition may commit up to the first offset still pending here — the
//! rewound batch not yet re-read, the head of the queue, or the open batch — so nothing is
//! committed before a 2xx (or a durable dead-letter copy).
//!
//! Rejections: the runtime copies a record to the dead-letter topic with its consumed key
//! and value only while that record is part of the current `put`. So when a batch is
//! rejected (a 4xx other than 408/429) the partition's later buffered batches are dropped,
//! the consumer is moved back to the batch's first offset, and when its records come
//! again `put` reports each of them (`report_errant`) and carries on after it. Records
//! fetched before the rewind took effect (offsets at or past where the partition had got
//! to) are dropped on arrival: they come again, in order, after the rewound ones.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use sluice_broker::Offset;
use sluice_connect::api::{PartitionOffsets, SinkTaskContext, TopicPartition};

use crate::batch::{Accumulator, Batch, Cut};
use crate::config::HttpSinkConfig;
use crate::error::{AttemptFailure, Error};
use crate::event::PartitionLabels;
use crate::retry::{RetrySettings, Verdict};
use crate::sender::Attempt;

/// A rejected batch whose records are being read again to be reported one by one.
#[derive(Debug)]
struct Rewind {
    first: Offset,
    last: Offset,
    key: String,
    records: usize,
    status: u16,
    reason: String,
    /// Records at or past this offset were fetched before the rewind: dropped.
    stale_from: Offset,
    /// A record of the rewound range arrived: the consumer moved back.
    in_effect: bool,
}

impl Rewind {
    fn error(&self) -> Error {
        Error::Rejected {
            key: self.key.clone(),
            records: self.records,
            source: AttemptFailure::Status {
                status: self.status,
                reason: self.reason.clone(),
            },
        }
    }
}

/// The head batch failed and waits for another attempt.
#[derive(Debug, Clone, Copy)]
struct Retrying {
    failures: u32,
    not_before: Instant,
}

#[derive(Debug)]
pub struct PartitionState {
    /// Tells completions of an earlier assignment of the same partition apart.
    generation: u64,
    pub labels: PartitionLabels,
    accumulator: Accumulator,
    queue: VecDeque<Batch>,
    queued_bytes: usize,
    head_in_flight: bool,
    retrying: Option<Retrying>,
    rewind: Option<Rewind>,
    /// The offset after the last record `put` delivered (reported or buffered).
    next_expected: Option<Offset>,
    paused_for_retry: bool,
}

impl PartitionState {
    fn pending_from(&self) -> Option<Offset> {
        let rewind = self
            .rewind
            .as_ref()
            .filter(|r| !r.in_effect)
            .map(|r| r.first);
        [
            rewind,
            self.queue.front().map(|b| b.first),
            self.accumulator.open_first(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn bytes(&self) -> usize {
        self.queued_bytes + self.accumulator.open_bytes()
    }

    /// Appends an event; batches it seals join the queue.
    pub fn add(&mut self, offset: Offset, event: &[u8], now: Instant) {
        let mut sealed = Vec::new();
        self.accumulator.add(offset, event, now, &mut sealed);
        self.enqueue(sealed);
    }

    fn enqueue(&mut self, sealed: impl IntoIterator<Item = Batch>) {
        for batch in sealed {
            self.queued_bytes += batch.body.len();
            self.queue.push_back(batch);
        }
    }
}

/// What `put` does with one record.
#[derive(Debug)]
pub enum Admission {
    Accept,
    /// Fetched before a rewind took effect; it comes again.
    Drop,
    /// Part of a rejected batch: report it.
    Errant(Error),
}

/// One batch the dispatcher may send now.
#[derive(Debug)]
pub struct Ready {
    pub partition: TopicPartition,
    pub generation: u64,
    pub batch: Batch,
}

/// The state of one task.
#[derive(Debug)]
pub struct State {
    config: std::sync::Arc<HttpSinkConfig>,
    partitions: BTreeMap<TopicPartition, PartitionState>,
    in_flight: usize,
    paused_for_buffer: bool,
    fatal: Option<Error>,
    /// Set once a fatal error was handed out: later calls fail too, naming the batch.
    failed_batch: Option<String>,
    next_generation: u64,
    turn: usize,
}

impl State {
    pub fn new(config: std::sync::Arc<HttpSinkConfig>) -> Self {
        Self {
            config,
            partitions: BTreeMap::new(),
            in_flight: 0,
            paused_for_buffer: false,
            fatal: None,
            failed_batch: None,
            next_generation: 0,
            turn: 0,
        }
    }

    /// Starts a partition afresh (newly assigned).
    pub fn open(&mut self, partition: &TopicPartition) {
        self.next_generation += 1;
        let accumulator = Accumulator::new(partition.clone(), self.config.batch, self.config.body);
        self.partitions.insert(
            partition.clone(),
            PartitionState {
                generation: self.next_generation,
                labels: PartitionLabels::new(&partition.topic, partition.partition.0),
                accumulator,
                queue: VecDeque::new(),
                queued_bytes: 0,
                head_in_flight: false,
                retrying: None,
                rewind: None,
                next_expected: None,
                paused_for_retry: false,
            },
        );
    }

    /// Forgets a partition taken away; a send of it under way is ignored when it ends.
    pub fn close(&mut self, partition: &TopicPartition) {
        self.partitions.remove(partition);
    }

    /// The failure that must end the task, if any; after it was handed out once (with its
    /// cause), every later call gets [`Error::AlreadyFailed`], so a retried `put` cannot
    /// carry on past a batch that was never delivered.
    pub fn take_fatal(&mut self) -> Option<Error> {
        if let Some(error) = self.fatal.take() {
            return Some(error);
        }
        self.failed_batch
            .clone()
            .map(|key| Error::AlreadyFailed { key })
    }

    /// The partition's state, opened on first use.
    pub fn partition(&mut self, partition: &TopicPartition) -> &mut PartitionState {
        if !self.partitions.contains_key(partition) {
            self.open(partition);
        }
        self.partitions.get_mut(partition).expect("opened above")
    }

    /// Decides what `put` does with the record at `offset`.
    pub fn admit(&mut self, partition: &TopicPartition, offset: Offset) -> Admission {
        let state = self.partition(partition);
        if let Some(rewind) = &mut state.rewind {
            if !rewind.in_effect && offset >= rewind.stale_from {
                return Admission::Drop;
            }
            rewind.in_effect = true;
            if offset <= rewind.last {
                let error = rewind.error();
                if offset == rewind.last {
                    state.rewind = None;
                }
                state.next_expected = Some(Offset(offset.0 + 1));
                return Admission::Errant(error);
            }
            state.rewind = None;
        }
        state.next_expected = Some(Offset(offset.0 + 1));
        Admission::Accept
    }

    /// Per partition of `consumed`, the offset that may be committed.
    pub fn committable(&self, consumed: &PartitionOffsets) -> PartitionOffsets {
        consumed
            .iter()
            .map(|(partition, consumed)| {
                let pending = self
                    .partitions
                    .get(partition)
                    .and_then(PartitionState::pending_from);
                let offset = pending.map_or(*consumed, |pending| pending.min(*consumed));
                (partition.clone(), offset)
            })
            .collect()
    }

    fn buffered_bytes(&self) -> usize {
        self.partitions.values().map(PartitionState::bytes).sum()
    }

    /// Pauses every partition while more than `buffer.max.bytes` wait to be sent (the
    /// receiver is slower than the log), resuming below half of it.
    pub fn apply_back_pressure(&mut self, context: &dyn SinkTaskContext) {
        let bytes = self.buffered_bytes();
        let limit = self.config.buffer_max_bytes;
        if !self.paused_for_buffer && bytes > limit {
            self.paused_for_buffer = true;
            let all: Vec<_> = self.partitions.keys().cloned().collect();
            tracing::debug!(
                bytes,
                limit,
                "HTTP sink buffer full; pausing its partitions"
            );
            context.pause(&all);
        } else if self.paused_for_buffer && bytes <= limit / 2 {
            self.paused_for_buffer = false;
            let free: Vec<_> = self
                .partitions
                .iter()
                .filter(|(_, state)| !state.paused_for_retry)
                .map(|(partition, _)| partition.clone())
                .collect();
            context.resume(&free);
        }
    }

    /// Seals lingering batches and hands out the heads that may be sent now: at most
    /// `max.in.flight` requests in all, one per partition (so each partition's order
    /// holds), partitions taking turns.
    pub fn take_ready(&mut self, now: Instant) -> Vec<Ready> {
        let mut ready = Vec::new();
        if self.fatal.is_some() || self.failed_batch.is_some() {
            return ready;
        }
        for state in self.partitions.values_mut() {
            if let Some(batch) = state.accumulator.seal_lingered(now) {
                state.enqueue([batch]);
            }
        }
        let mut order: Vec<TopicPartition> = self.partitions.keys().cloned().collect();
        self.turn = self.turn.wrapping_add(1);
        let start = self.turn % order.len().max(1);
        order.rotate_left(start);
        for partition in order {
            if self.in_flight + ready.len() >= self.config.max_in_flight {
                break;
            }
            let Some(state) = self.partitions.get_mut(&partition) else {
                continue;
            };
            let due = state.retrying.is_none_or(|r| r.not_before <= now);
            if state.head_in_flight || !due {
                continue;
            }
            if let Some(batch) = state.queue.front() {
                state.head_in_flight = true;
                ready.push(Ready {
                    generation: state.generation,
                    batch: batch.clone(),
                    partition,
                });
            }
        }
        self.in_flight += ready.len();
        ready
    }

    /// When the dispatcher must look again without being woken: the earliest linger or
    /// retry deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.partitions
            .values()
            .flat_map(|state| {
                let retry = state
                    .retrying
                    .filter(|_| !state.head_in_flight)
                    .map(|r| r.not_before);
                [state.accumulator.linger_deadline(), retry]
            })
            .flatten()
            .min()
    }

    /// Applies the outcome of one attempt.
    pub fn complete(
        &mut self,
        ready: &Ready,
        attempt: Attempt,
        retry: &RetrySettings,
        context: &dyn SinkTaskContext,
    ) {
        self.in_flight = self.in_flight.saturating_sub(1);
        let Some(state) = self
            .partitions
            .get_mut(&ready.partition)
            .filter(|state| state.generation == ready.generation)
        else {
            return;
        };
        state.head_in_flight = false;
        let batch = &ready.batch;
        match attempt.verdict {
            Verdict::Delivered => {
                if let Some(done) = state.queue.pop_front() {
                    state.queued_bytes -= done.body.len();
                }
                state.retrying = None;
                if std::mem::take(&mut state.paused_for_retry) && !self.paused_for_buffer {
                    context.resume(std::slice::from_ref(&ready.partition));
                }
                if batch.cut == Cut::Linger {
                    // A timing cut: commit it soon, so a crash cannot re-cut it longer.
                    context.request_commit();
                }
                self.apply_back_pressure(context);
            }
            Verdict::Retry { after } => {
                let failures = state.retrying.map_or(0, |r| r.failures) + 1;
                let failure = attempt.failure.unwrap_or(AttemptFailure::Status {
                    status: 0,
                    reason: "unknown failure".into(),
                });
                if !retry.allows_another(failures) {
                    tracing::error!(key = %batch.idempotency_key(), failures, %failure, "giving up on an HTTP batch");
                    self.failed_batch = Some(batch.idempotency_key());
                    self.fatal = Some(Error::RetriesExhausted {
                        key: batch.idempotency_key(),
                        attempts: failures,
                        source: failure,
                    });
                    // A commit calls `flush`, which ends the task with this error.
                    context.request_commit();
                    return;
                }
                let delay = retry.delay(failures, after);
                tracing::warn!(key = %batch.idempotency_key(), failures, ?delay, %failure, "HTTP batch failed; retrying");
                state.retrying = Some(Retrying {
                    failures,
                    not_before: Instant::now() + delay,
                });
                if !std::mem::replace(&mut state.paused_for_retry, true) {
                    context.pause(std::slice::from_ref(&ready.partition));
                }
            }
            Verdict::Reject => {
                let (status, reason) = match attempt.failure {
                    Some(AttemptFailure::Status { status, reason }) => (status, reason),
                    other => (0, other.map(|f| f.to_string()).unwrap_or_default()),
                };
                tracing::error!(key = %batch.idempotency_key(), status, %reason, "the receiver rejected an HTTP batch; its records go to the dead-letter handling");
                let stale_from = state.next_expected.unwrap_or(batch.next_offset());
                state.rewind = Some(Rewind {
                    first: batch.first,
                    last: batch.last,
                    key: batch.idempotency_key(),
                    records: batch.records,
                    status,
                    reason,
                    stale_from,
                    in_effect: false,
                });
                state.queue.clear();
                state.queued_bytes = 0;
                state.accumulator.discard();
                state.retrying = None;
                state.next_expected = Some(batch.first);
                if std::mem::take(&mut state.paused_for_retry) && !self.paused_for_buffer {
                    context.resume(std::slice::from_ref(&ready.partition));
                }
                let mut reset = PartitionOffsets::new();
                reset.insert(ready.partition.clone(), batch.first);
                context.reset_offsets(reset);
                self.apply_back_pressure(context);
            }
        }
    }

    /// Records a failure of the dispatcher itself (a send that panicked).
    pub fn fail(&mut self, error: Error) {
        self.failed_batch.get_or_insert_with(|| "(unknown)".into());
        self.fatal.get_or_insert(error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn state() -> State {
        let props = [("http.url", "http://127.0.0.1:9/"), ("batch.max.size", "3")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        State::new(Arc::new(HttpSinkConfig::parse(&props).unwrap()))
    }

    #[test]
    fn commits_stop_at_the_first_pending_offset() {
        let mut state = state();
        let partition = TopicPartition::new("t", 0);
        let idle = TopicPartition::new("t", 1);
        state.open(&partition);
        let now = Instant::now();
        for offset in 0..5 {
            assert!(matches!(
                state.admit(&partition, Offset(offset)),
                Admission::Accept
            ));
            state.partition(&partition).add(Offset(offset), b"{}", now);
        }
        let consumed: PartitionOffsets =
            [(partition.clone(), Offset(5)), (idle.clone(), Offset(9))]
                .into_iter()
                .collect();
        let committable = state.committable(&consumed);
        assert_eq!(
            committable[&partition],
            Offset(0),
            "nothing acknowledged yet"
        );
        assert_eq!(
            committable[&idle],
            Offset(9),
            "nothing pending: what was consumed"
        );
        // The sealed slot [0, 2] is handed out once; the open batch [3, 4] waits.
        let ready = state.take_ready(now);
        assert_eq!(ready.len(), 1);
        assert_eq!(ready[0].batch.idempotency_key(), "t-0-0-2");
        assert!(
            state.take_ready(now).is_empty(),
            "one request per partition"
        );
        assert_eq!(
            state.next_deadline(),
            Some(now + std::time::Duration::from_millis(100))
        );
    }
}
