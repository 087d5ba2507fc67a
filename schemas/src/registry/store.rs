//! Durable storage for the registry: an append-only log of key/value records shaped like the
//! records of Confluent's `_schemas` topic, so the runtime can later keep them in a compacted
//! broker topic. [`FileRegistryStore`] keeps them as fsynced JSON lines; [`MemoryRegistryStore`]
//! keeps them in memory (for converters that need no persistence, and tests).

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use super::{CompatibilityLevel, SchemaId, SubjectVersion};
use crate::{Error, Result};

/// The key of one registry record (Confluent's `SchemaRegistryKey`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryKey {
    /// A schema version of a subject.
    Schema {
        subject: String,
        version: SubjectVersion,
    },
    /// The compatibility level of one subject, or the global one (`subject: None`).
    Config { subject: Option<String> },
}

/// The value of a schema record (Confluent's `SchemaValue`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaValue {
    pub subject: String,
    pub version: SubjectVersion,
    pub id: SchemaId,
    pub schema: String,
    #[serde(default)]
    pub deleted: bool,
}

/// The value of a config record (Confluent's `ConfigValue`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigValue {
    #[serde(rename = "compatibilityLevel")]
    pub compatibility_level: CompatibilityLevel,
}

/// One record of the registry log; a `None` value is a tombstone (deletes the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreRecord {
    Schema {
        key: (String, SubjectVersion),
        value: Option<SchemaValue>,
    },
    Config {
        subject: Option<String>,
        value: Option<ConfigValue>,
    },
}

impl StoreRecord {
    /// The record's key.
    pub fn key(&self) -> RegistryKey {
        match self {
            Self::Schema { key, .. } => RegistryKey::Schema {
                subject: key.0.clone(),
                version: key.1,
            },
            Self::Config { subject, .. } => RegistryKey::Config {
                subject: subject.clone(),
            },
        }
    }

    /// The key as Confluent writes it: `{"keytype":"SCHEMA","subject":…,"version":…,"magic":1}`.
    pub fn key_json(&self) -> Json {
        match self.key() {
            RegistryKey::Schema { subject, version } => {
                json!({"keytype": "SCHEMA", "subject": subject, "version": version, "magic": 1})
            }
            RegistryKey::Config { subject } => {
                json!({"keytype": "CONFIG", "subject": subject, "magic": 0})
            }
        }
    }

    /// The value as Confluent writes it, `None` for a tombstone.
    pub fn value_json(&self) -> Option<Json> {
        let value = match self {
            Self::Schema { value, .. } => value.as_ref().map(serde_json::to_value),
            Self::Config { value, .. } => value.as_ref().map(serde_json::to_value),
        };
        value.map(|v| v.expect("registry values always serialize"))
    }

    /// Rebuilds a record from its key and value JSON (as stored in a `_schemas`-like topic).
    /// Returns `Ok(None)` for key types the registry does not use (e.g. Confluent's `NOOP`).
    pub fn from_json(key: &Json, value: Option<&Json>) -> Result<Option<Self>, String> {
        let keytype = key
            .get("keytype")
            .and_then(Json::as_str)
            .ok_or("key has no `keytype`")?;
        let subject = key.get("subject").and_then(Json::as_str).map(str::to_owned);
        match keytype {
            "SCHEMA" => {
                let subject = subject.ok_or("SCHEMA key has no `subject`")?;
                let version = key
                    .get("version")
                    .and_then(Json::as_u64)
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or("SCHEMA key has no valid `version`")?;
                let value = value
                    .map(|v| serde_json::from_value::<SchemaValue>(v.clone()))
                    .transpose()
                    .map_err(|e| format!("SCHEMA value: {e}"))?;
                Ok(Some(Self::Schema {
                    key: (subject, SubjectVersion(version)),
                    value,
                }))
            }
            "CONFIG" => {
                let value = value
                    .map(|v| serde_json::from_value::<ConfigValue>(v.clone()))
                    .transpose()
                    .map_err(|e| format!("CONFIG value: {e}"))?;
                Ok(Some(Self::Config { subject, value }))
            }
            _ => Ok(None),
        }
    }
}

/// Where the registry keeps its records. Implementations must make `append` durable before
/// returning and `replay` must return records in append order.
///
/// To keep them in a compacted topic (as Confluent keeps `_schemas`): write
/// [`StoreRecord::key_json`] as the record key and [`StoreRecord::value_json`] as its value (`None`
/// is a tombstone), and rebuild records with [`StoreRecord::from_json`] when replaying the topic
/// from its start; compaction keeps the latest value per key, which is all the registry needs.
pub trait RegistryStore: Send + Sync + fmt::Debug {
    /// Appends one record durably.
    fn append(&self, record: &StoreRecord) -> Result<()>;
    /// Every record appended so far, oldest first.
    fn replay(&self) -> Result<Vec<StoreRecord>>;
}

/// Keeps records in memory only; a restart forgets them.
#[derive(Debug, Default)]
pub struct MemoryRegistryStore {
    records: Mutex<Vec<StoreRecord>>,
}

impl MemoryRegistryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

impl RegistryStore for MemoryRegistryStore {
    fn append(&self, record: &StoreRecord) -> Result<()> {
        self.records.lock().push(record.clone());
        Ok(())
    }

    fn replay(&self) -> Result<Vec<StoreRecord>> {
        Ok(self.records.lock().clone())
    }
}

/// Keeps records as JSON lines `{"key":…,"value":…}` in one file, fsynced after each append.
/// A torn last line (a crash mid-append) is cut off when the store is opened.
#[derive(Debug)]
pub struct FileRegistryStore {
    path: PathBuf,
    file: Mutex<File>,
}

impl FileRegistryStore {
    /// Opens (creating if needed) the log at `path`, repairing a torn tail.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|source| Error::Io {
                context: format!("creating schema registry directory {}", parent.display()),
                source,
            })?;
        }
        let io_error = |what: &str, source| Error::Io {
            context: format!("{what} schema registry log {}", path.display()),
            source,
        };
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| io_error("opening", e))?;
        let contents = fs::read(&path).map_err(|e| io_error("reading", e))?;
        if let Some(last_newline) = contents.iter().rposition(|b| *b == b'\n') {
            if last_newline + 1 != contents.len() {
                tracing::warn!(path = %path.display(), "cutting a torn record off the schema registry log");
                file.set_len(last_newline as u64 + 1)
                    .map_err(|e| io_error("repairing", e))?;
            }
        } else if !contents.is_empty() {
            tracing::warn!(path = %path.display(), "cutting a torn record off the schema registry log");
            file.set_len(0).map_err(|e| io_error("repairing", e))?;
        }
        Ok(Self {
            path,
            file: Mutex::new(file),
        })
    }

    /// The log file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl RegistryStore for FileRegistryStore {
    fn append(&self, record: &StoreRecord) -> Result<()> {
        let mut line =
            serde_json::to_vec(&json!({"key": record.key_json(), "value": record.value_json()}))
                .expect("registry records always serialize");
        line.push(b'\n');
        let mut file = self.file.lock();
        let io_error = |source| Error::Io {
            context: format!("appending to schema registry log {}", self.path.display()),
            source,
        };
        file.write_all(&line).map_err(io_error)?;
        file.sync_data().map_err(io_error)
    }

    fn replay(&self) -> Result<Vec<StoreRecord>> {
        let file = File::open(&self.path).map_err(|source| Error::Io {
            context: format!("reading schema registry log {}", self.path.display()),
            source,
        })?;
        let location = self.path.display().to_string();
        let mut records = Vec::new();
        for (index, line) in BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|source| Error::Io {
                context: format!("reading schema registry log {location}"),
                source,
            })?;
            if line.trim().is_empty() {
                continue;
            }
            let corrupt = |reason: String| Error::CorruptRegistryStore {
                location: location.clone(),
                record: index + 1,
                reason,
            };
            let entry: Json = serde_json::from_str(&line).map_err(|e| corrupt(e.to_string()))?;
            let key = entry.get("key").ok_or_else(|| corrupt("no `key`".into()))?;
            let value = entry.get("value").filter(|v| !v.is_null());
            if let Some(record) = StoreRecord::from_json(key, value).map_err(corrupt)? {
                records.push(record);
            }
        }
        Ok(records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_record(subject: &str, version: u32, id: u32) -> StoreRecord {
        StoreRecord::Schema {
            key: (subject.into(), SubjectVersion(version)),
            value: Some(SchemaValue {
                subject: subject.into(),
                version: SubjectVersion(version),
                id: SchemaId(id),
                schema: "\"string\"".into(),
                deleted: false,
            }),
        }
    }

    #[test]
    fn records_use_confluents_key_and_value_shapes() {
        let record = schema_record("t-value", 2, 7);
        assert_eq!(
            record.key_json(),
            json!({"keytype":"SCHEMA","subject":"t-value","version":2,"magic":1})
        );
        assert_eq!(
            record.value_json().unwrap(),
            json!({"subject":"t-value","version":2,"id":7,"schema":"\"string\"","deleted":false})
        );
        let config = StoreRecord::Config {
            subject: None,
            value: Some(ConfigValue {
                compatibility_level: CompatibilityLevel::Full,
            }),
        };
        assert_eq!(
            config.key_json(),
            json!({"keytype":"CONFIG","subject":null,"magic":0})
        );
        assert_eq!(
            config.value_json().unwrap(),
            json!({"compatibilityLevel":"FULL"})
        );
        let back = StoreRecord::from_json(&config.key_json(), config.value_json().as_ref());
        assert_eq!(back.unwrap(), Some(config));
    }

    #[test]
    fn file_store_survives_reopen_and_cuts_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry/schemas.jsonl");
        {
            let store = FileRegistryStore::open(&path).unwrap();
            store.append(&schema_record("a-value", 1, 1)).unwrap();
            store.append(&schema_record("b-value", 1, 2)).unwrap();
        }
        // Simulate a crash in the middle of a third append.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"key":{"keytype":"SCH"#).unwrap();
        drop(file);
        let store = FileRegistryStore::open(&path).unwrap();
        let records = store.replay().unwrap();
        assert_eq!(
            records,
            vec![
                schema_record("a-value", 1, 1),
                schema_record("b-value", 1, 2)
            ]
        );
        store.append(&schema_record("c-value", 1, 3)).unwrap();
        assert_eq!(store.replay().unwrap().len(), 3);
    }

    #[test]
    fn a_corrupt_middle_record_is_reported_with_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schemas.jsonl");
        fs::write(&path, "{\"key\":{\"keytype\":\"SCHEMA\"},\"value\":null}\n").unwrap();
        let store = FileRegistryStore::open(&path).unwrap();
        let error = store.replay().unwrap_err().to_string();
        assert!(
            error.contains("record 1") && error.contains("subject"),
            "{error}"
        );
    }
}
