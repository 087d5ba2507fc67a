//! The worker's own configuration (`worker.toml`): where data lives, which addresses to
//! listen on, broker durability, queue bounds and shutdown deadlines.
//!
//! Layers, later ones winning: built-in defaults < the TOML file < `SLUICE_*` environment
//! variables (`SLUICE_DATA_DIR`, `SLUICE_REST__LISTEN`: a double underscore descends into a
//! table) < command-line flags (passed in as overrides).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// Environment variables with the `SLUICE_` prefix that belong to the client commands,
/// not to the worker configuration.
const CLIENT_ENVIRONMENT_KEYS: &[&str] = &["server"];

/// The whole worker configuration.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default)]
pub struct WorkerConfig {
    /// Directory holding the broker's topics (and with them offsets, configs, statuses).
    pub data_dir: PathBuf,
    pub rest: RestConfig,
    pub kafka: KafkaListenerConfig,
    pub broker: BrokerSettings,
    pub worker: RuntimeSettings,
    pub log: LogSettings,
    /// Keys nobody reads; reported as warnings so typos do not pass silently.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, serde::de::IgnoredAny>,
}

/// The Kafka Connect-compatible REST API.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct RestConfig {
    pub listen: String,
}

/// The Kafka wire-protocol listener; off unless an address is given.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaListenerConfig {
    pub listen: Option<String>,
}

/// When appended records are forced to disk.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FsyncMode {
    /// Every acknowledged append is on disk: survives `kill -9` and power loss.
    Always,
    /// Appends are flushed every `fsync_interval_ms`: survives `kill -9`, not power loss.
    Interval,
}

/// The embedded broker.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct BrokerSettings {
    pub fsync: FsyncMode,
    pub fsync_interval_ms: u64,
    pub auto_create_topics: bool,
    pub default_partitions: u32,
    pub segment_bytes: u64,
    /// -1 keeps data forever.
    pub retention_ms: i64,
    /// `compression.type` of the topics the worker creates (on first use and through the REST
    /// API when the request names none): `lz4` (the default: JSON change events shrink
    /// 5–25×, which saves more disk and page-cache work than the compression costs),
    /// `uncompressed`, or `producer` (stored as appended, i.e. uncompressed).
    pub compression_type: sluice_broker::CompressionType,
}

/// Task execution.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeSettings {
    /// Upper bound, in bytes, of records queued between a task and the broker. The default,
    /// 16 MiB, is several appends' worth (the appender merges what waits into one append), so
    /// a larger queue buys no throughput, only memory.
    pub queue_max_bytes: u64,
    /// How often source offsets are committed while records flow.
    pub offset_flush_interval_ms: u64,
    /// How long a graceful stop may take before tasks are abandoned.
    pub shutdown_timeout_ms: u64,
}

/// How the worker logs.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Human,
    Json,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `sluice_broker=debug,info`.
    pub level: String,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            rest: RestConfig::default(),
            kafka: KafkaListenerConfig::default(),
            broker: BrokerSettings::default(),
            worker: RuntimeSettings::default(),
            log: LogSettings::default(),
            unknown: BTreeMap::new(),
        }
    }
}

impl Default for RestConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8083".into(),
        }
    }
}

impl Default for BrokerSettings {
    fn default() -> Self {
        Self {
            fsync: FsyncMode::Always,
            fsync_interval_ms: 1000,
            auto_create_topics: true,
            default_partitions: 1,
            segment_bytes: 256 * 1024 * 1024,
            retention_ms: -1,
            compression_type: sluice_broker::CompressionType::Lz4,
        }
    }
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        Self {
            queue_max_bytes: 16 * 1024 * 1024,
            offset_flush_interval_ms: 1000,
            shutdown_timeout_ms: 30_000,
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Human,
            level: "info".into(),
        }
    }
}

impl WorkerConfig {
    /// Loads the layered configuration. `overrides` are dotted keys from flags
    /// (`rest.listen`, `data_dir`), applied last.
    pub fn load(file: Option<&Path>, overrides: &[(&str, String)]) -> Result<Self> {
        Self::load_with_env(file, overrides, std::env::vars())
    }

    /// [`WorkerConfig::load`] with an explicit environment, for tests.
    pub fn load_with_env(
        file: Option<&Path>,
        overrides: &[(&str, String)],
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self> {
        let invalid =
            |what: String, source: config::ConfigError| Error::InvalidWorkerConfig { what, source };
        let mut builder = config::Config::builder();
        if let Some(file) = file {
            if !file.exists() {
                return Err(Error::Io {
                    context: format!("cannot read worker configuration {}", file.display()),
                    source: std::io::Error::from(std::io::ErrorKind::NotFound),
                });
            }
            builder = builder.add_source(config::File::from(file).required(true));
        }
        let environment: config::Map<String, String> = env
            .into_iter()
            .filter(|(name, _)| {
                name.strip_prefix("SLUICE_").is_some_and(|rest| {
                    !CLIENT_ENVIRONMENT_KEYS.contains(&rest.to_ascii_lowercase().as_str())
                })
            })
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix("SLUICE")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true)
                .source(Some(environment)),
        );
        for (key, value) in overrides {
            builder = builder
                .set_override(*key, value.as_str())
                .map_err(|source| invalid(format!("flag for {key}"), source))?;
        }
        let what = match file {
            Some(file) => format!("worker configuration {}", file.display()),
            None => "worker configuration from the environment".to_string(),
        };
        let built = builder
            .build()
            .map_err(|source| invalid(what.clone(), source))?;
        let config: WorkerConfig = built
            .try_deserialize()
            .map_err(|source| invalid(what, source))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<()> {
        let bad = |key: &str, value: String, reason: &str| {
            Err(Error::InvalidConfig {
                key: key.into(),
                value,
                reason: reason.into(),
            })
        };
        if self.broker.default_partitions == 0 {
            return bad(
                "broker.default_partitions",
                "0".into(),
                "must be at least 1",
            );
        }
        if self.worker.queue_max_bytes < 1024 {
            return bad(
                "worker.queue_max_bytes",
                self.worker.queue_max_bytes.to_string(),
                "must be at least 1024 bytes",
            );
        }
        if self.broker.fsync == FsyncMode::Interval && self.broker.fsync_interval_ms == 0 {
            return bad(
                "broker.fsync_interval_ms",
                "0".into(),
                "must be positive when broker.fsync = \"interval\"",
            );
        }
        Ok(())
    }

    /// The embedded broker's settings derived from this configuration.
    pub fn broker_config(&self) -> sluice_broker::BrokerConfig {
        let settings = &self.broker;
        let topic_defaults = sluice_broker::TopicConfig {
            partitions: settings.default_partitions,
            retention_ms: settings.retention_ms,
            segment_bytes: settings.segment_bytes,
            compression_type: settings.compression_type,
            ..sluice_broker::TopicConfig::default()
        };
        sluice_broker::BrokerConfig {
            fsync: match settings.fsync {
                FsyncMode::Always => sluice_broker::FsyncPolicy::EveryAppend,
                FsyncMode::Interval => sluice_broker::FsyncPolicy::Interval(
                    std::time::Duration::from_millis(settings.fsync_interval_ms),
                ),
            },
            auto_create_topics: if settings.auto_create_topics {
                sluice_broker::AutoCreateTopics::Enabled(topic_defaults)
            } else {
                sluice_broker::AutoCreateTopics::Disabled
            },
            ..sluice_broker::BrokerConfig::default()
        }
    }

    /// Top-level keys no part of the worker reads, for a start-up warning.
    pub fn unknown_keys(&self) -> impl Iterator<Item = &str> {
        self.unknown.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env() -> Vec<(String, String)> {
        Vec::new()
    }

    #[test]
    fn defaults_without_file() {
        let config = WorkerConfig::load_with_env(None, &[], no_env()).unwrap();
        assert_eq!(config, WorkerConfig::default());
        assert_eq!(config.rest.listen, "127.0.0.1:8083");
    }

    #[test]
    fn file_then_env_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("worker.toml");
        std::fs::write(
            &path,
            "data_dir = \"/var/lib/sluice\"\n[rest]\nlisten = \"0.0.0.0:1\"\n[broker]\nfsync = \"interval\"\nfsync_interval_ms = 50\n",
        )
        .unwrap();
        let env = vec![
            ("SLUICE_REST__LISTEN".to_string(), "127.0.0.1:2".to_string()),
            ("SLUICE_SERVER".to_string(), "http://elsewhere".to_string()),
            ("OTHER".to_string(), "x".to_string()),
        ];
        let config = WorkerConfig::load_with_env(Some(&path), &[], env.clone()).unwrap();
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/sluice"));
        assert_eq!(config.rest.listen, "127.0.0.1:2");
        assert_eq!(config.broker.fsync, FsyncMode::Interval);
        assert_eq!(config.broker.fsync_interval_ms, 50);
        let config = WorkerConfig::load_with_env(
            Some(&path),
            &[("rest.listen", "127.0.0.1:3".to_string())],
            env,
        )
        .unwrap();
        assert_eq!(config.rest.listen, "127.0.0.1:3");
    }

    #[test]
    fn compression_of_created_topics_comes_from_the_broker_section() {
        let env = vec![(
            "SLUICE_BROKER__COMPRESSION_TYPE".to_string(),
            "uncompressed".to_string(),
        )];
        assert_eq!(
            WorkerConfig::default().broker.compression_type,
            sluice_broker::CompressionType::Lz4
        );
        let config = WorkerConfig::load_with_env(None, &[], env).unwrap();
        assert_eq!(
            config.broker.compression_type,
            sluice_broker::CompressionType::Uncompressed
        );
        let sluice_broker::AutoCreateTopics::Enabled(topics) =
            config.broker_config().auto_create_topics
        else {
            panic!("auto-create is on by default");
        };
        assert_eq!(
            topics.compression_type,
            sluice_broker::CompressionType::Uncompressed
        );

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("worker.toml");
        std::fs::write(&path, "[broker]\ncompression_type = \"gzip\"\n").unwrap();
        let err = WorkerConfig::load_with_env(Some(&path), &[], no_env()).unwrap_err();
        assert!(format!("{err}").contains("gzip"), "{err}");
    }

    #[test]
    fn mistakes_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("worker.toml");
        std::fs::write(&path, "[rest]\nlisen = \"x\"\n").unwrap();
        let err = WorkerConfig::load_with_env(Some(&path), &[], no_env()).unwrap_err();
        assert!(format!("{err}").contains("lisen"), "{err}");

        std::fs::write(&path, "[broker]\nfsync = \"sometimes\"\n").unwrap();
        let err = WorkerConfig::load_with_env(Some(&path), &[], no_env()).unwrap_err();
        assert!(format!("{err}").contains("sometimes"), "{err}");

        std::fs::write(&path, "typo_key = 1\n").unwrap();
        let config = WorkerConfig::load_with_env(Some(&path), &[], no_env()).unwrap();
        assert_eq!(config.unknown_keys().collect::<Vec<_>>(), ["typo_key"]);

        let missing = dir.path().join("absent.toml");
        let err = WorkerConfig::load_with_env(Some(&missing), &[], no_env()).unwrap_err();
        assert!(format!("{err}").contains("absent.toml"), "{err}");
    }
}
