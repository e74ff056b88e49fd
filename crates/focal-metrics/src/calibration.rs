//! Calibration: reliability diagram, expected calibration error, Brier score.
//!
//! Semantics: every function takes `outcomes: &[bool]` and `probs: &[f64]`, the predicted
//! probability that each outcome is `true`.
//! - **binary**: outcome = "the sample is positive", prob = P(positive) (scikit-learn's
//!   `calibration_curve` and `brier_score_loss`);
//! - **multi-class, top-label** (Guo et al. 2017): outcome = "the arg-max class is right",
//!   prob = the arg-max probability; [`top_label`] computes both from a probability matrix.
//!
//! Bins are `n_bins` equal-width intervals of `[0, 1]`, closed on the right: `[0, 1/M]`,
//! `(1/M, 2/M]`, ..., with edges from `numpy.linspace(0, 1, M + 1)` (scikit-learn's
//! `strategy="uniform"`).

use serde::Serialize;

use crate::error::{MetricsError, Result};
use crate::sum;

/// One non-empty bin of a reliability diagram.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bin {
    /// Lower edge (exclusive, except for the first bin).
    pub lower: f64,
    /// Upper edge (inclusive).
    pub upper: f64,
    /// Samples in the bin (never 0: empty bins are left out, as scikit-learn does).
    pub count: u64,
    /// Mean predicted probability in the bin (`calibration_curve`'s `prob_pred`).
    pub mean_confidence: f64,
    /// Fraction of true outcomes in the bin (`prob_true`).
    pub accuracy: f64,
}

fn check(outcomes: &[bool], probs: &[f64]) -> Result<()> {
    if outcomes.len() != probs.len() {
        return Err(MetricsError::LengthMismatch {
            y_true: outcomes.len(),
            y_pred: probs.len(),
        });
    }
    if probs.is_empty() {
        return Err(MetricsError::Empty);
    }
    check_probs(probs)
}

fn check_probs(probs: &[f64]) -> Result<()> {
    for (index, &value) in probs.iter().enumerate() {
        if !value.is_finite() {
            return Err(MetricsError::NonFinite { index, value });
        }
        if !(0.0..=1.0).contains(&value) {
            return Err(MetricsError::ProbabilityOutOfRange { index, value });
        }
    }
    Ok(())
}

/// The non-empty bins of a reliability diagram, in increasing order.
///
/// # Errors
/// [`MetricsError::LengthMismatch`], [`MetricsError::Empty`], [`MetricsError::NonFinite`],
/// [`MetricsError::ProbabilityOutOfRange`], and [`MetricsError::InvalidParameter`] for
/// `n_bins == 0`.
pub fn reliability_diagram(outcomes: &[bool], probs: &[f64], n_bins: usize) -> Result<Vec<Bin>> {
    check(outcomes, probs)?;
    if n_bins == 0 {
        return Err(MetricsError::InvalidParameter {
            name: "n_bins",
            value: 0.0,
            expected: "at least 1 bin",
        });
    }
    let step = 1.0 / n_bins as f64;
    let edges: Vec<f64> = (0..=n_bins)
        .map(|i| if i == n_bins { 1.0 } else { i as f64 * step })
        .collect();
    let inner = &edges[1..n_bins];
    let mut count = vec![0u64; n_bins];
    let mut conf = vec![0.0f64; n_bins];
    let mut hits = vec![0.0f64; n_bins];
    for (&o, &p) in outcomes.iter().zip(probs) {
        let b = inner.partition_point(|&e| e < p);
        count[b] += 1;
        conf[b] += p;
        hits[b] += if o { 1.0 } else { 0.0 };
    }
    Ok((0..n_bins)
        .filter(|&b| count[b] > 0)
        .map(|b| Bin {
            lower: edges[b],
            upper: edges[b + 1],
            count: count[b],
            mean_confidence: conf[b] / count[b] as f64,
            accuracy: hits[b] / count[b] as f64,
        })
        .collect())
}

/// Expected calibration error: `sum_b (n_b / n) |accuracy_b - mean_confidence_b|` over the
/// bins of [`reliability_diagram`].
///
/// # Errors
/// As [`reliability_diagram`].
pub fn expected_calibration_error(outcomes: &[bool], probs: &[f64], n_bins: usize) -> Result<f64> {
    let bins = reliability_diagram(outcomes, probs, n_bins)?;
    let n = probs.len() as f64;
    Ok(bins
        .iter()
        .map(|b| b.count as f64 / n * (b.accuracy - b.mean_confidence).abs())
        .sum())
}

/// Brier score of binary outcomes: `mean((prob - outcome)^2)` (`brier_score_loss`).
///
/// # Errors
/// [`MetricsError::LengthMismatch`], [`MetricsError::Empty`], [`MetricsError::NonFinite`],
/// [`MetricsError::ProbabilityOutOfRange`].
pub fn brier_score(outcomes: &[bool], probs: &[f64]) -> Result<f64> {
    check(outcomes, probs)?;
    let sq = |i: usize| {
        let d = if outcomes[i] { 1.0 } else { 0.0 } - probs[i];
        d * d
    };
    Ok(sum::pairwise_sum_by(probs.len(), &sq) / probs.len() as f64)
}

/// Multi-class Brier score: mean over samples of `sum_c (1[y = c] - p_c)^2`, in `[0, 2]`
/// (`brier_score_loss` on multi-class labels). `probs` is `n x n_classes`, row-major.
///
/// # Errors
/// [`MetricsError::ShapeMismatch`], [`MetricsError::LabelOutOfRange`], [`MetricsError::Empty`],
/// [`MetricsError::NoClasses`], and the probability errors of [`brier_score`].
pub fn brier_score_multiclass(y_true: &[usize], probs: &[f64], n_classes: usize) -> Result<f64> {
    check_matrix(y_true, probs, n_classes)?;
    let row = |i: usize| {
        let mut s = 0.0;
        for c in 0..n_classes {
            let d = if y_true[i] == c { 1.0 } else { 0.0 } - probs[i * n_classes + c];
            s += d * d;
        }
        s
    };
    Ok(sum::pairwise_sum_by(y_true.len(), &row) / y_true.len() as f64)
}

/// Top-label outcomes and confidences of a probability matrix (`n x n_classes`, row-major):
/// `(argmax == y_true, max probability)` per sample; ties go to the lowest class, as
/// `numpy.argmax`.
///
/// # Errors
/// As [`brier_score_multiclass`].
pub fn top_label(
    y_true: &[usize],
    probs: &[f64],
    n_classes: usize,
) -> Result<(Vec<bool>, Vec<f64>)> {
    check_matrix(y_true, probs, n_classes)?;
    Ok(probs
        .chunks(n_classes)
        .zip(y_true)
        .map(|(row, &y)| {
            let (arg, max) =
                row.iter().enumerate().fold(
                    (0, row[0]),
                    |(a, m), (c, &p)| {
                        if p > m { (c, p) } else { (a, m) }
                    },
                );
            (arg == y, max)
        })
        .unzip())
}

fn check_matrix(y_true: &[usize], probs: &[f64], n_classes: usize) -> Result<()> {
    crate::confusion::check_prob_matrix_shape(y_true, probs, n_classes)?;
    check_probs(probs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_are_right_closed() {
        // 0.5 sits on the edge of two bins and belongs to the lower one, as in
        // sklearn.calibration.calibration_curve(..., n_bins=2).
        let bins = reliability_diagram(&[true, false, true], &[0.5, 0.0, 1.0], 2).unwrap();
        assert_eq!(bins.len(), 2);
        assert_eq!(bins[0].count, 2);
        assert_eq!(bins[0].mean_confidence, 0.25);
        assert_eq!(bins[0].accuracy, 0.5);
        assert_eq!(bins[1].count, 1);
    }

    #[test]
    fn perfectly_calibrated_has_zero_ece() {
        let ece = expected_calibration_error(&[true, false], &[1.0, 0.0], 10).unwrap();
        assert_eq!(ece, 0.0);
        assert_eq!(brier_score(&[true, false], &[1.0, 0.0]).unwrap(), 0.0);
    }

    #[test]
    fn top_label_takes_first_maximum() {
        let (correct, conf) = top_label(&[1, 0], &[0.5, 0.5, 0.2, 0.8], 2).unwrap();
        assert_eq!(correct, vec![false, false]);
        assert_eq!(conf, vec![0.5, 0.8]);
    }

    #[test]
    fn rejects_out_of_range_probabilities() {
        assert_eq!(
            brier_score(&[true], &[1.5]),
            Err(MetricsError::ProbabilityOutOfRange {
                index: 0,
                value: 1.5
            })
        );
    }
}
