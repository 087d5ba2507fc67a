//! A test-only sink connector that records what it receives in shared memory and can be
//! told to hold back its flushes, fail puts, or report records as errant; plus helpers to
//! run it on a [`TestWorker`] and produce to its topics.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::{Value as Json, json};
use sluice_broker::{PartitionChoice, PartitionId, Record, TopicConfig};
use sluice_connect::api::{
    PartitionOffsets, SinkConnector, SinkRecord, SinkTask, SinkTaskContext, TaskConfig,
    TopicPartition,
};
use sluice_connect::config::{ConfigDef, Props};
use sluice_connect::error::{Error, Result};
use sluice_connect::registry::ConnectorRegistry;
use sluice_schemas::Value;

use crate::support::TestWorker;

pub const SINK_CLASS: &str = "test.RecordingSink";
pub const WAIT: Duration = Duration::from_secs(20);

/// One record as the sink received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub value: Value,
}

/// What the sink saw and how it should behave; shared with the test.
#[derive(Debug, Default)]
pub struct SinkState {
    pub received: Vec<Received>,
    pub flushes: Vec<PartitionOffsets>,
    pub opened: Vec<TopicPartition>,
    pub closed: Vec<TopicPartition>,
    /// `flush` commits nothing new while set.
    pub hold_flush: bool,
    /// The next this many puts fail.
    pub failing_puts: u32,
    /// Records with these string values are reported with `report_errant`.
    pub errant_values: Vec<String>,
    /// `open` moves every opened partition to this offset (as a sink keeping its own
    /// progress does).
    pub start_at_on_open: Option<i64>,
    /// The next `put` pauses the partitions of its records through the context.
    pub pause_in_next_put: bool,
    /// The task's context, so a test can act as the task from outside a call.
    pub context: Option<Arc<dyn SinkTaskContext>>,
}

pub type Shared = Arc<Mutex<SinkState>>;

/// A registry with the built-in connectors and the recording sink writing to `shared`.
pub fn registry(shared: &Shared) -> ConnectorRegistry {
    let mut registry = ConnectorRegistry::new();
    sluice_connect::builtin::register(&mut registry).unwrap();
    let shared = shared.clone();
    registry
        .register_sink(SINK_CLASS, &["RecordingSink"], "1.0", move || {
            Box::new(RecordingConnector {
                shared: shared.clone(),
            })
        })
        .unwrap();
    registry
}

#[derive(Debug)]
struct RecordingConnector {
    shared: Shared,
}

#[async_trait]
impl SinkConnector for RecordingConnector {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }

    async fn start(&mut self, props: &Props, max_tasks: usize) -> Result<Vec<TaskConfig>> {
        Ok(vec![props.clone(); max_tasks])
    }

    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(RecordingTask {
            shared: self.shared.clone(),
            context: None,
        })
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

#[derive(Debug)]
struct RecordingTask {
    shared: Shared,
    context: Option<Arc<dyn SinkTaskContext>>,
}

fn told_to_fail(what: &str) -> Error {
    Error::Connector {
        context: format!("the test sink was told to fail {what}"),
        source: "simulated failure".into(),
    }
}

#[async_trait]
impl SinkTask for RecordingTask {
    async fn start(&mut self, context: Arc<dyn SinkTaskContext>, _: &TaskConfig) -> Result<()> {
        self.shared.lock().context = Some(context.clone());
        self.context = Some(context);
        Ok(())
    }

    async fn open(&mut self, partitions: &[TopicPartition]) -> Result<()> {
        let start_at = {
            let mut state = self.shared.lock();
            state.opened.extend(partitions.iter().cloned());
            state.start_at_on_open
        };
        if let Some(offset) = start_at {
            let offsets = partitions
                .iter()
                .map(|p| (p.clone(), sluice_broker::Offset(offset)))
                .collect();
            self.context
                .as_ref()
                .expect("started")
                .reset_offsets(offsets);
        }
        Ok(())
    }

    async fn close(&mut self, partitions: &[TopicPartition]) -> Result<()> {
        self.shared.lock().closed.extend(partitions.iter().cloned());
        Ok(())
    }

    async fn put(&mut self, records: Vec<SinkRecord>) -> Result<()> {
        let (errant_values, pause) = {
            let mut state = self.shared.lock();
            if state.failing_puts > 0 {
                state.failing_puts -= 1;
                return Err(told_to_fail("this put"));
            }
            let pause = std::mem::take(&mut state.pause_in_next_put);
            (state.errant_values.clone(), pause)
        };
        if pause {
            let partitions: Vec<_> = records.iter().map(SinkRecord::topic_partition).collect();
            self.context.as_ref().expect("started").pause(&partitions);
        }
        for record in records {
            let errant = record
                .value
                .value
                .as_str()
                .is_some_and(|text| errant_values.iter().any(|v| v == text));
            if errant {
                let context = self.context.as_ref().expect("started");
                context
                    .report_errant(&record, told_to_fail("this record"))
                    .await?;
                continue;
            }
            self.shared.lock().received.push(Received {
                topic: record.topic.clone(),
                partition: record.partition.0,
                offset: record.offset.0,
                value: record.value.value,
            });
        }
        Ok(())
    }

    async fn flush(&mut self, consumed: &PartitionOffsets) -> Result<PartitionOffsets> {
        let mut state = self.shared.lock();
        state.flushes.push(consumed.clone());
        Ok(if state.hold_flush {
            PartitionOffsets::new()
        } else {
            consumed.clone()
        })
    }

    async fn stop(&mut self) -> Result<()> {
        // The context holds the broker; a stopped task lets go of it so a restarted worker
        // can take the data directory.
        self.shared.lock().context = None;
        self.context = None;
        Ok(())
    }
}

/// Produces JSON string values (`"v"`) to one partition.
pub async fn produce(worker: &TestWorker, topic: &str, partition: i32, values: &[&str]) {
    let records = values
        .iter()
        .map(|v| Record::new(None, Some(Bytes::from(json!(v).to_string()))))
        .collect();
    produce_records(worker, topic, partition, records).await;
}

pub async fn produce_records(
    worker: &TestWorker,
    topic: &str,
    partition: i32,
    records: Vec<Record>,
) {
    worker
        .worker
        .broker()
        .produce(
            topic,
            PartitionChoice::Explicit(PartitionId(partition)),
            records,
        )
        .await
        .unwrap();
}

pub async fn create_topic(worker: &TestWorker, topic: &str, partitions: u32) {
    let config = TopicConfig {
        partitions,
        ..TopicConfig::default()
    };
    worker
        .worker
        .broker()
        .create_topic(topic, config)
        .await
        .unwrap();
}

/// Creates the recording sink `name` over REST with JSON values without schemas, plus
/// `extra` settings.
pub async fn create_sink(worker: &TestWorker, name: &str, extra: Json) {
    let mut config = json!({
        "connector.class": SINK_CLASS,
        "value.converter.schemas.enable": "false",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    });
    for (key, value) in extra.as_object().unwrap() {
        config[key] = value.clone();
    }
    let response = worker
        .http
        .post(worker.url("/connectors"))
        .json(&json!({"name": name, "config": config}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Json = response.json().await.unwrap_or(Json::Null);
    assert_eq!(status, 201, "create {name}: {body}");
}

/// Waits until `check` holds for the sink's state.
pub async fn wait_for_sink(shared: &Shared, what: &str, check: impl Fn(&SinkState) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        if check(&shared.lock()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; sink state: {:?}",
            shared.lock()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn string(text: &str) -> Value {
    Value::String(text.into())
}

/// The task state of task 0 in a `/status` answer.
pub fn task_state(status: &Json) -> &str {
    status["tasks"][0]["state"].as_str().unwrap_or_default()
}

/// The sink's `/offsets` answer as (topic, partition, offset), sorted.
pub fn offsets_of(body: &Json) -> Vec<(String, i64, i64)> {
    let mut offsets: Vec<_> = body["offsets"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|entry| {
            (
                entry["partition"]["kafka_topic"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                entry["partition"]["kafka_partition"].as_i64().unwrap_or(-1),
                entry["offset"]["kafka_offset"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    offsets.sort();
    offsets
}
