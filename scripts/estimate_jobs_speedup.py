#!/usr/bin/env python3
"""Estimate what `focal compare --jobs` gains on a machine with more cores than this one.

Issue 11's target is stated for 16 cores; without such a machine it asks for an estimate from
threads = 1 and 2 here. This script measures one run's epoch at 1 and 2 threads for a plain
remedy (ce) and a resampling one (oversample, twice the images per epoch on the bundled task),
fits Amdahl's law to each (t(p) = S + P / p: S the part no second thread shares, P the part
that divides), and plays the default comparison (six remedies, of which oversample and smote
resample) on CORES cores two ways:
  sequential  one process, every run with all CORES threads, one after the other
              (`focal compare --jobs 1`);
  --jobs      focal's scheduler (crates/focal-cli/src/plan.rs): one worker per core up to the
              number of runs, the longest runs first, each run starting given the free cores in
              proportion to its cost among the runs starting with it (`share`), a finished run's
              cores going to the next in the queue.
Amdahl's law from two points ignores what only many threads cost (synchronisation, memory
bandwidth), so it flatters the sequential run's 16 threads and the estimate of the ratio is
low rather than high, as far as that goes; it is an estimate, not a measurement.

Usage:
    python3 scripts/estimate_jobs_speedup.py --focal target/release/focal --cores 16 --seeds 1 3
Needs only Python's standard library and a focal binary.
"""

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

# The default comparison's remedies, and whether each trains on the resampled (balanced) set.
DEFAULT_REMEDIES = [("ce", False), ("weighted-ce", False), ("oversample", True), ("smote", True),
                    ("focal", False), ("cb-focal", False)]


def epoch_time(focal, remedy, threads, epochs, out):
    run_out = Path(out) / f"{remedy}-t{threads}"
    shutil.rmtree(run_out, ignore_errors=True)
    subprocess.run([focal, "train", "--remedy", remedy, "--epochs", str(epochs), "--threads",
                    str(threads), "--quiet", "--out", str(run_out)], check=True,
                   stdout=subprocess.DEVNULL)
    (metrics,) = run_out.glob("*/metrics.json")
    return json.loads(metrics.read_text())["time_per_epoch_s"]


def share(free, costs):
    """focal-cli's plan::share: the threads of the first of the runs starting now."""
    if not costs:
        return max(free, 1)
    total = sum(costs)
    room = max(free - (len(costs) - 1), 1)
    t = int(free * costs[0] / total + 0.5) if total > 0 else free // len(costs)
    return min(max(t, 1), room)


def play_jobs(runs, cores):
    """Wall time of focal's --jobs scheduler on `runs` [(cost, time(p))], `cores` cores."""
    queue = sorted(runs, key=lambda r: -r[0])
    workers = min(cores, len(runs))
    running = []  # (finish time, threads)
    now = 0.0
    while queue or running:
        free = cores - sum(t for _, t in running)
        open_slots = workers - len(running)
        starting = min(open_slots, len(queue))
        for i in range(starting):
            cost, time_of = queue.pop(0)
            t = share(free, [cost] + [c for c, _ in queue[:starting - i - 1]])
            free = max(free - t, 0)
            running.append((now + time_of(t), t))
        running.sort()
        now, _ = running.pop(0)
    return now


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--focal", default="target/release/focal")
    ap.add_argument("--cores", type=int, default=16)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 3])
    ap.add_argument("--epochs", type=int, default=2, help="epochs of each timing run")
    ap.add_argument("--repeats", type=int, default=3,
                    help="timing runs per remedy and thread count, alternating; the median counts")
    args = ap.parse_args()

    fits = {}
    with tempfile.TemporaryDirectory() as out:
        for remedy in ("ce", "oversample"):
            times = {1: [], 2: []}
            for _ in range(args.repeats):
                for threads in (1, 2):
                    times[threads].append(epoch_time(args.focal, remedy, threads, args.epochs, out))
            t1, t2 = statistics.median(times[1]), statistics.median(times[2])
            print(f"{remedy}: seconds per epoch on 1 thread {times[1]}, on 2 {times[2]}")
            serial, parallel = 2 * t2 - t1, 2 * (t1 - t2)
            fits[remedy] = (serial, parallel)
            print(f"{remedy}: medians {t1:.3f} s on 1 thread, {t2:.3f} s on 2; Amdahl: "
                  f"S = {serial:.3f} s, P = {parallel:.3f} s (serial share {serial / t1:.0%})")

    def time_of(remedy):
        s, p = fits[remedy]
        return lambda threads: s + p / threads

    cheap, heavy = time_of("ce"), time_of("oversample")
    for seeds in args.seeds:
        runs = [(heavy(1), heavy) if resampled else (cheap(1), cheap)
                for _, resampled in DEFAULT_REMEDIES for _ in range(seeds)]
        sequential = sum(f(args.cores) for _, f in runs)
        jobs = play_jobs(runs, args.cores)
        line = (f"default compare, --seeds {seeds} ({len(runs)} runs) on {args.cores} cores, "
                f"per epoch of every run: sequential {sequential:.2f} s, --jobs {jobs:.2f} s: "
                f"{sequential / jobs:.2f}x")
        if len(runs) <= args.cores:
            # Every run at once: the old equal shares, and the bound on any schedule.
            equal = max(f(args.cores // len(runs)) for _, f in runs)
            longest = max(f(args.cores) for _, f in runs)
            line += (f" (an equal share of cores / runs threads each: {sequential / equal:.2f}x; "
                     f"no schedule beats the longest run on all {args.cores} cores: "
                     f"{sequential / longest:.2f}x)")
        print(line)


if __name__ == "__main__":
    main()
