//! Shared harness for Sluice's end-to-end tests: throwaway PostgreSQL and MariaDB servers.
//!
//! ```no_run
//! # async fn demo() -> sluice_tests::Result<()> {
//! let pg = sluice_tests::PostgresServer::start().await?;
//! let client = pg.client().await?;
//! client.batch_execute("CREATE TABLE t (id int primary key)").await.ok();
//! let maria = sluice_tests::MariaDbServer::start().await?;
//! let conn = maria.conn().await?;
//! # drop((client, conn)); Ok(()) }
//! ```
//!
//! Servers run as the `postgres`/`mysql` OS user when the tests run as root, each in its own
//! scratch directory (see [`scratch`]; `$SLUICE_TEST_TMPDIR` overrides `/dev/shm`) on its own
//! free loopback port, so tests may run in parallel. `stop()`, `crash()` and `restart()` (same
//! port, same data) serve tests that take the database away mid-stream. Servers are stopped
//! and deleted on drop, also when a test panics, and by a watchdog when the test process is
//! killed. Missing server programs fail with an error naming `scripts/setup.sh`.
//!
//! # Layout
//!
//! - [`postgres`]: [`PostgresServer`], PostgreSQL 15 with `wal_level=logical`.
//! - [`mariadb`]: [`MariaDbServer`], MariaDB 10.11 with a full-row-image ROW binlog.
//! - [`binaries`]: where the server programs live; the "run scripts/setup.sh" check.
//! - [`os_user`]: which OS account a server runs as, and chown to it.
//! - [`scratch`]: the per-server temporary directory (in `/dev/shm` by default).
//! - `template`: pristine data directories made once per machine, copied per server.
//! - [`ports`]: free loopback ports, never handed out twice per process.
//! - `launch`: a server's lifecycle: start on a free port (retrying when it was taken) with a
//!   readiness deadline, stop, crash, start again on the same port.
//! - `server_process`: one spawned server: log capture, readiness polling, stop, kill on drop.
//! - `watchdog`: a sentinel that kills the server and removes its files if the test process
//!   dies without unwinding (SIGKILL, abort, Ctrl-C).
//! - `identifier`: validation of names spliced into SQL.
//! - [`sluice`]: a real `sluice serve` process (built on demand) to kill and restart.
//! - [`bench_args`]: the row-count argument of the benchmark examples.
//! - [`cpu`]: CPU time of a worker and of finished reference programs, for benchmarks.
//! - [`disk_floor`]: how long the disk alone takes to make a benchmark's log durable.
//! - [`error`]: the harness's error type.

pub mod bench_args;
pub mod binaries;
pub mod cpu;
pub mod disk_floor;
pub mod error;
mod identifier;
mod launch;
pub mod mariadb;
pub mod os_user;
pub mod ports;
pub mod postgres;
pub mod scratch;
mod server_process;
pub mod sluice;
mod template;
mod watchdog;

pub use error::{Error, Result};
pub use mariadb::MariaDbServer;
pub use postgres::PostgresServer;
pub use sluice::SluiceProcess;
