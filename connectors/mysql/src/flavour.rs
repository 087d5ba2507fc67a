//! Which server the connector talks to: MySQL or MariaDB, told apart by the version string,
//! since the two differ in GTIDs, snapshot positions and the binlog events they send.

use std::fmt;

/// The server's flavour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    MySql,
    MariaDb,
}

impl Flavour {
    /// Detects the flavour from `SELECT VERSION()` (`10.11.6-MariaDB-0+deb12u1`, `8.0.36`).
    pub fn from_version(version: &str) -> Self {
        if version.to_ascii_lowercase().contains("mariadb") {
            Self::MariaDb
        } else {
            Self::MySql
        }
    }
}

/// Which Debezium connector the user asked for: it decides the `connector` value of the
/// source block and the source schema's name, whatever server is behind it (Debezium's MySQL
/// connector also reads MariaDB and still writes `mysql`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorVariant {
    /// `io.debezium.connector.mysql.MySqlConnector`.
    MySql,
    /// `io.debezium.connector.mariadb.MariaDbConnector`.
    MariaDb,
}

impl ConnectorVariant {
    /// The `connector` value of the source block.
    pub fn connector_name(self) -> &'static str {
        match self {
            Self::MySql => "mysql",
            Self::MariaDb => "mariadb",
        }
    }

    /// The source block's schema: MySQL's fields, named after the connector's package.
    pub fn source_schema(self) -> sluice_schemas::SchemaRef {
        match self {
            Self::MySql => sluice_schemas::source::SourceSchemaBuilder::mysql(),
            Self::MariaDb => {
                let mysql = sluice_schemas::source::SourceSchemaBuilder::mysql();
                let mut builder = sluice_schemas::source::SourceSchemaBuilder::new(
                    "io.debezium.connector.mariadb.Source",
                );
                // The common fields come first in both; copy MySQL's own after them.
                for field in mysql.fields().iter().skip(COMMON_SOURCE_FIELDS) {
                    builder = builder.field(field.name(), field.schema().clone());
                }
                builder.build()
            }
        }
    }
}

/// How many common fields `SourceSchemaBuilder::new` puts before a connector's own.
const COMMON_SOURCE_FIELDS: usize = 9;

impl fmt::Display for Flavour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MySql => "MySQL",
            Self::MariaDb => "MariaDB",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_strings_tell_the_flavour() {
        assert_eq!(
            Flavour::from_version("10.11.19-MariaDB-0+deb12u1"),
            Flavour::MariaDb
        );
        assert_eq!(Flavour::from_version("8.0.36"), Flavour::MySql);
        assert_eq!(ConnectorVariant::MariaDb.connector_name(), "mariadb");
        let mysql = ConnectorVariant::MySql.source_schema();
        let mariadb = ConnectorVariant::MariaDb.source_schema();
        assert_eq!(mariadb.name(), Some("io.debezium.connector.mariadb.Source"));
        let names = |s: &sluice_schemas::SchemaRef| {
            s.fields()
                .iter()
                .map(|f| f.name().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&mysql), names(&mariadb));
    }
}
