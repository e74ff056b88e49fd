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
mod tests;
