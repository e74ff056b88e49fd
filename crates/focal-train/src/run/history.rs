//! `history.csv`: one row per finished epoch (columns in the module doc of [`crate::run`]).

use std::path::Path;

use crate::error::TrainError;
use crate::run::checkpoint;
use crate::run::files::{csv_bytes, write_atomic};
use crate::run::record::EpochRecord;

fn opt(v: Option<f64>) -> String {
    v.map_or_else(String::new, |x| x.to_string())
}

/// The columns before the per-class ones (`val_precision_c`, `val_recall_c`, `val_f1_c` for each
/// class `c`), and after them.
const FIRST_COLUMNS: [&str; 8] = [
    "epoch",
    "lr",
    "train_loss",
    "val_loss",
    "val_accuracy",
    "val_balanced_accuracy",
    "val_pr_auc",
    "val_roc_auc",
];
const LAST_COLUMNS: [&str; 2] = ["time_s", "peak_memory_mb"];

/// Writes `history.csv`.
pub fn write_history(
    dir: &Path,
    class_names: &[String],
    history: &[EpochRecord],
) -> Result<(), TrainError> {
    let path = dir.join("history.csv");
    let mut header: Vec<String> = FIRST_COLUMNS.iter().map(|s| s.to_string()).collect();
    for c in 0..class_names.len() {
        header.extend([
            format!("val_precision_{c}"),
            format!("val_recall_{c}"),
            format!("val_f1_{c}"),
        ]);
    }
    header.extend(LAST_COLUMNS.map(String::from));
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

/// Reads `history.csv` of the run folder `dir` back into its records, by column name (the
/// columns [`write_history`] writes). `time_s` and `peak_memory_mb` come back as written,
/// rounded to 3 and 1 decimals; every other value as it was. An error names the file, the line
/// and the column.
pub fn read_history(dir: &Path) -> Result<Vec<EpochRecord>, TrainError> {
    let path = dir.join("history.csv");
    let mut reader = csv::Reader::from_path(&path).map_err(|e| TrainError::format(&path, e))?;
    let header = reader
        .headers()
        .map_err(|e| TrainError::format(&path, e))?
        .clone();
    let column = |name: &str| -> Result<usize, TrainError> {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| TrainError::format(&path, format!("no column {name:?} in the header")))
    };
    let classes = (0..)
        .take_while(|c| header.iter().any(|h| h == format!("val_f1_{c}")))
        .count();
    let mut per_class = Vec::with_capacity(classes);
    for c in 0..classes {
        per_class.push([
            column(&format!("val_precision_{c}"))?,
            column(&format!("val_recall_{c}"))?,
            column(&format!("val_f1_{c}"))?,
        ]);
    }
    let [
        epoch,
        lr,
        train_loss,
        val_loss,
        accuracy,
        balanced,
        pr_auc,
        roc_auc,
    ] = FIRST_COLUMNS.map(column);
    let [time_s, memory] = LAST_COLUMNS.map(column);
    let (epoch, lr, train_loss, val_loss) = (epoch?, lr?, train_loss?, val_loss?);
    let (accuracy, balanced, pr_auc, roc_auc) = (accuracy?, balanced?, pr_auc?, roc_auc?);
    let (time_s, memory) = (time_s?, memory?);
    let mut records = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| TrainError::format(&path, e))?;
        // A value of column k, or `None` for an empty field.
        let value = |k: usize| -> Result<Option<f64>, TrainError> {
            match row.get(k).map(str::trim) {
                Some("") => Ok(None),
                Some(v) => v.parse::<f64>().map(Some).map_err(|_| {
                    TrainError::format(
                        &path,
                        format!("line {}: {:?} is not a number ({})", i + 2, v, &header[k]),
                    )
                }),
                None => Err(TrainError::format(
                    &path,
                    format!("line {}: no value for {}", i + 2, &header[k]),
                )),
            }
        };
        let number = |k: usize| -> Result<f64, TrainError> {
            value(k)?.ok_or_else(|| {
                TrainError::format(&path, format!("line {}: {} is empty", i + 2, &header[k]))
            })
        };
        let e = number(epoch)?;
        if e < 1.0 || e.fract() != 0.0 {
            return Err(TrainError::format(
                &path,
                format!("line {}: epoch {e} is not a whole number from 1", i + 2),
            ));
        }
        let mut val_per_class = Vec::with_capacity(classes);
        for [p, r, f] in &per_class {
            val_per_class.push([number(*p)?, number(*r)?, number(*f)?]);
        }
        records.push(EpochRecord {
            epoch: e as usize,
            lr: number(lr)?,
            train_loss: number(train_loss)?,
            val_loss: number(val_loss)?,
            val_accuracy: number(accuracy)?,
            val_balanced_accuracy: number(balanced)?,
            val_pr_auc: value(pr_auc)?,
            val_roc_auc: value(roc_auc)?,
            val_per_class,
            time_s: number(time_s)?,
            peak_memory_mb: value(memory)?,
        });
    }
    Ok(records)
}

/// The epoch records of the run folder `dir`: from its last checkpoint, or, when that has been
/// deleted (checkpoints are the large part of a run folder), from `history.csv`.
pub fn run_history(dir: &Path) -> Result<Vec<EpochRecord>, TrainError> {
    if checkpoint::exists(dir) || !dir.join("history.csv").is_file() {
        return Ok(checkpoint::read_state(dir, checkpoint::Which::Last)?.history);
    }
    read_history(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(epoch: usize, pr_auc: Option<f64>) -> EpochRecord {
        EpochRecord {
            epoch,
            lr: 1e-3 / 3.0,
            train_loss: 0.1 + 1.0 / 7.0,
            val_loss: 0.2f64.sqrt(),
            val_accuracy: 0.9,
            val_balanced_accuracy: 2.0 / 3.0,
            val_pr_auc: pr_auc,
            val_roc_auc: Some(0.95),
            val_per_class: vec![[0.5, 0.25, 1.0 / 3.0], [0.125, 0.0, 0.0]],
            time_s: 1.234_567,
            peak_memory_mb: None,
        }
    }

    #[test]
    fn history_csv_reads_back_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let names = ["a".to_string(), "b".to_string()];
        let written = vec![record(1, Some(0.4)), record(2, None)];
        write_history(dir.path(), &names, &written).unwrap();
        let read = read_history(dir.path()).unwrap();
        // Every value as it was, but the time, written to the millisecond.
        let expected: Vec<EpochRecord> = written
            .into_iter()
            .map(|r| EpochRecord { time_s: 1.235, ..r })
            .collect();
        assert_eq!(read, expected);
        // Without a checkpoint, a run's history is this file's.
        assert_eq!(run_history(dir.path()).unwrap(), expected);
    }

    #[test]
    fn a_bad_history_csv_is_named_with_its_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let names = ["a".to_string(), "b".to_string()];
        write_history(dir.path(), &names, &[record(1, Some(0.4))]).unwrap();
        let path = dir.path().join("history.csv");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace(",0.9,", ",zero,")).unwrap();
        let e = read_history(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("history.csv") && e.contains("line 2") && e.contains("val_accuracy"),
            "{e}"
        );
        std::fs::write(&path, "epoch,lr\n1,0.1\n").unwrap();
        let e = read_history(dir.path()).unwrap_err().to_string();
        assert!(e.contains("no column \"train_loss\""), "{e}");
        // Neither a checkpoint nor history.csv: the missing checkpoint is named.
        std::fs::remove_file(&path).unwrap();
        let e = run_history(dir.path()).unwrap_err().to_string();
        assert!(e.contains("state.json"), "{e}");
    }
}
