//! `history.csv`: one row per finished epoch (columns in the module doc of [`crate::run`]).

use std::path::Path;

use crate::error::TrainError;
use crate::run::files::{csv_bytes, write_atomic};
use crate::run::record::EpochRecord;

fn opt(v: Option<f64>) -> String {
    v.map_or_else(String::new, |x| x.to_string())
}

/// Writes `history.csv`.
pub fn write_history(
    dir: &Path,
    class_names: &[String],
    history: &[EpochRecord],
) -> Result<(), TrainError> {
    let path = dir.join("history.csv");
    let mut header: Vec<String> = [
        "epoch",
        "lr",
        "train_loss",
        "val_loss",
        "val_accuracy",
        "val_balanced_accuracy",
        "val_pr_auc",
        "val_roc_auc",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for c in 0..class_names.len() {
        header.extend([
            format!("val_precision_{c}"),
            format!("val_recall_{c}"),
            format!("val_f1_{c}"),
        ]);
    }
    header.extend(["time_s".to_string(), "peak_memory_mb".to_string()]);
    let rows: Vec<Vec<String>> = history
        .iter()
        .map(|h| {
            let mut r = vec![
                h.epoch.to_string(),
                h.lr.to_string(),
                h.train_loss.to_string(),
                h.val_loss.to_string(),
                h.val_accuracy.to_string(),
                h.val_balanced_accuracy.to_string(),
                opt(h.val_pr_auc),
                opt(h.val_roc_auc),
            ];
            for pc in &h.val_per_class {
                r.extend(pc.iter().map(|v| v.to_string()));
            }
            r.push(format!("{:.3}", h.time_s));
            r.push(
                h.peak_memory_mb
                    .map_or_else(String::new, |m| format!("{m:.1}")),
            );
            r
        })
        .collect();
    write_atomic(&path, &csv_bytes(&path, &header, &rows)?)
}
