//! CSV files with a header: numeric features and one label column.

use std::path::Path;

use crate::budget::Budget;
use crate::dataset::{DataFormat, Dataset, SampleKind};
use crate::error::DataError;

/// Loads a CSV file.
///
/// The first line is the header. The label column is `label_column` when given, else the column
/// named `label` when there is one, else the last column. Every other column is a feature and
/// must hold a finite number in every row. Labels are text; the classes are the distinct labels,
/// sorted numerically when every label is a number (`2 < 10`), else as text, and label `i` is
/// the `i`-th class. No predefined splits. The values read are checked against `budget`
/// (`None`: the default budget) row by row.
pub(crate) fn load_csv(
    path: &Path,
    label_column: Option<&str>,
    budget: Option<u64>,
) -> Result<Dataset, DataError> {
    read_csv(path, Some(label_column), budget)
}

/// The header of a CSV file (its column names).
pub(crate) fn csv_header(path: &Path) -> Result<Vec<String>, DataError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| csv_error(path, e))?;
    Ok(rdr
        .headers()
        .map_err(|e| csv_error(path, e))?
        .iter()
        .map(String::from)
        .collect())
}

/// Loads a CSV file whose every column is a feature (no label column): a data set of one
/// class, `unlabelled`, every row labelled 0.
pub(crate) fn load_csv_features(path: &Path, budget: Option<u64>) -> Result<Dataset, DataError> {
    read_csv(path, None, budget)
}

/// Column names for a message: all of them when few, else the first ones and the count.
pub(crate) fn column_list(headers: &[String]) -> String {
    const SHOWN: usize = 20;
    if headers.len() <= SHOWN {
        headers.join(", ")
    } else {
        format!(
            "{}, ... ({} columns in all)",
            headers[..SHOWN].join(", "),
            headers.len()
        )
    }
}

/// `label`: `None`, no label column; `Some(column)`, the label column as [`load_csv`] picks it.
fn read_csv(
    path: &Path,
    label: Option<Option<&str>>,
    budget: Option<u64>,
) -> Result<Dataset, DataError> {
    let mut budget = Budget::new(budget);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| csv_error(path, e))?;
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| csv_error(path, e))?
        .iter()
        .map(String::from)
        .collect();
    if headers.is_empty() || headers.iter().all(String::is_empty) {
        return Err(DataError::CsvMalformed {
            path: path.to_path_buf(),
            line: 1,
            reason: "empty header".into(),
        });
    }
    let label_idx =
        match label {
            None => None,
            Some(Some(name)) => Some(headers.iter().position(|h| h == name).ok_or_else(|| {
                DataError::missing_label_column(path, name, column_list(&headers))
            })?),
            Some(None) => Some(
                headers
                    .iter()
                    .position(|h| h == "label")
                    .unwrap_or(headers.len() - 1),
            ),
        };
    if label_idx.is_some() && headers.len() < 2 {
        return Err(DataError::CsvMalformed {
            path: path.to_path_buf(),
            line: 1,
            reason: "only one column: a label column and at least one feature column are needed"
                .into(),
        });
    }
    let n_features = headers.len() - usize::from(label_idx.is_some());
    let mut x = Vec::new();
    let mut labels_text = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_error(path, e))?;
        let line = rec.position().map_or(0, |p| p.line());
        // Features as f32 and the label as text: at least 4 bytes per cell.
        budget.take(
            path,
            &format!("the rows up to line {line}"),
            4 * rec.len() as u64 + 24,
        )?;
        if label_idx.is_none() {
            labels_text.push(String::from("unlabelled"));
        }
        for (col, cell) in rec.iter().enumerate() {
            if Some(col) == label_idx {
                labels_text.push(cell.to_string());
                continue;
            }
            match cell.parse::<f32>() {
                Ok(v) if v.is_finite() => x.push(v),
                _ => {
                    return Err(DataError::csv_not_numeric(
                        path,
                        line,
                        col + 1,
                        headers[col].clone(),
                        cell,
                    ));
                }
            }
        }
    }
    if labels_text.is_empty() {
        return Err(DataError::CsvMalformed {
            path: path.to_path_buf(),
            line: 2,
            reason: "no data rows after the header".into(),
        });
    }
    let (classes, y) = classes_of(&labels_text);
    Dataset::new(
        DataFormat::Csv,
        Some(path.to_path_buf()),
        SampleKind::Tabular { n_features },
        x,
        y,
        classes,
        None,
    )
}

/// The classes of text labels and each label's index: the distinct labels, sorted numerically
/// when every label is a number (`2 < 10`), else as text.
pub(crate) fn classes_of(labels: &[String]) -> (Vec<String>, Vec<usize>) {
    let mut classes: Vec<String> = labels.to_vec();
    classes.sort();
    classes.dedup();
    let numeric: Option<Vec<f64>> = classes.iter().map(|c| c.parse::<f64>().ok()).collect();
    if let Some(values) = numeric {
        let mut pairs: Vec<(f64, String)> = values.into_iter().zip(classes).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        classes = pairs.into_iter().map(|(_, s)| s).collect();
    }
    let index: std::collections::HashMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let y = labels
        .iter()
        .map(|l| index.get(l.as_str()).copied().unwrap_or(0))
        .collect();
    (classes, y)
}

pub(crate) fn csv_error(path: &Path, e: csv::Error) -> DataError {
    let line = e.position().map_or(0, |p| p.line());
    match e.into_kind() {
        csv::ErrorKind::Io(io) => DataError::io(path, io),
        csv::ErrorKind::Utf8 { err, .. } => DataError::CsvMalformed {
            path: path.to_path_buf(),
            line,
            reason: format!(
                "field {} is not valid UTF-8 text; save the file as UTF-8",
                err.field() + 1
            ),
        },
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => DataError::CsvMalformed {
            path: path.to_path_buf(),
            line,
            reason: format!("{len} columns where the header has {expected_len}"),
        },
        other => DataError::CsvMalformed {
            path: path.to_path_buf(),
            line,
            reason: format!("{other:?}"),
        },
    }
}
