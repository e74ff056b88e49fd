#!/usr/bin/env python3
"""focal against a plain PyTorch loop on the tutorial's protocol, seed for seed.

The protocol (EXPERIMENTS.md, "Model quality against PyTorch"): Fashion-MNIST with its train and
test files pooled; Shirt as the rare class at 98:2; disjoint splits of 19,600 / 10,000 / 10,000;
the small CNN (conv3x3(32)-ReLU-maxpool2-conv3x3(64)-ReLU-maxpool2-dropout(0.25)-linear(128)-ReLU-
dropout(0.25)-linear(2)); inputs standardised with the training split's mean and std; Adam lr 1e-3,
batch 32, 10 epochs; the model of the last epoch; the threshold on P(Shirt) tuned on validation for
the best F1 of Shirt; F1 at argmax, F1 at the tuned threshold and PR-AUC (average precision) on test.

Both sides train on the very same split: the script first runs

    focal compare --data DATA --positive Shirt --ratio 98:2 --train-size 19600 --val-size 10000 \
        --test-size 10000 --model cnn --epochs 10 --remedies ce,oversample,focal --seeds 3 \
        --out OUT/focal --quiet

then reads the split focal drew (OUT/focal/split.json, indices into the pooled set, train files
first) and the standardisation it used (each run's config.json), and trains the PyTorch twin of
each remedy and seed on them:
  ce          torch.nn.functional.cross_entropy (mean)
  oversample  random over-sampling of the rare class to the size of the other, drawn once with
              replacement (imbalanced-learn's RandomOverSampler(sampling_strategy="auto")); an
              epoch is one pass over the over-sampled set, as in focal
  focal       softmax focal loss, gamma 2, no alpha, mean: -(1 - p_t)^gamma log p_t

With --schedule cosine (and --warmup-epochs W), both sides run focal's learning-rate schedule
(`focal compare --schedule cosine --warmup-epochs W`): the rate at each step is focal's
`TrainConfig::lr_at`, a linear warm-up over the first W epochs times a cosine decay from 1e-3 to 0
over all steps, set before each step of the PyTorch loop as focal sets it before each of its own;
the PyTorch runs of a schedule other than the constant one are kept under their own names
(REMEDY-cosine-wW-seedK), so one PYTORCH_DIR holds both.

It prints, per remedy and side, mean +- sample std over the seeds, and for each metric whether
focal's mean is ahead of or behind PyTorch's by more than the seed noise sqrt(std_f^2 + std_t^2).
Results: OUT/quality.md and OUT/quality.json (written whole or not at all); each PyTorch run also
writes PYTORCH_DIR/REMEDY-seedK.json (default OUT/pytorch), and a rerun of the same command reuses
finished runs on both sides (focal compare continues its folder; a folder whose comparison is
finished is read as it is). The PyTorch side does not depend on focal's settings, so two focal
builds can be compared against one PyTorch set:
    ... --focal build-a/focal --out runs/quality-a --pytorch-dir runs/quality-pytorch
    ... --focal build-b/focal --out runs/quality-b --pytorch-dir runs/quality-pytorch

Usage:
    python scripts/quality_vs_pytorch.py --focal target/release/focal \
        --data /usr/share/datasets/fashion-mnist --out runs/quality
Needs numpy and torch (CPU is enough: `pip install numpy torch`). Data: Debian's
dataset-fashion-mnist package, or any folder with the four Fashion-MNIST .gz IDX files.
"""

import argparse
import gzip
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]
METRICS = [("f1_argmax", "F1 argmax"), ("f1_tuned", "F1 tuned"), ("pr_auc", "PR-AUC")]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_pooled(folder):
    """The pooled set in focal's order: the train- pair, then the t10k- pair."""
    xs, ys = [], []
    for part in ("train", "t10k"):
        xs.append(read_idx(folder / f"{part}-images-idx3-ubyte.gz"))
        ys.append(read_idx(folder / f"{part}-labels-idx1-ubyte.gz"))
    return np.concatenate(xs), np.concatenate(ys)


class Cnn(nn.Module):
    """focal's `--model cnn`, layer for layer (PyTorch's default initialisation, which Burn's
    defaults equal: kaiming-uniform with a = sqrt(5), biases uniform in +-1/sqrt(fan_in))."""

    def __init__(self, n_classes=2, side=28):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc = nn.Linear(64 * (side // 4) * (side // 4), 128)
        self.head = nn.Linear(128, n_classes)
        self.dropout = nn.Dropout(0.25)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc(self.dropout(x)))
        return self.head(self.dropout(x))


def focal_loss(logits, target, gamma):
    logp = F.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
    return (-(1.0 - logp.exp()) ** gamma * logp).mean()


def ranked_counts(y, s):
    """Scores in decreasing order, cut at each distinct score: (the cut scores, true positives
    and false positives of predicting s >= cut), as scikit-learn's precision_recall_curve."""
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tp = np.cumsum(y)[last]
    return s[last], tp, (last + 1) - tp


def average_precision(y, s):
    """scikit-learn's average_precision_score for one positive class."""
    _, tp, fp = ranked_counts(y, s)
    precision = tp / (tp + fp)
    recall = tp / tp[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def f1_at(y, pred):
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def best_f1_threshold(y, s):
    """The score threshold (predict s >= t) with the best F1 on (y, s), as focal tunes it (the
    highest such threshold on ties)."""
    cuts, tp, fp = ranked_counts(y, s)
    f1 = 2 * tp / (2 * tp + fp + (tp[-1] - tp))
    return float(cuts[int(np.argmax(f1))])


def lr_at(base, schedule, warmup, epochs, epoch, step, steps_per_epoch):
    """focal's TrainConfig::lr_at: the rate at `step` (0-based) of 1-based `epoch`."""
    spe = float(max(steps_per_epoch, 1))
    t = (epoch - 1) + step / spe
    warm = (t + 1.0 / spe) / warmup if warmup > 0 and t < warmup else 1.0
    if schedule == "cosine":
        sched = 0.5 * (1.0 + math.cos(math.pi * t / epochs))
    else:
        sched = 1.0
    return base * warm * sched


def run_name(remedy, schedule, warmup, seed):
    """The PyTorch run's file stem: the constant schedule keeps the names of earlier runs."""
    if schedule == "constant" and warmup == 0:
        return f"{remedy}-seed{seed}"
    return f"{remedy}-{schedule}-w{warmup}-seed{seed}"


def train_pytorch(remedy, seed, data, epochs, batch, lr, threads, schedule="constant", warmup=0):
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    x_tr, y_tr = data["train"]
    if remedy == "oversample":
        minority = np.flatnonzero(y_tr == 1)
        extra = rng.choice(minority, size=int(np.sum(y_tr == 0)) - len(minority), replace=True)
        keep = np.r_[np.arange(len(y_tr)), extra]
        x_tr, y_tr = x_tr[keep], y_tr[keep]
    x_tr = torch.from_numpy(x_tr)
    y_tr = torch.from_numpy(y_tr.astype(np.int64))
    model = Cnn()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    started = time.perf_counter()
    steps = (len(y_tr) + batch - 1) // batch
    for epoch in range(1, epochs + 1):
        model.train()
        perm = torch.randperm(len(y_tr), generator=gen)
        for step, i in enumerate(range(0, len(perm), batch)):
            idx = perm[i: i + batch]
            logits = model(x_tr[idx])
            if remedy == "focal":
                loss = focal_loss(logits, y_tr[idx], 2.0)
            else:
                loss = F.cross_entropy(logits, y_tr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if schedule != "constant" or warmup:
                for group in opt.param_groups:
                    group["lr"] = lr_at(lr, schedule, warmup, epochs, epoch, step, steps)
            opt.step()
    per_epoch = (time.perf_counter() - started) / epochs
    model.eval()

    def scores(split):
        x, y = data[split]
        with torch.no_grad():
            out = [F.softmax(model(torch.from_numpy(x[i: i + 1000])), dim=1)[:, 1]
                   for i in range(0, len(y), 1000)]
        return y, torch.cat(out).double().numpy()

    y_val, s_val = scores("val")
    y_te, s_te = scores("test")
    res = judge(y_val, s_val, y_te, s_te)
    res["time_per_epoch_s"] = per_epoch
    return res, {"val": s_val, "test": s_te}


def judge(y_val, s_val, y_te, s_te):
    """The three metrics on test, the threshold tuned on validation."""
    t = best_f1_threshold(y_val, s_val)
    return {
        "f1_argmax": f1_at(y_te, s_te > 0.5),
        "f1_tuned": f1_at(y_te, s_te >= t),
        "pr_auc": average_precision(y_te, s_te),
        "threshold": t,
    }


def focal_ensembles(out, remedy):
    """focal's ensemble results of `remedy` from its comparison.json (rules at argmax and tuned)."""
    cmp = json.loads((out / "focal" / "comparison.json").read_text())
    for e in cmp["entries"]:
        if e.get("ensemble_of") and e["remedy"].split("(")[0] == remedy:
            return [{"f1_argmax": g["rules"]["argmax"]["minority_f1"],
                     "f1_tuned": g["rules"]["tuned"]["minority_f1"],
                     "pr_auc": g["pr_auc"], "threshold": g["rules"]["tuned"]["threshold"],
                     "time_per_epoch_s": g["time_per_epoch_s"]} for g in e["seeds"]]
    return []


def focal_metrics(run_dir):
    m = json.loads((run_dir / "metrics.json").read_text())
    pos = m["positive"]
    return {
        "f1_argmax": m["rules"]["argmax"]["per_class"][pos]["f1"],
        "f1_tuned": m["rules"]["tuned"]["per_class"][pos]["f1"],
        "pr_auc": m["test_pr_auc"],
        "threshold": m["tuned"]["threshold"],
        "time_per_epoch_s": m["time_per_epoch_s"],
    }


def mean_std(values):
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, float("nan")
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def cell(mean, std):
    """`mean ± std`, or the mean alone for a single value (no noise estimate)."""
    return f"{mean:.3f}" if math.isnan(std) else f"{mean:.3f} ± {std:.3f}"


def write_atomic(path, text):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--focal", default="target/release/focal", help="the focal binary")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist",
                    help="folder of the four Fashion-MNIST .gz IDX files")
    ap.add_argument("--out", default="runs/quality", help="output folder")
    ap.add_argument("--positive", default="Shirt", help="the rare class, by Fashion-MNIST name")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--remedies", default="ce,oversample,focal")
    ap.add_argument("--schedule", choices=("constant", "cosine"), default="constant",
                    help="the learning-rate schedule of both sides (focal's --schedule)")
    ap.add_argument("--warmup-epochs", type=int, default=0,
                    help="linear warm-up epochs of both sides (focal's --warmup-epochs)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="PyTorch's intra-op threads (default: one per core)")
    ap.add_argument("--focal-args", default="",
                    help="extra flags for focal compare, e.g. '--augment minority' (a new --out "
                         "for each)")
    ap.add_argument("--pytorch-dir", default=None,
                    help="where the PyTorch runs are kept (default OUT/pytorch); the PyTorch side "
                         "does not depend on focal's settings, so several OUTs can share one")
    ap.add_argument("--ensemble", type=int, default=None,
                    help="also compare ensembles: the seeds in groups of K, each group's "
                         "probabilities averaged (focal compare --ensemble K on focal's side; the "
                         "same averaging of the PyTorch models' probabilities); --seeds must be a "
                         "multiple of K")
    ap.add_argument("--no-focal-run", action="store_true",
                    help="do not run focal compare: read the runs already in OUT/focal (those "
                         "not finished are left out)")
    ap.add_argument("--skip-pytorch", action="store_true",
                    help="report the focal side only (with PyTorch runs already in OUT, if any)")
    args = ap.parse_args()

    if args.positive not in FASHION_CLASSES:
        sys.exit(f"--positive {args.positive!r}: not a Fashion-MNIST class; one of "
                 f"{', '.join(FASHION_CLASSES)}")
    remedies = [r.strip() for r in args.remedies.split(",") if r.strip()]
    unknown = [r for r in remedies if r not in ("ce", "oversample", "focal")]
    if unknown:
        sys.exit(f"--remedies: {', '.join(unknown)} has no PyTorch twin here; use ce, oversample, "
                 f"focal")
    data_dir = Path(args.data)
    out = Path(args.out)
    pt_dir = Path(args.pytorch_dir) if args.pytorch_dir else out / "pytorch"
    pt_dir.mkdir(parents=True, exist_ok=True)
    (out / "focal").mkdir(parents=True, exist_ok=True)

    cmd = [args.focal, "compare", "--data", str(data_dir), "--positive", args.positive,
           "--ratio", "98:2", "--train-size", "19600", "--val-size", "10000",
           "--test-size", "10000", "--model", "cnn", "--epochs", str(args.epochs),
           "--remedies", ",".join(remedies), "--seeds", str(args.seeds),
           "--out", str(out / "focal"), "--quiet"] + args.focal_args.split()
    if args.schedule != "constant":
        cmd += ["--schedule", args.schedule]
    if args.warmup_epochs:
        if args.warmup_epochs >= args.epochs:
            sys.exit(f"--warmup-epochs {args.warmup_epochs}: must be below --epochs {args.epochs}")
        cmd += ["--warmup-epochs", str(args.warmup_epochs)]
    if args.ensemble:
        if args.ensemble < 2 or args.seeds % args.ensemble:
            sys.exit(f"--ensemble {args.ensemble}: needs K >= 2 and --seeds a multiple of K")
        cmd += ["--ensemble", str(args.ensemble)]
    focal_wall = None
    if (out / "focal" / "comparison.json").exists() and not args.no_focal_run:
        # focal compare refuses a folder that holds a finished experiment: read it instead.
        print(f"{out / 'focal'}: focal's comparison is finished; reading it", flush=True)
    elif not args.no_focal_run:
        print("$ " + " ".join(cmd), flush=True)
        started = time.time()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        focal_wall = time.time() - started

    focal = {r: [focal_metrics(out / "focal" / f"{r}-seed{s}") for s in range(args.seeds)
                 if (out / "focal" / f"{r}-seed{s}" / "metrics.json").exists()]
             for r in remedies}

    first = json.loads((out / "focal" / f"{remedies[0]}-seed0" / "config.json").read_text())
    split = json.loads((out / "focal" / "split.json").read_text())
    norm = first["preprocessing"]["normalization"]
    mean, std = float(norm["mean"][0]), float(norm["std"][0])
    x_all, labels = load_pooled(data_dir)
    y_all = (labels == FASHION_CLASSES.index(args.positive)).astype(np.int64)
    data = {}
    for part in ("train", "val", "test"):
        idx = np.asarray(split[part], dtype=np.int64)
        x = ((x_all[idx].astype(np.float32) / 255.0 - mean) / std)[:, None, :, :]
        data[part] = (np.ascontiguousarray(x), y_all[idx])
        counts = [int(np.sum(y_all[idx] == c)) for c in (0, 1)]
        if counts != first["class_counts"][part]:
            sys.exit(f"{part}: the pooled labels give counts {counts}, focal's config.json "
                     f"{first['class_counts'][part]}: not the same data set")
    check = float(data["train"][0].mean())
    if abs(check) > 1e-3:
        sys.exit(f"the training split standardised with focal's mean and std has mean {check}")

    torch_runs = {}
    pt_wall = 0.0
    for r in remedies:
        torch_runs[r] = []
        for s in range(args.seeds):
            stem = run_name(r, args.schedule, args.warmup_epochs, s)
            path = pt_dir / f"{stem}.json"
            probs = pt_dir / f"{stem}.npz"
            if path.exists() and (probs.exists() or not args.ensemble):
                torch_runs[r].append(json.loads(path.read_text()))
                continue
            if args.skip_pytorch:
                continue
            print(f"pytorch {r} seed {s} ...", flush=True)
            t0 = time.time()
            res, scores = train_pytorch(r, s, data, args.epochs, 32, 1e-3, args.threads,
                                        args.schedule, args.warmup_epochs)
            pt_wall += time.time() - t0
            tmp = probs.with_name(probs.stem + ".tmp.npz")
            np.savez(tmp, **scores)
            os.replace(tmp, probs)
            write_atomic(path, json.dumps(res, indent=2))
            torch_runs[r].append(res)
    if args.ensemble:
        k = args.ensemble
        for r in list(remedies):
            name = f"{r} (ensemble of {k})"
            groups = []
            for g in range(args.seeds // k):
                files = [pt_dir / (run_name(r, args.schedule, args.warmup_epochs, s) + ".npz")
                         for s in range(g * k, g * k + k)]
                if not all(f.exists() for f in files):
                    continue
                loaded = [np.load(f) for f in files]
                groups.append(judge(data["val"][1], np.mean([x["val"] for x in loaded], axis=0),
                                    data["test"][1], np.mean([x["test"] for x in loaded], axis=0)))
                groups[-1]["time_per_epoch_s"] = float("nan")
            torch_runs[name] = groups
            focal[name] = focal_ensembles(out, r)
            remedies.append(name)

    lines = [f"Protocol: Fashion-MNIST pooled, {args.positive} at 98:2, 19600 / 10000 / 10000, "
             f"cnn, Adam 1e-3 ({args.schedule} schedule, {args.warmup_epochs} warm-up "
             f"epochs), batch 32, {args.epochs} epochs; test split; mean ± sample std "
             f"over seeds 0..{args.seeds - 1}. focal: `{' '.join(cmd[1:])}`. "
             f"Machine: {platform.machine()} {cpu_model()}, {os.cpu_count()} cores; "
             f"torch {torch.__version__}, {args.threads} threads.", "",
             "| remedy | side | " + " | ".join(n for _, n in METRICS) + " |",
             "|---|---|" + "---:|" * len(METRICS)]
    summary = {"protocol": {"positive": args.positive, "epochs": args.epochs,
                            "seeds": args.seeds, "focal_command": cmd,
                            "schedule": args.schedule, "warmup_epochs": args.warmup_epochs,
                            "focal_wall_s": focal_wall, "pytorch_wall_s": pt_wall,
                            "torch": torch.__version__, "cpu": cpu_model()},
               "remedies": {}}
    verdicts = []
    for r in remedies:
        entry = {}
        for side, runs in (("focal", focal[r]), ("pytorch", torch_runs[r])):
            if not runs:
                continue
            cells = {k: mean_std([run[k] for run in runs]) for k, _ in METRICS}
            cells["time_per_epoch_s"] = mean_std([run.get("time_per_epoch_s", float("nan"))
                                                  for run in runs])
            entry[side] = {k: {"mean": m, "std": sd, "values": [run[k] for run in runs]}
                           for k, (m, sd) in cells.items()}
            lines.append(f"| {r} | {side} | " + " | ".join(
                cell(*cells[k]) for k, _ in METRICS) + " |")
        if "pytorch" in entry and "focal" in entry:
            entry["gap"] = {}
            for k, name in METRICS:
                f, t = entry["focal"][k], entry["pytorch"][k]
                gap = f["mean"] - t["mean"]
                noise = math.sqrt(f["std"] ** 2 + t["std"] ** 2)
                verdict = ("one value per side: no noise estimate" if math.isnan(noise)
                           else "ahead" if gap > noise else "behind" if gap < -noise
                           else "within the noise")
                entry["gap"][k] = {"focal_minus_pytorch": gap, "noise": noise,
                                   "verdict": verdict}
                verdicts.append(f"{r}, {name}: focal {gap:+.3f} against PyTorch "
                                f"(noise {'n/a' if math.isnan(noise) else f'{noise:.3f}'}): "
                                f"{verdict}")
        summary["remedies"][r] = entry
    lines += [""] + [f"- {v}" for v in verdicts]
    behind = [v for v in verdicts if v.endswith(": behind")]
    lines += ["", f"{len(behind)} of {len(verdicts)} comparisons have focal behind PyTorch by "
                  f"more than the seed noise."]
    text = "\n".join(lines) + "\n"
    print(text)
    write_atomic(out / "quality.md", text)
    write_atomic(out / "quality.json", json.dumps(summary, indent=2))


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                flags = Path("/proc/cpuinfo").read_text()
                return line.split(":", 1)[1].strip() + (" (AVX-512)" if " avx512f" in flags
                                                        else "")
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    main()
