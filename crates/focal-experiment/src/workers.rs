//! How many worker processes train a planned experiment on one machine, and how its cores are
//! shared among them: the policy of `--jobs`, whatever starts the processes.

use std::collections::VecDeque;
use std::path::Path;
use std::process::Child;
use std::time::Duration;

use focal_data::msg;
use focal_train::{ModelKind, Setting, TrainError};

use crate::ExperimentError;
use crate::plan::{self, ExperimentPlan};

/// How many worker processes: a number, or `auto` (from the cores and the model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jobs {
    /// Exactly this many (at least 1).
    N(usize),
    /// Cores divided by the threads one run uses well (1 for mlp and cnn, 4 for resnet18, 8
    /// for resnet50), at most one per run. One thread a run for the small models: the default
    /// comparison (six cnn runs) took 119 s as two processes of one thread and 197 s as one
    /// process of two threads on a 2-core AMD EPYC (BENCHMARKS.md, 2026-11-28): a batch of 32
    /// small images is too little work to share between threads without losing time.
    Auto,
}

impl std::str::FromStr for Jobs {
    type Err = TrainError;
    fn from_str(s: &str) -> Result<Self, TrainError> {
        match s.trim() {
            "auto" => Ok(Jobs::Auto),
            t => match t.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(Jobs::N(n)),
                _ => Err(TrainError::invalid(msg![
                    Setting::Jobs,
                    format!(" {s:?}: give a number of processes >= 1, or auto")
                ])),
            },
        }
    }
}

/// The cores of this machine.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The number of worker processes for `plan` on `cores` cores (never more than the runs);
/// `threads` each when fixed.
pub fn workers(jobs: Jobs, threads: Option<usize>, plan: &ExperimentPlan, cores: usize) -> usize {
    match jobs {
        Jobs::N(n) => n.min(plan.runs.len().max(1)),
        Jobs::Auto => {
            let per_run = threads.unwrap_or(match plan.runs.first().map(|r| r.config.model()) {
                Some(ModelKind::Resnet50) => 8,
                Some(ModelKind::Resnet18) => 4,
                _ => 1,
            });
            (cores / per_run.max(1)).clamp(1, plan.runs.len().max(1))
        }
    }
}

/// The threads of the next run to start, `costs[0]`: the `free` cores shared among the runs
/// that start now (`costs`, one per free worker) in proportion to their cost, at least one each
/// and enough left for the others. With 16 cores and the default comparison's six runs, the two
/// resampling runs (twice the images per epoch) get 4 threads and the other four 2, where an
/// equal share gave each 2 and left 4 cores idle.
pub fn share(free: usize, costs: &[f64]) -> usize {
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

/// Trains every run left of the plan in `dir` with `jobs` worker processes, started by
/// `spawn(run, threads)` (each trains that run with that many threads and exits), the longest
/// runs first, the cores shared among the workers by the size of their runs unless `threads`
/// fixes them; then gathers (a sweep's second stage, planned by gathering, is trained the same
/// way). A worker that fails or is killed leaves its run as it is (resumable); the others go
/// on, and the gathered result lists it as missing. `say` tells what happens.
pub fn run_pool(
    dir: &Path,
    jobs: Jobs,
    threads: Option<usize>,
    spawn: &mut dyn FnMut(&crate::plan::PlannedRun, usize) -> std::io::Result<Child>,
    say: &dyn Fn(&str),
) -> Result<crate::plan::Gathered, ExperimentError> {
    let cores = cores();
    loop {
        let plan = ExperimentPlan::read(dir)?;
        let n = workers(jobs, threads, &plan, cores);
        let mut queue: VecDeque<(usize, f64)> = queue(dir, &plan)?.into();
        if !queue.is_empty() {
            let how = match threads {
                Some(t) => format!("{t} thread{} each", if t == 1 { "" } else { "s" }),
                None => format!("sharing {cores} cores by the size of their runs"),
            };
            say(&format!(
                "{} runs to train in {}: {n} worker processes, {how}, the longest runs first; \
                 Ctrl-C stops them all, and the same command run again continues where they \
                 stopped",
                queue.len(),
                dir.display()
            ));
        }
        // (run index, its threads, the process) per busy worker.
        let mut slots: Vec<Option<(usize, usize, Child)>> = (0..n).map(|_| None).collect();
        loop {
            for slot in &mut slots {
                if let Some((index, _, child)) = slot
                    && let Some(status) = child.try_wait().map_err(|e| TrainError::io(dir, e))?
                {
                    if !status.success() {
                        say(&format!(
                            "run {index} ({}) did not finish: its worker exited with {status}",
                            plan.runs[*index].run_dir
                        ));
                    }
                    *slot = None;
                }
            }
            let busy: usize = slots.iter().flatten().map(|w| w.1).sum();
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
                let child = spawn(&plan.runs[index], t).map_err(|e| TrainError::io(dir, e))?;
                *slot = Some((index, t, child));
            }
            if queue.is_empty() && slots.iter().all(Option::is_none) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        match crate::pipeline::gather(dir)? {
            crate::plan::Gathered::Incomplete { planned, .. } if !planned.is_empty() => {
                say(&format!(
                    "first stage complete: planned the sweep's second stage, runs {}-{}",
                    planned.start,
                    planned.end - 1
                ));
            }
            gathered => return Ok(gathered),
        }
    }
}

/// The runs of the plan in `dir` not complete yet, the longest first (by cost; plan order
/// among equals), so that no long run is left to finish alone on a few cores at the end.
pub fn queue(dir: &Path, plan: &ExperimentPlan) -> Result<Vec<(usize, f64)>, ExperimentError> {
    let mut pending = Vec::new();
    for index in plan::pending(dir, plan)? {
        pending.push((index, plan.run_cost(index)?));
    }
    pending.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(pending)
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
