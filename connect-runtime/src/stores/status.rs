//! Connector and task states, kept like Kafka Connect's status storage topic:
//! `status-connector-<name>` and `status-task-<name>-<id>` → `{"state", "trace",
//! "worker_id", "generation"}`. The REST `/status` endpoints read them.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sluice_broker::Broker;

use super::compacted::CompactedTable;
use crate::error::{Error, Result};

/// The internal topic holding statuses.
pub const STATUS_TOPIC: &str = "__sluice_status";

/// A connector's or task's state, as Kafka Connect names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    Unassigned,
    Running,
    Paused,
    Stopped,
    Failed,
    Restarting,
}

/// One stored status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub state: State,
    /// Why it failed: the error and its causes, for `FAILED`.
    pub trace: Option<String>,
    pub worker_id: String,
    pub generation: u64,
}

/// Durable statuses of connectors and their tasks.
#[derive(Debug)]
pub struct StatusStore {
    table: CompactedTable,
}

impl StatusStore {
    pub async fn open(broker: &Broker) -> Result<Self> {
        Ok(Self {
            table: CompactedTable::open(broker, STATUS_TOPIC).await?,
        })
    }

    pub fn connector(&self, name: &str) -> Result<Option<Status>> {
        self.read(&connector_key(name))
    }

    pub fn task(&self, name: &str, task: u32) -> Result<Option<Status>> {
        self.read(&task_key(name, task))
    }

    /// Every stored task status of `name`, by task id.
    pub fn tasks(&self, name: &str) -> Result<Vec<(u32, Status)>> {
        let prefix = format!("status-task-{name}-");
        let mut tasks = Vec::new();
        for (key, value) in self.table.scan_prefix(prefix.as_bytes()) {
            // Another connector named "<name>-x" shares the prefix; only digits follow ours.
            let Ok(id) = std::str::from_utf8(&key[prefix.len()..])
                .unwrap_or_default()
                .parse::<u32>()
            else {
                continue;
            };
            tasks.push((id, decode(&key, &value)?));
        }
        tasks.sort_by_key(|(id, _)| *id);
        Ok(tasks)
    }

    pub async fn put_connector(&self, name: &str, status: &Status) -> Result<()> {
        self.write(connector_key(name), Some(status)).await
    }

    pub async fn put_task(&self, name: &str, task: u32, status: &Status) -> Result<()> {
        self.write(task_key(name, task), Some(status)).await
    }

    /// Forgets a deleted connector's statuses.
    pub async fn remove(&self, name: &str) -> Result<()> {
        let mut writes = vec![(Bytes::from(connector_key(name)), None)];
        for (id, _) in self.tasks(name)? {
            writes.push((Bytes::from(task_key(name, id)), None));
        }
        self.table.put_all(writes).await
    }

    fn read(&self, key: &str) -> Result<Option<Status>> {
        self.table
            .get(key.as_bytes())
            .map(|value| decode(key.as_bytes(), &value))
            .transpose()
    }

    async fn write(&self, key: String, status: Option<&Status>) -> Result<()> {
        let value = status
            .map(|status| serde_json::to_vec(status).map(Bytes::from))
            .transpose()
            .map_err(|source| Error::MalformedConfig {
                reason: "cannot encode a status".into(),
                source: Some(source),
            })?;
        self.table.put(Bytes::from(key), value).await
    }
}

fn connector_key(name: &str) -> String {
    format!("status-connector-{name}")
}

fn task_key(name: &str, task: u32) -> String {
    format!("status-task-{name}-{task}")
}

fn decode(key: &[u8], value: &[u8]) -> Result<Status> {
    serde_json::from_slice(value).map_err(|_| Error::CorruptStoreRecord {
        topic: STATUS_TOPIC.into(),
        record: format!(
            "{} = {}",
            String::from_utf8_lossy(key),
            String::from_utf8_lossy(value)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_broker::BrokerConfig;

    fn status(state: State) -> Status {
        Status {
            state,
            trace: None,
            worker_id: "127.0.0.1:8083".into(),
            generation: 1,
        }
    }

    #[tokio::test]
    async fn statuses_per_connector_and_task() {
        let dir = tempfile::tempdir().unwrap();
        let broker = Broker::open(dir.path(), BrokerConfig::default())
            .await
            .unwrap();
        let store = StatusStore::open(&broker).await.unwrap();
        store
            .put_connector("pg", &status(State::Running))
            .await
            .unwrap();
        store
            .put_task("pg", 0, &status(State::Running))
            .await
            .unwrap();
        store
            .put_task("pg", 1, &status(State::Failed))
            .await
            .unwrap();
        store
            .put_task("pg-x", 0, &status(State::Paused))
            .await
            .unwrap();
        let tasks = store.tasks("pg").unwrap();
        assert_eq!(tasks.len(), 2);
        assert_eq!(tasks[1].1.state, State::Failed);
        store.remove("pg").await.unwrap();
        assert!(store.connector("pg").unwrap().is_none());
        assert!(store.tasks("pg").unwrap().is_empty());
        assert_eq!(store.tasks("pg-x").unwrap().len(), 1);
    }
}
