//! From a consumed record to what a sink task receives: key and value through the
//! connector's converters, headers as raw bytes, then the transform chain. A failure names
//! the stage it happened in, for the `errors.*` policy and the dead-letter headers.

use sluice_broker::FetchedRecord;

use super::dead_letter::ErrorStage;
use super::sink_settings::SinkSettings;
use crate::api::{Header, HeaderValue, Headers, SinkRecord, TopicPartition};
use crate::error::Error;

/// The sink record for `fetched`, `None` when a transform dropped it.
pub async fn to_sink_record(
    settings: &SinkSettings,
    partition: &TopicPartition,
    fetched: &FetchedRecord,
) -> Result<Option<SinkRecord>, (ErrorStage, Error)> {
    let topic = partition.topic.as_str();
    let stored = &fetched.record;
    let key = settings
        .converters
        .key
        .decode(topic, stored.key.as_deref())
        .await
        .map_err(|error| (ErrorStage::KeyConverter, error))?;
    let value = settings
        .converters
        .value
        .decode(topic, stored.value.as_deref())
        .await
        .map_err(|error| (ErrorStage::ValueConverter, error))?;
    let headers: Headers = stored
        .headers
        .iter()
        .map(|header| Header {
            key: header.key.to_string(),
            value: match &header.value {
                Some(bytes) => HeaderValue::Raw(bytes.clone()),
                None => HeaderValue::Typed {
                    schema: None,
                    value: sluice_schemas::Value::Null,
                },
            },
        })
        .collect();
    let record = SinkRecord {
        topic: partition.topic.clone(),
        partition: partition.partition,
        offset: fetched.offset,
        key,
        value,
        headers,
        timestamp_ms: stored.timestamp_ms,
    };
    if settings.transforms.is_empty() {
        return Ok(Some(record));
    }
    settings
        .transforms
        .apply(record)
        .map_err(|error| (ErrorStage::Transformation, error))
}
