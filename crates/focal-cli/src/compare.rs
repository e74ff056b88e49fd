//! `focal compare`, `focal sweep` and `focal report`: which remedy works on my data, side by side.
//!
//! Both plan the experiment first (`plan.json`), then train it in this process, with worker
//! processes (`--jobs`), or not at all (`--plan-only`, `--slurm`): see [`crate::plan`].

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use focal_experiment::experiment::SweepMetric;
use focal_experiment::pipeline::{self, Rebuilt};
use focal_experiment::plan::ExperimentPlan;
use focal_experiment::spec::{
    CompareSpec, DEFAULT_REMEDIES, EXPERIMENT_EPOCHS, SweepRequest, experiment_dir,
};
use focal_experiment::workers::Jobs;
use focal_train::{DataSpec, ModelChoice, ModelKind, PreparedData, RemedyKind};

use crate::args::{TrainingArgs, set_threads};
use crate::plan;

/// What `compare` and `sweep` share: the training flags and the experiment's own.
#[derive(Debug, Args)]
pub struct ExperimentArgs {
    /// The data, task, model, budget, optimizer and remedy parameters (as `focal train`).
    #[command(flatten)]
    pub training: TrainingArgs,
    /// Number of training seeds per entry (seeds --seed, --seed + 1, ...); with 2 or more every
    /// cell is mean ± std and wins inside the noise are not called.
    #[arg(long, default_value_t = 1)]
    pub seeds: usize,
    /// Folder of the experiment: one run folder per entry and seed, plus comparison.json,
    /// comparison.md and report.html. Must not hold an experiment already.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write the experiment folder's plan.json (every run's full config, index and run folder)
    /// and split.json, and train nothing: then `focal run-plan DIR --index I` trains run I (on
    /// any machine sharing the folder) and `focal report DIR` gathers.
    #[arg(long)]
    pub plan_only: bool,
    /// Train the runs with this many worker processes (a number, or auto: one per core for mlp
    /// and cnn, cores / 4 for resnet18, cores / 8 for resnet50; never more than the runs), the
    /// longest runs first, the cores shared among the workers by the size of their runs (a
    /// resampled training set is larger) unless --threads says otherwise. Default: auto where
    /// that gives two or more workers, else every run in this process, one after the other.
    /// Ctrl-C stops them all; the same command (with --out) run again continues.
    #[arg(long, value_name = "N|auto", conflicts_with_all = ["plan_only", "slurm"])]
    pub jobs: Option<Jobs>,
    /// Plan (as --plan-only) and write submit.sbatch (a Slurm job array, task i trains run i)
    /// and gather.sbatch (`focal report`, after the array); prints the sbatch command.
    #[arg(long, conflicts_with = "plan_only")]
    pub slurm: bool,
}

/// Arguments of `focal compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Gather the finished runs of a planned experiment folder (the same as `focal report DIR`).
    #[arg(long, value_name = "DIR")]
    pub gather: Option<PathBuf>,
    /// Comma-separated remedies (see `focal train --help` for the list). --gamma, --alpha,
    /// --beta, --tau and --epsilon go to the remedies that read them (a parameter that no
    /// listed remedy reads is refused).
    #[arg(long, value_name = "LIST", default_value_t = DEFAULT_REMEDIES.map(RemedyKind::name).join(","))]
    pub remedies: String,
    /// Also judge ensembles, in a row of their own per remedy ("REMEDY (ensemble of K)"): the
    /// seeds in groups of K (in order), each group's probabilities averaged and judged as one
    /// model, its threshold tuned on the averaged validation probabilities. --seeds must be a
    /// multiple of K; with 2 or more groups the row is mean ± std over the groups (e.g.
    /// --seeds 9 --ensemble 3).
    #[arg(long, value_name = "K")]
    pub ensemble: Option<usize>,
    /// The task, budget and output.
    #[command(flatten)]
    pub common: ExperimentArgs,
}

/// Arguments of `focal sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Alphas to try at the best gamma (or crossed with every gamma with --grid), separated by
    /// `/` or `,` (e.g. auto,0.25,0.5,0.75 or cb:0.999/auto). None: alpha is not swept.
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub then_alpha: Option<String>,
    /// The full gamma x alpha grid instead of gamma first, then alpha.
    #[arg(long)]
    pub grid: bool,
    /// The validation metric that chooses the best setting.
    #[arg(long, value_enum, default_value = "pr-auc")]
    pub metric: MetricArg,
    /// The task, budget and output.
    #[command(flatten)]
    pub common: ExperimentArgs,
}

/// A validation metric for the sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MetricArg {
    /// Average precision of the minority class on validation.
    PrAuc,
    /// F1 of the minority class on validation (argmax).
    F1,
}

/// Arguments of `focal report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run folder (from `focal train`) or an experiment folder (from `focal compare` or
    /// `focal sweep`).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// The data, task and model of an experiment (the model is probed before the data are read,
/// so that every flag is checked first).
fn data_and_model(t: &TrainingArgs) -> anyhow::Result<(DataSpec, anyhow::Result<ModelChoice>)> {
    let spec = t.data_spec();
    spec.task()?;
    let model = spec.model(t.settings.model).map_err(anyhow::Error::from);
    Ok((spec, model))
}

/// The task and split of an experiment, then its first lines (unless --quiet).
fn prepare(
    c: &ExperimentArgs,
    spec: &DataSpec,
    model: anyhow::Result<ModelChoice>,
    config_model: ModelKind,
) -> anyhow::Result<PreparedData> {
    let t = &c.training;
    // The loader names a broken file more precisely than the header probe did.
    let prepared = spec.prepare(config_model, t.settings.pretrained.is_some());
    let model = model?;
    let data = prepared.context("building the task")?;
    if !t.quiet {
        crate::args::first_lines(spec, &data, &model).for_each(|l| eprintln!("{l}"));
    }
    Ok(data)
}

/// Trains the planned experiment in `dir` as the flags say (in this process, with worker
/// processes, or not at all: --plan-only and --slurm), then prints its tables.
fn execute(c: &ExperimentArgs, dir: &Path, plan: &ExperimentPlan) -> anyhow::Result<()> {
    let n = plan.runs.len();
    let shown = dir.display();
    let (quiet, threads, data) = (
        c.training.quiet,
        c.training.threads,
        c.training.data.as_deref(),
    );
    let more = |then: &str| {
        if plan.next_stage_unplanned() {
            format!(" (the sweep's first stage; {then})")
        } else {
            String::new()
        }
    };
    if c.slurm {
        let command = plan::write_slurm(dir, 0..n, threads, data)?;
        let more = more("the gather job plans the second and submits it");
        println!(
            "planned {n} runs{more} in {shown}: plan.json, split.json, submit.sbatch, gather.sbatch"
        );
        println!("submit them with:\n  {command}");
        return Ok(());
    }
    if c.plan_only {
        let more = more("`focal report` plans the second once it is done");
        println!("planned {n} runs{more} in {shown}: plan.json, split.json");
        println!(
            "train run I (0 to {}) with `focal run-plan {shown} --index I`, on any machine that sees the folder; or all with `focal run-plan {shown} --all --jobs N`",
            n - 1
        );
        println!("then gather: focal report {shown}");
        return Ok(());
    }
    let started = std::time::Instant::now();
    if !quiet && c.out.is_none() {
        eprintln!(
            "experiment folder: {shown} (after an interruption, the same command with --out {shown} continues)"
        );
    }
    let cores = focal_experiment::workers::cores();
    let gathered = match c.jobs {
        Some(jobs) => plan::run_workers(dir, jobs, threads, data, quiet)?,
        None if focal_experiment::workers::workers(Jobs::Auto, threads, plan, cores) > 1 => {
            plan::run_workers(dir, Jobs::Auto, threads, data, quiet)?
        }
        None => plan::run_in_process(dir, data, quiet)?,
    };
    plan::finish(dir, gathered, started)
}

/// Runs `focal compare`.
pub fn run_compare(args: CompareArgs) -> anyhow::Result<()> {
    if let Some(dir) = args.gather {
        return run_report(ReportArgs { dir });
    }
    let c = &args.common;
    let t = &c.training;
    set_threads(t.threads)?;
    let remedies = focal_experiment::spec::remedy_list(&args.remedies)?;
    let (data_spec, model) = data_and_model(t)?;
    let model_kind = model.as_ref().map_or(ModelKind::Cnn, |m| m.model);
    let compare = CompareSpec {
        base: t.train_spec(model_kind, focal_train::Remedy::Ce {}, EXPERIMENT_EPOCHS),
        remedies,
        params: t.remedy_params(true)?,
        seeds: c.seeds,
        ensemble: args.ensemble,
    }
    .check()?;
    // Every flag is checked; now the (slow) part.
    let data = prepare(c, &data_spec, model, model_kind)?;
    let dir = experiment_dir(c.out.as_deref(), "compare")?;
    let plan = pipeline::plan_compare("focal compare", &data, &compare, &dir)?;
    execute(c, &dir, &plan)
}

/// Runs `focal sweep`.
pub fn run_sweep(args: SweepArgs) -> anyhow::Result<()> {
    let c = &args.common;
    let t = &c.training;
    set_threads(t.threads)?;
    let gammas = focal_experiment::spec::gamma_list(t.settings.gamma.as_deref().unwrap_or(""))?;
    let alphas = focal_experiment::spec::alpha_list(args.then_alpha.as_deref().unwrap_or(""))?;
    let (data_spec, model) = data_and_model(t)?;
    let model_kind = model.as_ref().map_or(ModelKind::Cnn, |m| m.model);
    let sweep = SweepRequest {
        base: t.train_spec(model_kind, focal_train::Remedy::Ce {}, EXPERIMENT_EPOCHS),
        gammas,
        alphas,
        params: t.remedy_params(false)?,
        grid: args.grid,
        metric: match args.metric {
            MetricArg::PrAuc => SweepMetric::ValPrAuc,
            MetricArg::F1 => SweepMetric::ValMinorityF1,
        },
        seeds: c.seeds,
    }
    .check()?;
    let data = prepare(c, &data_spec, model, model_kind)?;
    let dir = experiment_dir(c.out.as_deref(), "sweep")?;
    let plan = pipeline::plan_sweep(&data, &sweep, &dir)?;
    execute(c, &dir, &plan)
}

/// Runs `focal report`: rebuilds a run's or an experiment's report; a planned experiment is
/// gathered from its run folders, and fails listing the runs still missing.
pub fn run_report(args: ReportArgs) -> anyhow::Result<()> {
    let dir = &args.dir;
    match pipeline::rebuild_report(dir)? {
        Rebuilt::Experiment(cmp) => print!("{}", cmp.to_markdown()),
        Rebuilt::Run => {}
        Rebuilt::Incomplete { missing, planned } if !planned.is_empty() => {
            let shown = dir.display();
            println!(
                "the sweep's first stage is complete; planned its second stage (alpha at the chosen gamma): runs {} to {}",
                planned.start,
                planned.end - 1
            );
            print!("{}", focal_experiment::plan::missing_lines(&missing));
            if focal_experiment::slurm::retarget(dir, &planned)? {
                println!(
                    "submit.sbatch now covers them: {}",
                    focal_experiment::slurm::sbatch_command(dir)
                );
            } else {
                println!(
                    "train them with `focal run-plan {shown} --index I` (or `--all --jobs N`), then run `focal report {shown}` again"
                );
            }
            return Err(crate::Exit {
                code: plan::EXIT_NEXT_STAGE,
                message: format!("{shown}: the sweep's second stage is planned, not trained yet"),
            }
            .into());
        }
        Rebuilt::Incomplete { missing, .. } => {
            eprint!("{}", focal_experiment::plan::missing_lines(&missing));
            bail!(
                "{}: {} runs are not complete (listed above); nothing written",
                dir.display(),
                missing.len()
            );
        }
    }
    println!("written: {}", dir.join("report.html").display());
    Ok(())
}
