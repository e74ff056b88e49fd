//! `predictions.csv`: one row per test sample, `y_true,y_pred,p_0,...,p_{C-1}`, the format
//! `focal eval --predictions` reads. Its writer and its reader live here, side by side.

use std::path::Path;

use crate::error::TrainError;
use crate::evaluate::Predictions;
use crate::run::files::{csv_bytes, write_atomic};

/// Largest number of classes a predictions file may hold (the confusion matrix is dense).
pub const MAX_CLASSES: usize = 1000;
/// How far a row of probabilities may sum from 1.
pub const PROB_SUM_TOLERANCE: f64 = 1e-3;

/// Writes `predictions.csv` (`y_true,y_pred,p_0,...`), `y_pred` the argmax.
pub fn write(dir: &Path, test: &Predictions) -> Result<(), TrainError> {
    let path = dir.join("predictions.csv");
    let mut header = vec!["y_true".to_string(), "y_pred".to_string()];
    header.extend((0..test.n_classes).map(|c| format!("p_{c}")));
    let pred = test.argmax();
    let rows: Vec<Vec<String>> = (0..test.len())
        .map(|i| {
            let mut r = vec![test.y_true[i].to_string(), pred[i].to_string()];
            r.extend(test.row(i).iter().map(|p| format!("{p:.6}")));
            r
        })
        .collect();
    write_atomic(&path, &csv_bytes(&path, &header, &rows)?)
}

/// Labels, predictions and optional class probabilities read from a predictions file (any
/// model's, not only focal's).
#[derive(Debug, Clone, PartialEq)]
pub struct PredictionsFile {
    /// True class per sample.
    pub y_true: Vec<usize>,
    /// Predicted class per sample.
    pub y_pred: Vec<usize>,
    /// `n x n_classes` probabilities, row-major, when given.
    pub probs: Option<Vec<f64>>,
    /// Number of classes: the `p_` columns, or 1 + the largest label when there are none.
    pub n_classes: usize,
}

const HEADER_HINT: &str = "the header must be `y_true,y_pred[,p_0,...,p_{C-1}]`";

fn at(path: &Path, line: u64, column: usize, message: impl Into<String>) -> TrainError {
    TrainError::Csv {
        path: path.to_path_buf(),
        line,
        column,
        message: message.into(),
    }
}

/// Checks the header line; returns the column names.
fn read_header(path: &Path, header: &csv::StringRecord) -> Result<Vec<String>, TrainError> {
    let line = header.position().map_or(1, |p| p.line());
    let names: Vec<String> = header.iter().map(str::to_string).collect();
    for (i, expected) in ["y_true", "y_pred"].iter().enumerate() {
        match names.get(i) {
            Some(found) if found == expected => {}
            Some(found) => {
                return Err(at(
                    path,
                    line,
                    i + 1,
                    format!("expected header `{expected}`, found `{found}`; {HEADER_HINT}"),
                ));
            }
            None => {
                return Err(at(
                    path,
                    line,
                    i + 1,
                    format!("missing column `{expected}`; {HEADER_HINT}"),
                ));
            }
        }
    }
    for (c, found) in names.iter().enumerate().skip(2) {
        let expected = format!("p_{}", c - 2);
        if *found != expected {
            return Err(at(
                path,
                line,
                c + 1,
                format!(
                    "expected header `{expected}`, found `{found}`; probability columns are p_0, p_1, ... in order"
                ),
            ));
        }
    }
    let n_prob = names.len() - 2;
    if n_prob > MAX_CLASSES {
        return Err(TrainError::format(
            path,
            format!("{n_prob} probability columns; at most {MAX_CLASSES} classes are supported"),
        ));
    }
    Ok(names)
}

/// One data row: the two labels and the probabilities (appended to `probs`).
fn read_row(
    path: &Path,
    columns: &[String],
    record: &csv::StringRecord,
    probs: &mut Vec<f64>,
) -> Result<[usize; 2], TrainError> {
    let line = record.position().map_or(0, |p| p.line());
    let n_prob = columns.len() - 2;
    if record.len() != columns.len() {
        let message = if record.len() < columns.len() {
            format!(
                "missing column `{}` (expected {} columns, found {})",
                columns[record.len()],
                columns.len(),
                record.len()
            )
        } else {
            format!(
                "unexpected extra column (the header names {} columns)",
                columns.len()
            )
        };
        return Err(at(path, line, record.len().min(columns.len()) + 1, message));
    }
    let mut labels = [0usize; 2];
    for (c, label) in labels.iter_mut().enumerate() {
        let cell = &record[c];
        *label = cell.parse().map_err(|_| {
            at(
                path,
                line,
                c + 1,
                format!(
                    "`{cell}` in {} is not a class index; expected an integer >= 0",
                    columns[c]
                ),
            )
        })?;
        let limit = if n_prob > 0 { n_prob } else { MAX_CLASSES };
        if *label >= limit {
            let why = if n_prob > 0 {
                format!(
                    "there are {n_prob} probability columns, so classes are 0..{}",
                    n_prob - 1
                )
            } else {
                format!("at most {MAX_CLASSES} classes are supported")
            };
            return Err(at(
                path,
                line,
                c + 1,
                format!("label {label} in {} is out of range: {why}", columns[c]),
            ));
        }
    }
    let mut sum = 0.0;
    for c in 2..columns.len() {
        let cell = &record[c];
        let p: f64 = cell.parse().map_err(|_| {
            at(
                path,
                line,
                c + 1,
                format!("`{cell}` in {} is not a number", columns[c]),
            )
        })?;
        if !(0.0..=1.0).contains(&p) {
            return Err(at(
                path,
                line,
                c + 1,
                format!("probability {cell} in {} is outside [0, 1]", columns[c]),
            ));
        }
        sum += p;
        probs.push(p);
    }
    if n_prob > 0 && (sum - 1.0).abs() > PROB_SUM_TOLERANCE {
        return Err(at(
            path,
            line,
            3,
            format!(
                "probabilities p_0..p_{} sum to {sum}, expected 1 within {PROB_SUM_TOLERANCE}",
                n_prob - 1
            ),
        ));
    }
    Ok(labels)
}

impl PredictionsFile {
    /// Reads the `y_true,y_pred[,p_0,...,p_{C-1}]` CSV format; errors name the file, line and
    /// column.
    pub fn read(path: &Path) -> Result<Self, TrainError> {
        let file = std::fs::File::open(path).map_err(|e| TrainError::io(path, e))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(std::io::BufReader::new(file));
        let mut records = reader.records();
        let header = match records.next() {
            None => {
                return Err(TrainError::format(
                    path,
                    "empty file; expected the header `y_true,y_pred` (then optionally p_0,...)",
                ));
            }
            Some(r) => r.map_err(|e| TrainError::format(path, e))?,
        };
        let columns = read_header(path, &header)?;
        let (mut y_true, mut y_pred, mut probs) = (Vec::new(), Vec::new(), Vec::new());
        for record in records {
            let record = record.map_err(|e| TrainError::format(path, e))?;
            let [t, p] = read_row(path, &columns, &record, &mut probs)?;
            y_true.push(t);
            y_pred.push(p);
        }
        if y_true.is_empty() {
            return Err(TrainError::format(
                path,
                "no predictions after the header line",
            ));
        }
        let n_prob = columns.len() - 2;
        let n_classes = if n_prob > 0 {
            n_prob
        } else {
            1 + y_true.iter().chain(&y_pred).copied().max().unwrap_or(0)
        };
        Ok(Self {
            y_true,
            y_pred,
            probs: (n_prob > 0).then_some(probs),
            n_classes,
        })
    }
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
        write(dir.path(), &test).unwrap();
        let back = PredictionsFile::read(&dir.path().join("predictions.csv")).unwrap();
        assert_eq!(back.y_true, test.y_true);
        assert_eq!(back.y_pred, test.argmax());
        assert_eq!(back.n_classes, 2);
        let probs = back.probs.unwrap();
        for (a, b) in probs.iter().zip(&test.probs) {
            assert!((a - f64::from(*b)).abs() < 1e-6);
        }
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.csv");
        std::fs::write(&p, "y_true,y_pred,p_0,p_1\n0,0,0.9,0.1\n1,1,0.5,x\n").unwrap();
        let e = PredictionsFile::read(&p).unwrap_err();
        assert!(
            matches!(
                e,
                TrainError::Csv {
                    line: 3,
                    column: 4,
                    ..
                }
            ),
            "{e}"
        );
    }
}
