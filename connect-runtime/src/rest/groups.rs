//! Sluice's consumer-group endpoints: list groups, describe one (members, committed offsets
//! and lag per partition), and commit offsets from outside any generation (what
//! `sluice consume --group` does, like a Kafka consumer with manual assignment).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value as JsonValue, json};
use sluice_broker::group::{GenerationId, GroupState, MemberKind, OffsetCommit, TopicPartition};
use sluice_broker::{Offset, PartitionId};

use super::RestState;
use super::error::ApiError;

pub async fn list(State(state): State<Arc<RestState>>) -> Json<JsonValue> {
    let groups: Vec<JsonValue> = state
        .broker
        .groups()
        .list_groups()
        .into_iter()
        .map(|group| {
            json!({
                "group_id": group.group,
                "state": group.state.kafka_name(),
                "protocol_type": group.protocol_type,
            })
        })
        .collect();
    Json(json!(groups))
}

pub async fn describe(
    State(state): State<Arc<RestState>>,
    Path(group): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    let coordinator = state.broker.groups();
    let description = coordinator.describe_group(&group);
    // The broker knows each partition's log end.
    let lag = coordinator.lag(&group, &state.broker);
    if description.state == GroupState::Dead && lag.is_err() {
        return Err(ApiError::not_found(format!(
            "consumer group {group} not found"
        )));
    }
    let offsets: Vec<JsonValue> = lag
        .unwrap_or_default()
        .into_iter()
        .map(|partition| {
            json!({
                "topic": partition.partition.topic,
                "partition": partition.partition.partition.0,
                "committed": partition.committed.map(|o| o.0),
                "log_end": partition.log_end.map(|o| o.0),
                "lag": partition.lag,
                "owner": partition.owner.map(|m| m.as_str().to_string()),
            })
        })
        .collect();
    let members: Vec<JsonValue> = description
        .members
        .iter()
        .map(|member| {
            json!({
                "member_id": member.member_id.as_str(),
                "client_id": member.client_id,
                "client_host": member.client_host,
                "kind": match member.kind {
                    MemberKind::InProcess => "in-process",
                    MemberKind::KafkaClient => "kafka-client",
                },
            })
        })
        .collect();
    Ok(Json(json!({
        "group_id": description.group,
        "state": description.state.kafka_name(),
        "generation": description.generation.0,
        "protocol_type": description.protocol_type,
        "leader": description.leader.map(|m| m.as_str().to_string()),
        "members": members,
        "offsets": offsets,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitRequest {
    offsets: Vec<PartitionCommit>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartitionCommit {
    topic: String,
    partition: i32,
    /// The next offset to read, as in Kafka.
    offset: i64,
}

pub async fn commit(
    State(state): State<Arc<RestState>>,
    Path(group): Path<String>,
    body: Result<Json<CommitRequest>, JsonRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    let Json(request) = body.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    let commits = request
        .offsets
        .into_iter()
        .map(|c| {
            OffsetCommit::new(
                TopicPartition {
                    topic: c.topic,
                    partition: PartitionId(c.partition),
                },
                Offset(c.offset),
            )
        })
        .collect();
    state
        .broker
        .groups()
        .commit_offsets(&group, None, GenerationId::NONE, commits)
        .await?;
    Ok(Json(json!({"committed": true})))
}
