//! The records of the schema history topic, in Debezium's shape: a JSON document (as a
//! string value, so every converter stores it readably) with `source` (`{"server": …}`),
//! `position` (the connector's offset at the DDL), `ts_ms`, `databaseName`, `schemaName`,
//! `ddl` and `tableChanges` — the latter extended with each column's catalog row (see
//! [`super::model::change_json`]) so a replay rebuilds the model without parsing DDL again.
//!
//! A snapshot of the schemas (taken at a snapshot, with `snapshot.mode=no_data` or
//! `recovery`) is written as one [`SNAPSHOT_START_DDL`] record — replaying it empties the
//! model — followed by one `CREATE` record per captured table.

use serde_json::{Value as Json, json};
use sluice_connect::api::{
    OffsetMap, SchemaAndValue, SharedOffsetMap, SourcePosition, SourceRecord,
};
use sluice_schemas::Value;
use sluice_schemas::envelope::EpochNanos;
use sluice_schemas::schema::STRING_SCHEMA;

use crate::error::{Error, Result};

/// The `ddl` of the record that starts a snapshot of the schemas.
pub const SNAPSHOT_START_DDL: &str = "/* sluice: the schemas below were read from the catalog */";

/// One history record as written.
#[derive(Debug)]
pub struct HistoryEntry<'a> {
    pub server: &'a str,
    pub offset: &'a OffsetMap,
    pub database: &'a str,
    pub ddl: &'a str,
    pub changes: Vec<Json>,
}

impl HistoryEntry<'_> {
    /// The source record for the history topic `topic` (partition 0, no key).
    pub fn into_record(
        self,
        topic: &str,
        partition: &SharedOffsetMap,
        position: SourcePosition,
    ) -> SourceRecord {
        let text = json!({
            "source": {"server": self.server},
            "position": self.offset,
            "ts_ms": EpochNanos::now().0 / 1_000_000,
            "databaseName": self.database,
            "schemaName": null,
            "ddl": self.ddl,
            "tableChanges": self.changes,
        })
        .to_string();
        let mut record = SourceRecord::new(
            partition.clone(),
            self.offset.clone(),
            topic,
            SchemaAndValue::null(),
            SchemaAndValue::with_schema(STRING_SCHEMA.clone(), text),
        )
        .with_position(position);
        record.kafka_partition = Some(0);
        record
    }
}

/// A history record as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadEntry {
    pub server: String,
    pub ddl: String,
    pub changes: Vec<Json>,
}

/// Parses a record value read back through the task's converter.
pub fn parse(value: &Value) -> Result<ReadEntry> {
    let Value::String(text) = value else {
        return Err(Error::HistoryRecord {
            reason: format!(
                "its value is a {}, not the JSON text sluice writes",
                value.kind()
            ),
        });
    };
    let json: Json = serde_json::from_str(text).map_err(|error| Error::HistoryRecord {
        reason: format!("its value is not JSON ({error})"),
    })?;
    let server = json
        .pointer("/source/server")
        .and_then(Json::as_str)
        .ok_or_else(|| Error::HistoryRecord {
            reason: "it has no source.server".into(),
        })?;
    Ok(ReadEntry {
        server: server.to_owned(),
        ddl: json["ddl"].as_str().unwrap_or_default().to_owned(),
        changes: json["tableChanges"].as_array().cloned().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_bad_values_are_named() {
        let mut offset = OffsetMap::new();
        offset.insert("file".into(), json!("mysql-bin.000003"));
        let record = HistoryEntry {
            server: "shop",
            offset: &offset,
            database: "inventory",
            ddl: "ALTER TABLE t ADD c INT",
            changes: vec![json!({"type": "ALTER"})],
        }
        .into_record(
            "h",
            &SharedOffsetMap::empty(),
            SourcePosition::from_parts(&[1]),
        );
        assert_eq!(record.kafka_partition, Some(0));
        assert_eq!(&*record.topic, "h");
        let read = parse(&record.value.value).unwrap();
        assert_eq!(read.server, "shop");
        assert_eq!(read.ddl, "ALTER TABLE t ADD c INT");
        assert_eq!(read.changes, [json!({"type": "ALTER"})]);
        let Value::String(text) = &record.value.value else {
            panic!("a string value");
        };
        let doc: Json = serde_json::from_str(text).unwrap();
        assert_eq!(doc["position"]["file"], "mysql-bin.000003");
        assert_eq!(doc["databaseName"], "inventory");
        assert!(
            parse(&Value::Int64(1))
                .unwrap_err()
                .to_string()
                .contains("int64")
        );
        assert!(parse(&Value::String("{".into())).is_err());
    }
}
