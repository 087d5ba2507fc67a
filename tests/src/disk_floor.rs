//! The durable-write floor of a benchmark: how long this machine's disk takes just to write
//! and flush as many bytes as the broker wrote, measured in the same run.
//!
//! The source benchmarks compare Sluice, which must make every record durable in its log,
//! against reference programs that print to `/dev/null`. When the log's bytes alone take
//! longer to reach the disk than the reference's whole run, no amount of CPU work removed
//! from the pipeline can reach a 1× target; this module measures that floor so the
//! benchmark can say so with a number instead of a guess.
//!
//! The floor is a lower bound: the bytes are written in large sequential chunks to one file
//! next to the worker's data and flushed once at the end, a friendlier pattern than the
//! broker's (which flushes after every append so that a crash loses nothing acknowledged).

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::SluiceProcess;

/// Flushes every dirty page of the machine to disk (`sync`), so that the writeback of a
/// benchmark's set-up — the rows it just wrote, the files of the run before it — does not
/// land on whichever side is being timed. Call it right before the timed part.
pub fn settle() -> anyhow::Result<()> {
    let status = std::process::Command::new("sync")
        .status()
        .context("cannot run sync")?;
    anyhow::ensure!(status.success(), "sync failed: {status}");
    Ok(())
}

/// The size of each write: large enough that syscall cost is negligible next to the copy.
const CHUNK: usize = 8 * 1024 * 1024;

/// Writes `bytes` bytes into a scratch file in `dir` (which should be on the same
/// filesystem as the broker's data), flushes them with one `fdatasync`, deletes the file and
/// returns how long the writes and the flush took.
pub fn durable_write_floor(dir: &Path, bytes: u64) -> anyhow::Result<Duration> {
    let path = dir.join("disk-floor.scratch");
    let chunk: Vec<u8> = (0..CHUNK).map(|i| (i % 251) as u8).collect();
    let mut file =
        File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    let started = Instant::now();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        file.write_all(&chunk[..n])
            .with_context(|| format!("cannot write {}", path.display()))?;
        left -= n as u64;
    }
    file.sync_data()
        .with_context(|| format!("cannot flush {}", path.display()))?;
    let took = started.elapsed();
    drop(file);
    std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    Ok(took)
}

/// The sum of a topic's partition sizes on disk, from `GET /topics/<topic>`.
pub fn topic_bytes(topic: &serde_json::Value) -> u64 {
    topic["partitions"]
        .as_array()
        .map(|parts| {
            parts
                .iter()
                .map(|p| p["size_bytes"].as_u64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

/// Reads how many bytes `worker` holds for `topic`, measures the floor for that many bytes
/// next to the worker's data, and prints it against the reference's time.
pub async fn measure_and_report(
    worker: &SluiceProcess,
    topic: &str,
    reference: Duration,
) -> anyhow::Result<()> {
    let bytes = topic_bytes(&worker.get(&format!("/topics/{topic}")).await?);
    anyhow::ensure!(bytes > 0, "the worker reports no bytes for topic {topic}");
    let floor = durable_write_floor(worker.data_dir(), bytes)?;
    report_floor(bytes, floor, reference);
    Ok(())
}

/// Prints the floor next to the reference's time: the smallest ratio this disk allows.
pub fn report_floor(bytes: u64, floor: Duration, reference: Duration) {
    println!(
        "durable-write floor: writing the log's {:.1} MiB and one fdatasync took {floor:.2?} \
         = {:.2}× the reference alone (no ratio below that is reachable on this disk)",
        bytes as f64 / 1_048_576.0,
        floor.as_secs_f64() / reference.as_secs_f64()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_writes_the_bytes_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let took = durable_write_floor(dir.path(), 3 * CHUNK as u64 + 17).unwrap();
        assert!(took > Duration::ZERO);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn topic_bytes_adds_the_partitions() {
        let topic = serde_json::json!({"partitions": [
            {"partition": 0, "size_bytes": 1000},
            {"partition": 1, "size_bytes": 24},
        ]});
        assert_eq!(topic_bytes(&topic), 1024);
        assert_eq!(topic_bytes(&serde_json::json!({})), 0);
    }
}
