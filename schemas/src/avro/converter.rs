//! The Avro converter (`io.confluent.connect.avro.AvroConverter`): Connect value ⇄ Confluent
//! wire format (magic byte 0, 4-byte big-endian schema id, Avro datum), with the schema
//! registered in a registry — the embedded one when `schema.registry.url` is not set, a remote
//! one over HTTP when it is.
//!
//! Everything per schema is cached: the Avro form of a Connect schema is built once per
//! [`SchemaRef`], its id once per subject, and the decoding plan once per schema id, so the
//! per-event cost is one hash lookup plus the encoding itself.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;

use super::config::{AvroConverterConfig, Registration};
use super::decode::{Node, Reader};
use super::encode::encode_value;
use super::from_avro::connect_schema;
use super::names::{NameMode, check_names};
use super::schema::avro_schema_with;
use super::subject::SubjectNameStrategy;
use crate::registry::{
    EmbeddedRegistryClient, RecordPart, RemoteRegistryClient, SchemaId, SchemaRegistry,
    SchemaRegistryClient,
};
use crate::schema::{Schema, SchemaRef};
use crate::value::Value;
use crate::{Error, Result};

/// The first byte of every Confluent-framed message.
pub const MAGIC_BYTE: u8 = 0;
/// Magic byte + schema id.
pub const WIRE_HEADER_LEN: usize = 5;
/// Entries kept per cache before it is emptied (guards against callers that build a new
/// `SchemaRef` per event).
const CACHE_LIMIT: usize = 10_000;

/// The Avro form of one Connect schema and the ids it has under each subject.
#[derive(Debug)]
struct EncoderEntry {
    /// Keeps the schema alive so its address (the cache key) cannot be reused.
    schema: SchemaRef,
    avro_text: Arc<str>,
    ids: RwLock<Vec<(String, SchemaId)>>,
}

/// A decoding plan for one writer schema id.
#[derive(Debug)]
struct DecoderEntry {
    schema: SchemaRef,
    node: Node,
}

/// Converts Connect values to and from Confluent-framed Avro for one side (key or value) of
/// records.
#[derive(Debug)]
pub struct AvroConverter {
    registry: Arc<dyn SchemaRegistryClient>,
    part: RecordPart,
    registration: Registration,
    subject_strategy: SubjectNameStrategy,
    name_mode: NameMode,
    encoders: RwLock<HashMap<usize, Arc<EncoderEntry>>>,
    decoders: RwLock<HashMap<SchemaId, Arc<DecoderEntry>>>,
}

impl AvroConverter {
    /// A converter using `registry` for the `part` side of records.
    pub fn new(
        registry: Arc<dyn SchemaRegistryClient>,
        part: RecordPart,
        registration: Registration,
    ) -> Self {
        Self {
            registry,
            part,
            registration,
            subject_strategy: SubjectNameStrategy::TopicName,
            name_mode: NameMode::AsIs,
            encoders: RwLock::default(),
            decoders: RwLock::default(),
        }
    }

    /// A converter from settings: the remote registry at `schema.registry.url` when given,
    /// else `embedded`.
    pub fn from_config(
        config: &AvroConverterConfig,
        part: RecordPart,
        embedded: &Arc<SchemaRegistry>,
    ) -> Result<Self> {
        let registry: Arc<dyn SchemaRegistryClient> = match &config.registry_url {
            Some(url) => {
                let mut client = RemoteRegistryClient::new(url)?;
                if let Some(credentials) = &config.registry_credentials {
                    client = client.with_basic_auth(credentials.clone());
                }
                Arc::new(client)
            }
            None => Arc::new(EmbeddedRegistryClient::new(embedded.clone())),
        };
        let strategy = match part {
            RecordPart::Key => config.key_subject_strategy,
            RecordPart::Value => config.value_subject_strategy,
        };
        Ok(Self::new(registry, part, config.registration)
            .with_subject_strategy(strategy)
            .with_name_mode(config.name_mode))
    }

    /// Uses `strategy` to name subjects (default: `<topic>-key` / `<topic>-value`).
    pub fn with_subject_strategy(mut self, strategy: SubjectNameStrategy) -> Self {
        self.subject_strategy = strategy;
        self
    }

    /// Whether names that are not valid Avro names are rewritten (default: refused).
    pub fn with_name_mode(mut self, names: NameMode) -> Self {
        self.name_mode = names;
        self
    }

    /// The subject this converter uses for records of `schema` on `topic`.
    pub fn subject(&self, topic: &str, schema: &Schema) -> Result<String> {
        self.subject_strategy.subject(topic, self.part, schema)
    }

    fn encoder(&self, schema: &SchemaRef) -> Result<Arc<EncoderEntry>> {
        let key = Arc::as_ptr(schema) as usize;
        if let Some(entry) = self.encoders.read().get(&key) {
            return Ok(entry.clone());
        }
        if self.name_mode == NameMode::AsIs {
            check_names(schema)?;
        }
        let avro_text: Arc<str> = Arc::from(avro_schema_with(schema, self.name_mode).to_string());
        let entry = Arc::new(EncoderEntry {
            schema: schema.clone(),
            avro_text,
            ids: RwLock::default(),
        });
        let mut encoders = self.encoders.write();
        if encoders.len() >= CACHE_LIMIT {
            encoders.clear();
        }
        Ok(encoders.entry(key).or_insert(entry).clone())
    }

    /// The Avro schema (JSON text) this converter writes for `schema`, built once per schema.
    pub fn avro_schema_text(&self, schema: &SchemaRef) -> Result<Arc<str>> {
        Ok(self.encoder(schema)?.avro_text.clone())
    }

    /// The registry id of `schema` under `topic`'s subject, registering it (or looking it up)
    /// on first use.
    pub async fn schema_id(&self, topic: &str, schema: &SchemaRef) -> Result<SchemaId> {
        let entry = self.encoder(schema)?;
        debug_assert!(Arc::ptr_eq(&entry.schema, schema));
        let (strategy, part) = (self.subject_strategy, self.part);
        let known = entry
            .ids
            .read()
            .iter()
            .find(|(s, _)| strategy.matches(s, topic, part, schema))
            .map(|(_, id)| *id);
        if let Some(id) = known {
            return Ok(id);
        }
        let subject = self.subject(topic, schema)?;
        let id = match self.registration {
            Registration::AutoRegister => {
                self.registry.register(&subject, &entry.avro_text).await?
            }
            Registration::LookupOnly => self.registry.lookup(&subject, &entry.avro_text).await?.id,
        };
        entry.ids.write().push((subject, id));
        Ok(id)
    }

    /// Serializes `value` for `topic`; `None` for a null value (a tombstone stays a tombstone).
    pub async fn from_connect(
        &self,
        topic: &str,
        schema: &SchemaRef,
        value: &Value,
    ) -> Result<Option<Vec<u8>>> {
        let mut out = Vec::new();
        let written = self
            .from_connect_into(topic, schema, value, &mut out)
            .await?;
        Ok(written.then_some(out))
    }

    /// Like [`Self::from_connect`], appending to a reused buffer; returns false (and writes
    /// nothing) for a null value.
    pub async fn from_connect_into(
        &self,
        topic: &str,
        schema: &SchemaRef,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> Result<bool> {
        if value.is_null() && schema.default_value().is_none() {
            return Ok(false);
        }
        let id = self.schema_id(topic, schema).await?;
        let start = out.len();
        if let Err(error) = write_framed(id, schema, value, out) {
            // Leave the caller's buffer as it was, not with half a message in it.
            out.truncate(start);
            return Err(error);
        }
        Ok(true)
    }

    /// Deserializes Confluent-framed Avro bytes into the writer's Connect schema and value.
    pub async fn to_connect(&self, bytes: &[u8]) -> Result<(SchemaRef, Value)> {
        let (id, datum) = split_wire(bytes)?;
        let cached = self.decoders.read().get(&id).cloned();
        let decoder = match cached {
            Some(decoder) => decoder,
            None => {
                let text = self.registry.schema_by_id(id).await?;
                let (schema, node) = connect_schema(&text)?;
                let decoder = Arc::new(DecoderEntry { schema, node });
                let mut decoders = self.decoders.write();
                if decoders.len() >= CACHE_LIMIT {
                    decoders.clear();
                }
                decoders.insert(id, decoder.clone());
                decoder
            }
        };
        let mut reader = Reader::new(datum);
        let value = decoder.node.decode(&mut reader)?;
        if reader.remaining() != 0 {
            return Err(Error::MalformedAvro {
                offset: WIRE_HEADER_LEN + datum.len() - reader.remaining(),
                reason: format!(
                    "{} bytes left after the datum (wrong schema id?)",
                    reader.remaining()
                ),
            });
        }
        Ok((decoder.schema.clone(), value))
    }
}

/// Appends magic byte, schema id and the Avro datum of `value` to `out`.
pub fn write_framed(
    id: SchemaId,
    schema: &SchemaRef,
    value: &Value,
    out: &mut Vec<u8>,
) -> Result<()> {
    out.push(MAGIC_BYTE);
    out.extend_from_slice(&id.0.to_be_bytes());
    encode_value(schema, value, out)
}

/// Splits Confluent-framed bytes into the schema id and the datum.
pub fn split_wire(bytes: &[u8]) -> Result<(SchemaId, &[u8])> {
    match bytes {
        [MAGIC_BYTE, a, b, c, d, datum @ ..] => {
            Ok((SchemaId(u32::from_be_bytes([*a, *b, *c, *d])), datum))
        }
        [first, ..] if *first != MAGIC_BYTE => Err(Error::MalformedAvro {
            offset: 0,
            reason: format!(
                "unknown magic byte {first}; Confluent-framed Avro starts with 0 (is the topic written by another converter?)"
            ),
        }),
        _ => Err(Error::MalformedAvro {
            offset: bytes.len(),
            reason: "shorter than the 5-byte header (magic byte + schema id)".into(),
        }),
    }
}
