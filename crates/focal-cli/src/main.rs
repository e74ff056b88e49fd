//! `focal`: train and judge classifiers on heavily imbalanced data.
//!
//! This binary is glue: argument parsing, progress display and exit codes. The work lives in the
//! library crates (`focal-loss`, `focal-metrics`, `focal-data`, `focal-train`).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod data;
mod device;
mod eval;
mod eval_run;
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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the whole context chain on one line: "reading x.csv: line 3: ...".
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
