//! Metrics for imbalanced classes: imbalanced-learn's report, balanced accuracy, MCC, kappa.

use std::fmt;

use serde::Serialize;

use crate::confusion::ConfusionMatrix;
use crate::error::{MetricsError, Result};
use crate::report::{
    ReportOptions, ZeroDivision, fmt_float, fmt_support, resolve_labels, resolve_names,
};
use crate::sum;

/// One row of [`ImbalancedReport`]: a class, or the support-weighted average.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImbalancedRow {
    /// Printed name (target name, label number, or `avg / total`).
    pub name: String,
    /// `tp / (tp + fp)`, undefined ratios per the report's [`ZeroDivision`] policy.
    pub precision: f64,
    /// `tp / (tp + fn)` (sensitivity), undefined ratios per the policy.
    pub recall: f64,
    /// `tn / (tn + fp)`; 0 when undefined (imbalanced-learn ignores the policy here).
    pub specificity: f64,
    /// F1, undefined per the policy.
    pub f1: f64,
    /// `sqrt(sensitivity * specificity)`, undefined ratios taken as 0.
    pub geometric_mean: f64,
    /// Index of balanced accuracy: `(1 + alpha (sensitivity - specificity)) * gmean^2`.
    pub iba: f64,
    /// Samples of the class (for the average row: of all reported classes).
    pub support: u64,
}

/// imbalanced-learn's `classification_report_imbalanced`: precision, recall, specificity, F1,
/// geometric mean and IBA per class, and their support-weighted averages.
///
/// `Display` prints the same text as
/// `classification_report_imbalanced(y_true, y_pred, labels=..., digits=d, zero_division=z)`.
/// One difference: when every reported class has support 0, imbalanced-learn raises
/// `ZeroDivisionError`; here the average row holds NaN.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImbalancedReport {
    /// Per-class rows in label order.
    pub classes: Vec<ImbalancedRow>,
    /// Support-weighted averages (`avg / total`).
    pub average: ImbalancedRow,
    /// The IBA dominance weight (imbalanced-learn default 0.1).
    pub alpha: f64,
    /// Digits printed after the decimal point.
    #[serde(skip)]
    pub digits: usize,
    /// Print supports as floats (`1.0`), as imbalanced-learn does when no prediction is correct.
    #[serde(skip)]
    pub float_support: bool,
}

impl ImbalancedReport {
    /// Builds the report for labels `0..n_classes` with imbalanced-learn's `alpha = 0.1`.
    ///
    /// # Errors
    /// Those of [`ConfusionMatrix::new`] and [`ImbalancedReport::from_confusion`].
    pub fn new(
        y_true: &[usize],
        y_pred: &[usize],
        n_classes: usize,
        options: &ReportOptions,
    ) -> Result<Self> {
        Self::from_confusion(
            &ConfusionMatrix::new(y_true, y_pred, n_classes)?,
            options,
            0.1,
        )
    }

    /// Builds the report from a confusion matrix with the IBA weight `alpha`.
    ///
    /// # Errors
    /// As [`crate::ClassificationReport::from_confusion`]; [`MetricsError::InvalidParameter`]
    /// for a non-finite `alpha`.
    pub fn from_confusion(
        cm: &ConfusionMatrix,
        options: &ReportOptions,
        alpha: f64,
    ) -> Result<Self> {
        if !alpha.is_finite() {
            return Err(MetricsError::InvalidParameter {
                name: "alpha",
                value: alpha,
                expected: "a finite number (imbalanced-learn uses 0.1)",
            });
        }
        let labels = resolve_labels(cm, options)?;
        let names = resolve_names(&labels, options)?;
        let zd = options.zero_division;
        let n = cm.total();
        let classes: Vec<ImbalancedRow> = labels
            .iter()
            .zip(names)
            .map(|(&c, name)| {
                let tp = cm.true_positives(c);
                let pred = cm.predicted(c);
                let support = cm.support(c);
                let tn = n - (pred + support - tp);
                let fp = pred - tp;
                let (tp_f, tn_f) = (tp as f64, tn as f64);
                let sensitivity = ZeroDivision::Zero.divide(tp_f, support as f64);
                let specificity = ZeroDivision::Zero.divide(tn_f, (tn + fp) as f64);
                let gmean = (sensitivity * specificity).sqrt();
                ImbalancedRow {
                    name,
                    precision: zd.divide(tp_f, pred as f64),
                    recall: zd.divide(tp_f, support as f64),
                    specificity,
                    f1: zd.divide(2.0 * tp_f, support as f64 + pred as f64),
                    geometric_mean: gmean,
                    iba: (1.0 + alpha * (sensitivity - specificity)) * (gmean * gmean),
                    support,
                }
            })
            .collect();
        let weights: Vec<f64> = classes.iter().map(|r| r.support as f64).collect();
        let avg = |f: fn(&ImbalancedRow) -> f64| -> f64 {
            let v: Vec<f64> = classes.iter().map(f).collect();
            sum::weighted_average(&v, &weights)
        };
        let average = ImbalancedRow {
            name: "avg / total".into(),
            precision: avg(|r| r.precision),
            recall: avg(|r| r.recall),
            specificity: avg(|r| r.specificity),
            f1: avg(|r| r.f1),
            geometric_mean: avg(|r| r.geometric_mean),
            iba: avg(|r| r.iba),
            support: classes.iter().map(|r| r.support).sum(),
        };
        Ok(Self {
            classes,
            average,
            alpha,
            digits: options.digits,
            float_support: cm.correct() == 0,
        })
    }
}

impl fmt::Display for ImbalancedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits;
        let name_width = self
            .classes
            .iter()
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(0);
        let w = name_width.max("avg / total".len()).max(d);
        write!(f, "{:>w$}  ", "")?;
        let headers = ["pre", "rec", "spe", "f1", "geo", "iba", "sup"];
        writeln!(f, "{}", headers.map(|h| format!("{h:>9}")).join(" "))?;
        f.write_str("\n")?;
        let row = |f: &mut fmt::Formatter<'_>, r: &ImbalancedRow| {
            let cells = [
                r.precision,
                r.recall,
                r.specificity,
                r.f1,
                r.geometric_mean,
                r.iba,
            ]
            .map(|x| format!("{:>9}", fmt_float(x, d)));
            let support = fmt_support(r.support, self.float_support);
            writeln!(f, "{:>w$}  {} {:>9}", r.name, cells.join(" "), support)
        };
        for r in &self.classes {
            row(f, r)?;
        }
        f.write_str("\n")?;
        row(f, &self.average)
    }
}

/// Mean recall over the classes that occur in `y_true` (scikit-learn's `balanced_accuracy_score`,
/// `adjusted=False`). Classes with support 0 are left out, as scikit-learn does.
pub fn balanced_accuracy(cm: &ConfusionMatrix) -> f64 {
    let recalls: Vec<f64> = (0..cm.n_classes())
        .filter(|&c| cm.support(c) > 0)
        .map(|c| cm.true_positives(c) as f64 / cm.support(c) as f64)
        .collect();
    sum::mean(&recalls)
}

/// Matthews correlation coefficient, multi-class (Gorodkin's R_K), as scikit-learn's
/// `matthews_corrcoef`: 0 when it is undefined (a constant `y_true` or `y_pred`).
pub fn matthews_corrcoef(cm: &ConfusionMatrix) -> f64 {
    let c = cm.n_classes();
    let t: Vec<f64> = (0..c).map(|k| cm.support(k) as f64).collect();
    let p: Vec<f64> = (0..c).map(|k| cm.predicted(k) as f64).collect();
    let n_correct = cm.correct() as f64;
    let n = sum::pairwise_sum(&p);
    let dot = |a: &[f64], b: &[f64]| -> f64 { a.iter().zip(b).map(|(x, y)| x * y).sum() };
    let cov_ytyp = n_correct * n - dot(&t, &p);
    let cov_ypyp = n * n - dot(&p, &p);
    let cov_ytyt = n * n - dot(&t, &t);
    let denom = cov_ypyp * cov_ytyt;
    if denom == 0.0 {
        0.0
    } else {
        cov_ytyp / denom.sqrt()
    }
}

/// Cohen's kappa between `y_true` and `y_pred` (unweighted), as scikit-learn's
/// `cohen_kappa_score`: NaN when it is undefined (both agree on one single label, so the
/// expected disagreement is 0), like scikit-learn's default `replace_undefined_by=np.nan`.
pub fn cohen_kappa(cm: &ConfusionMatrix) -> f64 {
    let c = cm.n_classes();
    let n = cm.total() as f64;
    let mut observed = 0.0;
    let mut expected = 0.0;
    for i in 0..c {
        for j in 0..c {
            if i != j {
                observed += cm.get(i, j) as f64;
                expected += cm.predicted(i) as f64 * cm.support(j) as f64 / n;
            }
        }
    }
    if expected == 0.0 {
        f64::NAN
    } else {
        1.0 - observed / expected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_classifier_scores_one() {
        let cm = ConfusionMatrix::new(&[0, 1, 1, 2], &[0, 1, 1, 2], 3).unwrap();
        assert_eq!(balanced_accuracy(&cm), 1.0);
        assert_eq!(matthews_corrcoef(&cm), 1.0);
        assert_eq!(cohen_kappa(&cm), 1.0);
    }

    #[test]
    fn constant_predictions() {
        // sklearn: matthews_corrcoef([0,1], [0,0]) == 0.0; cohen_kappa_score([0,0],[0,0]) is nan.
        let cm = ConfusionMatrix::new(&[0, 1], &[0, 0], 2).unwrap();
        assert_eq!(matthews_corrcoef(&cm), 0.0);
        let cm = ConfusionMatrix::new(&[0, 0], &[0, 0], 2).unwrap();
        assert!(cohen_kappa(&cm).is_nan());
    }
}
