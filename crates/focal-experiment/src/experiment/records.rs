//! The records of an experiment: its plans, each seed's results, the entries and the
//! comparison, as `comparison.json` holds them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use focal_train::{DecisionRule, TrainConfig};

/// One entry of an experiment: a label and the training configuration (its seed is replaced
/// by each of the experiment's seeds).
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Name of the entry in tables and folder names (e.g. `focal` or `gamma=2`).
    pub label: String,
    /// The configuration.
    pub config: TrainConfig,
}

/// Test metrics of one run at one decision rule, for the minority (positive) class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleSummary {
    /// Decision threshold on P(positive), when not argmax.
    pub threshold: Option<f64>,
    /// Accuracy.
    pub accuracy: f64,
    /// Recall of the minority class.
    pub minority_recall: f64,
    /// Precision of the minority class.
    pub minority_precision: f64,
    /// F1 of the minority class.
    pub minority_f1: f64,
    /// Balanced accuracy.
    pub balanced_accuracy: f64,
    /// Matthews correlation coefficient.
    pub mcc: f64,
    /// Bootstrap 95% interval `[low, high]` of the minority class's F1 on the test split
    /// (binary runs; absent in runs written before intervals were computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minority_f1_interval: Option<[f64; 2]>,
}

/// The numbers of one run (one entry, one seed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedResult {
    /// The training seed.
    pub seed: u64,
    /// The run folder, relative to the experiment folder.
    pub run_dir: String,
    /// Mean wall seconds per training epoch (validation included).
    pub time_per_epoch_s: f64,
    /// Test average precision of the minority class (macro one-vs-rest for multi-class).
    pub pr_auc: Option<f64>,
    /// Test ROC AUC.
    pub roc_auc: Option<f64>,
    /// Validation PR-AUC of the evaluated epoch (what a sweep chooses by).
    pub val_pr_auc: Option<f64>,
    /// Validation F1 of the minority class at the evaluated epoch.
    pub val_minority_f1: Option<f64>,
    /// Test metrics per decision rule.
    pub rules: BTreeMap<DecisionRule, RuleSummary>,
    /// Bootstrap 95% interval `[low, high]` of the test PR-AUC (binary runs; absent in runs
    /// written before intervals were computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr_auc_interval: Option<[f64; 2]>,
}

/// One entry of an experiment with its runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Label (remedy name, or sweep setting).
    pub label: String,
    /// The remedy with its resolved parameters.
    pub remedy: String,
    /// One result per seed (per group of K seeds for an ensemble; its `run_dir` then joins
    /// the group's run folders with `+`).
    pub seeds: Vec<SeedResult>,
    /// For an ensemble row (`focal compare --ensemble K`): K, the models averaged per result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensemble_of: Option<usize>,
}

/// One stage of a sweep: the chosen metric over one parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepStage {
    /// `gamma`, `alpha` or `gamma x alpha`.
    pub parameter: String,
    /// Labels of the settings tried, in order.
    pub settings: Vec<String>,
    /// `(x, mean validation metric)`; x is the parameter value when numeric, else its position.
    pub points: Vec<(f64, f64)>,
    /// The setting chosen (best mean validation metric).
    pub chosen: String,
}

/// What a sweep tried and chose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepInfo {
    /// The validation metric that chooses (`val_pr_auc` or `val_minority_f1`).
    pub metric: SweepMetric,
    /// The stages, in order (gamma, then alpha; or one grid stage).
    pub stages: Vec<SweepStage>,
}

/// The task an experiment ran on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSummary {
    /// Where the data came from.
    pub source: String,
    /// Class names of the task.
    pub class_names: Vec<String>,
    /// The minority (positive) class.
    pub minority: usize,
    /// Class counts of the train, validation and test splits.
    pub counts: [Vec<usize>; 3],
    /// Model, epochs, batch size, learning rate, optimizer.
    pub budget: String,
}

/// `comparison.json`: everything behind the tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Title of the report.
    pub title: String,
    /// The task and budget.
    pub task: TaskSummary,
    /// The training seeds.
    pub seeds: Vec<u64>,
    /// The entries, in the order they were asked for.
    pub entries: Vec<Entry>,
    /// Sweep stages, for a sweep.
    pub sweep: Option<SweepInfo>,
}

/// Mean and sample standard deviation (n - 1 in the denominator) of some values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation; 0 for a single value.
    pub std: f64,
    /// Number of values.
    pub n: usize,
}

impl Stat {
    /// Mean and spread of `values`; `None` when empty or when a value is undefined.
    pub fn of(values: &[Option<f64>]) -> Option<Stat> {
        let values: Vec<f64> = values.iter().copied().collect::<Option<Vec<f64>>>()?;
        if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let std = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Some(Stat { mean, std, n })
    }
}

/// The validation metric a sweep chooses by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SweepMetric {
    /// Validation average precision of the minority class.
    ValPrAuc,
    /// Validation F1 of the minority class (argmax).
    ValMinorityF1,
}

impl SweepMetric {
    /// The name used in tables and `comparison.json`.
    pub fn name(self) -> &'static str {
        match self {
            SweepMetric::ValPrAuc => "val_pr_auc",
            SweepMetric::ValMinorityF1 => "val_minority_f1",
        }
    }

    /// The metric of `s`.
    pub(crate) fn of(self, s: &SeedResult) -> Option<f64> {
        match self {
            SweepMetric::ValPrAuc => s.val_pr_auc,
            SweepMetric::ValMinorityF1 => s.val_minority_f1,
        }
    }
}

impl std::fmt::Display for SweepMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
