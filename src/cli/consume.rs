//! `sluice consume`: prints a topic's records, from every partition, as they arrive.
//!
//! Without `--follow` it reads up to the end each partition had when the command started
//! and exits; with `--follow` it keeps waiting for new records, and for the topic itself
//! when it does not exist yet (then reading it from its first record). `--max-messages` and
//! `--timeout-ms` (time without a new record) end it earlier. With `--group` it starts at the
//! group's committed offsets and commits what it printed.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde_json::Value;
use tokio::sync::mpsc;

use super::client::{RestClient, ServerArgs};
use super::output;

#[derive(Debug, Args)]
pub struct ConsumeArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The topic to read.
    topic: String,
    /// Start at the earliest stored record instead of the end.
    #[arg(long)]
    from_beginning: bool,
    /// Keep waiting for new records instead of exiting at the end of the topic (and for the
    /// topic to be created, when it does not exist yet).
    #[arg(long)]
    follow: bool,
    /// Exit after printing this many records.
    #[arg(long)]
    max_messages: Option<u64>,
    /// Exit after this many milliseconds without a new record.
    #[arg(long)]
    timeout_ms: Option<u64>,
    /// Consumer group: start where the group's committed offsets are, and commit what was
    /// printed (the next run of the same group continues after it).
    #[arg(long)]
    group: Option<String>,
    /// Read only this partition.
    #[arg(long)]
    partition: Option<i32>,
    /// What to print per record.
    #[arg(long, value_enum, default_value_t = Format::Value)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// The value alone (JSON as JSON, text as text, tombstones as `null`).
    Value,
    /// One JSON object per record: topic, partition, offset, timestamp, key, value, headers.
    Json,
    /// Like `json`, with key and value as base64 of the stored bytes.
    Raw,
}

/// Long-poll wait per request while following.
const POLL_WAIT_MS: u64 = 1000;

pub async fn run(args: ConsumeArgs) -> anyhow::Result<ExitCode> {
    let client = RestClient::new(&args.server)?;
    let (description, created_while_waiting) = describe_topic(&client, &args).await?;
    let partitions = description["partitions"]
        .as_array()
        .context("the worker's topic description has no partitions")?;
    let committed = match &args.group {
        Some(group) => committed_offsets(&client, group, &args.topic).await?,
        None => Default::default(),
    };
    let (sender, mut receiver) = mpsc::channel::<Value>(1024);
    for partition in partitions {
        let id = partition["partition"].as_i64().unwrap_or_default() as i32;
        if args.partition.is_some_and(|wanted| wanted != id) {
            continue;
        }
        let start = partition["start_offset"].as_i64().unwrap_or_default();
        let end = partition["end_offset"].as_i64().unwrap_or_default();
        let reader = PartitionReader {
            client: client.clone(),
            topic: args.topic.clone(),
            partition: id,
            offset: match committed.get(&id) {
                Some(offset) => *offset,
                // A topic that did not exist when the command started holds only new records.
                None if args.from_beginning || created_while_waiting => start,
                None => end,
            },
            stop_at: (!args.follow).then_some(end),
            raw: args.format == Format::Raw,
        };
        tokio::spawn(reader.run(sender.clone()));
    }
    drop(sender);

    let mut printed = 0u64;
    let mut progress = GroupProgress::default();
    while args.max_messages.is_none_or(|max| printed < max) {
        let next = match args.timeout_ms {
            Some(ms) => {
                match tokio::time::timeout(Duration::from_millis(ms), receiver.recv()).await {
                    Ok(next) => next,
                    Err(_) => break,
                }
            }
            None => receiver.recv().await,
        };
        let Some(record) = next else { break };
        if let Some(error) = record.get("error") {
            anyhow::bail!("{}", error.as_str().unwrap_or_default());
        }
        print_record(&record, args.format);
        printed += 1;
        if let Some(group) = &args.group {
            progress.printed(&record);
            if printed.is_multiple_of(COMMIT_EVERY) {
                progress.commit(&client, group, &args.topic).await?;
            }
        }
    }
    if let Some(group) = &args.group {
        progress.commit(&client, group, &args.topic).await?;
    }
    Ok(ExitCode::SUCCESS)
}

/// How often a `--follow` consumer asks whether a missing topic exists yet.
const TOPIC_WAIT_POLL: Duration = Duration::from_millis(250);

/// The topic's description. A missing topic is an error that says how to find topics, except
/// with `--follow`, which waits for it to be created (within `--timeout-ms` when given); the
/// flag says whether it had to wait.
async fn describe_topic(client: &RestClient, args: &ConsumeArgs) -> anyhow::Result<(Value, bool)> {
    let path = format!("/topics/{}", args.topic);
    let started = std::time::Instant::now();
    let mut waited = false;
    loop {
        match client.get(&path).await {
            Ok(description) => return Ok((description, waited)),
            Err(error) if error.to_string().contains("HTTP 404") => {
                if !args.follow {
                    anyhow::bail!(
                        "topic {} does not exist; `sluice topics list` shows the topics there \
                         are, and --follow waits for this one to be created",
                        args.topic
                    );
                }
                if args
                    .timeout_ms
                    .is_some_and(|ms| started.elapsed() >= Duration::from_millis(ms))
                {
                    anyhow::bail!(
                        "topic {} was not created within --timeout-ms {}",
                        args.topic,
                        args.timeout_ms.unwrap_or_default()
                    );
                }
                if !waited {
                    eprintln!("waiting for topic {} to be created…", args.topic);
                    waited = true;
                }
                tokio::time::sleep(TOPIC_WAIT_POLL).await;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Records printed between two commits of a group's offsets.
const COMMIT_EVERY: u64 = 500;

/// The next offset to read per partition, as committed for `group`.
async fn committed_offsets(
    client: &RestClient,
    group: &str,
    topic: &str,
) -> anyhow::Result<std::collections::BTreeMap<i32, i64>> {
    let described = match client.get(&format!("/groups/{group}")).await {
        Ok(described) => described,
        // A group that never committed starts like a fresh consumer.
        Err(error) if error.to_string().contains("HTTP 404") => return Ok(Default::default()),
        Err(error) => return Err(error),
    };
    Ok(described["offsets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["topic"] == topic)
        .filter_map(|o| Some((o["partition"].as_i64()? as i32, o["committed"].as_i64()?)))
        .collect())
}

/// The next offset per partition after what was printed, not yet committed.
#[derive(Debug, Default)]
struct GroupProgress {
    next: std::collections::BTreeMap<i64, i64>,
}

impl GroupProgress {
    fn printed(&mut self, record: &Value) {
        if let (Some(partition), Some(offset)) =
            (record["partition"].as_i64(), record["offset"].as_i64())
        {
            self.next.insert(partition, offset + 1);
        }
    }

    async fn commit(
        &mut self,
        client: &RestClient,
        group: &str,
        topic: &str,
    ) -> anyhow::Result<()> {
        if self.next.is_empty() {
            return Ok(());
        }
        let offsets: Vec<Value> = std::mem::take(&mut self.next)
            .into_iter()
            .map(|(partition, offset)| {
                serde_json::json!({"topic": topic, "partition": partition, "offset": offset})
            })
            .collect();
        client
            .post(
                &format!("/groups/{group}/offsets"),
                &serde_json::json!({ "offsets": offsets }),
            )
            .await?;
        Ok(())
    }
}

fn print_record(record: &Value, format: Format) {
    match format {
        Format::Value => match &record["value"] {
            Value::String(text) => output::line!("{text}"),
            other => output::line!("{other}"),
        },
        Format::Json | Format::Raw => output::line!("{record}"),
    }
}

struct PartitionReader {
    client: RestClient,
    topic: String,
    partition: i32,
    offset: i64,
    /// Where to stop when not following.
    stop_at: Option<i64>,
    raw: bool,
}

impl PartitionReader {
    async fn run(mut self, records: mpsc::Sender<Value>) {
        let format = if self.raw { "raw" } else { "json" };
        loop {
            if self.stop_at.is_some_and(|end| self.offset >= end) {
                return;
            }
            let wait = if self.stop_at.is_some() {
                0
            } else {
                POLL_WAIT_MS
            };
            let path = format!(
                "/topics/{}/records?partition={}&offset={}&limit=500&timeout_ms={wait}&format={format}",
                self.topic, self.partition, self.offset
            );
            let page = match self.client.get(&path).await {
                Ok(page) => page,
                Err(error) => {
                    let _ = records
                        .send(serde_json::json!({"error": error.to_string()}))
                        .await;
                    return;
                }
            };
            for record in page["records"].as_array().into_iter().flatten() {
                if self
                    .stop_at
                    .is_some_and(|end| record["offset"].as_i64() >= Some(end))
                {
                    return;
                }
                if records.send(record.clone()).await.is_err() {
                    return;
                }
            }
            self.offset = page["next_offset"].as_i64().unwrap_or(self.offset);
        }
    }
}
