//! The `source` block of this connector's events: the common Debezium fields plus MySQL's
//! `table, server_id, gtid, file, pos, row, thread, query`.

use sluice_schemas::source::{SnapshotMarker, SourceCommon};
use sluice_schemas::{SchemaRef, Struct, Text, Value};

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
    /// The source block's `connector` and `name`, the same in every event: [`Text`] so each
    /// event clones them without allocating.
    connector: Text,
    name: Text,
    /// Where `row` and `snapshot` sit in the schema: the fields that change between the
    /// rows of one rows event (or of one snapshot).
    row_field: usize,
    snapshot_field: usize,
}

impl SourceBuilder {
    pub fn new(variant: ConnectorVariant, topic_prefix: &str) -> Self {
        let schema = variant.source_schema();
        let index = |name: &str| schema.field(name).map_or(usize::MAX, |f| f.index());
        Self {
            row_field: index("row"),
            snapshot_field: index("snapshot"),
            connector: Text::from_static(variant.connector_name()),
            name: Text::new(topic_prefix),
            schema,
        }
    }

    /// `template` (a source struct of this builder) for another row of the same rows event:
    /// a copy with `row` set, cheaper than building it again field by field.
    pub fn for_row(&self, template: &Struct, row: u32) -> Result<Struct> {
        let mut source = template.clone();
        self.set(&mut source, self.row_field, Value::Int32(row as i32))?;
        Ok(source)
    }

    /// `template` (a source struct of this builder) with another `snapshot` marker.
    pub fn with_marker(&self, template: &Struct, marker: SnapshotMarker) -> Result<Struct> {
        let mut source = template.clone();
        self.set(
            &mut source,
            self.snapshot_field,
            Value::String(Text::from_static(marker.as_str())),
        )?;
        Ok(source)
    }

    fn set(&self, source: &mut Struct, index: usize, value: Value) -> Result<()> {
        source
            .put_at(index, value)
            .map(|_| ())
            .map_err(|source| Error::Schema {
                table: self.name.to_string(),
                source,
            })
    }

    /// The source schema every envelope of this connector uses.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    pub fn build(&self, info: &SourceInfo<'_>) -> Result<Struct> {
        let common = SourceCommon {
            version: Text::from_static(env!("CARGO_PKG_VERSION")),
            connector: self.connector.clone(),
            name: self.name.clone(),
            event_time_micros: info.event_time_micros,
            snapshot: info.snapshot,
            db: info.db.into(),
            sequence: None,
        };
        let extra = [
            ("table", info.table.into()),
            ("server_id", Value::Int64(i64::from(info.server_id))),
            ("gtid", info.gtid.into()),
            ("file", Value::String(info.file.into())),
            ("pos", Value::Int64(info.pos as i64)),
            ("row", Value::Int32(info.row as i32)),
            ("thread", info.thread.map(i64::from).into()),
            ("query", info.query.into()),
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

    #[test]
    fn row_and_marker_copies_match_a_fresh_build() {
        let builder = SourceBuilder::new(ConnectorVariant::MariaDb, "bench");
        let info = SourceInfo {
            db: "shop",
            table: Some("orders"),
            event_time_micros: 1_700_000_000_000_000,
            snapshot: SnapshotMarker::False,
            server_id: 1,
            gtid: Some("0-1-7"),
            file: "mysql-bin.000001",
            pos: 400,
            row: 0,
            thread: Some(3),
            query: None,
        };
        let template = builder.build(&info).unwrap();
        let fresh = builder
            .build(&SourceInfo {
                row: 41,
                ..info.clone()
            })
            .unwrap();
        assert_eq!(builder.for_row(&template, 41).unwrap(), fresh);
        let last = builder
            .build(&SourceInfo {
                snapshot: SnapshotMarker::Last,
                ..info
            })
            .unwrap();
        assert_eq!(
            builder
                .with_marker(&template, SnapshotMarker::Last)
                .unwrap(),
            last
        );
    }
}
