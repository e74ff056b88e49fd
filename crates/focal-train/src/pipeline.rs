//! The orchestration point: a run or an experiment from start to report. The training loop
//! ([`crate::train`]) and experiments ([`crate::experiment`]) write their files; this module
//! then draws the HTML reports from those files ([`crate::report`]), and is the only caller of
//! the report module.

use std::path::Path;

use crate::config::TrainConfig;
use crate::data::PreparedData;
use crate::error::TrainError;
use crate::experiment::{self, Comparison, Plan, Runner, SweepSpec};
use crate::progress::Progress;
use crate::report;
use crate::run::files::write_atomic;
use crate::run::record::{read_config, read_split};
use crate::train::{self as train_loop, RunSummary};
use focal_data::LoadOptions;

/// Trains `config` on `data` into the run folder `out_dir` and draws its `report.html`.
/// See [`crate::train::train`] for what is written and when it fails.
pub fn train(
    config: &TrainConfig,
    data: &PreparedData,
    out_dir: &Path,
    progress: &dyn Progress,
) -> Result<RunSummary, TrainError> {
    let summary = train_loop::train(config, data, out_dir, progress)?;
    report::write_run_report(out_dir)?;
    Ok(summary)
}

/// Continues the run in `run_dir` (see [`crate::train::resume`]) and draws its `report.html`.
pub fn resume(
    run_dir: &Path,
    data: &PreparedData,
    progress: &dyn Progress,
) -> Result<RunSummary, TrainError> {
    let summary = train_loop::resume(run_dir, data, progress)?;
    report::write_run_report(run_dir)?;
    Ok(summary)
}

/// Writes `comparison.json`, `comparison.md` and `report.html` of an experiment folder.
pub fn write_comparison(cmp: &Comparison, out_dir: &Path) -> Result<(), TrainError> {
    cmp.write(out_dir)?;
    let html = report::comparison_html(cmp, out_dir)?;
    write_atomic(&out_dir.join("report.html"), html.as_bytes())
}

/// Trains every plan with every seed (each run with its report) and writes the comparison.
/// `announce` is told of each run before it starts (`label`, `seed`, index, total).
pub fn compare(
    title: &str,
    data: &PreparedData,
    plans: &[Plan],
    seeds: &[u64],
    out_dir: &Path,
    progress: &dyn Progress,
    announce: &dyn Fn(&str, u64, usize, usize),
) -> Result<Comparison, TrainError> {
    let runner = Runner {
        train,
        progress,
        announce,
    };
    let cmp = experiment::run_plans(title, data, plans, seeds, out_dir, runner)?;
    write_comparison(&cmp, out_dir)?;
    Ok(cmp)
}

/// Runs a focal-loss sweep (see [`crate::experiment::run_sweep`]) and writes it.
pub fn sweep(
    data: &PreparedData,
    base: &TrainConfig,
    spec: &SweepSpec,
    seeds: &[u64],
    out_dir: &Path,
    progress: &dyn Progress,
    announce: &dyn Fn(&str, u64, usize, usize),
) -> Result<Comparison, TrainError> {
    let runner = Runner {
        train,
        progress,
        announce,
    };
    let cmp = experiment::run_sweep(data, base, spec, seeds, out_dir, runner)?;
    write_comparison(&cmp, out_dir)?;
    Ok(cmp)
}

/// What [`rebuild_report`] found in a folder.
#[derive(Debug, Clone, PartialEq)]
pub enum Rebuilt {
    /// An experiment folder: `comparison.md`, `comparison.json` and `report.html` rewritten.
    Experiment(Box<Comparison>),
    /// A run folder: `report.html` rewritten.
    Run,
}

/// Rebuilds the report of a run folder (`metrics.json`) or an experiment folder
/// (`comparison.json`) from its files.
pub fn rebuild_report(dir: &Path) -> Result<Rebuilt, TrainError> {
    if dir.join("comparison.json").is_file() {
        let cmp = experiment::read_comparison(dir)?;
        write_comparison(&cmp, dir)?;
        Ok(Rebuilt::Experiment(Box::new(cmp)))
    } else if dir.join("metrics.json").is_file() {
        report::write_run_report(dir)?;
        Ok(Rebuilt::Run)
    } else {
        Err(TrainError::NotARunFolder {
            path: dir.to_path_buf(),
        })
    }
}

/// The data of a finished or interrupted run, rebuilt as the run built them: from `data`, or
/// the source the run recorded (when that path still exists), or the bundled data set; checked
/// against the run's `split.json`.
pub fn run_data(run_dir: &Path, data: Option<&Path>) -> Result<PreparedData, TrainError> {
    let rc = read_config(run_dir)?;
    let recorded = rc.task.source.path().filter(|p| p.exists());
    let source = match data.or(recorded) {
        Some(p) => focal_data::load(p, &LoadOptions::default())?,
        None => focal_data::bundled()?,
    };
    let prepared = PreparedData::rebuild(&source, &rc.task)?;
    if prepared.splits != read_split(run_dir)? {
        return Err(TrainError::SplitMismatch {
            run: run_dir.to_path_buf(),
        });
    }
    Ok(prepared)
}
