//! The `sequence` source: emits records numbered 0, 1, 2, … to one topic, each with key
//! `{"n": i}` and value `{"n": i, "payload": "…"}`, position `i` and source offset
//! `{"next": i + 1}`. After a restart it continues from its stored offset, so a consumer
//! of the topic must see every number exactly once, in order — which is what the
//! exactly-once tests check after killing the worker.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use sluice_schemas::schema::{INT64_SCHEMA, STRING_SCHEMA};
use sluice_schemas::{SchemaBuilder, SchemaRef, Struct, Text, Value};

use crate::api::{
    CommittedOffset, SchemaAndValue, SharedOffsetMap, SourceConnector, SourcePosition,
    SourceRecord, SourceTask, SourceTaskContext, TaskConfig,
};
use crate::config::{ConfigDef, ConfigKey, Props};
use crate::error::{Error, Result};

pub const CLASS: &str = "io.sluice.connect.SequenceSourceConnector";

static KEY_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    SchemaBuilder::struct_()
        .name("sluice.sequence.Key")
        .field("n", INT64_SCHEMA.clone())
        .build()
});

static VALUE_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    SchemaBuilder::struct_()
        .name("sluice.sequence.Value")
        .field("n", INT64_SCHEMA.clone())
        .field("payload", STRING_SCHEMA.clone())
        .build()
});

fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::string("topic")
                .required()
                .doc("Topic to write the numbers to."),
        )
        .define(
            ConfigKey::long("sequence.count")
                .default("-1")
                .at_least(-1)
                .doc("How many numbers to emit in all; -1 for no end."),
        )
        .define(
            ConfigKey::int("sequence.batch.size")
                .default("100")
                .range(1, 100_000)
                .doc("Records per poll."),
        )
        .define(
            ConfigKey::long("sequence.interval.ms")
                .default("0")
                .at_least(0)
                .doc("Pause between polls, in milliseconds."),
        )
        .define(
            ConfigKey::int("sequence.payload.bytes")
                .default("16")
                .range(0, 1_000_000)
                .doc("Size of each record's padding text."),
        )
}

/// The connector: one task does all the numbering.
#[derive(Debug, Default)]
pub struct SequenceSource;

#[async_trait]
impl SourceConnector for SequenceSource {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    async fn start(&mut self, props: &Props, _max_tasks: usize) -> Result<Vec<TaskConfig>> {
        config_def().parse(props)?;
        Ok(vec![props.clone()])
    }

    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(SequenceTask::default())
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

#[derive(Debug, Default)]
struct SequenceTask {
    topic: Arc<str>,
    next: i64,
    count: i64,
    batch: i64,
    interval: Duration,
    payload: Text,
    partition: SharedOffsetMap,
    polled_once: bool,
}

#[async_trait]
impl SourceTask for SequenceTask {
    async fn start(
        &mut self,
        context: Arc<dyn SourceTaskContext>,
        config: &TaskConfig,
    ) -> Result<()> {
        let parsed = config_def().parse(config)?;
        self.topic = parsed.required_string("topic")?.into();
        self.count = parsed.integer("sequence.count")?;
        self.batch = parsed.integer("sequence.batch.size")?;
        self.interval = Duration::from_millis(parsed.integer("sequence.interval.ms")? as u64);
        self.payload = Text::from("x".repeat(parsed.integer("sequence.payload.bytes")? as usize));
        self.partition = json!({"sequence": &*self.topic})
            .as_object()
            .cloned()
            .unwrap_or_default()
            .into();
        self.next =
            match context.stored_offset(&self.partition).await? {
                Some(offset) => offset.get("next").and_then(|n| n.as_i64()).ok_or_else(|| {
                    Error::InvalidConfig {
                        key: "offset".into(),
                        value: serde_json::Value::Object(offset.clone()).to_string(),
                        reason: "a sequence offset needs a numeric \"next\"".into(),
                    }
                })?,
                None => 0,
            };
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<SourceRecord>> {
        if self.polled_once && !self.interval.is_zero() {
            tokio::time::sleep(self.interval).await;
        }
        self.polled_once = true;
        let end = if self.count < 0 {
            self.next + self.batch
        } else {
            self.count.min(self.next + self.batch)
        };
        if self.next >= end {
            // Finished: idle without spinning.
            tokio::time::sleep(Duration::from_millis(200)).await;
            return Ok(Vec::new());
        }
        let mut records = Vec::with_capacity((end - self.next) as usize);
        for n in self.next..end {
            let key = Struct::new(KEY_SCHEMA.clone())
                .with("n", Value::Int64(n))
                .map_err(|source| schema_error(&self.topic, source))?;
            let value = Struct::new(VALUE_SCHEMA.clone())
                .with("n", Value::Int64(n))
                .and_then(|s| s.with("payload", Value::String(self.payload.clone())))
                .map_err(|source| schema_error(&self.topic, source))?;
            let offset = json!({"next": n + 1})
                .as_object()
                .cloned()
                .unwrap_or_default();
            records.push(
                SourceRecord::new(
                    self.partition.clone(),
                    offset,
                    self.topic.clone(),
                    SchemaAndValue::with_schema(KEY_SCHEMA.clone(), Value::Struct(key)),
                    SchemaAndValue::with_schema(VALUE_SCHEMA.clone(), Value::Struct(value)),
                )
                .with_position(SourcePosition::from_parts(&[n as u64])),
            );
        }
        self.next = end;
        Ok(records)
    }

    async fn commit(&mut self, _committed: &[CommittedOffset]) -> Result<()> {
        Ok(())
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

fn schema_error(topic: &str, source: sluice_schemas::Error) -> Error {
    Error::Conversion {
        topic: topic.to_string(),
        part: "value",
        source: Box::new(source),
    }
}
