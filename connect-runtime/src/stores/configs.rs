//! Connector configurations and target states, kept like Kafka Connect's config storage
//! topic: `connector-<name>` → `{"properties": {…}}` and `target-state-<name>` →
//! `{"state": "STARTED" | "PAUSED" | "STOPPED"}`. Both survive a worker restart, so a
//! paused or stopped connector stays so.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sluice_broker::Broker;

use super::compacted::CompactedTable;
use crate::config::Props;
use crate::error::{Error, Result};

/// The internal topic holding connector configurations.
pub const CONFIGS_TOPIC: &str = "__sluice_configs";

const CONNECTOR_PREFIX: &str = "connector-";
const TARGET_STATE_PREFIX: &str = "target-state-";

/// What the user asked a connector to be doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum TargetState {
    #[default]
    Started,
    Paused,
    Stopped,
}

#[derive(Serialize, Deserialize)]
struct StoredConfig {
    properties: Props,
}

#[derive(Serialize, Deserialize)]
struct StoredTargetState {
    state: TargetState,
}

/// Durable connector configurations.
#[derive(Debug)]
pub struct ConfigStore {
    table: CompactedTable,
}

impl ConfigStore {
    pub async fn open(broker: &Broker) -> Result<Self> {
        Ok(Self {
            table: CompactedTable::open(broker, CONFIGS_TOPIC).await?,
        })
    }

    /// Every stored connector with its properties, by name.
    pub fn connectors(&self) -> Result<BTreeMap<String, Props>> {
        self.table
            .scan_prefix(CONNECTOR_PREFIX.as_bytes())
            .into_iter()
            .map(|(key, value)| {
                let name = String::from_utf8_lossy(&key[CONNECTOR_PREFIX.len()..]).into_owned();
                let stored: StoredConfig = decode(&key, &value)?;
                Ok((name, stored.properties))
            })
            .collect()
    }

    pub fn get(&self, name: &str) -> Result<Option<Props>> {
        let key = connector_key(name);
        self.table
            .get(key.as_bytes())
            .map(|value| decode::<StoredConfig>(key.as_bytes(), &value).map(|s| s.properties))
            .transpose()
    }

    pub async fn put(&self, name: &str, properties: &Props) -> Result<()> {
        let value = serde_json::to_vec(&StoredConfig {
            properties: properties.clone(),
        })
        .map_err(encode_error)?;
        self.table
            .put(connector_key(name).into(), Some(Bytes::from(value)))
            .await
    }

    /// The requested state; connectors never paused or stopped are `Started`.
    pub fn target_state(&self, name: &str) -> Result<TargetState> {
        let key = target_state_key(name);
        match self.table.get(key.as_bytes()) {
            Some(value) => Ok(decode::<StoredTargetState>(key.as_bytes(), &value)?.state),
            None => Ok(TargetState::Started),
        }
    }

    pub async fn put_target_state(&self, name: &str, state: TargetState) -> Result<()> {
        let value = serde_json::to_vec(&StoredTargetState { state }).map_err(encode_error)?;
        self.table
            .put(target_state_key(name).into(), Some(Bytes::from(value)))
            .await
    }

    /// Removes the connector's configuration and target state (offsets stay, as in Kafka
    /// Connect, so a re-created connector resumes).
    pub async fn remove(&self, name: &str) -> Result<()> {
        self.table
            .put_all(vec![
                (connector_key(name).into(), None),
                (target_state_key(name).into(), None),
            ])
            .await
    }
}

fn connector_key(name: &str) -> String {
    format!("{CONNECTOR_PREFIX}{name}")
}

fn target_state_key(name: &str) -> String {
    format!("{TARGET_STATE_PREFIX}{name}")
}

fn decode<T: for<'de> Deserialize<'de>>(key: &[u8], value: &[u8]) -> Result<T> {
    serde_json::from_slice(value).map_err(|_| Error::CorruptStoreRecord {
        topic: CONFIGS_TOPIC.into(),
        record: format!(
            "{} = {}",
            String::from_utf8_lossy(key),
            String::from_utf8_lossy(value)
        ),
    })
}

fn encode_error(source: serde_json::Error) -> Error {
    Error::MalformedConfig {
        reason: "cannot encode the configuration".into(),
        source: Some(source),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_broker::BrokerConfig;

    #[tokio::test]
    async fn configs_and_states_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut props = Props::new();
        props.insert("connector.class".into(), "postgres".into());
        {
            let broker = Broker::open(dir.path(), BrokerConfig::default())
                .await
                .unwrap();
            let store = ConfigStore::open(&broker).await.unwrap();
            store.put("a", &props).await.unwrap();
            store.put("b", &props).await.unwrap();
            store
                .put_target_state("a", TargetState::Stopped)
                .await
                .unwrap();
            store.remove("b").await.unwrap();
        }
        let broker = Broker::open(dir.path(), BrokerConfig::default())
            .await
            .unwrap();
        let store = ConfigStore::open(&broker).await.unwrap();
        let connectors = store.connectors().unwrap();
        assert_eq!(connectors.keys().collect::<Vec<_>>(), ["a"]);
        assert_eq!(connectors["a"], props);
        assert_eq!(store.target_state("a").unwrap(), TargetState::Stopped);
        assert_eq!(store.target_state("b").unwrap(), TargetState::Started);
        // "connector-" prefix scanning must not pick up target-state keys.
        assert!(store.get("b").unwrap().is_none());
    }
}
