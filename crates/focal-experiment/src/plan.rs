//! An experiment as a plan: every run of a comparison or sweep written down before any is
//! trained, so that the runs can be trained by any number of processes, on one machine or many
//! sharing a file system, in any order, and gathered into the one comparison a single process
//! writes.
//!
//! ```text
//! <experiment>/
//!   plan.json     ExperimentPlan: {"focal_version", "title", "task": TaskRecord (to rebuild the
//!                 task), "data_fingerprint", "summary": TaskSummary (what the tables say of the
//!                 task), "seeds", "sweep": SweepSpec|null, "base": TrainConfig|null (a sweep's
//!                 base config), "runs": [{"index", "label", "seed", "stage", "run_dir",
//!                 "config": TrainConfig}]}
//!   split.json    the split every run shares (each run folder holds its own copy too)
//!   <run_dir>/    one run folder per planned run (formats in focal_train::run), plus
//!     .lock       held (flock) by the process training the run, released when it exits
//!     failed.txt  the error that stopped the last attempt (removed when a new attempt starts)
//! ```
//!
//! A run is *complete* when its `metrics.json` exists. Training run `i` again skips a complete
//! run, resumes an interrupted one from its last checkpoint, and starts a new one; two processes
//! never train the same run (the second finds the lock taken).
//!
//! Sweeps: gamma first, then alpha at the best gamma, chosen on validation. The second stage
//! depends on the first stage's results, so a plan lists the first stage only;
//! [`gather`] on a plan whose first stage is complete appends the second stage's runs to
//! `plan.json` (and says which they are). A `--grid` sweep is fully planned up front.

use crate::ExperimentError;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::experiment::{
    Comparison, Entry, Plan, ResumeFn, SweepInfo, SweepSpec, TaskSummary, TrainFn, folder_name,
    seed_result, task_summary,
};
use focal_data::sampling::SamplingStrategy;
use focal_train::DataSide;
use focal_train::Progress;
use focal_train::TrainConfig;
use focal_train::TrainError;
use focal_train::run::checkpoint::{self, Which};
use focal_train::run::files::{read_json, write_atomic, write_json};
use focal_train::run::lock::{self, Acquired, RunLock};
use focal_train::run::record::{read_config, read_metrics};
use focal_train::train::RunSummary;
use focal_train::{PreparedData, TaskRecord};

/// The file name of the plan in an experiment folder.
pub const PLAN_FILE: &str = focal_train::run::folder::PLAN_FILE;

/// One planned run: an entry of the experiment at one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedRun {
    /// Position in the plan, from 0 (a Slurm array task id).
    pub index: usize,
    /// The entry's label (remedy name, or sweep setting).
    pub label: String,
    /// The training seed (also in `config.seed`).
    pub seed: u64,
    /// The sweep stage (0, or 1 for a sweep's alpha stage); 0 for a comparison.
    pub stage: usize,
    /// The run folder, relative to the experiment folder.
    pub run_dir: String,
    /// The full training configuration.
    pub config: TrainConfig,
}

/// `plan.json`: everything needed to train any run of the experiment and to gather them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentPlan {
    /// The focal version that wrote the plan.
    pub focal_version: String,
    /// Title of the report (`focal compare`, `focal sweep`).
    pub title: String,
    /// How to rebuild the task and split.
    pub task: TaskRecord,
    /// Fingerprint of the task's data set (every run checks it).
    pub data_fingerprint: String,
    /// The task and budget, as the tables describe them.
    pub summary: TaskSummary,
    /// The training seeds.
    pub seeds: Vec<u64>,
    /// What a sweep tries, for a sweep.
    pub sweep: Option<SweepSpec>,
    /// A sweep's base configuration (its second stage is built from it).
    pub base: Option<TrainConfig>,
    /// The runs, in order (entries in the order asked for, seeds within each entry).
    pub runs: Vec<PlannedRun>,
    /// `focal compare --ensemble K`: each entry's seeds averaged in groups of K, as a row of
    /// its own after the entry's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensemble: Option<usize>,
}

/// The task summary of an experiment: the first entry's budget, and the augmentation when
/// every entry shares one (an entry of its own, e.g. oversample-augment, names it in its label).
fn shared_summary(data: &PreparedData, plans: &[Plan]) -> TaskSummary {
    let mut summary = task_summary(data, &plans[0].config);
    if let Some(a) = plans[0].config.augment()
        && plans.iter().all(|p| p.config.augment() == Some(a))
    {
        summary.budget.push_str(&format!(", augment {a}"));
    }
    summary
}

impl ExperimentPlan {
    fn new(title: &str, data: &PreparedData, plans: &[Plan], seeds: &[u64]) -> Self {
        let mut plan = ExperimentPlan {
            focal_version: env!("CARGO_PKG_VERSION").to_string(),
            title: title.to_string(),
            task: data.task.clone(),
            data_fingerprint: data.fingerprint.clone(),
            summary: shared_summary(data, plans),
            seeds: seeds.to_vec(),
            sweep: None,
            base: None,
            runs: Vec::new(),
            ensemble: None,
        };
        plan.push_stage(plans, 0);
        plan
    }

    /// Appends every entry of `plans` at every seed. Folder names come from the labels; a name
    /// the plan already holds gets `-2`, `-3`... (decided here, not by what is on disk, so that
    /// every process agrees).
    fn push_stage(&mut self, plans: &[Plan], stage: usize) {
        for p in plans {
            for &seed in &self.seeds {
                let name = folder_name(&p.label, seed);
                let taken = |n: &str| self.runs.iter().any(|r| r.run_dir == n);
                let run_dir = (1..)
                    .map(|i| {
                        if i == 1 {
                            name.clone()
                        } else {
                            format!("{name}-{i}")
                        }
                    })
                    .find(|n| !taken(n))
                    .unwrap_or(name);
                // The log directory names the experiment's log folder; each run logs to its
                // own sub-folder there (TensorBoard shows each as a run).
                let config = p
                    .config
                    .with_seed(seed)
                    .with_log_dir(p.config.log_dir().map(|d| d.join(&run_dir)));
                self.runs.push(PlannedRun {
                    index: self.runs.len(),
                    label: p.label.clone(),
                    seed,
                    stage,
                    run_dir,
                    config,
                });
            }
        }
    }

    /// The plan of a comparison: every entry of `plans` with every seed, and with `ensemble`
    /// K, each entry's seeds averaged in groups of K (see [`crate::ensemble`]).
    pub fn compare(
        title: &str,
        data: &PreparedData,
        compare: &crate::spec::Compare,
    ) -> Result<Self, ExperimentError> {
        for p in &compare.plans {
            p.config.check_samples(&data.dataset.kind)?;
        }
        let mut plan = Self::new(title, data, &compare.plans, &compare.seeds);
        plan.ensemble = compare.ensembles.map(crate::spec::Ensembles::size);
        Ok(plan)
    }

    /// The plan of a focal-loss sweep: its first stage (the whole grid for a grid sweep).
    pub fn sweep(
        data: &PreparedData,
        base: &TrainConfig,
        spec: &SweepSpec,
        seeds: &[u64],
    ) -> Result<Self, ExperimentError> {
        base.check_samples(&data.dataset.kind)?;
        let plans = spec.first_stage(base)?;
        if seeds.is_empty() {
            return Err(ExperimentError::NothingToRun);
        }
        let mut plan = Self::new("focal sweep", data, &plans, seeds);
        plan.sweep = Some(spec.clone());
        plan.base = Some(base.clone());
        Ok(plan)
    }

    /// Reads `plan.json` of an experiment folder.
    pub fn read(dir: &Path) -> Result<Self, ExperimentError> {
        let path = dir.join(PLAN_FILE);
        if !path.is_file() {
            return Err(ExperimentError::NotAPlan {
                path: dir.to_path_buf(),
            });
        }
        Ok(read_json(&path)?)
    }

    /// Writes `plan.json` (atomically).
    pub fn write(&self, dir: &Path) -> Result<(), ExperimentError> {
        write_json(&dir.join(PLAN_FILE), self)?;
        Ok(())
    }

    /// The folder of run `index`.
    pub fn run_path(&self, dir: &Path, index: usize) -> Result<PathBuf, ExperimentError> {
        Ok(dir.join(&self.run(index)?.run_dir))
    }

    /// Run `index`.
    pub fn run(&self, index: usize) -> Result<&PlannedRun, ExperimentError> {
        self.runs.get(index).ok_or(ExperimentError::NoSuchRun {
            index,
            runs: self.runs.len(),
        })
    }

    /// The relative cost of training run `index`: its epochs times the samples it sees per
    /// epoch (the training split as its remedy resamples it, plus a third of the validation
    /// split, which each epoch runs forward only, about a third of a training step). Runs of one
    /// plan share the model and the split, so this orders them by time and sizes their share of
    /// the cores (`--jobs`).
    pub fn run_cost(&self, index: usize) -> Result<f64, ExperimentError> {
        let config = &self.run(index)?.config;
        let [train, val, _] = &self.summary.counts;
        let seen = match config.remedy().data_side() {
            DataSide::None | DataSide::BalancedSampler => train.iter().sum(),
            DataSide::Oversample | DataSide::Smote => {
                SamplingStrategy::Auto.resampled_len(train, true)?
            }
            DataSide::Undersample => SamplingStrategy::Auto.resampled_len(train, false)?,
        };
        let val: usize = val.iter().sum();
        Ok(config.epochs() as f64 * (seen as f64 + val as f64 / 3.0))
    }

    /// Whether the plan could still grow: a two-stage sweep whose second stage is not planned.
    pub fn next_stage_unplanned(&self) -> bool {
        self.sweep.as_ref().is_some_and(SweepSpec::two_stage)
            && self.runs.iter().all(|r| r.stage == 0)
    }
}

/// Writes `plan` and the shared `split.json` into `dir`, or, when `dir` holds a plan already,
/// checks that it is this one (a rerun of the same command continues it) and returns the plan
/// on disk (which may have grown a sweep's second stage).
pub fn create(
    dir: &Path,
    plan: &ExperimentPlan,
    data: &PreparedData,
) -> Result<ExperimentPlan, ExperimentError> {
    fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, e))?;
    if dir.join(PLAN_FILE).is_file() {
        let old = ExperimentPlan::read(dir)?;
        let first = |p: &ExperimentPlan| -> Vec<PlannedRun> {
            p.runs.iter().filter(|r| r.stage == 0).cloned().collect()
        };
        // A plan written before image sizes were recorded holds none: the size then is the
        // one its data were read at, which the fingerprint checks.
        let mut task = plan.task.clone();
        if old.task.image_size.is_none() {
            task.image_size = None;
        }
        let same = old.task == task
            && old.data_fingerprint == plan.data_fingerprint
            && old.seeds == plan.seeds
            && old.sweep == plan.sweep
            && first(&old) == first(plan)
            && focal_train::run::record::read_split(dir)? == data.splits;
        if !same {
            return Err(ExperimentError::PlanDiffers {
                dir: dir.to_path_buf(),
            });
        }
        // The ensemble is how the runs are gathered, not what is trained: the same runs
        // gathered with another --ensemble (or none) keep the folder.
        if old.ensemble != plan.ensemble {
            let mut updated = old;
            updated.ensemble = plan.ensemble;
            updated.write(dir)?;
            return Ok(updated);
        }
        return Ok(old);
    }
    focal_train::run::write_split(dir, data)?;
    plan.write(dir)?;
    Ok(plan.clone())
}

/// Where a planned run stands, from its folder.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    /// `metrics.json` is written.
    Complete,
    /// Another process holds the run's lock.
    Running,
    /// The last attempt failed with this error.
    Failed(String),
    /// Started, and stopped after this many epochs (0: before the first checkpoint).
    Interrupted(usize),
    /// Nothing written yet.
    NotStarted,
}

impl std::fmt::Display for RunState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunState::Complete => f.write_str("complete"),
            RunState::Running => f.write_str("being trained by another process"),
            RunState::Failed(e) => write!(f, "failed: {e}"),
            RunState::Interrupted(0) => f.write_str("interrupted before its first checkpoint"),
            RunState::Interrupted(n) => write!(f, "interrupted after epoch {n}"),
            RunState::NotStarted => f.write_str("not started"),
        }
    }
}

/// The runs left, one line each: `  run 3 (focal-seed0): interrupted after epoch 2`.
pub fn missing_lines(missing: &[(PlannedRun, RunState)]) -> String {
    missing
        .iter()
        .map(|(r, st)| format!("  run {} ({}): {st}\n", r.index, r.run_dir))
        .collect()
}

/// Takes the run's lock (see [`focal_train::run::lock`]); `None` when another process holds it.
fn try_lock(run_dir: &Path) -> Result<Option<RunLock>, ExperimentError> {
    Ok(match lock::try_acquire(run_dir)? {
        Acquired::Locked(l) => Some(l),
        Acquired::Busy(_) => None,
    })
}

/// Where run `run` of the plan in `dir` stands.
pub fn state(dir: &Path, run: &PlannedRun) -> Result<RunState, ExperimentError> {
    let run_dir = dir.join(&run.run_dir);
    if focal_train::run::is_complete(&run_dir) {
        return Ok(RunState::Complete);
    }
    if !run_dir.exists() {
        return Ok(RunState::NotStarted);
    }
    if lock::path(&run_dir).exists() && try_lock(&run_dir)?.is_none() {
        return Ok(RunState::Running);
    }
    let failed = run_dir.join("failed.txt");
    if failed.is_file() {
        let text = fs::read_to_string(&failed).map_err(|e| TrainError::io(&failed, e))?;
        return Ok(RunState::Failed(text.trim().to_string()));
    }
    if !focal_train::run::is_started(&run_dir) {
        return Ok(RunState::NotStarted);
    }
    Ok(RunState::Interrupted(if checkpoint::exists(&run_dir) {
        checkpoint::read_state(&run_dir, Which::Last)?.epoch
    } else {
        0
    }))
}

/// What [`run_one`] did.
#[derive(Debug)]
pub enum Outcome {
    /// Trained from the start.
    Trained(Box<RunSummary>),
    /// Continued from its last checkpoint.
    Resumed(Box<RunSummary>),
    /// Complete already; nothing done.
    Skipped,
    /// Another process is training it; nothing done.
    Busy,
}

impl Outcome {
    /// What happened, in words (`trained`, `complete already; skipped`).
    pub fn describe(&self) -> &'static str {
        match self {
            Outcome::Trained(_) => "trained",
            Outcome::Resumed(_) => "resumed and finished",
            Outcome::Skipped => "complete already; skipped",
            Outcome::Busy => "being trained by another process; left alone",
        }
    }
}

/// Trains run `index` of the plan in `dir` on `data` (the plan's task, see
/// [`check_data`]): skipped when complete, resumed when interrupted, trained otherwise.
/// `train`/`resume` are the training functions (the pipeline's, which draw the run's report).
pub fn run_one(
    dir: &Path,
    plan: &ExperimentPlan,
    index: usize,
    data: &PreparedData,
    train: TrainFn,
    resume: ResumeFn,
    progress: &dyn Progress,
) -> Result<Outcome, ExperimentError> {
    let run = plan.run(index)?;
    let run_dir = dir.join(&run.run_dir);
    if focal_train::run::is_complete(&run_dir) {
        return Ok(Outcome::Skipped);
    }
    let Some(_lock) = try_lock(&run_dir)? else {
        return Ok(Outcome::Busy);
    };
    // Finished while we looked.
    if focal_train::run::is_complete(&run_dir) {
        return Ok(Outcome::Skipped);
    }
    let failed = run_dir.join("failed.txt");
    if failed.exists() {
        fs::remove_file(&failed).map_err(|e| TrainError::io(&failed, e))?;
    }
    let started = focal_train::run::is_started(&run_dir);
    if started {
        let recorded = read_config(&run_dir)?.train;
        if recorded != run.config {
            return Err(ExperimentError::RunFolderTaken { run: run_dir });
        }
    }
    let result = if started {
        resume(&run_dir, data, progress).map(|s| Outcome::Resumed(Box::new(s)))
    } else {
        train(&run.config, data, &run_dir, progress).map(|s| Outcome::Trained(Box::new(s)))
    };
    if let Err(e) = &result {
        // Best effort: the error itself is what the caller reports.
        let _ = write_atomic(&failed, format!("{e}\n").as_bytes());
    }
    result
}

/// Checks that `data` is the task of the plan in `dir`: the same data (by fingerprint) and the
/// split of the experiment's `split.json`.
pub fn check_data(
    dir: &Path,
    plan: &ExperimentPlan,
    data: &PreparedData,
) -> Result<(), ExperimentError> {
    if data.fingerprint != plan.data_fingerprint {
        return Err(TrainError::DataMismatch {
            run: dir.to_path_buf(),
            expected: plan.data_fingerprint.clone(),
            found: data.fingerprint.clone(),
        }
        .into());
    }
    if focal_train::run::record::read_split(dir)? != data.splits {
        return Err(TrainError::SplitMismatch {
            run: dir.to_path_buf(),
        }
        .into());
    }
    Ok(())
}

/// What [`gather`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Gathered {
    /// Every run is complete: the comparison (not yet written).
    Complete(Box<Comparison>),
    /// Some runs are not complete (index, run folder, state); `planned` is the range of run
    /// indices this call appended to `plan.json` (a sweep's second stage), empty otherwise.
    Incomplete {
        /// The runs still to train.
        missing: Vec<(PlannedRun, RunState)>,
        /// Indices of the runs just planned.
        planned: std::ops::Range<usize>,
    },
}

/// The entries of the runs of `stage`, in plan order, read from their folders.
fn entries(dir: &Path, plan: &ExperimentPlan, stage: usize) -> Result<Vec<Entry>, ExperimentError> {
    let minority = plan.summary.minority;
    let mut entries: Vec<Entry> = Vec::new();
    let mut last_label: Option<&str> = None;
    for run in plan.runs.iter().filter(|r| r.stage == stage) {
        let run_dir = dir.join(&run.run_dir);
        let metrics = read_metrics(&run_dir)?;
        let history = focal_train::run::run_history(&run_dir)?;
        let result = seed_result(&metrics, &history, run.seed, run.run_dir.clone(), minority);
        // Runs of one entry are consecutive (seeds within entries).
        if last_label == Some(run.label.as_str())
            && let Some(e) = entries.last_mut()
        {
            e.seeds.push(result);
        } else {
            entries.push(Entry {
                label: run.label.clone(),
                remedy: run.config.remedy_label(),
                seeds: vec![result],
                ensemble_of: None,
            });
        }
        last_label = Some(run.label.as_str());
    }
    Ok(entries)
}

/// Gathers the experiment in `dir` from its run folders: the comparison when every planned run
/// is complete, else the runs still missing. A two-stage sweep whose first stage is complete
/// gets its second stage appended to `plan.json` here.
pub fn gather(dir: &Path) -> Result<Gathered, ExperimentError> {
    let mut plan = ExperimentPlan::read(dir)?;
    let missing = |plan: &ExperimentPlan| -> Result<Vec<(PlannedRun, RunState)>, ExperimentError> {
        let mut missing = Vec::new();
        for run in &plan.runs {
            let st = state(dir, run)?;
            if st != RunState::Complete {
                missing.push((run.clone(), st));
            }
        }
        Ok(missing)
    };
    let first_missing = missing(&plan)?;
    if !first_missing.is_empty() {
        return Ok(Gathered::Incomplete {
            missing: first_missing,
            planned: 0..0,
        });
    }
    let mut cmp_entries = entries(dir, &plan, 0)?;
    if let Some(k) = plan.ensemble {
        let mut with = Vec::with_capacity(cmp_entries.len() * 2);
        let config_of = |run_dir: &str| {
            plan.runs
                .iter()
                .find(|r| r.run_dir == run_dir)
                .map(|r| &r.config)
        };
        for e in cmp_entries {
            let ens = crate::ensemble::entry(dir, &plan.summary, &config_of, &e, k)?;
            with.push(e);
            with.push(ens);
        }
        cmp_entries = with;
    }
    let mut sweep_info = None;
    if let Some(spec) = plan.sweep.clone() {
        let (first, best) = spec.judge_first(&cmp_entries)?;
        let mut stages = vec![first];
        if spec.two_stage() {
            if plan.next_stage_unplanned() {
                let base = plan.base.clone().ok_or_else(|| ExperimentError::NotAPlan {
                    path: dir.to_path_buf(),
                })?;
                let start = plan.runs.len();
                let second = spec.second_stage(&base, best)?;
                plan.push_stage(&second, 1);
                plan.write(dir)?;
                return Ok(Gathered::Incomplete {
                    missing: missing(&plan)?,
                    planned: start..plan.runs.len(),
                });
            }
            let second = entries(dir, &plan, 1)?;
            stages.push(spec.judge_second(&second)?);
            cmp_entries.extend(second);
        }
        sweep_info = Some(SweepInfo {
            metric: spec.metric,
            stages,
        });
    }
    // What the runs froze and the feature file they shared, as the first run recorded it.
    let mut task = plan.summary.clone();
    if let Some(run) = plan.runs.first()
        && let Some(t) = read_config(&dir.join(&run.run_dir))?.transfer
    {
        task.budget.push_str(&format!("; {}", t.summary()));
    }
    Ok(Gathered::Complete(Box::new(Comparison {
        title: plan.title.clone(),
        task,
        seeds: plan.seeds.clone(),
        entries: cmp_entries,
        sweep: sweep_info,
    })))
}

/// The runs of the plan that are not complete and not being trained by another process, in
/// plan order.
pub fn pending(dir: &Path, plan: &ExperimentPlan) -> Result<Vec<usize>, ExperimentError> {
    let mut out = Vec::new();
    for run in &plan.runs {
        match state(dir, run)? {
            RunState::Complete | RunState::Running => {}
            _ => out.push(run.index),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use focal_data::task::{ClassSelector, TaskSpec};
    use focal_train::RemedyKind;

    #[test]
    fn run_cost_counts_the_samples_each_remedy_trains_on() {
        let spec = TaskSpec {
            positive: Some(ClassSelector::Name("Bag".into())),
            ratio: Some((98, 2)),
            long_tail: None,
            allow_majority_positive: false,
            seed: 0,
        };
        let data =
            PreparedData::new(&focal_data::bundled().unwrap(), &spec, Default::default()).unwrap();
        let kinds = [
            RemedyKind::Ce,
            RemedyKind::Oversample,
            RemedyKind::Undersample,
            RemedyKind::BalancedSampler,
            RemedyKind::Smote,
        ];
        let plans: Vec<Plan> = kinds
            .iter()
            .map(|&k| Plan {
                label: format!("{k:?}"),
                config: TrainConfig::for_remedy(k),
            })
            .collect();
        let compare = crate::spec::Compare {
            plans: plans.clone(),
            seeds: vec![0],
            ensembles: None,
        };
        let plan = ExperimentPlan::compare("t", &data, &compare).unwrap();
        let [train, val, _] = &plan.summary.counts;
        let (n, k) = (train.iter().sum::<usize>(), train.len());
        let (max, min) = (*train.iter().max().unwrap(), *train.iter().min().unwrap());
        assert!(
            min > 0 && max > min,
            "the bundled task is imbalanced: {train:?}"
        );
        let epochs = plans[0].config.epochs() as f64;
        let extra = val.iter().sum::<usize>() as f64 / 3.0;
        let cost = |i| plan.run_cost(i).unwrap();
        assert_eq!(cost(0), epochs * (n as f64 + extra));
        assert_eq!(cost(1), epochs * ((max * k) as f64 + extra));
        assert_eq!(cost(2), epochs * ((min * k) as f64 + extra));
        assert_eq!(cost(3), cost(0));
        assert_eq!(cost(4), cost(1));
        assert!(plan.run_cost(5).is_err());
    }
}
