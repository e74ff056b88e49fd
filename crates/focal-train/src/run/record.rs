//! The JSON records of a run folder: `config.json` ([`RunConfig`]), `metrics.json`
//! ([`FinalMetrics`]), `split.json`, and one epoch of `history.csv` ([`EpochRecord`]).

use std::path::Path;

use crate::config::TrainConfig;
use crate::data::{InputNormalization, PreparedData, TaskKind, TaskRecord, minority_class};
use crate::error::TrainError;
use crate::evaluate::{DecisionRule, RuleMetrics, Tuned};
use crate::model::pretrained::PretrainedReport;
use crate::run::files::{read_json, write_json};

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
    /// What a run that froze part of its pretrained weights froze, trained and cached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<crate::finetune::TransferRecord>,
    /// How a sample enters the model; absent in runs written before it was recorded (then
    /// rebuilt from the run's data).
    #[serde(default)]
    pub preprocessing: Option<Preprocessing>,
}

impl RunConfig {
    /// What the run's task is: binary with its positive class, or multi-class with its
    /// minority.
    pub fn kind(&self) -> TaskKind {
        TaskKind::new(self.positive, &self.class_counts.train)
    }
}

/// How a sample enters the model: its shape, and the standardisation fitted on the training
/// split. With the task's image size, what `predict` needs to treat new data as the run did.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Preprocessing {
    /// The shape of one sample (channels and size of an image, or the feature count).
    pub sample: focal_data::SampleKind,
    /// Mean and standard deviation per channel (images) or feature (rows).
    pub normalization: focal_data::batcher::Normalization,
    /// Where `normalization` comes from: the training split, or ImageNet's (pretrained
    /// weights; the images then RGB). Runs written before it was recorded: the training split.
    #[serde(default)]
    pub input_normalization: InputNormalization,
}

/// Temperature scaling of a run (Guo et al. 2017): `T` fitted on validation logits by NLL,
/// whether the run's probabilities (predictions.csv, the tuned threshold, `predict`) use it, and
/// the calibration before and after, on validation (the `auto` rule's evidence) and test.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CalibrationRecord {
    /// The fitted temperature.
    pub temperature: f64,
    /// Whether the probabilities are `softmax(logits / temperature)`.
    pub applied: bool,
    /// Top-label ECE on validation at T = 1.
    pub val_ece_before: f64,
    /// Top-label ECE on validation at the fitted T.
    pub val_ece_after: f64,
    /// Top-label ECE on test at T = 1.
    pub test_ece_before: Option<f64>,
    /// Top-label ECE on test at the fitted T.
    pub test_ece_after: Option<f64>,
    /// Brier score of the positive class on test at T = 1 (binary tasks).
    pub test_brier_before: Option<f64>,
    /// Brier score of the positive class on test at the fitted T (binary tasks).
    pub test_brier_after: Option<f64>,
}

impl FinalMetrics {
    /// The temperature the run's probabilities are computed with, if it applied one.
    pub fn temperature(&self) -> Option<f64> {
        self.calibration
            .as_ref()
            .filter(|c| c.applied)
            .map(|c| c.temperature)
    }
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

impl EpochRecord {
    /// The line a progress display prints after the epoch (of `epochs`): losses, validation
    /// PR-AUC, and the precision, recall and F1 (at argmax) of class `class` (the positive class
    /// of a binary task, the rarest otherwise), named `name`.
    pub fn line(&self, epochs: usize, class: usize, name: &str) -> String {
        let prf = self.val_per_class.get(class).map_or_else(
            || "n/a".to_string(),
            |[p, rc, f1]| format!("P {p:.3} R {rc:.3} F1 {f1:.3}"),
        );
        format!(
            "epoch {}/{}  train loss {:.4}  val loss {:.4}  val PR-AUC {}  val {name}: {prf}  {:.1}s",
            self.epoch,
            epochs,
            self.train_loss,
            self.val_loss,
            self.val_pr_auc.map_or("n/a".into(), |v| format!("{v:.4}")),
            self.time_s
        )
    }
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
    /// Why training ended.
    pub stopped: StopReason,
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
    /// Temperature scaling fitted on validation, with ECE and Brier before and after; absent
    /// when the run did not calibrate (and in runs written before calibration existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<CalibrationRecord>,
    /// Bootstrap 95% intervals of the test PR-AUC and of the positive class's F1 at each
    /// decision rule (binary tasks; absent in runs written before they were computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intervals: Option<TestIntervals>,
    /// Test metrics at each decision rule.
    pub rules: std::collections::BTreeMap<DecisionRule, RuleMetrics>,
}

/// Bootstrap percentile intervals (95%) of a binary run's test metrics: the test split resampled
/// with replacement `resamples` times, seeded by the run's seed
/// ([`focal_metrics::bootstrap`]). They say how far a figure could move on another test split
/// of the same size; small splits (a few dozen positives) move a lot.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TestIntervals {
    /// Resamples drawn.
    pub resamples: usize,
    /// Seed of the resampling.
    pub seed: u64,
    /// Average precision (PR-AUC) of the positive class.
    pub pr_auc: focal_metrics::bootstrap::Interval,
    /// F1 of the positive class at each decision rule.
    pub f1: std::collections::BTreeMap<
        crate::evaluate::DecisionRule,
        focal_metrics::bootstrap::Interval,
    >,
}

/// Why training ended (`metrics.json`'s `stopped`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// Every epoch ran.
    Completed,
    /// Validation PR-AUC stopped improving.
    EarlyStop,
}

impl StopReason {
    /// The name in `metrics.json`.
    pub fn name(self) -> &'static str {
        match self {
            StopReason::Completed => "completed",
            StopReason::EarlyStop => "early-stop",
        }
    }
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Writes `split.json`.
pub fn write_split(dir: &Path, data: &PreparedData) -> Result<(), TrainError> {
    write_json(
        &dir.join("split.json"),
        &SplitRecord {
            splits: data.splits.clone(),
            groups: data.dataset.split_groups(&data.splits),
        },
    )
}

/// `split.json`: the sample indices of each split and, when the data have groups (patients),
/// the groups each split holds (no group is in two).
#[derive(serde::Serialize, serde::Deserialize)]
struct SplitRecord {
    #[serde(flatten)]
    splits: focal_data::Splits,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    groups: Option<focal_data::SplitGroups>,
}

/// Reads a run's `config.json` (the minority class filled in for runs written before it was
/// recorded).
pub fn read_config(run_dir: &Path) -> Result<RunConfig, TrainError> {
    let mut rc: RunConfig = read_json(&run_dir.join(crate::run::folder::CONFIG_FILE))?;
    if rc.task.minority.is_none() {
        rc.task.minority = Some(minority_class(rc.positive, &rc.class_counts.train));
    }
    Ok(rc)
}

/// Writes a run's `config.json`.
pub fn write_config(run_dir: &Path, config: &RunConfig) -> Result<(), TrainError> {
    write_json(&run_dir.join(crate::run::folder::CONFIG_FILE), config)
}

/// Reads a run's `split.json`.
pub fn read_split(run_dir: &Path) -> Result<focal_data::Splits, TrainError> {
    let record: SplitRecord = read_json(&run_dir.join("split.json"))?;
    Ok(record.splits)
}

/// Reads a run's `metrics.json`.
pub fn read_metrics(run_dir: &Path) -> Result<FinalMetrics, TrainError> {
    read_json(&run_dir.join(crate::run::folder::METRICS_FILE))
}
