//! The `sluice` binary: parses the command line and hands off to [`cli`].

mod cli;

fn main() -> anyhow::Result<()> {
    cli::run()
}
