//! Logical decoding messages (`pg_logical_emit_message(transactional, prefix, content)`) as
//! Debezium emits them: op `m` records on `<topic.prefix>.message`, keyed by
//! `io.debezium.connector.postgresql.MessageKey{prefix}`, valued
//! `io.debezium.connector.postgresql.MessageValue{op, ts_ms, source, transaction, message}`
//! where `message` is `{prefix, content}` and `content` follows `binary.handling.mode`.
//!
//! Which prefixes are emitted is chosen by `logical.decoding.message.prefix.include.list` /
//! `.exclude.list` (regular expressions matched against the whole prefix).

use std::sync::Arc;

use regex::Regex;
use sluice_connect::api::{SchemaAndValue, SourceRecord};
use sluice_schemas::envelope::{EpochNanos, Op, TransactionBlock, transaction_block_schema};
use sluice_schemas::schema::{OPTIONAL_INT64_SCHEMA, OPTIONAL_STRING_SCHEMA, STRING_SCHEMA};
use sluice_schemas::{SchemaBuilder, SchemaRef, Struct, Value};

use crate::config::PostgresConfig;
use crate::error::{Error, Result};
use crate::events::{EventFactory, Placement, SourceFacts};
use crate::types::BinaryHandlingMode;
use crate::types::column::binary_builder;
use crate::types::decode::binary as binary_value;

/// The data-collection name of messages in transaction metadata (Debezium's).
pub const MESSAGE_COLLECTION: &str = "LOGICAL_DECODING_MESSAGE";

/// Builds the records of logical decoding messages for one connector.
#[derive(Debug, Clone)]
pub struct LogicalMessages {
    include: Vec<Regex>,
    exclude: Vec<Regex>,
    binary: BinaryHandlingMode,
    topic: Arc<str>,
    key_schema: SchemaRef,
    block_schema: SchemaRef,
    value_schema: SchemaRef,
}

impl LogicalMessages {
    /// `source_schema` is the connector's source block schema; `binary` its
    /// `binary.handling.mode`.
    pub fn new(
        config: &PostgresConfig,
        binary: BinaryHandlingMode,
        source_schema: SchemaRef,
    ) -> Result<Self> {
        let compile = |key: &str, patterns: &[String]| -> Result<Vec<Regex>> {
            patterns
                .iter()
                .map(|pattern| {
                    Regex::new(&format!("^(?:{pattern})$")).map_err(|source| {
                        Error::InvalidColumnPattern {
                            key: key.to_string(),
                            pattern: pattern.clone(),
                            source,
                        }
                    })
                })
                .collect()
        };
        let content_schema = binary_builder(binary).optional().build();
        let key_schema = SchemaBuilder::struct_()
            .name("io.debezium.connector.postgresql.MessageKey")
            .version(1)
            .field("prefix", OPTIONAL_STRING_SCHEMA.clone())
            .build();
        let block_schema = SchemaBuilder::struct_()
            .name("io.debezium.connector.postgresql.Message")
            .version(1)
            .field("prefix", OPTIONAL_STRING_SCHEMA.clone())
            .field("content", content_schema)
            .build();
        let value_schema = SchemaBuilder::struct_()
            .name("io.debezium.connector.postgresql.MessageValue")
            .version(1)
            .field("op", STRING_SCHEMA.clone())
            .field("ts_ms", OPTIONAL_INT64_SCHEMA.clone())
            .field("source", source_schema)
            .field("transaction", transaction_block_schema())
            .field("message", block_schema.clone())
            .build();
        Ok(Self {
            include: compile(
                "logical.decoding.message.prefix.include.list",
                &config.message_prefix_include,
            )?,
            exclude: compile(
                "logical.decoding.message.prefix.exclude.list",
                &config.message_prefix_exclude,
            )?,
            binary,
            topic: format!("{}.message", config.topic_prefix).into(),
            key_schema,
            block_schema,
            value_schema,
        })
    }

    /// Whether messages with `prefix` are emitted.
    pub fn captures(&self, prefix: &str) -> bool {
        let any = |list: &[Regex]| list.iter().any(|re| re.is_match(prefix));
        (self.include.is_empty() || any(&self.include)) && !any(&self.exclude)
    }

    /// The record of one message. `facts` carry the message's LSN and, for a transactional
    /// message, its transaction; the source block names no schema or table (empty strings).
    pub fn record(
        &self,
        factory: &EventFactory,
        prefix: &str,
        content: &[u8],
        facts: &SourceFacts<'_>,
        transaction: Option<&TransactionBlock>,
        placement: Placement,
    ) -> Result<SourceRecord> {
        let error = |source| Error::Event {
            table: self.topic.to_string(),
            source: Box::new(source),
        };
        let source = factory.source(facts)?;
        let block = Struct::new(self.block_schema.clone())
            .with("prefix", prefix)
            .and_then(|s| s.with("content", binary_value(content.to_vec(), self.binary)))
            .map_err(error)?;
        let mut value = Struct::new(self.value_schema.clone())
            .with("op", Op::Message.code())
            .and_then(|s| s.with("ts_ms", EpochNanos::now().0.div_euclid(1_000_000)))
            .and_then(|s| s.with("source", Value::Struct(source)))
            .and_then(|s| s.with("message", Value::Struct(block)))
            .map_err(error)?;
        if let Some(transaction) = transaction {
            let block = Struct::new(transaction_block_schema())
                .with("id", transaction.id.as_str())
                .and_then(|s| s.with("total_order", transaction.total_order))
                .and_then(|s| s.with("data_collection_order", transaction.data_collection_order))
                .map_err(error)?;
            value
                .put("transaction", Value::Struct(block))
                .map_err(error)?;
        }
        let key = Struct::new(self.key_schema.clone())
            .with("prefix", prefix)
            .map_err(error)?;
        Ok(factory.record(
            &self.topic,
            SchemaAndValue::with_schema(self.key_schema.clone(), Value::Struct(key)),
            SchemaAndValue::with_schema(self.value_schema.clone(), Value::Struct(value)),
            placement,
            facts.event_micros,
        ))
    }
}

#[cfg(test)]
mod tests {
    use sluice_schemas::source::SnapshotMarker;

    use super::*;
    use crate::config::tests_support::with as config;
    use crate::lsn::Lsn;

    fn facts() -> SourceFacts<'static> {
        SourceFacts {
            snapshot: SnapshotMarker::False,
            event_micros: 1_000_000,
            schema: "",
            table: "",
            tx_id: Some(7),
            lsn: Some(Lsn(42)),
            xmin: None,
            last_commit: None,
        }
    }

    #[test]
    fn prefixes_are_filtered_by_whole_name() {
        let including = config(&[("logical.decoding.message.prefix.include.list", "audit.*,x")]);
        let factory = EventFactory::new(&including);
        let messages = LogicalMessages::new(
            &including,
            BinaryHandlingMode::Bytes,
            factory.source_schema(),
        )
        .unwrap();
        assert!(messages.captures("audit"));
        assert!(messages.captures("audit-2"));
        assert!(!messages.captures("xy"));
        let excluding = config(&[("logical.decoding.message.prefix.exclude.list", "noise")]);
        let messages = LogicalMessages::new(
            &excluding,
            BinaryHandlingMode::Bytes,
            factory.source_schema(),
        )
        .unwrap();
        assert!(messages.captures("signal") && !messages.captures("noise"));
    }

    #[test]
    fn a_message_record_has_debeziums_shape() {
        let plain = config(&[]);
        let factory = EventFactory::new(&plain);
        let messages =
            LogicalMessages::new(&plain, BinaryHandlingMode::Hex, factory.source_schema()).unwrap();
        let placement = Placement {
            offset: Default::default(),
            position: Default::default(),
        };
        let record = messages
            .record(&factory, "audit", b"\x01\xff", &facts(), None, placement)
            .unwrap();
        assert_eq!(&*record.topic, "dbserver1.message");
        let Value::Struct(value) = &record.value.value else {
            panic!("a struct value")
        };
        assert_eq!(value.get("op"), Some(&Value::String("m".into())));
        let Some(Value::Struct(message)) = value.get("message") else {
            panic!("a message block")
        };
        assert_eq!(message.get("prefix"), Some(&Value::String("audit".into())));
        assert_eq!(message.get("content"), Some(&Value::String("01ff".into())));
        let Some(Value::Struct(source)) = value.get("source") else {
            panic!("a source block")
        };
        assert_eq!(
            source.get("table"),
            Some(&Value::String(String::new().into()))
        );
        assert_eq!(source.get("txId"), Some(&Value::Int64(7)));
        assert_eq!(value.get("transaction"), Some(&Value::Null));
    }
}
