//! Opening connections to the server from the connector's settings, with the connect
//! timeout and TLS mode applied, and errors that say where the connector tried to log in.

use mysql_async::{Conn, OptsBuilder, SslOpts};

use crate::config::SourceConfig;
use crate::error::{Error, Result};

/// Connection options for `config`'s server and account.
pub fn opts(config: &SourceConfig) -> OptsBuilder {
    let ssl = match config.ssl_mode.as_str() {
        "disabled" => None,
        // `preferred` and `required` encrypt without checking the certificate, as the
        // MySQL clients do; the verify_* modes check it.
        "preferred" | "required" => Some(
            SslOpts::default()
                .with_danger_accept_invalid_certs(true)
                .with_danger_skip_domain_validation(true),
        ),
        "verify_ca" => Some(SslOpts::default().with_danger_skip_domain_validation(true)),
        _ => Some(SslOpts::default()),
    };
    OptsBuilder::default()
        .ip_or_hostname(config.hostname.clone())
        .tcp_port(config.port)
        .user(Some(config.user.clone()))
        .pass(config.password.clone())
        .prefer_socket(false)
        .stmt_cache_size(0)
        .ssl_opts(ssl)
}

/// A new connection, failing after `connect.timeout.ms`.
pub async fn connect(config: &SourceConfig) -> Result<Conn> {
    let context = || {
        format!(
            "connect to {}:{} as {}",
            config.hostname, config.port, config.user
        )
    };
    match tokio::time::timeout(config.connect_timeout, Conn::new(opts(config))).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(source)) => Err(Error::Database {
            context: context(),
            source,
        }),
        Err(_) => Err(Error::Database {
            context: format!(
                "{} (connect.timeout.ms={} elapsed)",
                context(),
                config.connect_timeout.as_millis()
            ),
            source: mysql_async::Error::Io(mysql_async::IoError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "connection timed out",
            ))),
        }),
    }
}
