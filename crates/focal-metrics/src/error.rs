//! The error type of this crate.

/// Everything that can go wrong when computing a metric.
///
/// Each variant carries the offending value or index, so that a caller reading a file can turn it
/// into a message naming the line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsError {
    /// Two inputs that must pair up element by element have different lengths.
    #[error("y_true has {y_true} values but y_pred has {y_pred}; pass one prediction per sample")]
    LengthMismatch {
        /// Length of `y_true`.
        y_true: usize,
        /// Length of the other input (predictions, scores or probabilities).
        y_pred: usize,
    },
    /// The probability matrix does not have `n_samples * n_classes` entries.
    #[error(
        "probability matrix has {len} values, expected {n_samples} samples x {n_classes} classes; \
         pass the probabilities row-major, one row per sample"
    )]
    ShapeMismatch {
        /// Number of values given.
        len: usize,
        /// Number of samples (length of `y_true`).
        n_samples: usize,
        /// Number of classes.
        n_classes: usize,
    },
    /// A confusion matrix given as rows is not square.
    #[error(
        "confusion matrix row {row} has {len} counts but there are {n_classes} rows; it must be square"
    )]
    NotSquare {
        /// Index of the offending row.
        row: usize,
        /// Its length.
        len: usize,
        /// Number of rows.
        n_classes: usize,
    },
    /// A class label is not in `0..n_classes`.
    #[error(
        "label {label} at index {index} is out of range for {n_classes} classes; \
         labels must be 0..{n_classes}"
    )]
    LabelOutOfRange {
        /// Position of the label in its input.
        index: usize,
        /// The label found.
        label: usize,
        /// Number of classes.
        n_classes: usize,
    },
    /// `n_classes` is zero.
    #[error("n_classes is 0; a classification needs at least one class")]
    NoClasses,
    /// No samples were given.
    #[error("no samples given; metrics need at least one prediction")]
    Empty,
    /// A score or probability is NaN or infinite.
    #[error("value {value} at index {index} is not finite; scores must be finite numbers")]
    NonFinite {
        /// Position of the value.
        index: usize,
        /// The value found.
        value: f64,
    },
    /// A probability lies outside `[0, 1]`.
    #[error("probability {value} at index {index} is outside [0, 1]")]
    ProbabilityOutOfRange {
        /// Position of the value.
        index: usize,
        /// The value found.
        value: f64,
    },
    /// A ranking metric is undefined because `y_true` holds only one class.
    #[error(
        "metric undefined: y_true has {positives} positive and {negatives} negative samples; \
         it needs both classes (average precision needs at least one positive)"
    )]
    SingleClass {
        /// Number of positive samples.
        positives: usize,
        /// Number of negative samples.
        negatives: usize,
    },
    /// No bootstrap resample drew a positive sample, so average precision has no resampled
    /// value to take percentiles of.
    #[error(
        "none of the {resamples} bootstrap resamples drew a positive sample, so average \
         precision is undefined on all of them; draw more resamples (1000 is usual)"
    )]
    NoPositiveResample {
        /// Number of resamples drawn.
        resamples: usize,
    },
    /// A one-vs-rest metric needs every class to occur in `y_true`.
    #[error(
        "class {class} never occurs in y_true; one-vs-rest AP and ROC AUC need every class \
         present (as scikit-learn)"
    )]
    ClassAbsent {
        /// The absent class.
        class: usize,
    },
    /// `target_names` does not give one name per reported label.
    #[error("{names} target names given for {labels} labels; give exactly one name per label")]
    TargetNamesMismatch {
        /// Number of names.
        names: usize,
        /// Number of labels reported.
        labels: usize,
    },
    /// `labels` is empty or names a class twice.
    #[error("labels option is invalid: {reason}")]
    InvalidLabels {
        /// What is wrong.
        reason: String,
    },
    /// A numeric parameter is outside its valid range.
    #[error("parameter {name} = {value} is invalid; expected {expected}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// The value given.
        value: f64,
        /// The valid range, in words.
        expected: &'static str,
    },
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, MetricsError>;
