//! A real `sluice serve` process for end-to-end tests: built once per test run, started on a
//! free loopback port over a scratch data directory, killed with SIGKILL or stopped with
//! SIGTERM, and started again over the same data.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::ports::pick_free_port;

/// How long a worker may take to answer `/health` after starting.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The `sluice` binary, built (once per test process) in the same target directory as the
/// running test. `SLUICE_BIN` overrides it.
pub fn sluice_binary() -> anyhow::Result<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build_binary().map_err(|error| format!("{error:#}")))
        .clone()
        .map_err(|message| anyhow::anyhow!(message))
}

fn build_binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("SLUICE_BIN") {
        return Ok(PathBuf::from(path));
    }
    // Test executables live in <target>/<profile>/deps/.
    let exe = std::env::current_exe().context("cannot locate the test executable")?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .context("the test executable is not inside a cargo target directory")?;
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the tests crate has no parent directory")?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(workspace)
        .args(["build", "--quiet", "-p", "sluice", "--bin", "sluice"]);
    if profile_dir
        .file_name()
        .is_some_and(|name| name == "release")
    {
        build.arg("--release");
    }
    if let Some(target_dir) = profile_dir.parent() {
        build.env("CARGO_TARGET_DIR", target_dir);
    }
    let status = build
        .status()
        .context("cannot run cargo to build the sluice binary")?;
    if !status.success() {
        bail!("building the sluice binary failed ({status})");
    }
    Ok(profile_dir.join("sluice"))
}

/// A running (or stopped) `sluice serve` process and its data directory.
#[derive(Debug)]
pub struct SluiceProcess {
    child: Option<Child>,
    data_dir: tempfile::TempDir,
    port: u16,
    log_path: PathBuf,
    http: reqwest::Client,
}

impl SluiceProcess {
    /// Starts a worker over a fresh data directory and waits until it answers.
    pub async fn start() -> anyhow::Result<Self> {
        let data_dir = tempfile::Builder::new()
            .prefix("sluice-worker-")
            .tempdir()
            .context("cannot create a data directory")?;
        let log_path = data_dir.path().join("worker.log");
        let mut process = Self {
            child: None,
            port: pick_free_port()?,
            log_path,
            data_dir,
            http: reqwest::Client::new(),
        };
        process.launch().await?;
        Ok(process)
    }

    async fn launch(&mut self) -> anyhow::Result<()> {
        let binary = sluice_binary()?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .context("cannot open the worker log")?;
        let child = Command::new(&binary)
            .args(["serve", "--data-dir"])
            .arg(self.data_dir.path().join("data"))
            .args(["--rest-listen", &format!("127.0.0.1:{}", self.port)])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        self.child = Some(child);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(response) = self.http.get(self.url("/health")).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "sluice serve exited during start ({status}); log:\n{}",
                    self.log()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "sluice serve did not answer /health within {READY_TIMEOUT:?}; log:\n{}",
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn server(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// The worker's process id while it runs (for sampling its memory in /proc).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Everything the worker logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// SIGKILL: no shutdown code runs, as after a crash or `kill -9`.
    pub fn kill9(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().context("cannot kill the worker")?;
            child.wait()?;
        }
        Ok(())
    }

    /// SIGTERM and wait for the exit status (a graceful stop).
    pub fn terminate(&mut self) -> anyhow::Result<std::process::ExitStatus> {
        let mut child = self.child.take().context("the worker is not running")?;
        let pid = rustix::process::Pid::from_child(&child);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM)
            .context("cannot signal the worker")?;
        Ok(child.wait()?)
    }

    /// Starts the worker again over the same data directory and port.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.launch().await
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let response = self.http.get(self.url(path)).send().await?;
        Ok(response.json().await?)
    }

    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
        let response = self.http.post(self.url(path)).json(body).send().await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// Polls `path` until `check` accepts its JSON, failing with the last answer and the
    /// worker log after `timeout`.
    pub async fn wait_for(
        &self,
        path: &str,
        timeout: Duration,
        check: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<Value> {
        let deadline = Instant::now() + timeout;
        let mut last = Value::Null;
        while Instant::now() < deadline {
            if let Ok(body) = self.get(path).await {
                if check(&body) {
                    return Ok(body);
                }
                last = body;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bail!(
            "timed out waiting on {path}; last answer: {last}; log:\n{}",
            self.log()
        )
    }
}

impl Drop for SluiceProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
