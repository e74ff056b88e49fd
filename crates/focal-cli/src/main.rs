//! `focal`: train and judge classifiers on heavily imbalanced data.
//!
//! This binary is glue: argument parsing, progress display and exit codes. The work lives in the
//! library crates (`focal-loss`, `focal-metrics`, `focal-data`, `focal-train`).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod args;
mod compare;
mod data;
mod eval;
mod export;
mod flags;
mod info;
mod plan;
mod predict;
mod progress;
mod train;

/// Train and judge classifiers on heavily imbalanced data.
#[derive(Debug, Parser)]
#[command(name = "focal", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Inspect a data set: format, shapes, class counts, imbalance.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Evaluate predictions per class, as scikit-learn's classification_report does.
    // A negative number reaches the flag's validator (`--lr -1`: "must be > 0"), not
    // clap's "unexpected argument".
    #[command(allow_negative_numbers = true)]
    Eval(eval::EvalArgs),
    /// Train a model with an imbalance remedy and judge it per class on a held-out test split.
    #[command(allow_negative_numbers = true)]
    Train(Box<train::TrainArgs>),
    /// Train several remedies on the same split, model, budget and seeds; tabulate per class.
    #[command(allow_negative_numbers = true)]
    Compare(Box<compare::CompareArgs>),
    /// Sweep focal loss's gamma, then alpha at the best gamma (or a full grid).
    #[command(allow_negative_numbers = true)]
    Sweep(Box<compare::SweepArgs>),
    /// Apply a trained run to new data (image files, a folder, a CSV, any data train reads):
    /// one CSV row per input with each class's probability and the decision.
    #[command(allow_negative_numbers = true)]
    Predict(Box<predict::PredictArgs>),
    /// Export a trained run's model: safetensors in PyTorch's layout (torchvision's keys for
    /// the ResNets) or Burn's record, with a JSON sidecar (preprocessing, classes, threshold).
    Export(export::ExportArgs),
    /// Rebuild report.html of a run or experiment folder from its files (a planned experiment is
    /// gathered from its run folders; runs still missing are listed, and the exit code is 1).
    Report(compare::ReportArgs),
    /// Train one run of a planned experiment (--index I or $SLURM_ARRAY_TASK_ID), or all left.
    RunPlan(plan::RunPlanArgs),
    /// Show the backend, devices, threads and GPU features of this build.
    Info(info::InfoArgs),
}

/// An outcome that is not a failure but needs its own exit code (printed as is).
#[derive(Debug)]
pub struct Exit {
    /// The process's exit code.
    pub code: u8,
    /// What to print on stderr.
    pub message: String,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

fn main() -> ExitCode {
    // glibc: keep a training step's buffers instead of returning them every step.
    focal_kernels::allocator::keep_step_buffers();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Data(cmd) => data::run(cmd),
        Command::Eval(args) => eval::run(args),
        Command::Train(args) => train::run(*args),
        Command::Info(args) => info::run(args),
        Command::Compare(args) => compare::run_compare(*args),
        Command::Sweep(args) => compare::run_sweep(*args),
        Command::Report(args) => compare::run_report(args),
        Command::Predict(args) => predict::run(*args),
        Command::Export(args) => export::run(args),
        Command::RunPlan(args) => plan::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => match err.downcast_ref::<Exit>() {
            Some(exit) => {
                eprintln!("{}", exit.message);
                ExitCode::from(exit.code)
            }
            None => {
                // The whole context chain on one line ("reading x.csv: line 3: ..."),
                // settings named by their flags.
                eprintln!("error: {}", flags::render(&err));
                ExitCode::FAILURE
            }
        },
    }
}
