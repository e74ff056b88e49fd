//! scikit-learn's `classification_report`: per-class precision, recall, F1 and support.

use std::fmt;

use serde::Serialize;
use serde::ser::SerializeMap;

use crate::confusion::ConfusionMatrix;
use crate::error::{MetricsError, Result};
use crate::sum;

/// What a ratio with a zero denominator is reported as (scikit-learn's `zero_division`).
///
/// Precision is undefined for a class never predicted, recall for a class absent from `y_true`,
/// F1 for a class neither predicted nor present. The default, `Zero`, is scikit-learn's default
/// (`"warn"` reports 0). With `Nan` the cell prints `nan` and the macro and weighted averages skip
/// it, as scikit-learn does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ZeroDivision {
    /// Report 0 (scikit-learn `zero_division=0` or `"warn"`).
    #[default]
    Zero,
    /// Report 1 (`zero_division=1`).
    One,
    /// Report NaN and leave it out of averages (`zero_division=np.nan`).
    Nan,
}

impl ZeroDivision {
    /// The value reported for an undefined ratio.
    pub fn value(self) -> f64 {
        match self {
            ZeroDivision::Zero => 0.0,
            ZeroDivision::One => 1.0,
            ZeroDivision::Nan => f64::NAN,
        }
    }

    /// `numerator / denominator`, or the policy's value when the denominator is 0.
    pub fn divide(self, numerator: f64, denominator: f64) -> f64 {
        if denominator == 0.0 {
            self.value()
        } else {
            numerator / denominator
        }
    }
}

/// Options of [`ClassificationReport`] and [`crate::ImbalancedReport`], with scikit-learn's names.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// Classes to report, in this order. `None` reports every class `0..n_classes`, including
    /// classes that never occur (scikit-learn with `labels=range(n_classes)`). When the labels do
    /// not cover every class present in `y_true` or `y_pred`, the accuracy row becomes
    /// `micro avg`.
    pub labels: Option<Vec<usize>>,
    /// Display names, one per reported label (default: the label number).
    pub target_names: Option<Vec<String>>,
    /// Digits after the decimal point in the text report (default 2).
    pub digits: usize,
    /// Value of undefined ratios (default [`ZeroDivision::Zero`]).
    pub zero_division: ZeroDivision,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            labels: None,
            target_names: None,
            digits: 2,
            zero_division: ZeroDivision::Zero,
        }
    }
}

/// Precision, recall, F1 and support of one class or one average.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassMetrics {
    /// `tp / (tp + fp)`.
    pub precision: f64,
    /// `tp / (tp + fn)`.
    pub recall: f64,
    /// `2 tp / (2 tp + fp + fn)`, the harmonic mean of precision and recall.
    pub f1: f64,
    /// Number of samples whose true label is the class (for an average: the sum over the
    /// reported classes).
    pub support: u64,
}

impl Serialize for ClassMetrics {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("precision", &self.precision)?;
        map.serialize_entry("recall", &self.recall)?;
        map.serialize_entry("f1-score", &self.f1)?;
        // scikit-learn's output_dict converts every entry with float(), support included.
        map.serialize_entry("support", &(self.support as f64))?;
        map.end()
    }
}

/// One class row of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassRow {
    /// The class index.
    pub label: usize,
    /// The name printed for it (its target name, or the label number).
    pub name: String,
    /// Its metrics.
    pub metrics: ClassMetrics,
}

/// scikit-learn's `classification_report`, computed from a confusion matrix.
///
/// `Display` prints the text of
/// `classification_report(y_true, y_pred, labels=..., target_names=..., digits=d, zero_division=z)`
/// byte for byte; `Serialize` gives its `output_dict=True` structure: one entry per class name
/// (`"precision"`, `"recall"`, `"f1-score"`, `"support"`; support as a float, like
/// scikit-learn), then `"accuracy"` (a number) or `"micro avg"`, then `"macro avg"` and
/// `"weighted avg"`. NaN values (only with [`ZeroDivision::Nan`]) serialize as JSON `null`
/// where Python's `json` would write the non-standard `NaN`.
///
/// ```
/// use focal_metrics::{ClassificationReport, ReportOptions};
/// let report = ClassificationReport::new(&[0, 1, 2, 2, 2], &[0, 0, 2, 2, 1], 3,
///     &ReportOptions::default()).unwrap();
/// assert_eq!(report.accuracy(), Some(0.6));
/// assert!(report.to_string().contains("    accuracy                           0.60         5\n"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ClassificationReport {
    classes: Vec<ClassRow>,
    micro: ClassMetrics,
    micro_is_accuracy: bool,
    macro_avg: ClassMetrics,
    weighted_avg: ClassMetrics,
    digits: usize,
    /// scikit-learn quirk: when no prediction at all is correct, its supports are floats and
    /// print as `1.0`.
    float_support: bool,
}

impl ClassificationReport {
    /// Builds the report for labels `0..n_classes`.
    ///
    /// # Errors
    /// Those of [`ConfusionMatrix::new`], and those of [`ClassificationReport::from_confusion`].
    pub fn new(
        y_true: &[usize],
        y_pred: &[usize],
        n_classes: usize,
        options: &ReportOptions,
    ) -> Result<Self> {
        let cm = ConfusionMatrix::new(y_true, y_pred, n_classes)?;
        Self::from_confusion(&cm, options)
    }

    /// Builds the report from a confusion matrix.
    ///
    /// # Errors
    /// [`MetricsError::InvalidLabels`] for empty or repeated `labels`,
    /// [`MetricsError::LabelOutOfRange`] for a label `>= n_classes`,
    /// [`MetricsError::TargetNamesMismatch`] when `target_names` does not give one name per
    /// label (scikit-learn only warns when `labels` is given, and then drops rows).
    pub fn from_confusion(cm: &ConfusionMatrix, options: &ReportOptions) -> Result<Self> {
        let labels = resolve_labels(cm, options)?;
        let names = resolve_names(&labels, options)?;
        let zd = options.zero_division;
        let classes: Vec<ClassRow> = labels
            .iter()
            .zip(names)
            .map(|(&label, name)| {
                let tp = cm.true_positives(label);
                let pred = cm.predicted(label);
                let support = cm.support(label);
                ClassRow {
                    label,
                    name,
                    metrics: prf(zd, tp, pred, support),
                }
            })
            .collect();

        let total_support: u64 = classes.iter().map(|c| c.metrics.support).sum();
        let tp_sum: u64 = labels.iter().map(|&l| cm.true_positives(l)).sum();
        let pred_sum: u64 = labels.iter().map(|&l| cm.predicted(l)).sum();
        let mut micro = prf(zd, tp_sum, pred_sum, total_support);
        micro.support = total_support;
        let present_all = (0..cm.n_classes())
            .filter(|&c| cm.support(c) > 0 || cm.predicted(c) > 0)
            .all(|c| labels.contains(&c));

        let column = |f: fn(&ClassMetrics) -> f64| -> Vec<f64> {
            classes.iter().map(|c| f(&c.metrics)).collect()
        };
        let (p, r, f) = (
            column(|m| m.precision),
            column(|m| m.recall),
            column(|m| m.f1),
        );
        let weights: Vec<f64> = classes.iter().map(|c| c.metrics.support as f64).collect();
        let macro_avg = ClassMetrics {
            precision: nan_mean(&p),
            recall: nan_mean(&r),
            f1: nan_mean(&f),
            support: total_support,
        };
        let weighted_avg = ClassMetrics {
            precision: nan_weighted_average(&p, &weights),
            recall: nan_weighted_average(&r, &weights),
            f1: nan_weighted_average(&f, &weights),
            support: total_support,
        };
        Ok(Self {
            classes,
            micro,
            micro_is_accuracy: present_all,
            macro_avg,
            weighted_avg,
            digits: options.digits,
            float_support: cm.correct() == 0,
        })
    }

    /// The class rows, in the order of `labels` (default `0..n_classes`).
    pub fn classes(&self) -> &[ClassRow] {
        &self.classes
    }

    /// Metrics of class `label`, if it is reported.
    pub fn class(&self, label: usize) -> Option<&ClassMetrics> {
        self.classes
            .iter()
            .find(|c| c.label == label)
            .map(|c| &c.metrics)
    }

    /// Accuracy, when the reported labels cover every class that occurs (the `accuracy` row);
    /// `None` when the report shows a `micro avg` row instead.
    pub fn accuracy(&self) -> Option<f64> {
        self.micro_is_accuracy.then_some(self.micro.precision)
    }

    /// Micro average over the reported labels (equal to accuracy when they cover every class).
    pub fn micro_avg(&self) -> &ClassMetrics {
        &self.micro
    }

    /// Unweighted mean over the reported classes (NaN cells skipped).
    pub fn macro_avg(&self) -> &ClassMetrics {
        &self.macro_avg
    }

    /// Mean over the reported classes weighted by support (NaN cells skipped).
    pub fn weighted_avg(&self) -> &ClassMetrics {
        &self.weighted_avg
    }

    /// Digits printed after the decimal point.
    pub fn digits(&self) -> usize {
        self.digits
    }
}

/// Precision, recall and F1 from counts, as `precision_recall_fscore_support`.
fn prf(zd: ZeroDivision, tp: u64, pred: u64, support: u64) -> ClassMetrics {
    let tp = tp as f64;
    ClassMetrics {
        precision: zd.divide(tp, pred as f64),
        recall: zd.divide(tp, support as f64),
        f1: zd.divide(2.0 * tp, support as f64 + pred as f64),
        support,
    }
}

pub(crate) fn resolve_labels(cm: &ConfusionMatrix, options: &ReportOptions) -> Result<Vec<usize>> {
    let n = cm.n_classes();
    let Some(labels) = &options.labels else {
        return Ok((0..n).collect());
    };
    if labels.is_empty() {
        return Err(MetricsError::InvalidLabels {
            reason: "no labels given".into(),
        });
    }
    let mut seen = vec![false; n];
    for (index, &label) in labels.iter().enumerate() {
        if label >= n {
            return Err(MetricsError::LabelOutOfRange {
                index,
                label,
                n_classes: n,
            });
        }
        if std::mem::replace(&mut seen[label], true) {
            return Err(MetricsError::InvalidLabels {
                reason: format!("label {label} appears twice; list each class once"),
            });
        }
    }
    Ok(labels.clone())
}

pub(crate) fn resolve_names(labels: &[usize], options: &ReportOptions) -> Result<Vec<String>> {
    match &options.target_names {
        None => Ok(labels.iter().map(usize::to_string).collect()),
        Some(names) if names.len() == labels.len() => Ok(names.clone()),
        Some(names) => Err(MetricsError::TargetNamesMismatch {
            names: names.len(),
            labels: labels.len(),
        }),
    }
}

/// `numpy.nanmean`: NaN cells count as 0 in the sum and not in the count; NaN if all are NaN.
pub(crate) fn nan_mean(values: &[f64]) -> f64 {
    let count = values.iter().filter(|v| !v.is_nan()).count();
    if count == 0 {
        return f64::NAN;
    }
    let total = sum::pairwise_sum_by(values.len(), &|i| {
        if values[i].is_nan() { 0.0 } else { values[i] }
    });
    total / count as f64
}

/// scikit-learn's `_nanaverage(values, weights)`: drop NaN cells, then `numpy.average`; if the
/// remaining weights sum to 0, the unweighted mean.
pub(crate) fn nan_weighted_average(values: &[f64], weights: &[f64]) -> f64 {
    let (v, w): (Vec<f64>, Vec<f64>) = values
        .iter()
        .zip(weights)
        .filter(|(v, _)| !v.is_nan())
        .map(|(&v, &w)| (v, w))
        .unzip();
    if v.is_empty() {
        return f64::NAN;
    }
    if sum::pairwise_sum(&w) == 0.0 {
        return sum::mean(&v);
    }
    sum::weighted_average(&v, &w)
}

/// A support count as scikit-learn prints it: an integer, or, when no prediction is correct
/// (its `multilabel_confusion_matrix` then starts from float zeros), a float such as `1.0`.
pub(crate) fn fmt_support(support: u64, float_support: bool) -> String {
    if float_support {
        format!("{support}.0")
    } else {
        support.to_string()
    }
}

/// Python's `format(x, ".{digits}f")`: like Rust's, except NaN prints as `nan`.
pub(crate) fn fmt_float(x: f64, digits: usize) -> String {
    if x.is_nan() {
        "nan".to_string()
    } else {
        format!("{x:.digits$}")
    }
}

impl fmt::Display for ClassificationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits;
        let name_width = self
            .classes
            .iter()
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(0);
        let w = name_width.max("weighted avg".len()).max(d);
        write!(f, "{:>w$} ", "")?;
        for h in ["precision", "recall", "f1-score", "support"] {
            write!(f, " {h:>9}")?;
        }
        f.write_str("\n\n")?;
        let row = |f: &mut fmt::Formatter<'_>, name: &str, m: &ClassMetrics| {
            writeln!(
                f,
                "{:>w$}  {:>9} {:>9} {:>9} {:>9}",
                name,
                fmt_float(m.precision, d),
                fmt_float(m.recall, d),
                fmt_float(m.f1, d),
                fmt_support(m.support, self.float_support)
            )
        };
        for c in &self.classes {
            row(f, &c.name, &c.metrics)?;
        }
        f.write_str("\n")?;
        if self.micro_is_accuracy {
            writeln!(
                f,
                "{:>w$}  {:>9} {:>9} {:>9} {:>9}",
                "accuracy",
                "",
                "",
                fmt_float(self.micro.f1, d),
                fmt_support(self.micro.support, self.float_support)
            )?;
        } else {
            row(f, "micro avg", &self.micro)?;
        }
        row(f, "macro avg", &self.macro_avg)?;
        row(f, "weighted avg", &self.weighted_avg)
    }
}

impl Serialize for ClassificationReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.classes.len() + 3))?;
        for c in &self.classes {
            map.serialize_entry(&c.name, &c.metrics)?;
        }
        if self.micro_is_accuracy {
            map.serialize_entry("accuracy", &self.micro.precision)?;
        } else {
            map.serialize_entry("micro avg", &self.micro)?;
        }
        map.serialize_entry("macro avg", &self.macro_avg)?;
        map.serialize_entry("weighted avg", &self.weighted_avg)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ANCHORS.md: sklearn.metrics.classification_report([0,1,2,2,2], [0,0,2,2,1]).
    #[test]
    fn anchor_example_prints_like_sklearn() {
        let r =
            ClassificationReport::new(&[0, 1, 2, 2, 2], &[0, 0, 2, 2, 1], 3, &Default::default())
                .unwrap();
        let expected = "              precision    recall  f1-score   support

           0       0.50      1.00      0.67         1
           1       0.00      0.00      0.00         1
           2       1.00      0.67      0.80         3

    accuracy                           0.60         5
   macro avg       0.50      0.56      0.49         5
weighted avg       0.70      0.60      0.61         5
";
        assert_eq!(r.to_string(), expected);
    }

    #[test]
    fn nan_policy_skips_cells_in_averages() {
        // Class 1 is never predicted: precision undefined.
        let opts = ReportOptions {
            zero_division: ZeroDivision::Nan,
            ..Default::default()
        };
        let r = ClassificationReport::new(&[0, 1, 0], &[0, 0, 0], 2, &opts).unwrap();
        assert!(r.class(1).unwrap().precision.is_nan());
        // precision of class 0 is 2/3; the macro average skips the NaN cell.
        assert_eq!(r.macro_avg().precision, 2.0 / 3.0);
        assert!(r.to_string().contains("nan"));
    }

    #[test]
    fn rejects_mismatched_names_and_repeated_labels() {
        let cm = ConfusionMatrix::new(&[0, 1], &[0, 1], 2).unwrap();
        let opts = ReportOptions {
            target_names: Some(vec!["a".into()]),
            ..Default::default()
        };
        assert_eq!(
            ClassificationReport::from_confusion(&cm, &opts),
            Err(MetricsError::TargetNamesMismatch {
                names: 1,
                labels: 2
            })
        );
        let opts = ReportOptions {
            labels: Some(vec![1, 1]),
            ..Default::default()
        };
        assert!(matches!(
            ClassificationReport::from_confusion(&cm, &opts),
            Err(MetricsError::InvalidLabels { .. })
        ));
    }
}
