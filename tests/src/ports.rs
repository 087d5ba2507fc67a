//! Picking free loopback ports for servers.
//!
//! The kernel hands out a free port when binding `127.0.0.1:0`; the listener is then closed so
//! the server can bind it. Two things can still take the port in between: another test thread
//! in this process (prevented by remembering every port handed out here) and another process
//! on the machine (detected by the server failing with "address in use", after which the
//! caller retries with a fresh port — see [`crate::postgres`] and [`crate::mariadb`]).

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Ports this process has already handed to a server; never handed out twice.
static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// How many kernel-chosen ports to consider before giving up on finding an unused one.
const MAX_PICKS: usize = 64;

/// Returns a loopback port that is free right now and that no other server started by this
/// process has been given.
pub fn pick_free_port() -> Result<u16> {
    for _ in 0..MAX_PICKS {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|source| Error::io("bind 127.0.0.1:0 to find a free port", source))?;
        let port = listener
            .local_addr()
            .map_err(|source| Error::io("read the bound port", source))?
            .port();
        drop(listener);
        // A poisoned lock only means another test panicked while holding it; the set is
        // still valid.
        let mut guard = HANDED_OUT
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if guard.insert(port) {
            return Ok(port);
        }
    }
    Err(Error::io(
        "find a free loopback port",
        std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            format!(
                "the kernel offered only ports already in use by this process ({MAX_PICKS} tries)"
            ),
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_never_handed_out_twice() {
        // Whether a port is still free when bound later cannot be asserted here: other tests
        // in this process pick ports (their probe listeners may hold one for a moment) and open
        // client connections at the same time, which is why servers retry on "address in use"
        // (module doc). What this module guarantees is that it never hands a port out twice.
        let ports: Vec<u16> = (0..50).map(|_| pick_free_port().unwrap()).collect();
        let distinct: BTreeSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), ports.len(), "{ports:?}");
        assert!(ports.iter().all(|&port| port != 0));
    }
}
