//! Exactly once from the broker to files across `kill -9` of a real `sluice serve` process
//! (DESIGN.md §4): the built-in sequence source numbers records while a Parquet changelog
//! sink writes small files; the worker is killed twice while files are being written and
//! restarted; pyarrow must then find every number exactly once and no temporary file left.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use sluice_tests::SluiceProcess;
use support::{create_connector, read_rows, wait_committed};

const TOTAL: i64 = 6_000;

fn committed_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with(".parquet"))
                .count()
        })
        .unwrap_or(0)
}

async fn wait_for_files(worker: &SluiceProcess, dir: &Path, at_least: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while committed_files(dir) < at_least {
        if Instant::now() > deadline {
            anyhow::bail!(
                "fewer than {at_least} files in {} after 60 s; log:\n{}",
                dir.display(),
                worker.log()
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_writing_files_loses_and_duplicates_nothing() -> anyhow::Result<()> {
    let mut worker = SluiceProcess::start().await?;
    let out = tempfile::tempdir()?;
    create_connector(
        &worker,
        "numbers",
        json!({
            "connector.class": "sequence",
            "topic": "numbers",
            "sequence.count": TOTAL.to_string(),
            "sequence.batch.size": "50",
            "sequence.interval.ms": "5",
        }),
    )
    .await?;
    create_connector(
        &worker,
        "warehouse",
        json!({
            "connector.class": "file",
            "topics": "numbers",
            "path": out.path(),
            "format": "parquet",
            "flush.size": "200",
            "rotate.interval.ms": "300",
        }),
    )
    .await?;
    let dir = out.path().join("numbers");
    for files in [3, 12] {
        wait_for_files(&worker, &dir, files).await?;
        worker.kill9()?;
        worker.restart().await?;
    }
    wait_committed(&worker, "warehouse", TOTAL).await?;
    assert_exactly_once(&dir)?;

    // Progress comes from the files, not the consumer group: with the group's offsets
    // deleted (KIP-875) and other file boundaries (so a rewrite would not land on the same
    // names), the sink must still not write anything twice.
    let http = reqwest::Client::new();
    let stop = http
        .put(worker.url("/connectors/warehouse/stop"))
        .send()
        .await?;
    assert!(stop.status().is_success(), "stop: {}", stop.status());
    worker
        .wait_for("/connectors/warehouse/status", support::WAIT, |s| {
            s["connector"]["state"] == "STOPPED"
        })
        .await?;
    let reset = http
        .delete(worker.url("/connectors/warehouse/offsets"))
        .send()
        .await?;
    assert!(
        reset.status().is_success(),
        "offsets reset: {}",
        reset.status()
    );
    let config = json!({
        "connector.class": "file",
        "topics": "numbers",
        "path": dir.parent().unwrap_or(&dir),
        "format": "parquet",
        "flush.size": "333",
        "rotate.interval.ms": "300",
    });
    let update = http
        .put(worker.url("/connectors/warehouse/config"))
        .json(&config)
        .send()
        .await?;
    assert!(update.status().is_success(), "config: {}", update.status());
    let resume = http
        .put(worker.url("/connectors/warehouse/resume"))
        .send()
        .await?;
    assert!(resume.status().is_success(), "resume: {}", resume.status());
    wait_committed(&worker, "warehouse", TOTAL).await?;
    assert_exactly_once(&dir)?;
    Ok(())
}

fn assert_exactly_once(dir: &Path) -> anyhow::Result<()> {
    let read = read_rows("parquet", dir)?;
    for (reader, rows) in read["readers"].as_object().cloned().unwrap_or_default() {
        let rows = rows.as_array().cloned().unwrap_or_default();
        let mut offsets: Vec<i64> = rows.iter().filter_map(|r| r["__offset"].as_i64()).collect();
        let mut numbers: Vec<i64> = rows.iter().filter_map(|r| r["n"].as_i64()).collect();
        offsets.sort_unstable();
        numbers.sort_unstable();
        let expected: Vec<i64> = (0..TOTAL).collect();
        assert_eq!(rows.len() as i64, TOTAL, "{reader}: row count");
        assert!(
            offsets == expected,
            "{reader}: offsets are not 0..{TOTAL} exactly once"
        );
        assert!(
            numbers == expected,
            "{reader}: numbers are not 0..{TOTAL} exactly once"
        );
    }
    let leftovers: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    Ok(())
}
