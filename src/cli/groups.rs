//! `sluice groups`: list consumer groups and describe one (committed offsets and lag).

use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::client::{RestClient, ServerArgs};
use super::output;

#[derive(Debug, Args)]
pub struct GroupsArgs {
    #[command(flatten)]
    server: ServerArgs,
    #[command(subcommand)]
    command: GroupsCommand,
}

#[derive(Debug, Subcommand)]
enum GroupsCommand {
    /// List consumer groups and their states.
    List,
    /// Show a group's members, committed offsets and lag per partition.
    Describe { group: String },
}

pub async fn run(args: GroupsArgs) -> anyhow::Result<ExitCode> {
    let client = RestClient::new(&args.server)?;
    match args.command {
        GroupsCommand::List => {
            for group in client
                .get("/groups")
                .await?
                .as_array()
                .into_iter()
                .flatten()
            {
                output::line!(
                    "{}\t{}",
                    group["group_id"].as_str().unwrap_or_default(),
                    group["state"].as_str().unwrap_or_default()
                );
            }
        }
        GroupsCommand::Describe { group } => {
            let described = client.get(&format!("/groups/{group}")).await?;
            output::line!(
                "group {}  state {}  generation {}",
                group,
                described["state"].as_str().unwrap_or_default(),
                described["generation"]
            );
            output::line!(
                "{:<40} {:>9} {:>12} {:>12} {:>10}",
                "TOPIC",
                "PARTITION",
                "COMMITTED",
                "LOG-END",
                "LAG"
            );
            for offset in described["offsets"].as_array().into_iter().flatten() {
                output::line!(
                    "{:<40} {:>9} {:>12} {:>12} {:>10}",
                    offset["topic"].as_str().unwrap_or_default(),
                    offset["partition"],
                    offset["committed"],
                    offset["log_end"],
                    offset["lag"]
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
