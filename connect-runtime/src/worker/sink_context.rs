//! The runtime side of a sink task's context ([`SinkTaskContext`]). The task's requests —
//! pause or resume partitions, move offsets, commit soon — are recorded here and applied by
//! the task loop between calls to the task (the loop is woken for requests made from other
//! threads); bad records it reports go through the connector's `errors.*` policy.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;
use sluice_broker::{FetchedRecord, Record};
use tokio::sync::Notify;

use super::dead_letter::{ErrantRecords, ErrorStage, Failure};
use super::sink_settings::ErrorTolerance;
use crate::api::{ConnectorTaskId, PartitionOffsets, SinkRecord, SinkTaskContext, TopicPartition};
use crate::error::{Error, Result};

/// What the task asked for since the loop last looked.
#[derive(Debug, Default)]
pub struct Requests {
    /// Partitions the task wants paused (the whole set, kept across assignments).
    pub paused: BTreeSet<TopicPartition>,
    /// Offsets to continue from, per partition.
    pub resets: PartitionOffsets,
    pub commit: bool,
}

/// One consumed record of the `put` in progress, kept for the dead-letter topic.
#[derive(Debug, Clone)]
pub struct Original {
    pub partition: TopicPartition,
    pub record: FetchedRecord,
}

#[derive(Debug)]
pub struct SinkContext {
    id: ConnectorTaskId,
    assignment: Mutex<Vec<TopicPartition>>,
    requests: Mutex<Requests>,
    /// Wakes the loop for requests made outside a call from it.
    pub wake: Notify,
    errant: ErrantRecords,
    originals: Mutex<Vec<Original>>,
    /// A record the task reported while errors are not tolerated: the task fails with it.
    rejected: Mutex<Option<Error>>,
}

impl SinkContext {
    pub fn new(id: ConnectorTaskId, errant: ErrantRecords) -> Self {
        Self {
            id,
            assignment: Mutex::new(Vec::new()),
            requests: Mutex::new(Requests::default()),
            wake: Notify::new(),
            errant,
            originals: Mutex::new(Vec::new()),
            rejected: Mutex::new(None),
        }
    }

    pub fn errant(&self) -> &ErrantRecords {
        &self.errant
    }

    pub fn set_assignment(&self, partitions: Vec<TopicPartition>) {
        *self.assignment.lock() = partitions;
    }

    pub fn paused(&self) -> BTreeSet<TopicPartition> {
        self.requests.lock().paused.clone()
    }

    /// Takes the pending offset resets and whether a commit was asked for.
    pub fn take_requests(&self) -> (PartitionOffsets, bool) {
        let mut requests = self.requests.lock();
        let resets = std::mem::take(&mut requests.resets);
        (resets, std::mem::take(&mut requests.commit))
    }

    /// Keeps the consumed form of the records about to be `put`, for `report_errant`.
    pub fn set_originals(&self, originals: Vec<Original>) {
        *self.originals.lock() = originals;
    }

    /// The failure to end the task with, if the task reported a record while errors are not
    /// tolerated.
    pub fn take_rejected(&self) -> Option<Error> {
        self.rejected.lock().take()
    }

    fn original_of(&self, record: &SinkRecord) -> Option<Original> {
        let originals = self.originals.lock();
        let same_place = |o: &&Original| {
            o.partition.partition == record.partition && o.record.offset == record.offset
        };
        // A transform may have renamed the topic: fall back to partition and offset.
        originals
            .iter()
            .filter(same_place)
            .find(|o| o.partition.topic == record.topic)
            .or_else(|| originals.iter().find(same_place))
            .cloned()
    }
}

/// Where a record came from, without its bytes.
fn placeholder(record: &SinkRecord) -> Original {
    Original {
        partition: record.topic_partition(),
        record: FetchedRecord {
            offset: record.offset,
            record: Record {
                timestamp_ms: record.timestamp_ms,
                ..Record::default()
            },
        },
    }
}

fn rejected(record: &SinkRecord, cause: Arc<Error>) -> Error {
    Error::RejectedRecord {
        topic: record.topic.clone(),
        partition: record.partition.0,
        offset: record.offset.0,
        source: cause,
    }
}

#[async_trait]
impl SinkTaskContext for SinkContext {
    fn task_id(&self) -> &ConnectorTaskId {
        &self.id
    }

    fn assignment(&self) -> Vec<TopicPartition> {
        self.assignment.lock().clone()
    }

    fn pause(&self, partitions: &[TopicPartition]) {
        self.requests
            .lock()
            .paused
            .extend(partitions.iter().cloned());
        self.wake.notify_one();
    }

    fn resume(&self, partitions: &[TopicPartition]) {
        let mut requests = self.requests.lock();
        for partition in partitions {
            requests.paused.remove(partition);
        }
        drop(requests);
        self.wake.notify_one();
    }

    fn request_commit(&self) {
        self.requests.lock().commit = true;
        self.wake.notify_one();
    }

    fn reset_offsets(&self, offsets: PartitionOffsets) {
        self.requests.lock().resets.extend(offsets);
        self.wake.notify_one();
    }

    async fn report_errant(&self, record: &SinkRecord, error: Error) -> Result<()> {
        if self.errant.tolerance() == ErrorTolerance::None {
            let cause = Arc::new(error);
            *self.rejected.lock() = Some(rejected(record, cause.clone()));
            return Err(rejected(record, cause));
        }
        // Only a dead-letter copy needs the consumed bytes; a skipped record is just logged.
        let kept = if self.errant.keeps_originals() {
            self.original_of(record)
        } else {
            Some(placeholder(record))
        };
        let original = kept.unwrap_or_else(|| {
            tracing::warn!(task = %self.id, topic = record.topic, offset = record.offset.0, "reported record is not part of the current put; its dead-letter copy has no key or value");
            placeholder(record)
        });
        let failure = Failure {
            topic: &original.partition.topic,
            partition: original.partition.partition,
            original: &original.record,
            stage: ErrorStage::TaskPut,
        };
        self.errant.handle(failure, error).await
    }
}
