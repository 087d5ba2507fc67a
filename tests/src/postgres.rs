//! A throwaway PostgreSQL 15 server configured for logical replication.
//!
//! Each [`PostgresServer`] gets its own data directory under a scratch directory (see
//! [`crate::scratch`]), a free loopback port and a Unix socket directory of its own, so any
//! number of tests can run servers side by side. Dropping the server stops it (immediate
//! shutdown, SIGKILL as the last resort) and deletes every file, also when the test panics.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rustix::process::Signal;
use tokio_postgres::{Client, Config, NoTls};

use crate::binaries::{INITDB, POSTGRES};
use crate::error::{Error, Result};
use crate::identifier::require_plain_identifier;
use crate::launch::{Lifecycle, launch_on_free_port, launch_on_port};
use crate::os_user::RunAs;
use crate::scratch::ScratchDir;
use crate::server_process::{ServerProcess, run_setup_command};
use crate::template;

/// Name used in messages.
const SERVER: &str = "postgres";
/// Loopback address the server listens on.
const HOST: &str = "127.0.0.1";
/// The bootstrap superuser created by `initdb`; it may also replicate.
const SUPERUSER: &str = "sluice";
/// Its password; TCP connections (including replication) authenticate with SCRAM.
const PASSWORD: &str = "sluice-test-password";
/// The database that always exists.
const DEFAULT_DATABASE: &str = "postgres";

/// Settings passed as `-c name=value`; tuned for CDC tests, not durability.
const SETTINGS: &[(&str, &str)] = &[
    ("listen_addresses", HOST),
    ("wal_level", "logical"),
    ("max_replication_slots", "16"),
    ("max_wal_senders", "16"),
    ("max_connections", "50"),
    // Crash safety is irrelevant for a throwaway server; skipping fsync keeps tests fast.
    // synchronous_commit stays on: logical decoding only reads WAL that is flushed, so an
    // asynchronous commit would reach CDC readers only after the WAL writer's next round.
    ("fsync", "off"),
    ("full_page_writes", "off"),
    ("shared_buffers", "16MB"),
];

/// A running (or deliberately stopped) throwaway PostgreSQL server.
#[derive(Debug)]
pub struct PostgresServer {
    // Declared before `scratch` so the server is stopped before its files are deleted.
    lifecycle: Lifecycle,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    /// `-c` settings given by the test, applied after (so overriding) [`SETTINGS`].
    extra_settings: Vec<(String, String)>,
    scratch: ScratchDir,
}

impl PostgresServer {
    /// Gives the server a fresh cluster (a copy of one made by `initdb`, see the `template`
    /// module) and starts it on a free loopback port, returning once it accepts connections.
    pub async fn start() -> Result<Self> {
        Self::start_with_settings(&[]).await
    }

    /// Like [`start`](Self::start), with server settings (`-c name=value`) that override the
    /// harness's, e.g. `[("wal_level", "replica")]` to test a connector's configuration
    /// checks. They stay in force across restarts.
    pub async fn start_with_settings(settings: &[(&str, &str)]) -> Result<Self> {
        let initdb = INITDB.require()?;
        POSTGRES.require()?;
        let run_as = RunAs::for_service("postgres")?;
        let scratch = ScratchDir::create("sluice-pg-", &run_as)?;
        let data_dir = scratch.path().join("data");
        let socket_dir = scratch.subdir("sock", &run_as)?;

        let fingerprint =
            template::fingerprint(&initdb, &[INITDB_ARGS, &[SUPERUSER, PASSWORD]].concat())?;
        let create = async |staging: &Path| run_initdb(&initdb, staging, &run_as).await;
        template::copy_template("postgres", fingerprint, &run_as, create, &data_dir).await?;

        let mut server = Self {
            lifecycle: Lifecycle::not_started(SERVER, Signal::INT),
            data_dir,
            socket_dir,
            extra_settings: settings
                .iter()
                .map(|&(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
            scratch,
        };
        let (port, process) = launch_on_free_port(
            SERVER,
            |port| server.spawn(port, &run_as),
            |port| probe(server.socket_dir.clone(), port),
        )
        .await?;
        server.lifecycle.running(port, process);
        Ok(server)
    }

    /// Stops the server with a fast shutdown (clients are disconnected, data is kept).
    pub async fn stop(&mut self) -> Result<()> {
        self.lifecycle.stop().await
    }

    /// Stops the server abruptly, as a crash would: an immediate shutdown, so the next
    /// [`restart`](Self::restart) runs crash recovery. Committed data survives.
    pub async fn crash(&mut self) -> Result<()> {
        self.lifecycle.crash().await
    }

    /// Stops the server if it runs and starts it again on the same data directory and port,
    /// returning once it accepts connections.
    pub async fn restart(&mut self) -> Result<()> {
        self.stop().await?;
        let run_as = RunAs::for_service("postgres")?;
        let socket_dir = self.socket_dir.clone();
        let port = self.lifecycle.port();
        let process = launch_on_port(
            port,
            |port| self.spawn(port, &run_as),
            |port| probe(socket_dir.clone(), port),
        )
        .await?;
        self.lifecycle.running(port, process);
        Ok(())
    }

    /// The loopback address the server listens on.
    pub fn host(&self) -> &str {
        HOST
    }

    /// The TCP port the server listens on (stable across restarts).
    pub fn port(&self) -> u16 {
        self.lifecycle.port()
    }

    /// The superuser's name; it may also open replication connections.
    pub fn user(&self) -> &str {
        SUPERUSER
    }

    /// The superuser's password.
    pub fn password(&self) -> &str {
        PASSWORD
    }

    /// The database that always exists (`postgres`).
    pub fn dbname(&self) -> &str {
        DEFAULT_DATABASE
    }

    /// The data directory (e.g. to inspect WAL in a test).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The directory holding the server's Unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// Everything the server has logged, across restarts.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// A libpq-style connection string for the default database.
    pub fn connection_string(&self) -> String {
        self.connection_string_for(DEFAULT_DATABASE)
    }

    /// A libpq-style connection string for `dbname`.
    pub fn connection_string_for(&self, dbname: &str) -> String {
        format!(
            "host={HOST} port={} user={SUPERUSER} password={PASSWORD} dbname={dbname}",
            self.lifecycle.port()
        )
    }

    /// A `tokio_postgres` configuration for the default database.
    pub fn config(&self) -> Config {
        self.config_for(DEFAULT_DATABASE)
    }

    /// A `tokio_postgres` configuration for `dbname`.
    pub fn config_for(&self, dbname: &str) -> Config {
        connection_config(self.lifecycle.port(), dbname)
    }

    /// A superuser client connected to the default database; its connection task is spawned
    /// on the current runtime.
    pub async fn client(&self) -> Result<Client> {
        self.client_for(DEFAULT_DATABASE).await
    }

    /// A superuser client connected to `dbname`.
    pub async fn client_for(&self, dbname: &str) -> Result<Client> {
        self.lifecycle.ensure_running()?;
        let (client, connection) =
            self.config_for(dbname)
                .connect(NoTls)
                .await
                .map_err(|source| Error::Postgres {
                    context: format!(
                        "connect to database {dbname} on port {}",
                        self.lifecycle.port()
                    ),
                    source,
                })?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "harness postgres connection ended");
            }
        });
        Ok(client)
    }

    /// Creates the database `name` (a plain identifier).
    pub async fn create_database(&self, name: &str) -> Result<()> {
        require_plain_identifier(name)?;
        self.client()
            .await?
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .map_err(|source| Error::Postgres {
                context: format!("create database {name}"),
                source,
            })
    }

    fn log_path(&self) -> PathBuf {
        self.scratch.path().join("postgres.log")
    }

    fn spawn(&self, port: u16, run_as: &RunAs) -> Result<ServerProcess> {
        let mut command = Command::new(POSTGRES.require()?);
        command.arg("-D").arg(&self.data_dir);
        command.arg("-p").arg(port.to_string());
        command.arg("-c").arg(format!(
            "unix_socket_directories={}",
            self.socket_dir.display()
        ));
        let extra = self.extra_settings.iter();
        let settings = SETTINGS
            .iter()
            .map(|&(name, value)| (name, value))
            .chain(extra.map(|(name, value)| (name.as_str(), value.as_str())));
        // PostgreSQL applies repeated settings in order, so the test's come last and win.
        for (name, value) in settings {
            command.arg("-c").arg(format!("{name}={value}"));
        }
        run_as.apply(&mut command);
        // SIGQUIT is PostgreSQL's immediate shutdown: the postmaster takes its backends down
        // with it, which a bare SIGKILL would not.
        ServerProcess::spawn(
            SERVER,
            command,
            &self.log_path(),
            Signal::QUIT,
            self.scratch.path(),
        )
    }
}

/// `initdb` settings besides paths and the superuser.
const INITDB_ARGS: &[&str] = &[
    // The socket lives in a private directory, so local trust is safe; TCP connections,
    // replication ones included, must present the password.
    "--auth-local=trust",
    "--auth-host=scram-sha-256",
    "--encoding=UTF8",
    "--locale=C",
    "--no-sync",
    "--no-instructions",
];

/// Initialises a cluster in `<staging>/data`.
async fn run_initdb(initdb: &Path, staging: &Path, run_as: &RunAs) -> Result<()> {
    let password_file = staging.join("password");
    std::fs::write(&password_file, PASSWORD)
        .map_err(|source| Error::io("write the initdb password file", source))?;
    run_as.give(&password_file)?;
    let mut command = Command::new(initdb);
    command
        .arg("--pgdata")
        .arg(staging.join(template::DATA))
        .arg(format!("--username={SUPERUSER}"))
        .arg("--pwfile")
        .arg(&password_file)
        .args(INITDB_ARGS);
    run_as.apply(&mut command);
    run_setup_command(command, staging).await
}

fn connection_config(port: u16, dbname: &str) -> Config {
    let mut config = Config::new();
    config
        .host(HOST)
        .port(port)
        .user(SUPERUSER)
        .password(PASSWORD)
        .dbname(dbname)
        .connect_timeout(Duration::from_secs(2));
    config
}

/// Succeeds once the server accepts a connection on its Unix socket. The socket uses trust
/// authentication, sparing each attempt a SCRAM exchange (slow in unoptimised test builds);
/// the server opens its TCP listener before the socket, so TCP is ready too.
async fn probe(socket_dir: PathBuf, port: u16) -> std::result::Result<(), tokio_postgres::Error> {
    let mut config = Config::new();
    config
        .host_path(socket_dir)
        .port(port)
        .user(SUPERUSER)
        .dbname(DEFAULT_DATABASE)
        .connect_timeout(Duration::from_secs(2));
    config.connect(NoTls).await.map(drop)
}
