"""Golden values for focal_metrics::bootstrap, from scikit-learn on explicit resample indices.

Writes crates/focal-metrics/tests/fixtures/bootstrap_cases.json. The Rust bootstrap draws its
indices with ChaCha8, which numpy cannot reproduce, so the fixture fixes the indices instead:
each case holds a data set and a few resamples as lists of drawn indices, with scikit-learn's
average_precision_score and f1_score on exactly those rows (null where the resample holds no
positive, the bootstrap's "skipped"), and numpy.percentile's 2.5th and 97.5th percentiles of the
resampled values. The Rust test feeds the same indices to Bootstrap::{average_precision,f1}_with_counts
and compares to 1e-12; the test suite never runs Python.

Environment (the versions the committed fixture was generated with):
    python3 -m venv /work/venv-skl
    /work/venv-skl/bin/pip install scikit-learn==1.9.1 numpy==2.4.6
Run from the repository root:
    /work/venv-skl/bin/python scripts/bootstrap_reference.py
"""

import json
import math
import os
import warnings

import numpy as np
import sklearn
from sklearn.metrics import average_precision_score, f1_score

warnings.filterwarnings("ignore")
OUT = os.path.join("crates", "focal-metrics", "tests", "fixtures", "bootstrap_cases.json")
rng = np.random.RandomState(15)


def clean(x):
    """JSON-safe: numpy to Python, NaN to None."""
    if isinstance(x, dict):
        return {k: clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [clean(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return None if math.isnan(x) else x
    return x


def case(name, y_true, scores, y_pred, n_resamples, extra_resamples=()):
    y_true = np.asarray(y_true, dtype=bool)
    scores = np.asarray(scores, dtype=float)
    y_pred = np.asarray(y_pred, dtype=bool)
    n = len(y_true)
    resamples = [rng.randint(0, n, n) for _ in range(n_resamples)]
    resamples += [np.asarray(r) for r in extra_resamples]
    ap, f1 = [], []
    for idx in resamples:
        t, s, p = y_true[idx], scores[idx], y_pred[idx]
        ap.append(average_precision_score(t, s) if t.any() else float("nan"))
        f1.append(f1_score(t, p, zero_division=0))
    ap_defined = np.array([a for a in ap if not math.isnan(a)])
    return dict(
        name=name,
        y_true=y_true,
        scores=scores,
        y_pred=y_pred,
        average_precision=average_precision_score(y_true, scores),
        f1=f1_score(y_true, y_pred, zero_division=0),
        resamples=resamples,
        resample_average_precision=ap,
        resample_f1=f1,
        f1_low=np.percentile(f1, 2.5),
        f1_high=np.percentile(f1, 97.5),
        average_precision_low=np.percentile(ap_defined, 2.5),
        average_precision_high=np.percentile(ap_defined, 97.5),
    )


cases = []
# The ranking anchor (ANCHORS.md): AP 0.8333; a resample with no positive, one with every sample
# the same, and one with only positives.
cases.append(case("anchor", [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], [0, 1, 0, 1], 20,
                  extra_resamples=[[0, 1, 1, 0], [3, 3, 3, 3], [2, 3, 2, 2]]))
# Heavy ties: scores on a grid of 5 values, -0.0 tying with 0.0.
n = 60
y = rng.rand(n) < 0.3
s = rng.randint(0, 5, n) / 4.0
s[s == 0.0] = np.where(rng.rand((s == 0.0).sum()) < 0.5, -0.0, 0.0)
cases.append(case("heavy_ties", y, s, s >= 0.5, 30))
# Rare positives (2 in 80), continuous scores: some resamples draw none.
n = 80
y = np.zeros(n, dtype=bool)
y[rng.choice(n, 2, replace=False)] = True
s = np.clip(rng.rand(n) * 0.7 + 0.3 * y, 0, 1)
cases.append(case("rare_positives", y, s, s >= 0.6, 40))
# Balanced, informative scores with many ties from rounding to two decimals.
n = 200
y = rng.rand(n) < 0.5
s = np.round(1 / (1 + np.exp(-(rng.randn(n) + 1.2 * (2 * y - 1)))), 2)
cases.append(case("rounded_logistic", y, s, s >= 0.85, 25))
# Predictions that never hit (F1 is 0 by zero_division on every resample).
cases.append(case("never_predicted", [1, 0, 0, 1, 0, 0, 0, 1], [.9, .2, .3, .7, .1, .8, .4, .6],
                  [0] * 8, 10))

meta = dict(sklearn=sklearn.__version__, numpy=np.__version__,
            script="scripts/bootstrap_reference.py")
with open(OUT, "w") as f:
    json.dump(clean(dict(meta=meta, cases=cases)), f, indent=None, separators=(",", ":"))
    f.write("\n")
print(OUT, os.path.getsize(OUT), "bytes")
