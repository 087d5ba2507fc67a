//! The HTTP sink task: `put` turns records into events and batches (reporting records of
//! rejected batches and records that cannot be written as JSON to the dead-letter
//! handling), the dispatcher sends them, and `flush` commits per partition only what the
//! receiver acknowledged with a 2xx.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use sluice_connect::api::{
    PartitionOffsets, SinkRecord, SinkTask, SinkTaskContext, TaskConfig, TopicPartition,
};
use tokio::task::JoinHandle;

use crate::config::{CloudEvents, HttpSinkConfig};
use crate::dispatch::{self, Shared};
use crate::error::Error;
use crate::event::EventWriter;
use crate::sender::Sender;
use crate::state::{Admission, State};

/// What a started task runs with.
#[derive(Debug)]
struct Running {
    context: Arc<dyn SinkTaskContext>,
    shared: Arc<Shared>,
    writer: EventWriter,
    dispatcher: JoinHandle<()>,
}

/// One HTTP sink task.
#[derive(Debug, Default)]
pub struct HttpSinkTask {
    running: Option<Running>,
    /// Reused for each event before it joins its batch.
    scratch: Vec<u8>,
}

impl HttpSinkTask {
    pub fn new() -> Self {
        Self::default()
    }

    fn running(&mut self) -> Option<&mut Running> {
        self.running.as_mut()
    }
}

fn not_started() -> sluice_connect::Error {
    Error::InvalidConfig {
        key: "task".into(),
        value: String::new(),
        reason: "the HTTP sink task was used before start".into(),
    }
    .into()
}

fn same_partition(partition: &TopicPartition, record: &SinkRecord) -> bool {
    partition.partition == record.partition && partition.topic == record.topic
}

#[async_trait]
impl SinkTask for HttpSinkTask {
    async fn start(
        &mut self,
        context: Arc<dyn SinkTaskContext>,
        config: &TaskConfig,
    ) -> sluice_connect::Result<()> {
        let config = Arc::new(HttpSinkConfig::parse(config)?);
        let sender = Arc::new(Sender::new(&config)?);
        let connector = context.task_id().connector.clone();
        let writer = EventWriter::new(config.schemas, &config.cloudevents, &connector);
        if let CloudEvents::Structured { .. } = config.cloudevents {
            tracing::info!(connector, "HTTP sink sends CloudEvents in structured mode");
        }
        let shared = Arc::new(Shared::new(State::new(config.clone())));
        let dispatcher = tokio::spawn(dispatch::run(
            shared.clone(),
            sender,
            config.retry,
            context.clone(),
        ));
        self.running = Some(Running {
            context,
            shared,
            writer,
            dispatcher,
        });
        Ok(())
    }

    async fn open(&mut self, partitions: &[TopicPartition]) -> sluice_connect::Result<()> {
        let running = self.running().ok_or_else(not_started)?;
        let mut state = running.shared.lock();
        for partition in partitions {
            state.open(partition);
        }
        Ok(())
    }

    async fn close(&mut self, partitions: &[TopicPartition]) -> sluice_connect::Result<()> {
        let running = self.running().ok_or_else(not_started)?;
        let mut state = running.shared.lock();
        for partition in partitions {
            state.close(partition);
        }
        Ok(())
    }

    async fn put(&mut self, records: Vec<SinkRecord>) -> sluice_connect::Result<()> {
        let scratch = &mut self.scratch;
        let Some(running) = self.running.as_mut() else {
            return Err(not_started());
        };
        let mut errant = Vec::new();
        {
            let mut state = running.shared.lock();
            if let Some(fatal) = state.take_fatal() {
                return Err(fatal.into());
            }
            let now = Instant::now();
            let mut current: Option<TopicPartition> = None;
            for (index, record) in records.iter().enumerate() {
                let partition = match current.take() {
                    Some(partition) if same_partition(&partition, record) => partition,
                    _ => record.topic_partition(),
                };
                match state.admit(&partition, record.offset) {
                    Admission::Drop => {}
                    Admission::Errant(error) => errant.push((index, error)),
                    Admission::Accept => {
                        let target = state.partition(&partition);
                        scratch.clear();
                        match running.writer.write(&target.labels, record, scratch) {
                            Ok(()) => target.add(record.offset, scratch, now),
                            Err(error) => errant.push((index, error)),
                        }
                    }
                }
                current = Some(partition);
            }
            state.apply_back_pressure(running.context.as_ref());
        }
        running.shared.wake.notify_one();
        for (index, error) in errant {
            running
                .context
                .report_errant(&records[index], error.into())
                .await?;
        }
        Ok(())
    }

    async fn flush(
        &mut self,
        consumed: &PartitionOffsets,
    ) -> sluice_connect::Result<PartitionOffsets> {
        let running = self.running().ok_or_else(not_started)?;
        let mut state = running.shared.lock();
        if let Some(fatal) = state.take_fatal() {
            return Err(fatal.into());
        }
        Ok(state.committable(consumed))
    }

    async fn stop(&mut self) -> sluice_connect::Result<()> {
        if let Some(running) = self.running.take() {
            running.dispatcher.abort();
            let _ = running.dispatcher.await;
        }
        Ok(())
    }
}

impl Drop for HttpSinkTask {
    fn drop(&mut self) {
        if let Some(running) = &self.running {
            running.dispatcher.abort();
        }
    }
}
