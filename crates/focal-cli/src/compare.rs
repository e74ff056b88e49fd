//! `focal compare`, `focal sweep` and `focal report`: which remedy works on my data, side by side.
//!
//! Both plan the experiment first (`plan.json`), then train it in this process, with worker
//! processes (`--jobs`), or not at all (`--plan-only`, `--slurm`): see [`crate::plan`].

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use focal_data::split::SplitFractions;
use focal_experiment::experiment::{Plan, SweepMetric, SweepSpec};
use focal_experiment::pipeline::{self, Rebuilt};
use focal_experiment::plan::ExperimentPlan;
use focal_train::{Alpha, PreparedData, Remedy, RemedyKind, RemedyParams};

use crate::plan::{self, Jobs};
use crate::training::{TrainingArgs, set_threads};

/// The remedies `focal compare` runs by default.
pub const DEFAULT_REMEDIES: &str = "ce,weighted-ce,oversample,smote,focal,cb-focal";

/// The gammas `focal sweep` tries by default.
pub const DEFAULT_SWEEP_GAMMAS: &str = "0,0.5,1,2,3,5";

/// The epochs of each run of `compare` and `sweep` when --epochs is absent (keeps `focal
/// compare` on the bundled data under 5 minutes on two CPU cores).
pub const EXPERIMENT_EPOCHS: usize = 4;

/// What `compare` and `sweep` share: the training flags and the experiment's own.
#[derive(Debug, Args)]
pub struct ExperimentArgs {
    /// The data, task, model, budget, optimizer and remedy parameters (as `focal train`).
    #[command(flatten)]
    pub training: TrainingArgs,
    /// Pool every sample of the data (its own splits ignored) and draw a training split of
    /// exactly this many samples at --ratio (with --val-size and --test-size; needs --positive
    /// and --ratio). The tutorial's protocol: 19600 / 10000 / 10000 at 98:2.
    #[arg(long, value_name = "N", requires_all = ["val_size", "test_size", "positive", "ratio"])]
    pub train_size: Option<usize>,
    /// Validation samples, with --train-size.
    #[arg(long, value_name = "N", requires = "train_size")]
    pub val_size: Option<usize>,
    /// Test samples, with --train-size.
    #[arg(long, value_name = "N", requires = "train_size")]
    pub test_size: Option<usize>,
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
    /// resampled training set is larger) unless --threads says otherwise. Default: auto where that gives
    /// two or more workers, else every run in this process, one after the other. Ctrl-C stops
    /// them all; the same command (with --out) run again continues.
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
    #[arg(long, value_name = "LIST", default_value = DEFAULT_REMEDIES)]
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

fn seeds(c: &ExperimentArgs) -> anyhow::Result<Vec<u64>> {
    if c.seeds == 0 {
        bail!("--seeds 0: give at least 1");
    }
    Ok((0..c.seeds as u64).map(|i| c.training.seed + i).collect())
}

/// The experiment folder: `--out`, or `runs/<what>` (`-2`, `-3`... when taken). A folder
/// holding the same plan is continued (checked when the plan is written).
fn out_dir(c: &ExperimentArgs, what: &str) -> anyhow::Result<PathBuf> {
    match &c.out {
        Some(dir) => {
            if dir.exists() && !dir.is_dir() {
                bail!(
                    "--out {}: a file is there; give a folder (the experiment is written inside it)",
                    dir.display()
                );
            }
            if dir.join("comparison.json").exists() {
                bail!(
                    "--out {}: already holds an experiment (comparison.json); choose another folder",
                    dir.display()
                );
            }
            std::fs::create_dir_all(dir).with_context(|| format!("--out {}", dir.display()))?;
            Ok(dir.clone())
        }
        None => Ok(focal_train::run::fresh_run_dir(Path::new("runs"), what)?),
    }
}

/// Loads the data and builds the task and split every entry shares.
/// The task and split of an experiment, from its flags.
fn prepare_task(c: &ExperimentArgs) -> anyhow::Result<PreparedData> {
    let t = &c.training;
    let spec = t.task.spec(t.seed)?;
    let source = t.load()?;
    let label_column = t.task.label_column.clone();
    if let (Some(train), Some(val), Some(test)) = (c.train_size, c.val_size, c.test_size) {
        let (Some(positive), Some(ratio)) = (&spec.positive, spec.ratio) else {
            bail!("--train-size needs --positive and --ratio");
        };
        return PreparedData::with_split_sizes(
            &source,
            positive,
            ratio,
            [train, val, test],
            t.seed,
        )
        .and_then(|d| d.with_input_normalization(t.input_normalization()))
        .map(|d| d.with_label_column(label_column))
        .context("building the task with --train-size/--val-size/--test-size");
    }
    PreparedData::from_source(source, &spec, SplitFractions::default())
        .and_then(|d| d.with_input_normalization(t.input_normalization()))
        .map(|d| d.with_label_column(label_column))
        .context("building the task")
}

/// [`prepare_task`], then the task line and any few-positives warning (unless --quiet).
fn prepare(c: &ExperimentArgs) -> anyhow::Result<PreparedData> {
    let data = prepare_task(c)?;
    if !c.training.quiet {
        eprintln!("{}", crate::training::task_line(&c.training.task, &data));
        eprintln!("{}", c.training.model_line()?);
        for w in crate::training::few_positives_warnings(&data) {
            eprintln!("{w}");
        }
    }
    Ok(data)
}

/// Trains the planned experiment in `dir` as the flags say (in this process, with worker
/// processes, or not at all: --plan-only and --slurm), then prints its tables.
fn execute(c: &ExperimentArgs, dir: &Path, plan: &ExperimentPlan) -> anyhow::Result<()> {
    let n = plan.runs.len();
    let shown = dir.display();
    if c.slurm {
        let command = plan::write_slurm(
            dir,
            0..n,
            c.training.threads,
            c.training.task.data.as_deref(),
        )?;
        let more = if plan.next_stage_unplanned() {
            " (the sweep's first stage; the gather job plans the second and submits it)"
        } else {
            ""
        };
        println!(
            "planned {n} runs{more} in {shown}: plan.json, split.json, submit.sbatch, gather.sbatch"
        );
        println!("submit them with:\n  {command}");
        return Ok(());
    }
    if c.plan_only {
        let more = if plan.next_stage_unplanned() {
            " (the sweep's first stage: `focal report` plans the second once it is done)"
        } else {
            ""
        };
        println!("planned {n} runs{more} in {shown}: plan.json, split.json");
        println!(
            "train run I (0 to {}) with `focal run-plan {shown} --index I`, on any machine that sees the folder; or all with `focal run-plan {shown} --all --jobs N`",
            n - 1
        );
        println!("then gather: focal report {shown}");
        return Ok(());
    }
    let started = std::time::Instant::now();
    let (quiet, threads, data) = (
        c.training.quiet,
        c.training.threads,
        c.training.task.data.as_deref(),
    );
    if !quiet && c.out.is_none() {
        eprintln!(
            "experiment folder: {shown} (after an interruption, the same command with --out {shown} continues)"
        );
    }
    let gathered = match c.jobs {
        Some(jobs) => plan::run_workers(dir, jobs, threads, data, quiet)?,
        None if plan::auto_workers(threads, plan) > 1 => {
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
    let t = &args.common.training;
    set_threads(t.threads)?;
    let params = t.remedy_params()?;
    let mut plans = Vec::new();
    let mut kinds = Vec::new();
    for name in args
        .remedies
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let kind: RemedyKind = name.parse().context("--remedies")?;
        // The remedy parameters go to the remedies that read them.
        let remedy = params
            .only_for(kind)
            .check(kind)
            .with_context(|| format!("--remedies {name}"))?;
        if plans.iter().any(|p: &Plan| p.label == name) {
            bail!("--remedies: {name} is listed twice");
        }
        kinds.push(kind);
        plans.push(Plan {
            label: name.to_string(),
            config: t.config(remedy, EXPERIMENT_EPOCHS)?,
        });
    }
    if plans.is_empty() {
        bail!("--remedies: give at least one remedy, e.g. {DEFAULT_REMEDIES}");
    }
    // A parameter no listed remedy reads would be silently ignored: refuse it.
    for (setting, given) in params.given() {
        if given && !kinds.iter().any(|k| k.reads().contains(&setting)) {
            let readers: Vec<&str> = focal_train::REMEDIES
                .iter()
                .filter(|r| r.kind.reads().contains(&setting))
                .map(|r| r.name)
                .collect();
            bail!(
                "{} applies to none of --remedies {}; it is read by: {}",
                crate::flags::flag(setting),
                args.remedies,
                readers.join(", ")
            );
        }
    }
    t.check_augment_flags(&kinds)?;
    let seeds = seeds(&args.common)?;
    if let Some(k) = args.ensemble {
        focal_experiment::ensemble::check(k, seeds.len())?;
    }
    // Every flag is checked; now the (slow) part.
    let data = prepare(&args.common)?;
    for p in &plans {
        p.config.check_samples(&data.dataset.kind)?;
    }
    let dir = out_dir(&args.common, "compare")?;
    let plan = pipeline::plan_compare("focal compare", &data, &plans, &seeds, args.ensemble, &dir)?;
    execute(&args.common, &dir, &plan)
}

fn split_list(s: &str) -> impl Iterator<Item = &str> {
    s.split([',', '/']).map(str::trim).filter(|s| !s.is_empty())
}

/// Runs `focal sweep`.
pub fn run_sweep(args: SweepArgs) -> anyhow::Result<()> {
    let t = &args.common.training;
    set_threads(t.threads)?;
    // The sweep trains the focal remedy, which reads gamma and alpha only.
    for (flag, given) in [
        ("--beta", t.beta.is_some()),
        ("--tau", t.tau.is_some()),
        ("--epsilon", t.epsilon.is_some()),
    ] {
        if given {
            bail!(
                "{flag} does not apply to focal sweep: it trains the focal remedy, which reads --gamma and --alpha"
            );
        }
    }
    let gamma_list = t.gamma.as_deref().unwrap_or(DEFAULT_SWEEP_GAMMAS);
    let gammas = split_list(gamma_list)
        .map(|g| {
            let v = g
                .parse::<f32>()
                .ok()
                .with_context(|| format!("--gamma: {g:?} is not a number"))?;
            // The focal remedy's own check, before any data is read.
            RemedyParams {
                gamma: Some(v),
                ..RemedyParams::default()
            }
            .check(RemedyKind::Focal)?;
            Ok(v)
        })
        .collect::<anyhow::Result<Vec<f32>>>()?;
    // `cb:0.999` holds no comma, so both separators are safe; a list alpha is not sweepable.
    let alphas = match &args.then_alpha {
        Some(list) => split_list(list)
            .map(|a| {
                a.parse::<Alpha>()
                    .with_context(|| format!("--then-alpha {a}"))
            })
            .collect::<anyhow::Result<Vec<Alpha>>>()?,
        None => Vec::new(),
    };
    let base_alpha = t.alpha().context("--alpha")?;
    let remedy = Remedy::default_for(RemedyKind::Focal);
    t.check_augment_flags(&[RemedyKind::Focal])?;
    let base = t.config(remedy, EXPERIMENT_EPOCHS)?;
    let spec = SweepSpec {
        gammas,
        alphas,
        base_alpha,
        grid: args.grid,
        metric: match args.metric {
            MetricArg::PrAuc => SweepMetric::ValPrAuc,
            MetricArg::F1 => SweepMetric::ValMinorityF1,
        },
    };
    let seeds = seeds(&args.common)?;
    let data = prepare(&args.common)?;
    base.check_samples(&data.dataset.kind)?;
    let dir = out_dir(&args.common, "sweep")?;
    let plan = pipeline::plan_sweep(&data, &base, &spec, &seeds, &dir)?;
    execute(&args.common, &dir, &plan)
}

/// Exit code of `focal report` when it planned a sweep's second stage (runs to train next).
pub const EXIT_NEXT_STAGE: u8 = 3;

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
            print!("{}", plan::missing_lines(&missing));
            if plan::retarget_slurm(dir, &planned)? {
                println!(
                    "submit.sbatch now covers them: {}",
                    plan::sbatch_command(dir)
                );
            } else {
                println!(
                    "train them with `focal run-plan {shown} --index I` (or `--all --jobs N`), then run `focal report {shown}` again"
                );
            }
            return Err(crate::Exit {
                code: EXIT_NEXT_STAGE,
                message: format!("{shown}: the sweep's second stage is planned, not trained yet"),
            }
            .into());
        }
        Rebuilt::Incomplete { missing, .. } => {
            eprint!("{}", plan::missing_lines(&missing));
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
