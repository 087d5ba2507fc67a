//! A throwaway MariaDB 10.11 server writing a row-based binlog with full row images and
//! metadata, the configuration binlog CDC needs.
//!
//! Each [`MariaDbServer`] gets its own data, binlog and socket files under a scratch directory
//! (see [`crate::scratch`]) and a free loopback port. `mariadbd` runs with `--no-defaults`, so
//! no system configuration (`/etc/mysql`) leaks in. Dropping the server kills it and deletes
//! every file, also when the test panics.

use std::path::{Path, PathBuf};
use std::process::Command;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder};
use rustix::process::Signal;

use crate::binaries::{MARIADB_INSTALL_DB, MARIADBD};
use crate::error::{Error, Result};
use crate::identifier::require_plain_identifier;
use crate::launch::{Lifecycle, launch_on_free_port, launch_on_port};
use crate::os_user::RunAs;
use crate::scratch::ScratchDir;
use crate::server_process::{ServerProcess, run_setup_command};
use crate::template;

/// Name used in messages.
const SERVER: &str = "mariadb";
/// Loopback address the server listens on.
const HOST: &str = "127.0.0.1";
/// The account tests use over TCP: all privileges, including replication.
const USER: &str = "sluice";
/// Its password.
const PASSWORD: &str = "sluice-test-password";

/// Options shared by `mariadb-install-db` and `mariadbd`; small InnoDB files keep many
/// parallel servers cheap.
const STORAGE_OPTIONS: &[&str] = &[
    "--innodb-log-file-size=8M",
    "--innodb-buffer-pool-size=16M",
    "--skip-name-resolve",
];

/// Server options beyond paths and port: the binlog settings CDC requires, and speed over
/// durability since the server is thrown away.
const SERVER_OPTIONS: &[&str] = &[
    "--bind-address=127.0.0.1",
    "--binlog-format=ROW",
    "--binlog-row-image=FULL",
    "--binlog-row-metadata=FULL",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_general_ci",
    "--max-connections=50",
    "--innodb-flush-log-at-trx-commit=2",
];

/// A running (or deliberately stopped) throwaway MariaDB server.
#[derive(Debug)]
pub struct MariaDbServer {
    // Declared before `scratch` so the server is stopped before its files are deleted.
    lifecycle: Lifecycle,
    data_dir: PathBuf,
    binlog_dir: PathBuf,
    socket_path: PathBuf,
    log_path: PathBuf,
    /// Server options given by the test, passed after (so overriding) the harness's.
    extra_options: Vec<String>,
    scratch: ScratchDir,
}

impl MariaDbServer {
    /// Gives the server a fresh data directory (a copy of one made by `mariadb-install-db`,
    /// see the `template` module), starts `mariadbd` on a free loopback port and creates the
    /// test account, returning once it accepts connections.
    pub async fn start() -> Result<Self> {
        Self::start_with_options(&[]).await
    }

    /// Like [`start`](Self::start), with `mariadbd` options that override the harness's, e.g.
    /// `["--binlog-format=STATEMENT"]` to test a connector's configuration checks. They stay
    /// in force across restarts.
    pub async fn start_with_options(options: &[&str]) -> Result<Self> {
        let install_db = MARIADB_INSTALL_DB.require()?;
        MARIADBD.require()?;
        let run_as = RunAs::for_service("mysql")?;
        let scratch = ScratchDir::create("sluice-mariadb-", &run_as)?;
        let data_dir = scratch.path().join("data");
        let binlog_dir = scratch.subdir("binlog", &run_as)?;

        let settings = [INSTALL_DB_ARGS, STORAGE_OPTIONS].concat();
        let fingerprint = template::fingerprint(&install_db, &settings)?;
        let create = async |staging: &Path| run_install_db(&install_db, staging, &run_as).await;
        template::copy_template("mariadb", fingerprint, &run_as, create, &data_dir).await?;

        let mut server = Self {
            lifecycle: Lifecycle::not_started(SERVER, Signal::TERM),
            socket_path: scratch.path().join("mariadbd.sock"),
            log_path: scratch.path().join("mariadbd.log"),
            data_dir,
            binlog_dir,
            extra_options: options.iter().map(|&option| option.to_owned()).collect(),
            scratch,
        };
        let socket = server.socket_path.clone();
        let (port, process) = launch_on_free_port(
            SERVER,
            |port| server.spawn(port, &run_as),
            |_| probe(socket.clone()),
        )
        .await?;
        server.lifecycle.running(port, process);
        server.create_test_account().await?;
        Ok(server)
    }

    /// Stops the server with a clean shutdown (data and binlogs are kept).
    pub async fn stop(&mut self) -> Result<()> {
        self.lifecycle.stop().await
    }

    /// Kills the server (SIGKILL), as a crash would; the next [`restart`](Self::restart) runs
    /// InnoDB and binlog crash recovery. Committed data survives.
    pub async fn crash(&mut self) -> Result<()> {
        self.lifecycle.crash().await
    }

    /// Stops the server if it runs and starts it again on the same files and port, returning
    /// once it accepts connections. The binlog continues in a new file.
    pub async fn restart(&mut self) -> Result<()> {
        self.stop().await?;
        let run_as = RunAs::for_service("mysql")?;
        let socket = self.socket_path.clone();
        let port = self.lifecycle.port();
        let process = launch_on_port(
            port,
            |port| self.spawn(port, &run_as),
            |_| probe(socket.clone()),
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

    /// The test account's name; it has every privilege, including replication.
    pub fn user(&self) -> &str {
        USER
    }

    /// The test account's password.
    pub fn password(&self) -> &str {
        PASSWORD
    }

    /// The server's `server_id`; binlog clients must register with a different one.
    pub fn server_id(&self) -> u32 {
        u32::from(self.lifecycle.port())
    }

    /// The server's Unix socket.
    pub fn socket_path(&self) -> &Path {
        &self.socket_path
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Where the binlog files (`mysql-bin.NNNNNN`) are written.
    pub fn binlog_dir(&self) -> &Path {
        &self.binlog_dir
    }

    /// Everything the server has logged, across restarts.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Connection options for the test account over TCP, without TLS and without switching to
    /// the Unix socket, so tests exercise the same path a CDC connector uses.
    pub fn opts(&self) -> Opts {
        self.opts_builder().into()
    }

    /// Like [`opts`](Self::opts) with `database` selected.
    pub fn opts_for(&self, database: &str) -> Opts {
        self.opts_builder().db_name(Some(database)).into()
    }

    /// The builder behind [`opts`](Self::opts), for tests that tweak further options.
    pub fn opts_builder(&self) -> OptsBuilder {
        OptsBuilder::default()
            .ip_or_hostname(HOST)
            .tcp_port(self.lifecycle.port())
            .user(Some(USER))
            .pass(Some(PASSWORD))
            .prefer_socket(false)
    }

    /// A new connection as the test account.
    pub async fn conn(&self) -> Result<Conn> {
        self.lifecycle.ensure_running()?;
        Conn::new(self.opts())
            .await
            .map_err(|source| Error::MariaDb {
                context: format!("connect as {USER} to port {}", self.lifecycle.port()),
                source,
            })
    }

    /// Creates the database `name` (a plain identifier).
    pub async fn create_database(&self, name: &str) -> Result<()> {
        require_plain_identifier(name)?;
        let mut conn = self.conn().await?;
        let created = conn.query_drop(format!("CREATE DATABASE {name}")).await;
        let _ = conn.disconnect().await;
        created.map_err(|source| Error::MariaDb {
            context: format!("create database {name}"),
            source,
        })
    }

    /// Creates the TCP test account as root over the socket (the only way in at first).
    async fn create_test_account(&self) -> Result<()> {
        let mut root = Conn::new(root_over_socket(self.socket_path.clone()))
            .await
            .map_err(|source| Error::MariaDb {
                context: "connect as root over the socket".into(),
                source,
            })?;
        let mut created = root
            .query_drop(format!(
                "CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}'"
            ))
            .await;
        if created.is_ok() {
            created = root
                .query_drop(format!(
                    "GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'%' WITH GRANT OPTION"
                ))
                .await;
        }
        let _ = root.disconnect().await;
        created.map_err(|source| Error::MariaDb {
            context: format!("create the test account {USER}"),
            source,
        })
    }

    fn spawn(&self, port: u16, run_as: &RunAs) -> Result<ServerProcess> {
        let mut command = Command::new(MARIADBD.require()?);
        // --no-defaults must come first; it keeps /etc/mysql and ~/.my.cnf out.
        command.arg("--no-defaults");
        command.arg(format!("--datadir={}", self.data_dir.display()));
        command.arg(format!("--socket={}", self.socket_path.display()));
        command.arg(format!(
            "--pid-file={}",
            self.scratch.path().join("mariadbd.pid").display()
        ));
        command.arg(format!("--tmpdir={}", self.scratch.path().display()));
        command.arg(format!("--port={port}"));
        command.arg(format!("--server-id={port}"));
        command.arg(format!(
            "--log-bin={}",
            self.binlog_dir.join("mysql-bin").display()
        ));
        // mariadbd lets the last occurrence of an option win, so the test's come last.
        command
            .args(SERVER_OPTIONS)
            .args(STORAGE_OPTIONS)
            .args(&self.extra_options);
        run_as.apply(&mut command);
        // Nothing of a throwaway server is worth a clean shutdown on drop.
        ServerProcess::spawn(
            SERVER,
            command,
            &self.log_path,
            Signal::KILL,
            self.scratch.path(),
        )
    }
}

/// `mariadb-install-db` settings besides the data directory.
const INSTALL_DB_ARGS: &[&str] = &[
    // Root logs in with an (empty) password over the socket rather than through the
    // unix_socket plugin, which would require the OS user to be `root`.
    "--auth-root-authentication-method=normal",
    "--skip-test-db",
];

/// Initialises a data directory in `<staging>/data`.
async fn run_install_db(install_db: &Path, staging: &Path, run_as: &RunAs) -> Result<()> {
    let mut command = Command::new(install_db);
    command
        // --no-defaults must come first; it keeps /etc/mysql and ~/.my.cnf out.
        .arg("--no-defaults")
        .arg(format!("--datadir={}", staging.join(template::DATA).display()))
        // A private tmpdir: concurrent bootstraps sharing /tmp clash on temporary tables.
        .arg(format!("--tmpdir={}", staging.display()))
        .args(INSTALL_DB_ARGS)
        .args(STORAGE_OPTIONS);
    run_as.apply(&mut command);
    run_setup_command(command, staging).await
}

fn root_over_socket(socket: PathBuf) -> Opts {
    OptsBuilder::default()
        .socket(Some(socket.to_string_lossy().into_owned()))
        .user(Some("root"))
        .into()
}

/// Succeeds once root can log in over the socket (it works before the test account exists).
async fn probe(socket: PathBuf) -> std::result::Result<(), mysql_async::Error> {
    Conn::new(root_over_socket(socket))
        .await?
        .disconnect()
        .await
}
