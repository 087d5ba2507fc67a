//! The command line: argument definitions and dispatch to each subcommand.
//!
//! Subcommands arrive with their features (`serve`, `standalone`, `connectors`, `topics`,
//! `consume`, `produce`, `groups`); today the binary answers `--help` and `--version`.

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
    /// Print version and build information.
    Version,
}

/// Parses the process arguments and runs the chosen subcommand.
pub fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Version) => {
            println!("sluice {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        None => {
            use clap::CommandFactory;
            Cli::command().print_help()?;
            println!();
            Ok(())
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
