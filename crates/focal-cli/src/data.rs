//! `focal data`.
use clap::Subcommand;

/// Subcommands of `focal data`.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Describe a data set.
    Inspect,
}

/// Runs `focal data ...`.
pub fn run(_cmd: DataCommand) -> anyhow::Result<()> {
    anyhow::bail!("focal data is being built (issue 4)")
}
