//! Kafka Connect's connector endpoints (`/connectors…`, `/connector-plugins…`), with its
//! request and response shapes, status codes and KIP-875 offsets semantics.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value as JsonValue, json};

use super::RestState;
use super::error::ApiError;
use crate::config::def::ConfigType;
use crate::config::props::{parse_named, props_from_object, validate_connector_name};
use crate::stores::{JsonMap, TargetState};
use crate::worker::{ConnectorInfo, ConnectorStatus};

type Body = Result<Json<JsonValue>, JsonRejection>;

fn body(body: Body) -> Result<JsonValue, ApiError> {
    body.map(|Json(value)| value)
        .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
}

fn info_json(info: &ConnectorInfo) -> JsonValue {
    let tasks: Vec<JsonValue> = (0..info.tasks)
        .map(|task| json!({"connector": info.name, "task": task}))
        .collect();
    json!({"name": info.name, "config": info.config, "tasks": tasks, "type": info.kind.as_str()})
}

fn state_json(state: crate::stores::State) -> JsonValue {
    serde_json::to_value(state).unwrap_or_default()
}

fn status_json(status: &ConnectorStatus) -> JsonValue {
    let mut connector = json!({"state": state_json(status.state), "worker_id": status.worker_id});
    if let Some(trace) = &status.trace {
        connector["trace"] = json!(trace);
    }
    let tasks: Vec<JsonValue> = status
        .tasks
        .iter()
        .map(|task| {
            let mut shown =
                json!({"id": task.id, "state": state_json(task.state), "worker_id": status.worker_id});
            if let Some(trace) = &task.trace {
                shown["trace"] = json!(trace);
            }
            shown
        })
        .collect();
    json!({"name": status.name, "connector": connector, "tasks": tasks, "type": status.kind.as_str()})
}

fn query_flags(query: &Option<String>) -> Vec<(String, String)> {
    query
        .as_deref()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => (key.to_string(), value.to_string()),
            None => (pair.to_string(), String::new()),
        })
        .collect()
}

fn flag(query: &[(String, String)], name: &str) -> bool {
    query
        .iter()
        .any(|(key, value)| key == name && value.eq_ignore_ascii_case("true"))
}

pub async fn list(
    State(state): State<Arc<RestState>>,
    RawQuery(query): RawQuery,
) -> Result<Json<JsonValue>, ApiError> {
    let query = query_flags(&query);
    let expand: Vec<&str> = query
        .iter()
        .filter(|(key, _)| key == "expand")
        .map(|(_, value)| value.as_str())
        .collect();
    let names = state.worker.connector_names().await;
    if expand.is_empty() {
        return Ok(Json(json!(names)));
    }
    let mut expanded = Map::new();
    for name in names {
        let mut entry = Map::new();
        if expand.contains(&"status") {
            entry.insert(
                "status".into(),
                status_json(&state.worker.status(&name).await?),
            );
        }
        if expand.contains(&"info") {
            entry.insert("info".into(), info_json(&state.worker.info(&name).await?));
        }
        expanded.insert(name, JsonValue::Object(entry));
    }
    Ok(Json(JsonValue::Object(expanded)))
}

pub async fn create(
    State(state): State<Arc<RestState>>,
    request: Body,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    let mut request = body(request)?;
    let initial = match request
        .as_object_mut()
        .and_then(|o| o.remove("initial_state"))
    {
        None => TargetState::Started,
        Some(JsonValue::String(text)) => match text.to_ascii_uppercase().as_str() {
            "RUNNING" => TargetState::Started,
            "PAUSED" => TargetState::Paused,
            "STOPPED" => TargetState::Stopped,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "initial_state {text:?} must be RUNNING, PAUSED or STOPPED"
                )));
            }
        },
        Some(_) => return Err(ApiError::bad_request("initial_state must be a string")),
    };
    let named = parse_named(request.to_string().as_bytes())?;
    let info = state
        .worker
        .create(&named.name, named.props, initial)
        .await?;
    Ok((StatusCode::CREATED, Json(info_json(&info))))
}

pub async fn info(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    Ok(Json(info_json(&state.worker.info(&name).await?)))
}

pub async fn get_config(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    Ok(Json(json!(state.worker.config(&name).await?)))
}

pub async fn put_config(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
    request: Body,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    validate_connector_name(&name)?;
    let JsonValue::Object(object) = body(request)? else {
        return Err(ApiError::bad_request(
            "the body must be a JSON object of configuration strings",
        ));
    };
    let mut props = props_from_object(object)?;
    if let Some(inner) = props.get("name")
        && inner != &name
    {
        return Err(ApiError::bad_request(format!(
            "connector name in the config ({inner:?}) differs from the path ({name:?})"
        )));
    }
    props.insert("name".into(), name.clone());
    let (created, info) = state.worker.put_config(&name, props).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(info_json(&info))))
}

pub async fn status(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    Ok(Json(status_json(&state.worker.status(&name).await?)))
}

pub async fn tasks(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    let configs = state.worker.task_configs(&name).await?;
    let tasks: Vec<JsonValue> = configs
        .into_iter()
        .enumerate()
        .map(|(task, config)| json!({"id": {"connector": name, "task": task}, "config": config}))
        .collect();
    Ok(Json(json!(tasks)))
}

pub async fn task_status(
    State(state): State<Arc<RestState>>,
    Path((name, task)): Path<(String, u32)>,
) -> Result<Json<JsonValue>, ApiError> {
    let status = state.worker.status(&name).await?;
    let shown = status
        .tasks
        .iter()
        .find(|t| t.id == task)
        .ok_or_else(|| ApiError::not_found(format!("connector {name} has no task {task}")))?;
    let mut body =
        json!({"id": task, "state": state_json(shown.state), "worker_id": status.worker_id});
    if let Some(trace) = &shown.trace {
        body["trace"] = json!(trace);
    }
    Ok(Json(body))
}

pub async fn pause(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.worker.pause(&name).await?;
    Ok(StatusCode::ACCEPTED)
}

pub async fn resume(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.worker.resume(&name).await?;
    Ok(StatusCode::ACCEPTED)
}

pub async fn stop(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.worker.stop(&name).await?;
    Ok(StatusCode::ACCEPTED)
}

pub async fn restart(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let query = query_flags(&query);
    let include_tasks = flag(&query, "includeTasks");
    let only_failed = flag(&query, "onlyFailed");
    state
        .worker
        .restart(&name, include_tasks, only_failed)
        .await?;
    if include_tasks || only_failed {
        let status = status_json(&state.worker.status(&name).await?);
        return Ok((StatusCode::ACCEPTED, Json(status)).into_response());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn restart_task(
    State(state): State<Arc<RestState>>,
    Path((name, task)): Path<(String, u32)>,
) -> Result<StatusCode, ApiError> {
    state.worker.restart_task(&name, task).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.worker.delete(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn get_offsets(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    let offsets: Vec<JsonValue> = state
        .worker
        .offsets(&name)
        .await?
        .into_iter()
        .map(|(partition, offset)| json!({"partition": partition, "offset": offset}))
        .collect();
    Ok(Json(json!({ "offsets": offsets })))
}

pub async fn patch_offsets(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
    request: Body,
) -> Result<Json<JsonValue>, ApiError> {
    let request = body(request)?;
    let entries = request["offsets"].as_array().ok_or_else(|| {
        ApiError::bad_request(
            "expected {\"offsets\": [{\"partition\": {…}, \"offset\": {…} | null}]}",
        )
    })?;
    let mut offsets: Vec<(JsonMap, Option<JsonMap>)> = Vec::new();
    for entry in entries {
        let partition = entry["partition"]
            .as_object()
            .cloned()
            .ok_or_else(|| ApiError::bad_request("every entry needs a \"partition\" object"))?;
        let offset = match &entry["offset"] {
            JsonValue::Null => None,
            JsonValue::Object(offset) => Some(offset.clone()),
            _ => {
                return Err(ApiError::bad_request(
                    "\"offset\" must be an object or null",
                ));
            }
        };
        offsets.push((partition, offset));
    }
    state.worker.alter_offsets(&name, offsets).await?;
    Ok(Json(
        json!({"message": "The offsets for this connector have been altered successfully"}),
    ))
}

pub async fn delete_offsets(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    state.worker.reset_offsets(&name).await?;
    Ok(Json(
        json!({"message": "The offsets for this connector have been reset successfully"}),
    ))
}

pub async fn plugins(State(state): State<Arc<RestState>>) -> Json<JsonValue> {
    Json(json!(state.worker.plugins()))
}

pub async fn validate(
    State(state): State<Arc<RestState>>,
    Path(class): Path<String>,
    request: Body,
) -> Result<Json<JsonValue>, ApiError> {
    let JsonValue::Object(object) = body(request)? else {
        return Err(ApiError::bad_request(
            "the body must be a JSON object of configuration strings",
        ));
    };
    let mut props = props_from_object(object)?;
    props
        .entry("connector.class".into())
        .or_insert(class.clone());
    let report = state.worker.validate(&props)?;
    let def = state.worker.config_def(&props)?;
    let definitions: BTreeMap<&str, &crate::config::ConfigKey> =
        def.keys().iter().map(|key| (key.name, key)).collect();
    let configs: Vec<JsonValue> = report
        .keys
        .iter()
        .map(|key| {
            let definition = definitions.get(key.name.as_str()).map(|def| {
                json!({
                    "name": def.name,
                    "type": def.config_type.rest_name(),
                    "required": matches!(def.presence, crate::config::Presence::Required),
                    "default_value": match def.presence {
                        crate::config::Presence::Default(value) => json!(value),
                        _ => JsonValue::Null,
                    },
                    "importance": format!("{:?}", def.importance).to_uppercase(),
                    "documentation": def.doc,
                    "group": def.group,
                    "order": -1,
                    "width": "NONE",
                    "display_name": def.name,
                    "dependents": [],
                })
            });
            let shown_value = match definitions.get(key.name.as_str()) {
                Some(def) if def.config_type == ConfigType::Password && key.value.is_some() => {
                    json!(crate::config::MASK)
                }
                _ => json!(key.value),
            };
            json!({
                "definition": definition,
                "value": {
                    "name": key.name,
                    "value": shown_value,
                    "recommended_values": key.recommended_values,
                    "errors": key.errors,
                    "visible": true,
                },
            })
        })
        .collect();
    let groups: Vec<&str> = {
        let mut groups: Vec<&str> = definitions.values().map(|def| def.group).collect();
        groups.sort();
        groups.dedup();
        groups
    };
    Ok(Json(json!({
        "name": class,
        "error_count": report.error_count(),
        "groups": groups,
        "configs": configs,
    })))
}
