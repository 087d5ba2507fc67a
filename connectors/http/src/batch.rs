//! Cutting a partition's events into request batches, deterministically from offsets.
//!
//! # The cutting rule (why idempotency keys survive a crash)
//!
//! A batch's `Idempotency-Key` is `<topic>-<partition>-<first offset>-<last offset>`. After a
//! crash, delivery restarts at the committed offset, which is always the first offset of a
//! batch (offsets are committed only up to acknowledged batches). For a redelivered batch to
//! carry the key it had before, its end must follow from offsets and content alone, never
//! from timing. So a batch ends:
//!
//! 1. at the end of its *offset slot*: slots are `[k·N, (k+1)·N)` with `N = batch.max.size`,
//!    so a batch never crosses a multiple of N (a full batch is exactly one slot, whatever
//!    happened before it);
//! 2. before an event that would take the body past `batch.max.bytes` (counted from the
//!    batch's first event, so the same start and the same records give the same cut);
//! 3. only when neither applies and no record arrives for `batch.linger.ms`: the partly
//!    filled batch is sent as is. This is the one timing cut: if the worker crashes after
//!    sending such a batch but before committing it, the batch comes back possibly longer
//!    (same first offset, a later last offset), and receivers de-duplicate its events by
//!    their ids. The sink asks for a commit as soon as such a batch is acknowledged, which
//!    keeps that window short, and the slot rule puts later batches back on the grid.
//!
//! `flush` never cuts a batch: it commits what was acknowledged and leaves open batches to
//! rules 1–3.

use std::time::Instant;

use bytes::Bytes;
use sluice_broker::Offset;
use sluice_connect::api::TopicPartition;

use crate::body::BodyFormat;
use crate::config::BatchLimits;

/// Why a batch was sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// It reached the end of its offset slot (or the next record is in a later slot).
    Slot,
    /// The next event would have made the body too large.
    Bytes,
    /// No record came for `batch.linger.ms`.
    Linger,
}

/// A sealed batch, ready to send.
#[derive(Debug, Clone)]
pub struct Batch {
    pub partition: TopicPartition,
    pub first: Offset,
    pub last: Offset,
    pub records: usize,
    pub body: Bytes,
    pub cut: Cut,
}

impl Batch {
    /// `<topic>-<partition>-<first offset>-<last offset>`.
    pub fn idempotency_key(&self) -> String {
        format!(
            "{}-{}-{}-{}",
            self.partition.topic, self.partition.partition.0, self.first.0, self.last.0
        )
    }

    /// The offset after this batch (what committing it means).
    pub fn next_offset(&self) -> Offset {
        Offset(self.last.0 + 1)
    }
}

#[derive(Debug)]
struct OpenBatch {
    first: Offset,
    last: Offset,
    records: usize,
    body: Vec<u8>,
    opened_at: Instant,
}

/// The open (unsealed) batch of one partition.
#[derive(Debug)]
pub struct Accumulator {
    partition: TopicPartition,
    limits: BatchLimits,
    format: BodyFormat,
    open: Option<OpenBatch>,
}

impl Accumulator {
    pub fn new(partition: TopicPartition, limits: BatchLimits, format: BodyFormat) -> Self {
        Self {
            partition,
            limits,
            format,
            open: None,
        }
    }

    fn slot(&self, offset: Offset) -> i64 {
        offset.0.div_euclid(self.limits.max_records as i64)
    }

    /// Adds the event of the record at `offset` (offsets increase), pushing the batches this
    /// seals onto `sealed`.
    pub fn add(&mut self, offset: Offset, event: &[u8], now: Instant, sealed: &mut Vec<Batch>) {
        if let Some(open) = &self.open {
            let framed = open.body.len() + self.format.framed_len(event.len());
            if self.slot(open.first) != self.slot(offset) {
                sealed.extend(self.seal(Cut::Slot));
            } else if framed > self.limits.max_bytes {
                sealed.extend(self.seal(Cut::Bytes));
            }
        }
        let format = self.format;
        let open = self.open.get_or_insert_with(|| {
            let mut body = Vec::with_capacity(64 * 1024);
            format.open(&mut body);
            OpenBatch {
                first: offset,
                last: offset,
                records: 0,
                body,
                opened_at: now,
            }
        });
        format.push(&mut open.body, event, open.records == 0);
        open.records += 1;
        open.last = offset;
        if (offset.0 + 1).rem_euclid(self.limits.max_records as i64) == 0 {
            sealed.extend(self.seal(Cut::Slot));
        }
    }

    /// Seals the open batch if it has waited `batch.linger.ms`.
    pub fn seal_lingered(&mut self, now: Instant) -> Option<Batch> {
        let deadline = self.linger_deadline()?;
        (now >= deadline).then(|| self.seal(Cut::Linger)).flatten()
    }

    /// When the open batch must go even if no record comes.
    pub fn linger_deadline(&self) -> Option<Instant> {
        self.open
            .as_ref()
            .map(|open| open.opened_at + self.limits.linger)
    }

    /// The first offset not yet sealed, if a batch is open.
    pub fn open_first(&self) -> Option<Offset> {
        self.open.as_ref().map(|open| open.first)
    }

    /// Bytes held by the open batch.
    pub fn open_bytes(&self) -> usize {
        self.open.as_ref().map_or(0, |open| open.body.len())
    }

    /// Drops the open batch (its records will be delivered again).
    pub fn discard(&mut self) {
        self.open = None;
    }

    fn seal(&mut self, cut: Cut) -> Option<Batch> {
        let mut open = self.open.take()?;
        self.format.close(&mut open.body);
        Some(Batch {
            partition: self.partition.clone(),
            first: open.first,
            last: open.last,
            records: open.records,
            body: Bytes::from(open.body),
            cut,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn accumulator(max_records: u64, max_bytes: usize, format: BodyFormat) -> Accumulator {
        let limits = BatchLimits {
            max_records,
            max_bytes,
            linger: Duration::from_millis(50),
        };
        Accumulator::new(TopicPartition::new("t", 3), limits, format)
    }

    fn keys(
        acc: &mut Accumulator,
        offsets: impl IntoIterator<Item = i64>,
        event: &[u8],
    ) -> Vec<String> {
        let now = Instant::now();
        let mut sealed = Vec::new();
        for offset in offsets {
            acc.add(Offset(offset), event, now, &mut sealed);
        }
        sealed.iter().map(Batch::idempotency_key).collect()
    }

    #[test]
    fn batches_follow_the_offset_slots() {
        let mut acc = accumulator(4, 1 << 20, BodyFormat::JsonArray);
        assert_eq!(keys(&mut acc, 0..10, b"1"), ["t-3-0-3", "t-3-4-7"]);
        assert_eq!(acc.open_first(), Some(Offset(8)));
        // Starting mid-slot (a committed offset after a linger cut) gets back on the grid.
        let mut acc = accumulator(4, 1 << 20, BodyFormat::JsonArray);
        assert_eq!(keys(&mut acc, 6..13, b"1"), ["t-3-6-7", "t-3-8-11"]);
        // Gaps (compaction, filtered records) never make a batch cross a slot.
        let mut acc = accumulator(4, 1 << 20, BodyFormat::JsonArray);
        assert_eq!(
            keys(&mut acc, [0, 2, 5, 9, 12], b"1"),
            ["t-3-0-2", "t-3-5-5", "t-3-9-9"]
        );
    }

    #[test]
    fn bytes_cut_before_the_event_that_would_not_fit() {
        // "[e,e]" with 10-byte events: 2 + 10 + 1 + 10 = 23 bytes for two events.
        let mut acc = accumulator(100, 23, BodyFormat::JsonArray);
        let cut = keys(&mut acc, 0..5, b"0123456789");
        assert_eq!(cut, ["t-3-0-1", "t-3-2-3"]);
        let batch = acc.seal(Cut::Linger).unwrap();
        assert_eq!(&batch.body[..], b"[0123456789]");
        // An event larger than the limit goes alone.
        let mut acc = accumulator(100, 64, BodyFormat::Ndjson);
        assert!(keys(&mut acc, [0], &[b'x'; 100]).is_empty());
        assert_eq!(keys(&mut acc, [1], b"1"), ["t-3-0-0"]);
    }

    #[test]
    fn same_records_same_batches() {
        let run = || {
            let mut acc = accumulator(50, 300, BodyFormat::Ndjson);
            let now = Instant::now();
            let mut sealed = Vec::new();
            for offset in 17..400 {
                let event = vec![b'x'; (offset as usize * 7) % 40 + 1];
                acc.add(Offset(offset), &event, now, &mut sealed);
            }
            sealed
                .iter()
                .map(Batch::idempotency_key)
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn linger_seals_a_partial_batch() {
        let mut acc = accumulator(10, 1 << 20, BodyFormat::JsonArray);
        let start = Instant::now();
        let mut sealed = Vec::new();
        acc.add(Offset(0), b"1", start, &mut sealed);
        acc.add(Offset(1), b"2", start, &mut sealed);
        assert!(acc.seal_lingered(start).is_none());
        let batch = acc
            .seal_lingered(start + Duration::from_millis(50))
            .unwrap();
        assert_eq!((batch.cut, &batch.body[..]), (Cut::Linger, &b"[1,2]"[..]));
        assert_eq!(acc.linger_deadline(), None);
    }

    #[test]
    fn single_format_sends_one_event_per_batch() {
        let mut acc = accumulator(1, 1 << 20, BodyFormat::Single);
        let now = Instant::now();
        let mut sealed = Vec::new();
        acc.add(Offset(5), b"{}", now, &mut sealed);
        assert_eq!(sealed.len(), 1);
        assert_eq!(&sealed[0].body[..], b"{}");
    }
}
