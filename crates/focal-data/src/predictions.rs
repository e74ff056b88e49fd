//! The predictions CSV that `focal eval --predictions` reads: focal's own `predictions.csv`
//! (written by `focal-train`) or any model's, e.g. what a scikit-learn script writes.
//!
//! The header is `[id,]y_true[,y_pred]` followed by the probabilities, in one of these forms:
//!
//! - nothing: `[id,]y_true,y_pred` (then `y_pred` is required);
//! - one column per class, `p_0,...,p_{C-1}` (focal's form: integer labels are the class
//!   indices) or `p_<class name>,...` (the labels name the classes, and the class order is the
//!   column order; every label must be one of the columns);
//! - for a binary task, a single score column, the positive class's probability: `score`,
//!   `p_1` (integer labels 0 and 1, positive 1) or `p_<positive class name>` (string labels,
//!   exactly two classes). It is expanded to the two classes' probabilities `1 - s` and `s`.
//!
//! Labels are class indices when every `y_true` and `y_pred` cell is an integer >= 0 and the
//! probability columns (if any) are `p_0..p_{C-1}`, `score` or `p_1`; otherwise they are class
//! names (`cat`, `malignant`, `-1`; mixed integers and names are all names): the classes are then
//! the `p_<name>` columns in column order, or with no such columns (or a single score column) the
//! sorted unique labels, scikit-learn's order. With a `score` column and named classes the score is
//! the probability of the greater (second) name. Without `y_pred` the prediction is derived from
//! the probabilities: the argmax (the first maximum on ties, like numpy's), or for a single score
//! `s` the positive class when `s >= 0.5`.
//!
//! Files without the `id` column, and files with probabilities rounded to 6 decimals, read too.
//!
//! It lives here, beside the other parsers, so that it builds (and is fuzzed) without Burn.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use crate::error::DataError;

/// Largest number of classes a predictions file may hold (the confusion matrix is dense): the
/// probability columns, the largest integer label + 1, or the distinct string labels.
pub const MAX_CLASSES: usize = 1000;
/// How far a row of probabilities may sum from 1.
pub const PROB_SUM_TOLERANCE: f64 = 1e-3;

/// Labels, predictions and optional class probabilities read from a predictions file (any
/// model's, not only focal's). See the module docs for the header forms.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictionsFile {
    /// The sample identifiers of the optional leading `id` column.
    pub ids: Option<Vec<String>>,
    /// True class (index) per sample.
    pub y_true: Vec<usize>,
    /// Predicted class (index) per sample: the `y_pred` column, or derived from the
    /// probabilities when the file has none (see [`PredictionsFile::y_pred_given`]).
    pub y_pred: Vec<usize>,
    /// `n x n_classes` probabilities, row-major, when given. A single score column `s` becomes
    /// the two classes' probabilities, `s` for the positive class ([`PredictionsFile::score_of`])
    /// and `1 - s` for the other.
    pub probs: Option<Vec<f64>>,
    /// Number of classes: the probability columns (2 for a single score column), the distinct
    /// labels when they are names, or 1 + the largest integer label when there are no
    /// probabilities.
    pub n_classes: usize,
    /// The class names in class-index order when the labels are names (`cat`, `malignant`), or
    /// the probability columns are `p_<name>` but not `p_0..p_{C-1}`; `None` when the labels are
    /// the class indices themselves.
    pub class_names: Option<Vec<String>>,
    /// `Some(positive class index)` when the file had a single score column (`score`, `p_1` or
    /// `p_<name>`): the class whose probability the score was. `None` otherwise.
    pub score_of: Option<usize>,
    /// Whether the file had a `y_pred` column; `false` when `y_pred` was derived from the
    /// probabilities (argmax, or `score >= 0.5`).
    pub y_pred_given: bool,
}

const HEADER_HINT: &str = "the header must be `[id,]y_true[,y_pred]` then either one probability \
    column per class (`p_0,...,p_{C-1}` or `p_<class name>,...`), or for a binary task one score \
    column (`score`, `p_1` or `p_<positive class>`), or nothing (then `y_pred` is required)";

/// At most this many class names are listed in an error message.
const LISTED: usize = 10;

fn at(path: &Path, line: u64, column: usize, message: impl Into<String>) -> DataError {
    DataError::PredictionsCell {
        path: path.to_path_buf(),
        line,
        column,
        message: message.into(),
    }
}

/// `a, b, c`, or the first [`LISTED`] then how many there are.
fn list<S: AsRef<str>>(names: &[S]) -> String {
    let shown: Vec<&str> = names.iter().take(LISTED).map(AsRef::as_ref).collect();
    let mut out = shown.join(", ");
    if names.len() > LISTED {
        out.push_str(&format!(", ... ({} in all)", names.len()));
    }
    out
}

/// What follows the labels in the header.
enum ProbColumns {
    /// No probabilities.
    None,
    /// A `score` column: the positive class's probability.
    Score,
    /// `p_<suffix>` columns: the suffixes, in column order (one or more). A single one is a score
    /// column unless it is `p_0` with integer labels (decided with the labels).
    Named(Vec<String>),
}

/// The columns of a predictions file.
struct Columns {
    names: Vec<String>,
    /// 1 when the file starts with an `id` column, else 0: the index of `y_true`.
    first: usize,
    /// Whether `y_pred` follows `y_true`.
    has_pred: bool,
    probs: ProbColumns,
    /// The header's line.
    line: u64,
}

impl Columns {
    /// Index of the first probability column.
    fn prob_start(&self) -> usize {
        self.first + 1 + usize::from(self.has_pred)
    }

    fn n_prob(&self) -> usize {
        self.names.len() - self.prob_start()
    }

    /// The `p_0..p_{k-1}` check: whether the probability columns are focal's indexed form.
    fn indexed(&self) -> bool {
        match &self.probs {
            ProbColumns::Named(suffixes) => suffixes
                .iter()
                .enumerate()
                .all(|(i, s)| *s == i.to_string()),
            _ => false,
        }
    }
}

/// Checks the header line; returns the columns.
fn read_header(path: &Path, header: &csv::StringRecord) -> Result<Columns, DataError> {
    let line = header.position().map_or(1, |p| p.line());
    let names: Vec<String> = header.iter().map(str::to_string).collect();
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(names.len());
    for (c, name) in names.iter().enumerate() {
        if let Some(earlier) = seen.insert(name.as_str(), c) {
            return Err(at(
                path,
                line,
                c + 1,
                format!(
                    "duplicate column `{name}` (also column {}); every column must be named once",
                    earlier + 1
                ),
            ));
        }
    }
    let first = usize::from(names.first().is_some_and(|n| n == "id"));
    match names.get(first) {
        Some(found) if found == "y_true" => {}
        Some(found) => {
            return Err(at(
                path,
                line,
                first + 1,
                format!("expected header `y_true`, found `{found}`; {HEADER_HINT}"),
            ));
        }
        None => {
            return Err(at(
                path,
                line,
                first + 1,
                format!("missing column `y_true`; {HEADER_HINT}"),
            ));
        }
    }
    let has_pred = names.get(first + 1).is_some_and(|n| n == "y_pred");
    let start = first + 1 + usize::from(has_pred);
    let n_prob = names.len() - start;
    let mut suffixes = Vec::with_capacity(n_prob);
    let mut score = false;
    for (c, found) in names.iter().enumerate().skip(start) {
        if found == "score" {
            if n_prob != 1 {
                return Err(at(
                    path,
                    line,
                    c + 1,
                    "`score` must be the only probability column (it is the positive class's \
                     probability in a binary task); for more classes give one `p_<class>` \
                     column per class",
                ));
            }
            score = true;
        } else if let Some(suffix) = found.strip_prefix("p_") {
            if suffix.is_empty() {
                return Err(at(
                    path,
                    line,
                    c + 1,
                    "column `p_` names no class; probability columns are `p_<class>`",
                ));
            }
            suffixes.push(suffix.to_string());
        } else {
            let expected = if c == first + 1 {
                "`y_pred`, a probability column `p_<class>` or `score`"
            } else {
                "a probability column `p_<class>` (or a single `score`)"
            };
            return Err(at(
                path,
                line,
                c + 1,
                format!("expected header {expected}, found `{found}`; {HEADER_HINT}"),
            ));
        }
    }
    if n_prob == 0 && !has_pred {
        return Err(at(
            path,
            line,
            first + 2,
            format!(
                "missing column `y_pred`: the header has neither predictions nor probabilities \
                 to evaluate; {HEADER_HINT}"
            ),
        ));
    }
    if n_prob > MAX_CLASSES {
        return Err(DataError::predictions(
            path,
            format!("{n_prob} probability columns; at most {MAX_CLASSES} classes are supported"),
        ));
    }
    let probs = if score {
        ProbColumns::Score
    } else if n_prob > 0 {
        ProbColumns::Named(suffixes)
    } else {
        ProbColumns::None
    };
    Ok(Columns {
        names,
        first,
        has_pred,
        probs,
        line,
    })
}

/// The cells of the data rows, before the labels are known to be indices or names.
#[derive(Default)]
struct Cells {
    /// The line of each row.
    lines: Vec<u64>,
    ids: Vec<String>,
    y_true: Vec<String>,
    /// Empty when the file has no `y_pred` column.
    y_pred: Vec<String>,
    /// `n x n_prob`, row-major, as parsed.
    probs: Vec<f64>,
}

/// One data row: checks its length and probabilities, and appends its cells to `cells`.
fn read_row(
    path: &Path,
    cols: &Columns,
    record: &csv::StringRecord,
    cells: &mut Cells,
) -> Result<(), DataError> {
    let line = record.position().map_or(0, |p| p.line());
    let columns = &cols.names;
    let first = cols.first;
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
    let label_columns = if cols.has_pred { 2 } else { 1 };
    for c in first..first + label_columns {
        if record[c].is_empty() {
            return Err(at(
                path,
                line,
                c + 1,
                format!(
                    "empty {}; every row needs a class (an index >= 0 or a name)",
                    columns[c]
                ),
            ));
        }
    }
    for c in cols.prob_start()..columns.len() {
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
        cells.probs.push(p);
    }
    cells.lines.push(line);
    if first == 1 {
        cells.ids.push(record[0].to_string());
    }
    cells.y_true.push(record[first].to_string());
    if cols.has_pred {
        cells.y_pred.push(record[first + 1].to_string());
    }
    Ok(())
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

/// How the probability columns turned out once the labels are known.
enum Layout {
    /// No probabilities.
    None,
    /// One column per class.
    Full,
    /// A single score column: the positive class's index.
    Score(usize),
}

/// The classes, once the labels are read.
struct Classes {
    n: usize,
    names: Option<Vec<String>>,
    layout: Layout,
    y_true: Vec<usize>,
    /// Empty when the file has no `y_pred` column.
    y_pred: Vec<usize>,
}

/// Maps every label cell through `class`, which gives the class index or what is wrong with
/// the cell (given the cell and its column's name); errors name the cell's line and column.
fn map_labels(
    path: &Path,
    cols: &Columns,
    cells: &Cells,
    class: impl Fn(&str, &str) -> Result<usize, String>,
) -> Result<(Vec<usize>, Vec<usize>), DataError> {
    let (mut y_true, mut y_pred) = (
        Vec::with_capacity(cells.y_true.len()),
        Vec::with_capacity(cells.y_pred.len()),
    );
    for (i, &line) in cells.lines.iter().enumerate() {
        let c = cols.first;
        y_true.push(class(&cells.y_true[i], &cols.names[c]).map_err(|m| at(path, line, c + 1, m))?);
        if let Some(cell) = cells.y_pred.get(i) {
            y_pred.push(class(cell, &cols.names[c + 1]).map_err(|m| at(path, line, c + 2, m))?);
        }
    }
    Ok((y_true, y_pred))
}

/// Labels that are class indices: the file has none but integers >= 0, and its probability
/// columns (if any) are `p_0..p_{C-1}`, `score` or `p_1`.
fn index_classes(path: &Path, cols: &Columns, cells: &Cells) -> Result<Classes, DataError> {
    let n_prob = cols.n_prob();
    let single_score = match &cols.probs {
        ProbColumns::Score => true,
        ProbColumns::Named(s) => s.len() == 1 && s[0] == "1",
        ProbColumns::None => false,
    };
    let (limit, why, layout) = match &cols.probs {
        ProbColumns::None => (
            MAX_CLASSES,
            format!("at most {MAX_CLASSES} classes are supported"),
            Layout::None,
        ),
        _ if single_score => (
            2,
            format!(
                "the single score column `{}` is the probability of class 1, so classes are 0 \
                 and 1",
                cols.names[cols.prob_start()]
            ),
            Layout::Score(1),
        ),
        _ => (
            n_prob,
            format!(
                "there are {n_prob} probability columns, so classes are 0..{}",
                n_prob - 1
            ),
            Layout::Full,
        ),
    };
    let (y_true, y_pred) = map_labels(path, cols, cells, |cell, column| {
        let label: usize = cell.parse().map_err(|_| {
            format!("`{cell}` in {column} is not a class index; expected an integer >= 0")
        })?;
        if label >= limit {
            return Err(format!("label {label} in {column} is out of range: {why}"));
        }
        Ok(label)
    })?;
    let n = match layout {
        Layout::None => 1 + y_true.iter().chain(&y_pred).copied().max().unwrap_or(0),
        Layout::Score(_) => 2,
        Layout::Full => n_prob,
    };
    Ok(Classes {
        n,
        names: None,
        layout,
        y_true,
        y_pred,
    })
}

/// Labels that are class names.
fn named_classes(path: &Path, cols: &Columns, cells: &Cells) -> Result<Classes, DataError> {
    let labels = || cells.y_true.iter().chain(&cells.y_pred).map(String::as_str);
    let sorted_unique = || -> Result<Vec<String>, DataError> {
        let set: BTreeSet<&str> = labels().collect();
        if set.len() > MAX_CLASSES {
            return Err(DataError::predictions(
                path,
                format!(
                    "{} distinct labels; at most {MAX_CLASSES} classes are supported",
                    set.len()
                ),
            ));
        }
        Ok(set.into_iter().map(str::to_string).collect())
    };
    let score_column = cols.prob_start() + 1;
    let (names, layout) = match &cols.probs {
        ProbColumns::None => (sorted_unique()?, Layout::None),
        ProbColumns::Named(suffixes) if suffixes.len() > 1 => (suffixes.clone(), Layout::Full),
        single => {
            let names = sorted_unique()?;
            let column = &cols.names[cols.prob_start()];
            if names.len() != 2 {
                return Err(at(
                    path,
                    cols.line,
                    score_column,
                    format!(
                        "a single score column (`{column}`) needs exactly two classes among \
                         the labels, found {}: {}; for more classes give one `p_<class>` column \
                         per class",
                        names.len(),
                        list(&names)
                    ),
                ));
            }
            let positive = match single {
                ProbColumns::Named(suffixes) => names
                    .iter()
                    .position(|n| *n == suffixes[0])
                    .ok_or_else(|| {
                        at(
                            path,
                            cols.line,
                            score_column,
                            format!(
                                "the score column `{column}` is the probability of class `{}`, \
                                 but the labels are `{}` and `{}`; name it `p_{}` or `p_{}` \
                                 (or `score`, for `{}`)",
                                suffixes[0], names[0], names[1], names[0], names[1], names[1]
                            ),
                        )
                    })?,
                // `score` with named classes: the greater name is the positive.
                _ => 1,
            };
            (names, Layout::Score(positive))
        }
    };
    let index: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let from_columns = matches!(layout, Layout::Full);
    let (y_true, y_pred) = map_labels(path, cols, cells, |cell, column| {
        index.get(cell).copied().ok_or_else(|| {
            let source = if from_columns {
                " (named by the probability columns p_<class>); rename the label or add its \
                 column"
            } else {
                ""
            };
            format!(
                "`{cell}` in {column} is not one of the classes {}{source}",
                list(&names)
            )
        })
    })?;
    Ok(Classes {
        n: names.len(),
        names: Some(names),
        layout,
        y_true,
        y_pred,
    })
}

/// The first index of the largest value (numpy's argmax on ties).
fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, &p) in row.iter().enumerate() {
        if p > row[best] {
            best = i;
        }
    }
    best
}

impl PredictionsFile {
    /// Reads a predictions CSV in any of the forms of the module docs; errors name the file,
    /// line and column.
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
                    format!("empty file; {HEADER_HINT}"),
                ));
            }
            Some(r) => r.map_err(|e| DataError::predictions(path, e))?,
        };
        let cols = read_header(path, &header)?;
        let mut cells = Cells::default();
        for record in records {
            let record = record.map_err(|e| DataError::predictions(path, e))?;
            read_row(path, &cols, &record, &mut cells)?;
        }
        if cells.lines.is_empty() {
            return Err(DataError::predictions(
                path,
                "no predictions after the header line",
            ));
        }
        let integers = cells
            .y_true
            .iter()
            .chain(&cells.y_pred)
            .all(|c| c.parse::<usize>().is_ok());
        let index_columns = match &cols.probs {
            ProbColumns::None | ProbColumns::Score => true,
            ProbColumns::Named(s) => cols.indexed() || s.len() == 1 && s[0] == "1",
        };
        let classes = if integers && index_columns {
            index_classes(path, &cols, &cells)?
        } else {
            named_classes(path, &cols, &cells)?
        };
        let n_prob = cols.n_prob();
        let probs = match classes.layout {
            Layout::None => None,
            Layout::Full => {
                for (row, &line) in cells.probs.chunks_exact(n_prob).zip(&cells.lines) {
                    let sum: f64 = row.iter().fold(0.0, |s, p| s + p);
                    if (sum - 1.0).abs() > PROB_SUM_TOLERANCE {
                        return Err(at(
                            path,
                            line,
                            cols.prob_start() + 1,
                            format!(
                                "probabilities {}..{} sum to {}, expected 1 within \
                                 {PROB_SUM_TOLERANCE}",
                                cols.names[cols.prob_start()],
                                cols.names[cols.names.len() - 1],
                                // Shown to f32 precision: the cells may have been read as f32.
                                sum as f32
                            ),
                        ));
                    }
                }
                Some(cells.probs)
            }
            Layout::Score(positive) => Some(
                cells
                    .probs
                    .iter()
                    .flat_map(|&s| {
                        let mut row = [1.0 - s; 2];
                        row[positive] = s;
                        row
                    })
                    .collect(),
            ),
        };
        let y_pred = if cols.has_pred {
            classes.y_pred
        } else {
            match (&probs, &classes.layout) {
                (Some(p), Layout::Score(positive)) => p
                    .chunks_exact(2)
                    .map(|row| {
                        if row[*positive] >= 0.5 {
                            *positive
                        } else {
                            1 - positive
                        }
                    })
                    .collect(),
                (Some(p), _) => p.chunks_exact(classes.n).map(argmax).collect(),
                // The header has probabilities when it has no `y_pred`.
                (None, _) => classes.y_true.clone(),
            }
        };
        Ok(Self {
            ids: (cols.first == 1).then_some(cells.ids),
            y_true: classes.y_true,
            y_pred,
            probs,
            n_classes: classes.n,
            class_names: classes.names,
            score_of: match classes.layout {
                Layout::Score(positive) => Some(positive),
                _ => None,
            },
            y_pred_given: cols.has_pred,
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

    fn read(text: &str) -> Result<PredictionsFile, DataError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.csv");
        std::fs::write(&p, text).unwrap();
        PredictionsFile::read(&p)
    }

    /// The line, column and message of a cell error.
    fn cell_error(text: &str) -> (u64, usize, String) {
        match read(text) {
            Err(DataError::PredictionsCell {
                line,
                column,
                message,
                ..
            }) => (line, column, message),
            other => panic!("expected a cell error for {text:?}, got {other:?}"),
        }
    }

    fn names(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn focal_s_own_file_reads_as_before() {
        let back =
            read("id,y_true,y_pred,p_0,p_1,p_2\na,2,1,0.1,0.6,0.3\nb,0,0,0.5,0.25,0.25\n").unwrap();
        assert_eq!(back.ids, names(&["a", "b"]));
        assert_eq!(back.y_true, vec![2, 0]);
        assert_eq!(back.y_pred, vec![1, 0]);
        assert_eq!(back.n_classes, 3);
        assert_eq!(back.probs.as_ref().unwrap().len(), 6);
        assert_eq!(back.class_names, None);
        assert_eq!(back.score_of, None);
        assert!(back.y_pred_given);
        // Integer labels without probabilities: 1 + the largest label.
        let back = read("y_true,y_pred\n0,3\n1,1\n").unwrap();
        assert_eq!((back.n_classes, back.class_names), (4, None));
        // p_0 alone with integer labels is one class, as before.
        let back = read("y_true,y_pred,p_0\n0,0,1\n").unwrap();
        assert_eq!((back.n_classes, back.score_of), (1, None));
        assert_eq!(back.probs, Some(vec![1.0]));
        // And an integer label past the columns is still out of range.
        let (line, column, message) = cell_error("y_true,y_pred,p_0,p_1\n0,2,0.5,0.5\n");
        assert_eq!((line, column), (2, 2));
        assert!(message.contains("out of range"), "{message}");
    }

    #[test]
    fn string_labels_without_probabilities_are_sorted() {
        let back = read("y_true,y_pred\ncat,dog\ndog,dog\nbird,cat\n").unwrap();
        assert_eq!(back.class_names, names(&["bird", "cat", "dog"]));
        assert_eq!(back.y_true, vec![1, 2, 0]);
        assert_eq!(back.y_pred, vec![2, 2, 1]);
        assert_eq!(back.n_classes, 3);
        assert_eq!((back.probs, back.score_of), (None, None));
        assert!(back.y_pred_given);
        // Mixed integers and names are all names, sorted as strings.
        let back = read("y_true,y_pred\n10,cat\n9,10\n").unwrap();
        assert_eq!(back.class_names, names(&["10", "9", "cat"]));
        assert_eq!(back.y_true, vec![0, 1]);
        assert_eq!(back.y_pred, vec![2, 0]);
    }

    #[test]
    fn p_name_columns_give_the_class_order() {
        let back = read(
            "y_true,y_pred,p_malignant,p_benign\nbenign,benign,0.2,0.8\nmalignant,benign,0.4,0.6\n",
        )
        .unwrap();
        assert_eq!(back.class_names, names(&["malignant", "benign"]));
        assert_eq!(back.y_true, vec![1, 0]);
        assert_eq!(back.y_pred, vec![1, 1]);
        // (Shortest f32 decimals: read as those f32.)
        let f = |x: f32| f64::from(x);
        assert_eq!(back.probs, Some(vec![f(0.2), f(0.8), f(0.4), f(0.6)]));
        assert_eq!((back.n_classes, back.score_of), (2, None));
        // Integer labels with columns that are not p_0..p_{C-1} in order: the columns name them.
        let back = read("y_true,y_pred,p_1,p_0\n0,1,0.3,0.7\n").unwrap();
        assert_eq!(back.class_names, names(&["1", "0"]));
        assert_eq!((back.y_true, back.y_pred), (vec![1], vec![0]));
        // Named columns still sum to 1.
        let (line, column, message) = cell_error("y_true,y_pred,p_b,p_a\na,a,0.3,0.3\n");
        assert_eq!((line, column), (2, 3));
        assert!(message.contains("p_b..p_a sum to"), "{message}");
    }

    #[test]
    fn a_label_not_among_the_columns_names_its_cell() {
        let text = "y_true,y_pred,p_cat,p_dog\ncat,cat,0.9,0.1\ncat,bird,0.5,0.5\n";
        let (line, column, message) = cell_error(text);
        assert_eq!((line, column), (3, 2));
        assert!(message.contains("`bird` in y_pred"), "{message}");
        assert!(message.contains("cat, dog"), "{message}");
        let text = "id,y_true,y_pred,p_cat,p_dog\n1,cat,cat,0.9,0.1\n2,bird,cat,0.5,0.5\n";
        let (line, column, _) = cell_error(text);
        assert_eq!((line, column), (3, 2));
        // String labels against focal's indexed columns: not one of the classes 0, 1.
        let (line, column, message) = cell_error("y_true,y_pred,p_0,p_1\n0,cat,0.5,0.5\n");
        assert_eq!((line, column), (2, 2));
        assert!(message.contains("0, 1"), "{message}");
    }

    #[test]
    fn a_score_column_with_integer_labels() {
        let back = read("y_true,score\n0,0.2\n1,0.5\n1,0.49\n0,0.7\n").unwrap();
        assert_eq!(back.y_true, vec![0, 1, 1, 0]);
        assert_eq!(back.y_pred, vec![0, 1, 0, 1]);
        assert!(!back.y_pred_given);
        assert_eq!(back.score_of, Some(1));
        assert_eq!((back.n_classes, back.class_names.clone()), (2, None));
        let s = f64::from(0.2_f32);
        let probs = back.probs.unwrap();
        assert_eq!(probs.len(), 8);
        assert_eq!((probs[0], probs[1]), (1.0 - s, s));
        assert_eq!((probs[2], probs[3]), (0.5, 0.5));
        // Labels must be 0 or 1.
        let (line, column, message) = cell_error("y_true,score\n0,0.2\n2,0.5\n");
        assert_eq!((line, column), (3, 1));
        assert!(message.contains("classes are 0 and 1"), "{message}");
    }

    #[test]
    fn y_pred_with_a_p_1_column() {
        let back = read("y_true,y_pred,p_1\n0,1,0.3\n1,1,0.9\n").unwrap();
        assert_eq!(back.y_pred, vec![1, 1]);
        assert!(back.y_pred_given);
        assert_eq!(back.score_of, Some(1));
        let s = f64::from(0.3_f32);
        assert_eq!(back.probs.unwrap()[..2], [1.0 - s, s]);
        assert_eq!(back.class_names, None);
    }

    #[test]
    fn a_score_column_with_string_labels_is_the_greater_label_s() {
        let back = read("y_true,score\nspam,0.9\nham,0.1\nham,0.5\n").unwrap();
        assert_eq!(back.class_names, names(&["ham", "spam"]));
        assert_eq!(back.score_of, Some(1));
        assert_eq!(back.y_true, vec![1, 0, 0]);
        assert_eq!(back.y_pred, vec![1, 0, 1]);
        // -1 / 1 labels are names: "-1" < "1".
        let back = read("y_true,y_pred,score\n-1,1,0.6\n1,1,0.7\n").unwrap();
        assert_eq!(back.class_names, names(&["-1", "1"]));
        assert_eq!((back.y_true, back.score_of), (vec![0, 1], Some(1)));
        // Not two classes: the header's score column is named.
        let (line, column, message) = cell_error("y_true,y_pred,score\na,b,0.5\nc,a,0.5\n");
        assert_eq!((line, column), (1, 3));
        assert!(message.contains("exactly two classes"), "{message}");
        assert!(message.contains("a, b, c"), "{message}");
        let (line, column, _) = cell_error("y_true,score\na,0.5\n");
        assert_eq!((line, column), (1, 2));
    }

    #[test]
    fn a_single_p_name_column_is_that_class_s_score() {
        let back = read("y_true,p_malignant\nbenign,0.3\nmalignant,0.8\n").unwrap();
        assert_eq!(back.class_names, names(&["benign", "malignant"]));
        assert_eq!(back.score_of, Some(1));
        assert_eq!(back.y_pred, vec![0, 1]);
        // The positive may come first in sorted order: s goes to its index.
        let back = read("y_true,p_benign\nbenign,0.75\nmalignant,0.25\n").unwrap();
        assert_eq!(back.score_of, Some(0));
        assert_eq!(back.probs, Some(vec![0.75, 0.25, 0.25, 0.75]));
        assert_eq!(back.y_pred, vec![0, 1]);
        // A column naming neither label.
        let (line, column, message) = cell_error("y_true,p_other\nbenign,0.3\nmalignant,0.8\n");
        assert_eq!((line, column), (1, 2));
        assert!(message.contains("`benign` and `malignant`"), "{message}");
    }

    #[test]
    fn a_score_outside_zero_one_is_an_error() {
        let (line, column, message) = cell_error("y_true,score\n0,0.5\n1,1.5\n");
        assert_eq!((line, column), (3, 2));
        assert!(message.contains("outside [0, 1]"), "{message}");
        assert_eq!(cell_error("y_true,p_1\n0,NaN\n").0, 2);
        assert_eq!(cell_error("y_true,score\n0,-0.1\n").1, 2);
    }

    #[test]
    fn a_header_without_predictions_or_probabilities_is_an_error() {
        let (line, column, message) = cell_error("y_true\n0\n");
        assert_eq!((line, column), (1, 2));
        assert!(message.contains("y_pred"), "{message}");
        assert_eq!(cell_error("id,y_true\na,0\n").1, 3);
        // A column that is neither y_pred nor a probability.
        let (_, column, message) = cell_error("y_true,pred\n0,0\n");
        assert_eq!(column, 2);
        assert!(message.contains("found `pred`"), "{message}");
        // `score` beside other probability columns.
        assert_eq!(cell_error("y_true,p_0,score\n0,1,1\n").1, 3);
    }

    #[test]
    fn duplicate_columns_are_named() {
        let (line, column, message) = cell_error("y_true,y_pred,p_0,p_0\n0,0,0.5,0.5\n");
        assert_eq!((line, column), (1, 4));
        assert!(message.contains("duplicate column `p_0`"), "{message}");
        assert_eq!(cell_error("id,y_true,id,y_pred\n").1, 3);
    }

    #[test]
    fn y_pred_is_the_first_argmax() {
        let back =
            read("y_true,p_0,p_1,p_2\n0,0.4,0.4,0.2\n2,0.25,0.25,0.5\n1,0.2,0.4,0.4\n").unwrap();
        assert_eq!(back.y_pred, vec![0, 2, 1]);
        assert!(!back.y_pred_given);
        assert_eq!((back.n_classes, back.score_of), (3, None));
        let back = read("y_true,p_dog,p_cat\ncat,0.5,0.5\n").unwrap();
        assert_eq!(back.class_names, names(&["dog", "cat"]));
        assert_eq!((back.y_true, back.y_pred), (vec![1], vec![0]));
    }

    #[test]
    fn the_id_column_goes_with_every_form() {
        let back = read("id,y_true,y_pred\nr1,cat,dog\nr2,dog,dog\n").unwrap();
        assert_eq!(back.ids, names(&["r1", "r2"]));
        assert_eq!(back.class_names, names(&["cat", "dog"]));
        let back = read("id,y_true,score\nr1,0,0.9\nr2,1,0.1\n").unwrap();
        assert_eq!(back.ids, names(&["r1", "r2"]));
        assert_eq!((back.y_pred, back.score_of), (vec![1, 0], Some(1)));
        let back = read("id,y_true,p_0,p_1\nr1,0,0.9,0.1\n").unwrap();
        assert_eq!((back.ids, back.y_pred), (names(&["r1"]), vec![0]));
        let back = read("id,y_true,y_pred,p_b,p_a\nr1,a,b,0.9,0.1\n").unwrap();
        assert_eq!(back.ids, names(&["r1"]));
        assert_eq!((back.y_true, back.y_pred), (vec![1], vec![0]));
        let back = read("id,y_true,p_yes\nr1,no,0.9\nr2,yes,0.2\n").unwrap();
        assert_eq!(back.ids, names(&["r1", "r2"]));
        assert_eq!(back.class_names, names(&["no", "yes"]));
        assert_eq!((back.y_pred, back.score_of), (vec![1, 0], Some(1)));
    }

    #[test]
    fn class_limits_hold_for_names_too() {
        let mut text = String::from("y_true,y_pred\n");
        for i in 0..=MAX_CLASSES {
            text.push_str(&format!("c{i},c0\n"));
        }
        assert!(matches!(read(&text), Err(DataError::Predictions { .. })));
        let mut header = String::from("y_true,y_pred");
        for i in 0..=MAX_CLASSES {
            header.push_str(&format!(",p_{i}"));
        }
        assert!(matches!(
            read(&format!("{header}\n")),
            Err(DataError::Predictions { .. })
        ));
    }

    #[test]
    fn malformed_files_are_errors_not_panics() {
        let inputs: &[&[u8]] = &[
            b"",
            b"\n",
            b",",
            b"id",
            b"id\n1\n",
            b"id,y_true",
            b"y_true,y_pred\n",
            b"y_true,y_pred\n,\n",
            b"y_true,score\n,0.5\n",
            b"y_true,score,score\n0,1,1\n",
            b"y_true,p_\n0,1\n",
            b"y_true,p_1\n0\n",
            b"y_true,p_1\n0,0.5,1\n",
            b"y_true,p_0\na,1\nb,0\n",
            b"y_true,p_a\n\"a,0.5\n",
            b"y_true,y_pred,p_a,p_b\na,c,0.5,0.5\n",
            b"y_true,p_a,p_b\na,inf,-inf\n",
            b"y_true,p_a,p_b\na,0.5,0.5\nb\n",
            b"y_true,y_pred\n99999999999999999999999,0\n",
            b"y_true,y_pred\n1000,0\n",
            b"y_true,y_pred\n\xff\xfe,0\n",
            b"\xef\xbb\xbfy_true,y_pred\n0,0\n",
            b"y_true,y_pred,score\n1,1,0.5\n1,1,0.5\n",
            b"id,y_true,y_pred,p_1\n,,,\n",
        ];
        for input in inputs {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("p.csv");
            std::fs::write(&p, input).unwrap();
            let _ = PredictionsFile::read(&p);
        }
        // Some of them read: a lone class with a score column and integer labels.
        assert!(read("y_true,y_pred,score\n1,1,0.5\n").is_ok());
    }
}
