//! `curves/`: the test split's precision-recall, ROC and calibration curves as CSV.

use std::path::Path;

use focal_metrics::calibration::reliability_diagram;
use focal_metrics::ranking::{precision_recall_curve, roc_curve};

use crate::error::TrainError;
use crate::evaluate::Predictions;
use crate::run::files::{csv_bytes, write_atomic};

/// Number of bins of the calibration curve and ECE.
pub const CALIBRATION_BINS: usize = 15;

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
