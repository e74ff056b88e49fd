//! Per-class classification metrics that tell the truth about rare classes, identical to
//! scikit-learn and imbalanced-learn, over plain slices (no tensors, no Burn).
//!
//! Conventions, stated once:
//! - labels are `0..n_classes`; every class gets a row even when it never occurs;
//! - [`ConfusionMatrix`]: rows = true label, columns = predicted label (scikit-learn's);
//! - binary scores are P(positive) (or any score where larger means positive), and a sample is
//!   predicted positive at threshold `t` when `score >= t`;
//! - undefined ratios follow an explicit [`ZeroDivision`] policy (default: 0).
//!
//! Where the results differ from scikit-learn 1.9 / imbalanced-learn 0.14, on purpose:
//! - with `labels: None` every class `0..n_classes` is reported (scikit-learn: only the labels
//!   present); pass `labels=range(n_classes)` to scikit-learn for the same report;
//! - inputs scikit-learn only warns about are errors here: `target_names` of the wrong length,
//!   average precision with no positive sample (scikit-learn: 0), ROC curve and AUC with a
//!   single class (scikit-learn: NaN), empty inputs, non-finite scores;
//! - [`ImbalancedReport`]'s average row is NaN when every reported class has support 0
//!   (imbalanced-learn raises `ZeroDivisionError`), and it accepts [`ZeroDivision::Nan`];
//! - NaN cells serialize as JSON `null` (Python's `json` writes the non-standard `NaN`);
//! - the one-vs-rest functions require every class in `y_true` (as scikit-learn) but do not
//!   check that probability rows sum to 1; for two classes use the binary functions on
//!   column 1 (scikit-learn switches to binary there).
//!
//! Reproduced on purpose: when no prediction at all is correct, scikit-learn prints supports
//! as floats (`1.0`), and so does [`ClassificationReport`]'s `Display`.
//!
//! ```
//! use focal_metrics::{ClassificationReport, ConfusionMatrix, ReportOptions, matthews_corrcoef};
//! let (y_true, y_pred) = ([0, 0, 0, 0, 1], [0, 0, 0, 0, 0]);
//! let report = ClassificationReport::new(&y_true, &y_pred, 2, &ReportOptions::default())?;
//! assert_eq!(report.accuracy(), Some(0.8));          // accuracy looks fine...
//! assert_eq!(report.class(1).unwrap().recall, 0.0);   // ...the rare class is never found
//! let cm = ConfusionMatrix::new(&y_true, &y_pred, 2)?;
//! assert_eq!(matthews_corrcoef(&cm), 0.0);
//! # Ok::<(), focal_metrics::MetricsError>(())
//! ```

pub mod bootstrap;
pub mod calibration;
mod confusion;
mod error;
mod evaluation;
mod imbalanced;
pub mod ranking;
mod report;
mod sum;
pub mod threshold;

pub use confusion::ConfusionMatrix;
pub use error::{MetricsError, Result};
pub use evaluation::{Evaluation, Ranking};
pub use imbalanced::{
    ImbalancedReport, ImbalancedRow, balanced_accuracy, cohen_kappa, matthews_corrcoef,
};
pub use report::{ClassMetrics, ClassRow, ClassificationReport, ReportOptions, ZeroDivision};
