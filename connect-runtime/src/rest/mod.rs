//! The REST API: Kafka Connect's endpoints plus Sluice's own topic, group, metrics and
//! health endpoints, served by axum.
//!
//! - [`connectors`]: Kafka Connect's `/connectors` and `/connector-plugins` endpoints.
//! - [`error`]: Kafka Connect's error body and the error → status mapping.
//! - [`groups`]: `/groups` endpoints: consumer groups, committed offsets, lag.
//! - [`metrics`]: `/metrics` in Prometheus text format.
//! - [`records`]: rendering stored records as JSON and parsing records to produce.
//! - [`topics`]: `/topics` endpoints.

pub mod connectors;
pub mod error;
pub mod groups;
pub mod metrics;
pub mod records;
pub mod topics;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::routing::{get, post, put};
use serde_json::{Value as JsonValue, json};
use sluice_broker::Broker;

use crate::worker::Worker;

/// What every handler can reach.
#[derive(Debug)]
pub struct RestState {
    pub broker: Broker,
    pub worker: Worker,
    /// This worker's id as shown in statuses (its advertised REST address).
    pub worker_id: String,
}

/// The whole REST API.
pub fn router(state: Arc<RestState>) -> Router {
    // Confluent Schema Registry's REST API, so `schema.registry.url=http://…:8083/schema-registry`
    // works for Sluice and for Confluent clients.
    let schema_registry = sluice_schemas::registry::router(state.worker.schema_registry().clone());
    Router::new()
        .route("/", get(root))
        .route("/health", get(health))
        .route("/metrics", get(metrics::metrics))
        .route(
            "/connectors",
            get(connectors::list).post(connectors::create),
        )
        .route(
            "/connectors/{name}",
            get(connectors::info).delete(connectors::delete),
        )
        .route(
            "/connectors/{name}/config",
            get(connectors::get_config).put(connectors::put_config),
        )
        .route("/connectors/{name}/status", get(connectors::status))
        .route("/connectors/{name}/tasks", get(connectors::tasks))
        .route(
            "/connectors/{name}/tasks/{task}/status",
            get(connectors::task_status),
        )
        .route(
            "/connectors/{name}/tasks/{task}/restart",
            post(connectors::restart_task),
        )
        .route("/connectors/{name}/pause", put(connectors::pause))
        .route("/connectors/{name}/resume", put(connectors::resume))
        .route("/connectors/{name}/stop", put(connectors::stop))
        .route("/connectors/{name}/restart", post(connectors::restart))
        .route(
            "/connectors/{name}/offsets",
            get(connectors::get_offsets)
                .patch(connectors::patch_offsets)
                .delete(connectors::delete_offsets),
        )
        .route("/connector-plugins", get(connectors::plugins))
        .route(
            "/connector-plugins/{class}/config/validate",
            put(connectors::validate),
        )
        .route("/groups", get(groups::list))
        .route("/groups/{group}", get(groups::describe))
        .route("/groups/{group}/offsets", post(groups::commit))
        .nest_service("/schema-registry", schema_registry)
        .route("/topics", get(topics::list).post(topics::create))
        .route(
            "/topics/{name}",
            get(topics::describe).delete(topics::delete),
        )
        .route(
            "/topics/{name}/records",
            get(topics::read_records).post(topics::produce_records),
        )
        .with_state(state)
}

async fn root() -> Json<JsonValue> {
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "commit": option_env!("SLUICE_GIT_COMMIT").unwrap_or("unknown"),
        "kafka_cluster_id": "sluice",
    }))
}

async fn health() -> Json<JsonValue> {
    Json(json!({
        "status": "healthy",
        "message": "Worker has completed startup and is ready to handle requests.",
    }))
}
