//! Records a sink task could not process: with `errors.tolerance=none` they fail the task;
//! with `all` they are skipped — copied first, exactly as consumed (key, value, headers,
//! timestamp), to the dead-letter topic when `errors.deadletterqueue.topic.name` is set, with
//! Kafka Connect's `__connect.errors.*` context headers when
//! `errors.deadletterqueue.context.headers.enable=true`.

use bytes::Bytes;
use sluice_broker::{
    Broker, FetchedRecord, Header, PartitionChoice, PartitionId, Record, TopicConfig,
};

use super::control::error_trace;
use super::sink_settings::{ContextHeaders, ErrorPolicy, ErrorTolerance};
use crate::api::ConnectorTaskId;
use crate::error::{Error, Result};

pub const HEADER_TOPIC: &str = "__connect.errors.topic";
pub const HEADER_PARTITION: &str = "__connect.errors.partition";
pub const HEADER_OFFSET: &str = "__connect.errors.offset";
pub const HEADER_CONNECTOR: &str = "__connect.errors.connector.name";
pub const HEADER_TASK: &str = "__connect.errors.task.id";
pub const HEADER_STAGE: &str = "__connect.errors.stage";
pub const HEADER_EXCEPTION_CLASS: &str = "__connect.errors.exception.class.name";
pub const HEADER_EXCEPTION_MESSAGE: &str = "__connect.errors.exception.message";
pub const HEADER_EXCEPTION_STACKTRACE: &str = "__connect.errors.exception.stacktrace";

/// Where in the sink pipeline a record failed (Kafka Connect's `Stage` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorStage {
    KeyConverter,
    ValueConverter,
    Transformation,
    TaskPut,
}

impl ErrorStage {
    pub fn kafka_name(self) -> &'static str {
        match self {
            Self::KeyConverter => "KEY_CONVERTER",
            Self::ValueConverter => "VALUE_CONVERTER",
            Self::Transformation => "TRANSFORMATION",
            Self::TaskPut => "TASK_PUT",
        }
    }
}

/// The Java exception class Kafka Connect would report for this kind of failure, so tools
/// that route dead-letter records by `__connect.errors.exception.class.name` keep working.
fn exception_class(error: &Error) -> &'static str {
    match error {
        Error::Conversion { .. } | Error::Transform { .. } => {
            "org.apache.kafka.connect.errors.DataException"
        }
        _ => "org.apache.kafka.connect.errors.ConnectException",
    }
}

/// One record that failed, as it was consumed.
#[derive(Debug, Clone, Copy)]
pub struct Failure<'a> {
    pub topic: &'a str,
    pub partition: PartitionId,
    pub original: &'a FetchedRecord,
    pub stage: ErrorStage,
}

/// Applies a sink connector's `errors.*` policy to failed records.
#[derive(Debug, Clone)]
pub struct ErrantRecords {
    broker: Broker,
    policy: ErrorPolicy,
    task: ConnectorTaskId,
}

impl ErrantRecords {
    pub fn new(broker: Broker, policy: ErrorPolicy, task: ConnectorTaskId) -> Self {
        Self {
            broker,
            policy,
            task,
        }
    }

    pub fn tolerance(&self) -> ErrorTolerance {
        self.policy.tolerance
    }

    /// Whether failed records are copied to a dead-letter topic (so their consumed form must
    /// be kept until `put` returns).
    pub fn keeps_originals(&self) -> bool {
        self.policy.tolerance == ErrorTolerance::All && self.policy.dead_letter_topic.is_some()
    }

    /// Tolerates the failure (the record is skipped, after a durable copy to the dead-letter
    /// topic if one is set) or, with `errors.tolerance=none`, hands `error` back to fail the
    /// task.
    pub async fn handle(&self, failure: Failure<'_>, error: Error) -> Result<()> {
        if self.policy.tolerance == ErrorTolerance::None {
            return Err(error);
        }
        let Some(topic) = &self.policy.dead_letter_topic else {
            tracing::warn!(
                task = %self.task,
                topic = failure.topic,
                partition = failure.partition.0,
                offset = failure.original.offset.0,
                stage = failure.stage.kafka_name(),
                error = %error_trace(&error),
                "skipping a record the sink cannot process (errors.tolerance=all)"
            );
            return Ok(());
        };
        let record = self.dead_letter_record(failure, &error);
        self.ensure_topic(topic).await?;
        let choice = match &record.key {
            Some(key) => PartitionChoice::ByKey(key.clone()),
            None => PartitionChoice::RoundRobin,
        };
        self.broker
            .produce(topic, choice, vec![record])
            .await
            .map_err(|source| Error::Store {
                context: format!(
                    "cannot write the record at {}-{}@{} to the dead-letter topic {topic}",
                    failure.topic, failure.partition, failure.original.offset
                ),
                source,
            })?;
        Ok(())
    }

    async fn ensure_topic(&self, topic: &str) -> Result<()> {
        if self.broker.topic(topic).is_ok() {
            return Ok(());
        }
        match self
            .broker
            .create_topic(topic, TopicConfig::default())
            .await
        {
            Ok(()) | Err(sluice_broker::Error::TopicExists(_)) => Ok(()),
            Err(source) => Err(Error::Store {
                context: format!("cannot create the dead-letter topic {topic}"),
                source,
            }),
        }
    }

    fn dead_letter_record(&self, failure: Failure<'_>, error: &Error) -> Record {
        let mut record = failure.original.record.clone();
        if self.policy.context_headers == ContextHeaders::Included {
            let text = |key: &'static str, value: String| Header {
                key: key.into(),
                value: Some(Bytes::from(value)),
            };
            record.headers.extend([
                text(HEADER_TOPIC, failure.topic.to_string()),
                text(HEADER_PARTITION, failure.partition.0.to_string()),
                text(HEADER_OFFSET, failure.original.offset.0.to_string()),
                text(HEADER_CONNECTOR, self.task.connector.clone()),
                text(HEADER_TASK, self.task.task.to_string()),
                text(HEADER_STAGE, failure.stage.kafka_name().to_string()),
                text(HEADER_EXCEPTION_CLASS, exception_class(error).to_string()),
                text(HEADER_EXCEPTION_MESSAGE, error.to_string()),
                text(HEADER_EXCEPTION_STACKTRACE, error_trace(error)),
            ]);
        }
        record
    }
}
