#!/usr/bin/env python3
"""Tabulates scripts/experiment_image_size.sh's comparisons (EXPERIMENTS.md, "Default image size").

Usage: python3 scripts/summarize_image_size.py [OUT]   (OUT: the script's folder, default
runs/experiments/image-size). Per comparison: test PR-AUC per seed and their mean and sample
std, the measured time per epoch, the training minutes (epochs x time per epoch, summed over the
seeds), the compare command's wall time (loading and evaluation included), and test PR-AUC per
training minute of one run. Standard library only.
"""
import json
import re
import statistics
import sys
from pathlib import Path

out = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/experiments/image-size")
print("| comparison | size | epochs | test PR-AUC per seed | mean ± std | s/epoch | train min/run "
      "| wall (s) | PR-AUC per train minute |")
print("|---|---:|---:|---|---:|---:|---:|---:|---:|")
def order(path):
    """Data set, then the task draw, then size, then epochs."""
    log = (out / f"{path.parent.name}.log").read_text()
    size = int(re.search(r"--image-size (\d+)x", log).group(1))
    seed = re.search(r"--seed (\d+)", log)
    epochs = int(re.search(r"--epochs (\d+)", log).group(1))
    return (path.parent.name.split("-")[0], int(seed.group(1)) if seed else 0, size, epochs)


for cmp in sorted(out.glob("*/comparison.json"), key=order):
    name = cmp.parent.name
    log = (out / f"{name}.log").read_text()
    epochs = int(re.search(r"--epochs (\d+)", log).group(1))
    size = re.search(r"--image-size (\S+)", log).group(1)
    wall = re.search(r"wall time: (\d+) s", log)
    seeds = json.loads(cmp.read_text())["entries"][0]["seeds"]
    pr = [s["pr_auc"] for s in seeds]
    spe = statistics.mean(s["time_per_epoch_s"] for s in seeds)
    minutes = epochs * spe / 60
    mean = statistics.mean(pr)
    std = statistics.stdev(pr) if len(pr) > 1 else 0.0
    print(f"| {name} | {size} | {epochs} | {', '.join(f'{p:.3f}' for p in pr)} | {mean:.3f} ± {std:.3f} "
          f"| {spe:.1f} | {minutes:.2f} | {wall.group(1) if wall else '-'} | {mean / minutes:.2f} |")
