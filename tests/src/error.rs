//! Errors raised by the test harness while preparing, running and stopping real servers.
//!
//! Every variant says what went wrong and, where there is one, what to do about it; server
//! failures carry the tail of the server's own log so a failing test shows why.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// A driver error of either kind, kept as the cause of [`Error::NotReady`].
pub type BoxedError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Harness failures, each naming what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A required program is not installed where the harness expects it.
    #[error("{program} not found at {}: run scripts/setup.sh to install it", path.display())]
    MissingBinary {
        /// The program's name, e.g. `initdb`.
        program: &'static str,
        /// Where it was looked for.
        path: PathBuf,
    },

    /// The OS account a server must run as (when the tests run as root) does not exist.
    #[error(
        "OS user `{user}` does not exist; it is created by the server's Debian package: \
         run scripts/setup.sh"
    )]
    MissingOsUser {
        /// The account name, e.g. `postgres`.
        user: &'static str,
    },

    /// A filesystem or process operation failed.
    #[error("{context}")]
    Io {
        /// What the harness was doing.
        context: String,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },

    /// A setup command (initdb, mariadb-install-db, ...) exited unsuccessfully.
    #[error("`{command}` failed with {status}; its output ends with:\n{output_tail}")]
    SetupCommandFailed {
        /// The command line that was run.
        command: String,
        /// How it exited.
        status: ExitStatus,
        /// The last lines of its stdout and stderr.
        output_tail: String,
    },

    /// The server process exited while the harness waited for it to accept connections.
    #[error("{server} exited during startup with {status}; its log ends with:\n{log_tail}")]
    ServerExited {
        /// Which server, e.g. `postgres`.
        server: &'static str,
        /// How it exited.
        status: ExitStatus,
        /// The last lines of the server log.
        log_tail: String,
    },

    /// Every port tried was taken by someone else between picking it and the server binding it.
    #[error("{server} could not bind a free port after {attempts} attempts; last log:\n{log_tail}")]
    NoFreePort {
        /// Which server.
        server: &'static str,
        /// How many ports were tried.
        attempts: u32,
        /// The last lines of the server log from the final attempt.
        log_tail: String,
    },

    /// The server kept running but never accepted a connection before the deadline.
    #[error(
        "{server} did not accept connections within {waited:?}; its log ends with:\n{log_tail}"
    )]
    NotReady {
        /// Which server.
        server: &'static str,
        /// How long the harness waited.
        waited: Duration,
        /// The last lines of the server log.
        log_tail: String,
        /// Why the last connection attempt failed.
        #[source]
        last_error: BoxedError,
    },

    /// The server did not exit within the deadline after being asked to stop.
    #[error("{server} (pid {pid}) did not stop within {waited:?} and was killed")]
    StopTimedOut {
        /// Which server.
        server: &'static str,
        /// Its process id.
        pid: u32,
        /// How long the harness waited before killing it.
        waited: Duration,
    },

    /// A PostgreSQL query or connection made by the harness failed.
    #[error("postgres: {context}")]
    Postgres {
        /// What the harness was doing.
        context: String,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// A MariaDB query or connection made by the harness failed.
    #[error("mariadb: {context}")]
    MariaDb {
        /// What the harness was doing.
        context: String,
        /// The driver's error.
        #[source]
        source: mysql_async::Error,
    },

    /// A name passed to the harness (database, user) is not a plain identifier.
    #[error(
        "`{name}` is not a plain identifier: use ASCII letters, digits and `_`, \
         not starting with a digit"
    )]
    InvalidIdentifier {
        /// The rejected name.
        name: String,
    },

    /// An operation needs a running server, but it was stopped.
    #[error("{server} is stopped: call restart() first")]
    Stopped {
        /// Which server.
        server: &'static str,
    },
}

impl Error {
    /// Wraps an I/O error with a description of what the harness was doing.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

/// Result alias for harness operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
