//! What the HTTP sink's end-to-end tests share: the real Python receiver (receiver.py)
//! started as a process, and a worker running in the test process over a real broker in a
//! temp dir with the HTTP sink registered.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use serde_json::{Value as Json, json};
use sluice_broker::{
    Broker, BrokerConfig, FetchLimits, FetchedRecord, Offset, PartitionChoice, PartitionId, Record,
    TopicConfig,
};
use sluice_connect::config::Props;
use sluice_connect::registry::ConnectorRegistry;
use sluice_connect::stores::TargetState;
use sluice_connect::stores::schemas::open_schema_registry;
use sluice_connect::worker::Worker;
use sluice_connect::worker_config::RuntimeSettings;

/// How long a test waits for a condition before failing.
pub const WAIT: Duration = Duration::from_secs(30);

/// One request as the receiver recorded it.
#[derive(Debug, Clone)]
pub struct Request {
    pub time: f64,
    pub method: String,
    pub headers: serde_json::Map<String, Json>,
    pub body: String,
    pub status: u16,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(Json::as_str)
    }

    pub fn key(&self) -> &str {
        self.header("idempotency-key").unwrap_or_default()
    }

    /// The events of the body (a JSON array, NDJSON or one event).
    pub fn events(&self) -> Vec<Json> {
        match serde_json::from_str::<Json>(&self.body) {
            Ok(Json::Array(events)) => events,
            Ok(event) => vec![event],
            Err(_) => self
                .body
                .lines()
                .filter(|line| !line.is_empty())
                .map(|line| serde_json::from_str(line).expect("an NDJSON line"))
                .collect(),
        }
    }
}

/// The Python receiver, as a child process.
#[derive(Debug)]
pub struct Receiver {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    tls: bool,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/receiver.py")
}

impl Receiver {
    pub fn start() -> anyhow::Result<Self> {
        Self::launch(0, tempfile::tempdir()?, false)
    }

    /// Serves HTTPS with a certificate of a fresh private CA (see [`Receiver::ca_file`]).
    pub fn start_tls() -> anyhow::Result<Self> {
        Self::launch(0, tempfile::tempdir()?, true)
    }

    fn launch(port: u16, dir: tempfile::TempDir, tls: bool) -> anyhow::Result<Self> {
        let mut command = Command::new("python3");
        command
            .arg(script())
            .args(["--port", &port.to_string(), "--log"])
            .arg(dir.path().join("requests.jsonl"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .stdin(Stdio::null());
        if tls {
            command.arg("--tls-dir").arg(dir.path());
        }
        let mut child = command
            .spawn()
            .context("cannot run python3 (the HTTP sink tests need it for their receiver)")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let Some(port) = line.trim().strip_prefix("LISTENING ") else {
            let _ = child.kill();
            bail!("receiver.py did not start (printed {line:?})");
        };
        Ok(Self {
            port: port.parse()?,
            child: Some(child),
            dir,
            tls,
        })
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}/ingest", self.port)
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Kills the receiver (connections are refused until [`Receiver::restart`]).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, keeping what it recorded.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir()?);
        let next = Self::launch(self.port, dir, self.tls)?;
        *self = next;
        Ok(())
    }

    /// Sets the answer rules (see receiver.py).
    pub async fn plan(&self, rules: Json) -> anyhow::Result<()> {
        let url = format!("http://127.0.0.1:{}/__control", self.port);
        let response = reqwest::Client::new()
            .post(url)
            .body(json!({ "rules": rules }).to_string())
            .send()
            .await?;
        anyhow::ensure!(
            response.status().as_u16() == 204,
            "control answered {}",
            response.status()
        );
        Ok(())
    }

    /// Every request recorded so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        let text =
            std::fs::read_to_string(self.dir.path().join("requests.jsonl")).unwrap_or_default();
        text.lines()
            .filter_map(|line| serde_json::from_str::<Json>(line).ok())
            .map(|entry| Request {
                time: entry["time"].as_f64().unwrap_or_default(),
                method: entry["method"].as_str().unwrap_or_default().to_string(),
                headers: entry["headers"].as_object().cloned().unwrap_or_default(),
                body: entry["body"].as_str().unwrap_or_default().to_string(),
                status: entry["status"].as_u64().unwrap_or_default() as u16,
            })
            .collect()
    }

    /// The requests answered 2xx.
    pub fn accepted(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .collect()
    }

    /// Waits until `check` holds for the recorded requests.
    pub async fn wait_for(&self, what: &str, check: impl Fn(&[Request]) -> bool) -> Vec<Request> {
        let deadline = Instant::now() + WAIT;
        loop {
            let requests = self.requests();
            if check(&requests) {
                return requests;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; {} requests recorded, statuses {:?}",
                requests.len(),
                requests.iter().map(|r| r.status).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The offsets of the events of accepted requests for one partition, in arrival order.
pub fn delivered_offsets(requests: &[Request], topic: &str, partition: i64) -> Vec<i64> {
    requests
        .iter()
        .filter(|r| (200..300).contains(&r.status))
        .flat_map(Request::events)
        .filter(|e| e["topic"] == topic && e["partition"] == partition)
        .map(|e| e["offset"].as_i64().unwrap_or(-1))
        .collect()
}

/// A worker in the test process with the HTTP sink registered.
pub struct TestWorker {
    pub worker: Worker,
    pub dir: tempfile::TempDir,
}

impl TestWorker {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let broker = Broker::open(dir.path(), BrokerConfig::default())
            .await
            .unwrap();
        let mut registry = ConnectorRegistry::new();
        sluice_connect::builtin::register(&mut registry).unwrap();
        sluice_http::register(&mut registry).unwrap();
        let settings = RuntimeSettings {
            offset_flush_interval_ms: 100,
            ..RuntimeSettings::default()
        };
        let schema_registry = open_schema_registry(&broker).await.unwrap();
        let worker = Worker::open(
            broker,
            Arc::new(registry),
            "test-worker".into(),
            settings,
            schema_registry,
        )
        .await
        .unwrap();
        Self { worker, dir }
    }

    pub fn broker(&self) -> &Broker {
        self.worker.broker()
    }

    pub async fn create_topic(&self, topic: &str, partitions: u32) {
        let config = TopicConfig {
            partitions,
            ..TopicConfig::default()
        };
        self.broker().create_topic(topic, config).await.unwrap();
    }

    /// Produces JSON values to one partition.
    pub async fn produce(
        &self,
        topic: &str,
        partition: i32,
        values: impl IntoIterator<Item = Json>,
    ) {
        let records = values
            .into_iter()
            .map(|v| Record::new(None, Some(Bytes::from(v.to_string()))))
            .collect();
        self.broker()
            .produce(
                topic,
                PartitionChoice::Explicit(PartitionId(partition)),
                records,
            )
            .await
            .unwrap();
    }

    /// Creates the HTTP sink `name` reading `topic` with schemaless JSON values, plus `extra`.
    pub async fn create_sink(&self, name: &str, topic: &str, url: &str, extra: &[(&str, &str)]) {
        let mut props: Props = [
            ("connector.class", "http"),
            ("topics", topic),
            ("http.url", url),
            (
                "value.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            ("value.converter.schemas.enable", "false"),
            (
                "key.converter",
                "org.apache.kafka.connect.storage.StringConverter",
            ),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (key, value) in extra {
            props.insert(key.to_string(), value.to_string());
        }
        self.worker
            .create(name, props, TargetState::Started)
            .await
            .unwrap_or_else(|e| panic!("create {name}: {e}"));
    }

    /// The offset committed by the sink `name` for one partition.
    pub fn committed(&self, name: &str, topic: &str, partition: i32) -> Option<i64> {
        let partition = sluice_broker::group::TopicPartition::new(topic, PartitionId(partition));
        self.broker()
            .groups()
            .committed_offset(&format!("connect-{name}"), &partition)
            .map(|c| c.offset.0)
    }

    pub async fn wait_committed(&self, name: &str, topic: &str, partition: i32, offset: i64) {
        let deadline = Instant::now() + WAIT;
        while self.committed(name, topic, partition) != Some(offset) {
            assert!(
                Instant::now() < deadline,
                "{name} never committed {offset} on {topic}-{partition} (at {:?}); status {:?}",
                self.committed(name, topic, partition),
                self.worker.status(name).await.ok()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The state of task 0 and its trace.
    pub async fn task_state(&self, name: &str) -> (String, String) {
        let status = self.worker.status(name).await.unwrap();
        let task = status.tasks.first();
        (
            task.map(|t| format!("{:?}", t.state)).unwrap_or_default(),
            task.and_then(|t| t.trace.clone()).unwrap_or_default(),
        )
    }

    /// Waits until task 0 is in `state` (`Running`, `Failed`, …).
    pub async fn wait_task_state(&self, name: &str, state: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let (now, trace) = self.task_state(name).await;
            if now.eq_ignore_ascii_case(state) {
                return trace;
            }
            assert!(
                Instant::now() < deadline,
                "task of {name} is {now}, not {state}: {trace}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The records of one partition of `topic` from offset 0, once it holds `count`.
    pub async fn read(&self, topic: &str, count: usize) -> Vec<FetchedRecord> {
        let deadline = Instant::now() + WAIT;
        loop {
            if self.broker().topic(topic).is_ok() {
                let limits = FetchLimits {
                    max_wait: Duration::from_millis(100),
                    ..FetchLimits::default()
                };
                let fetched = self
                    .broker()
                    .fetch(topic, PartitionId(0), Offset(0), limits)
                    .await
                    .unwrap();
                if fetched.records.len() >= count {
                    return fetched.records;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{topic} never held {count} records"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn shutdown(self) {
        self.worker.shutdown().await;
    }
}

/// The text of the last header `key` of a consumed record.
pub fn header<'a>(record: &'a FetchedRecord, key: &str) -> &'a str {
    let header = record.record.headers.iter().rev().find(|h| h.key == key);
    header
        .and_then(|h| h.value.as_deref())
        .and_then(|v| std::str::from_utf8(v).ok())
        .unwrap_or_else(|| panic!("no header {key} in {record:?}"))
}
