//! One running server process: spawning it with its output captured, waiting for it to accept
//! connections, stopping it gracefully, and killing it on drop.
//!
//! Drop is the safety net that keeps servers from outliving their test: it runs during a
//! panic's unwinding too, sends the server's "stop now" signal, waits briefly and then kills it
//! with SIGKILL, always reaping the child.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

use crate::error::{BoxedError, Error, Result};
use crate::watchdog::Watchdog;

/// How many log lines error messages quote.
const LOG_TAIL_LINES: usize = 40;

/// How long Drop waits after the stop-now signal before resorting to SIGKILL.
const DROP_GRACE: Duration = Duration::from_secs(5);

/// A spawned server whose stdout and stderr go to a log file.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    server: &'static str,
    child: Child,
    log_path: PathBuf,
    /// Where this run's output starts in the (appended-to) log file.
    log_start: u64,
    /// Signal that makes the server exit at once without a clean shutdown, sent on drop.
    stop_now: Signal,
    /// How long drop waits after `stop_now` before resorting to SIGKILL.
    drop_grace: Duration,
    /// Cleans up if the test process dies without running drop.
    _watchdog: Watchdog,
}

impl ServerProcess {
    /// Spawns `command`, appending its output to `log_path`, with a [`Watchdog`] that kills it
    /// and removes `scratch` should the test process die without unwinding.
    pub fn spawn(
        server: &'static str,
        mut command: Command,
        log_path: &Path,
        stop_now: Signal,
        scratch: &Path,
    ) -> Result<Self> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_path)
            .map_err(|source| Error::io(format!("open {}", log_path.display()), source))?;
        let log_start = log
            .metadata()
            .map_err(|source| Error::io(format!("stat {}", log_path.display()), source))?
            .len();
        let stderr = log
            .try_clone()
            .map_err(|source| Error::io("duplicate the log file handle", source))?;
        let mut child = command
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr)
            .spawn()
            .map_err(|source| Error::io(format!("spawn {server}: {command:?}"), source))?;
        let watchdog = match Watchdog::arm(child.id(), scratch) {
            Ok(watchdog) => watchdog,
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(error);
            }
        };
        Ok(Self {
            server,
            child,
            log_path: log_path.to_path_buf(),
            log_start,
            stop_now,
            drop_grace: DROP_GRACE,
            _watchdog: watchdog,
        })
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if the process has exited, without blocking.
    pub fn exit_status(&mut self) -> Result<Option<ExitStatus>> {
        self.child
            .try_wait()
            .map_err(|source| Error::io(format!("poll the {} process", self.server), source))
    }

    /// Everything this run of the server has logged so far.
    pub fn log_of_this_run(&self) -> String {
        read_from(&self.log_path, self.log_start)
    }

    /// The last lines this run of the server has logged.
    pub fn log_tail(&self) -> String {
        tail(&self.log_of_this_run(), LOG_TAIL_LINES)
    }

    /// Polls `probe` until it succeeds, the process exits, or `deadline` passes.
    pub async fn await_ready<F, Fut, E>(&mut self, deadline: Duration, mut probe: F) -> Result<()>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = std::result::Result<(), E>>,
        E: Into<BoxedError>,
    {
        let started = Instant::now();
        let mut backoff = Duration::from_millis(20);
        loop {
            if let Some(status) = self.exit_status()? {
                return Err(Error::ServerExited {
                    server: self.server,
                    status,
                    log_tail: self.log_tail(),
                });
            }
            let last_error: BoxedError = match probe().await {
                Ok(()) => return Ok(()),
                Err(error) => error.into(),
            };
            if started.elapsed() >= deadline {
                return Err(Error::NotReady {
                    server: self.server,
                    waited: started.elapsed(),
                    last_error,
                    log_tail: self.log_tail(),
                });
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_millis(250));
        }
    }

    /// Sends `signal` and waits up to `grace` for the process to exit; kills it with SIGKILL
    /// (and reports [`Error::StopTimedOut`]) if it does not.
    pub async fn stop(&mut self, signal: Signal, grace: Duration) -> Result<()> {
        if self.exit_status()?.is_some() {
            return Ok(());
        }
        self.signal(signal)?;
        let started = Instant::now();
        while started.elapsed() < grace {
            if self.exit_status()?.is_some() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.kill_and_reap();
        Err(Error::StopTimedOut {
            server: self.server,
            pid: self.pid(),
            waited: grace,
        })
    }

    /// Makes the server exit at once without a clean shutdown, as a crash would, and waits
    /// for it to be gone.
    pub async fn crash(&mut self) -> Result<()> {
        self.stop(self.stop_now, DROP_GRACE).await
    }

    fn signal(&self, signal: Signal) -> Result<()> {
        let pid = Pid::from_raw(self.pid() as i32).expect("child pids are positive");
        rustix::process::kill_process(pid, signal).map_err(|errno| {
            Error::io(
                format!("send {signal:?} to {} (pid {})", self.server, self.pid()),
                errno.into(),
            )
        })
    }

    /// SIGKILL and wait; errors are ignored because this is the last resort.
    fn kill_and_reap(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return;
        }
        // Blocking waits are acceptable here: drop may run outside any runtime (during a
        // panic), and the wait is bounded by DROP_GRACE.
        if self.signal(self.stop_now).is_ok() {
            let started = Instant::now();
            while started.elapsed() < self.drop_grace {
                if !matches!(self.child.try_wait(), Ok(None)) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        self.kill_and_reap();
    }
}

/// Runs a one-off setup program (initdb, mariadb-install-db, cp) to completion without
/// blocking the runtime, failing with its output's tail when it exits unsuccessfully. A
/// [`Watchdog`] kills it and removes `guarded_dir` should the test process die meanwhile.
pub(crate) async fn run_setup_command(command: Command, guarded_dir: &Path) -> Result<()> {
    let rendered = format!("{command:?}");
    let child = tokio::process::Command::from(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| Error::io(format!("run {rendered}"), source))?;
    let pid = child
        .id()
        .expect("a freshly spawned child has not been reaped");
    let _watchdog = Watchdog::arm(pid, guarded_dir)?;
    let output = child
        .wait_with_output()
        .await
        .map_err(|source| Error::io(format!("wait for {rendered}"), source))?;
    if output.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Err(Error::SetupCommandFailed {
        command: rendered,
        status: output.status,
        output_tail: tail(&text, LOG_TAIL_LINES),
    })
}

/// Reads `path` from byte `offset` on, lossily; a missing or unreadable log reads as a note.
fn read_from(path: &Path, offset: u64) -> String {
    let read = || -> std::io::Result<String> {
        let mut file = File::open(path)?;
        file.seek(SeekFrom::Start(offset))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    read().unwrap_or_else(|error| format!("(could not read {}: {error})", path.display()))
}

/// The last `lines` lines of `text`.
pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
        assert_eq!(tail("", 3), "");
    }

    #[tokio::test]
    async fn drop_kills_a_process_that_ignores_the_stop_signal() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let mut command = Command::new("sh");
        command.args(["-c", "trap '' TERM; echo started; exec sleep 600"]);
        let mut process =
            ServerProcess::spawn("sleeper", command, &log, Signal::TERM, dir.path()).unwrap();
        // Short, so the test does not wait out the real grace period.
        process.drop_grace = Duration::from_millis(300);
        let pid = process.pid();
        process
            .await_ready(Duration::from_secs(10), || {
                let started = process_log_has(&log, "started");
                async move {
                    if started {
                        Ok(())
                    } else {
                        Err("no output yet")
                    }
                }
            })
            .await
            .unwrap();
        assert!(Path::new(&format!("/proc/{pid}")).exists());
        drop(process);
        // Reaped by drop, so the pid no longer names a live (or zombie) child of ours.
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
    }

    #[tokio::test]
    async fn exit_during_startup_is_reported_with_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let mut command = Command::new("sh");
        command.args(["-c", "echo 'fatal: cannot start'; exit 3"]);
        let mut process =
            ServerProcess::spawn("failing", command, &log, Signal::TERM, dir.path()).unwrap();
        let error = process
            .await_ready(Duration::from_secs(10), || async {
                Err::<(), _>("refused")
            })
            .await
            .unwrap_err();
        let message = error.to_string();
        assert!(message.contains("fatal: cannot start"), "{message}");
        assert!(matches!(error, Error::ServerExited { .. }), "{error:?}");
    }

    #[tokio::test]
    async fn a_server_that_never_answers_fails_at_the_deadline_with_the_cause() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let mut command = Command::new("sh");
        command.args(["-c", "echo 'still recovering'; exec sleep 600"]);
        let mut process =
            ServerProcess::spawn("stuck", command, &log, Signal::KILL, dir.path()).unwrap();
        let error = process
            .await_ready(Duration::from_millis(300), || async {
                Err::<(), _>("connection refused")
            })
            .await
            .unwrap_err();
        let Error::NotReady { ref last_error, .. } = error else {
            panic!("expected NotReady, got {error:?}");
        };
        assert_eq!(last_error.to_string(), "connection refused");
        assert!(std::error::Error::source(&error).is_some());
        assert!(error.to_string().contains("still recovering"), "{error}");
    }

    fn process_log_has(log: &Path, needle: &str) -> bool {
        std::fs::read_to_string(log).is_ok_and(|text| text.contains(needle))
    }
}
