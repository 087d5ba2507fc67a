//! Measuring: one clock for every instant, per-row commit and arrival times, the paced
//! writers, the long-polling REST consumer, the worker's RSS from /proc, percentiles.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::Value;
use sluice_tests::SluiceProcess;

use crate::database::Writer;

/// Nanoseconds since the run began (never 0, which marks "not yet").
#[derive(Debug, Clone)]
pub struct Clock(Instant);

impl Clock {
    pub fn new() -> Self {
        Self(Instant::now())
    }

    pub fn now(&self) -> u64 {
        self.0.elapsed().as_nanos() as u64 + 1
    }
}

/// When each of ids `1..=len` was committed and when it arrived at the consumer.
#[derive(Debug)]
pub struct Timeline {
    clock: Clock,
    committed: Vec<AtomicU64>,
    arrived: Vec<AtomicU64>,
    committed_count: AtomicU64,
    arrived_count: AtomicU64,
}

impl Timeline {
    pub fn new(len: usize, clock: Clock) -> Self {
        Self {
            clock,
            committed: (0..len).map(|_| AtomicU64::new(0)).collect(),
            arrived: (0..len).map(|_| AtomicU64::new(0)).collect(),
            committed_count: AtomicU64::new(0),
            arrived_count: AtomicU64::new(0),
        }
    }

    fn slot(id: i64, of: &[AtomicU64]) -> Option<&AtomicU64> {
        usize::try_from(id - 1).ok().and_then(|index| of.get(index))
    }

    pub fn committed(&self, id: i64) {
        if let Some(slot) = Self::slot(id, &self.committed) {
            slot.store(self.clock.now(), Ordering::Relaxed);
            self.committed_count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Notes the first arrival of `id` (a replay would not count twice).
    fn arrived(&self, id: i64, at: u64) {
        if let Some(slot) = Self::slot(id, &self.arrived)
            && slot
                .compare_exchange(0, at, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.arrived_count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Waits until every committed id has arrived, or `timeout`.
    pub async fn wait_all_arrived(&self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.arrived_count.load(Ordering::Relaxed)
            < self.committed_count.load(Ordering::Relaxed)
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// (commit instant, arrival − commit) in ns for every id that has both.
    fn pairs(&self) -> Vec<(u64, i64)> {
        self.committed
            .iter()
            .zip(&self.arrived)
            .filter_map(|(committed, arrived)| {
                let (c, a) = (
                    committed.load(Ordering::Relaxed),
                    arrived.load(Ordering::Relaxed),
                );
                (c != 0 && a != 0).then(|| (c, a as i64 - c as i64))
            })
            .collect()
    }

    pub fn latencies(&self) -> Vec<i64> {
        self.pairs()
            .into_iter()
            .map(|(_, latency)| latency)
            .collect()
    }

    /// p99 of the rows committed in each `seconds`-long window of the run.
    pub fn windowed_p99(&self, seconds: u64) -> String {
        let pairs = self.pairs();
        let Some(first) = pairs.iter().map(|(at, _)| *at).min() else {
            return "-".into();
        };
        let width = seconds * 1_000_000_000;
        let mut windows: Vec<Vec<i64>> = Vec::new();
        for (at, latency) in pairs {
            let index = ((at - first) / width) as usize;
            if windows.len() <= index {
                windows.resize_with(index + 1, Vec::new);
            }
            windows[index].push(latency);
        }
        windows
            .iter_mut()
            .map(|window| format!("{:.1}", percentile(window, 0.99) as f64 / 1e6))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Takes ids `0..total` in turn from `next` (shared by every writer), waits until each is due
/// at `start + id / rate`, inserts row `id + 1` and notes when its commit returned. Returns how
/// far behind schedule this writer ever was.
pub async fn write_paced(
    mut writer: Writer,
    next: Arc<AtomicU64>,
    total: u64,
    rate: u64,
    start: tokio::time::Instant,
    timeline: Arc<Timeline>,
) -> anyhow::Result<Duration> {
    let mut lateness = Duration::ZERO;
    loop {
        let index = next.fetch_add(1, Ordering::Relaxed);
        if index >= total {
            return Ok(lateness);
        }
        let due = start + Duration::from_nanos(index * 1_000_000_000 / rate);
        let now = tokio::time::Instant::now();
        if due > now {
            tokio::time::sleep_until(due).await;
        } else {
            lateness = lateness.max(now - due);
        }
        let id = index as i64 + 1;
        writer.insert(id).await?;
        timeline.committed(id);
    }
}

/// Reads a topic's partition 0 from offset 0 by long-polling the REST API, noting when each
/// record (by the id `id_of` finds in its key bytes) arrived.
pub struct Consumer {
    http: reqwest::Client,
    base: String,
    timeline: Arc<Timeline>,
    stop: Arc<AtomicBool>,
    id_of: fn(&[u8]) -> Option<i64>,
}

/// What the consumer did: answers, records, and the time it spent between receiving an
/// answer and asking again (parsing and bookkeeping: when nobody is listening).
#[derive(Debug, Default)]
pub struct PollStats {
    answers: u64,
    records: u64,
    between_polls: Vec<i64>,
}

impl fmt::Display for PollStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} answers, {} records ({:.1} per answer); time between an answer and the next \
             request ms {}",
            self.answers,
            self.records,
            self.records as f64 / self.answers.max(1) as f64,
            percentiles_ms(&self.between_polls)
        )
    }
}

impl Consumer {
    pub fn new(
        worker: &SluiceProcess,
        topic: &str,
        timeline: Arc<Timeline>,
        stop: Arc<AtomicBool>,
        id_of: fn(&[u8]) -> Option<i64>,
    ) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: worker.url(&format!(
                "/topics/{topic}/records?partition=0&limit=2000&timeout_ms=200&format=raw&offset="
            )),
            timeline,
            stop,
            id_of,
        }
    }

    pub async fn run(self) -> anyhow::Result<PollStats> {
        let mut stats = PollStats::default();
        let mut offset = 0;
        let mut answered: Option<u64> = None;
        while !self.stop.load(Ordering::Relaxed) {
            if let Some(at) = answered {
                stats
                    .between_polls
                    .push((self.timeline.clock.now() - at) as i64);
            }
            let response = self
                .http
                .get(format!("{}{offset}", self.base))
                .send()
                .await?;
            let status = response.status();
            let body = response.bytes().await?;
            let at = self.timeline.clock.now();
            anyhow::ensure!(
                status.is_success(),
                "reading records: {status} {}",
                String::from_utf8_lossy(&body)
            );
            let page: Value = serde_json::from_slice(&body)?;
            let records = page["records"].as_array().context("no records array")?;
            for record in records {
                let key = record["key"]
                    .as_str()
                    .map(base64_decode)
                    .unwrap_or_default();
                if let Some(id) = (self.id_of)(&key) {
                    self.timeline.arrived(id, at);
                }
            }
            stats.answers += 1;
            stats.records += records.len() as u64;
            offset = page["next_offset"].as_i64().unwrap_or(offset);
            answered = Some(self.timeline.clock.now());
        }
        Ok(stats)
    }
}

/// The `id` of a JSON-converter key with schemas: `{"schema": …, "payload": {"id": N}}`.
pub fn row_id(key: &[u8]) -> Option<i64> {
    let key: Value = serde_json::from_slice(key).ok()?;
    key["payload"]["id"].as_i64()
}

/// A key that is a number as text (the probe's).
pub fn text_id(key: &[u8]) -> Option<i64> {
    std::str::from_utf8(key).ok()?.parse().ok()
}

/// Samples a process's VmRSS every 100 ms on its own thread (so a busy async runtime cannot
/// delay it) until the process is gone.
#[derive(Debug, Clone)]
pub struct RssSampler {
    samples: Arc<Mutex<Vec<(u64, u64)>>>,
}

impl RssSampler {
    pub fn start(pid: u32, clock: Clock) -> Self {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let sink = samples.clone();
        std::thread::spawn(move || {
            while let Some(kib) = status_kib(pid, "VmRSS:") {
                sink.lock().expect("sampler lock").push((clock.now(), kib));
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Self { samples }
    }

    /// The largest sample taken between the two instants, in KiB.
    pub fn max_kib(&self, from: u64, to: u64) -> u64 {
        let samples = self.samples.lock().expect("sampler lock");
        samples
            .iter()
            .filter(|(at, _)| (from..=to).contains(at))
            .map(|(_, kib)| *kib)
            .max()
            .unwrap_or(0)
    }
}

/// The kernel's peak RSS of the process so far (catches peaks between samples), in KiB.
pub fn vm_hwm_kib(pid: u32) -> u64 {
    status_kib(pid, "VmHWM:").unwrap_or(0)
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn percentile(sorted_or_not: &mut [i64], quantile: f64) -> i64 {
    if sorted_or_not.is_empty() {
        return 0;
    }
    sorted_or_not.sort_unstable();
    let rank = (quantile * sorted_or_not.len() as f64).ceil() as usize;
    sorted_or_not[rank.clamp(1, sorted_or_not.len()) - 1]
}

/// `p50 … p90 … p99 … max …` of nanosecond values, in milliseconds.
pub fn percentiles_ms(values: &[i64]) -> String {
    if values.is_empty() {
        return "(no values)".into();
    }
    let mut sorted = values.to_vec();
    let ms = |q: f64, sorted: &mut [i64]| percentile(sorted, q) as f64 / 1e6;
    format!(
        "p50 {:.2} p90 {:.2} p99 {:.2} max {:.2}",
        ms(0.50, &mut sorted),
        ms(0.90, &mut sorted),
        ms(0.99, &mut sorted),
        ms(1.0, &mut sorted)
    )
}

/// Decodes standard base64 (with or without padding); what the REST API's `format=raw` uses.
fn base64_decode(text: &str) -> Vec<u8> {
    fn sextet(byte: u8) -> Option<u32> {
        Some(match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for value in text.bytes().map_while(sextet) {
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}
