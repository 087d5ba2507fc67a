//! One record as one JSON event, written straight into a reused buffer.
//!
//! Plain events: `{"id":"<topic>-<partition>-<offset>","topic":…,"partition":…,"offset":…,
//! "timestamp":<epoch ms>,"key":…,"value":…}`. CloudEvents (structured mode, spec 1.0):
//! `{"specversion":"1.0","id":…,"source":…,"type":…,"time":<RFC 3339>,
//! "datacontenttype":"application/json","subject":<key as JSON text>,"sluicetopic":…,
//! "sluicepartition":…,"sluiceoffset":…,"data":<value>}`. Keys and values go through the
//! JSON converter of sluice-schemas (payload only unless `body.schemas.enable=true`), whose
//! schema JSON is cached per schema, so nothing schema-shaped is rebuilt per event.

use std::io::Write;

use sluice_connect::api::SinkRecord;
use sluice_schemas::json::write::write_str;
use sluice_schemas::json::{JsonConverter, JsonConverterConfig, SchemaEnvelope};

use crate::config::CloudEvents;
use crate::error::{Error, Result};
use crate::httptime::write_rfc3339;
use crate::schemaless::write_data;

/// The JSON text of a partition's name and event id prefix, built once per partition.
#[derive(Debug, Clone)]
pub struct PartitionLabels {
    /// `"topic"` with quotes.
    topic: Vec<u8>,
    /// `"topic-partition-` (open quote, no closing one): an event id without its offset.
    id_prefix: Vec<u8>,
    partition: i32,
}

impl PartitionLabels {
    pub fn new(topic: &str, partition: i32) -> Self {
        let mut quoted = Vec::new();
        write_str(&mut quoted, topic);
        let mut id_prefix = Vec::new();
        write_str(&mut id_prefix, &format!("{topic}-{partition}-"));
        id_prefix.pop();
        Self {
            topic: quoted,
            id_prefix,
            partition,
        }
    }
}

/// Which envelope events get.
#[derive(Debug, Clone)]
enum Envelope {
    Plain,
    /// `source` and `type` already as JSON strings.
    Cloud {
        source: Vec<u8>,
        event_type: Vec<u8>,
    },
}

/// Writes records as events.
#[derive(Debug)]
pub struct EventWriter {
    converter: JsonConverter,
    envelope: Envelope,
    /// Reused for the key's JSON text (CloudEvents `subject`).
    scratch: Vec<u8>,
}

impl EventWriter {
    /// `connector` names the default CloudEvents source, `/sluice/<connector>`.
    pub fn new(schemas: SchemaEnvelope, cloudevents: &CloudEvents, connector: &str) -> Self {
        let converter = JsonConverter::new(JsonConverterConfig {
            schemas,
            ..JsonConverterConfig::default()
        });
        let envelope = match cloudevents {
            CloudEvents::Off => Envelope::Plain,
            CloudEvents::Structured { source, event_type } => {
                let source = source
                    .clone()
                    .unwrap_or_else(|| format!("/sluice/{connector}"));
                let (mut s, mut t) = (Vec::new(), Vec::new());
                write_str(&mut s, &source);
                write_str(&mut t, event_type);
                Envelope::Cloud {
                    source: s,
                    event_type: t,
                }
            }
        };
        Self {
            converter,
            envelope,
            scratch: Vec::new(),
        }
    }

    /// Appends the event of `record` to `out`; on error `out` may hold a partial event.
    pub fn write(
        &mut self,
        labels: &PartitionLabels,
        record: &SinkRecord,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let failed = |source| Error::Serialize {
            topic: record.topic.clone(),
            partition: record.partition.0,
            offset: record.offset.0,
            source,
        };
        let offset = record.offset.0;
        // Writing to a Vec cannot fail.
        let _ = write!(out, "{{");
        match &self.envelope {
            Envelope::Plain => {
                out.extend_from_slice(b"\"id\":");
                out.extend_from_slice(&labels.id_prefix);
                let _ = write!(out, "{offset}\",\"topic\":",);
                out.extend_from_slice(&labels.topic);
                let _ = write!(
                    out,
                    ",\"partition\":{},\"offset\":{offset},\"timestamp\":{},\"key\":",
                    labels.partition, record.timestamp_ms
                );
                write_data(
                    &self.converter,
                    record.key.schema.as_ref(),
                    &record.key.value,
                    out,
                )
                .map_err(failed)?;
                out.extend_from_slice(b",\"value\":");
            }
            Envelope::Cloud { source, event_type } => {
                out.extend_from_slice(b"\"specversion\":\"1.0\",\"id\":");
                out.extend_from_slice(&labels.id_prefix);
                let _ = write!(out, "{offset}\",\"source\":");
                out.extend_from_slice(source);
                out.extend_from_slice(b",\"type\":");
                out.extend_from_slice(event_type);
                out.extend_from_slice(b",\"time\":\"");
                write_rfc3339(out, record.timestamp_ms);
                out.extend_from_slice(b"\",\"datacontenttype\":\"application/json\"");
                if !record.key.is_null() {
                    self.scratch.clear();
                    write_data(
                        &self.converter,
                        record.key.schema.as_ref(),
                        &record.key.value,
                        &mut self.scratch,
                    )
                    .map_err(failed)?;
                    out.extend_from_slice(b",\"subject\":");
                    // The key's JSON as a string: CloudEvents attributes are not objects.
                    write_str(out, &String::from_utf8_lossy(&self.scratch));
                }
                out.extend_from_slice(b",\"sluicetopic\":");
                out.extend_from_slice(&labels.topic);
                let _ = write!(
                    out,
                    ",\"sluicepartition\":{},\"sluiceoffset\":{offset},\"data\":",
                    labels.partition
                );
            }
        }
        write_data(
            &self.converter,
            record.value.schema.as_ref(),
            &record.value.value,
            out,
        )
        .map_err(failed)?;
        out.push(b'}');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_broker::{Offset, PartitionId};
    use sluice_connect::api::{Headers, SchemaAndValue};
    use sluice_schemas::schema::{INT64_SCHEMA, STRING_SCHEMA};
    use sluice_schemas::{SchemaBuilder, Struct, Value};

    fn record() -> SinkRecord {
        let schema = SchemaBuilder::struct_()
            .name("row")
            .field("id", INT64_SCHEMA.clone())
            .field("name", STRING_SCHEMA.clone())
            .build();
        let mut row = Struct::new(schema.clone());
        row.put("id", Value::Int64(7)).unwrap();
        row.put("name", Value::String("ann".into())).unwrap();
        SinkRecord {
            topic: "db.users".into(),
            partition: PartitionId(2),
            offset: Offset(41),
            key: SchemaAndValue::with_schema(INT64_SCHEMA.clone(), 7i64),
            value: SchemaAndValue::new(Some(schema), Value::Struct(row)),
            headers: Headers::new(),
            timestamp_ms: 1_700_000_000_000,
        }
    }

    fn event(
        cloudevents: CloudEvents,
        schemas: SchemaEnvelope,
        record: &SinkRecord,
    ) -> serde_json::Value {
        let mut writer = EventWriter::new(schemas, &cloudevents, "hooks");
        let mut out = Vec::new();
        writer
            .write(
                &PartitionLabels::new(&record.topic, record.partition.0),
                record,
                &mut out,
            )
            .unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn plain_events_carry_their_id_and_payload() {
        let json = event(CloudEvents::Off, SchemaEnvelope::PayloadOnly, &record());
        assert_eq!(
            json,
            serde_json::json!({"id": "db.users-2-41", "topic": "db.users", "partition": 2,
                "offset": 41, "timestamp": 1_700_000_000_000i64, "key": 7,
                "value": {"id": 7, "name": "ann"}})
        );
        let with_schema = event(CloudEvents::Off, SchemaEnvelope::WithSchema, &record());
        assert_eq!(with_schema["value"]["payload"]["name"], "ann");
        assert_eq!(with_schema["value"]["schema"]["name"], "row");
    }

    #[test]
    fn tombstones_have_null_values() {
        let mut tombstone = record();
        tombstone.value = SchemaAndValue::null();
        let json = event(CloudEvents::Off, SchemaEnvelope::PayloadOnly, &tombstone);
        assert_eq!(json["value"], serde_json::Value::Null);
    }

    #[test]
    fn cloudevents_structured_mode() {
        let mode = CloudEvents::Structured {
            source: None,
            event_type: "io.sluice.record".into(),
        };
        let json = event(mode, SchemaEnvelope::PayloadOnly, &record());
        assert_eq!(json["specversion"], "1.0");
        assert_eq!(json["id"], "db.users-2-41");
        assert_eq!(json["source"], "/sluice/hooks");
        assert_eq!(json["type"], "io.sluice.record");
        assert_eq!(json["time"], "2023-11-14T22:13:20.000Z");
        assert_eq!(json["subject"], "7");
        assert_eq!(json["sluiceoffset"], 41);
        assert_eq!(json["data"]["name"], "ann");
    }
}
