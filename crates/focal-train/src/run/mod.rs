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
//!                    id,y_true,y_pred,p_0,...,p_{C-1}  (id = the sample's row in the source;
//!                    y_pred = argmax; each probability the shortest decimal of its f32)
//! ```
//!
//! Every file format of a run folder is defined in this module and its children
//! (one file per format); the training loop, `focal eval` and the reports read and
//! write them through it.

pub mod checkpoint;
pub mod curves;
pub mod files;
pub mod folder;
pub mod history;
pub mod lock;
pub mod predictions;
pub mod rebuild;
pub mod record;
pub mod text_report;
pub mod tracking;

pub use checkpoint::TrainState;
pub use curves::{CALIBRATION_BINS, top_label, write_curves};
pub use files::{fresh_run_dir, read_json, write_atomic, write_json};
pub use folder::{Folder, check_run, is_complete, is_experiment, is_started};
pub use history::{read_history, run_history, write_history};
pub use predictions::PredictionsFile;
pub use rebuild::{run_data, task_data};
pub use record::{
    CalibrationRecord, EpochRecord, FinalMetrics, Preprocessing, RunConfig, SplitCounts,
    StopReason, read_config, read_metrics, read_split, write_config, write_split,
};
pub use text_report::{render_report, write_report};
