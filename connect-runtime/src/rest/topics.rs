//! Sluice's own topic endpoints: list, describe, create and delete topics, read records
//! (long-polling) and produce records. Kafka Connect has no such API; these back the
//! `sluice topics`, `sluice consume` and `sluice produce` commands.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value as JsonValue, json};
use sluice_broker::{
    Broker, FetchLimits, Offset, OffsetSpec, PartitionChoice, PartitionId, TopicConfig,
    TopicDescription,
};

use super::RestState;
use super::error::ApiError;
use super::records::{RecordToProduce, RenderedRecord, Rendering, render};

/// The longest a records request may wait for new data.
const MAX_TIMEOUT_MS: u64 = 60_000;
const MAX_LIMIT: usize = 10_000;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Include `__`-prefixed internal topics.
    #[serde(default)]
    internal: bool,
}

pub async fn list(
    State(state): State<Arc<RestState>>,
    Query(query): Query<ListQuery>,
) -> Json<Vec<String>> {
    let mut names: Vec<String> = state
        .broker
        .list_topics()
        .into_iter()
        .filter(|name| query.internal || !name.starts_with("__"))
        .collect();
    names.sort();
    Json(names)
}

pub async fn describe(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    Ok(Json(description_json(&state.broker.describe_topic(&name)?)))
}

fn description_json(description: &TopicDescription) -> JsonValue {
    let partitions: Vec<JsonValue> = description
        .partitions
        .iter()
        .map(|p| {
            json!({
                "partition": p.partition.0,
                "start_offset": p.log_start_offset.0,
                "end_offset": p.high_watermark.0,
                "size_bytes": p.size_bytes,
            })
        })
        .collect();
    let mut config = serde_json::to_value(&description.config).unwrap_or_default();
    if let Some(map) = config.as_object_mut() {
        map.remove("partitions");
    }
    json!({"name": description.name, "partitions": partitions, "config": config})
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTopic {
    name: String,
    #[serde(default)]
    partitions: Option<u32>,
    #[serde(default)]
    config: BTreeMap<String, JsonValue>,
}

pub async fn create(
    State(state): State<Arc<RestState>>,
    body: Result<Json<CreateTopic>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    let Json(request) = body.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    let mut config = topic_config(request.partitions, &request.config)?;
    // Like Kafka's broker-level compression.type, the worker's setting is every new topic's
    // default, not only of those created on first use.
    if !request.config.contains_key("compression.type")
        && let sluice_broker::AutoCreateTopics::Enabled(defaults) =
            &state.broker.config().auto_create_topics
    {
        config.compression_type = defaults.compression_type;
    }
    state.broker.create_topic(&request.name, config).await?;
    let description = state.broker.describe_topic(&request.name)?;
    Ok((StatusCode::CREATED, Json(description_json(&description))))
}

/// Builds a topic config from Kafka-named keys (`retention.ms`, `cleanup.policy`, …), taking
/// defaults for the rest; an unknown key is an error naming it.
pub fn topic_config(
    partitions: Option<u32>,
    overrides: &BTreeMap<String, JsonValue>,
) -> Result<TopicConfig, ApiError> {
    let mut base = serde_json::to_value(TopicConfig::default()).unwrap_or_default();
    let map = base
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("topic config is not an object"))?;
    for (key, value) in overrides {
        if key == "partitions" || !map.contains_key(key) {
            let known: Vec<&String> = map.keys().filter(|k| *k != "partitions").collect();
            return Err(ApiError::bad_request(format!(
                "unknown topic config {key:?}; known keys: {known:?}"
            )));
        }
        // Flag and file values arrive as text; numbers are stored as numbers.
        let typed = match value {
            JsonValue::String(text) => text
                .parse::<i64>()
                .map(JsonValue::from)
                .unwrap_or_else(|_| value.clone()),
            other => other.clone(),
        };
        map.insert(key.clone(), typed);
    }
    if let Some(partitions) = partitions {
        map.insert("partitions".into(), json!(partitions));
    }
    serde_json::from_value(base)
        .map_err(|error| ApiError::bad_request(format!("invalid topic config: {error}")))
}

pub async fn delete(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.broker.delete_topic(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct RecordsQuery {
    #[serde(default)]
    partition: i32,
    /// Where to start; absent means the earliest offset.
    offset: Option<i64>,
    #[serde(default = "default_limit")]
    limit: usize,
    #[serde(default)]
    timeout_ms: u64,
    #[serde(default)]
    format: Rendering,
}

fn default_limit() -> usize {
    100
}

pub async fn read_records(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
    Query(query): Query<RecordsQuery>,
) -> Result<Json<JsonValue>, ApiError> {
    let partition = PartitionId(query.partition);
    let offset = match query.offset {
        Some(offset) => Offset(offset),
        None => earliest(&state.broker, &name, partition).await?,
    };
    let limits = FetchLimits {
        max_bytes: 4 * 1024 * 1024,
        max_records: query.limit.clamp(1, MAX_LIMIT),
        max_wait: Duration::from_millis(query.timeout_ms.min(MAX_TIMEOUT_MS)),
    };
    let fetched = state.broker.fetch(&name, partition, offset, limits).await?;
    let records: Vec<RenderedRecord> = fetched
        .records
        .iter()
        .map(|record| render(&name, partition.0, record, query.format))
        .collect();
    Ok(Json(json!({
        "records": records,
        "next_offset": fetched.next_offset.0,
        "high_watermark": fetched.high_watermark.0,
        "log_start_offset": fetched.log_start_offset.0,
    })))
}

async fn earliest(
    broker: &Broker,
    topic: &str,
    partition: PartitionId,
) -> Result<Offset, ApiError> {
    Ok(broker
        .list_offsets(topic, partition, OffsetSpec::Earliest)
        .await?
        .unwrap_or(Offset(0)))
}

pub async fn produce_records(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
    body: Result<Json<Vec<RecordToProduce>>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    let Json(records) = body.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    if records.is_empty() {
        return Err(ApiError::bad_request("no records to produce"));
    }
    let mut acks = Vec::with_capacity(records.len());
    // Records naming a partition go there; the rest are routed like a Kafka producer would.
    let (explicit, routed): (Vec<_>, Vec<_>) =
        records.into_iter().partition(|r| r.partition.is_some());
    for record in explicit {
        let partition = PartitionId(record.partition.unwrap_or_default());
        let ack = state
            .broker
            .produce(
                &name,
                PartitionChoice::Explicit(partition),
                vec![record.into_record()],
            )
            .await?;
        acks.push(json!({"partition": ack.partition.0, "offset": ack.base_offset.0}));
    }
    if !routed.is_empty() {
        let batch = routed
            .into_iter()
            .map(RecordToProduce::into_record)
            .collect();
        for ack in state.broker.produce_keyed(&name, batch).await? {
            for offset in ack.base_offset.0..=ack.last_offset.0 {
                acks.push(json!({"partition": ack.partition.0, "offset": offset}));
            }
        }
    }
    Ok(Json(json!({ "offsets": acks })))
}
