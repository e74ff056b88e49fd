//! Metrics of a split from predicted probabilities, at each decision rule.

use focal_metrics::ranking::{
    average_precision, macro_average_precision_ovr, macro_roc_auc_ovr, roc_auc,
};
use focal_metrics::threshold::{Objective, tune_threshold};
use focal_metrics::{
    ClassificationReport, ConfusionMatrix, ReportOptions, balanced_accuracy, matthews_corrcoef,
};

use crate::error::TrainError;
use crate::setting::Setting;
use crate::value::Threshold;

/// How a prediction is made from probabilities: the one decision-rule type of training
/// (`metrics.json` holds the test metrics at [`DecisionRule::TRAINED`]), `eval` and `predict`.
///
/// Written as `argmax`, `tuned`, or the threshold's number; read back the same way.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum DecisionRule {
    /// The most probable class.
    Argmax,
    /// A threshold on P(positive) tuned on validation (binary tasks).
    Tuned,
    /// The positive class when its probability reaches this threshold (binary tasks).
    Threshold(Threshold),
}

impl DecisionRule {
    /// The rules every run is judged at, in report order (the tuned one on binary tasks).
    pub const TRAINED: [DecisionRule; 2] = [DecisionRule::Argmax, DecisionRule::Tuned];

    /// The rule's name in `metrics.json`, tables and `eval`'s JSON: `argmax`, `tuned`,
    /// `threshold`.
    pub fn name(self) -> &'static str {
        match self {
            DecisionRule::Argmax => "argmax",
            DecisionRule::Tuned => "tuned",
            DecisionRule::Threshold(_) => "threshold",
        }
    }

    /// Whether the rule thresholds the positive class's probability (and so needs a binary
    /// task).
    pub fn thresholds(self) -> bool {
        !matches!(self, DecisionRule::Argmax)
    }

    fn order(self) -> (u8, u64) {
        match self {
            DecisionRule::Argmax => (0, 0),
            DecisionRule::Tuned => (1, 0),
            DecisionRule::Threshold(t) => (2, t.get().to_bits()),
        }
    }
}

impl Eq for DecisionRule {}

impl PartialOrd for DecisionRule {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DecisionRule {
    /// Argmax, tuned, then thresholds (by their bits: thresholds are in [0, 1], so by value).
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.order().cmp(&other.order())
    }
}

impl std::hash::Hash for DecisionRule {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.order().hash(state);
    }
}

impl std::fmt::Display for DecisionRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecisionRule::Threshold(t) => write!(f, "{t}"),
            r => f.write_str(r.name()),
        }
    }
}

impl std::str::FromStr for DecisionRule {
    type Err = TrainError;

    /// `argmax`, `tuned`, or a threshold in `[0, 1]`.
    fn from_str(s: &str) -> Result<Self, TrainError> {
        match s.trim() {
            "argmax" => Ok(DecisionRule::Argmax),
            "tuned" => Ok(DecisionRule::Tuned),
            t => match t.parse::<f64>().ok().map(Threshold::new) {
                Some(Ok(t)) => Ok(DecisionRule::Threshold(t)),
                _ => Err(TrainError::out_of_range(
                    Setting::Rule,
                    s,
                    "give argmax, tuned, or a threshold between 0 and 1",
                )),
            },
        }
    }
}

impl From<DecisionRule> for String {
    fn from(r: DecisionRule) -> String {
        r.to_string()
    }
}

impl TryFrom<String> for DecisionRule {
    type Error = TrainError;
    fn try_from(s: String) -> Result<Self, TrainError> {
        s.parse()
    }
}

/// What a threshold is tuned for on validation; recorded as `f1` or `recall>=R`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum ThresholdObjective {
    /// The best F1 of the positive class.
    F1,
    /// The best precision among thresholds reaching this recall.
    TargetRecall(f64),
}

impl std::fmt::Display for ThresholdObjective {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ThresholdObjective::F1 => f.write_str("f1"),
            ThresholdObjective::TargetRecall(r) => write!(f, "recall>={r}"),
        }
    }
}

impl From<ThresholdObjective> for String {
    fn from(o: ThresholdObjective) -> String {
        o.to_string()
    }
}

impl TryFrom<String> for ThresholdObjective {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s == "f1" {
            return Ok(ThresholdObjective::F1);
        }
        s.strip_prefix("recall>=")
            .and_then(|r| r.parse().ok())
            .map(ThresholdObjective::TargetRecall)
            .ok_or_else(|| format!("unknown threshold objective {s:?}; expected f1 or recall>=R"))
    }
}

impl ThresholdObjective {
    /// Best F1, or the target recall when one is given.
    pub fn from_target_recall(target_recall: Option<f64>) -> Self {
        target_recall.map_or(ThresholdObjective::F1, ThresholdObjective::TargetRecall)
    }
}

/// Probabilities of one split: `probs[i * n_classes + c]` = P(class c | sample i).
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    /// True labels.
    pub y_true: Vec<usize>,
    /// Softmax probabilities, row-major `[n, n_classes]`.
    pub probs: Vec<f32>,
    /// Number of classes.
    pub n_classes: usize,
}

impl Predictions {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.y_true.len()
    }

    /// Whether there is no sample.
    pub fn is_empty(&self) -> bool {
        self.y_true.is_empty()
    }

    /// Probabilities of sample `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.probs[i * self.n_classes..(i + 1) * self.n_classes]
    }

    /// The most probable class of each sample (lowest index on ties, as numpy's argmax).
    pub fn argmax(&self) -> Vec<usize> {
        (0..self.len())
            .map(|i| {
                let r = self.row(i);
                let mut best = 0;
                for (c, &p) in r.iter().enumerate() {
                    if p > r[best] {
                        best = c;
                    }
                }
                best
            })
            .collect()
    }

    /// P(class `c`) of every sample, as f64.
    pub fn scores(&self, c: usize) -> Vec<f64> {
        (0..self.len()).map(|i| self.row(i)[c] as f64).collect()
    }

    /// Predicted labels of a binary task at `threshold` on P(`positive`).
    pub fn at_threshold(&self, positive: usize, threshold: f64) -> Vec<usize> {
        let other = if positive == 0 { 1 } else { 0 };
        self.scores(positive)
            .into_iter()
            .map(|s| if s >= threshold { positive } else { other })
            .collect()
    }

    /// Mean cross-entropy `-log p(y)` (probabilities clamped at 1e-12).
    pub fn cross_entropy(&self) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        let s: f64 = (0..self.len())
            .map(|i| -(self.row(i)[self.y_true[i]].max(1e-12) as f64).ln())
            .sum();
        s / self.len() as f64
    }

    /// The ranking score used for early stopping and `pr_auc`: average precision of the
    /// positive class (binary), or the macro one-vs-rest average precision (multi-class).
    /// `None` when undefined (no positive sample).
    pub fn pr_auc(&self, positive: Option<usize>) -> Option<f64> {
        match positive {
            Some(p) => {
                let y: Vec<bool> = self.y_true.iter().map(|&l| l == p).collect();
                average_precision(&y, &self.scores(p)).ok()
            }
            None => {
                let probs: Vec<f64> = self.probs.iter().map(|&p| p as f64).collect();
                macro_average_precision_ovr(&self.y_true, &probs, self.n_classes).ok()
            }
        }
    }

    /// ROC AUC of the positive class (binary) or macro one-vs-rest; `None` when undefined.
    pub fn roc_auc(&self, positive: Option<usize>) -> Option<f64> {
        match positive {
            Some(p) => {
                let y: Vec<bool> = self.y_true.iter().map(|&l| l == p).collect();
                roc_auc(&y, &self.scores(p)).ok()
            }
            None => {
                let probs: Vec<f64> = self.probs.iter().map(|&p| p as f64).collect();
                macro_roc_auc_ovr(&self.y_true, &probs, self.n_classes).ok()
            }
        }
    }
}

/// Per-class precision, recall, F1 and support.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassScores {
    /// Class name.
    pub name: String,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
    /// Number of true samples.
    pub support: u64,
}

/// The metrics of one decision rule on one split.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RuleMetrics {
    /// The decision rule.
    pub rule: DecisionRule,
    /// The threshold on P(positive) (tuned rule), `None` for argmax.
    pub threshold: Option<f64>,
    /// What the threshold was tuned for on validation.
    pub objective: Option<ThresholdObjective>,
    /// Accuracy.
    pub accuracy: f64,
    /// Balanced accuracy (mean recall).
    pub balanced_accuracy: f64,
    /// Matthews correlation coefficient.
    pub mcc: f64,
    /// Macro-averaged F1.
    pub macro_f1: f64,
    /// Per class, indexed by label.
    pub per_class: Vec<ClassScores>,
    /// Confusion matrix, rows = true label, columns = predicted label.
    pub confusion_matrix: Vec<Vec<u64>>,
    /// scikit-learn's text report.
    pub report_text: String,
}

impl RuleMetrics {
    /// The metrics of predictions `y_pred` against `y_true`.
    pub fn new(
        rule: DecisionRule,
        y_true: &[usize],
        y_pred: &[usize],
        class_names: &[String],
        threshold: Option<f64>,
        objective: Option<ThresholdObjective>,
    ) -> Result<Self, TrainError> {
        let n = class_names.len();
        let cm = ConfusionMatrix::new(y_true, y_pred, n)?;
        let options = ReportOptions {
            target_names: Some(class_names.to_vec()),
            ..ReportOptions::default()
        };
        let report = ClassificationReport::from_confusion(&cm, &options)?;
        let per_class = (0..n)
            .map(|c| {
                let m = report.class(c);
                ClassScores {
                    name: class_names[c].clone(),
                    precision: m.map_or(0.0, |m| m.precision),
                    recall: m.map_or(0.0, |m| m.recall),
                    f1: m.map_or(0.0, |m| m.f1),
                    support: m.map_or(0, |m| m.support),
                }
            })
            .collect();
        Ok(RuleMetrics {
            rule,
            threshold,
            objective,
            accuracy: cm.accuracy(),
            balanced_accuracy: balanced_accuracy(&cm),
            mcc: matthews_corrcoef(&cm),
            macro_f1: report.macro_avg().f1,
            per_class,
            confusion_matrix: cm.rows(),
            report_text: report.to_string(),
        })
    }
}

/// The per-epoch validation scores at argmax: no text report rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochScores {
    /// Accuracy.
    pub accuracy: f64,
    /// Balanced accuracy.
    pub balanced_accuracy: f64,
    /// Per class: precision, recall, F1.
    pub per_class: Vec<[f64; 3]>,
}

/// Accuracy, balanced accuracy and per-class precision/recall/F1 of `y_pred` against
/// `y_true` (the numbers of [`RuleMetrics`], without its text report).
pub fn epoch_scores(
    y_true: &[usize],
    y_pred: &[usize],
    n_classes: usize,
) -> Result<EpochScores, TrainError> {
    let cm = ConfusionMatrix::new(y_true, y_pred, n_classes)?;
    let report = ClassificationReport::from_confusion(&cm, &ReportOptions::default())?;
    Ok(EpochScores {
        accuracy: cm.accuracy(),
        balanced_accuracy: balanced_accuracy(&cm),
        per_class: (0..n_classes)
            .map(|c| {
                report
                    .class(c)
                    .map_or([0.0; 3], |m| [m.precision, m.recall, m.f1])
            })
            .collect(),
    })
}

/// A threshold on P(positive) tuned on validation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tuned {
    /// The threshold.
    pub threshold: f64,
    /// What it was tuned for.
    pub objective: ThresholdObjective,
    /// F1 of the positive class on validation at the threshold.
    pub val_f1: f64,
    /// Recall of the positive class on validation at the threshold.
    pub val_recall: f64,
    /// Precision of the positive class on validation at the threshold.
    pub val_precision: f64,
}

/// Tunes the threshold on validation predictions: best F1 of the positive class, or the best
/// precision among thresholds reaching `target_recall`.
pub fn tune(
    val: &Predictions,
    positive: usize,
    target_recall: Option<f64>,
) -> Result<Tuned, TrainError> {
    let y: Vec<bool> = val.y_true.iter().map(|&l| l == positive).collect();
    let name = ThresholdObjective::from_target_recall(target_recall);
    let objective = match name {
        ThresholdObjective::TargetRecall(r) => Objective::TargetRecall(r),
        ThresholdObjective::F1 => Objective::F1,
    };
    let t = tune_threshold(&y, &val.scores(positive), objective)?;
    let f1 = if t.precision + t.recall > 0.0 {
        2.0 * t.precision * t.recall / (t.precision + t.recall)
    } else {
        0.0
    };
    Ok(Tuned {
        threshold: t.threshold,
        objective: name,
        val_f1: f1,
        val_recall: t.recall,
        val_precision: t.precision,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preds() -> Predictions {
        // p1 = 0.1, 0.4, 0.35, 0.8 (ANCHORS: AP 0.8333, ROC AUC 0.75)
        Predictions {
            y_true: vec![0, 0, 1, 1],
            probs: vec![0.9, 0.1, 0.6, 0.4, 0.65, 0.35, 0.2, 0.8],
            n_classes: 2,
        }
    }

    #[test]
    fn ranking_scores_match_the_anchors() {
        let p = preds();
        assert!((p.pr_auc(Some(1)).unwrap() - 0.833_333).abs() < 1e-6);
        assert!((p.roc_auc(Some(1)).unwrap() - 0.75).abs() < 1e-12);
        assert_eq!(p.argmax(), vec![0, 0, 0, 1]);
        assert_eq!(p.at_threshold(1, f64::from(0.35f32)), vec![0, 1, 1, 1]);
    }

    #[test]
    fn tuned_threshold_maximises_f1() {
        let t = tune(&preds(), 1, None).unwrap();
        // thresholds: 0.8 -> P 1, R .5, F1 .667; 0.35 -> P 2/3, R 1, F1 .8 (best)
        assert!(
            (t.threshold - 0.35).abs() < 1e-6 && (t.val_f1 - 0.8).abs() < 1e-9,
            "{t:?}"
        );
        let names = vec!["neg".to_string(), "pos".to_string()];
        let m = RuleMetrics::new(
            DecisionRule::Argmax,
            &[0, 0, 1, 1],
            &[0, 0, 0, 1],
            &names,
            None,
            None,
        )
        .unwrap();
        assert_eq!(m.accuracy, 0.75);
        assert_eq!(m.per_class[1].recall, 0.5);
        assert_eq!(m.confusion_matrix, vec![vec![2, 0], vec![1, 1]]);
    }

    #[test]
    fn rules_and_objectives_keep_their_names_in_json() {
        assert_eq!(
            serde_json::to_string(&DecisionRule::Tuned).unwrap(),
            r#""tuned""#
        );
        for o in [
            ThresholdObjective::F1,
            ThresholdObjective::TargetRecall(0.9),
        ] {
            let j = serde_json::to_string(&o).unwrap();
            assert_eq!(serde_json::from_str::<ThresholdObjective>(&j).unwrap(), o);
        }
        assert_eq!(
            serde_json::to_string(&ThresholdObjective::TargetRecall(0.9)).unwrap(),
            r#""recall>=0.9""#
        );
    }
}
