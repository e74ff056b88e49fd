//! The bootstrap: its weighted statistics against `BinaryCurve` on explicit data, against
//! scikit-learn on the resample indices of `tests/fixtures/bootstrap_cases.json` (written by
//! `scripts/bootstrap_reference.py`), and its determinism and intervals.

use focal_metrics::MetricsError;
use focal_metrics::bootstrap::{
    Bootstrap, DEFAULT_RESAMPLES, binary_intervals, counts_from_indices, percentile,
};
use focal_metrics::ranking::BinaryCurve;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

const TOL: f64 = 1e-12;

/// A random binary task with both classes: scores on a grid of `levels` values (ties; `-0.0`
/// among them when `0.0` is drawn), positives at a random rate, predictions `score >= 0.5`.
fn task(rng: &mut ChaCha8Rng, n: usize, levels: u32) -> (Vec<bool>, Vec<f64>, Vec<bool>) {
    loop {
        let rate = rng.random_range(0.05..0.6);
        let y_true: Vec<bool> = (0..n).map(|_| rng.random_bool(rate)).collect();
        let scores: Vec<f64> = (0..n)
            .map(|_| {
                let s = f64::from(rng.random_range(0..levels)) / f64::from(levels - 1);
                if s == 0.0 && rng.random_bool(0.5) {
                    -0.0
                } else {
                    s
                }
            })
            .collect();
        if y_true.iter().any(|&y| y) && y_true.iter().any(|&y| !y) {
            let y_pred = scores.iter().map(|&s| s >= 0.5).collect();
            return (y_true, scores, y_pred);
        }
    }
}

#[test]
fn full_sample_ap_equals_binary_curve() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for case in 0..200 {
        let n = rng.random_range(2..300);
        let levels = [2, 3, 7, 50, 1_000_000][case % 5];
        let (y_true, scores, y_pred) = task(&mut rng, n, levels);
        let b = Bootstrap::new(&y_true, &scores, &y_pred).unwrap();
        let expected = BinaryCurve::new(&y_true, &scores)
            .unwrap()
            .average_precision()
            .unwrap();
        // One code path for the AP formula: identical bits, not just close.
        assert_eq!(b.average_precision(), expected, "case {case}");
        let ones = vec![1u32; n];
        assert_eq!(
            b.average_precision_with_counts(&ones).unwrap(),
            Some(expected)
        );
    }
}

#[test]
fn weighted_ap_and_f1_equal_the_duplicated_data() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for case in 0..300 {
        let n = rng.random_range(2..120);
        let levels = [2, 4, 11, 1_000_000][case % 4];
        let (y_true, scores, y_pred) = task(&mut rng, n, levels);
        let b = Bootstrap::new(&y_true, &scores, &y_pred).unwrap();
        // Multiplicities 0..=3, so samples (and whole tie groups) drop out too.
        let counts: Vec<u32> = (0..n).map(|_| rng.random_range(0..4)).collect();
        let (mut t, mut s, mut p) = (vec![], vec![], vec![]);
        for (i, &c) in counts.iter().enumerate() {
            for _ in 0..c {
                t.push(y_true[i]);
                s.push(scores[i]);
                p.push(y_pred[i]);
            }
        }
        let ap = b.average_precision_with_counts(&counts).unwrap();
        if t.iter().any(|&y| y) {
            let expected = BinaryCurve::new(&t, &s)
                .unwrap()
                .average_precision()
                .unwrap();
            let ap = ap.unwrap_or_else(|| panic!("case {case}: AP missing"));
            assert!(
                (ap - expected).abs() <= TOL,
                "case {case}: {ap} vs {expected}"
            );
        } else {
            assert_eq!(
                ap, None,
                "case {case}: a resample with no positive has no AP"
            );
        }
        // F1 of the duplicated data, counted directly.
        let tp = t.iter().zip(&p).filter(|&(&t, &p)| t && p).count() as f64;
        let fp = t.iter().zip(&p).filter(|&(&t, &p)| !t && p).count() as f64;
        let fn_ = t.iter().zip(&p).filter(|&(&t, &p)| t && !p).count() as f64;
        let expected = if tp + fp + fn_ == 0.0 {
            0.0
        } else {
            2.0 * tp / (2.0 * tp + fp + fn_)
        };
        assert_eq!(b.f1_with_counts(&counts).unwrap(), expected, "case {case}");
    }
}

#[test]
fn same_seed_same_bits_other_seed_other_bounds() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (y_true, scores, y_pred) = task(&mut rng, 500, 40);
    let a = binary_intervals(&y_true, &scores, &y_pred, 300, 7).unwrap();
    let b = binary_intervals(&y_true, &scores, &y_pred, 300, 7).unwrap();
    for (x, y) in [(a.f1, b.f1), (a.average_precision, b.average_precision)] {
        assert_eq!(x.low.to_bits(), y.low.to_bits());
        assert_eq!(x.high.to_bits(), y.high.to_bits());
        assert_eq!(x.estimate.to_bits(), y.estimate.to_bits());
    }
    assert_eq!(a, b);
    let c = binary_intervals(&y_true, &scores, &y_pred, 300, 8).unwrap();
    assert_eq!(c.f1.estimate, a.f1.estimate);
    assert_eq!(c.average_precision.estimate, a.average_precision.estimate);
    assert_ne!(
        (
            a.f1.low,
            a.f1.high,
            a.average_precision.low,
            a.average_precision.high
        ),
        (
            c.f1.low,
            c.f1.high,
            c.average_precision.low,
            c.average_precision.high
        )
    );
}

#[test]
fn intervals_contain_the_estimate() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for case in 0..10 {
        let (y_true, scores, y_pred) = task(&mut rng, 400, [5, 1_000_000][case % 2]);
        let ci =
            binary_intervals(&y_true, &scores, &y_pred, DEFAULT_RESAMPLES, case as u64).unwrap();
        assert_eq!(ci.resamples, DEFAULT_RESAMPLES);
        assert_eq!(ci.f1.resamples, DEFAULT_RESAMPLES);
        assert_eq!(
            ci.average_precision.resamples,
            DEFAULT_RESAMPLES - ci.skipped_without_positive
        );
        for (what, i) in [("f1", ci.f1), ("ap", ci.average_precision)] {
            assert!(i.low <= i.high, "case {case} {what}: {i:?}");
            assert!(
                i.low <= i.estimate && i.estimate <= i.high,
                "case {case} {what}: {i:?}"
            );
            // With 400 samples the 95% interval is neither a point nor everything.
            assert!(
                i.high - i.low > 1e-3 && i.high - i.low < 0.5,
                "case {case} {what}: {i:?}"
            );
        }
        let b = Bootstrap::new(&y_true, &scores, &y_pred).unwrap();
        assert_eq!(ci.f1.estimate, b.f1());
    }
}

#[test]
fn resamples_without_positive_are_skipped_not_zero() {
    // One positive in 30: a resample misses it with probability (29/30)^30 = 36%.
    let mut y_true = vec![false; 30];
    y_true[7] = true;
    let scores: Vec<f64> = (0..30).map(|i| f64::from(i) / 30.0).collect();
    let y_pred: Vec<bool> = scores.iter().map(|&s| s >= 0.5).collect();
    let ci = binary_intervals(&y_true, &scores, &y_pred, 1000, 0).unwrap();
    assert!(
        (250..480).contains(&ci.skipped_without_positive),
        "{}",
        ci.skipped_without_positive
    );
    assert_eq!(
        ci.average_precision.resamples,
        1000 - ci.skipped_without_positive
    );
    // Every kept resample holds the positive, so AP is at least 1/30 > 0: zeros were not kept.
    assert!(ci.average_precision.low > 0.0, "{ci:?}");
    // F1 is defined on every resample (0 where the positive was never drawn).
    assert_eq!(ci.f1.resamples, 1000);
}

#[test]
fn bad_inputs_are_errors() {
    let (t, s, p) = ([true, false], [0.3, 0.1], [true, false]);
    assert_eq!(
        Bootstrap::new(&t, &s[..1], &p).unwrap_err(),
        MetricsError::LengthMismatch {
            y_true: 2,
            y_pred: 1
        }
    );
    assert_eq!(
        Bootstrap::new(&t, &s, &p[..1]).unwrap_err(),
        MetricsError::LengthMismatch {
            y_true: 2,
            y_pred: 1
        }
    );
    assert_eq!(
        Bootstrap::new(&[], &[], &[]).unwrap_err(),
        MetricsError::Empty
    );
    let err = Bootstrap::new(&t, &[0.3, f64::NAN], &p).unwrap_err();
    assert_eq!(
        err.to_string(),
        "value NaN at index 1 is not finite; scores must be finite numbers"
    );
    assert_eq!(
        Bootstrap::new(&[false, false], &s, &p).unwrap_err(),
        MetricsError::SingleClass {
            positives: 0,
            negatives: 2
        }
    );
    assert_eq!(
        Bootstrap::new(&[true, true], &s, &p).unwrap_err(),
        MetricsError::SingleClass {
            positives: 2,
            negatives: 0
        }
    );
    let b = Bootstrap::new(&t, &s, &p).unwrap();
    assert!(matches!(
        b.intervals(0, 1),
        Err(MetricsError::InvalidParameter {
            name: "resamples",
            ..
        })
    ));
    assert_eq!(
        b.f1_with_counts(&[1]).unwrap_err(),
        MetricsError::LengthMismatch {
            y_true: 2,
            y_pred: 1
        }
    );
    // One positive in 100 and a single resample: it misses the positive with probability
    // (99/100)^100 = 37%, so some of 20 seeds must give the error, and the others an interval.
    let mut y = vec![false; 100];
    y[0] = true;
    let sc = vec![0.5; 100];
    let outcomes: Vec<_> = (0..20)
        .map(|seed| binary_intervals(&y, &sc, &y, 1, seed))
        .collect();
    let errors = outcomes
        .iter()
        .filter(|o| **o == Err(MetricsError::NoPositiveResample { resamples: 1 }))
        .count();
    assert!(errors > 0 && errors < 20, "{errors}");
    assert!(
        outcomes
            .iter()
            .all(|o| o.is_ok() || *o == Err(MetricsError::NoPositiveResample { resamples: 1 }))
    );
}

fn fixture() -> Vec<Value> {
    let path = format!(
        "{}/tests/fixtures/bootstrap_cases.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"));
    v["cases"].as_array().unwrap().clone()
}

fn bools(v: &Value) -> Vec<bool> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_bool().unwrap())
        .collect()
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[track_caller]
fn close(actual: f64, expected: f64, what: &str) {
    assert!(
        actual == expected || (actual - expected).abs() <= TOL,
        "{what}: got {actual:?}, scikit-learn {expected:?}"
    );
}

#[test]
fn resample_statistics_match_sklearn_on_the_same_indices() {
    let cases = fixture();
    assert!(cases.len() >= 5);
    let mut skipped = 0;
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let (y_true, scores, y_pred) = (
            bools(&case["y_true"]),
            nums(&case["scores"]),
            bools(&case["y_pred"]),
        );
        let b = Bootstrap::new(&y_true, &scores, &y_pred).unwrap();
        close(
            b.average_precision(),
            case["average_precision"].as_f64().unwrap(),
            &format!("{name}: AP"),
        );
        close(b.f1(), case["f1"].as_f64().unwrap(), &format!("{name}: F1"));

        let (mut f1s, mut aps) = (vec![], vec![]);
        let resamples = case["resamples"].as_array().unwrap();
        for (r, indices) in resamples.iter().enumerate() {
            let indices: Vec<usize> = indices
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_u64().unwrap() as usize)
                .collect();
            let counts = counts_from_indices(b.len(), &indices).unwrap();
            let what = format!("{name} resample {r}");
            let f1 = b.f1_with_counts(&counts).unwrap();
            close(f1, case["resample_f1"][r].as_f64().unwrap(), &what);
            f1s.push(f1);
            let ap = b.average_precision_with_counts(&counts).unwrap();
            match case["resample_average_precision"][r].as_f64() {
                Some(expected) => {
                    let ap = ap.unwrap_or_else(|| panic!("{what}: AP missing"));
                    close(ap, expected, &what);
                    aps.push(ap);
                }
                None => {
                    assert_eq!(ap, None, "{what}: no positive drawn, AP must be skipped");
                    skipped += 1;
                }
            }
        }
        for (values, key) in [(&f1s, "f1"), (&aps, "average_precision")] {
            close(
                percentile(values, 2.5).unwrap(),
                case[format!("{key}_low")].as_f64().unwrap(),
                &format!("{name}: {key} 2.5th percentile"),
            );
            close(
                percentile(values, 97.5).unwrap(),
                case[format!("{key}_high")].as_f64().unwrap(),
                &format!("{name}: {key} 97.5th percentile"),
            );
        }
    }
    assert!(skipped >= 2, "the fixture must exercise skipped resamples");
}

#[test]
fn serializes_round_trip() {
    let ci = binary_intervals(
        &[true, false, true, false],
        &[0.9, 0.1, 0.4, 0.6],
        &[true, false, false, true],
        50,
        3,
    )
    .unwrap();
    let text = serde_json::to_string(&ci).unwrap();
    assert!(text.contains("\"skipped_without_positive\""), "{text}");
    let back: focal_metrics::bootstrap::BinaryIntervals = serde_json::from_str(&text).unwrap();
    assert_eq!(back, ci);
}
