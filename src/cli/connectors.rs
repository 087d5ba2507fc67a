//! `sluice connectors`: manage connectors of a running worker through its Kafka Connect
//! REST API (`list`, `create -f FILE`, `get`, `status [--watch]`, `pause`, `resume`,
//! `stop`, `restart`, `delete`, `offsets`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::Value;

use super::client::{RestClient, ServerArgs};
use super::output;

#[derive(Debug, Args)]
pub struct ConnectorsArgs {
    #[command(flatten)]
    server: ServerArgs,
    #[command(subcommand)]
    command: ConnectorsCommand,
}

#[derive(Debug, Subcommand)]
enum ConnectorsCommand {
    /// List connector names.
    List,
    /// Create a connector from a JSON file (`{"name": …, "config": {…}}`), as POST /connectors.
    Create {
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        file: PathBuf,
    },
    /// Show a connector's configuration (secrets masked) and tasks.
    Get { name: String },
    /// Show a connector's and its tasks' states.
    Status {
        name: String,
        /// Redraw every second, with a progress bar per table being snapshotted.
        #[arg(long)]
        watch: bool,
    },
    /// Pause the connector's tasks.
    Pause { name: String },
    /// Resume a paused or stopped connector.
    Resume { name: String },
    /// Stop the connector's tasks, keeping config and offsets (needed before changing offsets).
    Stop { name: String },
    /// Restart the connector and its tasks.
    Restart {
        name: String,
        /// Restart only what failed.
        #[arg(long)]
        only_failed: bool,
    },
    /// Delete the connector (its offsets stay).
    Delete { name: String },
    /// Show the connector's stored offsets, or reset them (the connector must be stopped).
    Offsets {
        name: String,
        /// Remove every stored offset, so the connector starts over.
        #[arg(long)]
        reset: bool,
    },
}

pub async fn run(args: ConnectorsArgs) -> anyhow::Result<ExitCode> {
    let client = RestClient::new(&args.server)?;
    let print = |value: &Value| -> anyhow::Result<()> {
        output::line!("{}", serde_json::to_string_pretty(value)?);
        Ok(())
    };
    match args.command {
        ConnectorsCommand::List => {
            for name in client
                .get("/connectors")
                .await?
                .as_array()
                .into_iter()
                .flatten()
            {
                output::line!("{}", name.as_str().unwrap_or_default());
            }
        }
        ConnectorsCommand::Create { file } => {
            let text =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let body: Value = serde_json::from_slice(&text)
                .with_context(|| format!("{} is not valid JSON", file.display()))?;
            print(&client.post("/connectors", &body).await?)?;
        }
        ConnectorsCommand::Get { name } => {
            print(&client.get(&format!("/connectors/{name}")).await?)?
        }
        ConnectorsCommand::Status { name, watch: false } => {
            print(&client.get(&format!("/connectors/{name}/status")).await?)?
        }
        ConnectorsCommand::Status { name, watch: true } => watch_status(&client, &name).await?,
        ConnectorsCommand::Pause { name } => state_change(&client, &name, "pause").await?,
        ConnectorsCommand::Resume { name } => state_change(&client, &name, "resume").await?,
        ConnectorsCommand::Stop { name } => state_change(&client, &name, "stop").await?,
        ConnectorsCommand::Restart { name, only_failed } => {
            let path =
                format!("/connectors/{name}/restart?includeTasks=true&onlyFailed={only_failed}");
            print(&client.post(&path, &Value::Null).await?)?;
        }
        ConnectorsCommand::Delete { name } => {
            client.delete(&format!("/connectors/{name}")).await?;
            eprintln!("deleted connector {name}");
        }
        ConnectorsCommand::Offsets { name, reset: false } => {
            print(&client.get(&format!("/connectors/{name}/offsets")).await?)?
        }
        ConnectorsCommand::Offsets { name, reset: true } => print(
            &client
                .delete(&format!("/connectors/{name}/offsets"))
                .await?,
        )?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn state_change(client: &RestClient, name: &str, action: &str) -> anyhow::Result<()> {
    client.put(&format!("/connectors/{name}/{action}")).await?;
    eprintln!("{action}: requested for connector {name}");
    Ok(())
}

/// Redraws the status and snapshot progress until interrupted.
async fn watch_status(client: &RestClient, name: &str) -> anyhow::Result<()> {
    loop {
        let status = client.get(&format!("/connectors/{name}/status")).await?;
        let metrics = client.get_text("/metrics").await.unwrap_or_default();
        // Clear the screen and home the cursor, like `watch`.
        print!("\x1b[2J\x1b[H");
        output::line!("{}", render_status(&status));
        for line in render_progress(name, &metrics) {
            output::line!("{line}");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn render_status(status: &Value) -> String {
    let mut text = format!(
        "connector {}  {}",
        status["name"].as_str().unwrap_or_default(),
        status["connector"]["state"].as_str().unwrap_or_default()
    );
    for task in status["tasks"].as_array().into_iter().flatten() {
        text.push_str(&format!(
            "\n  task {}  {}",
            task["id"],
            task["state"].as_str().unwrap_or_default()
        ));
        if let Some(trace) = task["trace"].as_str() {
            text.push_str(&format!(
                "\n    {}",
                trace.lines().next().unwrap_or_default()
            ));
        }
    }
    text
}

/// One bar per snapshotted table, from the `sluice_snapshot_*` metrics of `connector`.
pub fn render_progress(connector: &str, metrics: &str) -> Vec<String> {
    let mut tables: std::collections::BTreeMap<String, (f64, Option<f64>)> = Default::default();
    let prefix = format!("connector=\"{connector}\",table=\"");
    for line in metrics.lines() {
        let (family, rest) = match line.split_once('{') {
            Some(split) => split,
            None => continue,
        };
        let Some(rest) = rest.strip_prefix(&prefix) else {
            continue;
        };
        let Some((table, value)) = rest.split_once("\"} ") else {
            continue;
        };
        let Ok(value) = value.trim().parse::<f64>() else {
            continue;
        };
        let entry = tables.entry(table.to_string()).or_default();
        match family {
            "sluice_snapshot_rows_done" => entry.0 = value,
            "sluice_snapshot_rows_estimated" => entry.1 = Some(value),
            _ => {}
        }
    }
    tables
        .into_iter()
        .map(|(table, (done, estimate))| match estimate {
            Some(total) if total > 0.0 => {
                let fraction = (done / total).clamp(0.0, 1.0);
                let filled = (fraction * 30.0).round() as usize;
                format!(
                    "  {table:<30} [{}{}] {:>5.1}%  {done:.0}/{total:.0} rows",
                    "#".repeat(filled),
                    " ".repeat(30 - filled),
                    fraction * 100.0
                )
            }
            _ => format!("  {table:<30} {done:.0} rows"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_bars_from_metrics() {
        let metrics = "sluice_snapshot_rows_done{connector=\"pg\",table=\"inventory.orders\"} 50\n\
                       sluice_snapshot_rows_estimated{connector=\"pg\",table=\"inventory.orders\"} 200\n\
                       sluice_snapshot_rows_done{connector=\"other\",table=\"x\"} 1\n";
        let lines = render_progress("pg", metrics);
        assert_eq!(lines.len(), 1);
        assert!(
            lines[0].contains("inventory.orders") && lines[0].contains("25.0%"),
            "{}",
            lines[0]
        );
        assert!(lines[0].contains("50/200 rows"));
    }
}
