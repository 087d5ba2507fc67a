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

#[tokio::test]
async fn consume_follow_waits_for_a_topic_that_does_not_exist_yet() -> anyhow::Result<()> {
    use std::io::{BufRead, BufReader};

    let worker = SluiceProcess::start().await?;
    let server = worker.server();

    let (ok, _, err) = sluice(&server, &["consume", "later"], None);
    assert!(!ok);
    assert!(
        err.contains("topic later does not exist") && err.contains("--follow"),
        "{err}"
    );

    let mut consumer = Command::new(sluice_binary()?)
        .args(["consume", "later", "--follow", "--max-messages", "2"])
        .env("SLUICE_SERVER", &server)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Produce only once the consumer says it waits, so the records surely come after it.
    let mut stderr = BufReader::new(consumer.stderr.take().expect("piped"));
    let mut line = String::new();
    stderr.read_line(&mut line)?;
    assert!(line.contains("waiting for topic later"), "{line}");

    let (ok, _, err) = sluice(
        &server,
        &["produce", "later"],
        Some("{\"n\":1}\n{\"n\":2}\n"),
    );
    assert!(ok, "{err}");
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(consumer.wait_with_output());
    });
    let output = finished.recv_timeout(std::time::Duration::from_secs(60))??;
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .collect::<Vec<_>>(),
        ["{\"n\":1}", "{\"n\":2}"],
        "records written after the topic was created are all printed"
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

#[tokio::test]
async fn connectors_and_groups_from_the_command_line() -> anyhow::Result<()> {
    let worker = SluiceProcess::start().await?;
    let server = worker.server();
    let run = |args: &[&str]| sluice(&server, args, None);
    let file = worker.data_dir().join("seq.json");
    std::fs::write(
        &file,
        r#"{"name": "seq", "config": {"connector.class": "sequence", "topic": "numbers",
            "sequence.count": "50", "database.password": "s3cret"}}"#,
    )?;

    let (ok, out, err) = run(&["connectors", "create", "-f", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        out.contains("\"[hidden]\"") && !out.contains("s3cret"),
        "{out}"
    );
    let (ok, out, _) = run(&["connectors", "list"]);
    assert!(ok);
    assert_eq!(out.trim(), "seq");
    worker
        .wait_for("/topics/numbers", std::time::Duration::from_secs(30), |t| {
            t["partitions"][0]["end_offset"] == 50
        })
        .await?;
    let (ok, out, _) = run(&["connectors", "status", "seq"]);
    assert!(ok);
    assert!(out.contains("RUNNING"), "{out}");

    let (ok, _, err) = run(&["connectors", "offsets", "seq", "--reset"]);
    assert!(!ok, "reset needs a stopped connector");
    assert!(err.contains("STOPPED"), "{err}");
    let (ok, _, err) = run(&["connectors", "stop", "seq"]);
    assert!(ok, "{err}");
    worker
        .wait_for(
            "/connectors/seq/status",
            std::time::Duration::from_secs(30),
            |s| s["connector"]["state"] == "STOPPED",
        )
        .await?;
    let (ok, out, err) = run(&["connectors", "offsets", "seq", "--reset"]);
    assert!(ok, "{err}");
    assert!(out.contains("reset successfully"), "{out}");
    let (ok, _, err) = run(&["connectors", "delete", "seq"]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&["connectors", "get", "seq"]);
    assert!(!ok);
    assert!(err.contains("not found") && err.contains("404"), "{err}");

    // A consumer group continues where its last run stopped.
    let (ok, out, _) = run(&[
        "consume",
        "numbers",
        "--group",
        "g",
        "--from-beginning",
        "--max-messages",
        "20",
    ]);
    assert!(ok);
    assert_eq!(out.lines().count(), 20);
    let (ok, out, _) = run(&["consume", "numbers", "--group", "g"]);
    assert!(ok);
    let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap())?;
    assert_eq!(first["payload"]["n"], 20, "{out}");
    assert_eq!(out.lines().count(), 30);
    let (ok, out, _) = run(&["groups", "describe", "g"]);
    assert!(ok);
    assert!(out.contains("numbers") && out.contains("50"), "{out}");
    let (ok, out, _) = run(&["groups", "list"]);
    assert!(ok);
    assert!(out.contains('g'), "{out}");
    Ok(())
}

#[tokio::test]
async fn standalone_starts_the_connectors_in_its_files() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("seq.json");
    std::fs::write(
        &file,
        r#"{"name": "seq", "config": {"connector.class": "io.sluice.connect.SequenceSourceConnector",
            "topic": "numbers", "sequence.count": "10"}}"#,
    )?;
    let port = sluice_tests::ports::pick_free_port()?;
    let mut child = Command::new(sluice_binary()?)
        .args(["standalone", "--data-dir"])
        .arg(dir.path().join("data"))
        .args(["--rest-listen", &format!("127.0.0.1:{port}")])
        .arg(&file)
        .stderr(Stdio::null())
        .spawn()?;
    let server = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut last = String::new();
    let mut complete = false;
    while !complete && std::time::Instant::now() < deadline {
        let (ok, out, _) = sluice(&server, &["consume", "numbers", "--from-beginning"], None);
        complete = ok && out.lines().count() == 10;
        last = out;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    child.kill()?;
    child.wait()?;
    assert!(
        complete,
        "the standalone worker never wrote the 10 numbers; last read: {last}"
    );

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"name\": ")?;
    let output = Command::new(sluice_binary()?)
        .args(["standalone", "--data-dir"])
        .arg(dir.path().join("data2"))
        .arg(&bad)
        .output()?;
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("bad.json") && err.contains("not valid JSON"),
        "{err}"
    );
    Ok(())
}
