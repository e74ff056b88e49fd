//! `focal eval`.
use clap::Args;

/// Arguments of `focal eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {}

/// Runs `focal eval`.
pub fn run(_args: EvalArgs) -> anyhow::Result<()> {
    anyhow::bail!("focal eval is being built (issue 3)")
}
