//! Bytes in (appended by produce) and out (served by fetch) since the broker opened, for the
//! worker's `/metrics`. Relaxed atomics: counters, not synchronisation.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::types::Record;

/// Running byte counters of one broker.
#[derive(Debug, Default)]
pub struct Traffic {
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

/// A reading of [`Traffic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrafficTotals {
    /// Key, value and header bytes of appended records.
    pub bytes_in: u64,
    /// Stored batch bytes served to readers.
    pub bytes_out: u64,
}

impl Traffic {
    pub(crate) fn appended(&self, bytes: u64) {
        self.bytes_in.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn served(&self, bytes: u64) {
        self.bytes_out.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn totals(&self) -> TrafficTotals {
        TrafficTotals {
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
        }
    }
}

/// Key, value and header bytes of `records`.
pub(crate) fn payload_bytes(records: &[Record]) -> u64 {
    records
        .iter()
        .map(|record| {
            record.key.as_ref().map_or(0, |k| k.len())
                + record.value.as_ref().map_or(0, |v| v.len())
                + record
                    .headers
                    .iter()
                    .map(|h| h.key.len() + h.value.as_ref().map_or(0, |v| v.len()))
                    .sum::<usize>()
        })
        .sum::<usize>() as u64
}
