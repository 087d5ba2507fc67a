//! The `source` block of Debezium change events: the common fields every connector writes
//! (`version, connector, name, ts_ms, snapshot, db, sequence, ts_us, ts_ns`, as Debezium's
//! `SchemaFactory.sourceInfoSchemaBuilder`), the `snapshot` marker enum, and ready-made schemas
//! for the MySQL and Postgres connectors with their own fields appended in Debezium's order.

use crate::error::Result;
use crate::logical;
use crate::schema::{
    INT32_SCHEMA, INT64_SCHEMA, OPTIONAL_INT64_SCHEMA, OPTIONAL_STRING_SCHEMA, STRING_SCHEMA,
    SchemaBuilder, SchemaRef,
};
use crate::text::Text;
use crate::value::{Struct, Value};

/// The schema name of the MySQL connector's source block.
pub const MYSQL_SOURCE: &str = "io.debezium.connector.mysql.Source";
/// The schema name of the Postgres connector's source block.
pub const POSTGRES_SOURCE: &str = "io.debezium.connector.postgresql.Source";

/// `source.snapshot`: whether and where in a snapshot an event was read (Debezium's
/// `SnapshotRecord`, written as its lower-case name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SnapshotMarker {
    /// Inside a snapshot.
    True,
    /// The first record of a snapshot.
    First,
    /// The first record of a table within a snapshot.
    FirstInDataCollection,
    /// The last record of a table within a snapshot.
    LastInDataCollection,
    /// The last record of a snapshot.
    Last,
    /// Streamed, not snapshotted.
    False,
    /// Read by an incremental snapshot.
    Incremental,
}

impl SnapshotMarker {
    /// Every marker, in Debezium's declaration order (the order of the `allowed` parameter).
    pub const ALL: [SnapshotMarker; 7] = [
        SnapshotMarker::True,
        SnapshotMarker::First,
        SnapshotMarker::FirstInDataCollection,
        SnapshotMarker::LastInDataCollection,
        SnapshotMarker::Last,
        SnapshotMarker::False,
        SnapshotMarker::Incremental,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotMarker::True => "true",
            SnapshotMarker::First => "first",
            SnapshotMarker::FirstInDataCollection => "first_in_data_collection",
            SnapshotMarker::LastInDataCollection => "last_in_data_collection",
            SnapshotMarker::Last => "last",
            SnapshotMarker::False => "false",
            SnapshotMarker::Incremental => "incremental",
        }
    }

    pub fn parse(text: &str) -> Option<SnapshotMarker> {
        SnapshotMarker::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

/// The schema of `source.snapshot`: an optional `io.debezium.data.Enum` with default `"false"`.
pub fn snapshot_schema() -> SchemaRef {
    let allowed: Vec<&str> = SnapshotMarker::ALL.iter().map(|m| m.as_str()).collect();
    logical::enumeration(&allowed)
        .default_value(Value::String(Text::from_static(
            SnapshotMarker::False.as_str(),
        )))
        .optional()
        .build()
}

/// Builds a connector's source schema: the common fields first, then the connector's own.
#[derive(Debug, Clone)]
pub struct SourceSchemaBuilder {
    builder: SchemaBuilder,
}

impl SourceSchemaBuilder {
    /// Starts a source schema named `name` (e.g. `io.debezium.connector.mysql.Source`).
    pub fn new(name: &str) -> SourceSchemaBuilder {
        let builder = SchemaBuilder::struct_()
            .name(name)
            .version(1)
            .field("version", STRING_SCHEMA.clone())
            .field("connector", STRING_SCHEMA.clone())
            .field("name", STRING_SCHEMA.clone())
            .field("ts_ms", INT64_SCHEMA.clone())
            .field("snapshot", snapshot_schema())
            .field("db", STRING_SCHEMA.clone())
            .field("sequence", OPTIONAL_STRING_SCHEMA.clone())
            .field("ts_us", OPTIONAL_INT64_SCHEMA.clone())
            .field("ts_ns", OPTIONAL_INT64_SCHEMA.clone());
        SourceSchemaBuilder { builder }
    }

    /// Appends a connector-specific field.
    pub fn field(mut self, name: &str, schema: SchemaRef) -> SourceSchemaBuilder {
        self.builder = self.builder.field(name, schema);
        self
    }

    pub fn build(self) -> SchemaRef {
        self.builder.build()
    }

    /// The MySQL (binlog) connector's source schema.
    pub fn mysql() -> SchemaRef {
        SourceSchemaBuilder::new(MYSQL_SOURCE)
            .field("table", OPTIONAL_STRING_SCHEMA.clone())
            .field("server_id", INT64_SCHEMA.clone())
            .field("gtid", OPTIONAL_STRING_SCHEMA.clone())
            .field("file", STRING_SCHEMA.clone())
            .field("pos", INT64_SCHEMA.clone())
            .field("row", INT32_SCHEMA.clone())
            .field("thread", OPTIONAL_INT64_SCHEMA.clone())
            .field("query", OPTIONAL_STRING_SCHEMA.clone())
            .build()
    }

    /// The Postgres connector's source schema.
    pub fn postgres() -> SchemaRef {
        SourceSchemaBuilder::new(POSTGRES_SOURCE)
            .field("schema", STRING_SCHEMA.clone())
            .field("table", STRING_SCHEMA.clone())
            .field("txId", OPTIONAL_INT64_SCHEMA.clone())
            .field("lsn", OPTIONAL_INT64_SCHEMA.clone())
            .field("xmin", OPTIONAL_INT64_SCHEMA.clone())
            .build()
    }
}

/// The values of the common source fields (as [`Text`], so a builder that keeps them clones them
/// without allocating).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceCommon {
    /// Sluice's version, in the place of Debezium's.
    pub version: Text,
    /// `mysql`, `postgresql`, …
    pub connector: Text,
    /// The logical server name (`topic.prefix`).
    pub name: Text,
    /// When the change happened in the database, microseconds since the epoch; written as
    /// `ts_ms`, `ts_us` and `ts_ns`.
    pub event_time_micros: i64,
    pub snapshot: SnapshotMarker,
    pub db: Text,
    pub sequence: Option<Text>,
}

impl SourceCommon {
    /// A source struct of `schema` (made by [`SourceSchemaBuilder`]) with the common fields set
    /// and the connector's own fields taken from `extra` (name, value).
    pub fn to_struct<'a>(
        &self,
        schema: &SchemaRef,
        extra: impl IntoIterator<Item = (&'a str, Value)>,
    ) -> Result<Struct> {
        let mut values = Vec::with_capacity(schema.fields().len());
        values.push(Value::String(self.version.clone()));
        values.push(Value::String(self.connector.clone()));
        values.push(Value::String(self.name.clone()));
        values.push(Value::Int64(self.event_time_micros.div_euclid(1000)));
        values.push(Value::String(Text::from_static(self.snapshot.as_str())));
        values.push(Value::String(self.db.clone()));
        values.push(self.sequence.clone().into());
        values.push(Value::Int64(self.event_time_micros));
        values.push(Value::Int64(self.event_time_micros.saturating_mul(1000)));
        let mut source = Struct::new(schema.clone());
        for (index, value) in values.into_iter().enumerate() {
            source.put_at(index, value)?;
        }
        for (name, value) in extra {
            source.put(name, value)?;
        }
        Ok(source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_enum_lists_debezium_values_in_order() {
        let schema = snapshot_schema();
        assert_eq!(
            schema.parameter("allowed"),
            Some(
                "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"
            )
        );
        assert!(schema.is_optional());
        assert_eq!(schema.default_value(), Some(&Value::String("false".into())));
        assert_eq!(
            SnapshotMarker::parse("last_in_data_collection"),
            Some(SnapshotMarker::LastInDataCollection)
        );
        assert_eq!(SnapshotMarker::parse("yes"), None);
    }

    #[test]
    fn mysql_and_postgres_fields_follow_the_common_ones() {
        let names = |s: &SchemaRef| {
            s.fields()
                .iter()
                .map(|f| f.name().to_string())
                .collect::<Vec<_>>()
        };
        let common = [
            "version",
            "connector",
            "name",
            "ts_ms",
            "snapshot",
            "db",
            "sequence",
            "ts_us",
            "ts_ns",
        ];
        let mysql = SourceSchemaBuilder::mysql();
        let mut expected: Vec<&str> = common.to_vec();
        expected.extend([
            "table",
            "server_id",
            "gtid",
            "file",
            "pos",
            "row",
            "thread",
            "query",
        ]);
        assert_eq!(names(&mysql), expected);
        let pg = SourceSchemaBuilder::postgres();
        let mut expected: Vec<&str> = common.to_vec();
        expected.extend(["schema", "table", "txId", "lsn", "xmin"]);
        assert_eq!(names(&pg), expected);
        assert!(!pg.field("table").unwrap().schema().is_optional());
        assert!(mysql.field("table").unwrap().schema().is_optional());
    }

    #[test]
    fn common_values_fill_the_struct() {
        let common = SourceCommon {
            version: "0.1.0".into(),
            connector: "postgresql".into(),
            name: "dbserver1".into(),
            event_time_micros: 1_559_033_904_863_123,
            snapshot: SnapshotMarker::False,
            db: "postgres".into(),
            sequence: None,
        };
        let extra = [
            ("schema", Value::from("inventory")),
            ("table", Value::from("customers")),
        ];
        let source = common
            .to_struct(&SourceSchemaBuilder::postgres(), extra)
            .unwrap();
        assert_eq!(source.get("ts_ms"), Some(&Value::Int64(1_559_033_904_863)));
        assert_eq!(
            source.get("ts_ns"),
            Some(&Value::Int64(1_559_033_904_863_123_000))
        );
        assert_eq!(source.get("lsn"), Some(&Value::Null));
        source.validate().unwrap();
        let missing = common
            .to_struct(&SourceSchemaBuilder::postgres(), [])
            .unwrap();
        assert!(missing.validate().is_err());
    }
}
