//! The embedded schema registry's storage in a compacted internal topic, `__sluice_schemas`
//! — Sluice's counterpart of Confluent's `_schemas` topic, with the same key and value
//! JSON — so registered schemas live (and are backed up) with the rest of the broker data.
//!
//! The registry's store interface is synchronous, so this writes through the broker's
//! synchronous storage core. Registrations are rare (once per new schema version), so the
//! short blocking append, fsync included, is acceptable on the caller's thread.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value as Json;
use sluice_broker::codec::batch::decode_records;
use sluice_broker::log::PartitionLog;
use sluice_broker::{Broker, CleanupPolicy, Offset, PartitionId, Record, TopicConfig};
use sluice_schemas::registry::store::StoreRecord;
use sluice_schemas::registry::{RegistryStore, SchemaRegistry};

use crate::error::{Error, Result};

/// The internal topic holding registered schemas and compatibility settings.
pub const SCHEMAS_TOPIC: &str = "__sluice_schemas";

/// A [`RegistryStore`] over one compacted broker partition.
#[derive(Debug)]
pub struct TopicRegistryStore {
    log: Arc<PartitionLog>,
}

impl TopicRegistryStore {
    /// Opens (creating if needed) the schemas topic.
    pub async fn open(broker: &Broker) -> Result<Self> {
        if !broker
            .list_topics()
            .iter()
            .any(|name| name == SCHEMAS_TOPIC)
        {
            let config = TopicConfig {
                partitions: 1,
                cleanup_policy: CleanupPolicy::Compact,
                retention_ms: -1,
                retention_bytes: -1,
                ..TopicConfig::default()
            };
            match broker.create_topic(SCHEMAS_TOPIC, config).await {
                Ok(()) | Err(sluice_broker::Error::TopicExists(_)) => {}
                Err(source) => return Err(store_error("create", source)),
            }
        }
        let log = broker
            .partition_log(SCHEMAS_TOPIC, PartitionId(0))
            .map_err(|source| store_error("open", source))?;
        Ok(Self { log })
    }
}

fn store_error(action: &str, source: sluice_broker::Error) -> Error {
    Error::Store {
        context: format!("cannot {action} internal topic {SCHEMAS_TOPIC}"),
        source,
    }
}

fn registry_error(context: String, source: Option<sluice_broker::Error>) -> sluice_schemas::Error {
    sluice_schemas::Error::Io {
        context,
        source: std::io::Error::other(
            source.map_or_else(|| "malformed record".to_string(), |e| e.to_string()),
        ),
    }
}

impl RegistryStore for TopicRegistryStore {
    fn append(&self, record: &StoreRecord) -> sluice_schemas::Result<()> {
        let key = Bytes::from(record.key_json().to_string());
        let value = record
            .value_json()
            .map(|value| Bytes::from(value.to_string()));
        self.log
            .append(&[Record::new(Some(key), value)])
            .map(drop)
            .map_err(|source| {
                registry_error(format!("cannot append to {SCHEMAS_TOPIC}"), Some(source))
            })
    }

    fn replay(&self) -> sluice_schemas::Result<Vec<StoreRecord>> {
        let mut records = Vec::new();
        let mut offset = self.log.log_start_offset();
        loop {
            let read = self.log.read(offset, 4 * 1024 * 1024).map_err(|source| {
                registry_error(format!("cannot read {SCHEMAS_TOPIC}"), Some(source))
            })?;
            if read.batches.is_empty() {
                return Ok(records);
            }
            for batch in &read.batches {
                let decoded = decode_records(&batch.bytes).map_err(|error| {
                    registry_error(format!("corrupt batch in {SCHEMAS_TOPIC}: {error}"), None)
                })?;
                for fetched in decoded {
                    offset = Offset(fetched.offset.0 + 1);
                    let Some(key) = fetched.record.key else {
                        continue;
                    };
                    let parse = |bytes: &[u8]| serde_json::from_slice::<Json>(bytes);
                    let key = parse(&key).map_err(|error| {
                        registry_error(format!("unreadable key in {SCHEMAS_TOPIC}: {error}"), None)
                    })?;
                    let value = fetched
                        .record
                        .value
                        .as_deref()
                        .map(parse)
                        .transpose()
                        .map_err(|error| {
                            registry_error(
                                format!("unreadable value in {SCHEMAS_TOPIC}: {error}"),
                                None,
                            )
                        })?;
                    if let Some(record) = StoreRecord::from_json(&key, value.as_ref())
                        .map_err(|reason| registry_error(reason, None))?
                    {
                        records.push(record);
                    }
                }
            }
            if offset >= read.high_watermark {
                return Ok(records);
            }
        }
    }
}

/// The worker's embedded schema registry, stored in [`SCHEMAS_TOPIC`].
pub async fn open_schema_registry(broker: &Broker) -> Result<Arc<SchemaRegistry>> {
    let store = TopicRegistryStore::open(broker).await?;
    let registry = SchemaRegistry::open(Arc::new(store)).map_err(|source| Error::Conversion {
        topic: SCHEMAS_TOPIC.into(),
        part: "schema registry",
        source: Box::new(source),
    })?;
    Ok(Arc::new(registry))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_broker::BrokerConfig;
    use sluice_schemas::registry::SchemaFormat;

    const SCHEMA: &str = r#"{"type":"record","name":"T","fields":[{"name":"a","type":"int"}]}"#;

    #[tokio::test]
    async fn registered_schemas_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let id = {
            let broker = Broker::open(dir.path(), BrokerConfig::default())
                .await
                .unwrap();
            let registry = open_schema_registry(&broker).await.unwrap();
            registry
                .register("t-value", SCHEMA, SchemaFormat::Avro)
                .unwrap()
        };
        let broker = Broker::open(dir.path(), BrokerConfig::default())
            .await
            .unwrap();
        let registry = open_schema_registry(&broker).await.unwrap();
        assert_eq!(
            registry
                .register("t-value", SCHEMA, SchemaFormat::Avro)
                .unwrap(),
            id
        );
        assert_eq!(registry.subjects(), vec!["t-value".to_string()]);
    }
}
