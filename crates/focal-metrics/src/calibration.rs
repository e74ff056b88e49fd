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

/// Smallest and largest temperature [`fit_temperature`] searches (`T` in `[1/100, 100]`).
pub const TEMPERATURE_RANGE: (f64, f64) = (0.01, 100.0);

/// Mean negative log-likelihood of `y_true` under `softmax(logits / t)` (`logits` row-major,
/// `n x n_classes`), computed with the log-sum-exp shift.
pub fn nll_at_temperature(y_true: &[usize], logits: &[f64], n_classes: usize, t: f64) -> f64 {
    let row = |i: usize| {
        let z = &logits[i * n_classes..(i + 1) * n_classes];
        let max = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v / t));
        let lse = max + z.iter().map(|&v| (v / t - max).exp()).sum::<f64>().ln();
        lse - z[y_true[i]] / t
    };
    sum::pairwise_sum_by(y_true.len(), &row) / y_true.len() as f64
}

/// Temperature scaling (Guo et al. 2017): the `T > 0` that minimises the mean negative
/// log-likelihood of `y_true` under `softmax(logits / T)` (`logits` row-major, `n x
/// n_classes`), fitted on held-out (validation) logits.
///
/// The search is a golden-section search on `log T` over [`TEMPERATURE_RANGE`] (the NLL is
/// unimodal in `log T`: convex in `1 / T`), to a bracket of `1e-10` in `log T`. A minimum at an
/// end of the range (e.g. perfectly separable data, whose NLL keeps falling as `T -> 0`)
/// returns that end.
///
/// # Errors
/// [`MetricsError::ShapeMismatch`], [`MetricsError::LabelOutOfRange`], [`MetricsError::Empty`],
/// [`MetricsError::NoClasses`] for malformed inputs, [`MetricsError::NonFinite`] for a logit
/// that is not finite.
pub fn fit_temperature(y_true: &[usize], logits: &[f64], n_classes: usize) -> Result<f64> {
    crate::confusion::check_prob_matrix_shape(y_true, logits, n_classes)?;
    if let Some((index, &value)) = logits.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(MetricsError::NonFinite { index, value });
    }
    let f = |log_t: f64| nll_at_temperature(y_true, logits, n_classes, log_t.exp());
    let inv_phi = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (TEMPERATURE_RANGE.0.ln(), TEMPERATURE_RANGE.1.ln());
    let mut c = b - inv_phi * (b - a);
    let mut d = a + inv_phi * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    while b - a > 1e-10 {
        if fc <= fd {
            b = d;
            d = c;
            fd = fc;
            c = b - inv_phi * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + inv_phi * (b - a);
            fd = f(d);
        }
    }
    Ok(((a + b) / 2.0).exp())
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
    fn temperature_undoes_a_known_scaling() {
        // Logits whose NLL-optimal temperature is 1, multiplied by 3: the fit finds T = 3.
        // Optimal at T = 1: for every row the softmax equals the label frequencies given z.
        let base = [2f64.ln(), 0.0];
        let (mut y, mut logits) = (Vec::new(), Vec::new());
        for label in [0, 0, 1] {
            y.push(label);
            logits.extend(base.iter().map(|v| v * 3.0));
        }
        let t = fit_temperature(&y, &logits, 2).unwrap();
        assert!((t - 3.0).abs() < 1e-6, "{t}");
        let at = |t| nll_at_temperature(&y, &logits, 2, t);
        assert!(at(t) <= at(t * 1.01) && at(t) <= at(t / 1.01));
        assert!(fit_temperature(&[0], &[f64::NAN, 0.0], 2).is_err());
        assert!(fit_temperature(&[2], &[0.0, 0.0], 2).is_err());
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
