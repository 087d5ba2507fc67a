//! A worker with its REST API on a free loopback port, over a real broker in a temp dir.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use sluice_broker::Broker;
use sluice_connect::registry::ConnectorRegistry;
use sluice_connect::rest::{RestState, router};
use sluice_connect::stores::schemas::open_schema_registry;
use sluice_connect::worker::Worker;
use sluice_connect::worker_config::{RuntimeSettings, WorkerConfig};

pub struct TestWorker {
    pub base: String,
    pub worker: Worker,
    pub http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
    stop_server: tokio::sync::oneshot::Sender<()>,
    pub dir: Arc<tempfile::TempDir>,
}

impl TestWorker {
    pub async fn start() -> TestWorker {
        Self::start_in(Arc::new(tempfile::tempdir().unwrap())).await
    }

    /// Starts a worker over an existing data directory (a "restart").
    pub async fn start_in(dir: Arc<tempfile::TempDir>) -> TestWorker {
        let mut registry = ConnectorRegistry::new();
        sluice_connect::builtin::register(&mut registry).unwrap();
        Self::start_with(dir, registry).await
    }

    /// Starts a worker over `dir` running the connectors of `registry` (e.g. test-only ones).
    pub async fn start_with(
        dir: Arc<tempfile::TempDir>,
        registry: ConnectorRegistry,
    ) -> TestWorker {
        // The broker as `sluice serve` configures it by default.
        let broker = Broker::open(dir.path(), WorkerConfig::default().broker_config())
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let settings = RuntimeSettings {
            offset_flush_interval_ms: 50,
            ..RuntimeSettings::default()
        };
        let schema_registry = open_schema_registry(&broker).await.unwrap();
        let worker = Worker::open(
            broker.clone(),
            Arc::new(registry),
            address.to_string(),
            settings,
            schema_registry,
        )
        .await
        .unwrap();
        worker.start_stored().await.unwrap();
        let state = Arc::new(RestState {
            broker,
            worker: worker.clone(),
            worker_id: address.to_string(),
        });
        let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, router(state))
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        TestWorker {
            base: format!("http://{address}"),
            worker,
            http: reqwest::Client::new(),
            server,
            stop_server,
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the connectors and the REST server, keeping the data directory.
    pub async fn shutdown(self) -> Arc<tempfile::TempDir> {
        self.worker.shutdown().await;
        // A graceful stop closes kept-alive connections too; their tasks hold the broker,
        // whose data directory lock the next worker needs.
        drop(self.http);
        let _ = self.stop_server.send(());
        let _ = self.server.await;
        drop(self.worker);
        self.dir
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.http.get(self.url(path)).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// POSTs `body` as JSON; the status and the JSON answer (null when it has none).
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Waits until `check` accepts the JSON at `path`, failing after `timeout`.
    pub async fn wait_for(
        &self,
        path: &str,
        timeout: Duration,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let (_, body) = self.get(path).await;
            if check(&body) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting on {path}; last answer: {body}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
