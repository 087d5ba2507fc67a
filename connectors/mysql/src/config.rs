//! The connector's configuration: Debezium's MySQL/MariaDB keys declared as a [`ConfigDef`],
//! and [`SourceConfig`], the typed view the connector and its task work with.

use std::time::Duration;

use sluice_connect::config::{Config, ConfigDef, ConfigKey, Importance, Props};
use sluice_schemas::envelope::Op;

use crate::error::{Error, Result};

/// What the connector does before streaming (Debezium's `snapshot.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotMode {
    /// Snapshot when no offset is stored, then stream.
    Initial,
    /// Snapshot when no offset is stored, then stop producing.
    InitialOnly,
    /// Never snapshot data; stream from the current binlog position.
    NoData,
    /// Snapshot at every start.
    Always,
    /// Snapshot when no offset is stored or the stored binlog position was purged.
    WhenNeeded,
    /// Rebuild the schema history from the current schemas, then stream from the offset.
    Recovery,
}

impl SnapshotMode {
    fn parse(text: &str) -> Option<Self> {
        Some(match text.to_ascii_lowercase().as_str() {
            "initial" => Self::Initial,
            "initial_only" => Self::InitialOnly,
            "no_data" | "schema_only" | "never" => Self::NoData,
            "always" => Self::Always,
            "when_needed" => Self::WhenNeeded,
            "recovery" | "schema_only_recovery" => Self::Recovery,
            _ => return None,
        })
    }

    /// Whether rows are read by a snapshot when the connector has `stored` an offset or not.
    pub fn snapshots_data(self, has_offset: bool) -> bool {
        match self {
            Self::Always => true,
            Self::Initial | Self::InitialOnly | Self::WhenNeeded => !has_offset,
            Self::NoData | Self::Recovery => false,
        }
    }
}

/// Whether the task emits a tombstone after each delete (`tombstones.on.delete`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tombstones {
    Emit,
    Skip,
}

/// The operations not emitted (`skipped.operations`: `c`, `u`, `d`, `t`, or `none`).
/// Debezium's default skips truncates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SkippedOperations {
    create: bool,
    update: bool,
    delete: bool,
    truncate: bool,
}

impl SkippedOperations {
    /// Parses the list; an unknown operation is an error naming the accepted ones.
    pub fn parse(values: &[String]) -> Result<Self> {
        let mut skipped = Self::default();
        for value in values {
            match value.trim().to_ascii_lowercase().as_str() {
                "c" => skipped.create = true,
                "u" => skipped.update = true,
                "d" => skipped.delete = true,
                "t" => skipped.truncate = true,
                "none" | "" => {}
                other => {
                    return Err(Error::config(sluice_connect::Error::InvalidConfig {
                        key: "skipped.operations".into(),
                        value: other.into(),
                        reason: "use a comma-separated list of c, u, d and t, or none".into(),
                    }));
                }
            }
        }
        Ok(skipped)
    }

    pub fn contains(self, op: Op) -> bool {
        match op {
            Op::Create => self.create,
            Op::Update => self.update,
            Op::Delete => self.delete,
            Op::Truncate => self.truncate,
            Op::Read | Op::Message => false,
        }
    }
}

/// Every declared key. Type-mapping keys (`decimal.handling.mode`, …) are declared here too
/// so validation names them; the type mapping reads them from the raw properties.
pub fn config_def() -> ConfigDef {
    const CONNECTION: &str = "Connection";
    const FILTERS: &str = "Filters";
    const EVENTS: &str = "Events";
    ConfigDef::new()
        .define(
            ConfigKey::string("database.hostname")
                .required()
                .group(CONNECTION)
                .doc("Host name or address of the MySQL / MariaDB server."),
        )
        .define(
            ConfigKey::int("database.port")
                .default("3306")
                .range(1, 65_535)
                .group(CONNECTION)
                .doc("TCP port of the server."),
        )
        .define(
            ConfigKey::string("database.user")
                .required()
                .group(CONNECTION)
                .doc("Account with SELECT, RELOAD, REPLICATION SLAVE and REPLICATION CLIENT."),
        )
        .define(
            ConfigKey::password("database.password")
                .group(CONNECTION)
                .doc("Password of database.user."),
        )
        .define(
            ConfigKey::long("database.server.id")
                .required()
                .range(1, u32::MAX as i64)
                .group(CONNECTION)
                .doc("Replica server id this connector registers with; unique among replicas."),
        )
        .define(
            ConfigKey::string("topic.prefix")
                .required()
                .importance(Importance::High)
                .doc("Logical server name: prefix of every topic and the offset partition."),
        )
        .define(
            ConfigKey::string("database.ssl.mode")
                .default("disabled")
                .one_of(&[
                    "disabled",
                    "preferred",
                    "required",
                    "verify_ca",
                    "verify_identity",
                ])
                .group(CONNECTION)
                .doc("TLS to the server."),
        )
        .define(
            ConfigKey::long("connect.timeout.ms")
                .default("30000")
                .at_least(1)
                .group(CONNECTION)
                .doc("How long to wait for a connection to the server."),
        )
        .define(list_key(
            "database.include.list",
            FILTERS,
            "Databases to capture (regexes).",
        ))
        .define(list_key(
            "database.exclude.list",
            FILTERS,
            "Databases not to capture (regexes).",
        ))
        .define(list_key(
            "table.include.list",
            FILTERS,
            "Tables to capture, db.table regexes.",
        ))
        .define(list_key(
            "table.exclude.list",
            FILTERS,
            "Tables not to capture, db.table regexes.",
        ))
        .define(list_key(
            "column.include.list",
            FILTERS,
            "Columns to capture, db.table.column regexes.",
        ))
        .define(list_key(
            "column.exclude.list",
            FILTERS,
            "Columns not to capture, db.table.column regexes.",
        ))
        .define(
            ConfigKey::string("message.key.columns")
                .group(FILTERS)
                .doc("Key columns for tables: db.table:col1,col2;db.table2:col."),
        )
        .define(list_key(
            "gtid.source.includes",
            FILTERS,
            "GTID sources (server UUIDs / MariaDB domains) to follow.",
        ))
        .define(list_key(
            "gtid.source.excludes",
            FILTERS,
            "GTID sources to ignore.",
        ))
        .define(
            ConfigKey::string("snapshot.mode")
                .default("initial")
                .one_of(&[
                    "initial",
                    "initial_only",
                    "no_data",
                    "schema_only",
                    "never",
                    "always",
                    "when_needed",
                    "recovery",
                    "schema_only_recovery",
                ])
                .doc("When to snapshot the tables."),
        )
        .define(
            ConfigKey::string("snapshot.locking.mode")
                .default("minimal")
                .one_of(&["minimal", "none", "extended"])
                .doc("Locks taken to find a consistent snapshot position (MariaDB needs none)."),
        )
        .define(bool_key(
            "include.schema.changes",
            "true",
            EVENTS,
            "Write DDL to the <prefix> topic.",
        ))
        .define(
            ConfigKey::string(crate::history::HISTORY_TOPIC_KEY)
                .default(crate::history::DEFAULT_HISTORY_TOPIC)
                .group(EVENTS)
                .doc(
                    "Internal topic holding every DDL and the schemas it left (1 partition, \
                     never cleaned); give each connector its own when several share a topic.prefix.",
                ),
        )
        .define(bool_key(
            "include.query",
            "false",
            EVENTS,
            "Fill source.query from ANNOTATE_ROWS / ROWS_QUERY events.",
        ))
        .define(bool_key(
            "tombstones.on.delete",
            "true",
            EVENTS,
            "Emit a tombstone after each delete.",
        ))
        .define(
            ConfigKey::list("skipped.operations")
                .default("t")
                .group(EVENTS)
                .doc("Operations not emitted: c, u, d, t (truncate), or none."),
        )
        .define(bool_key(
            "provide.transaction.metadata",
            "false",
            EVENTS,
            "Write BEGIN/END records to <prefix>.transaction and a transaction block in events.",
        ))
        .define(
            ConfigKey::string("decimal.handling.mode")
                .default("precise")
                .one_of(&["precise", "double", "string"])
                .group(EVENTS)
                .doc("DECIMAL as Connect Decimal, double or string."),
        )
        .define(
            ConfigKey::string("time.precision.mode")
                .default("adaptive_time_microseconds")
                .one_of(&["adaptive_time_microseconds", "adaptive", "connect"])
                .group(EVENTS)
                .doc("How temporal values are represented."),
        )
        .define(
            ConfigKey::string("bigint.unsigned.handling.mode")
                .default("long")
                .one_of(&["long", "precise"])
                .group(EVENTS)
                .doc("BIGINT UNSIGNED as int64 or Connect Decimal."),
        )
        .define(
            ConfigKey::string("binary.handling.mode")
                .default("bytes")
                .one_of(&["bytes", "base64", "base64-url-safe", "hex"])
                .group(EVENTS)
                .doc("How binary columns are represented."),
        )
        .define(
            ConfigKey::long("heartbeat.interval.ms")
                .default("0")
                .at_least(0)
                .group(EVENTS)
                .doc("Emit a heartbeat record this often (0: never)."),
        )
        .define(
            ConfigKey::int("max.batch.size")
                .default("2048")
                .range(1, 1_000_000)
                .doc("Most records returned by one poll."),
        )
        .define(
            ConfigKey::int("max.queue.size")
                .default("8192")
                .range(1, 10_000_000)
                .doc("Most binlog events buffered between the reader and the task."),
        )
        .define(
            ConfigKey::long("max.queue.size.in.bytes")
                .default("0")
                .at_least(0)
                .doc("Most estimated bytes of queued records (0: bounded by max.queue.size only)."),
        )
}

fn list_key(name: &'static str, group: &'static str, doc: &'static str) -> ConfigKey {
    ConfigKey::list(name).group(group).doc(doc)
}

fn bool_key(
    name: &'static str,
    default: &'static str,
    group: &'static str,
    doc: &'static str,
) -> ConfigKey {
    ConfigKey::boolean(name)
        .default(default)
        .group(group)
        .doc(doc)
}

/// The typed settings of one connector, parsed once from its properties.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub hostname: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub server_id: u32,
    pub topic_prefix: String,
    pub snapshot_mode: SnapshotMode,
    pub include_schema_changes: bool,
    pub include_query: bool,
    pub tombstones: Tombstones,
    pub transaction_metadata: bool,
    pub skipped_operations: SkippedOperations,
    pub heartbeat_interval: Option<Duration>,
    pub max_batch_size: usize,
    pub max_queue_size: usize,
    /// 0 means "not bounded in bytes".
    pub max_queue_bytes: u64,
    pub connect_timeout: Duration,
    pub ssl_mode: String,
    pub database_include: Vec<String>,
    pub database_exclude: Vec<String>,
    /// The raw properties, for the type mapping's own keys.
    pub props: Props,
}

impl SourceConfig {
    /// Validates and types `props`; the error names the first bad key.
    pub fn parse(props: &Props) -> Result<Self> {
        let parsed: Config = config_def().parse(props).map_err(Error::config)?;
        let mode_text = parsed
            .required_string("snapshot.mode")
            .map_err(Error::config)?;
        let snapshot_mode = SnapshotMode::parse(mode_text).ok_or_else(|| {
            Error::config(sluice_connect::Error::InvalidConfig {
                key: "snapshot.mode".into(),
                value: mode_text.into(),
                reason: "not a snapshot mode".into(),
            })
        })?;
        let integer = |key: &str| parsed.integer(key).map_err(Error::config);
        let boolean = |key: &str| parsed.boolean(key).map_err(Error::config);
        let heartbeat_ms = integer("heartbeat.interval.ms")?;
        let topic_prefix = parsed
            .required_string("topic.prefix")
            .map_err(Error::config)?
            .to_owned();
        if topic_prefix.is_empty()
            || !topic_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(Error::config(sluice_connect::Error::InvalidConfig {
                key: "topic.prefix".into(),
                value: topic_prefix,
                reason: "use only letters, digits, '.', '_' and '-' (it prefixes topic names)"
                    .into(),
            }));
        }
        Ok(Self {
            hostname: parsed
                .required_string("database.hostname")
                .map_err(Error::config)?
                .to_owned(),
            port: integer("database.port")? as u16,
            user: parsed
                .required_string("database.user")
                .map_err(Error::config)?
                .to_owned(),
            password: parsed
                .password("database.password")
                .map(|secret| secret.expose().to_owned()),
            server_id: integer("database.server.id")? as u32,
            topic_prefix,
            snapshot_mode,
            include_schema_changes: boolean("include.schema.changes")?,
            include_query: boolean("include.query")?,
            tombstones: if boolean("tombstones.on.delete")? {
                Tombstones::Emit
            } else {
                Tombstones::Skip
            },
            transaction_metadata: boolean("provide.transaction.metadata")?,
            skipped_operations: SkippedOperations::parse(parsed.list("skipped.operations"))?,
            heartbeat_interval: (heartbeat_ms > 0)
                .then(|| Duration::from_millis(heartbeat_ms as u64)),
            max_batch_size: integer("max.batch.size")? as usize,
            max_queue_size: integer("max.queue.size")? as usize,
            max_queue_bytes: integer("max.queue.size.in.bytes")? as u64,
            connect_timeout: Duration::from_millis(integer("connect.timeout.ms")? as u64),
            ssl_mode: parsed
                .required_string("database.ssl.mode")
                .map_err(Error::config)?
                .to_ascii_lowercase(),
            database_include: parsed.list("database.include.list").to_vec(),
            database_exclude: parsed.list("database.exclude.list").to_vec(),
            props: props.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn minimal() -> Props {
        props(&[
            ("database.hostname", "127.0.0.1"),
            ("database.user", "debezium"),
            ("database.password", "dbz"),
            ("database.server.id", "184054"),
            ("topic.prefix", "dbserver1"),
        ])
    }

    #[test]
    fn defaults_follow_debezium() {
        let config = SourceConfig::parse(&minimal()).unwrap();
        assert_eq!(config.port, 3306);
        assert_eq!(config.snapshot_mode, SnapshotMode::Initial);
        assert_eq!(config.tombstones, Tombstones::Emit);
        assert!(config.include_schema_changes);
        assert!(!config.transaction_metadata);
        assert_eq!(config.heartbeat_interval, None);
        assert_eq!(config.password.as_deref(), Some("dbz"));
        assert!(config.skipped_operations.contains(Op::Truncate));
        assert!(!config.skipped_operations.contains(Op::Delete));
    }

    #[test]
    fn skipped_operations_parse() {
        let mut none = minimal();
        none.insert("skipped.operations".into(), "none".into());
        let config = SourceConfig::parse(&none).unwrap();
        assert_eq!(config.skipped_operations, SkippedOperations::default());
        let mut some = minimal();
        some.insert("skipped.operations".into(), "c, D".into());
        let skipped = SourceConfig::parse(&some).unwrap().skipped_operations;
        assert!(skipped.contains(Op::Create) && skipped.contains(Op::Delete));
        assert!(!skipped.contains(Op::Update) && !skipped.contains(Op::Truncate));
        some.insert("skipped.operations".into(), "c,x".into());
        let error = SourceConfig::parse(&some).unwrap_err().to_string();
        assert!(error.contains("skipped.operations"), "{error}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let mut bad = minimal();
        bad.insert("snapshot.mode".into(), "sometimes".into());
        let error = SourceConfig::parse(&bad).unwrap_err().to_string();
        assert!(error.contains("snapshot.mode"), "{error}");
        let mut missing = minimal();
        missing.remove("database.server.id");
        let error = SourceConfig::parse(&missing).unwrap_err().to_string();
        assert!(error.contains("database.server.id"), "{error}");
        let mut prefix = minimal();
        prefix.insert("topic.prefix".into(), "a/b".into());
        let error = SourceConfig::parse(&prefix).unwrap_err().to_string();
        assert!(error.contains("topic.prefix"), "{error}");
    }

    #[test]
    fn snapshot_modes_decide_on_data() {
        assert!(SnapshotMode::Initial.snapshots_data(false));
        assert!(!SnapshotMode::Initial.snapshots_data(true));
        assert!(SnapshotMode::Always.snapshots_data(true));
        assert!(!SnapshotMode::NoData.snapshots_data(false));
        assert_eq!(
            SnapshotMode::parse("schema_only"),
            Some(SnapshotMode::NoData)
        );
    }
}
