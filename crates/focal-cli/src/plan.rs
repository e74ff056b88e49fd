//! `focal run-plan`, and the three ways to train a planned experiment: in this process, with
//! worker processes on this machine (`--jobs`), or as a Slurm job array (`--slurm`). The plan
//! and its runs are focal-experiment's ([`focal_experiment::plan`]); this module spawns processes and
//! writes shell scripts, which name flags.

use std::io::BufRead;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use focal_experiment::pipeline;
use focal_experiment::plan::{self, Gathered, PlannedRun};
use focal_experiment::slurm;
use focal_experiment::workers::{self, Jobs};

use crate::progress::CliProgress;

/// Exit code of `focal report` when it planned a sweep's second stage (runs to train next).
pub const EXIT_NEXT_STAGE: u8 = 3;

/// The environment variable of a Slurm array task's id.
pub const SLURM_TASK_ENV: &str = "SLURM_ARRAY_TASK_ID";

/// Arguments of `focal run-plan`.
#[derive(Debug, Args)]
pub struct RunPlanArgs {
    /// The experiment folder (written by `focal compare --plan-only` or `focal sweep
    /// --plan-only`).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The run to train, from 0 (default: $SLURM_ARRAY_TASK_ID). A complete run is skipped, an
    /// interrupted one resumed, one trained by another process left alone.
    #[arg(long, value_name = "I", conflicts_with = "all")]
    pub index: Option<usize>,
    /// Train every run not complete yet (a sweep's second stage too), then gather the report.
    #[arg(long)]
    pub all: bool,
    /// With --all: this many worker processes, each a `focal run-plan DIR --index I` (a number,
    /// or auto: one per core for mlp and cnn, cores / 4 for resnet18, cores / 8 for resnet50).
    #[arg(long, value_name = "N|auto", requires = "all")]
    pub jobs: Option<Jobs>,
    /// Worker threads of the CPU backend (default: one per core; with --jobs, the cores shared
    /// among the workers by the size of their runs).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Where the data are read from, when not where the plan recorded them (the bundled data set
    /// needs nothing).
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs `focal run-plan`.
pub fn run(args: RunPlanArgs) -> anyhow::Result<()> {
    let dir = &args.dir;
    if args.all {
        let started = Instant::now();
        let gathered = match args.jobs {
            Some(jobs) => run_workers(dir, jobs, args.threads, args.data.as_deref(), args.quiet)?,
            None => {
                crate::args::set_threads(args.threads)?;
                run_in_process(dir, args.data.as_deref(), args.quiet)?
            }
        };
        return finish(dir, gathered, started);
    }
    let index = match args.index {
        Some(i) => i,
        None => match std::env::var(SLURM_TASK_ENV) {
            Ok(v) => v
                .trim()
                .parse()
                .with_context(|| format!("${SLURM_TASK_ENV} {v:?} is not a run index"))?,
            Err(_) => {
                bail!("give --index I (or set ${SLURM_TASK_ENV}), or --all to train every run left")
            }
        },
    };
    crate::args::set_threads(args.threads)?;
    let (plan, data) = pipeline::plan_data(dir, args.data.as_deref())
        .with_context(|| format!("rebuilding the task of {}", dir.display()))?;
    let run = plan.run(index)?.clone();
    let progress = CliProgress::new(args.quiet, run.config.epochs(), &data);
    let started = Instant::now();
    let outcome = pipeline::run_planned(dir, &plan, index, &data, &progress);
    progress.finish();
    let outcome = outcome.with_context(|| format!("run {index} ({})", run.run_dir))?;
    let (what, secs) = (outcome.describe(), started.elapsed().as_secs_f64());
    println!("run {index} ({}): {what} in {secs:.0} s", run.run_dir);
    Ok(())
}

/// Trains every run left in this process, one after the other.
pub fn run_in_process(dir: &Path, data: Option<&Path>, quiet: bool) -> anyhow::Result<Gathered> {
    let (plan, data) = pipeline::plan_data(dir, data)
        .with_context(|| format!("rebuilding the task of {}", dir.display()))?;
    let epochs = plan.runs.first().map_or(1, |r| r.config.epochs());
    let progress = CliProgress::new(quiet, epochs, &data);
    let announce = |label: &str, seed: u64, i: usize, n: usize| {
        focal_train::Progress::message(
            &progress,
            &format!("[{i}/{n}] training {label}, seed {seed}"),
        );
    };
    let gathered = pipeline::run_all(dir, &data, &progress, &announce);
    progress.finish();
    Ok(gathered?)
}

/// Trains every run left with `jobs` worker processes (each a `focal run-plan --index`), then
/// gathers (focal-experiment's pool: the longest runs first, the cores shared by their size).
pub fn run_workers(
    dir: &Path,
    jobs: Jobs,
    threads: Option<usize>,
    data: Option<&Path>,
    quiet: bool,
) -> anyhow::Result<Gathered> {
    let exe = std::env::current_exe().context("finding the focal binary")?;
    let say = |m: &str| {
        if !quiet {
            eprintln!("{m}");
        }
    };
    let mut start = |run: &PlannedRun, t: usize| spawn(&exe, dir, run, t, data, quiet);
    Ok(workers::run_pool(dir, jobs, threads, &mut start, &say)?)
}

fn spawn(
    exe: &Path,
    dir: &Path,
    run: &PlannedRun,
    threads: usize,
    data: Option<&Path>,
    quiet: bool,
) -> std::io::Result<Child> {
    let mut cmd = Command::new(exe);
    cmd.arg("run-plan")
        .arg(dir)
        .args(["--index", &run.index.to_string()])
        .args(["--threads", &threads.to_string()])
        .env_remove(SLURM_TASK_ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    if let Some(d) = data {
        cmd.arg("--data").arg(d);
    }
    if quiet {
        cmd.arg("--quiet").stderr(Stdio::null());
    } else {
        cmd.stderr(Stdio::piped());
        let (name, i, s) = (&run.run_dir, run.index, if threads == 1 { "" } else { "s" });
        eprintln!("[{name}] started (run {i}, {threads} thread{s})");
    }
    let mut child = cmd.spawn()?;
    if let Some(err) = child.stderr.take() {
        // One line per epoch from each worker, prefixed with its run.
        let name = run.run_dir.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
                eprintln!("[{name}] {line}");
            }
        });
    }
    Ok(child)
}

/// Prints a gathered experiment, or fails listing its missing runs.
pub fn finish(dir: &Path, gathered: Gathered, started: Instant) -> anyhow::Result<()> {
    match gathered {
        Gathered::Complete(cmp) => {
            print!("{}", cmp.to_markdown());
            println!(
                "\nwritten: {}/{{comparison.md, comparison.json, report.html}}",
                dir.display()
            );
            println!("wall time: {:.0} s", started.elapsed().as_secs_f64());
            Ok(())
        }
        Gathered::Incomplete { missing, .. } => {
            eprint!("{}", plan::missing_lines(&missing));
            bail!(
                "{} runs of {} did not finish (listed above); run the same command again to continue (complete runs are kept, interrupted ones resume)",
                missing.len(),
                dir.display()
            )
        }
    }
}

/// Writes the Slurm scripts of the experiment in `dir` for the runs `runs`: each array task
/// is a `focal run-plan DIR` (`$SLURM_ARRAY_TASK_ID` picks the run), the gathering a `focal
/// report DIR`; returns the command that submits them.
pub fn write_slurm(
    dir: &Path,
    runs: Range<usize>,
    threads: Option<usize>,
    data: Option<&Path>,
) -> anyhow::Result<String> {
    let dir = std::fs::canonicalize(dir).with_context(|| dir.display().to_string())?;
    let q = |p: &Path| slurm::sh_quote(&p.to_string_lossy());
    let cpus = threads.unwrap_or(2);
    let mut run_args = format!(
        "run-plan {} --threads \"${{SLURM_CPUS_PER_TASK:-{cpus}}}\" --quiet",
        q(&dir)
    );
    if let Some(d) = data {
        let d = std::fs::canonicalize(d).with_context(|| d.display().to_string())?;
        run_args.push_str(&format!(" --data {}", q(&d)));
    }
    let job = slurm::SlurmJob {
        gather_args: format!("report {}", q(&dir)),
        dir,
        runs,
        cpus,
        program: std::env::current_exe().context("finding the focal binary")?,
        run_args,
        next_stage_code: EXIT_NEXT_STAGE,
    };
    Ok(job.write()?)
}
