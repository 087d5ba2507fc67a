//! The client side of the registry: [`SchemaRegistryClient`], implemented by
//! [`EmbeddedRegistryClient`] (direct calls into an in-process [`SchemaRegistry`]) and
//! [`RemoteRegistryClient`] (Confluent REST over HTTP, for `schema.registry.url`). Both cache what
//! never changes: the id of a (subject, schema) pair and the schema text of an id.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use parking_lot::RwLock;
use serde::Deserialize;
use serde_json::json;

use super::{RegisteredSchema, SchemaFormat, SchemaId, SchemaRegistry, SubjectVersion};
use crate::{Error, Result};

/// A boxed future, so the trait stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a converter needs from a schema registry.
pub trait SchemaRegistryClient: Send + Sync + std::fmt::Debug {
    /// Registers `schema` (Avro JSON) under `subject`; returns its id.
    fn register<'a>(&'a self, subject: &'a str, schema: &'a str)
    -> BoxFuture<'a, Result<SchemaId>>;
    /// Finds `schema` among the versions of `subject` without registering it.
    fn lookup<'a>(
        &'a self,
        subject: &'a str,
        schema: &'a str,
    ) -> BoxFuture<'a, Result<RegisteredSchema>>;
    /// The schema text with id `id`.
    fn schema_by_id(&self, id: SchemaId) -> BoxFuture<'_, Result<Arc<str>>>;
}

/// Calls an in-process registry directly.
#[derive(Debug, Clone)]
pub struct EmbeddedRegistryClient {
    registry: Arc<SchemaRegistry>,
}

impl EmbeddedRegistryClient {
    pub fn new(registry: Arc<SchemaRegistry>) -> Self {
        Self { registry }
    }

    /// The registry this client calls.
    pub fn registry(&self) -> &Arc<SchemaRegistry> {
        &self.registry
    }
}

impl SchemaRegistryClient for EmbeddedRegistryClient {
    fn register<'a>(
        &'a self,
        subject: &'a str,
        schema: &'a str,
    ) -> BoxFuture<'a, Result<SchemaId>> {
        Box::pin(async move { self.registry.register(subject, schema, SchemaFormat::Avro) })
    }

    fn lookup<'a>(
        &'a self,
        subject: &'a str,
        schema: &'a str,
    ) -> BoxFuture<'a, Result<RegisteredSchema>> {
        Box::pin(async move { self.registry.lookup(subject, schema) })
    }

    fn schema_by_id(&self, id: SchemaId) -> BoxFuture<'_, Result<Arc<str>>> {
        Box::pin(async move { self.registry.schema_by_id(id).map(Arc::from) })
    }
}

/// HTTP basic-auth credentials for a remote registry (`basic.auth.user.info=user:password`).
/// `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicAuth {
    pub user: String,
    pub password: String,
}

impl BasicAuth {
    /// Parses Confluent's `user:password` form; `key` names the setting in the error.
    pub fn parse_user_info(key: &str, user_info: &str) -> Result<Self> {
        match user_info.split_once(':') {
            Some((user, password)) if !user.is_empty() => Ok(Self {
                user: user.to_owned(),
                password: password.to_owned(),
            }),
            _ => Err(Error::InvalidConfig {
                key: key.to_owned(),
                value: "[hidden]".to_owned(),
                reason: "use the form user:password".to_owned(),
            }),
        }
    }
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuth")
            .field("user", &self.user)
            .field("password", &"[hidden]")
            .finish()
    }
}

/// Talks to a Confluent-compatible registry (Sluice's own `/schema-registry` or Confluent's) over
/// HTTP, caching ids and schemas.
#[derive(Debug)]
pub struct RemoteRegistryClient {
    base_url: String,
    http: reqwest::Client,
    credentials: Option<BasicAuth>,
    ids: RwLock<HashMap<(String, String), SchemaId>>,
    schemas: RwLock<HashMap<SchemaId, Arc<str>>>,
}

#[derive(Deserialize)]
struct IdAnswer {
    id: SchemaId,
}

#[derive(Deserialize)]
struct SchemaAnswer {
    schema: String,
}

#[derive(Deserialize)]
struct RegisteredAnswer {
    subject: String,
    version: SubjectVersion,
    id: SchemaId,
    schema: String,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error_code: i64,
    message: String,
}

impl RemoteRegistryClient {
    /// A client for the registry at `base_url` (e.g. `http://127.0.0.1:8083/schema-registry`).
    pub fn new(base_url: &str) -> Result<Self> {
        let trimmed = base_url.trim().trim_end_matches('/');
        if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
            return Err(Error::InvalidRegistryUrl {
                url: base_url.into(),
                reason: "it must start with http:// or https://".into(),
            });
        }
        let http = reqwest::Client::builder()
            .build()
            .map_err(|source| Error::RegistryHttp {
                method: "INIT",
                url: trimmed.to_owned(),
                source,
            })?;
        Ok(Self {
            base_url: trimmed.to_owned(),
            http,
            credentials: None,
            ids: RwLock::default(),
            schemas: RwLock::default(),
        })
    }

    /// Sends HTTP basic-auth credentials with every request.
    pub fn with_basic_auth(mut self, credentials: BasicAuth) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The registry's base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// A path segment with everything but unreserved characters percent-encoded.
    fn segment(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for byte in text.bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                out.push(byte as char);
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
        out
    }

    async fn call<T: for<'de> Deserialize<'de>>(
        &self,
        method: &'static str,
        path: String,
        body: Option<serde_json::Value>,
    ) -> Result<T> {
        let url = format!("{}{path}", self.base_url);
        let mut request = match method {
            "POST" => self.http.post(&url),
            _ => self.http.get(&url),
        }
        .header(reqwest::header::ACCEPT, super::rest::CONTENT_TYPE);
        if let Some(credentials) = &self.credentials {
            request = request.basic_auth(&credentials.user, Some(&credentials.password));
        }
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, super::rest::CONTENT_TYPE)
                .body(body.to_string());
        }
        let http_error = |source| Error::RegistryHttp {
            method,
            url: url.clone(),
            source,
        };
        let response = request.send().await.map_err(http_error)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(http_error)?;
        if !status.is_success() {
            let (error_code, message) = match serde_json::from_slice::<ErrorAnswer>(&bytes) {
                Ok(answer) => (answer.error_code, answer.message),
                Err(_) => (
                    i64::from(status.as_u16()),
                    String::from_utf8_lossy(&bytes).into_owned(),
                ),
            };
            return Err(Error::RegistryResponse {
                method,
                url,
                status: status.as_u16(),
                error_code,
                message,
            });
        }
        serde_json::from_slice(&bytes).map_err(|source| Error::RegistryJson {
            context: format!("schema registry {method} {url} answered unexpected JSON"),
            source,
        })
    }
}

impl SchemaRegistryClient for RemoteRegistryClient {
    fn register<'a>(
        &'a self,
        subject: &'a str,
        schema: &'a str,
    ) -> BoxFuture<'a, Result<SchemaId>> {
        Box::pin(async move {
            let key = (subject.to_owned(), schema.to_owned());
            if let Some(id) = self.ids.read().get(&key) {
                return Ok(*id);
            }
            let path = format!("/subjects/{}/versions", Self::segment(subject));
            let answer: IdAnswer = self
                .call("POST", path, Some(json!({"schema": schema})))
                .await?;
            self.ids.write().insert(key, answer.id);
            self.schemas
                .write()
                .entry(answer.id)
                .or_insert_with(|| Arc::from(schema));
            Ok(answer.id)
        })
    }

    fn lookup<'a>(
        &'a self,
        subject: &'a str,
        schema: &'a str,
    ) -> BoxFuture<'a, Result<RegisteredSchema>> {
        Box::pin(async move {
            let path = format!("/subjects/{}", Self::segment(subject));
            let answer: RegisteredAnswer = self
                .call("POST", path, Some(json!({"schema": schema})))
                .await?;
            self.ids
                .write()
                .insert((subject.to_owned(), schema.to_owned()), answer.id);
            Ok(RegisteredSchema {
                subject: answer.subject,
                version: answer.version,
                id: answer.id,
                schema: answer.schema,
            })
        })
    }

    fn schema_by_id(&self, id: SchemaId) -> BoxFuture<'_, Result<Arc<str>>> {
        Box::pin(async move {
            if let Some(schema) = self.schemas.read().get(&id) {
                return Ok(schema.clone());
            }
            let answer: SchemaAnswer = self.call("GET", format!("/schemas/ids/{id}"), None).await?;
            let schema: Arc<str> = Arc::from(answer.schema);
            self.schemas.write().insert(id, schema.clone());
            Ok(schema)
        })
    }
}
