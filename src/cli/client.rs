//! Talking to a running worker's REST API from the client commands: where it is
//! (`--server`, `SLUICE_SERVER`), and errors that say what to do.

use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::Args;
use serde_json::Value;

/// Where the worker's REST API is.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Base URL of the worker's REST API.
    #[arg(long, env = "SLUICE_SERVER", default_value = "http://127.0.0.1:8083")]
    pub server: String,
}

/// Runs a client command on a small runtime of its own.
pub fn block_on(
    command: impl std::future::Future<Output = anyhow::Result<ExitCode>>,
) -> anyhow::Result<ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(command)
}

/// A thin JSON client for one worker.
#[derive(Debug, Clone)]
pub struct RestClient {
    base: String,
    http: reqwest::Client,
}

impl RestClient {
    pub fn new(server: &ServerArgs) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Self {
            base: server.server.trim_end_matches('/').to_string(),
            http,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.send(self.http.get(self.url(path))).await
    }

    /// A plain-text resource such as `/metrics`.
    pub async fn get_text(&self, path: &str) -> anyhow::Result<String> {
        let response = self
            .http
            .get(self.url(path))
            .send()
            .await
            .with_context(|| format!("cannot reach the Sluice worker at {}", self.base))?;
        Ok(response.text().await?)
    }

    pub async fn put(&self, path: &str) -> anyhow::Result<Value> {
        self.send(self.http.put(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.send(self.http.post(self.url(path)).json(body)).await
    }

    pub async fn delete(&self, path: &str) -> anyhow::Result<Value> {
        self.send(self.http.delete(self.url(path))).await
    }

    /// Sends a request; a non-2xx answer becomes an error carrying the worker's message.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let response = request.send().await.map_err(|error| {
            anyhow!(
                "cannot reach the Sluice worker at {}: {error}; start one with `sluice serve` \
                 or point --server / SLUICE_SERVER at it",
                self.base
            )
        })?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .with_context(|| format!("reading the answer from {}", self.base))?;
        let body: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        if status.is_success() {
            return Ok(body);
        }
        let message = body
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| body.to_string());
        Err(anyhow!("{message} (HTTP {})", status.as_u16()))
    }
}
