//! Source offsets per connector, kept like Kafka Connect's offset storage topic: the key is
//! the JSON array `["<connector>", {<source partition>}]`, the value the JSON offset map
//! (or a tombstone when the offset is reset). Readable and editable through the KIP-875
//! `/connectors/{name}/offsets` endpoints.

use bytes::Bytes;
use serde_json::{Map, Value as Json};
use sluice_broker::Broker;

use super::compacted::CompactedTable;
use crate::error::{Error, Result};

/// The internal topic holding source offsets.
pub const OFFSETS_TOPIC: &str = "__sluice_offsets";

/// A source partition or offset: a JSON object, as Kafka Connect's `Map<String, ?>`.
pub type JsonMap = Map<String, Json>;

/// Durable source offsets of every connector.
#[derive(Debug)]
pub struct OffsetStore {
    table: CompactedTable,
}

impl OffsetStore {
    pub async fn open(broker: &Broker) -> Result<Self> {
        Ok(Self {
            table: CompactedTable::open(broker, OFFSETS_TOPIC).await?,
        })
    }

    /// The stored offset of one source partition of `connector`.
    pub fn get(&self, connector: &str, partition: &JsonMap) -> Result<Option<JsonMap>> {
        self.table
            .get(&offset_key(connector, partition))
            .map(|bytes| decode_offset(&bytes))
            .transpose()
    }

    /// Every stored (partition, offset) pair of `connector`.
    pub fn connector_offsets(&self, connector: &str) -> Result<Vec<(JsonMap, JsonMap)>> {
        self.table
            .scan_prefix(&connector_prefix(connector))
            .into_iter()
            .map(|(key, value)| Ok((decode_partition(&key)?, decode_offset(&value)?)))
            .collect()
    }

    /// Stores offsets for several partitions at once (one append: all or none). `None`
    /// removes a partition's offset.
    pub async fn put(&self, connector: &str, offsets: &[(JsonMap, Option<JsonMap>)]) -> Result<()> {
        self.table.put_all(offset_writes(connector, offsets)).await
    }

    /// Removes every stored offset of `connector` (KIP-875 `DELETE …/offsets`) and starts a
    /// new offset epoch, so records the connector emits again are not taken for replays.
    pub async fn reset(&self, connector: &str) -> Result<()> {
        let mut writes: Vec<_> = self
            .table
            .scan_prefix(&connector_prefix(connector))
            .into_iter()
            .map(|(key, _)| (key, None))
            .collect();
        writes.push(self.next_epoch(connector));
        self.table.put_all(writes).await
    }

    /// Replaces offsets set by a user (KIP-875 `PATCH …/offsets`), in a new offset epoch.
    pub async fn rewrite(
        &self,
        connector: &str,
        offsets: &[(JsonMap, Option<JsonMap>)],
    ) -> Result<()> {
        let mut writes = offset_writes(connector, offsets);
        writes.push(self.next_epoch(connector));
        self.table.put_all(writes).await
    }

    /// How many times the user reset or rewrote `connector`'s offsets. Records written in
    /// an earlier epoch are never compared with positions of a later one.
    pub fn epoch(&self, connector: &str) -> u64 {
        self.table
            .get(epoch_key(connector).as_bytes())
            .and_then(|bytes| std::str::from_utf8(&bytes).ok()?.parse().ok())
            .unwrap_or(0)
    }

    fn next_epoch(&self, connector: &str) -> (Bytes, Option<Bytes>) {
        let next = self.epoch(connector) + 1;
        (
            Bytes::from(epoch_key(connector)),
            Some(Bytes::from(next.to_string())),
        )
    }
}

/// The table writes storing `offsets` (`None` removes a partition's offset).
fn offset_writes(
    connector: &str,
    offsets: &[(JsonMap, Option<JsonMap>)],
) -> Vec<(Bytes, Option<Bytes>)> {
    offsets
        .iter()
        .map(|(partition, offset)| {
            let value = offset
                .as_ref()
                .map(|offset| Bytes::from(Json::Object(sorted(offset)).to_string()));
            (Bytes::from(offset_key(connector, partition)), value)
        })
        .collect()
}

/// Epoch keys do not start with `[`, so they never match a connector's offset prefix.
fn epoch_key(connector: &str) -> String {
    format!("epoch:{connector}")
}

/// Key order inside a partition map must not matter, so keys are written sorted.
fn sorted(map: &JsonMap) -> JsonMap {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
        .into_iter()
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

fn offset_key(connector: &str, partition: &JsonMap) -> Vec<u8> {
    Json::Array(vec![
        Json::String(connector.to_string()),
        Json::Object(sorted(partition)),
    ])
    .to_string()
    .into_bytes()
}

/// The serialized key's opening, `["<connector>",`, shared by all its partitions.
fn connector_prefix(connector: &str) -> Vec<u8> {
    format!("[{},", Json::String(connector.to_string())).into_bytes()
}

fn decode_partition(key: &[u8]) -> Result<JsonMap> {
    match serde_json::from_slice::<Json>(key) {
        Ok(Json::Array(mut parts)) if parts.len() == 2 => match parts.pop() {
            Some(Json::Object(partition)) => Ok(partition),
            _ => Err(corrupt(key)),
        },
        _ => Err(corrupt(key)),
    }
}

fn decode_offset(value: &[u8]) -> Result<JsonMap> {
    match serde_json::from_slice::<Json>(value) {
        Ok(Json::Object(offset)) => Ok(offset),
        _ => Err(corrupt(value)),
    }
}

fn corrupt(bytes: &[u8]) -> Error {
    Error::CorruptStoreRecord {
        topic: OFFSETS_TOPIC.into(),
        record: String::from_utf8_lossy(bytes).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sluice_broker::BrokerConfig;

    fn map(value: Json) -> JsonMap {
        value.as_object().unwrap().clone()
    }

    #[tokio::test]
    async fn offsets_round_trip_per_connector_and_reset() {
        let dir = tempfile::tempdir().unwrap();
        let broker = Broker::open(dir.path(), BrokerConfig::default())
            .await
            .unwrap();
        let store = OffsetStore::open(&broker).await.unwrap();
        let partition = map(json!({"server": "db1", "a": 1}));
        let reordered = map(json!({"a": 1, "server": "db1"}));
        store
            .put("pg", &[(partition.clone(), Some(map(json!({"lsn": 42}))))])
            .await
            .unwrap();
        store
            .put("pg2", &[(partition.clone(), Some(map(json!({"lsn": 7}))))])
            .await
            .unwrap();
        assert_eq!(store.get("pg", &reordered).unwrap().unwrap()["lsn"], 42);
        assert_eq!(store.connector_offsets("pg").unwrap().len(), 1);

        drop(store);
        let store = OffsetStore::open(&broker).await.unwrap();
        assert_eq!(store.get("pg2", &partition).unwrap().unwrap()["lsn"], 7);
        assert_eq!(store.epoch("pg"), 0);
        store.reset("pg").await.unwrap();
        assert!(store.get("pg", &partition).unwrap().is_none());
        assert_eq!(store.epoch("pg"), 1);
        assert_eq!(store.epoch("pg2"), 0);
        assert_eq!(store.connector_offsets("pg2").unwrap().len(), 1);
    }
}
