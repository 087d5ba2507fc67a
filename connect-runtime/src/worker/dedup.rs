//! Exactly-once appends across restarts: every record a source task writes carries its
//! [`SourcePosition`] and the task's id as headers. When a task restarts from its stored
//! offsets it may return records that already reached the log (appended, but the offset
//! commit did not happen before the crash); this filter drops every record whose position is
//! not newer than the newest one that task already stored in the target partition.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use sluice_broker::{Broker, FetchLimits, Offset, OffsetSpec, PartitionId};

use crate::api::{POSITION_HEADER, SourcePosition};
use crate::error::{Error, Result};

/// Header naming the task that wrote a record and its offset epoch
/// (`<connector>-<task>@<epoch>`), so positions of different tasks sharing a partition, or
/// of one task before and after its offsets were reset, are never compared.
pub const TASK_HEADER: &str = "__sluice.task";

/// How far back from a partition's end the recovery scan looks for the task's last record.
const RECOVERY_SCAN_RECORDS: i64 = 100_000;
const SCAN_WINDOW_RECORDS: i64 = 2_000;

/// The newest stored position per target partition of one task.
#[derive(Debug)]
pub struct PositionFilter {
    task: Bytes,
    newest: HashMap<(String, PartitionId), Option<SourcePosition>>,
}

impl PositionFilter {
    pub fn new(task: &str) -> Self {
        Self {
            task: Bytes::copy_from_slice(task.as_bytes()),
            newest: HashMap::new(),
        }
    }

    /// The task id as stored in [`TASK_HEADER`].
    pub fn task_header(&self) -> &Bytes {
        &self.task
    }

    /// Whether a record at `position` for `topic`/`partition` is already stored.
    pub async fn already_stored(
        &mut self,
        broker: &Broker,
        topic: &str,
        partition: PartitionId,
        position: &SourcePosition,
    ) -> Result<bool> {
        Ok(self
            .newest_stored(broker, topic, partition)
            .await?
            .is_some_and(|newest| position <= newest))
    }

    /// The newest position this task stored in `topic`/`partition` (recovered from the
    /// partition's tail the first time it is asked for).
    pub async fn newest_stored(
        &mut self,
        broker: &Broker,
        topic: &str,
        partition: PartitionId,
    ) -> Result<Option<&SourcePosition>> {
        let key = (topic.to_string(), partition);
        if !self.newest.contains_key(&key) {
            let recovered = self.recover(broker, topic, partition).await?;
            self.newest.insert(key.clone(), recovered);
        }
        Ok(self.newest[&key].as_ref())
    }

    /// Notes that a record at `position` is now durable in `topic`/`partition`.
    pub fn stored(&mut self, topic: &str, partition: PartitionId, position: SourcePosition) {
        self.newest
            .insert((topic.to_string(), partition), Some(position));
    }

    /// Scans the partition's tail backwards for the newest record written by this task.
    async fn recover(
        &self,
        broker: &Broker,
        topic: &str,
        partition: PartitionId,
    ) -> Result<Option<SourcePosition>> {
        let read_error = |source| Error::Store {
            context: format!("cannot read {topic}-{} to resume exactly once", partition.0),
            source,
        };
        let start = broker
            .list_offsets(topic, partition, OffsetSpec::Earliest)
            .await
            .map_err(read_error)?
            .unwrap_or(Offset(0));
        let end = broker
            .list_offsets(topic, partition, OffsetSpec::Latest)
            .await
            .map_err(read_error)?
            .unwrap_or(Offset(0));
        let floor = start.0.max(end.0 - RECOVERY_SCAN_RECORDS);
        let mut window_end = end.0;
        while window_end > floor {
            let window_start = floor.max(window_end - SCAN_WINDOW_RECORDS);
            let mut offset = Offset(window_start);
            let mut newest = None;
            while offset.0 < window_end {
                let limits = FetchLimits {
                    max_bytes: 4 * 1024 * 1024,
                    max_records: (window_end - offset.0) as usize,
                    max_wait: Duration::ZERO,
                };
                let fetched = broker
                    .fetch(topic, partition, offset, limits)
                    .await
                    .map_err(read_error)?;
                for record in &fetched.records {
                    if record.offset.0 >= window_end {
                        break;
                    }
                    let headers = &record.record.headers;
                    let ours = headers.iter().rev().find(|h| h.key == TASK_HEADER);
                    if ours.and_then(|h| h.value.as_ref()) != Some(&self.task) {
                        continue;
                    }
                    if let Some(position) = headers
                        .iter()
                        .rev()
                        .find(|h| h.key == POSITION_HEADER)
                        .and_then(|h| h.value.as_ref())
                    {
                        newest = Some(SourcePosition::from_bytes(position));
                    }
                }
                if fetched.next_offset <= offset {
                    break;
                }
                offset = fetched.next_offset;
            }
            if newest.is_some() {
                return Ok(newest);
            }
            window_end = window_start;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_broker::{BrokerConfig, Header, PartitionChoice, Record};

    fn record(task: &str, position: u64) -> Record {
        let mut record = Record::new(None, Some(Bytes::from(format!("v{position}"))));
        record.headers = vec![
            Header {
                key: TASK_HEADER.into(),
                value: Some(Bytes::from(task.to_string())),
            },
            Header {
                key: POSITION_HEADER.into(),
                value: Some(Bytes::from(
                    SourcePosition::from_parts(&[position]).into_bytes(),
                )),
            },
        ];
        record
    }

    #[tokio::test]
    async fn recovers_the_newest_position_of_this_task_only() {
        let dir = tempfile::tempdir().unwrap();
        let broker = Broker::open(dir.path(), BrokerConfig::default())
            .await
            .unwrap();
        let records = vec![record("a-0", 1), record("a-0", 2), record("b-0", 99)];
        broker
            .produce("t", PartitionChoice::Explicit(PartitionId(0)), records)
            .await
            .unwrap();
        let mut filter = PositionFilter::new("a-0");
        let p = |n| SourcePosition::from_parts(&[n]);
        assert!(
            filter
                .already_stored(&broker, "t", PartitionId(0), &p(2))
                .await
                .unwrap()
        );
        assert!(
            !filter
                .already_stored(&broker, "t", PartitionId(0), &p(3))
                .await
                .unwrap()
        );
        filter.stored("t", PartitionId(0), p(3));
        assert!(
            filter
                .already_stored(&broker, "t", PartitionId(0), &p(3))
                .await
                .unwrap()
        );

        let mut other = PositionFilter::new("c-0");
        assert!(
            !other
                .already_stored(&broker, "t", PartitionId(0), &p(1))
                .await
                .unwrap()
        );
    }
}
