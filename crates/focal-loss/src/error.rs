//! The error type of this crate.

use thiserror::Error;

/// Everything that can be wrong with a loss configuration or with the inputs of a helper.
///
/// `XxxConfig::validate` returns these; `XxxConfig::init` and `forward` panic with the same
/// message when they meet the same problem.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum FocalLossError {
    /// The focusing parameter is negative or not a number.
    #[error(
        "gamma is {value} in {loss}; the focusing parameter must be a finite number >= 0 (0 gives cross-entropy)"
    )]
    InvalidGamma {
        /// The loss whose configuration holds the value.
        loss: &'static str,
        /// The offending value.
        value: f32,
    },
    /// A per-class weight is negative or not a number.
    #[error("alpha[{class}] is {value} in {loss}; class weights must be finite and >= 0")]
    InvalidClassWeight {
        /// The loss whose configuration holds the value.
        loss: &'static str,
        /// The class whose weight is wrong.
        class: usize,
        /// The offending value.
        value: f32,
    },
    /// The per-class vector does not have one entry per class.
    #[error(
        "{name} has {len} entries but the logits have {num_classes} classes; give one value per class"
    )]
    ClassLengthMismatch {
        /// The name of the per-class vector (`alpha`, `weights`, `priors`, `class_counts`).
        name: &'static str,
        /// Its length.
        len: usize,
        /// The number of classes of the logits.
        num_classes: usize,
    },
    /// The label smoothing factor is outside `[0, 1]`.
    #[error("label_smoothing is {value}; it must be in [0, 1] (0 turns smoothing off)")]
    InvalidLabelSmoothing {
        /// The offending value.
        value: f32,
    },
    /// A scalar probability-like parameter (alpha of the binary form, a prior) is outside its range.
    #[error("{name} is {value}; it must be in {range}")]
    OutOfRange {
        /// The name of the parameter.
        name: &'static str,
        /// The offending value.
        value: f64,
        /// The allowed range, in words or interval notation.
        range: &'static str,
    },
    /// A class count is zero, which would give an infinite weight or margin.
    #[error(
        "class_counts[{class}] is 0; every class needs at least one sample (drop the class or merge it)"
    )]
    ZeroCount {
        /// The class with no samples.
        class: usize,
    },
    /// No class counts were given.
    #[error("class_counts is empty; give one count per class")]
    EmptyCounts,
}
