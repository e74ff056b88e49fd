//! Every metric of one set of decisions, in one bundle with one text layout and one JSON
//! form: what `focal eval` prints for any model's predictions and for a trained run alike.

use std::fmt::Write as _;

use serde::Serialize;

use crate::confusion::ConfusionMatrix;
use crate::error::Result;
use crate::imbalanced::{ImbalancedReport, balanced_accuracy, cohen_kappa, matthews_corrcoef};
use crate::ranking::{self, BinaryCurve};
use crate::report::{ClassificationReport, ReportOptions};

/// The ranking metrics of a set of probabilities, or why they were not computed.
#[derive(Debug, Clone, PartialEq)]
pub enum Ranking {
    /// No probabilities were given.
    NoProbabilities,
    /// Not computed, and why (a single class, a class absent from the labels).
    Skipped(String),
    /// Average precision and ROC AUC, and what they rank (`tumour positive`, `macro
    /// one-vs-rest`).
    Computed {
        /// Average precision (PR-AUC).
        average_precision: f64,
        /// Area under the ROC curve.
        roc_auc: f64,
        /// What is ranked.
        kind: String,
    },
}

impl Ranking {
    /// PR-AUC and ROC-AUC of `probs` (row-major `[n, n_classes]`, `None`: no probabilities):
    /// of the class `positive` for two classes, macro one-vs-rest for more; `names` name the
    /// positive class in the description.
    pub fn compute(
        y_true: &[usize],
        probs: Option<&[f64]>,
        n_classes: usize,
        positive: usize,
        names: Option<&[String]>,
    ) -> Result<Self> {
        let Some(probs) = probs else {
            return Ok(Ranking::NoProbabilities);
        };
        if n_classes < 2 {
            return Ok(Ranking::Skipped(
                "a single class has no ranking".to_string(),
            ));
        }
        let mut support = vec![0usize; n_classes];
        for &t in y_true {
            support[t] += 1;
        }
        if let Some(c) = support.iter().position(|&n| n == 0) {
            return Ok(Ranking::Skipped(format!(
                "class {c} never occurs in y_true"
            )));
        }
        if n_classes == 2 {
            let y: Vec<bool> = y_true.iter().map(|&v| v == positive).collect();
            let scores: Vec<f64> = probs.iter().skip(positive).step_by(2).copied().collect();
            let curve = BinaryCurve::new(&y, &scores)?;
            return Ok(Ranking::Computed {
                average_precision: curve.average_precision()?,
                roc_auc: curve.roc_auc()?,
                kind: match names.map(|n| &n[positive]) {
                    Some(name) if *name != positive.to_string() => format!("{name} positive"),
                    _ => format!("class {positive} positive"),
                },
            });
        }
        Ok(Ranking::Computed {
            average_precision: ranking::macro_average_precision_ovr(y_true, probs, n_classes)?,
            roc_auc: ranking::macro_roc_auc_ovr(y_true, probs, n_classes)?,
            kind: "macro one-vs-rest".to_string(),
        })
    }
}

/// Every metric of the decisions `y_pred` against `y_true`: scikit-learn's classification
/// report, the confusion matrix, imbalanced-learn's report, balanced accuracy, MCC, Cohen's
/// kappa, and the ranking metrics of the probabilities behind them.
#[derive(Debug, Clone)]
pub struct Evaluation {
    report: ClassificationReport,
    imbalanced: ImbalancedReport,
    confusion: ConfusionMatrix,
    balanced_accuracy: f64,
    mcc: f64,
    kappa: f64,
    ranking: Ranking,
}

/// The JSON form of an [`Evaluation`].
#[derive(Serialize)]
struct JsonForm<'a> {
    report: &'a ClassificationReport,
    confusion_matrix: &'a ConfusionMatrix,
    balanced_accuracy: f64,
    mcc: f64,
    cohen_kappa: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    average_precision: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    roc_auc: Option<f64>,
    /// What the ranking metrics rank (`class 1 positive`, `macro one-vs-rest`), or why they
    /// were not computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    ranking: Option<String>,
}

impl Evaluation {
    /// The metrics of `y_pred` against `y_true` over `n_classes`: `digits` is the report's
    /// precision, `names` the report's class names, `ranking` the ranking metrics
    /// ([`Ranking::compute`]: they do not depend on the decisions, so callers judging several
    /// decisions compute them once).
    pub fn compute(
        y_true: &[usize],
        y_pred: &[usize],
        n_classes: usize,
        ranking: Ranking,
        digits: usize,
        names: Option<Vec<String>>,
    ) -> Result<Self> {
        let options = ReportOptions {
            digits,
            target_names: names,
            ..Default::default()
        };
        let confusion = ConfusionMatrix::new(y_true, y_pred, n_classes)?;
        let report = ClassificationReport::from_confusion(&confusion, &options)?;
        let imbalanced = ImbalancedReport::from_confusion(&confusion, &options, 0.1)?;
        Ok(Self {
            balanced_accuracy: balanced_accuracy(&confusion),
            mcc: matthews_corrcoef(&confusion),
            kappa: cohen_kappa(&confusion),
            report,
            imbalanced,
            confusion,
            ranking,
        })
    }

    /// The confusion matrix.
    pub fn confusion(&self) -> &ConfusionMatrix {
        &self.confusion
    }

    /// The JSON object of the evaluation: `report`, `confusion_matrix`, `balanced_accuracy`,
    /// `mcc`, `cohen_kappa` and, when computed, `average_precision`, `roc_auc` and `ranking`.
    pub fn json(&self) -> serde_json::Value {
        let (average_precision, roc_auc, ranking) = match &self.ranking {
            Ranking::Computed {
                average_precision,
                roc_auc,
                kind,
            } => (
                Some(*average_precision),
                Some(*roc_auc),
                Some(kind.to_string()),
            ),
            Ranking::Skipped(why) => (None, None, Some(format!("not computed: {why}"))),
            Ranking::NoProbabilities => (None, None, None),
        };
        serde_json::to_value(JsonForm {
            report: &self.report,
            confusion_matrix: &self.confusion,
            balanced_accuracy: self.balanced_accuracy,
            mcc: self.mcc,
            cohen_kappa: self.kappa,
            average_precision,
            roc_auc,
            ranking,
        })
        .unwrap_or_default()
    }

    /// The text report: scikit-learn's classification report first, byte for byte, then the
    /// confusion matrix, imbalanced-learn's report and the other metrics.
    pub fn text(&self) -> String {
        let mut out = self.report.to_string();
        out.push('\n');
        out.push_str(&self.confusion.text());
        let _ = write!(out, "\n{}\n", self.imbalanced);
        let d = self.report.digits().max(4);
        let fmt = |x: f64| {
            if x.is_nan() {
                "nan (undefined)".to_string()
            } else {
                format!("{x:.d$}")
            }
        };
        let _ = writeln!(out, "balanced accuracy  {}", fmt(self.balanced_accuracy));
        let _ = writeln!(out, "MCC                {}", fmt(self.mcc));
        let _ = writeln!(out, "Cohen's kappa      {}", fmt(self.kappa));
        match &self.ranking {
            Ranking::NoProbabilities => {}
            Ranking::Skipped(why) => {
                let _ = writeln!(out, "average precision  not computed: {why}");
                let _ = writeln!(out, "ROC AUC            not computed: {why}");
            }
            Ranking::Computed {
                average_precision,
                roc_auc,
                kind,
            } => {
                let _ = writeln!(
                    out,
                    "average precision  {} ({kind})",
                    fmt(*average_precision)
                );
                let _ = writeln!(out, "ROC AUC            {} ({kind})", fmt(*roc_auc));
            }
        }
        out
    }
}
