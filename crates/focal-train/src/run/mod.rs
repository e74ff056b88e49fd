//! The run folder: what a training run writes, file by file. Every file is written atomically
//! (to a temporary file in the same folder, then renamed), so a killed run never leaves a torn
//! file.
//!
//! ```text
//! runs/<name>/
//!   config.json      RunConfig: {"focal_version", "train": TrainConfig, "task": TaskRecord,
//!                    "data_fingerprint", "n_classes", "class_names", "positive" (1 or null),
//!                    "class_counts": {"train","val","test": [per class]},
//!                    "train_counts_after_remedy": [per class], "pretrained": PretrainedReport|null}
//!   split.json       {"train": [indices], "val": [...], "test": [...]} into the task's data set
//!   history.csv      one row per finished epoch, columns:
//!                    epoch, lr (at the epoch's last step), train_loss (mean of the remedy's
//!                    loss over the epoch's steps), val_loss (cross-entropy on validation, the
//!                    same for every remedy), val_accuracy, val_balanced_accuracy,
//!                    val_pr_auc (AP of the positive class; macro one-vs-rest AP for multi-class;
//!                    the early-stopping metric; empty when undefined), val_roc_auc,
//!                    then per class c (label order): val_precision_<c>, val_recall_<c>,
//!                    val_f1_<c> (at argmax), then time_s (wall seconds of the epoch, validation
//!                    included), peak_memory_mb (VmHWM, empty off Linux)
//!   checkpoint/      last/{model.bpk, optim.bpk, state.json}, best/{model.bpk, state.json}:
//!                    Burn records (burnpack) and TrainState (epoch, best epoch/score, history);
//!                    each folder replaced as a whole (written as *.tmp, then renamed)
//!   metrics.json     FinalMetrics: {"positive", "class_names", "evaluated_epoch", "epochs_run",
//!                    "stopped" ("completed" | "early-stop"), "time_per_epoch_s",
//!                    "test_pr_auc", "test_roc_auc", "test_ece" (15 bins, top-label),
//!                    "test_brier", "tuned": Tuned|null (threshold from validation),
//!                    "rules": {"argmax": RuleMetrics, "tuned": RuleMetrics (binary only)}}
//!                    RuleMetrics: rule, threshold, objective, accuracy, balanced_accuracy, mcc,
//!                    macro_f1, per_class [{name, precision, recall, f1, support}],
//!                    confusion_matrix (rows true, columns predicted), report_text
//!   report.txt       per rule: the scikit-learn classification report and the confusion matrix
//!   curves/pr.csv    class,precision,recall,threshold   (binary: the positive class only;
//!                    multi-class: every class one-vs-rest)
//!   curves/roc.csv   class,fpr,tpr,threshold
//!   curves/calibration.csv  lower,upper,count,mean_confidence,accuracy (15 bins, top-label)
//!   report.html      tables and plots of the run (crate::report), from the files above
//!   predictions.csv  the test split in `focal eval --predictions` format:
//!                    y_true,y_pred,p_0,...,p_{C-1}  (y_pred = argmax; probabilities to 6 digits)
//! ```

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use focal_metrics::calibration::reliability_diagram;
use focal_metrics::ranking::{precision_recall_curve, roc_curve};

use crate::TrainConfig;
use crate::data::{PreparedData, TaskRecord};
use crate::error::TrainError;
use crate::evaluate::{Predictions, RuleMetrics, Tuned};
use crate::model::pretrained::PretrainedReport;

/// Number of bins of the calibration curve and ECE.
pub const CALIBRATION_BINS: usize = 15;

/// `config.json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunConfig {
    /// The focal version that wrote the run.
    pub focal_version: String,
    /// Training settings.
    pub train: TrainConfig,
    /// How the task was built.
    pub task: TaskRecord,
    /// Fingerprint of the task's data set.
    pub data_fingerprint: String,
    /// Number of classes.
    pub n_classes: usize,
    /// Class names of the task.
    pub class_names: Vec<String>,
    /// The positive class (binary tasks).
    pub positive: Option<usize>,
    /// Class counts per split.
    pub class_counts: SplitCounts,
    /// Class counts of the training data after the remedy's data side.
    pub train_counts_after_remedy: Vec<usize>,
    /// What loading pretrained weights did.
    pub pretrained: Option<PretrainedReport>,
}

/// Class counts of each split.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SplitCounts {
    /// Training split.
    pub train: Vec<usize>,
    /// Validation split.
    pub val: Vec<usize>,
    /// Test split.
    pub test: Vec<usize>,
}

/// One row of `history.csv`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochRecord {
    /// Epoch, 1-based.
    pub epoch: usize,
    /// Learning rate at the last step.
    pub lr: f64,
    /// Mean training loss (the remedy's loss).
    pub train_loss: f64,
    /// Validation cross-entropy.
    pub val_loss: f64,
    /// Validation accuracy (argmax).
    pub val_accuracy: f64,
    /// Validation balanced accuracy (argmax).
    pub val_balanced_accuracy: f64,
    /// Validation AP of the positive class (macro OvR for multi-class).
    pub val_pr_auc: Option<f64>,
    /// Validation ROC AUC.
    pub val_roc_auc: Option<f64>,
    /// Per class (label order): precision, recall, F1 on validation at argmax.
    pub val_per_class: Vec<[f64; 3]>,
    /// Wall seconds of the epoch.
    pub time_s: f64,
    /// Peak resident memory so far, MiB.
    pub peak_memory_mb: Option<f64>,
}

/// `metrics.json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FinalMetrics {
    /// The positive class (binary tasks).
    pub positive: Option<usize>,
    /// Class names.
    pub class_names: Vec<String>,
    /// The epoch whose model was evaluated.
    pub evaluated_epoch: usize,
    /// Epochs trained.
    pub epochs_run: usize,
    /// `completed` or `early-stop`.
    pub stopped: String,
    /// Mean wall seconds per epoch.
    pub time_per_epoch_s: f64,
    /// Test AP of the positive class (macro OvR for multi-class).
    pub test_pr_auc: Option<f64>,
    /// Test ROC AUC.
    pub test_roc_auc: Option<f64>,
    /// Test expected calibration error (top-label, 15 bins).
    pub test_ece: Option<f64>,
    /// Test Brier score of the positive class (binary tasks).
    pub test_brier: Option<f64>,
    /// The threshold tuned on validation (binary tasks).
    pub tuned: Option<Tuned>,
    /// Test metrics at each decision rule.
    pub rules: std::collections::BTreeMap<String, RuleMetrics>,
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, synced, renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = fs::File::create(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| TrainError::io(&tmp, e))?;
    f.sync_all().map_err(|e| TrainError::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| TrainError::io(path, e))
}

/// Writes `value` as pretty JSON, atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), TrainError> {
    let mut s = serde_json::to_string_pretty(value).map_err(|e| TrainError::format(path, e))?;
    s.push('\n');
    write_atomic(path, s.as_bytes())
}

/// Reads a JSON file.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, TrainError> {
    let s = fs::read_to_string(path).map_err(|e| TrainError::io(path, e))?;
    serde_json::from_str(&s).map_err(|e| TrainError::format(path, e))
}

fn csv_bytes(path: &Path, header: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>, TrainError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)
        .map_err(|e| TrainError::format(path, e))?;
    for r in rows {
        w.write_record(r).map_err(|e| TrainError::format(path, e))?;
    }
    w.into_inner()
        .map_err(|e| TrainError::format(path, e.to_string()))
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(String::new, |x| x.to_string())
}

/// Writes `history.csv`.
pub fn write_history(
    dir: &Path,
    class_names: &[String],
    history: &[EpochRecord],
) -> Result<(), TrainError> {
    let path = dir.join("history.csv");
    let mut header: Vec<String> = [
        "epoch",
        "lr",
        "train_loss",
        "val_loss",
        "val_accuracy",
        "val_balanced_accuracy",
        "val_pr_auc",
        "val_roc_auc",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for c in 0..class_names.len() {
        header.extend([
            format!("val_precision_{c}"),
            format!("val_recall_{c}"),
            format!("val_f1_{c}"),
        ]);
    }
    header.extend(["time_s".to_string(), "peak_memory_mb".to_string()]);
    let rows: Vec<Vec<String>> = history
        .iter()
        .map(|h| {
            let mut r = vec![
                h.epoch.to_string(),
                h.lr.to_string(),
                h.train_loss.to_string(),
                h.val_loss.to_string(),
                h.val_accuracy.to_string(),
                h.val_balanced_accuracy.to_string(),
                opt(h.val_pr_auc),
                opt(h.val_roc_auc),
            ];
            for pc in &h.val_per_class {
                r.extend(pc.iter().map(|v| v.to_string()));
            }
            r.push(format!("{:.3}", h.time_s));
            r.push(
                h.peak_memory_mb
                    .map_or_else(String::new, |m| format!("{m:.1}")),
            );
            r
        })
        .collect();
    write_atomic(&path, &csv_bytes(&path, &header, &rows)?)
}

/// Writes `predictions.csv` (`y_true,y_pred,p_0,...`), `y_pred` the argmax.
pub fn write_predictions(dir: &Path, test: &Predictions) -> Result<(), TrainError> {
    let path = dir.join("predictions.csv");
    let mut header = vec!["y_true".to_string(), "y_pred".to_string()];
    header.extend((0..test.n_classes).map(|c| format!("p_{c}")));
    let pred = test.argmax();
    let rows: Vec<Vec<String>> = (0..test.len())
        .map(|i| {
            let mut r = vec![test.y_true[i].to_string(), pred[i].to_string()];
            r.extend(test.row(i).iter().map(|p| format!("{p:.6}")));
            r
        })
        .collect();
    write_atomic(&path, &csv_bytes(&path, &header, &rows)?)
}

/// Writes `curves/pr.csv`, `curves/roc.csv` and `curves/calibration.csv`.
pub fn write_curves(
    dir: &Path,
    test: &Predictions,
    positive: Option<usize>,
) -> Result<(), TrainError> {
    let classes: Vec<usize> = match positive {
        Some(p) => vec![p],
        None => (0..test.n_classes).collect(),
    };
    let (mut pr_rows, mut roc_rows) = (Vec::new(), Vec::new());
    for &c in &classes {
        let y: Vec<bool> = test.y_true.iter().map(|&l| l == c).collect();
        let s = test.scores(c);
        if let Ok(pr) = precision_recall_curve(&y, &s) {
            for i in 0..pr.precision.len() {
                pr_rows.push(vec![
                    c.to_string(),
                    pr.precision[i].to_string(),
                    pr.recall[i].to_string(),
                    pr.thresholds
                        .get(i)
                        .map_or_else(String::new, |t| t.to_string()),
                ]);
            }
        }
        if let Ok(roc) = roc_curve(&y, &s) {
            for i in 0..roc.fpr.len() {
                roc_rows.push(vec![
                    c.to_string(),
                    roc.fpr[i].to_string(),
                    roc.tpr[i].to_string(),
                    roc.thresholds
                        .get(i)
                        .map_or_else(String::new, |t| t.to_string()),
                ]);
            }
        }
    }
    let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let p = dir.join("curves/pr.csv");
    write_atomic(
        &p,
        &csv_bytes(
            &p,
            &h(&["class", "precision", "recall", "threshold"]),
            &pr_rows,
        )?,
    )?;
    let p = dir.join("curves/roc.csv");
    write_atomic(
        &p,
        &csv_bytes(&p, &h(&["class", "fpr", "tpr", "threshold"]), &roc_rows)?,
    )?;
    let (outcomes, conf) = top_label(test);
    let bins = reliability_diagram(&outcomes, &conf, CALIBRATION_BINS)?;
    let rows: Vec<Vec<String>> = bins
        .iter()
        .map(|b| {
            vec![
                b.lower.to_string(),
                b.upper.to_string(),
                b.count.to_string(),
                b.mean_confidence.to_string(),
                b.accuracy.to_string(),
            ]
        })
        .collect();
    let p = dir.join("curves/calibration.csv");
    write_atomic(
        &p,
        &csv_bytes(
            &p,
            &h(&["lower", "upper", "count", "mean_confidence", "accuracy"]),
            &rows,
        )?,
    )
}

/// Top-label calibration data: whether the argmax is right, and its probability.
pub fn top_label(test: &Predictions) -> (Vec<bool>, Vec<f64>) {
    let pred = test.argmax();
    let outcomes = pred.iter().zip(&test.y_true).map(|(p, t)| p == t).collect();
    let conf = (0..test.len())
        .map(|i| test.row(i)[pred[i]] as f64)
        .collect();
    (outcomes, conf)
}

/// Writes `report.txt`: per rule, the classification report and the confusion matrix.
pub fn write_report(dir: &Path, metrics: &FinalMetrics) -> Result<(), TrainError> {
    write_atomic(&dir.join("report.txt"), render_report(metrics).as_bytes())
}

/// The text of `report.txt` (also what `focal train` prints).
pub fn render_report(metrics: &FinalMetrics) -> String {
    let mut s = String::new();
    for key in ["argmax", "tuned"] {
        let Some(m) = metrics.rules.get(key) else {
            continue;
        };
        let title = match (key, m.threshold) {
            ("tuned", Some(t)) => format!(
                "test, threshold {t:.4} on P({}) tuned on validation ({})",
                metrics
                    .positive
                    .map_or(String::new(), |p| metrics.class_names[p].clone()),
                m.objective.clone().unwrap_or_default()
            ),
            _ => "test, argmax".to_string(),
        };
        s.push_str(&format!("== {title}\n\n{}\n", m.report_text));
        s.push_str(&format!(
            "balanced accuracy {:.4}  MCC {:.4}  PR-AUC {}\n\nconfusion matrix (rows true, columns predicted):\n",
            m.balanced_accuracy,
            m.mcc,
            metrics.test_pr_auc.map_or("n/a".to_string(), |v| format!("{v:.4}"))
        ));
        let width = metrics
            .class_names
            .iter()
            .map(|n| n.len())
            .max()
            .unwrap_or(1)
            .max(6);
        s.push_str(&format!("{:>width$}", ""));
        for c in 0..metrics.class_names.len() {
            s.push_str(&format!(" {:>8}", c));
        }
        s.push('\n');
        for (c, row) in m.confusion_matrix.iter().enumerate() {
            s.push_str(&format!("{:>width$}", metrics.class_names[c]));
            for v in row {
                s.push_str(&format!(" {v:>8}"));
            }
            s.push('\n');
        }
        s.push('\n');
    }
    s
}

/// A fresh run folder under `out` named `name`, or `<name>-2`, `<name>-3`... when taken.
pub fn fresh_run_dir(out: &Path, name: &str) -> Result<PathBuf, TrainError> {
    fs::create_dir_all(out).map_err(|e| TrainError::io(out, e))?;
    for i in 1.. {
        let dir = if i == 1 {
            out.join(name)
        } else {
            out.join(format!("{name}-{i}"))
        };
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(TrainError::io(&dir, e)),
        }
    }
    unreachable!("the loop above returns")
}

/// Writes `split.json`.
pub fn write_split(dir: &Path, data: &PreparedData) -> Result<(), TrainError> {
    write_json(&dir.join("split.json"), &data.splits)
}
