//! Per-class weights from class counts, for `alpha` or `weights`.
//!
//! ```
//! use focal_loss::class_weights::{effective_number, inverse_frequency};
//!
//! let counts = [900, 100];
//! let w = inverse_frequency(&counts).unwrap(); // [0.5556, 5.0]
//! assert!((w[1] - 5.0).abs() < 1e-6);
//! let cb = effective_number(&counts, 0.999).unwrap(); // sums to 2
//! assert!((cb.iter().sum::<f32>() - 2.0).abs() < 1e-5);
//! ```

use crate::error::FocalLossError;

/// Whether `beta` is a valid effective-number parameter: in `[0, 1)`. The one statement of the
/// rule, for this module and for callers that check a beta before they have class counts.
pub fn valid_beta(beta: f64) -> bool {
    (0.0..1.0).contains(&beta)
}

/// Class-balanced weights from the effective number of samples.
///
/// [Class-Balanced Loss Based on Effective Number of Samples](https://arxiv.org/abs/1901.05555),
/// Cui et al. 2019.
///
/// ```text
/// w_c = (1 - beta) / (1 - beta^n_c), then scaled so that sum_c w_c = C
/// ```
///
/// `beta = 0` gives equal weights; `beta -> 1` approaches inverse frequency.
///
/// # Errors
///
/// An empty `counts`, a zero count, or `beta` outside `[0, 1)`.
pub fn effective_number(counts: &[usize], beta: f64) -> Result<Vec<f32>, FocalLossError> {
    check_counts(counts)?;
    if !valid_beta(beta) {
        return Err(FocalLossError::OutOfRange {
            name: "beta",
            value: beta,
            range: "[0, 1) (0.9, 0.99, 0.999 and 0.9999 are the paper's values)",
        });
    }
    // 1 - beta^n = -expm1(n ln beta) keeps precision for beta close to 1.
    let raw: Vec<f64> = counts
        .iter()
        .map(|&n| (1.0 - beta) / -((n as f64) * beta.ln()).exp_m1())
        .collect();
    let raw = if beta == 0.0 {
        vec![1.0; counts.len()]
    } else {
        raw
    };
    Ok(normalise(&raw))
}

/// Inverse-frequency weights, scikit-learn's `class_weight="balanced"`.
///
/// ```text
/// w_c = n / (C * n_c),   n = sum_c n_c
/// ```
///
/// # Errors
///
/// An empty `counts` or a zero count.
pub fn inverse_frequency(counts: &[usize]) -> Result<Vec<f32>, FocalLossError> {
    check_counts(counts)?;
    let n: f64 = counts.iter().map(|&c| c as f64).sum();
    let k = counts.len() as f64;
    Ok(counts
        .iter()
        .map(|&c| (n / (k * c as f64)) as f32)
        .collect())
}

/// Class priors `n_c / n` from counts, as used by logit adjustment.
///
/// # Errors
///
/// An empty `counts` or a zero count.
pub fn priors(counts: &[usize]) -> Result<Vec<f32>, FocalLossError> {
    check_counts(counts)?;
    let n: f64 = counts.iter().map(|&c| c as f64).sum();
    Ok(counts.iter().map(|&c| (c as f64 / n) as f32).collect())
}

pub(crate) fn check_counts(counts: &[usize]) -> Result<(), FocalLossError> {
    if counts.is_empty() {
        return Err(FocalLossError::EmptyCounts);
    }
    match counts.iter().position(|&c| c == 0) {
        Some(class) => Err(FocalLossError::ZeroCount { class }),
        None => Ok(()),
    }
}

fn normalise(raw: &[f64]) -> Vec<f32> {
    let total: f64 = raw.iter().sum();
    let k = raw.len() as f64;
    raw.iter().map(|w| (w * k / total) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_number_matches_cui_reference_weights() {
        // ANCHORS.md: counts [10,53,681,638,199,18], beta 0.999, 4 decimals.
        let w = effective_number(&[10, 53, 681, 638, 199, 18], 0.999).unwrap();
        let expected = [3.2486, 0.6262, 0.0655, 0.0685, 0.1791, 1.8120];
        for (got, want) in w.iter().zip(expected) {
            assert!((got - want).abs() < 5e-5, "{w:?}");
        }
    }

    #[test]
    fn effective_number_limits() {
        // beta = 0: equal weights.
        assert_eq!(effective_number(&[1, 10, 100], 0.0).unwrap(), vec![1.0; 3]);
        // beta close to 1: inverse frequency, normalised to sum to C.
        let w = effective_number(&[1, 10, 100], 1.0 - 1e-12).unwrap();
        let inv = [1.0, 0.1, 0.01];
        let s: f64 = inv.iter().sum();
        for (got, want) in w.iter().zip(inv) {
            assert!((*got as f64 - want * 3.0 / s).abs() < 1e-4, "{w:?}");
        }
    }

    #[test]
    fn inverse_frequency_is_sklearn_balanced() {
        // sklearn.utils.class_weight.compute_class_weight("balanced", classes=[0,1,2],
        //   y=[0]*6 + [1]*3 + [2]) -> [0.5556, 1.1111, 3.3333]
        let w = inverse_frequency(&[6, 3, 1]).unwrap();
        for (got, want) in w.iter().zip([10.0 / 18.0, 10.0 / 9.0, 10.0 / 3.0]) {
            assert!((got - want).abs() < 1e-6);
        }
    }

    #[test]
    fn zero_and_empty_counts_are_errors() {
        assert_eq!(
            inverse_frequency(&[3, 0]),
            Err(FocalLossError::ZeroCount { class: 1 })
        );
        assert_eq!(
            effective_number(&[0, 3], 0.9),
            Err(FocalLossError::ZeroCount { class: 0 })
        );
        assert_eq!(priors(&[]), Err(FocalLossError::EmptyCounts));
        assert!(matches!(
            effective_number(&[1, 2], 1.0),
            Err(FocalLossError::OutOfRange { name: "beta", .. })
        ));
        let msg = inverse_frequency(&[3, 0]).unwrap_err().to_string();
        assert!(msg.contains("class_counts[1] is 0"), "{msg}");
    }
}
