//! `focal export`: a finished run's model as safetensors (torchvision's keys for the ResNets)
//! or a Burn record, with a JSON sidecar.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use focal_train::export::{ExportFormat, export_run};

use crate::args::named;

/// Arguments of `focal export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The run folder (of `focal train`, or one run of a comparison); its model of the evaluated
    /// epoch is exported.
    #[arg(long, value_name = "DIR")]
    pub run: PathBuf,
    /// safetensors: PyTorch's names and layout (the ResNets with torchvision's state-dict keys,
    /// batch-norm running statistics and num_batches_tracked included); burn: Burn's record
    /// (burnpack) for `Model::load_from`.
    #[arg(long, default_value_t = ExportFormat::Safetensors, value_parser = named::<ExportFormat>())]
    pub format: ExportFormat,
    /// The weight file to write (default: model.safetensors or model.bpk in the run folder);
    /// the sidecar `<FILE>.json` (preprocessing, class names, threshold, temperature, every
    /// tensor's name and shape) is written beside it.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs `focal export`.
pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    focal_train::run::check_run(&args.run, focal_train::Setting::Run)?;
    let done = export_run(&args.run, args.format, args.out.as_deref())
        .with_context(|| format!("--run {}", args.run.display()))?;
    if !args.quiet {
        eprintln!(
            "{} of {} (epoch {}, {} tensors) written to {}; sidecar {}",
            done.info.model,
            args.run.display(),
            done.info.epoch,
            done.info.tensors.len(),
            done.weights.display(),
            done.sidecar.display()
        );
    }
    Ok(())
}
