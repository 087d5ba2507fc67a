//! `sluice topics`: list, create, describe and delete topics of a running worker.

use std::process::ExitCode;

use anyhow::anyhow;
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use super::client::{RestClient, ServerArgs};
use super::output;

#[derive(Debug, Args)]
pub struct TopicsArgs {
    #[command(flatten)]
    server: ServerArgs,
    #[command(subcommand)]
    command: TopicsCommand,
}

#[derive(Debug, Subcommand)]
enum TopicsCommand {
    /// List topic names.
    List {
        /// Also list internal `__`-prefixed topics.
        #[arg(long)]
        internal: bool,
    },
    /// Create a topic.
    Create {
        name: String,
        #[arg(long, default_value_t = 1)]
        partitions: u32,
        /// A topic config such as `retention.ms=86400000` or `cleanup.policy=compact`
        /// (repeatable).
        #[arg(long = "config", value_name = "KEY=VALUE")]
        configs: Vec<String>,
    },
    /// Show a topic's partitions (start and end offsets) and config.
    Describe { name: String },
    /// Delete a topic and its data.
    Delete { name: String },
}

pub async fn run(args: TopicsArgs) -> anyhow::Result<ExitCode> {
    let client = RestClient::new(&args.server)?;
    match args.command {
        TopicsCommand::List { internal } => {
            let names = client.get(&format!("/topics?internal={internal}")).await?;
            for name in names.as_array().into_iter().flatten() {
                output::line!("{}", name.as_str().unwrap_or_default());
            }
        }
        TopicsCommand::Create {
            name,
            partitions,
            configs,
        } => {
            let mut config = Map::new();
            for pair in configs {
                let (key, value) = pair.split_once('=').ok_or_else(|| {
                    anyhow!("--config {pair:?} is not KEY=VALUE (e.g. retention.ms=86400000)")
                })?;
                config.insert(
                    key.trim().to_string(),
                    Value::String(value.trim().to_string()),
                );
            }
            let body = json!({"name": name, "partitions": partitions, "config": config});
            let created = client.post("/topics", &body).await?;
            output::line!("{}", serde_json::to_string_pretty(&created)?);
        }
        TopicsCommand::Describe { name } => {
            let described = client.get(&format!("/topics/{name}")).await?;
            output::line!("{}", serde_json::to_string_pretty(&described)?);
        }
        TopicsCommand::Delete { name } => {
            client.delete(&format!("/topics/{name}")).await?;
            eprintln!("deleted topic {name}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
