"""Golden values for focal-metrics, from scikit-learn and imbalanced-learn.

Writes crates/focal-metrics/tests/fixtures/{report,ranking,calibration,threshold,cli}_cases.json.
The Rust tests compare text exactly and numbers to 1e-12; the test suite never runs Python.

Environment (the versions the committed fixtures were generated with):
    python3 -m venv /work/venvs/metrics
    /work/venvs/metrics/bin/pip install scikit-learn==1.9.1 imbalanced-learn==0.14.2 numpy==2.4.6
    (scipy 1.17.1 came with them)
Run from the repository root:
    /work/venvs/metrics/bin/python scripts/gen_metrics_fixtures.py

Threshold tuning has no scikit-learn counterpart with the same contract, so its golden values
come from a brute-force evaluation of every candidate threshold (the definition), written here
independently of the Rust code. The expected calibration error is computed from
`calibration_curve`'s bins and counts by its definition, sum_b n_b/n |acc_b - conf_b|.
"""

import json
import math
import os
import warnings

import imblearn
import numpy as np
import sklearn
from imblearn.metrics import classification_report_imbalanced
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    classification_report,
    cohen_kappa_score,
    confusion_matrix,
    matthews_corrcoef,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

warnings.filterwarnings("ignore")
OUT = os.path.join("crates", "focal-metrics", "tests", "fixtures")
rng = np.random.RandomState(0)


def clean(x):
    """JSON-safe: numpy to Python, NaN to None, +inf to the string "inf"."""
    if isinstance(x, dict):
        return {k: clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [clean(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if math.isnan(x):
            return None
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    return x


ZD = {"zero": 0, "one": 1, "nan": np.nan}


def report_case(name, y_true, y_pred, n_classes, labels=None, target_names=None, digits=2,
                zero_division="zero"):
    y_true = [int(v) for v in y_true]
    y_pred = [int(v) for v in y_pred]
    lab = list(range(n_classes)) if labels is None else list(labels)
    zd = ZD[zero_division]
    kw = dict(labels=lab, target_names=target_names, digits=digits, zero_division=zd)
    text = classification_report(y_true, y_pred, **kw)
    as_dict = classification_report(y_true, y_pred, output_dict=True, **kw)
    if zero_division == "nan":
        # imbalanced-learn 0.14 accepts only "warn", 0 or 1 here.
        imb_text, imb = None, None
    else:
        imb_text = classification_report_imbalanced(y_true, y_pred, **kw)
        imb = classification_report_imbalanced(y_true, y_pred, output_dict=True, **kw)
    cm = confusion_matrix(y_true, y_pred, labels=list(range(n_classes)))
    return dict(
        name=name, y_true=y_true, y_pred=y_pred, n_classes=n_classes, labels=labels,
        target_names=target_names, digits=digits, zero_division=zero_division,
        text=text, dict=clean(as_dict), dict_keys=list(as_dict.keys()), imbalanced_text=imb_text, imbalanced=clean(imb),
        confusion_matrix=clean(cm),
        balanced_accuracy=clean(balanced_accuracy_score(y_true, y_pred)),
        mcc=clean(matthews_corrcoef(y_true, y_pred)),
        cohen_kappa=clean(cohen_kappa_score(y_true, y_pred)),
    )


def noisy(y, n_classes, p_err):
    y = np.asarray(y)
    flip = rng.rand(len(y)) < p_err
    other = rng.randint(0, n_classes, len(y))
    return np.where(flip, other, y)


reports = []
reports.append(report_case("anchor", [0, 1, 2, 2, 2], [0, 0, 2, 2, 1], 3))
y = (rng.rand(500) < 0.02).astype(int)
y[:3] = 1  # at least a few positives
reports.append(report_case("ratio_98_2", y, noisy(y, 2, 0.05), 2))
reports.append(report_case("ratio_98_2_digits4", y, noisy(y, 2, 0.1), 2, digits=4))
y = (rng.rand(200) < 0.05).astype(int)
y[0] = 1
reports.append(report_case("never_predicted", y, np.zeros_like(y), 2))
reports.append(report_case("never_predicted_nan", y, np.zeros_like(y), 2, zero_division="nan"))
reports.append(report_case("never_predicted_one", y, np.zeros_like(y), 2, zero_division="one"))
y = rng.randint(0, 3, 60)
p = noisy(y, 4, 0.3)
reports.append(report_case("absent_from_y_true", y, p, 5))
reports.append(report_case("absent_from_y_true_nan", y, p, 5, zero_division="nan"))
reports.append(report_case("absent_from_y_true_one", y, p, 5, zero_division="one", digits=3))
y = rng.randint(0, 3, 30)
reports.append(report_case("perfect", y, y, 3))
reports.append(report_case("one_sample", [1], [1], 2))
reports.append(report_case("one_sample_wrong", [0], [2], 3))
y = rng.randint(0, 25, 400)
reports.append(report_case("many_classes", y, noisy(y, 25, 0.4), 25,
                           target_names=[f"class_name_{i:02d}" for i in range(25)]))
y = rng.randint(0, 4, 80)
p = noisy(y, 4, 0.35)
reports.append(report_case("label_subset_micro", y, p, 4, labels=[2, 0]))
reports.append(report_case("label_subset_micro_nan", y, p, 4, labels=[3, 1], zero_division="nan"))
reports.append(report_case("labels_reordered_all", y, p, 4, labels=[3, 2, 1, 0], digits=4))
reports.append(report_case("target_names", y, p, 4,
                           target_names=["benign", "malignant", "x", "a very long class name"]))
reports.append(report_case("digits_13", y, p, 4, digits=13))
reports.append(report_case("digits_0", y, p, 4, digits=0))
# Exact binary ties at the rounding digit: 1/8 = 0.125 prints 0.12 (round half to even).
reports.append(report_case("rounding_ties", [0] * 8 + [1] * 8, [0] * 7 + [1] + [1] * 7 + [0], 2,
                           digits=2))
reports.append(report_case("rounding_ties_8", [1] * 8 + [0] * 3, [1] + [0] * 7 + [1] * 3, 2))

# ---------------------------------------------------------------- ranking
def binary_case(name, y, s):
    y = [bool(v) for v in y]
    s = [float(v) for v in s]
    out = dict(name=name, y_true=y, scores=s)
    yi = np.asarray(y, dtype=int)
    if yi.sum() > 0:
        pr, rc, th = precision_recall_curve(yi, s)
        out.update(pr_precision=clean(pr), pr_recall=clean(rc), pr_thresholds=clean(th),
                   average_precision=clean(average_precision_score(yi, s)))
    if 0 < yi.sum() < len(yi):
        fpr, tpr, th = roc_curve(yi, s)
        out.update(roc_fpr=clean(fpr), roc_tpr=clean(tpr), roc_thresholds=clean(th),
                   roc_auc=clean(roc_auc_score(yi, s)))
    return out


ranking = []
ranking.append(binary_case("anchor", [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]))
y = rng.rand(300) < 0.3
ranking.append(binary_case("heavy_ties", y, np.round(rng.rand(300) * 0.6 + 0.4 * y, 1)))
y = rng.rand(1000) < 0.02
y[:2] = True
ranking.append(binary_case("ratio_98_2", y, rng.rand(1000) * 0.8 + 0.2 * y))
y = rng.rand(50) < 0.5
y[:2] = [True, False]
ranking.append(binary_case("all_tied", y, np.full(50, 0.5)))
ranking.append(binary_case("perfect", [0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.8, 0.9]))
ranking.append(binary_case("reversed", [1, 1, 0, 0, 0], [0.1, 0.2, 0.3, 0.8, 0.9]))
ranking.append(binary_case("signed_zero_and_negative", [1, 0, 1, 0, 1, 0],
                           [0.0, -0.0, -1.5, 2.0, -0.0, -1.5]))
ranking.append(binary_case("only_positives", [1, 1, 1], [0.2, 0.5, 0.5]))
y = rng.rand(257) < 0.4
ranking.append(binary_case("pairwise_blocks", y, np.round(rng.randn(257) + y, 2)))


def multiclass_case(name, y, probs, n_classes):
    return dict(name=name, y_true=[int(v) for v in y], probs=clean(np.asarray(probs).ravel()),
                n_classes=n_classes,
                macro_ap=clean(average_precision_score(y, probs, average="macro")),
                macro_auc=clean(roc_auc_score(y, probs, multi_class="ovr", average="macro")))


multiclass = []
y = rng.randint(0, 4, 200)
y[:4] = [0, 1, 2, 3]
k = rng.randint(0, 5, (200, 4)) + 3 * np.eye(4)[y]
k[k.sum(axis=1) == 0, 0] = 1
multiclass.append(multiclass_case("tied_counts", y, k / k.sum(axis=1, keepdims=True), 4))
y = rng.randint(0, 6, 150)
y[:6] = range(6)
p = rng.dirichlet(np.ones(6), 150) + 0.5 * np.eye(6)[y]
multiclass.append(multiclass_case("dirichlet", y, p / p.sum(axis=1, keepdims=True), 6))

# ---------------------------------------------------------------- calibration
def calib_case(name, y, p, n_bins):
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=n_bins, strategy="uniform")
    bins = np.linspace(0.0, 1.0, n_bins + 1)
    ids = np.searchsorted(bins[1:-1], p)
    counts = np.bincount(ids, minlength=n_bins)
    nz = counts != 0
    ece = float(np.sum(counts[nz] / len(p) * np.abs(prob_true - prob_pred)))
    return dict(name=name, outcomes=[bool(v) for v in y], probs=clean(p), n_bins=n_bins,
                prob_true=clean(prob_true), prob_pred=clean(prob_pred),
                counts=clean(counts[nz]), lower=clean(bins[:-1][nz]), upper=clean(bins[1:][nz]),
                ece=ece, brier=clean(brier_score_loss(y, p)))


calibration = []
y = rng.rand(400) < 0.3
calibration.append(calib_case("binary_10_bins", y, np.clip(0.3 * y + 0.7 * rng.rand(400), 0, 1), 10))
calibration.append(calib_case("edges", [1, 0, 1, 0, 1, 0], [0.0, 0.2, 0.4, 0.6, 0.8, 1.0], 5))
calibration.append(calib_case("binary_7_bins", y, np.round(rng.rand(400), 1), 7))
y = rng.randint(0, 3, 120)
p = rng.dirichlet(np.ones(3), 120) + 0.4 * np.eye(3)[y]
p = p / p.sum(axis=1, keepdims=True)
top = calib_case("top_label", np.argmax(p, axis=1) == y, p.max(axis=1), 10)
top.update(y_true=[int(v) for v in y], matrix=clean(p.ravel()), n_classes=3)
top["brier_multiclass"] = clean(brier_score_loss(y, p, labels=[0, 1, 2]))

# ---------------------------------------------------------------- thresholds (by definition)
def tune(y, s, objective, param=None):
    y = np.asarray(y, dtype=bool)
    s = np.asarray(s, dtype=float)
    P, N = y.sum(), (~y).sum()
    best = None
    for t in sorted(set(s.tolist()), reverse=True):
        pred = s >= t
        tp = int((pred & y).sum()); fp = int((pred & ~y).sum())
        fn = int(P - tp); tn = int(N - fp)
        rec = tp / P
        prec = tp / (tp + fp)
        b = param if objective == "fbeta" else 1.0
        f = (1 + b * b) * tp / ((1 + b * b) * tp + b * b * fn + fp)
        spec = tn / N if N else 0.0
        j = rec + spec - 1
        if objective in ("f1", "fbeta"):
            v = f
        elif objective == "target_recall":
            if rec < param:
                continue
            v = prec
        else:
            v = j
        if best is None or v > best[0]:
            best = (v, dict(threshold=t, precision=prec, recall=rec, f_score=f, beta=b,
                            specificity=spec, youden_j=j, true_positives=tp,
                            false_positives=fp, true_negatives=tn, false_negatives=fn))
    return best[1]


thresholds = []
y = rng.rand(300) < 0.1
y[0] = True
s = np.round(rng.rand(300) * 0.7 + 0.3 * y, 2)
for obj, param in [("f1", None), ("fbeta", 2.0), ("fbeta", 0.5), ("target_recall", 0.9),
                   ("target_recall", 1.0), ("youden_j", None)]:
    thresholds.append(dict(objective=obj, param=param, y_true=[bool(v) for v in y],
                           scores=clean(s), expected=tune(y, s, obj, param)))

# ---------------------------------------------------------------- CLI
def cli_case(name, y, pred, probs=None, digits=2):
    C = probs.shape[1] if probs is not None else max(max(y), max(pred)) + 1
    header = ["y_true", "y_pred"] + ([f"p_{c}" for c in range(C)] if probs is not None else [])
    lines = [",".join(header)]
    for i in range(len(y)):
        row = [str(int(y[i])), str(int(pred[i]))]
        if probs is not None:
            row += [repr(float(v)) for v in probs[i]]
        lines.append(",".join(row))
    out = dict(name=name, csv="\n".join(lines) + "\n", digits=digits, n_classes=int(C),
               text=classification_report(y, pred, labels=list(range(C)), digits=digits,
                                          zero_division=0),
               report=clean(classification_report(y, pred, labels=list(range(C)), digits=digits,
                                                  zero_division=0, output_dict=True)),
               confusion_matrix=clean(confusion_matrix(y, pred, labels=list(range(C)))),
               balanced_accuracy=float(balanced_accuracy_score(y, pred)),
               mcc=float(matthews_corrcoef(y, pred)))
    if probs is not None and len(set(int(v) for v in y)) == C:
        if C == 2:
            out["average_precision"] = float(average_precision_score(y, probs[:, 1]))
            out["roc_auc"] = float(roc_auc_score(y, probs[:, 1]))
        else:
            out["average_precision"] = float(average_precision_score(y, probs, average="macro"))
            out["roc_auc"] = float(roc_auc_score(y, probs, multi_class="ovr"))
    return out


cli = []
y = (rng.rand(100) < 0.1).astype(int)
y[:2] = 1
p1 = np.round(np.clip(0.5 * y + 0.6 * rng.rand(100), 0, 1), 3)
probs = np.stack([1 - p1, p1], axis=1)
cli.append(cli_case("binary_probs", y, (p1 >= 0.5).astype(int), probs))
y = rng.randint(0, 3, 60)
y[:3] = [0, 1, 2]
p = rng.dirichlet(np.ones(3), 60) + 0.5 * np.eye(3)[y]
p = p / p.sum(axis=1, keepdims=True)
cli.append(cli_case("multiclass_probs", y, p.argmax(axis=1), p, digits=4))
cli.append(cli_case("labels_only", [0, 1, 2, 2, 2], [0, 0, 2, 2, 1]))
y = rng.randint(0, 2, 40)
p = rng.dirichlet(np.ones(3), 40)
cli.append(cli_case("class_absent_with_probs", y, p.argmax(axis=1), p))

meta = dict(sklearn=sklearn.__version__, imblearn=imblearn.__version__, numpy=np.__version__,
            script="scripts/gen_metrics_fixtures.py")
for fname, data in [("report_cases.json", reports),
                    ("ranking_cases.json", dict(binary=ranking, multiclass=multiclass)),
                    ("calibration_cases.json", dict(binary=calibration, top_label=top)),
                    ("threshold_cases.json", thresholds), ("cli_cases.json", cli)]:
    with open(os.path.join(OUT, fname), "w") as f:
        json.dump(dict(meta=meta, cases=data), f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(fname, os.path.getsize(os.path.join(OUT, fname)), "bytes")
