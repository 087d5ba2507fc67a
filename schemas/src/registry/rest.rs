//! The Confluent Schema Registry REST subset as an axum [`Router`], so Confluent serializers,
//! `kcat -s avro` and friends can use Sluice's registry. Mount it under `/schema-registry`:
//! `Router::new().nest("/schema-registry", registry::router(registry))`.
//!
//! Bodies are read as JSON whatever their content type (Confluent clients send
//! `application/vnd.schemaregistry.v1+json`); answers use that content type, and errors have
//! Confluent's body `{"error_code": 40401, "message": "…"}` with its codes.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value as Json, json};

use super::deletion::Deletion;
use super::{CompatibilityLevel, SchemaFormat, SchemaId, SchemaRegistry, VersionSelector};
use crate::Error;

/// The media type of Confluent Schema Registry answers.
pub const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// The REST routes over `registry`, with the state applied.
pub fn router(registry: Arc<SchemaRegistry>) -> Router {
    Router::new()
        .route("/subjects", get(list_subjects))
        .route(
            "/subjects/{subject}",
            post(lookup_schema).delete(delete_subject),
        )
        .route(
            "/subjects/{subject}/versions",
            get(list_versions).post(register_schema),
        )
        .route(
            "/subjects/{subject}/versions/{version}",
            get(get_version).delete(delete_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/schema",
            get(get_version_schema),
        )
        .route("/schemas/ids/{id}", get(get_schema_by_id))
        .route(
            "/compatibility/subjects/{subject}/versions/{version}",
            post(test_compatibility),
        )
        .route("/config", get(get_global_config).put(put_global_config))
        .route(
            "/config/{subject}",
            get(get_subject_config).put(put_subject_config),
        )
        .with_state(registry)
}

type Registry = State<Arc<SchemaRegistry>>;

/// A response in the registry's media type.
struct Reply(StatusCode, Json);

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        (
            self.0,
            [(header::CONTENT_TYPE, CONTENT_TYPE)],
            self.1.to_string(),
        )
            .into_response()
    }
}

fn ok(body: Json) -> Reply {
    Reply(StatusCode::OK, body)
}

/// A Confluent-style error answer.
struct ApiError {
    status: StatusCode,
    code: u32,
    message: String,
}

impl ApiError {
    fn malformed(message: String) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: 400,
            message,
        }
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let (status, code) = match &error {
            Error::SubjectNotFound { .. } => (StatusCode::NOT_FOUND, 40401),
            Error::VersionNotFound { .. } => (StatusCode::NOT_FOUND, 40402),
            Error::SchemaNotFound { .. } => (StatusCode::NOT_FOUND, 40403),
            Error::SubjectSoftDeleted { .. } => (StatusCode::NOT_FOUND, 40404),
            Error::NotSoftDeleted { version: None, .. } => (StatusCode::NOT_FOUND, 40405),
            Error::NotSoftDeleted {
                version: Some(_), ..
            } => (StatusCode::NOT_FOUND, 40407),
            Error::SubjectCompatibilityNotConfigured { .. } => (StatusCode::NOT_FOUND, 40408),
            Error::IncompatibleSchema { .. } => (StatusCode::CONFLICT, 409),
            Error::InvalidAvroSchema { .. } => (StatusCode::UNPROCESSABLE_ENTITY, 42201),
            Error::InvalidVersion { .. } => (StatusCode::UNPROCESSABLE_ENTITY, 42202),
            Error::InvalidCompatibilityLevel { .. } => (StatusCode::UNPROCESSABLE_ENTITY, 42203),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, 50001),
        };
        if status.is_server_error() {
            tracing::error!(error = %error, "schema registry request failed");
        }
        Self {
            status,
            code,
            message: error.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        Reply(
            self.status,
            json!({"error_code": self.code, "message": self.message}),
        )
        .into_response()
    }
}

type ApiResult = Result<Reply, ApiError>;

fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::malformed(format!("request body is not the expected JSON: {e}")))
}

/// Runs a registry write (which fsyncs) off the async worker threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> crate::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: 50001,
            message: format!("registry task failed: {e}"),
        })?
        .map_err(ApiError::from)
}

#[derive(Deserialize)]
struct SchemaRequest {
    schema: String,
    #[serde(rename = "schemaType")]
    schema_type: Option<String>,
    #[serde(default)]
    references: Vec<Json>,
}

impl SchemaRequest {
    fn parse(body: &Bytes) -> Result<(String, SchemaFormat), ApiError> {
        let request: SchemaRequest = parse_body(body)?;
        let schema_type = SchemaFormat::parse(request.schema_type.as_deref())?;
        if !request.references.is_empty() {
            return Err(Error::InvalidAvroSchema {
                reason: "schema references are not supported; inline the referenced types".into(),
                source: None,
            }
            .into());
        }
        Ok((request.schema, schema_type))
    }
}

fn registered_json(schema: super::RegisteredSchema) -> Json {
    json!({"subject": schema.subject, "version": schema.version, "id": schema.id, "schema": schema.schema})
}

async fn list_subjects(State(registry): Registry) -> ApiResult {
    Ok(ok(json!(registry.subjects())))
}

async fn list_versions(State(registry): Registry, Path(subject): Path<String>) -> ApiResult {
    Ok(ok(json!(registry.versions(&subject)?)))
}

async fn get_version(
    State(registry): Registry,
    Path((subject, version)): Path<(String, String)>,
) -> ApiResult {
    let selector = VersionSelector::parse(&version)?;
    Ok(ok(registered_json(registry.version(&subject, selector)?)))
}

async fn get_version_schema(
    State(registry): Registry,
    Path((subject, version)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let selector = VersionSelector::parse(&version)?;
    let schema = registry.version(&subject, selector)?.schema;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], schema).into_response())
}

async fn register_schema(
    State(registry): Registry,
    Path(subject): Path<String>,
    body: Bytes,
) -> ApiResult {
    let (schema, schema_type) = SchemaRequest::parse(&body)?;
    let id = blocking(move || registry.register(&subject, &schema, schema_type)).await?;
    Ok(ok(json!({"id": id})))
}

async fn lookup_schema(
    State(registry): Registry,
    Path(subject): Path<String>,
    body: Bytes,
) -> ApiResult {
    let (schema, _) = SchemaRequest::parse(&body)?;
    Ok(ok(registered_json(registry.lookup(&subject, &schema)?)))
}

async fn get_schema_by_id(State(registry): Registry, Path(id): Path<String>) -> ApiResult {
    let id: u32 = id.parse().map_err(|_| Error::SchemaNotFound {
        what: format!("no schema has id {id}"),
    })?;
    Ok(ok(json!({"schema": registry.schema_by_id(SchemaId(id))?})))
}

async fn test_compatibility(
    State(registry): Registry,
    Path((subject, version)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> ApiResult {
    let verbose = query.get("verbose").is_some_and(|v| v == "true");
    let selector = VersionSelector::parse(&version)?;
    let (schema, _) = SchemaRequest::parse(&body)?;
    if let VersionSelector::Exact(_) = selector {
        registry.version(&subject, selector)?;
    }
    let messages = match registry.check_compatibility(&subject, &schema, selector) {
        Ok(messages) => messages,
        Err(error @ Error::InvalidAvroSchema { .. }) if verbose => vec![error.to_string()],
        Err(error) => return Err(error.into()),
    };
    let mut answer = json!({"is_compatible": messages.is_empty()});
    if verbose {
        answer["messages"] = json!(messages);
    }
    Ok(ok(answer))
}

fn deletion(query: &HashMap<String, String>) -> Deletion {
    if query.get("permanent").is_some_and(|v| v == "true") {
        Deletion::Permanent
    } else {
        Deletion::Soft
    }
}

async fn delete_subject(
    State(registry): Registry,
    Path(subject): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    let deletion = deletion(&query);
    let versions = blocking(move || registry.delete_subject(&subject, deletion)).await?;
    Ok(ok(json!(versions)))
}

async fn delete_version(
    State(registry): Registry,
    Path((subject, version)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    let selector = VersionSelector::parse(&version)?;
    let deletion = deletion(&query);
    let deleted = blocking(move || registry.delete_version(&subject, selector, deletion)).await?;
    Ok(ok(json!(deleted)))
}

#[derive(Deserialize)]
struct ConfigRequest {
    compatibility: Option<String>,
    #[serde(rename = "compatibilityLevel")]
    compatibility_level: Option<String>,
}

impl ConfigRequest {
    fn level(body: &Bytes) -> Result<CompatibilityLevel, ApiError> {
        let request: ConfigRequest = parse_body(body)?;
        let name = request
            .compatibility
            .or(request.compatibility_level)
            .ok_or_else(|| {
                ApiError::from(Error::InvalidCompatibilityLevel {
                    value: "(missing `compatibility`)".into(),
                })
            })?;
        Ok(name.parse()?)
    }
}

async fn get_global_config(State(registry): Registry) -> ApiResult {
    Ok(ok(
        json!({"compatibilityLevel": registry.effective_level(None)}),
    ))
}

async fn put_global_config(State(registry): Registry, body: Bytes) -> ApiResult {
    let level = ConfigRequest::level(&body)?;
    blocking(move || registry.set_level(None, level)).await?;
    Ok(ok(json!({"compatibility": level})))
}

async fn get_subject_config(
    State(registry): Registry,
    Path(subject): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    let level = match registry.subject_level(&subject) {
        Some(level) => level,
        None if query.get("defaultToGlobal").is_some_and(|v| v == "true") => {
            registry.effective_level(None)
        }
        None => return Err(Error::SubjectCompatibilityNotConfigured { subject }.into()),
    };
    Ok(ok(json!({"compatibilityLevel": level})))
}

async fn put_subject_config(
    State(registry): Registry,
    Path(subject): Path<String>,
    body: Bytes,
) -> ApiResult {
    let level = ConfigRequest::level(&body)?;
    blocking(move || registry.set_level(Some(&subject), level)).await?;
    Ok(ok(json!({"compatibility": level})))
}
