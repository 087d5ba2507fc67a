//! The connector registry: a plain table from `connector.class` names to factories. The
//! binary registers the real connectors (Debezium/Kafka class names plus short names such as
//! `postgres`); tests register their own. It also answers `GET /connector-plugins`.
//!
//! A name matches a plugin when it equals its class or one of its aliases, or — as Kafka
//! Connect allows — its simple class name (`PostgresConnector`) or that name without the
//! `Connector` suffix, ignoring case.

use std::fmt;
use std::sync::Arc;

use crate::api::{ConnectorKind, SinkConnector, SourceConnector};
use crate::error::{Error, Result};

/// Well-known class names, for the binary's registrations and for tests.
pub mod classes {
    pub const POSTGRES: &str = "io.debezium.connector.postgresql.PostgresConnector";
    pub const MYSQL: &str = "io.debezium.connector.mysql.MySqlConnector";
    pub const MARIADB: &str = "io.debezium.connector.mariadb.MariaDbConnector";
    pub const FILE_SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";
    pub const HTTP_SINK: &str = "io.sluice.connector.http.HttpSinkConnector";
}

type SourceFactory = Arc<dyn Fn() -> Box<dyn SourceConnector> + Send + Sync>;
type SinkFactory = Arc<dyn Fn() -> Box<dyn SinkConnector> + Send + Sync>;

/// What `GET /connector-plugins` lists for one plugin.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PluginInfo {
    pub class: String,
    #[serde(rename = "type")]
    pub kind: ConnectorKind,
    pub version: String,
}

#[derive(Clone)]
enum Factory {
    Source(SourceFactory),
    Sink(SinkFactory),
}

/// A new connector instance of either kind.
#[derive(Debug)]
pub enum ConnectorInstance {
    Source(Box<dyn SourceConnector>),
    Sink(Box<dyn SinkConnector>),
}

impl ConnectorInstance {
    pub fn kind(&self) -> ConnectorKind {
        match self {
            Self::Source(_) => ConnectorKind::Source,
            Self::Sink(_) => ConnectorKind::Sink,
        }
    }
}

#[derive(Clone)]
struct Plugin {
    info: PluginInfo,
    aliases: Vec<String>,
    factory: Factory,
}

impl Plugin {
    fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.info.class.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// Kafka Connect's relaxed match: simple class name, with or without `Connector`.
    fn matches_loosely(&self, wanted: &str) -> bool {
        let simple = self.info.class.rsplit('.').next().unwrap_or_default();
        let bare = simple.strip_suffix("Connector").unwrap_or(simple);
        wanted.eq_ignore_ascii_case(simple)
            || (!bare.is_empty() && wanted.eq_ignore_ascii_case(bare))
    }
}

/// Maps `connector.class` names to connector factories.
#[derive(Clone, Default)]
pub struct ConnectorRegistry {
    plugins: Vec<Plugin>,
}

impl fmt::Debug for ConnectorRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.plugins
                    .iter()
                    .map(|plugin| (&plugin.info, &plugin.aliases)),
            )
            .finish()
    }
}

impl ConnectorRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a source connector under its class name and aliases (short names).
    pub fn register_source<F>(
        &mut self,
        class: &str,
        aliases: &[&str],
        version: &str,
        factory: F,
    ) -> Result<()>
    where
        F: Fn() -> Box<dyn SourceConnector> + Send + Sync + 'static,
    {
        self.register(
            class,
            aliases,
            version,
            ConnectorKind::Source,
            Factory::Source(Arc::new(factory)),
        )
    }

    /// Registers a sink connector under its class name and aliases.
    pub fn register_sink<F>(
        &mut self,
        class: &str,
        aliases: &[&str],
        version: &str,
        factory: F,
    ) -> Result<()>
    where
        F: Fn() -> Box<dyn SinkConnector> + Send + Sync + 'static,
    {
        self.register(
            class,
            aliases,
            version,
            ConnectorKind::Sink,
            Factory::Sink(Arc::new(factory)),
        )
    }

    fn register(
        &mut self,
        class: &str,
        aliases: &[&str],
        version: &str,
        kind: ConnectorKind,
        factory: Factory,
    ) -> Result<()> {
        for name in std::iter::once(&class).chain(aliases) {
            if let Some(existing) = self
                .plugins
                .iter()
                .find(|plugin| plugin.names().any(|n| n == *name))
            {
                return Err(Error::DuplicateConnectorClass {
                    name: (*name).to_string(),
                    registered_by: existing.info.class.clone(),
                });
            }
        }
        self.plugins.push(Plugin {
            info: PluginInfo {
                class: class.to_string(),
                kind,
                version: version.to_string(),
            },
            aliases: aliases.iter().map(|alias| alias.to_string()).collect(),
            factory,
        });
        Ok(())
    }

    fn find(&self, name: &str) -> Result<&Plugin> {
        let name = name.trim();
        self.plugins
            .iter()
            .find(|plugin| plugin.names().any(|n| n == name))
            .or_else(|| {
                self.plugins
                    .iter()
                    .find(|plugin| plugin.matches_loosely(name))
            })
            .ok_or_else(|| Error::UnknownConnectorClass {
                class: name.to_string(),
                known: self.known_names(),
            })
    }

    /// Every accepted name, comma-separated, for error messages.
    fn known_names(&self) -> String {
        let names: Vec<&str> = self.plugins.iter().flat_map(Plugin::names).collect();
        if names.is_empty() {
            "(none registered)".to_string()
        } else {
            names.join(", ")
        }
    }

    /// The plugin a `connector.class` value names.
    pub fn plugin(&self, name: &str) -> Result<&PluginInfo> {
        self.find(name).map(|plugin| &plugin.info)
    }

    /// A new connector instance for a `connector.class` value.
    pub fn create(&self, name: &str) -> Result<ConnectorInstance> {
        Ok(match &self.find(name)?.factory {
            Factory::Source(factory) => ConnectorInstance::Source(factory()),
            Factory::Sink(factory) => ConnectorInstance::Sink(factory()),
        })
    }

    /// A new source connector; fails when `name` is a sink.
    pub fn create_source(&self, name: &str) -> Result<Box<dyn SourceConnector>> {
        match self.create(name)? {
            ConnectorInstance::Source(connector) => Ok(connector),
            ConnectorInstance::Sink(_) => Err(self.wrong_kind(name, ConnectorKind::Source)),
        }
    }

    /// A new sink connector; fails when `name` is a source.
    pub fn create_sink(&self, name: &str) -> Result<Box<dyn SinkConnector>> {
        match self.create(name)? {
            ConnectorInstance::Sink(connector) => Ok(connector),
            ConnectorInstance::Source(_) => Err(self.wrong_kind(name, ConnectorKind::Sink)),
        }
    }

    fn wrong_kind(&self, name: &str, wanted: ConnectorKind) -> Error {
        Error::InvalidConfig {
            key: "connector.class".into(),
            value: name.into(),
            reason: format!(
                "names a {} connector where a {wanted} connector is needed",
                wanted_other(wanted)
            ),
        }
    }

    /// Every registered plugin (class names only, aliases not repeated), sorted by class.
    pub fn plugins(&self) -> Vec<PluginInfo> {
        let mut infos: Vec<PluginInfo> = self
            .plugins
            .iter()
            .map(|plugin| plugin.info.clone())
            .collect();
        infos.sort_by(|a, b| a.class.cmp(&b.class));
        infos
    }
}

fn wanted_other(kind: ConnectorKind) -> ConnectorKind {
    match kind {
        ConnectorKind::Source => ConnectorKind::Sink,
        ConnectorKind::Sink => ConnectorKind::Source,
    }
}
