//! `focal`: train and judge classifiers on heavily imbalanced data.
//!
//! This binary is glue: argument parsing, progress display and exit codes. The work lives in the
//! library crates (`focal-loss`, `focal-metrics`, `focal-data`, `focal-train`).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod compare;
mod data;
mod device;
mod eval;
mod eval_run;
mod flags;
mod info;
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
    Eval(eval::EvalArgs),
    /// Train a model with an imbalance remedy and judge it per class on a held-out test split.
    Train(Box<train::TrainArgs>),
    /// Train several remedies on the same split, model, budget and seeds; tabulate per class.
    Compare(Box<compare::CompareArgs>),
    /// Sweep focal loss's gamma, then alpha at the best gamma (or a full grid).
    Sweep(Box<compare::SweepArgs>),
    /// Rebuild report.html of a run or experiment folder from its files.
    Report(compare::ReportArgs),
    /// Show the backend, devices, threads and GPU features of this build.
    Info(info::InfoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Data(cmd) => data::run(cmd),
        Command::Eval(args) => eval::run(args),
        Command::Train(args) => train::run(*args),
        Command::Info(args) => info::run(args),
        Command::Compare(args) => compare::run_compare(*args),
        Command::Sweep(args) => compare::run_sweep(*args),
        Command::Report(args) => compare::run_report(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // The whole context chain on one line ("reading x.csv: line 3: ..."), settings
            // named by their flags.
            eprintln!("error: {}", flags::render(&err));
            ExitCode::FAILURE
        }
    }
}
