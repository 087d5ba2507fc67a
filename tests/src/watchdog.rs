//! A sentinel that cleans up after a test process that dies without unwinding.
//!
//! Drop handles panics, but not a test binary killed by SIGKILL, an abort, or Ctrl-C (which
//! `mariadbd` ignores). For each server the harness therefore starts a tiny `sh` whose stdin is
//! a pipe from the test process. Only the kernel closes that pipe — when the test process is
//! gone — and on end-of-file the sentinel kills the server and deletes its scratch directory.
//! In the normal case Drop kills the sentinel first, so it never acts.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::error::{Error, Result};

/// Ignores the signals a terminal or a test runner sends to the whole process group, waits for
/// end-of-file on stdin, then kills `$1` and removes `$2`.
const SENTINEL_SCRIPT: &str = "trap '' INT HUP TERM QUIT; \
    while read -r _; do :; done; \
    kill -KILL \"$1\" 2>/dev/null; sleep 1; rm -rf -- \"$2\"";

/// Kills a server and removes its files if the test process disappears.
#[derive(Debug)]
pub(crate) struct Watchdog {
    sentinel: Child,
}

impl Watchdog {
    /// Starts a sentinel guarding the server `server_pid` and the directory `scratch`.
    pub fn arm(server_pid: u32, scratch: &Path) -> Result<Self> {
        let sentinel = Command::new("sh")
            .arg("-c")
            .arg(SENTINEL_SCRIPT)
            .arg("sluice-watchdog")
            .arg(server_pid.to_string())
            .arg(scratch)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| Error::io("start the cleanup watchdog (sh)", source))?;
        Ok(Self { sentinel })
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // Killed before its stdin closes (the handle drops after this body), so it never
        // sees end-of-file and never touches the server.
        let _ = self.sentinel.kill();
        let _ = self.sentinel.wait();
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn wait_until(deadline: Duration, mut condition: impl FnMut() -> bool) -> bool {
        let started = Instant::now();
        while started.elapsed() < deadline {
            if condition() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        condition()
    }

    #[test]
    fn closing_stdin_kills_the_server_and_removes_the_directory() {
        let dir = tempfile::tempdir().unwrap().keep();
        let mut server = Command::new("sleep").arg("600").spawn().unwrap();
        let mut watchdog = Watchdog::arm(server.id(), &dir).unwrap();
        // Simulate the test process dying: its end of the pipe closes.
        drop(watchdog.sentinel.stdin.take());
        assert!(wait_until(Duration::from_secs(10), || {
            matches!(server.try_wait(), Ok(Some(_)))
        }));
        assert!(wait_until(Duration::from_secs(10), || !dir.exists()));
    }

    #[test]
    fn dropping_the_watchdog_leaves_the_server_alone() {
        let dir = tempfile::tempdir().unwrap();
        let mut server = Command::new("sleep").arg("600").spawn().unwrap();
        drop(Watchdog::arm(server.id(), dir.path()).unwrap());
        std::thread::sleep(Duration::from_millis(200));
        assert!(matches!(server.try_wait(), Ok(None)), "server was killed");
        assert!(dir.path().exists());
        server.kill().unwrap();
        server.wait().unwrap();
    }
}
