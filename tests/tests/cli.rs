//! The command line against a real worker process, as a user would type it:
//! `sluice topics`, `sluice produce`, `sluice consume`, `--help`, `--version`, and the
//! errors a user sees when something is wrong.

use std::io::Write;
use std::process::{Command, Stdio};

use sluice_tests::SluiceProcess;
use sluice_tests::sluice::sluice_binary;

fn sluice(server: &str, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(sluice_binary().unwrap())
        .args(args)
        .env("SLUICE_SERVER", server)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn topics_produce_and_consume_from_the_command_line() -> anyhow::Result<()> {
    let worker = SluiceProcess::start().await?;
    let server = worker.server();
    let run = |args: &[&str], stdin: Option<&str>| sluice(&server, args, stdin);

    let (ok, out, err) = run(&["topics", "create", "events", "--partitions", "3"], None);
    assert!(ok, "{err}");
    assert!(out.contains("\"partitions\""), "{out}");

    let (ok, _, err) = run(
        &["produce", "events", "--key-separator", ":"],
        Some("a:{\"n\":1}\nb:plain text\nc:{\"n\":3}\n"),
    );
    assert!(ok, "{err}");
    assert!(err.contains("3 records appended"), "{err}");

    let (ok, out, err) = run(
        &["consume", "events", "--from-beginning", "--format", "json"],
        None,
    );
    assert!(ok, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{out}");
    let mut values: Vec<String> = lines.iter().map(|l| l["value"].to_string()).collect();
    values.sort();
    assert_eq!(values, ["\"plain text\"", "{\"n\":1}", "{\"n\":3}"]);
    assert!(
        lines
            .iter()
            .all(|l| l["topic"] == "events" && l["offset"].is_i64())
    );

    let (ok, out, _) = run(
        &[
            "consume",
            "events",
            "--from-beginning",
            "--max-messages",
            "1",
        ],
        None,
    );
    assert!(ok);
    assert_eq!(out.lines().count(), 1);

    let (ok, out, _) = run(&["topics", "list"], None);
    assert!(ok);
    assert_eq!(out.trim(), "events");

    // Errors say what is wrong.
    let (ok, _, err) = run(&["topics", "describe", "missing"], None);
    assert!(!ok);
    assert!(
        err.contains("unknown topic \"missing\"") && err.contains("404"),
        "{err}"
    );
    let (ok, _, err) = run(&["topics", "create", "bad name"], None);
    assert!(!ok);
    assert!(err.contains("invalid topic name"), "{err}");
    let (ok, _, err) = sluice("http://127.0.0.1:1", &["topics", "list"], None);
    assert!(!ok);
    assert!(
        err.contains("cannot reach the Sluice worker") && err.contains("sluice serve"),
        "{err}"
    );
    Ok(())
}

#[test]
fn help_and_version() {
    let (ok, out, _) = sluice("http://127.0.0.1:1", &["--help"], None);
    assert!(ok);
    for command in ["serve", "topics", "consume", "produce"] {
        assert!(out.contains(command), "--help lists {command}: {out}");
    }
    let (ok, out, _) = sluice("http://127.0.0.1:1", &["--version"], None);
    assert!(ok);
    assert_eq!(out.trim(), format!("sluice {}", env!("CARGO_PKG_VERSION")));
}
