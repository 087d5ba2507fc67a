//! Starting a server on a free port and waiting until it accepts connections, retrying on a
//! fresh port when someone else grabbed the chosen one first.

use std::time::Duration;

use crate::error::{BoxedError, Error, Result};
use crate::ports::pick_free_port;
use crate::server_process::ServerProcess;

/// How long a server may take to accept its first connection.
pub(crate) const READY_DEADLINE: Duration = Duration::from_secs(30);

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
