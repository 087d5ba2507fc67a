//! A server's lifecycle: starting it on a free port and waiting until it accepts connections
//! (retrying on a fresh port when someone else grabbed the chosen one first), stopping it
//! cleanly or abruptly, and starting it again on the same port.

use std::time::Duration;

use rustix::process::Signal;

use crate::error::{BoxedError, Error, Result};
use crate::ports::pick_free_port;
use crate::server_process::ServerProcess;

/// How long a server may take to accept its first connection.
pub(crate) const READY_DEADLINE: Duration = Duration::from_secs(30);

/// How long a clean shutdown may take before the server is killed.
const STOP_GRACE: Duration = Duration::from_secs(30);

/// How many ports to try before giving up; a clash needs another process to bind the port in
/// the few milliseconds between picking and the server binding it, so a few tries suffice.
const PORT_ATTEMPTS: u32 = 5;

/// What both PostgreSQL and MariaDB log (via `strerror(EADDRINUSE)`) when the port is taken.
const ADDRESS_IN_USE: &str = "Address already in use";

/// Spawns the server with `spawn(port)` on a freshly picked port and awaits `probe(port)`;
/// picks another port if the server exits because the port is taken.
pub(crate) async fn launch_on_free_port<S, P, Fut, E>(
    server: &'static str,
    mut spawn: S,
    mut probe: P,
) -> Result<(u16, ServerProcess)>
where
    S: FnMut(u16) -> Result<ServerProcess>,
    P: FnMut(u16) -> Fut,
    Fut: Future<Output = std::result::Result<(), E>>,
    E: Into<BoxedError>,
{
    let mut last_log = String::new();
    for _ in 0..PORT_ATTEMPTS {
        let port = pick_free_port()?;
        let mut process = spawn(port)?;
        match process.await_ready(READY_DEADLINE, || probe(port)).await {
            Ok(()) => return Ok((port, process)),
            Err(Error::ServerExited { log_tail, .. })
                if process.log_of_this_run().contains(ADDRESS_IN_USE) =>
            {
                tracing::debug!(
                    server,
                    port,
                    "port taken before the server bound it; retrying"
                );
                last_log = log_tail;
            }
            Err(other) => return Err(other),
        }
    }
    Err(Error::NoFreePort {
        server,
        attempts: PORT_ATTEMPTS,
        log_tail: last_log,
    })
}

/// Restarts the server on the port it had before; a clash here is an error, since tests that
/// restart a database expect clients to reconnect to the same address.
pub(crate) async fn launch_on_port<S, P, Fut, E>(
    port: u16,
    spawn: S,
    mut probe: P,
) -> Result<ServerProcess>
where
    S: FnOnce(u16) -> Result<ServerProcess>,
    P: FnMut(u16) -> Fut,
    Fut: Future<Output = std::result::Result<(), E>>,
    E: Into<BoxedError>,
{
    let mut process = spawn(port)?;
    process.await_ready(READY_DEADLINE, || probe(port)).await?;
    Ok(process)
}

/// Whether a server runs, on which port, and how to stop it.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    server: &'static str,
    /// The signal asking for a clean shutdown that keeps all data.
    clean_stop: Signal,
    port: u16,
    /// `None` while stopped.
    process: Option<ServerProcess>,
}

impl Lifecycle {
    /// A server that has not been started yet.
    pub fn not_started(server: &'static str, clean_stop: Signal) -> Self {
        Self {
            server,
            clean_stop,
            port: 0,
            process: None,
        }
    }

    /// Records that the server now runs as `process` on `port`.
    pub fn running(&mut self, port: u16, process: ServerProcess) {
        self.port = port;
        self.process = Some(process);
    }

    /// The port the server listens (or listened) on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Fails with [`Error::Stopped`] unless the server runs.
    pub fn ensure_running(&self) -> Result<()> {
        match self.process {
            Some(_) => Ok(()),
            None => Err(Error::Stopped {
                server: self.server,
            }),
        }
    }

    /// Shuts the server down cleanly; does nothing if it is stopped.
    pub async fn stop(&mut self) -> Result<()> {
        match self.process.take() {
            Some(mut process) => process.stop(self.clean_stop, STOP_GRACE).await,
            None => Ok(()),
        }
    }

    /// Makes the server exit abruptly, as a crash would; does nothing if it is stopped.
    pub async fn crash(&mut self) -> Result<()> {
        match self.process.take() {
            Some(mut process) => process.crash().await,
            None => Ok(()),
        }
    }
}
