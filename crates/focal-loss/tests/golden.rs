//! Golden values and gradients from PyTorch / torchvision (scripts/gen_loss_fixtures.py).
//!
//! Tolerance: every value and every gradient entry within `1e-5 * max(1, |reference|)` (f32
//! arithmetic against float64 references computed on the same f32-rounded inputs).
//! `cargo test -p focal-loss --test golden -- --nocapture` prints the largest errors seen.

mod common;

use common::{device, ints, matrix, mixed_error, value_and_grad};
use focal_loss::{
    AsymmetricLossConfig, FocalLossConfig, LdamLossConfig, LogitAdjustedLossConfig,
    Poly1LossConfig, Reduction, SigmoidFocalLossConfig,
};
use serde::Deserialize;
use std::sync::OnceLock;

const TOLERANCE: f64 = 1e-5;

#[derive(Deserialize)]
struct Fixtures {
    focal: Vec<FocalCase>,
    sigmoid_focal: Vec<SigmoidCase>,
    poly1: Vec<PolyCase>,
    ldam: Vec<LdamCase>,
    logit_adjust: Vec<LogitAdjustCase>,
    asymmetric: Vec<AsymmetricCase>,
}

#[derive(Deserialize)]
struct FocalCase {
    name: String,
    gamma: f32,
    alpha: Option<Vec<f32>>,
    ignore_index: Option<usize>,
    label_smoothing: Option<f32>,
    reduction: String,
    normalize_by_weights: bool,
    logits: Vec<Vec<f64>>,
    targets: Vec<i64>,
    value: Vec<f64>,
    grad: Vec<Vec<f64>>,
}

#[derive(Deserialize)]
struct SigmoidCase {
    name: String,
    gamma: f32,
    alpha: Option<f32>,
    reduction: String,
    logits: Vec<Vec<f64>>,
    targets: Vec<Vec<f64>>,
    value: Vec<f64>,
    grad: Vec<Vec<f64>>,
}

#[derive(Deserialize)]
struct PolyCase {
    name: String,
    epsilon: f32,
    gamma: f32,
    alpha: Option<Vec<f32>>,
    reduction: String,
    logits: Vec<Vec<f64>>,
    targets: Vec<i64>,
    value: Vec<f64>,
    grad: Vec<Vec<f64>>,
}

#[derive(Deserialize)]
struct LdamCase {
    name: String,
    class_counts: Vec<usize>,
    max_m: f32,
    s: f32,
    weights: Option<Vec<f32>>,
    reduction: String,
    margins: Vec<f64>,
    logits: Vec<Vec<f64>>,
    targets: Vec<i64>,
    value: Vec<f64>,
    grad: Vec<Vec<f64>>,
}

#[derive(Deserialize)]
struct LogitAdjustCase {
    name: String,
    priors: Vec<f32>,
    tau: f32,
    reduction: String,
    logits: Vec<Vec<f64>>,
    targets: Vec<i64>,
    value: Vec<f64>,
    grad: Vec<Vec<f64>>,
}

#[derive(Deserialize)]
struct AsymmetricCase {
    name: String,
    gamma_pos: f32,
    gamma_neg: f32,
    clip: f32,
    reduction: String,
    logits: Vec<Vec<f64>>,
    targets: Vec<Vec<f64>>,
    value: Vec<f64>,
    grad: Vec<Vec<f64>>,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        serde_json::from_str(include_str!("fixtures/losses.json")).expect(
            "tests/fixtures/losses.json is valid (regenerate with scripts/gen_loss_fixtures.py)",
        )
    })
}

/// `Some(reduction)` for "mean"/"sum", `None` for "none".
fn reduction(name: &str) -> Option<Reduction> {
    match name {
        "mean" => Some(Reduction::Mean),
        "sum" => Some(Reduction::Sum),
        "none" => None,
        other => panic!("unknown reduction {other:?} in the fixtures"),
    }
}

/// Compares one case and returns (value error, gradient error).
fn check(
    family: &str,
    name: &str,
    got: (Vec<f64>, Vec<f64>),
    value: &[f64],
    grad: &[Vec<f64>],
) -> (f64, f64) {
    let want_grad: Vec<f64> = grad.iter().flatten().copied().collect();
    let ev = mixed_error(&got.0, value);
    let eg = mixed_error(&got.1, &want_grad);
    assert!(
        ev <= TOLERANCE,
        "{family} {name}: value error {ev:e}\n got {:?}\nwant {value:?}",
        got.0
    );
    assert!(
        eg <= TOLERANCE,
        "{family} {name}: gradient error {eg:e}\n got {:?}\nwant {want_grad:?}",
        got.1
    );
    (ev, eg)
}

fn report(family: &str, errors: &[(f64, f64)]) {
    let ev = errors.iter().map(|e| e.0).fold(0.0, f64::max);
    let eg = errors.iter().map(|e| e.1).fold(0.0, f64::max);
    println!(
        "{family}: {} cases, largest value error {ev:.3e}, largest gradient error {eg:.3e} (|d|/max(1,|ref|))",
        errors.len()
    );
}

/// Every softmax focal case, through the fused CPU kernel (`fused`) or the composed tensor ops
/// that the GPU backends run.
fn softmax_focal_cases(fused: bool) {
    let dev = device();
    let mut errors = Vec::new();
    for case in at_least(300, &fixtures().focal) {
        let red = reduction(&case.reduction);
        let loss = FocalLossConfig::new()
            .with_gamma(case.gamma)
            .with_alpha(case.alpha.clone())
            .with_ignore_index(case.ignore_index)
            .with_label_smoothing(case.label_smoothing)
            .with_reduction(red.unwrap_or(Reduction::Mean))
            .with_normalize_by_weights(case.normalize_by_weights)
            .with_fused(fused)
            .init(&dev);
        let targets = ints(&case.targets, &dev);
        let got = value_and_grad(matrix(&case.logits, &dev), |x| match red {
            Some(_) => loss.forward(x, targets),
            None => loss.forward_no_reduction(x, targets),
        });
        errors.push(check("focal", &case.name, got, &case.value, &case.grad));
    }
    assert!(errors.len() > 300);
    report(
        if fused {
            "focal (fused)"
        } else {
            "focal (composed)"
        },
        &errors,
    );
}

#[test]
fn softmax_focal_matches_reference() {
    softmax_focal_cases(true);
}

#[test]
fn softmax_focal_composed_matches_reference() {
    softmax_focal_cases(false);
}

#[test]
fn sigmoid_focal_matches_torchvision() {
    let dev = device();
    let mut errors = Vec::new();
    for case in at_least(150, &fixtures().sigmoid_focal) {
        let red = reduction(&case.reduction);
        let loss = SigmoidFocalLossConfig::new()
            .with_gamma(case.gamma)
            .with_alpha(case.alpha)
            .with_reduction(red.unwrap_or(Reduction::Mean))
            .init(&dev);
        let targets = matrix(&case.targets, &dev);
        let got = value_and_grad(matrix(&case.logits, &dev), |x| match red {
            Some(_) => loss.forward(x, targets),
            None => loss.forward_no_reduction(x, targets).flatten::<1>(0, 1),
        });
        errors.push(check(
            "sigmoid_focal",
            &case.name,
            got,
            &case.value,
            &case.grad,
        ));
    }
    assert!(errors.len() > 100);
    report("sigmoid_focal", &errors);
}

#[test]
fn poly1_matches_reference() {
    let dev = device();
    let mut errors = Vec::new();
    for case in at_least(25, &fixtures().poly1) {
        let red = reduction(&case.reduction);
        let loss = Poly1LossConfig::new()
            .with_epsilon(case.epsilon)
            .with_gamma(case.gamma)
            .with_alpha(case.alpha.clone())
            .with_reduction(red.unwrap_or(Reduction::Mean))
            .init(&dev);
        let targets = ints(&case.targets, &dev);
        let got = value_and_grad(matrix(&case.logits, &dev), |x| match red {
            Some(_) => loss.forward(x, targets),
            None => loss.forward_no_reduction(x, targets),
        });
        errors.push(check("poly1", &case.name, got, &case.value, &case.grad));
    }
    assert!(!errors.is_empty());
    report("poly1", &errors);
}

#[test]
fn ldam_matches_authors_code() {
    let dev = device();
    let mut errors = Vec::new();
    for case in at_least(10, &fixtures().ldam) {
        let red = reduction(&case.reduction);
        let config = LdamLossConfig::new(case.class_counts.clone())
            .with_max_m(case.max_m)
            .with_s(case.s)
            .with_weights(case.weights.clone())
            .with_reduction(red.unwrap_or(Reduction::Mean));
        let margins: Vec<f64> = config
            .margins()
            .unwrap()
            .iter()
            .map(|&m| m as f64)
            .collect();
        assert!(
            mixed_error(&margins, &case.margins) < 1e-6,
            "{}: margins {margins:?}",
            case.name
        );
        let loss = config.init(&dev);
        let targets = ints(&case.targets, &dev);
        let got = value_and_grad(matrix(&case.logits, &dev), |x| match red {
            Some(_) => loss.forward(x, targets),
            None => loss.forward_no_reduction(x, targets),
        });
        errors.push(check("ldam", &case.name, got, &case.value, &case.grad));
    }
    assert!(!errors.is_empty());
    report("ldam", &errors);
}

#[test]
fn logit_adjusted_matches_reference() {
    let dev = device();
    let mut errors = Vec::new();
    for case in at_least(8, &fixtures().logit_adjust) {
        let red = reduction(&case.reduction);
        let loss = LogitAdjustedLossConfig::new(case.priors.clone())
            .with_tau(case.tau)
            .with_reduction(red.unwrap_or(Reduction::Mean))
            .init(&dev);
        let targets = ints(&case.targets, &dev);
        let got = value_and_grad(matrix(&case.logits, &dev), |x| match red {
            Some(_) => loss.forward(x, targets),
            None => loss.forward_no_reduction(x, targets),
        });
        errors.push(check(
            "logit_adjust",
            &case.name,
            got,
            &case.value,
            &case.grad,
        ));
    }
    assert!(!errors.is_empty());
    report("logit_adjust", &errors);
}

#[test]
fn asymmetric_matches_authors_code() {
    let dev = device();
    let mut errors = Vec::new();
    for case in at_least(40, &fixtures().asymmetric) {
        let red = reduction(&case.reduction);
        let loss = AsymmetricLossConfig::new()
            .with_gamma_pos(case.gamma_pos)
            .with_gamma_neg(case.gamma_neg)
            .with_clip(case.clip)
            .with_reduction(red.unwrap_or(Reduction::Mean))
            .init(&dev);
        let targets = matrix(&case.targets, &dev);
        let got = value_and_grad(matrix(&case.logits, &dev), |x| match red {
            Some(_) => loss.forward(x, targets),
            None => loss.forward_no_reduction(x, targets).flatten::<1>(0, 1),
        });
        errors.push(check(
            "asymmetric",
            &case.name,
            got,
            &case.value,
            &case.grad,
        ));
    }
    assert!(!errors.is_empty());
    report("asymmetric", &errors);
}

/// `cases`, after checking that the fixture holds at least `min` of them (a loop over an
/// empty or truncated fixture would pass without testing anything).
fn at_least<T>(min: usize, cases: &[T]) -> &[T] {
    assert!(
        cases.len() >= min,
        "the fixture holds {} cases, expected at least {min}",
        cases.len()
    );
    cases
}
