//! Live counters of one task, updated on the hot path with relaxed atomics and read by
//! `GET /metrics`.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

/// Counters of one task. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct TaskMetrics(Arc<Counters>);

#[derive(Debug, Default)]
struct Counters {
    records: AtomicU64,
    bytes: AtomicU64,
    errors: AtomicU64,
    /// Bytes of converted records waiting in the task's queue.
    queued: AtomicI64,
    /// Source event time of the newest delivered record (epoch ms), 0 when unknown.
    newest_event_ms: AtomicI64,
    /// When the newest record was delivered (epoch ms).
    delivered_at_ms: AtomicI64,
    rate: Mutex<Rate>,
}

/// Events per second, exponentially smoothed over batches.
#[derive(Debug, Default)]
struct Rate {
    per_second: f64,
    last: Option<Instant>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl TaskMetrics {
    /// Notes a delivered batch of `records` records and `bytes` bytes whose newest source
    /// event happened at `newest_event_ms`.
    pub fn delivered(&self, records: u64, bytes: u64, newest_event_ms: Option<i64>) {
        let counters = &self.0;
        counters.records.fetch_add(records, Ordering::Relaxed);
        counters.bytes.fetch_add(bytes, Ordering::Relaxed);
        if let Some(event) = newest_event_ms {
            counters.newest_event_ms.store(event, Ordering::Relaxed);
        }
        counters.delivered_at_ms.store(now_ms(), Ordering::Relaxed);
        let mut rate = counters.rate.lock();
        let now = Instant::now();
        if let Some(last) = rate.last {
            let seconds = now.duration_since(last).as_secs_f64().max(1e-3);
            let instant = records as f64 / seconds;
            // Smooth over roughly the last ten batches.
            rate.per_second = 0.9 * rate.per_second + 0.1 * instant;
        }
        rate.last = Some(now);
    }

    /// Notes `bytes` entering (positive) or leaving (negative) the task's queue.
    pub fn queued(&self, bytes: i64) {
        self.0.queued.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn queue_bytes(&self) -> u64 {
        self.0.queued.load(Ordering::Relaxed).max(0) as u64
    }

    pub fn error(&self) {
        self.0.errors.fetch_add(1, Ordering::Relaxed);
    }

    pub fn records(&self) -> u64 {
        self.0.records.load(Ordering::Relaxed)
    }

    pub fn bytes(&self) -> u64 {
        self.0.bytes.load(Ordering::Relaxed)
    }

    pub fn errors(&self) -> u64 {
        self.0.errors.load(Ordering::Relaxed)
    }

    /// Events per second, decaying to 0 when nothing has arrived for a while.
    pub fn rate(&self) -> f64 {
        let rate = self.0.rate.lock();
        match rate.last {
            Some(last) if last.elapsed().as_secs() < 10 => rate.per_second,
            _ => 0.0,
        }
    }

    /// How far behind the source the newest delivered event was when it was delivered.
    pub fn millis_behind_source(&self) -> Option<i64> {
        let event = self.0.newest_event_ms.load(Ordering::Relaxed);
        let delivered = self.0.delivered_at_ms.load(Ordering::Relaxed);
        (event > 0 && delivered > 0).then(|| (delivered - event).max(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_lag() {
        let metrics = TaskMetrics::default();
        metrics.delivered(10, 1000, Some(now_ms() - 250));
        metrics.delivered(5, 500, None);
        metrics.error();
        assert_eq!(metrics.records(), 15);
        assert_eq!(metrics.bytes(), 1500);
        assert_eq!(metrics.errors(), 1);
        let behind = metrics.millis_behind_source().unwrap();
        assert!((250..5_000).contains(&behind), "{behind}");
        assert!(metrics.rate() > 0.0);
    }
}
