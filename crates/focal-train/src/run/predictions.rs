//! `predictions.csv`: one row per test sample, `id,y_true,y_pred,p_0,...,p_{C-1}`, the format
//! `focal eval --predictions` reads. The writer lives here; the reader, which needs no Burn (and
//! so can be fuzzed in minutes), is [`focal_data::predictions`].
//!
//! `id` is the sample's index in the task's data set (as in `split.json`); the probabilities are
//! written as the shortest decimal that reads back to the same `f32` (Rust's `Display`), so that
//! `focal predict` on the same samples can be checked for equality. Files without the `id`
//! column, and files with probabilities rounded to 6 decimals (focal before 0.1's issue 12),
//! still read.

use std::path::Path;

use crate::error::TrainError;
use crate::evaluate::Predictions;
use crate::run::files::{csv_bytes, write_atomic};

pub use focal_data::predictions::{MAX_CLASSES, PROB_SUM_TOLERANCE, PredictionsFile};

/// The file of the test predictions.
pub const TEST_PREDICTIONS: &str = "predictions.csv";

/// The file of the validation predictions a run tuned its threshold on (same format), which
/// `focal compare --ensemble` averages across seeds.
pub const VAL_PREDICTIONS: &str = "val_predictions.csv";

/// Writes `predictions.csv` (`id,y_true,y_pred,p_0,...`), `ids[i]` the data-set index of test
/// sample `i`, `y_pred` the argmax, each probability exactly (the shortest `f32` repr).
pub fn write(dir: &Path, ids: &[usize], test: &Predictions) -> Result<(), TrainError> {
    write_file(&dir.join(TEST_PREDICTIONS), ids, test)
}

/// Writes [`VAL_PREDICTIONS`] as [`write`] writes the test split's.
pub fn write_val(dir: &Path, ids: &[usize], val: &Predictions) -> Result<(), TrainError> {
    write_file(&dir.join(VAL_PREDICTIONS), ids, val)
}

fn write_file(path: &Path, ids: &[usize], preds: &Predictions) -> Result<(), TrainError> {
    if ids.len() != preds.len() {
        return Err(TrainError::format(
            path,
            format!("{} sample ids for {} predictions", ids.len(), preds.len()),
        ));
    }
    let mut header = vec!["id".to_string(), "y_true".to_string(), "y_pred".to_string()];
    header.extend((0..preds.n_classes).map(|c| format!("p_{c}")));
    let pred = preds.argmax();
    let rows: Vec<Vec<String>> = (0..preds.len())
        .map(|i| {
            let mut r = vec![
                ids[i].to_string(),
                preds.y_true[i].to_string(),
                pred[i].to_string(),
            ];
            r.extend(preds.row(i).iter().map(|p| p.to_string()));
            r
        })
        .collect();
    write_atomic(path, &csv_bytes(path, &header, &rows)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_writer_writes_the_reader_reads() {
        let dir = tempfile::tempdir().unwrap();
        let test = Predictions {
            y_true: vec![0, 1, 1],
            probs: vec![0.9, 0.1, 0.25, 0.75, 0.6, 0.4],
            n_classes: 2,
        };
        let test = Predictions {
            probs: vec![0.9, 0.1, 0.25, 0.75, 0.6f32.next_up(), 0.4f32.next_down()],
            ..test
        };
        write(dir.path(), &[7, 3, 12], &test).unwrap();
        let back = PredictionsFile::read(&dir.path().join("predictions.csv")).unwrap();
        assert_eq!(back.ids, Some(vec!["7".into(), "3".into(), "12".into()]));
        assert_eq!(back.y_true, test.y_true);
        assert_eq!(back.y_pred, test.argmax());
        assert_eq!(back.n_classes, 2);
        let probs = back.probs.unwrap();
        // Exactly the f32 written, even one ulp away from a short decimal.
        for (a, b) in probs.iter().zip(&test.probs) {
            assert_eq!(*a as f32, *b);
        }
    }
}
