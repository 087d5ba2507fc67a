//! The connector's configuration: Debezium's PostgreSQL keys declared as a [`ConfigDef`]
//! ([`config_def`]) and parsed into the typed [`PostgresConfig`] the task runs with.
//!
//! Values a key cannot take fail with the runtime's `InvalidConfig`, naming the key and the
//! accepted values; cross-key rules (e.g. a `filtered` publication needs a table or schema
//! list) are checked in [`PostgresConfig::from_props`].

use std::time::Duration;

use sluice_connect::config::{ConfigDef, ConfigKey, Props, Secret};
use sluice_connect::error::Error as ConnectError;

use crate::error::Result;
use crate::tls::{SslMode, TlsSettings};

/// `plugin.name`: the only logical decoding plugin Sluice decodes.
pub const PLUGIN: &str = "pgoutput";

/// Every key the connector declares, with Debezium's defaults.
pub fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(ConfigKey::string("database.hostname").required().group("Connection")
            .doc("Host name or address of the PostgreSQL server."))
        .define(ConfigKey::int("database.port").default("5432").range(1, 65_535).group("Connection")
            .doc("Port of the PostgreSQL server."))
        .define(ConfigKey::string("database.user").required().group("Connection")
            .doc("User to connect as; needs the REPLICATION attribute (or superuser) and SELECT on the captured tables."))
        .define(ConfigKey::password("database.password").group("Connection")
            .doc("Password of database.user."))
        .define(ConfigKey::string("database.dbname").required().group("Connection")
            .doc("The database to capture."))
        .define(ConfigKey::string("database.sslmode").default("prefer")
            .one_of(&SslMode::NAMES).group("Connection")
            .doc("TLS of both connections: disable; prefer (TLS when the server offers it, unchecked); require (TLS, certificate unchecked); verify-ca (certificate chain checked against database.sslrootcert); verify-full (chain and host name checked)."))
        .define(ConfigKey::string("database.sslrootcert").group("Connection")
            .doc("PEM file of the CA certificate(s) the server's certificate must chain to; needed by verify-ca and verify-full."))
        .define(ConfigKey::string("topic.prefix").required().group("Topics")
            .doc("Logical server name: prefix of every topic and the source partition's key."))
        .define(ConfigKey::list("schema.include.list").group("Filters")
            .doc("Regular expressions of schemas to capture (whole-name match)."))
        .define(ConfigKey::list("schema.exclude.list").group("Filters")
            .doc("Regular expressions of schemas not to capture."))
        .define(ConfigKey::list("table.include.list").group("Filters")
            .doc("Regular expressions of tables (schema.table) to capture."))
        .define(ConfigKey::list("table.exclude.list").group("Filters")
            .doc("Regular expressions of tables (schema.table) not to capture."))
        .define(ConfigKey::list("column.include.list").group("Filters")
            .doc("Regular expressions of columns (schema.table.column) to include."))
        .define(ConfigKey::list("column.exclude.list").group("Filters")
            .doc("Regular expressions of columns (schema.table.column) to leave out."))
        .define(ConfigKey::list("logical.decoding.message.prefix.include.list").group("Filters")
            .doc("Regular expressions of logical decoding message prefixes to emit (whole-prefix match)."))
        .define(ConfigKey::list("logical.decoding.message.prefix.exclude.list").group("Filters")
            .doc("Regular expressions of logical decoding message prefixes not to emit."))
        .define(ConfigKey::string("plugin.name").default(PLUGIN).one_of(&[PLUGIN]).group("Replication")
            .doc("Logical decoding plugin; only pgoutput is supported."))
        .define(ConfigKey::string("slot.name").default("debezium").group("Replication")
            .doc("Name of the logical replication slot."))
        .define(ConfigKey::boolean("slot.drop.on.stop").default("false").group("Replication")
            .doc("Drop the slot when the connector stops (for tests; loses the position)."))
        .define(ConfigKey::string("publication.name").default("dbz_publication").group("Replication")
            .doc("Name of the publication the slot streams."))
        .define(ConfigKey::string("publication.autocreate.mode").default("all_tables")
            .one_of(&["all_tables", "filtered", "disabled", "no_tables"]).group("Replication")
            .doc("Create the publication for all tables, for the filtered tables, or not at all."))
        .define(ConfigKey::string("snapshot.mode").default("initial")
            .one_of(&["initial", "initial_only", "no_data", "never", "always", "when_needed"]).group("Snapshot")
            .doc("When to take a snapshot of the captured tables before streaming."))
        .define(ConfigKey::boolean("tombstones.on.delete").default("true").group("Events")
            .doc("Follow each delete with a tombstone (null value) for log compaction."))
        .define(ConfigKey::string("decimal.handling.mode").default("precise")
            .one_of(&["precise", "double", "string"]).group("Types")
            .doc("How numeric/decimal values are represented."))
        .define(ConfigKey::string("time.precision.mode").default("adaptive")
            .one_of(&["adaptive", "adaptive_time_microseconds", "connect"]).group("Types")
            .doc("How temporal values are represented."))
        .define(ConfigKey::string("interval.handling.mode").default("numeric")
            .one_of(&["numeric", "string"]).group("Types")
            .doc("How intervals are represented: MicroDuration microseconds or ISO-8601 text."))
        .define(ConfigKey::string("binary.handling.mode").default("bytes")
            .one_of(&["bytes", "base64", "base64-url-safe", "hex"]).group("Types")
            .doc("How bytea values are represented."))
        .define(ConfigKey::int("money.fraction.digits").default("2").range(0, 30).group("Types")
            .doc("Scale of money values."))
        .define(ConfigKey::long("heartbeat.interval.ms").default("0").at_least(0).group("Events")
            .doc("Emit a heartbeat record this often (0: never)."))
        .define(ConfigKey::string("heartbeat.action.query").group("Events")
            .doc("SQL run against the database on each heartbeat."))
        .define(ConfigKey::int("max.batch.size").default("2048").range(1, 1_000_000).group("Queue")
            .doc("Most records one poll returns."))
        .define(ConfigKey::int("max.queue.size").default("8192").range(1, 10_000_000).group("Queue")
            .doc("Most records buffered between the database reader and the runtime."))
        .define(ConfigKey::long("max.queue.size.in.bytes").default("0").at_least(0).group("Queue")
            .doc("Most bytes buffered between the database reader and the runtime (0: 64 MiB)."))
        .define(ConfigKey::boolean("provide.transaction.metadata").default("false").group("Events")
            .doc("Emit BEGIN/END records to <prefix>.transaction and a transaction block in events."))
        .define(ConfigKey::string("message.key.columns").group("Events")
            .doc("Key columns per table: <schema.table>:<col>,<col>;… for tables without a primary key."))
        .define(ConfigKey::string("unavailable.value.placeholder").default("__debezium_unavailable_value").group("Types")
            .doc("Value of a TOASTed column the change did not carry."))
        .define(ConfigKey::boolean("include.unknown.datatypes").default("false").group("Types")
            .doc("Emit columns of unknown types as their text instead of leaving them out."))
        .define(ConfigKey::long("xmin.fetch.interval.ms").default("0").at_least(0).group("Events")
            .doc("How often the slot's catalog_xmin is read for source.xmin (0: never; xmin stays null)."))
        .define(ConfigKey::long("status.update.interval.ms").default("1000").range(10, 600_000).group("Replication")
            .doc("How often the durable position is reported to the server."))
        .define(ConfigKey::long("retriable.restart.connector.wait.ms").default("10000").range(10, 3_600_000).group("Replication")
            .doc("Longest pause between reconnection attempts after the server went away."))
}

/// `publication.autocreate.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicationMode {
    /// `CREATE PUBLICATION … FOR ALL TABLES` when it does not exist.
    AllTables,
    /// A publication of the captured tables, kept in line with the filters at each start.
    Filtered,
    /// The publication must exist.
    Disabled,
    /// An empty publication tables are added to by hand.
    NoTables,
}

/// `snapshot.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotMode {
    /// Snapshot when no offset is stored, then stream.
    Initial,
    /// Snapshot when no offset is stored, then stop reading.
    InitialOnly,
    /// Never snapshot the data (`no_data`, formerly `never`).
    NoData,
    /// Snapshot at every start (a fresh slot each time), then stream.
    Always,
    /// Snapshot when no offset is stored or the stored position is no longer in the slot.
    WhenNeeded,
}

/// The typed connector configuration.
#[derive(Debug, Clone)]
pub struct PostgresConfig {
    pub hostname: String,
    pub port: u16,
    pub user: String,
    pub password: Option<Secret>,
    pub dbname: String,
    pub tls: TlsSettings,
    pub topic_prefix: String,
    pub schema_include: Vec<String>,
    pub schema_exclude: Vec<String>,
    pub table_include: Vec<String>,
    pub table_exclude: Vec<String>,
    pub column_include: Vec<String>,
    pub column_exclude: Vec<String>,
    pub message_prefix_include: Vec<String>,
    pub message_prefix_exclude: Vec<String>,
    pub slot_name: String,
    pub slot_drop_on_stop: bool,
    pub publication_name: String,
    pub publication_mode: PublicationMode,
    pub snapshot_mode: SnapshotMode,
    pub tombstones_on_delete: bool,
    pub decimal_handling_mode: String,
    pub time_precision_mode: String,
    pub heartbeat_interval: Option<Duration>,
    pub heartbeat_action_query: Option<String>,
    pub xmin_fetch_interval: Option<Duration>,
    pub max_batch_size: usize,
    pub max_queue_size: usize,
    pub max_queue_bytes: usize,
    pub provide_transaction_metadata: bool,
    pub message_key_columns: Option<String>,
    pub unavailable_value_placeholder: String,
    pub include_unknown_datatypes: bool,
    pub status_interval: Duration,
    pub max_retry_wait: Duration,
}

/// The queue's byte bound when `max.queue.size.in.bytes` is 0.
const DEFAULT_QUEUE_BYTES: usize = 64 << 20;

impl PostgresConfig {
    /// Validates and types `props`.
    pub fn from_props(props: &Props) -> Result<Self> {
        let parsed = config_def().parse(props)?;
        let text = |key: &str| parsed.string(key).map(str::to_string);
        let required =
            |key: &str| -> Result<String> { Ok(parsed.required_string(key)?.to_string()) };
        let lower = |key: &str| text(key).unwrap_or_default().to_ascii_lowercase();
        let publication_mode = match lower("publication.autocreate.mode").as_str() {
            "filtered" => PublicationMode::Filtered,
            "disabled" => PublicationMode::Disabled,
            "no_tables" => PublicationMode::NoTables,
            _ => PublicationMode::AllTables,
        };
        let snapshot_mode = match lower("snapshot.mode").as_str() {
            "initial_only" => SnapshotMode::InitialOnly,
            "no_data" | "never" => SnapshotMode::NoData,
            "always" => SnapshotMode::Always,
            "when_needed" => SnapshotMode::WhenNeeded,
            _ => SnapshotMode::Initial,
        };
        let heartbeat_ms = parsed.integer("heartbeat.interval.ms")?;
        let queue_bytes = parsed.integer("max.queue.size.in.bytes")?;
        let config = Self {
            hostname: required("database.hostname")?,
            port: parsed.integer("database.port")? as u16,
            user: required("database.user")?,
            password: parsed.password("database.password").cloned(),
            dbname: required("database.dbname")?,
            tls: TlsSettings {
                mode: SslMode::parse(&lower("database.sslmode")).unwrap_or(SslMode::Prefer),
                root_cert: text("database.sslrootcert")
                    .filter(|path| !path.is_empty())
                    .map(Into::into),
            },
            topic_prefix: required("topic.prefix")?,
            schema_include: parsed.list("schema.include.list").to_vec(),
            schema_exclude: parsed.list("schema.exclude.list").to_vec(),
            table_include: parsed.list("table.include.list").to_vec(),
            table_exclude: parsed.list("table.exclude.list").to_vec(),
            column_include: parsed.list("column.include.list").to_vec(),
            column_exclude: parsed.list("column.exclude.list").to_vec(),
            message_prefix_include: parsed
                .list("logical.decoding.message.prefix.include.list")
                .to_vec(),
            message_prefix_exclude: parsed
                .list("logical.decoding.message.prefix.exclude.list")
                .to_vec(),
            slot_name: required("slot.name")?,
            slot_drop_on_stop: parsed.boolean("slot.drop.on.stop")?,
            publication_name: required("publication.name")?,
            publication_mode,
            snapshot_mode,
            tombstones_on_delete: parsed.boolean("tombstones.on.delete")?,
            decimal_handling_mode: lower("decimal.handling.mode"),
            time_precision_mode: lower("time.precision.mode"),
            heartbeat_interval: (heartbeat_ms > 0)
                .then(|| Duration::from_millis(heartbeat_ms as u64)),
            heartbeat_action_query: text("heartbeat.action.query").filter(|q| !q.is_empty()),
            xmin_fetch_interval: Some(parsed.integer("xmin.fetch.interval.ms")?)
                .filter(|ms| *ms > 0)
                .map(|ms| Duration::from_millis(ms as u64)),
            max_batch_size: parsed.integer("max.batch.size")? as usize,
            max_queue_size: parsed.integer("max.queue.size")? as usize,
            max_queue_bytes: if queue_bytes == 0 {
                DEFAULT_QUEUE_BYTES
            } else {
                queue_bytes as usize
            },
            provide_transaction_metadata: parsed.boolean("provide.transaction.metadata")?,
            message_key_columns: text("message.key.columns").filter(|k| !k.is_empty()),
            unavailable_value_placeholder: required("unavailable.value.placeholder")?,
            include_unknown_datatypes: parsed.boolean("include.unknown.datatypes")?,
            status_interval: Duration::from_millis(
                parsed.integer("status.update.interval.ms")? as u64
            ),
            max_retry_wait: Duration::from_millis(
                parsed.integer("retriable.restart.connector.wait.ms")? as u64,
            ),
        };
        config.check_combinations()?;
        Ok(config)
    }

    fn check_combinations(&self) -> Result<()> {
        let invalid = |key: &str, value: &str, reason: &str| {
            crate::Error::from(ConnectError::InvalidConfig {
                key: key.into(),
                value: value.into(),
                reason: reason.into(),
            })
        };
        for (key, value) in [
            ("slot.name", &self.slot_name),
            ("publication.name", &self.publication_name),
        ] {
            if !is_plain_identifier(value) {
                return Err(invalid(
                    key,
                    value,
                    "use lower-case letters, digits and underscores, starting with a letter or \
                     underscore (at most 63 characters), as PostgreSQL requires for slot names",
                ));
            }
        }
        if self.publication_mode == PublicationMode::Filtered
            && self.table_include.is_empty()
            && self.schema_include.is_empty()
        {
            return Err(invalid(
                "publication.autocreate.mode",
                "filtered",
                "a filtered publication needs table.include.list or schema.include.list",
            ));
        }
        if !self.schema_include.is_empty() && !self.schema_exclude.is_empty() {
            return Err(invalid(
                "schema.exclude.list",
                &self.schema_exclude.join(","),
                "give schema.include.list or schema.exclude.list, not both",
            ));
        }
        if !self.table_include.is_empty() && !self.table_exclude.is_empty() {
            return Err(invalid(
                "table.exclude.list",
                &self.table_exclude.join(","),
                "give table.include.list or table.exclude.list, not both",
            ));
        }
        if !self.message_prefix_include.is_empty() && !self.message_prefix_exclude.is_empty() {
            return Err(invalid(
                "logical.decoding.message.prefix.exclude.list",
                &self.message_prefix_exclude.join(","),
                "give logical.decoding.message.prefix.include.list or .exclude.list, not both",
            ));
        }
        if self.tls.mode.verifies_chain() && self.tls.root_cert.is_none() {
            return Err(invalid(
                "database.sslrootcert",
                "",
                &format!(
                    "database.sslmode={} checks the server's certificate: set \
                     database.sslrootcert to the PEM file of the CA that issued it (or use \
                     database.sslmode=require to encrypt without checking)",
                    self.tls.mode
                ),
            ));
        }
        Ok(())
    }

    /// The source partition of every record: `{"server": <topic.prefix>}`.
    pub fn source_partition(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut partition = serde_json::Map::new();
        partition.insert(
            "server".into(),
            serde_json::Value::String(self.topic_prefix.clone()),
        );
        partition
    }

    /// The password's text (empty when none was given).
    pub fn password_text(&self) -> &str {
        self.password.as_ref().map_or("", Secret::expose)
    }
}

/// Whether `name` is a lower-case SQL identifier that needs no quoting.
pub fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(extra: &[(&str, &str)]) -> Props {
        let mut props = Props::new();
        for (key, value) in [
            ("database.hostname", "127.0.0.1"),
            ("database.user", "u"),
            ("database.password", "secret"),
            ("database.dbname", "db"),
            ("topic.prefix", "dbserver1"),
        ]
        .iter()
        .chain(extra)
        {
            props.insert(key.to_string(), value.to_string());
        }
        props
    }

    #[test]
    fn defaults_follow_debezium() {
        let config = PostgresConfig::from_props(&props(&[])).unwrap();
        assert_eq!(config.port, 5432);
        assert_eq!(config.slot_name, "debezium");
        assert_eq!(config.publication_name, "dbz_publication");
        assert_eq!(config.publication_mode, PublicationMode::AllTables);
        assert_eq!(config.snapshot_mode, SnapshotMode::Initial);
        assert!(config.tombstones_on_delete);
        assert_eq!(
            config.unavailable_value_placeholder,
            "__debezium_unavailable_value"
        );
        assert_eq!(config.heartbeat_interval, None);
        assert_eq!(config.password_text(), "secret");
        assert_eq!(config.source_partition()["server"], "dbserver1");
        assert_eq!(config.tls.mode, SslMode::Prefer);
        assert_eq!(config.tls.root_cert, None);
    }

    #[test]
    fn tls_settings_are_read_and_checked() {
        let config = PostgresConfig::from_props(&props(&[
            ("database.sslmode", "verify-full"),
            ("database.sslrootcert", "/etc/ca.pem"),
        ]))
        .unwrap();
        assert_eq!(config.tls.mode, SslMode::VerifyFull);
        assert_eq!(
            config.tls.root_cert.as_deref(),
            Some("/etc/ca.pem".as_ref())
        );
        let error = PostgresConfig::from_props(&props(&[("database.sslmode", "verify-ca")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("database.sslrootcert"), "{error}");
        let error = PostgresConfig::from_props(&props(&[("database.sslmode", "allow")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("database.sslmode"), "{error}");
    }

    #[test]
    fn bad_values_name_the_key() {
        let error = PostgresConfig::from_props(&props(&[("snapshot.mode", "sometimes")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("snapshot.mode"), "{error}");
        let error = PostgresConfig::from_props(&props(&[("slot.name", "Bad-Slot")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("slot.name"), "{error}");
        let error =
            PostgresConfig::from_props(&props(&[("publication.autocreate.mode", "filtered")]))
                .unwrap_err()
                .to_string();
        assert!(error.contains("table.include.list"), "{error}");
        let mut missing = props(&[]);
        missing.remove("topic.prefix");
        let error = PostgresConfig::from_props(&missing)
            .unwrap_err()
            .to_string();
        assert!(error.contains("topic.prefix"), "{error}");
    }
}

/// A valid configuration for unit tests of other modules.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub(crate) fn minimal() -> PostgresConfig {
        with(&[])
    }

    /// The minimal configuration plus `extra` keys.
    pub(crate) fn with(extra: &[(&str, &str)]) -> PostgresConfig {
        let mut props = Props::new();
        for (key, value) in [
            ("database.hostname", "127.0.0.1"),
            ("database.user", "u"),
            ("database.dbname", "db"),
            ("topic.prefix", "dbserver1"),
        ]
        .iter()
        .chain(extra)
        {
            props.insert(key.to_string(), value.to_string());
        }
        PostgresConfig::from_props(&props).expect("valid configuration")
    }
}
