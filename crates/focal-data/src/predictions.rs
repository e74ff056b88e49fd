//! The predictions CSV `[id,]y_true,y_pred[,p_0,...,p_{C-1}]` that `focal eval --predictions`
//! reads: focal's own `predictions.csv` (written by `focal-train`) or any model's. Files without
//! the `id` column, and files with probabilities rounded to 6 decimals, read too.
//!
//! It lives here, beside the other parsers, so that it builds (and is fuzzed) without Burn.

use std::path::Path;

use crate::error::DataError;

/// Largest number of classes a predictions file may hold (the confusion matrix is dense).
pub const MAX_CLASSES: usize = 1000;
/// How far a row of probabilities may sum from 1.
pub const PROB_SUM_TOLERANCE: f64 = 1e-3;

/// Labels, predictions and optional class probabilities read from a predictions file (any
/// model's, not only focal's).
#[derive(Debug, Clone, PartialEq)]
pub struct PredictionsFile {
    /// The sample identifiers of the optional leading `id` column.
    pub ids: Option<Vec<String>>,
    /// True class per sample.
    pub y_true: Vec<usize>,
    /// Predicted class per sample.
    pub y_pred: Vec<usize>,
    /// `n x n_classes` probabilities, row-major, when given.
    pub probs: Option<Vec<f64>>,
    /// Number of classes: the `p_` columns, or 1 + the largest label when there are none.
    pub n_classes: usize,
}

const HEADER_HINT: &str = "the header must be `[id,]y_true,y_pred[,p_0,...,p_{C-1}]`";

fn at(path: &Path, line: u64, column: usize, message: impl Into<String>) -> DataError {
    DataError::PredictionsCell {
        path: path.to_path_buf(),
        line,
        column,
        message: message.into(),
    }
}

/// The columns of a predictions file: their names, and whether the first is `id`.
struct Columns {
    names: Vec<String>,
    /// 1 when the file starts with an `id` column, else 0: the index of `y_true`.
    first: usize,
}

impl Columns {
    fn n_prob(&self) -> usize {
        self.names.len() - self.first - 2
    }
}

/// Checks the header line; returns the columns.
fn read_header(path: &Path, header: &csv::StringRecord) -> Result<Columns, DataError> {
    let line = header.position().map_or(1, |p| p.line());
    let names: Vec<String> = header.iter().map(str::to_string).collect();
    let first = usize::from(names.first().is_some_and(|n| n == "id"));
    for (k, expected) in ["y_true", "y_pred"].iter().enumerate() {
        let i = first + k;
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
    for (c, found) in names.iter().enumerate().skip(first + 2) {
        let expected = format!("p_{}", c - first - 2);
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
    let columns = Columns { names, first };
    let n_prob = columns.n_prob();
    if n_prob > MAX_CLASSES {
        return Err(DataError::predictions(
            path,
            format!("{n_prob} probability columns; at most {MAX_CLASSES} classes are supported"),
        ));
    }
    Ok(columns)
}

/// One data row: the two labels and the probabilities (appended to `probs`).
fn read_row(
    path: &Path,
    cols: &Columns,
    record: &csv::StringRecord,
    probs: &mut Vec<f64>,
) -> Result<[usize; 2], DataError> {
    let line = record.position().map_or(0, |p| p.line());
    let columns = &cols.names;
    let first = cols.first;
    let n_prob = cols.n_prob();
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
    for (k, label) in labels.iter_mut().enumerate() {
        let c = first + k;
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
    for c in first + 2..columns.len() {
        let cell = &record[c];
        let p: f64 = parse_probability(cell).ok_or_else(|| {
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
            first + 3,
            format!(
                "probabilities p_0..p_{} sum to {}, expected 1 within {PROB_SUM_TOLERANCE}",
                n_prob - 1,
                // Shown to f32 precision: the cells may have been read as f32.
                sum as f32
            ),
        ));
    }
    Ok(labels)
}

/// A probability cell. A cell written as the shortest decimal of an `f32` (as focal writes
/// them) reads back as that `f32`, exactly, so a threshold taken from the run (an `f32`
/// probability widened to `f64`) decides each sample as the run did; any other decimal reads as
/// the nearest `f64`. Order and ties are the same either way.
fn parse_probability(cell: &str) -> Option<f64> {
    let wide: f64 = cell.parse().ok()?;
    match cell.parse::<f32>() {
        Ok(narrow) if narrow.to_string() == cell => Some(f64::from(narrow)),
        _ => Some(wide),
    }
}

impl PredictionsFile {
    /// Reads the `[id,]y_true,y_pred[,p_0,...,p_{C-1}]` CSV format; errors name the file, line
    /// and column.
    pub fn read(path: &Path) -> Result<Self, DataError> {
        let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(std::io::BufReader::new(file));
        let mut records = reader.records();
        let header = match records.next() {
            None => {
                return Err(DataError::predictions(
                    path,
                    "empty file; expected the header `y_true,y_pred` (then optionally p_0,...)",
                ));
            }
            Some(r) => r.map_err(|e| DataError::predictions(path, e))?,
        };
        let columns = read_header(path, &header)?;
        let (mut y_true, mut y_pred, mut probs) = (Vec::new(), Vec::new(), Vec::new());
        let mut ids = Vec::new();
        for record in records {
            let record = record.map_err(|e| DataError::predictions(path, e))?;
            let [t, p] = read_row(path, &columns, &record, &mut probs)?;
            if columns.first == 1 {
                ids.push(record[0].to_string());
            }
            y_true.push(t);
            y_pred.push(p);
        }
        if y_true.is_empty() {
            return Err(DataError::predictions(
                path,
                "no predictions after the header line",
            ));
        }
        let n_prob = columns.n_prob();
        let n_classes = if n_prob > 0 {
            n_prob
        } else {
            1 + y_true.iter().chain(&y_pred).copied().max().unwrap_or(0)
        };
        Ok(Self {
            ids: (columns.first == 1).then_some(ids),
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
    fn files_without_ids_and_rounded_to_six_decimals_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.csv");
        std::fs::write(
            &p,
            "y_true,y_pred,p_0,p_1\n0,0,0.900000,0.100000\n1,1,0.250001,0.749999\n",
        )
        .unwrap();
        let back = PredictionsFile::read(&p).unwrap();
        assert_eq!(back.ids, None);
        assert_eq!(back.y_true, vec![0, 1]);
        // 0.749999 is also the shortest decimal of an f32: it reads as that f32.
        assert_eq!(back.probs.unwrap()[3], f64::from(0.749_999_f32));
        // With ids, errors still name the right column.
        std::fs::write(&p, "id,y_true,y_pred,p_0,p_1\n4,0,0,0.5,x\n").unwrap();
        let e = PredictionsFile::read(&p).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::PredictionsCell {
                    line: 2,
                    column: 5,
                    ..
                }
            ),
            "{e}"
        );
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
                DataError::PredictionsCell {
                    line: 3,
                    column: 4,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn an_f32_written_shortest_reads_back_as_that_f32() {
        let x = 0.729_550_06_f32;
        assert_eq!(parse_probability(&x.to_string()), Some(f64::from(x)));
        // Six decimals, or more digits than an f32 has: the nearest f64.
        assert_eq!(parse_probability("0.100000"), Some(0.1));
        assert_eq!(parse_probability("0.123456789012"), Some(0.123_456_789_012));
        assert_eq!(parse_probability("x"), None);
    }
}
