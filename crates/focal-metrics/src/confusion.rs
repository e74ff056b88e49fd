//! The confusion matrix.

use serde::Serialize;

use crate::error::{MetricsError, Result};

/// Counts of (true label, predicted label) pairs over classes `0..n_classes`.
///
/// **Rows are the true label, columns the predicted label** (scikit-learn's convention):
/// `get(t, p)` is the number of samples of class `t` that were predicted as `p`. Every class in
/// `0..n_classes` has a row and a column, even when it never occurs.
///
/// Serializes as a list of rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    n_classes: usize,
    /// Row-major `n_classes x n_classes` counts.
    counts: Vec<u64>,
}

impl ConfusionMatrix {
    /// Counts the pairs `(y_true[i], y_pred[i])`.
    ///
    /// # Errors
    /// [`MetricsError::NoClasses`] if `n_classes` is 0, [`MetricsError::Empty`] for no samples,
    /// [`MetricsError::LengthMismatch`], and [`MetricsError::LabelOutOfRange`] for a label
    /// `>= n_classes` (its `index` is the position in `y_true`, then in `y_pred`).
    pub fn new(y_true: &[usize], y_pred: &[usize], n_classes: usize) -> Result<Self> {
        if n_classes == 0 {
            return Err(MetricsError::NoClasses);
        }
        if y_true.len() != y_pred.len() {
            return Err(MetricsError::LengthMismatch {
                y_true: y_true.len(),
                y_pred: y_pred.len(),
            });
        }
        if y_true.is_empty() {
            return Err(MetricsError::Empty);
        }
        check_labels(y_true, n_classes)?;
        check_labels(y_pred, n_classes)?;
        let mut counts = vec![0u64; n_classes * n_classes];
        for (&t, &p) in y_true.iter().zip(y_pred) {
            counts[t * n_classes + p] += 1;
        }
        Ok(Self { n_classes, counts })
    }

    /// Builds a matrix from rows of counts (rows = true label, columns = predicted).
    ///
    /// # Errors
    /// [`MetricsError::NoClasses`] for no rows, [`MetricsError::NotSquare`] if the rows are
    /// not square, [`MetricsError::Empty`] if every count is zero.
    pub fn from_rows(rows: &[Vec<u64>]) -> Result<Self> {
        let n_classes = rows.len();
        if n_classes == 0 {
            return Err(MetricsError::NoClasses);
        }
        let mut counts = Vec::with_capacity(n_classes * n_classes);
        for (i, row) in rows.iter().enumerate() {
            if row.len() != n_classes {
                return Err(MetricsError::NotSquare {
                    row: i,
                    len: row.len(),
                    n_classes,
                });
            }
            counts.extend_from_slice(row);
        }
        if counts.iter().all(|&c| c == 0) {
            return Err(MetricsError::Empty);
        }
        Ok(Self { n_classes, counts })
    }

    /// Number of classes (rows, and columns).
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Number of samples of true class `true_label` predicted as `pred_label`.
    ///
    /// # Panics
    /// If either index is `>= n_classes()`.
    pub fn get(&self, true_label: usize, pred_label: usize) -> u64 {
        assert!(
            true_label < self.n_classes && pred_label < self.n_classes,
            "confusion matrix index ({true_label}, {pred_label}) out of range for {} classes",
            self.n_classes
        );
        self.counts[true_label * self.n_classes + pred_label]
    }

    /// The matrix as rows (one per true label) of counts per predicted label.
    pub fn rows(&self) -> Vec<Vec<u64>> {
        self.counts
            .chunks(self.n_classes)
            .map(<[u64]>::to_vec)
            .collect()
    }

    /// Number of samples counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Correct predictions of class `c` (the diagonal).
    pub fn true_positives(&self, c: usize) -> u64 {
        self.get(c, c)
    }

    /// Samples whose true label is `c` (row sum; scikit-learn's "support").
    pub fn support(&self, c: usize) -> u64 {
        self.counts[c * self.n_classes..(c + 1) * self.n_classes]
            .iter()
            .sum()
    }

    /// Samples predicted as `c` (column sum).
    pub fn predicted(&self, c: usize) -> u64 {
        (0..self.n_classes)
            .map(|t| self.counts[t * self.n_classes + c])
            .sum()
    }

    /// Number of correct predictions (the trace).
    pub fn correct(&self) -> u64 {
        (0..self.n_classes).map(|c| self.get(c, c)).sum()
    }

    /// Fraction of correct predictions.
    pub fn accuracy(&self) -> f64 {
        self.correct() as f64 / self.total() as f64
    }
}

impl ConfusionMatrix {
    /// The matrix as text, the one layout of every report (`focal eval`, `report.txt`,
    /// `focal predict --eval`): a heading naming the axes, then one row per true label and one
    /// column per predicted label, right-aligned.
    ///
    /// ```text
    /// confusion matrix (rows = true label, columns = predicted label)
    ///
    ///         0    1
    ///    0   53    0
    ///    1    2    6
    /// ```
    pub fn text(&self) -> String {
        use std::fmt::Write as _;
        let rows = self.rows();
        let n = rows.len();
        let width = rows
            .iter()
            .flatten()
            .map(|v| v.to_string().len())
            .chain([n.saturating_sub(1).to_string().len()])
            .max()
            .unwrap_or(1)
            .max(3);
        let label_width = n.saturating_sub(1).to_string().len().max(4);
        let mut out =
            String::from("confusion matrix (rows = true label, columns = predicted label)\n\n");
        let _ = write!(out, "{:>label_width$}", "");
        for c in 0..n {
            let _ = write!(out, "  {c:>width$}");
        }
        out.push('\n');
        for (t, row) in rows.iter().enumerate() {
            let _ = write!(out, "{t:>label_width$}");
            for v in row {
                let _ = write!(out, "  {v:>width$}");
            }
            out.push('\n');
        }
        out
    }
}

impl Serialize for ConfusionMatrix {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_seq(self.counts.chunks(self.n_classes))
    }
}

pub(crate) fn check_labels(labels: &[usize], n_classes: usize) -> Result<()> {
    match labels.iter().position(|&l| l >= n_classes) {
        Some(index) => Err(MetricsError::LabelOutOfRange {
            index,
            label: labels[index],
            n_classes,
        }),
        None => Ok(()),
    }
}

/// Checks a row-major `n_samples x n_classes` probability matrix against its labels: classes
/// exist, samples exist, the length fits, every label is in range.
pub(crate) fn check_prob_matrix_shape(
    y_true: &[usize],
    probs: &[f64],
    n_classes: usize,
) -> Result<()> {
    if n_classes == 0 {
        return Err(MetricsError::NoClasses);
    }
    if y_true.is_empty() {
        return Err(MetricsError::Empty);
    }
    if probs.len() != y_true.len() * n_classes {
        return Err(MetricsError::ShapeMismatch {
            len: probs.len(),
            n_samples: y_true.len(),
            n_classes,
        });
    }
    check_labels(y_true, n_classes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_true_labels_and_columns_predictions() {
        // sklearn.metrics.confusion_matrix([0, 0, 1], [1, 1, 1]) == [[0, 2], [0, 1]]
        let cm = ConfusionMatrix::new(&[0, 0, 1], &[1, 1, 1], 2).unwrap();
        assert_eq!(cm.rows(), vec![vec![0, 2], vec![0, 1]]);
        assert_eq!(cm.get(0, 1), 2);
        assert_eq!(cm.support(0), 2);
        assert_eq!(cm.predicted(1), 3);
        assert_eq!(cm.total(), 3);
    }

    #[test]
    fn absent_classes_keep_their_rows() {
        let cm = ConfusionMatrix::new(&[0, 2], &[0, 0], 4).unwrap();
        assert_eq!(cm.n_classes(), 4);
        assert_eq!(cm.rows()[3], vec![0, 0, 0, 0]);
        assert_eq!(cm.rows()[2], vec![1, 0, 0, 0]);
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            ConfusionMatrix::new(&[0, 1], &[0], 2),
            Err(MetricsError::LengthMismatch {
                y_true: 2,
                y_pred: 1
            })
        );
        assert_eq!(ConfusionMatrix::new(&[], &[], 2), Err(MetricsError::Empty));
        assert_eq!(
            ConfusionMatrix::new(&[0], &[0], 0),
            Err(MetricsError::NoClasses)
        );
        assert_eq!(
            ConfusionMatrix::new(&[0, 1], &[0, 5], 2),
            Err(MetricsError::LabelOutOfRange {
                index: 1,
                label: 5,
                n_classes: 2
            })
        );
    }

    #[test]
    fn from_rows_round_trips_and_checks_shape() {
        let cm = ConfusionMatrix::new(&[0, 1, 1, 2], &[0, 2, 1, 2], 3).unwrap();
        assert_eq!(ConfusionMatrix::from_rows(&cm.rows()), Ok(cm));
        assert_eq!(
            ConfusionMatrix::from_rows(&[vec![1, 0], vec![1]]),
            Err(MetricsError::NotSquare {
                row: 1,
                len: 1,
                n_classes: 2
            })
        );
    }

    #[test]
    fn serializes_as_rows() {
        let cm = ConfusionMatrix::new(&[0, 1, 1], &[0, 0, 1], 2).unwrap();
        assert_eq!(serde_json::to_string(&cm).unwrap(), "[[1,0],[1,1]]");
    }
}
