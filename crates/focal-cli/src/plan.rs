//! `focal run-plan`, and the three ways to train a planned experiment: in this process, with
//! worker processes on this machine (`--jobs`), or as a Slurm job array (`--slurm`). The plan
//! and its runs are focal-experiment's ([`focal_experiment::plan`]); this module spawns processes and
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
use focal_experiment::plan::{ExperimentPlan, Gathered, Outcome, PlannedRun, RunState};
use focal_experiment::workers::{self, Jobs, share};

use crate::progress::CliProgress;

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
    let cores = workers::cores();
    loop {
        let plan = ExperimentPlan::read(dir)?;
        let n = workers::workers(jobs, threads, &plan, cores);
        let mut queue: VecDeque<(usize, f64)> = workers::queue(dir, &plan)?.into();
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
