//! `sluice produce`: appends each line of standard input to a topic as one record, and
//! exits only once the worker has acknowledged every line as durable.

use std::process::ExitCode;

use clap::Args;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use super::client::{RestClient, ServerArgs};

#[derive(Debug, Args)]
pub struct ProduceArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The topic to append to (created on first use when the worker auto-creates topics).
    topic: String,
    /// Split each line at the first SEP into key and value (e.g. `--key-separator :`).
    #[arg(long, value_name = "SEP")]
    key_separator: Option<String>,
    /// Write every record to this partition instead of routing by key.
    #[arg(long)]
    partition: Option<i32>,
}

/// Lines sent per request.
const BATCH_LINES: usize = 500;

pub async fn run(args: ProduceArgs) -> anyhow::Result<ExitCode> {
    let client = RestClient::new(&args.server)?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut batch = Vec::with_capacity(BATCH_LINES);
    let mut acknowledged = 0usize;
    let path = format!("/topics/{}/records", args.topic);
    while let Some(line) = lines.next_line().await? {
        batch.push(record_for(
            &line,
            args.key_separator.as_deref(),
            args.partition,
        ));
        if batch.len() == BATCH_LINES {
            acknowledged += send(&client, &path, &mut batch).await?;
        }
    }
    if !batch.is_empty() {
        acknowledged += send(&client, &path, &mut batch).await?;
    }
    eprintln!("{acknowledged} records appended to {}", args.topic);
    Ok(ExitCode::SUCCESS)
}

fn record_for(line: &str, separator: Option<&str>, partition: Option<i32>) -> Value {
    let (key, value) = match separator.and_then(|sep| line.split_once(sep)) {
        Some((key, value)) => (Value::String(key.to_string()), value),
        None => (Value::Null, line),
    };
    json!({"key": key, "value": value, "partition": partition})
}

async fn send(client: &RestClient, path: &str, batch: &mut Vec<Value>) -> anyhow::Result<usize> {
    let body = Value::Array(std::mem::take(batch));
    let answer = client.post(path, &body).await?;
    Ok(answer["offsets"].as_array().map_or(0, Vec::len))
}
