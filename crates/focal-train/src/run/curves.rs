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
    write_calibration(&dir.join("curves/calibration.csv"), test)
}

/// The test split's reliability diagram at T = 1 as `curves/calibration_uncalibrated.csv`,
/// when the run applied a temperature (`calibration.csv` then holds the calibrated one);
/// without, a stale file from an earlier training of the folder is removed.
pub fn write_uncalibrated_curve(
    dir: &Path,
    uncalibrated: Option<&Predictions>,
) -> Result<(), TrainError> {
    let path = dir.join("curves/calibration_uncalibrated.csv");
    match uncalibrated {
        Some(test) => write_calibration(&path, test),
        None => match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(TrainError::io(&path, e)),
            _ => Ok(()),
        },
    }
}

/// The top-label reliability diagram of `test` as a CSV at `path`.
fn write_calibration(path: &Path, test: &Predictions) -> Result<(), TrainError> {
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
    let header: Vec<String> = ["lower", "upper", "count", "mean_confidence", "accuracy"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    write_atomic(path, &csv_bytes(path, &header, &rows)?)
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
