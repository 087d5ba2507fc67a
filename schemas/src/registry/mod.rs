//! An embedded, Confluent-compatible schema registry: subjects (`<topic>-key` / `<topic>-value`),
//! versions per subject, global schema ids, compatibility checks on Avro schemas, durable storage
//! behind [`RegistryStore`], the REST subset Confluent clients use, and the client side
//! ([`SchemaRegistryClient`]) the Avro converter talks to.
//!
//! - [`deletion`]: soft and permanent deletion of subjects and versions.
//! - [`engine`]: [`SchemaRegistry`], the registry's state and operations.
//! - [`compatibility`]: Avro schema-resolution rules and the NONE/BACKWARD/FORWARD/FULL levels.
//! - [`store`]: the append/replay storage trait, the `_schemas` record shapes, file and memory stores.
//! - [`rest`]: the axum `Router` serving the Confluent REST subset.
//! - [`client`]: [`SchemaRegistryClient`] with the embedded and the remote (HTTP) implementation.

pub mod client;
pub mod compatibility;
pub mod deletion;
pub mod engine;
pub mod rest;
pub mod store;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use client::{BasicAuth, EmbeddedRegistryClient, RemoteRegistryClient, SchemaRegistryClient};
pub use compatibility::CompatibilityLevel;
pub use deletion::Deletion;
pub use engine::SchemaRegistry;
pub use rest::router;
pub use store::{FileRegistryStore, MemoryRegistryStore, RegistryStore};

/// A registry-wide schema id: the same schema text has the same id under every subject.
/// It is the 4-byte id of the Confluent wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SchemaId(pub u32);

impl fmt::Display for SchemaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The version of a schema within one subject, counting from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SubjectVersion(pub u32);

impl fmt::Display for SubjectVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Which version of a subject a request means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSelector {
    /// The newest version.
    Latest,
    /// One numbered version.
    Exact(SubjectVersion),
}

impl VersionSelector {
    /// Parses the `{version}` path segment: a positive integer, `latest`, or `-1` (Confluent's alias
    /// for latest).
    pub fn parse(text: &str) -> crate::Result<Self> {
        if text == "latest" || text == "-1" {
            return Ok(Self::Latest);
        }
        match text.parse::<u32>() {
            Ok(number) if number >= 1 && number <= i32::MAX as u32 => {
                Ok(Self::Exact(SubjectVersion(number)))
            }
            _ => Err(crate::Error::InvalidVersion {
                value: text.to_owned(),
            }),
        }
    }
}

/// The kind of schema text; only Avro is supported (Confluent's default when `schemaType` is absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SchemaFormat {
    /// Apache Avro schema JSON.
    #[default]
    Avro,
}

impl SchemaFormat {
    /// Parses Confluent's `schemaType` field (absent means AVRO).
    pub fn parse(name: Option<&str>) -> crate::Result<Self> {
        match name {
            None => Ok(Self::Avro),
            Some(name) if name.eq_ignore_ascii_case("AVRO") => Ok(Self::Avro),
            Some(other) => Err(crate::Error::InvalidAvroSchema {
                reason: format!(
                    "schemaType `{other}` is not supported by Sluice's registry; only AVRO schemas can be registered"
                ),
                source: None,
            }),
        }
    }
}

/// One schema as registered under a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredSchema {
    pub subject: String,
    pub version: SubjectVersion,
    pub id: SchemaId,
    /// The schema text in the registry's canonical form (compact JSON).
    pub schema: String,
}

/// The subject Confluent's default `TopicNameStrategy` uses for a topic's keys or values.
pub fn topic_subject(topic: &str, part: RecordPart) -> String {
    match part {
        RecordPart::Key => format!("{topic}-key"),
        RecordPart::Value => format!("{topic}-value"),
    }
}

/// Whether a schema describes a record's key or its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordPart {
    Key,
    Value,
}
