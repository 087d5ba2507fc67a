//! The file sink task: routes each record to its topic partition's changelog or upsert
//! writer, moves the consumer to what the files already hold when partitions are opened
//! (`reset_offsets`), and commits to the group only what committed files hold.
//!
//! File I/O runs on the task's own async task: writes are buffered and the blocking calls
//! (fsync, rename) happen once per file, not per record.

use std::sync::Arc;

use async_trait::async_trait;
use sluice_broker::Offset;
use sluice_connect::api::{
    PartitionOffsets, SinkRecord, SinkTask, SinkTaskContext, TaskConfig, TopicPartition,
};

use crate::changelog::{self, ChangelogPartition};
use crate::config::{FileSinkConfig, Mode};
use crate::error::{Error, Result};
use crate::event::Change;
use crate::upsert::{self, UpsertPartition};

/// The writer of one topic partition.
#[derive(Debug)]
enum PartitionWriter {
    Changelog(ChangelogPartition),
    Upsert(UpsertPartition),
}

#[derive(Debug, Default)]
pub struct FileSinkTask {
    config: Option<FileSinkConfig>,
    context: Option<Arc<dyn SinkTaskContext>>,
    /// Few partitions per task: a vector searched without building a key per record.
    partitions: Vec<(TopicPartition, PartitionWriter)>,
}

impl FileSinkTask {
    fn config(&self) -> Result<&FileSinkConfig> {
        self.config.as_ref().ok_or_else(|| Error::Config {
            key: crate::config::PATH,
            value: String::new(),
            reason: "the task was used before start".into(),
        })
    }

    /// Opens one partition: recovers its progress from the files, returns where to resume.
    fn open_partition(&mut self, partition: &TopicPartition) -> Result<Option<Offset>> {
        let config = self.config()?.clone();
        let (topic, number) = (partition.topic.as_str(), partition.partition.0);
        let (writer, resume) = match config.mode {
            Mode::Changelog => {
                let recovered = changelog::recover(&config, topic, number)?;
                tracing::info!(%partition, next = ?recovered.next, removed = recovered.temporaries_removed, "changelog partition recovered from its files");
                (
                    PartitionWriter::Changelog(ChangelogPartition::new(topic, number)),
                    recovered.next,
                )
            }
            Mode::Upsert => {
                let through = upsert::recover(&config, topic, number)?;
                tracing::info!(%partition, snapshot_through = ?through, "upsert partition: rebuilding its state from the start of the log");
                (
                    PartitionWriter::Upsert(UpsertPartition::new(topic, number, through)),
                    Some(Offset(0)),
                )
            }
        };
        self.partitions.retain(|(p, _)| p != partition);
        self.partitions.push((partition.clone(), writer));
        Ok(resume)
    }

    fn index_of(&mut self, record: &SinkRecord) -> Result<usize> {
        let found = self
            .partitions
            .iter()
            .position(|(p, _)| p.partition == record.partition && p.topic == record.topic);
        if let Some(index) = found {
            return Ok(index);
        }
        // A transform renamed the topic: write under the new name, without recovery.
        self.open_partition(&record.topic_partition())?;
        Ok(self.partitions.len() - 1)
    }

    /// Writes one record; a record the format cannot hold is reported as errant.
    async fn write(&mut self, index: usize, record: &SinkRecord) -> Result<()> {
        let config = self.config()?.clone();
        let outcome = match &mut self.partitions[index].1 {
            PartitionWriter::Changelog(writer) => match Change::of(record) {
                Some(change) => writer.append(&config, &change),
                None => Ok(()), // tombstones and logical messages hold no row
            },
            PartitionWriter::Upsert(writer) => writer.apply(record),
        };
        match outcome {
            Err(error @ Error::Unwritable { .. }) => {
                let Some(context) = &self.context else {
                    return Err(error);
                };
                context
                    .report_errant(record, sluice_connect::Error::from(error))
                    .await
                    .map_err(|e| Error::Unwritable {
                        topic: record.topic.clone(),
                        partition: record.partition.0,
                        offset: record.offset.0,
                        reason: e.to_string(),
                    })
            }
            other => other,
        }
    }

    fn finish_due_files(&mut self) -> Result<bool> {
        let config = self.config()?.clone();
        let mut committed_any = false;
        for (_, writer) in &mut self.partitions {
            match writer {
                PartitionWriter::Changelog(writer) => {
                    writer.rotate_if_due(&config)?;
                    committed_any |= !writer.take_committed().is_empty();
                }
                PartitionWriter::Upsert(writer) => {
                    if writer.snapshot_due(&config) {
                        committed_any |= writer.write_snapshot(&config)?.is_some();
                    }
                }
            }
        }
        Ok(committed_any)
    }

    fn close_partitions(&mut self, partitions: &[TopicPartition]) -> Result<()> {
        let config = self.config()?.clone();
        let mut kept = Vec::with_capacity(self.partitions.len());
        let mut outcome = Ok(());
        for (partition, writer) in self.partitions.drain(..) {
            if !partitions.contains(&partition) {
                kept.push((partition, writer));
                continue;
            }
            match writer {
                PartitionWriter::Changelog(mut writer) => writer.abandon(),
                PartitionWriter::Upsert(mut writer) => {
                    if let Err(error) = writer.write_snapshot(&config) {
                        outcome = outcome.and(Err(error));
                    }
                }
            }
        }
        self.partitions = kept;
        outcome
    }
}

#[async_trait]
impl SinkTask for FileSinkTask {
    async fn start(
        &mut self,
        context: Arc<dyn SinkTaskContext>,
        config: &TaskConfig,
    ) -> sluice_connect::Result<()> {
        self.config = Some(FileSinkConfig::parse(config)?);
        self.context = Some(context);
        Ok(())
    }

    async fn open(&mut self, partitions: &[TopicPartition]) -> sluice_connect::Result<()> {
        let mut resets = PartitionOffsets::new();
        for partition in partitions {
            if let Some(next) = self.open_partition(partition)? {
                resets.insert(partition.clone(), next);
            }
        }
        if let (Some(context), false) = (&self.context, resets.is_empty()) {
            context.reset_offsets(resets);
        }
        Ok(())
    }

    async fn close(&mut self, partitions: &[TopicPartition]) -> sluice_connect::Result<()> {
        Ok(self.close_partitions(partitions)?)
    }

    async fn put(&mut self, records: Vec<SinkRecord>) -> sluice_connect::Result<()> {
        let mut index = None;
        for record in &records {
            let current = match index {
                Some(i)
                    if self.partitions.get(i).is_some_and(
                        |(p, _): &(TopicPartition, PartitionWriter)| {
                            p.partition == record.partition && p.topic == record.topic
                        },
                    ) =>
                {
                    i
                }
                _ => self.index_of(record)?,
            };
            index = Some(current);
            self.write(current, record).await?;
        }
        if self.finish_due_files()?
            && let Some(context) = &self.context
        {
            context.request_commit();
        }
        Ok(())
    }

    async fn flush(
        &mut self,
        consumed: &PartitionOffsets,
    ) -> sluice_connect::Result<PartitionOffsets> {
        self.finish_due_files()?;
        let mut committable = PartitionOffsets::new();
        for (partition, writer) in &self.partitions {
            let Some(consumed) = consumed.get(partition) else {
                continue;
            };
            let offset = match writer {
                PartitionWriter::Changelog(writer) => Some(writer.committable(*consumed)),
                PartitionWriter::Upsert(writer) => writer.committable(*consumed),
            };
            if let Some(offset) = offset {
                committable.insert(partition.clone(), offset);
            }
        }
        Ok(committable)
    }

    async fn stop(&mut self) -> sluice_connect::Result<()> {
        if self.config.is_none() {
            return Ok(());
        }
        let all: Vec<TopicPartition> = self.partitions.iter().map(|(p, _)| p.clone()).collect();
        Ok(self.close_partitions(&all)?)
    }
}
