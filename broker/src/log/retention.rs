//! Retention: deleting the oldest sealed segments once they are older than `retention.ms`
//! (by their largest record timestamp) or while the partition is larger than
//! `retention.bytes`. The active segment is never deleted; the log start offset moves to the
//! first remaining segment.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::partition::PartitionLog;
use crate::error::Result;

/// Limits a partition is trimmed to; `None` means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetentionLimits {
    pub max_age_ms: Option<i64>,
    pub max_bytes: Option<u64>,
}

impl PartitionLog {
    /// Deletes sealed segments beyond the limits, oldest first, and returns how many went.
    pub fn apply_retention(&self, limits: RetentionLimits, now_ms: i64) -> Result<usize> {
        let removed = {
            let mut segments = self.segments.lock();
            let Some((_active, sealed)) = segments.split_last() else {
                return Ok(0);
            };
            let mut total: u64 = segments.iter().map(|s| s.size()).sum();
            let mut count = 0;
            for segment in sealed {
                let expired = limits
                    .max_age_ms
                    .is_some_and(|age| segment.max_timestamp() < now_ms.saturating_sub(age));
                let oversized = limits
                    .max_bytes
                    .is_some_and(|max| total.saturating_sub(segment.size()) >= max);
                if !(expired || oversized) {
                    break;
                }
                total -= segment.size();
                count += 1;
            }
            if count == 0 {
                return Ok(0);
            }
            let removed: Vec<_> = segments[..count].to_vec();
            let kept: Vec<_> = segments[count..].to_vec();
            self.log_start
                .fetch_max(kept[0].base_offset().0, Ordering::AcqRel);
            *segments = Arc::new(kept);
            removed
        };
        for segment in &removed {
            tracing::info!(log = %self.name(), segment = %segment.log_path().display(), "retention deleted segment");
            segment.delete_files()?;
        }
        Ok(removed.len())
    }
}
