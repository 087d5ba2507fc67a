//! Ordinary (query) connections to the captured database: configuration from
//! [`PostgresConfig`], the session settings every connection shares with the replication
//! stream, and a spawned connection driver.
//!
//! The text the snapshot reads with `COPY` and the text pgoutput sends must look the same for
//! the type mapping, so both sessions pin the settings that shape text output
//! ([`SESSION_OPTIONS`]).

use std::time::Duration;

use tokio_postgres::{Client, Config};

use crate::config::PostgresConfig;
use crate::error::{Error, Result};
use crate::tls::{self, RustlsConnector};

/// Startup `options` of every session: ISO dates, Postgres-style intervals, UTC, exact floats,
/// hex bytea — the server defaults, pinned so that a server configured otherwise changes
/// nothing in events.
pub const SESSION_OPTIONS: &str = "-c datestyle=ISO,MDY -c intervalstyle=postgres -c timezone=UTC \
     -c extra_float_digits=3 -c bytea_output=hex";

/// How long connecting may take before it counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The tokio-postgres configuration for `config`'s database.
pub fn query_config(config: &PostgresConfig, application: &str) -> Config {
    let mut pg = Config::new();
    pg.host(&config.hostname)
        .port(config.port)
        .user(&config.user)
        .password(config.password_text())
        .dbname(&config.dbname)
        .application_name(application)
        .options(SESSION_OPTIONS)
        .ssl_mode(tls::query_ssl_mode(config.tls.mode))
        .connect_timeout(CONNECT_TIMEOUT);
    pg
}

/// Opens a query connection and spawns its driver on the current runtime.
pub async fn connect(config: &PostgresConfig, application: &str) -> Result<Client> {
    let tls = RustlsConnector::new(&config.tls)?;
    let (client, connection) = query_config(config, application)
        .connect(tls)
        .await
        .map_err(|source| {
            let context = format!(
                "cannot connect to database {:?} at {}:{} as user {:?}",
                config.dbname, config.hostname, config.port, config.user
            );
            if tls::is_tls_failure(&source) {
                let reason = tls::chain_text(&source);
                Error::Tls {
                    fix: tls::fix_for(&config.tls, &config.hostname, &reason),
                    context,
                    mode: config.tls.mode,
                    reason,
                    source: Box::new(source),
                }
            } else {
                Error::postgres(context, source)
            }
        })?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "postgres query connection ended");
        }
    });
    Ok(client)
}

/// Quotes an identifier for SQL (`"name"`, doubling inner quotes).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a string literal for SQL (`'text'`, doubling inner quotes).
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_quotes() {
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
