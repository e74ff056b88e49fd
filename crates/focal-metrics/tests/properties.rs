//! Invariants that must hold for any input (proptest).

use focal_metrics::ranking::{self, BinaryCurve};
use focal_metrics::threshold::{Objective, tune_threshold};
use focal_metrics::{
    ClassificationReport, ConfusionMatrix, ReportOptions, ZeroDivision, balanced_accuracy,
    matthews_corrcoef,
};
use proptest::prelude::*;

/// Rounding slack for sums of at most a few hundred terms (absolute).
const TOL: f64 = 1e-12;

fn labels_and_preds() -> impl Strategy<Value = (usize, Vec<usize>, Vec<usize>)> {
    (1usize..8).prop_flat_map(|c| {
        (1usize..200).prop_flat_map(move |n| {
            (
                Just(c),
                prop::collection::vec(0..c, n),
                prop::collection::vec(0..c, n),
            )
        })
    })
}

/// Binary labels with scores quantised to a few levels, so that ties are common.
fn scored() -> impl Strategy<Value = (Vec<bool>, Vec<f64>)> {
    (2usize..200).prop_flat_map(|n| {
        (
            prop::collection::vec(any::<bool>(), n),
            prop::collection::vec(0u8..20, n),
        )
            .prop_map(|(y, s)| (y, s.into_iter().map(|v| f64::from(v) / 19.0).collect()))
    })
}

fn in_unit(x: f64) -> bool {
    (-TOL..=1.0 + TOL).contains(&x)
}

proptest! {
    #[test]
    fn confusion_matrix_sums_to_n((c, y, p) in labels_and_preds()) {
        let cm = ConfusionMatrix::new(&y, &p, c).unwrap();
        prop_assert_eq!(cm.total(), y.len() as u64);
        let rows = cm.rows();
        for (t, row) in rows.iter().enumerate() {
            prop_assert_eq!(row.iter().sum::<u64>(), y.iter().filter(|&&v| v == t).count() as u64);
        }
    }

    #[test]
    fn report_values_lie_in_unit_interval((c, y, p) in labels_and_preds(), zd in 0..2u8) {
        let zero_division = if zd == 0 { ZeroDivision::Zero } else { ZeroDivision::One };
        let opts = ReportOptions { zero_division, ..Default::default() };
        let r = ClassificationReport::new(&y, &p, c, &opts).unwrap();
        for m in r.classes().iter().map(|c| &c.metrics).chain([r.macro_avg(), r.weighted_avg(), r.micro_avg()]) {
            prop_assert!(in_unit(m.precision) && in_unit(m.recall) && in_unit(m.f1), "{:?}", m);
        }
        let acc = r.accuracy().unwrap();
        let correct = y.iter().zip(&p).filter(|(a, b)| a == b).count();
        prop_assert_eq!(acc, correct as f64 / y.len() as f64);
        let cm = ConfusionMatrix::new(&y, &p, c).unwrap();
        prop_assert!(in_unit(balanced_accuracy(&cm)));
        prop_assert!((-1.0 - TOL..=1.0 + TOL).contains(&matthews_corrcoef(&cm)));
    }

    #[test]
    fn perfect_ranking_has_ap_and_auc_one(n_neg in 1usize..100, n_pos in 1usize..100) {
        let y: Vec<bool> = (0..n_neg + n_pos).map(|i| i >= n_neg).collect();
        let s: Vec<f64> = (0..n_neg + n_pos).map(|i| i as f64).collect();
        // Recall steps of 1/n_pos do not sum to exactly 1 in floating point (scikit-learn's
        // neither), hence TOL.
        let ap = ranking::average_precision(&y, &s).unwrap();
        prop_assert!((ap - 1.0).abs() < TOL, "AP {}", ap);
        let auc = ranking::roc_auc(&y, &s).unwrap();
        prop_assert!((auc - 1.0).abs() < TOL, "AUC {}", auc);
    }

    #[test]
    fn reversed_scores_give_one_minus_auc((y, s) in scored()) {
        prop_assume!(y.iter().any(|&v| v) && y.iter().any(|&v| !v));
        let auc = ranking::roc_auc(&y, &s).unwrap();
        let rev: Vec<f64> = s.iter().map(|v| -v).collect();
        let auc_rev = ranking::roc_auc(&y, &rev).unwrap();
        prop_assert!((auc + auc_rev - 1.0).abs() < TOL, "{} + {}", auc, auc_rev);
        prop_assert!(in_unit(auc));
    }

    #[test]
    fn auc_equals_pairwise_probability((y, s) in scored()) {
        prop_assume!(y.iter().any(|&v| v) && y.iter().any(|&v| !v));
        // AUC = P(score_pos > score_neg) + P(tie) / 2, counted over all pairs.
        let (mut wins, mut pairs) = (0.0, 0.0);
        for (i, &yi) in y.iter().enumerate() {
            for (j, &yj) in y.iter().enumerate() {
                if yi && !yj {
                    pairs += 1.0;
                    wins += if s[i] > s[j] { 1.0 } else if s[i] == s[j] { 0.5 } else { 0.0 };
                }
            }
        }
        let auc = ranking::roc_auc(&y, &s).unwrap();
        prop_assert!((auc - wins / pairs).abs() < 1e-9, "{} vs {}", auc, wins / pairs);
    }

    #[test]
    fn average_precision_lies_in_unit_interval((y, s) in scored()) {
        prop_assume!(y.iter().any(|&v| v));
        let curve = BinaryCurve::new(&y, &s).unwrap();
        let ap = curve.average_precision().unwrap();
        prop_assert!(in_unit(ap));
        // The curve's last threshold predicts everything positive.
        prop_assert_eq!(curve.true_positives().last(), Some(&(y.iter().filter(|&&v| v).count() as u64)));
    }

    #[test]
    fn tuned_f1_is_the_best_over_all_thresholds((y, s) in scored()) {
        prop_assume!(y.iter().any(|&v| v));
        let best = tune_threshold(&y, &s, Objective::F1).unwrap();
        for &t in &s {
            let tp = y.iter().zip(&s).filter(|&(&yi, &si)| yi && si >= t).count() as f64;
            let fp = y.iter().zip(&s).filter(|&(&yi, &si)| !yi && si >= t).count() as f64;
            let fn_ = y.iter().filter(|&&v| v).count() as f64 - tp;
            let f1 = 2.0 * tp / (2.0 * tp + fp + fn_);
            prop_assert!(f1 <= best.f_score + TOL);
        }
    }
}
