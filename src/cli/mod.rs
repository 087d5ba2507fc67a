//! The command line: argument definitions and dispatch to each subcommand.
//!
//! - [`serve`]: `sluice serve` / `sluice standalone`, the worker with its embedded broker and
//!   REST API.
//! - [`client`]: the HTTP client the other commands use to talk to a running worker.
//! - [`connectors`]: `sluice connectors …`, the Kafka Connect REST API from the shell.
//! - [`groups`]: `sluice groups list|describe`.
//! - [`topics`]: `sluice topics list|create|describe|delete`.
//! - [`consume`]: `sluice consume`, printing records as they arrive.
//! - [`produce`]: `sluice produce`, appending lines from stdin.
//! - [`output`]: printing to stdout that ends quietly when the reader goes away.

mod client;
mod connectors;
mod consume;
mod groups;
mod output;
mod produce;
mod serve;
mod topics;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Change-data-capture in one binary: Debezium-compatible sources, an embedded
/// Kafka-compatible log broker, and data-warehouse and HTTP sinks.
#[derive(Debug, Parser)]
#[command(name = "sluice", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a worker: the embedded broker plus the Kafka Connect-compatible REST API.
    Serve(serve::ServeArgs),
    /// Run a worker and create (or update) the connectors given as JSON files.
    Standalone(serve::StandaloneArgs),
    /// Manage connectors of a running worker.
    Connectors(connectors::ConnectorsArgs),
    /// List consumer groups, or show one's offsets and lag.
    Groups(groups::GroupsArgs),
    /// Manage topics of a running worker.
    Topics(topics::TopicsArgs),
    /// Print records of a topic as they arrive.
    Consume(consume::ConsumeArgs),
    /// Append lines from standard input to a topic.
    Produce(produce::ProduceArgs),
    /// Print version and build information.
    Version,
}

/// Parses the process arguments and runs the chosen subcommand.
pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Serve(args)) => serve::run(args),
        Some(Command::Standalone(args)) => serve::run_standalone(args),
        Some(Command::Connectors(args)) => client::block_on(connectors::run(args)),
        Some(Command::Groups(args)) => client::block_on(groups::run(args)),
        Some(Command::Topics(args)) => client::block_on(topics::run(args)),
        Some(Command::Consume(args)) => client::block_on(consume::run(args)),
        Some(Command::Produce(args)) => client::block_on(produce::run(args)),
        Some(Command::Version) => {
            println!("sluice {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        None => {
            use clap::CommandFactory;
            Cli::command().print_help()?;
            println!();
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
