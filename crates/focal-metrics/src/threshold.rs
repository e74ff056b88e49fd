//! Decision-threshold tuning on P(positive).
//!
//! A sample is predicted positive when `score >= threshold` (the convention of
//! [`crate::ranking`] and scikit-learn's curves). The candidates are the distinct scores, so the
//! returned threshold is always one of the given scores and reproduces exactly the reported
//! counts on the data it was tuned on. Among equally good candidates the highest threshold wins
//! (the fewest positive predictions).

use serde::Serialize;

use crate::error::{MetricsError, Result};
use crate::ranking::BinaryCurve;

/// What the tuned threshold optimises.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// Maximise F1.
    F1,
    /// Maximise F-beta (`beta > 1` favours recall); `beta` must be finite and > 0.
    FBeta(f64),
    /// Reach at least this recall (in `(0, 1]`), and among those thresholds maximise precision.
    TargetRecall(f64),
    /// Maximise Youden's J = recall + specificity - 1 (= TPR - FPR).
    YoudenJ,
}

/// A tuned threshold and the metrics at it (positive iff `score >= threshold`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TunedThreshold {
    /// The threshold: one of the scores.
    pub threshold: f64,
    /// `tp / (tp + fp)`.
    pub precision: f64,
    /// `tp / (tp + fn)`.
    pub recall: f64,
    /// F-beta at the threshold, with `beta` below.
    pub f_score: f64,
    /// The beta of `f_score`: the objective's for [`Objective::FBeta`], 1 otherwise.
    pub beta: f64,
    /// `tn / (tn + fp)`; 0 when there is no negative sample.
    pub specificity: f64,
    /// recall + specificity - 1.
    pub youden_j: f64,
    /// True positives.
    pub true_positives: u64,
    /// False positives.
    pub false_positives: u64,
    /// True negatives.
    pub true_negatives: u64,
    /// False negatives.
    pub false_negatives: u64,
}

/// Finds the threshold on `scores` that best meets `objective`.
///
/// # Errors
/// Those of [`BinaryCurve::new`]; [`MetricsError::InvalidParameter`] for a bad beta or target
/// recall; [`MetricsError::SingleClass`] when there is no positive sample (or, for
/// [`Objective::YoudenJ`], no negative one).
pub fn tune_threshold(
    y_true: &[bool],
    scores: &[f64],
    objective: Objective,
) -> Result<TunedThreshold> {
    tune_on_curve(&BinaryCurve::new(y_true, scores)?, objective)
}

/// [`tune_threshold`] on an already built curve.
///
/// # Errors
/// As [`tune_threshold`].
pub fn tune_on_curve(curve: &BinaryCurve, objective: Objective) -> Result<TunedThreshold> {
    let beta = match objective {
        Objective::FBeta(b) if !(b.is_finite() && b > 0.0) => {
            return Err(MetricsError::InvalidParameter {
                name: "beta",
                value: b,
                expected: "a finite number > 0",
            });
        }
        Objective::TargetRecall(r) if !(r > 0.0 && r <= 1.0) => {
            return Err(MetricsError::InvalidParameter {
                name: "target recall",
                value: r,
                expected: "a number in (0, 1]",
            });
        }
        Objective::FBeta(b) => b,
        _ => 1.0,
    };
    let (p, n) = (curve.positives(), curve.negatives());
    if p == 0 || (objective == Objective::YoudenJ && n == 0) {
        return Err(MetricsError::SingleClass {
            positives: p as usize,
            negatives: n as usize,
        });
    }
    let at = |j: usize| metrics_at(curve, j, beta);
    let mut best: Option<(f64, TunedThreshold)> = None;
    for j in 0..curve.thresholds().len() {
        let m = at(j);
        let value = match objective {
            Objective::F1 | Objective::FBeta(_) => m.f_score,
            Objective::TargetRecall(r) if m.recall >= r => m.precision,
            Objective::TargetRecall(_) => continue,
            Objective::YoudenJ => m.youden_j,
        };
        if best.as_ref().is_none_or(|(v, _)| value > *v) {
            best = Some((value, m));
        }
    }
    // The lowest threshold predicts every sample positive (recall 1), so a candidate always exists.
    best.map(|(_, m)| m).ok_or(MetricsError::Empty)
}

fn metrics_at(curve: &BinaryCurve, j: usize, beta: f64) -> TunedThreshold {
    let (p, n) = (curve.positives(), curve.negatives());
    let tp = curve.true_positives()[j];
    let fp = curve.false_positives()[j];
    let (fn_, tn) = (p - tp, n - fp);
    let recall = tp as f64 / p as f64;
    let specificity = if n == 0 { 0.0 } else { tn as f64 / n as f64 };
    let b2 = beta * beta;
    TunedThreshold {
        threshold: curve.thresholds()[j],
        precision: tp as f64 / (tp + fp) as f64,
        recall,
        f_score: (1.0 + b2) * tp as f64 / ((1.0 + b2) * tp as f64 + b2 * fn_ as f64 + fp as f64),
        beta,
        specificity,
        youden_j: recall + specificity - 1.0,
        true_positives: tp,
        false_positives: fp,
        true_negatives: tn,
        false_negatives: fn_,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Y: [bool; 6] = [false, false, true, false, true, true];
    const S: [f64; 6] = [0.1, 0.3, 0.35, 0.6, 0.7, 0.9];

    #[test]
    fn f1_picks_best_threshold() {
        // Candidates (>= t): 0.9 -> tp1 fp0 F1 .5; 0.7 -> tp2 F1 .8; 0.6 -> tp2 fp1 F1 .667;
        // 0.35 -> tp3 fp1 F1 .857; 0.3 -> tp3 fp2 .75; 0.1 -> .667.
        let t = tune_threshold(&Y, &S, Objective::F1).unwrap();
        assert_eq!(t.threshold, 0.35);
        assert_eq!(
            (
                t.true_positives,
                t.false_positives,
                t.true_negatives,
                t.false_negatives
            ),
            (3, 1, 2, 0)
        );
        assert!((t.f_score - 6.0 / 7.0).abs() < 1e-15);
    }

    #[test]
    fn target_recall_and_youden() {
        let t = tune_threshold(&Y, &S, Objective::TargetRecall(0.6)).unwrap();
        // Recall >= 0.6 first at 0.7 (2/3, precision 1).
        assert_eq!(t.threshold, 0.7);
        assert_eq!(t.precision, 1.0);
        let t = tune_threshold(&Y, &S, Objective::YoudenJ).unwrap();
        // J at 0.7 = 2/3 - 0 = .667; at 0.35 = 1 - 1/3 = .667: tie, the higher threshold wins.
        assert_eq!(t.threshold, 0.7);
    }

    #[test]
    fn bad_parameters_are_rejected() {
        assert!(matches!(
            tune_threshold(&Y, &S, Objective::TargetRecall(1.5)),
            Err(MetricsError::InvalidParameter { .. })
        ));
        assert!(matches!(
            tune_threshold(&Y, &S, Objective::FBeta(0.0)),
            Err(MetricsError::InvalidParameter { .. })
        ));
        assert!(matches!(
            tune_threshold(&[false, false], &[0.1, 0.2], Objective::F1),
            Err(MetricsError::SingleClass { .. })
        ));
    }
}
