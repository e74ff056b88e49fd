//! The orchestration point: a run or an experiment from start to report. The training loop
//! ([`focal_train::train`]) and experiments ([`crate::experiment`]) write their files; this module
//! then draws the HTML reports from those files ([`crate::report`]), and is the only caller of
//! the report module.

use crate::ExperimentError;
use std::path::Path;

use crate::experiment::{self, Comparison};
use crate::plan::{self, ExperimentPlan, Gathered, Outcome, PlannedRun, RunState};
use crate::report;
use focal_train::PreparedData;
use focal_train::Progress;
use focal_train::TrainConfig;
use focal_train::run::files::write_atomic;
use focal_train::run::lock;
use focal_train::train::{self as train_loop, RunSummary};

/// Trains `config` on `data` into the run folder `out_dir` and draws its `report.html`.
/// See [`focal_train::train::train`] for what is written and when it fails.
pub fn train(
    config: &TrainConfig,
    data: &PreparedData,
    out_dir: &Path,
    progress: &dyn Progress,
) -> Result<RunSummary, ExperimentError> {
    // Held until the report is drawn, so no other process resumes a run being reported.
    let _lock = lock::acquire(out_dir)?;
    let summary = train_loop::train(config, data, out_dir, progress)?;
    report::write_run_report(out_dir)?;
    Ok(summary)
}

/// Continues the run in `run_dir` (see [`focal_train::train::resume`]) and draws its `report.html`.
pub fn resume(
    run_dir: &Path,
    data: &PreparedData,
    progress: &dyn Progress,
) -> Result<RunSummary, ExperimentError> {
    let _lock = lock::acquire(run_dir)?;
    let summary = train_loop::resume(run_dir, data, progress)?;
    report::write_run_report(run_dir)?;
    Ok(summary)
}

/// Writes `comparison.json`, `comparison.md` and `report.html` of an experiment folder.
pub fn write_comparison(cmp: &Comparison, out_dir: &Path) -> Result<(), ExperimentError> {
    cmp.write(out_dir)?;
    let html = report::comparison_html(cmp, out_dir)?;
    write_atomic(&out_dir.join("report.html"), html.as_bytes())?;
    Ok(())
}

/// Writes the plan of a comparison (every entry of `plans` with every seed) into `out_dir`:
/// `plan.json` and `split.json`, nothing trained. A folder holding this plan already is
/// continued (see [`crate::plan::create`]).
pub fn plan_compare(
    title: &str,
    data: &PreparedData,
    compare: &crate::spec::Compare,
    out_dir: &Path,
) -> Result<ExperimentPlan, ExperimentError> {
    let plan = ExperimentPlan::compare(title, data, compare)?;
    plan::create(out_dir, &plan, data)
}

/// Writes the plan of a focal-loss sweep into `out_dir` (its first stage; see [`crate::plan`]).
pub fn plan_sweep(
    data: &PreparedData,
    sweep: &crate::spec::Sweep,
    out_dir: &Path,
) -> Result<ExperimentPlan, ExperimentError> {
    let plan = ExperimentPlan::sweep(data, &sweep.base, &sweep.spec, &sweep.seeds)?;
    plan::create(out_dir, &plan, data)
}

/// Trains run `index` of the plan in `dir` (see [`crate::plan::run_one`]), each run with its
/// report; a complete run missing its `report.html` (killed while drawing it) gets it.
pub fn run_planned(
    dir: &Path,
    plan: &ExperimentPlan,
    index: usize,
    data: &PreparedData,
    progress: &dyn Progress,
) -> Result<Outcome, ExperimentError> {
    let outcome = plan::run_one(dir, plan, index, data, train, resume, progress)?;
    if let Outcome::Skipped = outcome {
        let run_dir = plan.run_path(dir, index)?;
        if !run_dir.join("report.html").is_file() {
            report::write_run_report(&run_dir)?;
        }
    }
    Ok(outcome)
}

/// Gathers the experiment in `dir` (see [`crate::plan::gather`]) and, when every run is
/// complete, writes `comparison.json`, `comparison.md` and `report.html`.
pub fn gather(dir: &Path) -> Result<Gathered, ExperimentError> {
    let gathered = plan::gather(dir)?;
    if let Gathered::Complete(cmp) = &gathered {
        write_comparison(cmp, dir)?;
    }
    Ok(gathered)
}

/// Trains, in this process and one after the other, every run of the plan in `dir` that is not
/// complete (a sweep's second stage once its first is done), then gathers. `announce` is told
/// of each run before it starts (`label`, `seed`, index from 1, total).
pub fn run_all(
    dir: &Path,
    data: &PreparedData,
    progress: &dyn Progress,
    announce: &dyn Fn(&str, u64, usize, usize),
) -> Result<Gathered, ExperimentError> {
    loop {
        let plan = ExperimentPlan::read(dir)?;
        plan::check_data(dir, &plan, data)?;
        for index in plan::pending(dir, &plan)? {
            let run = plan.run(index)?;
            announce(&run.label, run.seed, index + 1, plan.runs.len());
            run_planned(dir, &plan, index, data, progress)?;
        }
        match gather(dir)? {
            Gathered::Incomplete { planned, .. } if !planned.is_empty() => continue,
            gathered => return Ok(gathered),
        }
    }
}

fn complete(gathered: Gathered, dir: &Path) -> Result<Comparison, ExperimentError> {
    match gathered {
        Gathered::Complete(cmp) => Ok(*cmp),
        // Only when another process holds a run of this plan.
        Gathered::Incomplete { missing, .. } => Err(ExperimentError::RunsMissing {
            dir: dir.to_path_buf(),
            missing: missing.len(),
        }),
    }
}

/// Plans a comparison (every plan with every seed), trains every run in this process (each with
/// its report), and writes the comparison: exactly what planning, `run_planned` in separate
/// processes and [`gather`] produce.
pub fn compare(
    title: &str,
    data: &PreparedData,
    compare: &crate::spec::Compare,
    out_dir: &Path,
    progress: &dyn Progress,
    announce: &dyn Fn(&str, u64, usize, usize),
) -> Result<Comparison, ExperimentError> {
    plan_compare(title, data, compare, out_dir)?;
    complete(run_all(out_dir, data, progress, announce)?, out_dir)
}

/// Runs a focal-loss sweep in this process (gamma, then alpha at the best gamma on validation,
/// or the full grid) and writes it.
pub fn sweep(
    data: &PreparedData,
    sweep: &crate::spec::Sweep,
    out_dir: &Path,
    progress: &dyn Progress,
    announce: &dyn Fn(&str, u64, usize, usize),
) -> Result<Comparison, ExperimentError> {
    plan_sweep(data, sweep, out_dir)?;
    complete(run_all(out_dir, data, progress, announce)?, out_dir)
}

/// What [`rebuild_report`] found in a folder.
#[derive(Debug, Clone, PartialEq)]
pub enum Rebuilt {
    /// An experiment folder: `comparison.md`, `comparison.json` and `report.html` rewritten.
    Experiment(Box<Comparison>),
    /// A planned experiment with runs still to train (nothing written but a sweep's grown plan).
    Incomplete {
        /// The runs still to train, with where each stands.
        missing: Vec<(PlannedRun, RunState)>,
        /// Indices of runs planned by this call (a sweep's second stage).
        planned: std::ops::Range<usize>,
    },
    /// A run folder: `report.html` rewritten.
    Run,
}

/// Rebuilds the report of a run folder (`metrics.json`) or an experiment folder from its files:
/// a planned one (`plan.json`) is gathered from its run folders ([`gather`]), an older one from
/// its `comparison.json`.
pub fn rebuild_report(dir: &Path) -> Result<Rebuilt, ExperimentError> {
    if dir.join(plan::PLAN_FILE).is_file() {
        Ok(match gather(dir)? {
            Gathered::Complete(cmp) => Rebuilt::Experiment(cmp),
            Gathered::Incomplete { missing, planned } => Rebuilt::Incomplete { missing, planned },
        })
    } else if dir
        .join(focal_train::run::folder::COMPARISON_FILE)
        .is_file()
    {
        let cmp = experiment::read_comparison(dir)?;
        write_comparison(&cmp, dir)?;
        Ok(Rebuilt::Experiment(Box::new(cmp)))
    } else if focal_train::run::is_complete(dir) {
        report::write_run_report(dir)?;
        Ok(Rebuilt::Run)
    } else {
        Err(ExperimentError::NotARunFolder {
            path: dir.to_path_buf(),
        })
    }
}

/// The plan of the experiment in `dir` and its task, rebuilt as the plan built it (from `data`,
/// the recorded source or the bundled data set) and checked against the plan's fingerprint and
/// `split.json`: what every process that trains runs of the plan starts from.
pub fn plan_data(
    dir: &Path,
    data: Option<&Path>,
) -> Result<(ExperimentPlan, PreparedData), ExperimentError> {
    let plan = ExperimentPlan::read(dir)?;
    let prepared = focal_train::run::task_data(&plan.task, data)?;
    plan::check_data(dir, &plan, &prepared)?;
    Ok((plan, prepared))
}
