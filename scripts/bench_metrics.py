"""focal-metrics against scikit-learn on the same 10 million binary predictions, in one run.

The Rust bench (crates/focal-metrics/benches/binary_10m.rs) generates the data from its
documented seeded recipe (98:2 imbalance, float32-rounded scores with ties), times itself, and
writes the data to a temporary file; this script then loads that file and times scikit-learn
on it. Both time: classification report of y_pred = score >= 0.5 (digits 4), precision-recall
curve, average precision, ROC AUC. Median of --repeat runs each. The script also checks that
both sides agree (report text byte for byte, AP and AUC to 1e-9).

Environment: the venv of scripts/gen_metrics_fixtures.py (scikit-learn 1.9.1, numpy 2.4.6).
Run from the repository root:
    /work/venvs/metrics/bin/python scripts/bench_metrics.py [--n 10000000] [--repeat 5]
"""

import argparse
import os
import statistics
import subprocess
import tempfile
import time

import numpy as np
import sklearn
from sklearn.metrics import (
    average_precision_score,
    classification_report,
    precision_recall_curve,
    roc_auc_score,
)

parser = argparse.ArgumentParser()
parser.add_argument("--n", type=int, default=10_000_000)
parser.add_argument("--repeat", type=int, default=5)
args = parser.parse_args()

with tempfile.TemporaryDirectory() as tmp:
    data = os.path.join(tmp, "binary.bin")
    cmd = ["cargo", "bench", "-p", "focal-metrics", "--bench", "binary_10m", "--",
           "--n", str(args.n), "--repeat", str(args.repeat), "--write", data]
    print("$", " ".join(cmd[:-1]), "<tmp>/binary.bin", flush=True)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    head, _, rest = out.partition("report_begin\n")
    rust_report, _, _ = rest.partition("report_end\n")
    rust = dict(line.split("=", 1) for line in head.split() if "=" in line)
    raw = np.fromfile(data, dtype=np.uint8, count=args.n)
    y = raw.astype(np.int64)
    s = np.fromfile(data, dtype="<f8", offset=args.n)

y_pred = (s >= 0.5).astype(np.int64)
times = []
for _ in range(args.repeat):
    t = time.perf_counter()
    report = classification_report(y, y_pred, labels=[0, 1], digits=4)
    pr = precision_recall_curve(y, s)
    ap = average_precision_score(y, s)
    auc = roc_auc_score(y, s)
    times.append(time.perf_counter() - t)
sk = statistics.median(times)

assert report == rust_report, f"reports differ:\n{report}\n{rust_report}"
assert abs(ap - float(rust["average_precision"])) < 1e-9, (ap, rust["average_precision"])
assert abs(auc - float(rust["roc_auc"])) < 1e-9, (auc, rust["roc_auc"])
sep = float(rust["rust_separate_median_s"])
shared = float(rust["rust_shared_median_s"])
print(f"n={args.n} positives={int(y.sum())} distinct_scores={len(pr[2])}")
print(f"scikit-learn {sklearn.__version__} median of {args.repeat}: {sk:.3f} s")
print(f"focal-metrics, one sort per function (as sklearn): {sep:.3f} s  ratio {sk / sep:.1f}x")
print(f"focal-metrics, one shared BinaryCurve:            {shared:.3f} s  ratio {sk / shared:.1f}x")
print(f"focal-metrics, BinaryCurve::new alone: {float(rust['rust_curve_only_median_s']):.3f} s")
print("focal-metrics, one pass by stage:", next(l for l in head.splitlines() if l.startswith("stages_s")))
print(f"agreement: report text identical; AP {ap!r} vs {rust['average_precision']}; "
      f"AUC {auc!r} vs {rust['roc_auc']}")
