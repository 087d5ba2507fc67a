//! The `source` block of this connector's events: the common Debezium fields plus MySQL's
//! `table, server_id, gtid, file, pos, row, thread, query`.

use sluice_schemas::source::{SnapshotMarker, SourceCommon};
use sluice_schemas::{SchemaRef, Struct, Value};

use crate::error::{Error, Result};
use crate::flavour::ConnectorVariant;

/// Where one event came from, in the words of the source block.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo<'a> {
    pub db: &'a str,
    pub table: Option<&'a str>,
    /// When the change happened, microseconds since the epoch.
    pub event_time_micros: i64,
    pub snapshot: SnapshotMarker,
    pub server_id: u32,
    pub gtid: Option<&'a str>,
    pub file: &'a str,
    pub pos: u64,
    pub row: u32,
    pub thread: Option<u32>,
    pub query: Option<&'a str>,
}

/// Builds source structs for one connector.
#[derive(Debug, Clone)]
pub struct SourceBuilder {
    schema: SchemaRef,
    connector: &'static str,
    name: String,
}

impl SourceBuilder {
    pub fn new(variant: ConnectorVariant, topic_prefix: &str) -> Self {
        Self {
            schema: variant.source_schema(),
            connector: variant.connector_name(),
            name: topic_prefix.to_owned(),
        }
    }

    /// The source schema every envelope of this connector uses.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    pub fn build(&self, info: &SourceInfo<'_>) -> Result<Struct> {
        let common = SourceCommon {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            connector: self.connector.to_owned(),
            name: self.name.clone(),
            event_time_micros: info.event_time_micros,
            snapshot: info.snapshot,
            db: info.db.to_owned(),
            sequence: None,
        };
        let extra = [
            ("table", info.table.map(str::to_owned).into()),
            ("server_id", Value::Int64(i64::from(info.server_id))),
            ("gtid", info.gtid.map(str::to_owned).into()),
            ("file", Value::String(info.file.to_owned())),
            ("pos", Value::Int64(info.pos as i64)),
            ("row", Value::Int32(info.row as i32)),
            ("thread", info.thread.map(i64::from).into()),
            ("query", info.query.map(str::to_owned).into()),
        ];
        common
            .to_struct(&self.schema, extra)
            .map_err(|source| Error::Schema {
                table: format!("{}.{}", info.db, info.table.unwrap_or_default()),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_block_has_mysql_fields() {
        let builder = SourceBuilder::new(ConnectorVariant::MySql, "dbserver1");
        let source = builder
            .build(&SourceInfo {
                db: "inventory",
                table: Some("customers"),
                event_time_micros: 1_700_000_000_123_456,
                snapshot: SnapshotMarker::False,
                server_id: 223344,
                gtid: Some("0-223344-5"),
                file: "mysql-bin.000003",
                pos: 154,
                row: 0,
                thread: Some(7),
                query: None,
            })
            .unwrap();
        assert_eq!(
            source.get("connector"),
            Some(&Value::String("mysql".into()))
        );
        assert_eq!(source.get("ts_ms"), Some(&Value::Int64(1_700_000_000_123)));
        assert_eq!(source.get("pos"), Some(&Value::Int64(154)));
        assert_eq!(source.get("query"), Some(&Value::Null));
        source.validate().unwrap();
    }
}
