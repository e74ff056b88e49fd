//! `focal run-plan`, and the three ways to train a planned experiment: in this process, with
//! worker processes on this machine (`--jobs`), or as a Slurm job array (`--slurm`). The plan
//! and its runs are focal-train's ([`focal_experiment::plan`]); this module spawns processes and
//! writes shell scripts, which name flags.

use std::collections::VecDeque;
use std::io::BufRead;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use focal_experiment::pipeline;
use focal_experiment::plan::{self, ExperimentPlan, Gathered, Outcome, PlannedRun, RunState};
use focal_train::ModelKind;

use crate::train::CliProgress;

/// The environment variable of a Slurm array task's id.
pub const SLURM_TASK_ENV: &str = "SLURM_ARRAY_TASK_ID";

/// How many worker processes: a number, or `auto` (from the cores and the model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jobs {
    /// Exactly this many.
    N(usize),
    /// Cores divided by the threads one run uses well (1 for mlp and cnn, 4 for resnet18, 8
    /// for resnet50), at most one per run. One thread a run for the small models: the default
    /// `focal compare` (six cnn runs) took 119 s as two processes of one thread and 197 s as
    /// one process of two threads on a 2-core AMD EPYC (BENCHMARKS.md, 2026-11-28): a batch of
    /// 32 small images is too little work to share between threads without losing time.
    Auto,
}

impl std::str::FromStr for Jobs {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Jobs::Auto),
            _ => match s.parse::<usize>() {
                Ok(0) | Err(_) => Err(format!("{s:?}: give a number of processes >= 1, or auto")),
                Ok(n) => Ok(Jobs::N(n)),
            },
        }
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The number of worker processes (never more than the runs).
fn workers(jobs: Jobs, threads: Option<usize>, plan: &ExperimentPlan, cores: usize) -> usize {
    match jobs {
        Jobs::N(n) => n.min(plan.runs.len().max(1)),
        Jobs::Auto => {
            let per_run = threads.unwrap_or(match plan.runs.first().map(|r| r.config.model) {
                Some(ModelKind::Resnet50) => 8,
                Some(ModelKind::Resnet18) => 4,
                _ => 1,
            });
            (cores / per_run.max(1)).clamp(1, plan.runs.len().max(1))
        }
    }
}

/// The number of worker processes `--jobs auto` gives for `plan`.
pub fn auto_workers(threads: Option<usize>, plan: &ExperimentPlan) -> usize {
    workers(Jobs::Auto, threads, plan, cores())
}

/// The threads of the next run to start, `costs[0]`: the `free` cores shared among the runs
/// that start now (`costs`, one per free worker) in proportion to their cost, at least one each
/// and enough left for the others. With 16 cores and the default comparison's six runs, the two
/// resampling runs (twice the images per epoch) get 4 threads and the other four 2, where an
/// equal share gave each 2 and left 4 cores idle.
fn share(free: usize, costs: &[f64]) -> usize {
    let total: f64 = costs.iter().sum();
    let Some(&first) = costs.first() else {
        return free.max(1);
    };
    let room = free.saturating_sub(costs.len() - 1).max(1);
    let t = if total > 0.0 {
        (free as f64 * first / total).round() as usize
    } else {
        free / costs.len()
    };
    t.clamp(1, room)
}

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
                crate::training::set_threads(args.threads)?;
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
    crate::training::set_threads(args.threads)?;
    let (plan, data) = pipeline::plan_data(dir, args.data.as_deref())
        .with_context(|| format!("rebuilding the task of {}", dir.display()))?;
    let run = plan.run(index)?.clone();
    let progress = CliProgress::new(args.quiet, run.config.epochs, &data);
    let started = Instant::now();
    let outcome = pipeline::run_planned(dir, &plan, index, &data, &progress);
    progress.finish();
    let outcome = outcome.with_context(|| format!("run {index} ({})", run.run_dir))?;
    let what = match outcome {
        Outcome::Trained(_) => "trained",
        Outcome::Resumed(_) => "resumed and finished",
        Outcome::Skipped => "complete already; skipped",
        Outcome::Busy => "being trained by another process; left alone",
    };
    println!(
        "run {index} ({}): {what} in {:.0} s",
        run.run_dir,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Trains every run left in this process, one after the other.
pub fn run_in_process(dir: &Path, data: Option<&Path>, quiet: bool) -> anyhow::Result<Gathered> {
    let (plan, data) = pipeline::plan_data(dir, data)
        .with_context(|| format!("rebuilding the task of {}", dir.display()))?;
    let epochs = plan.runs.first().map_or(1, |r| r.config.epochs);
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

/// One worker process: a `focal run-plan DIR --index I`.
struct Worker {
    index: usize,
    threads: usize,
    child: Child,
}

/// Trains every run left with `jobs` worker processes (each a `focal run-plan --index`), then
/// gathers. A worker that fails or is killed leaves its run as it is (resumable); the others go
/// on, and the gathered result lists it as missing.
pub fn run_workers(
    dir: &Path,
    jobs: Jobs,
    threads: Option<usize>,
    data: Option<&Path>,
    quiet: bool,
) -> anyhow::Result<Gathered> {
    let exe = std::env::current_exe().context("finding the focal binary")?;
    let cores = cores();
    loop {
        let plan = ExperimentPlan::read(dir)?;
        let n = workers(jobs, threads, &plan, cores);
        // The longest runs first (by cost; plan order among equals), so that no long run is
        // left to finish alone on a few cores at the end.
        let mut pending = Vec::new();
        for index in plan::pending(dir, &plan)? {
            pending.push((index, plan.run_cost(index)?));
        }
        pending.sort_by(|a, b| b.1.total_cmp(&a.1));
        let mut queue: VecDeque<(usize, f64)> = pending.into();
        if !quiet && !queue.is_empty() {
            let how = match threads {
                Some(t) => format!("{t} thread{} each", if t == 1 { "" } else { "s" }),
                None => format!("sharing {cores} cores by the size of their runs"),
            };
            eprintln!(
                "{} runs to train in {}: {n} worker processes, {how}, the longest runs first; Ctrl-C stops them all, and the same command run again continues where they stopped",
                queue.len(),
                dir.display()
            );
        }
        let mut slots: Vec<Option<Worker>> = (0..n).map(|_| None).collect();
        loop {
            for slot in &mut slots {
                if let Some(w) = slot
                    && let Some(status) = w.child.try_wait().context("waiting for a worker")?
                {
                    if !status.success() {
                        eprintln!(
                            "run {} ({}) did not finish: its worker exited with {status}",
                            w.index, plan.runs[w.index].run_dir
                        );
                    }
                    *slot = None;
                }
            }
            let busy: usize = slots.iter().flatten().map(|w| w.threads).sum();
            let mut free = cores.saturating_sub(busy);
            let mut open = slots.iter().filter(|s| s.is_none()).count();
            for slot in slots.iter_mut().filter(|s| s.is_none()) {
                let Some((index, cost)) = queue.pop_front() else {
                    break;
                };
                let t = threads.unwrap_or_else(|| {
                    let starting = open.min(queue.len() + 1);
                    let costs: Vec<f64> = std::iter::once(cost)
                        .chain(queue.iter().take(starting - 1).map(|r| r.1))
                        .collect();
                    share(free, &costs)
                });
                free = free.saturating_sub(t);
                open -= 1;
                *slot = Some(spawn(&exe, dir, &plan.runs[index], t, data, quiet)?);
            }
            if queue.is_empty() && slots.iter().all(Option::is_none) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        match pipeline::gather(dir)? {
            Gathered::Incomplete { planned, .. } if !planned.is_empty() => {
                if !quiet {
                    eprintln!(
                        "first stage complete: planned the sweep's second stage, runs {}-{}",
                        planned.start,
                        planned.end - 1
                    );
                }
            }
            gathered => return Ok(gathered),
        }
    }
}

fn spawn(
    exe: &Path,
    dir: &Path,
    run: &PlannedRun,
    threads: usize,
    data: Option<&Path>,
    quiet: bool,
) -> anyhow::Result<Worker> {
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
        eprintln!(
            "[{}] started (run {}, {threads} thread{})",
            run.run_dir,
            run.index,
            if threads == 1 { "" } else { "s" }
        );
    }
    let mut child = cmd.spawn().context("starting a worker process")?;
    if let Some(err) = child.stderr.take() {
        // One line per epoch from each worker, prefixed with its run.
        let name = run.run_dir.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
                eprintln!("[{name}] {line}");
            }
        });
    }
    Ok(Worker {
        index: run.index,
        threads,
        child,
    })
}

/// The runs left, one line each.
pub fn missing_lines(missing: &[(PlannedRun, RunState)]) -> String {
    missing
        .iter()
        .map(|(r, st)| format!("  run {} ({}): {st}\n", r.index, r.run_dir))
        .collect()
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
            eprint!("{}", missing_lines(&missing));
            bail!(
                "{} runs of {} did not finish (listed above); run the same command again to continue (complete runs are kept, interrupted ones resume)",
                missing.len(),
                dir.display()
            )
        }
    }
}

/// Quotes `s` for a POSIX shell.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The `sbatch` command that submits the array and the gather job after it.
pub fn sbatch_command(dir: &Path) -> String {
    let q = |f: &str| sh_quote(&dir.join(f).to_string_lossy());
    format!(
        "jid=$(sbatch --parsable {}) && sbatch --dependency=afterany:$jid {}",
        q("submit.sbatch"),
        q("gather.sbatch")
    )
}

/// Writes `submit.sbatch` (a job array over the runs `runs`, task i = `focal run-plan DIR` with
/// `$SLURM_ARRAY_TASK_ID` = i) and `gather.sbatch` (`focal report DIR`, which for a two-stage
/// sweep plans and submits the second stage) into the experiment folder `dir`; returns the
/// command that submits them.
pub fn write_slurm(
    dir: &Path,
    runs: Range<usize>,
    threads: Option<usize>,
    data: Option<&Path>,
) -> anyhow::Result<String> {
    let dir = std::fs::canonicalize(dir).with_context(|| dir.display().to_string())?;
    let exe = std::env::current_exe().context("finding the focal binary")?;
    let q = |p: &Path| sh_quote(&p.to_string_lossy());
    let logs = dir.join("slurm");
    std::fs::create_dir_all(&logs).with_context(|| logs.display().to_string())?;
    let cpus = threads.unwrap_or(2);
    let data_flag = match data {
        Some(d) => {
            let d = std::fs::canonicalize(d).with_context(|| d.display().to_string())?;
            format!(" --data {}", q(&d))
        }
        None => String::new(),
    };
    let name = dir
        .file_name()
        .map_or("focal".into(), |n| n.to_string_lossy().into_owned());
    let submit = format!(
        "#!/bin/bash
# Written by focal: task $SLURM_ARRAY_TASK_ID of this array trains run $SLURM_ARRAY_TASK_ID of
# {dir}/plan.json. A complete run is skipped, an interrupted one resumes: resubmitting is safe.
#SBATCH --job-name=focal-{name}
#SBATCH --array={first}-{last}
#SBATCH --cpus-per-task={cpus}
#SBATCH --output={logs}/run-%a.out
set -euo pipefail
FOCAL=\"${{FOCAL:-{exe}}}\"
exec \"$FOCAL\" run-plan {qdir} --threads \"${{SLURM_CPUS_PER_TASK:-{cpus}}}\" --quiet{data_flag}
",
        dir = dir.display(),
        first = runs.start,
        last = runs.end.saturating_sub(1),
        logs = logs.display(),
        exe = exe.display(),
        qdir = q(&dir),
    );
    let gather = format!(
        "#!/bin/bash
# Written by focal: gathers the runs of {dir}/plan.json into comparison.md, comparison.json and
# report.html. For a two-stage sweep whose first stage is done, `focal report` plans the second
# stage (exit code 3) and rewrites submit.sbatch for it; it is submitted here, with this job
# after it.
#SBATCH --job-name=focal-{name}-gather
#SBATCH --output={logs}/gather-%j.out
FOCAL=\"${{FOCAL:-{exe}}}\"
rc=0
\"$FOCAL\" report {qdir} || rc=$?
if [ \"$rc\" -eq 3 ]; then
  {command}
  exit $?
fi
exit \"$rc\"
",
        dir = dir.display(),
        logs = logs.display(),
        exe = exe.display(),
        qdir = q(&dir),
        command = sbatch_command(&dir),
    );
    let write = |f: &str, text: &str| {
        let p = dir.join(f);
        std::fs::write(&p, text).with_context(|| p.display().to_string())
    };
    write("submit.sbatch", &submit)?;
    write("gather.sbatch", &gather)?;
    Ok(sbatch_command(&dir))
}

/// Rewrites `submit.sbatch`'s array for the runs `runs`, when the folder has one (a sweep's
/// second stage, planned by `focal report`). Returns whether it did.
pub fn retarget_slurm(dir: &Path, runs: &Range<usize>) -> anyhow::Result<bool> {
    let path = dir.join("submit.sbatch");
    if !path.is_file() {
        return Ok(false);
    }
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with("#SBATCH --array=") {
                format!("#SBATCH --array={}-{}\n", runs.start, runs.end - 1)
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&path, text).with_context(|| path.display().to_string())?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::share;

    /// The threads of runs started one after the other into `open` free workers, as
    /// `run_workers` starts them.
    fn start(cores: usize, costs: &[f64], open: usize) -> Vec<usize> {
        let mut free = cores;
        let mut out = Vec::new();
        for i in 0..open.min(costs.len()) {
            let starting = (open - i).min(costs.len() - i);
            let t = share(free, &costs[i..i + starting]);
            free = free.saturating_sub(t);
            out.push(t);
        }
        out
    }

    #[test]
    fn cores_are_shared_by_the_size_of_the_runs_starting() {
        // The default comparison on 16 cores: two resampling runs of twice the cost.
        let default = [2.0, 2.0, 1.0, 1.0, 1.0, 1.0];
        assert_eq!(start(16, &default, 6), [4, 4, 2, 2, 2, 2]);
        // Two cores, two workers: one thread each, whatever the costs.
        assert_eq!(start(2, &default, 2), [1, 1]);
        // Equal runs share as equally as whole threads allow.
        assert_eq!(start(16, &[1.0; 5], 5), [3, 3, 3, 4, 3]);
        // One run left: every free core.
        assert_eq!(start(16, &[1.0], 1), [16]);
        // More workers than cores (--jobs 8 on 2 cores): one thread each, never zero.
        assert_eq!(start(2, &[1.0; 8], 8), [1; 8]);
        // More runs than workers: only the runs starting now share the cores.
        assert_eq!(start(16, &[2.0, 1.0, 1.0, 1.0, 1.0], 2), [11, 5]);
        // Nothing free (a run finished on an oversubscribed machine): still one thread.
        assert_eq!(share(0, &[1.0, 1.0]), 1);
        // Never more threads than cores are free, while every core is given out when the
        // workers can use them.
        for cores in 1..=32 {
            for open in 1..=8 {
                let costs: Vec<f64> = (0..open).map(|i| 1.0 + (i % 3) as f64).collect();
                let t = start(cores, &costs, open);
                let sum: usize = t.iter().sum();
                assert!(t.iter().all(|&x| x >= 1));
                if cores >= open {
                    assert_eq!(sum, cores, "{cores} cores, {open} runs: {t:?}");
                } else {
                    assert_eq!(sum, open, "{cores} cores, {open} runs: {t:?}");
                }
            }
        }
    }
}
