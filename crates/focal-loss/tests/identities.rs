//! Identities the reference test suites check, the Keras docstring values, and the numerics at
//! saturated logits. Each tolerance is stated where it is used.

mod common;

use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::Tensor;
use common::{device, ints, matrix, mixed_error, value_and_grad, values};
use focal_loss::{
    AsymmetricLossConfig, FocalLossConfig, FocalLossError, LdamLossConfig, LogitAdjustedLossConfig,
    Poly1LossConfig, Reduction, SigmoidFocalLossConfig,
};

const GAMMAS: [f32; 6] = [0.0, 0.25, 0.5, 1.0, 2.0, 5.0];

fn sample_logits() -> Vec<Vec<f64>> {
    vec![
        vec![2.0, -1.0, 0.5, 0.1],
        vec![-3.0, 4.0, 0.0, 1.5],
        vec![0.3, 0.2, 0.1, 0.0],
        vec![10.0, -10.0, 5.0, -2.0],
        vec![-0.7, 1.1, -2.2, 3.3],
    ]
}
const SAMPLE_TARGETS: [i64; 5] = [0, 2, 3, 0, 1];

/// Softmax of one row, in f64.
fn softmax(row: &[f64]) -> Vec<f64> {
    let m = row.iter().cloned().fold(f64::MIN, f64::max);
    let e: Vec<f64> = row.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

#[test]
fn gamma_zero_without_alpha_equals_burn_cross_entropy() {
    // Tolerance 1e-6 * max(1, |x|): the same f32 arithmetic up to operation order.
    let dev = device();
    for smoothing in [None, Some(0.2)] {
        for ignore in [None, Some(2usize)] {
            let focal = FocalLossConfig::new()
                .with_gamma(0.0)
                .with_label_smoothing(smoothing)
                .with_ignore_index(ignore)
                .init(&dev);
            let ce = CrossEntropyLossConfig::new()
                .with_smoothing(smoothing)
                .with_pad_tokens(ignore.map(|i| vec![i]))
                .init(&dev);
            let t = ints(&SAMPLE_TARGETS, &dev);
            let ours = value_and_grad(matrix(&sample_logits(), &dev), |x| {
                focal.forward(x, t.clone())
            });
            let burn = value_and_grad(matrix(&sample_logits(), &dev), |x| ce.forward(x, t.clone()));
            assert!(mixed_error(&ours.0, &burn.0) < 1e-6, "{ours:?} {burn:?}");
            assert!(mixed_error(&ours.1, &burn.1) < 1e-6, "{ours:?} {burn:?}");
        }
    }
    // With class weights, Burn's CE divides by the total weight: our `normalize_by_weights`.
    let w = vec![0.5, 2.0, 1.0, 0.25];
    let focal = FocalLossConfig::new()
        .with_gamma(0.0)
        .with_alpha(Some(w.clone()))
        .with_normalize_by_weights(true)
        .init(&dev);
    let ce = CrossEntropyLossConfig::new()
        .with_weights(Some(w))
        .init(&dev);
    let t = ints(&SAMPLE_TARGETS, &dev);
    let ours = value_and_grad(matrix(&sample_logits(), &dev), |x| {
        focal.forward(x, t.clone())
    });
    let burn = value_and_grad(matrix(&sample_logits(), &dev), |x| ce.forward(x, t.clone()));
    assert!(mixed_error(&ours.0, &burn.0) < 1e-6);
    assert!(mixed_error(&ours.1, &burn.1) < 1e-6);
}

#[test]
fn focal_over_cross_entropy_is_alpha_t_times_modulating_factor() {
    // focal <= CE elementwise (alpha <= 1), and focal / CE = alpha_t (1 - p_t)^gamma,
    // relative tolerance 1e-5 (p_t from an f64 softmax of the same logits).
    let dev = device();
    let alpha = vec![0.25, 1.0, 0.5, 0.75];
    let logits = sample_logits();
    for gamma in GAMMAS {
        let t = ints(&SAMPLE_TARGETS, &dev);
        let ce = FocalLossConfig::new()
            .with_gamma(0.0)
            .init(&dev)
            .forward_no_reduction(matrix(&logits, &dev), t.clone());
        let fl = FocalLossConfig::new()
            .with_gamma(gamma)
            .with_alpha(Some(alpha.clone()))
            .init(&dev)
            .forward_no_reduction(matrix(&logits, &dev), t);
        let (ce, fl) = (values(ce), values(fl));
        for (i, row) in logits.iter().enumerate() {
            let y = SAMPLE_TARGETS[i] as usize;
            let pt = softmax(row)[y];
            assert!(fl[i] <= ce[i] + 1e-7, "gamma {gamma}, sample {i}");
            let expected = alpha[y] as f64 * (1.0 - pt).powf(gamma as f64);
            let ratio = fl[i] / ce[i];
            assert!(
                (ratio - expected).abs() <= 1e-5 * expected.max(1e-30) + 1e-12,
                "gamma {gamma}, sample {i}: ratio {ratio} expected {expected}"
            );
        }
    }
}

#[test]
fn targets_of_every_integer_type_give_the_same_loss() {
    // The fused kernel reads i32 targets (flex's default) and i64 ones in place and converts any
    // other type: the values and gradients are the same to the bit, reduced or not, with an
    // ignored sample. The composed path (label smoothing) is checked the same way.
    use burn::tensor::{DType, Int, TensorData};
    let dev = device();
    let logits = sample_logits();
    let mut targets = SAMPLE_TARGETS;
    targets[3] = 255;
    for smoothing in [None, Some(0.1)] {
        for (reduction, per_sample) in [
            (Reduction::Mean, false),
            (Reduction::Sum, false),
            (Reduction::Mean, true),
        ] {
            let loss = FocalLossConfig::new()
                .with_alpha(Some(vec![0.3, 0.9, 0.5, 0.7]))
                .with_ignore_index(Some(255))
                .with_label_smoothing(smoothing)
                .with_reduction(reduction)
                .init(&dev);
            let results: Vec<_> = [DType::I32, DType::I64, DType::I16]
                .into_iter()
                .map(|dtype| {
                    let t = Tensor::<1, Int>::from_data(
                        TensorData::new(targets.to_vec(), [targets.len()]),
                        (&dev, dtype),
                    );
                    assert_eq!(t.dtype(), dtype);
                    value_and_grad(matrix(&logits, &dev), |x| {
                        if per_sample {
                            loss.forward_no_reduction(x, t.clone())
                        } else {
                            loss.forward(x, t.clone())
                        }
                    })
                })
                .collect();
            let case = format!("{smoothing:?} {reduction:?} per sample {per_sample}");
            assert_eq!(results[0], results[1], "{case}");
            assert_eq!(results[0], results[2], "{case}");
        }
    }
}

#[test]
fn an_ignored_sample_changes_nothing() {
    // The loss with sample 2 ignored equals the loss of the batch without it (mean and sum), its
    // gradient row is exactly 0 and the other rows match. Tolerance 1e-6.
    let dev = device();
    let logits = sample_logits();
    let mut targets = SAMPLE_TARGETS;
    targets[2] = 255;
    let kept_logits: Vec<Vec<f64>> = logits
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, r)| r.clone())
        .collect();
    let kept_targets: Vec<i64> = targets.iter().copied().filter(|&t| t != 255).collect();
    for reduction in [Reduction::Mean, Reduction::Sum] {
        for smoothing in [None, Some(0.1)] {
            let config = FocalLossConfig::new()
                .with_alpha(Some(vec![0.3, 0.9, 0.5, 0.7]))
                .with_label_smoothing(smoothing)
                .with_reduction(reduction);
            let with = config.clone().with_ignore_index(Some(255)).init(&dev);
            let without = config.init(&dev);
            let t = ints(&targets, &dev);
            let a = value_and_grad(matrix(&logits, &dev), |x| with.forward(x, t.clone()));
            let tk = ints(&kept_targets, &dev);
            let b = value_and_grad(matrix(&kept_logits, &dev), |x| {
                without.forward(x, tk.clone())
            });
            assert!(mixed_error(&a.0, &b.0) < 1e-6, "{reduction:?}: {a:?} {b:?}");
            let mut a_rows: Vec<f64> = a.1.clone();
            let ignored_row: Vec<f64> = a_rows.drain(8..12).collect();
            assert_eq!(ignored_row, vec![0.0; 4]);
            assert!(mixed_error(&a_rows, &b.1) < 1e-6);
        }
    }
    // Every sample ignored: 0 and a zero gradient (PyTorch's cross_entropy gives NaN).
    let loss = FocalLossConfig::new().with_ignore_index(Some(1)).init(&dev);
    let t = ints(&[1, 1], &dev);
    let (v, g) = value_and_grad(matrix(&logits[..2], &dev), |x| loss.forward(x, t));
    assert_eq!(v, vec![0.0]);
    assert!(g.iter().all(|&x| x == 0.0));
}

#[test]
fn keras_categorical_focal_docstring_values() {
    // keras.losses.categorical_focal_crossentropy(y_true=[[0,1,0],[0,0,1]],
    //   y_pred=[[0.05,0.9,0.05],[0.1,0.85,0.05]]) -> [2.63401289e-04, 6.75912094e-01]
    // (alpha 0.25 for every class, gamma 2). Logits = log(probabilities). Relative tolerance 1e-5.
    let dev = device();
    let probs = [[0.05f64, 0.9, 0.05], [0.1, 0.85, 0.05]];
    let logits: Vec<Vec<f64>> = probs
        .iter()
        .map(|r| r.iter().map(|p| p.ln()).collect())
        .collect();
    let loss = FocalLossConfig::new()
        .with_alpha(Some(vec![0.25; 3]))
        .init(&dev)
        .forward_no_reduction(matrix(&logits, &dev), ints(&[1, 2], &dev));
    let got = values(loss);
    for (g, want) in got.iter().zip([2.63401289e-04, 6.75912094e-01]) {
        assert!((g - want).abs() <= 1e-5 * want, "{got:?}");
    }
}

#[test]
fn keras_binary_focal_docstring_values() {
    // keras.losses.binary_focal_crossentropy(y_true=[[0,1],[0,0]], y_pred=[[0.6,0.4],[0.4,0.6]],
    //   gamma=2) -> [0.330, 0.206] (recomputed in float64: 0.329864, 0.205801); Keras averages over
    //   the last axis and applies no alpha by default: our sigmoid focal loss with alpha None.
    // Tolerance 1e-5 against the recomputed values.
    let dev = device();
    let logit = |p: f64| (p / (1.0 - p)).ln();
    let logits = vec![vec![logit(0.6), logit(0.4)], vec![logit(0.4), logit(0.6)]];
    let loss = SigmoidFocalLossConfig::new()
        .with_alpha(None)
        .init(&dev)
        .forward_no_reduction(
            matrix(&logits, &dev),
            matrix(&[vec![0.0, 1.0], vec![0.0, 0.0]], &dev),
        )
        .mean_dim(1);
    let got = values(loss);
    let recomputed =
        |terms: [(f64, f64); 2]| terms.iter().map(|&(q, p)| q * q * -p.ln()).sum::<f64>() / 2.0;
    // (1 - p_t, p_t) per element.
    let want = [
        recomputed([(0.6, 0.4), (0.6, 0.4)]),
        recomputed([(0.4, 0.6), (0.6, 0.4)]),
    ];
    assert!((want[0] - 0.330).abs() < 5e-4 && (want[1] - 0.206).abs() < 5e-4);
    assert!(mixed_error(&got, &want) < 1e-5, "{got:?} vs {want:?}");
    // Keras example 1: y_true [0, 1, 0, 0], logits [-18.6, 0.51, 2.94, -12.8], from_logits,
    // gamma 2 -> 0.691 (3 decimals: tolerance 5e-4).
    let mean = SigmoidFocalLossConfig::new()
        .with_alpha(None)
        .init(&dev)
        .forward(
            matrix(&[vec![-18.6, 0.51, 2.94, -12.8]], &dev),
            matrix(&[vec![0.0, 1.0, 0.0, 0.0]], &dev),
        );
    let mean = values(mean)[0];
    assert!((mean - 0.691).abs() < 5e-4, "{mean}");
}

/// Checks that values and gradients are finite and returns them.
fn finite(name: &str, (v, g): (Vec<f64>, Vec<f64>)) -> (Vec<f64>, Vec<f64>) {
    assert!(
        v.iter().chain(&g).all(|x| x.is_finite()),
        "{name}: {v:?} {g:?}"
    );
    (v, g)
}

#[test]
fn saturated_logits_give_finite_and_correct_values_and_gradients() {
    // Right class at +-z: loss 0 and gradient 0 (the limit); wrong class: loss 2z and gradient
    // p - onehot = [1, -1]. Absolute tolerance 1e-5 (relative 1e-6 on the value 2z).
    let dev = device();
    for z in [50.0, 100.0] {
        for gamma in GAMMAS {
            for smoothing in [None, Some(0.0)] {
                let loss = FocalLossConfig::new()
                    .with_gamma(gamma)
                    .with_label_smoothing(smoothing)
                    .with_reduction(Reduction::Sum)
                    .init(&dev);
                let logits = vec![vec![z, -z]];
                let name = format!("softmax z {z} gamma {gamma}");
                let right = finite(
                    &name,
                    value_and_grad(matrix(&logits, &dev), |x| loss.forward(x, ints(&[0], &dev))),
                );
                assert!(
                    right.0[0].abs() < 1e-20 && right.1.iter().all(|g| g.abs() < 1e-20),
                    "{name}: {right:?}"
                );
                let wrong = finite(
                    &name,
                    value_and_grad(matrix(&logits, &dev), |x| loss.forward(x, ints(&[1], &dev))),
                );
                assert!(
                    (wrong.0[0] - 2.0 * z).abs() < 2.0 * z * 1e-6,
                    "{name}: {wrong:?}"
                );
                assert!(
                    mixed_error(&wrong.1, &[1.0, -1.0]) < 1e-5,
                    "{name}: {wrong:?}"
                );
            }
            // Label smoothing with a saturated logit: finite, and the smoothed cross-entropy limit.
            let ls = FocalLossConfig::new()
                .with_gamma(gamma)
                .with_label_smoothing(Some(0.1))
                .init(&dev);
            finite(
                "smoothed",
                value_and_grad(matrix(&[vec![z, -z, 0.0]], &dev), |x| {
                    ls.forward(x, ints(&[0], &dev))
                }),
            );
            // Sigmoid focal at +-z for targets 1 / 0: right side 0, wrong side finite.
            let sig = SigmoidFocalLossConfig::new()
                .with_gamma(gamma)
                .with_reduction(Reduction::Sum)
                .init(&dev);
            let logits = vec![vec![z, -z]];
            let right = finite(
                "sigmoid",
                value_and_grad(matrix(&logits, &dev), |x| {
                    sig.forward(x, matrix(&[vec![1.0, 0.0]], &dev))
                }),
            );
            assert!(
                right.0[0].abs() < 1e-20 && right.1.iter().all(|g| g.abs() < 1e-20),
                "sigmoid z {z} gamma {gamma}: {right:?}"
            );
            let wrong = finite(
                "sigmoid",
                value_and_grad(matrix(&logits, &dev), |x| {
                    sig.forward(x, matrix(&[vec![0.0, 1.0]], &dev))
                }),
            );
            // 0.75 * z + 0.25 * z (alpha_t), gradient alpha_t * (p - t) = [0.75, -0.25].
            assert!((wrong.0[0] - z).abs() < z * 1e-6, "{wrong:?}");
            assert!(mixed_error(&wrong.1, &[0.75, -0.25]) < 1e-5, "{wrong:?}");
            // Poly-1 (focal form) and the asymmetric loss with the same gamma.
            let poly = Poly1LossConfig::new().with_gamma(gamma).init(&dev);
            let p = finite(
                "poly",
                value_and_grad(matrix(&[vec![z, -z]], &dev), |x| {
                    poly.forward(x, ints(&[0], &dev))
                }),
            );
            assert!(p.0[0].abs() < 1e-20, "{p:?}");
            let asl = AsymmetricLossConfig::new()
                .with_gamma_pos(gamma)
                .with_gamma_neg(gamma)
                .with_clip(0.0)
                .init(&dev);
            finite(
                "asymmetric",
                value_and_grad(matrix(&[vec![z, -z], vec![-z, z]], &dev), |x| {
                    asl.forward(x, matrix(&[vec![1.0, 0.0], vec![1.0, 0.0]], &dev))
                }),
            );
        }
    }
}

#[test]
fn small_gamma_gradient_near_saturation_matches_closed_form() {
    // Two classes, logits [0, z], target 1: L = q^g * softplus(-z) with q = sigmoid(-z), and
    // dL/dz = -q^g * (g * p * softplus(-z) + q). For z = 4 and 8 (where f32's log_softmax is
    // still accurate to ~1e-4 relative on -log p), relative tolerance 2e-3.
    let dev = device();
    for gamma in [0.25f64, 0.5, 0.75] {
        for z in [4.0f64, 8.0] {
            let q = 1.0 / (1.0 + z.exp());
            let p = 1.0 - q;
            let sp = (-z).exp().ln_1p();
            let expected = -q.powf(gamma) * (gamma * p * sp + q);
            let loss = FocalLossConfig::new().with_gamma(gamma as f32).init(&dev);
            let (_, g) = value_and_grad(matrix(&[vec![0.0, z]], &dev), |x| {
                loss.forward(x, ints(&[1], &dev))
            });
            assert!(
                ((g[1] - expected) / expected).abs() < 2e-3,
                "gamma {gamma} z {z}: {g:?} vs {expected}"
            );
            assert!(((g[0] + expected) / expected).abs() < 2e-3);
        }
    }
}

#[test]
fn binary_alpha_is_the_tutorial_scalar() {
    // FocalLossConfig::binary(a) weights class 1 by a and class 0 by 1 - a.
    let dev = device();
    let logits = vec![vec![0.3, -0.2], vec![-1.0, 2.0]];
    let plain = values(
        FocalLossConfig::new()
            .init(&dev)
            .forward_no_reduction(matrix(&logits, &dev), ints(&[0, 1], &dev)),
    );
    let binary = values(
        FocalLossConfig::binary(0.8)
            .init(&dev)
            .forward_no_reduction(matrix(&logits, &dev), ints(&[0, 1], &dev)),
    );
    assert!((binary[0] - 0.2 * plain[0]).abs() < 1e-7 * plain[0].max(1.0));
    assert!((binary[1] - 0.8 * plain[1]).abs() < 1e-7 * plain[1].max(1.0));
}

#[test]
fn validation_names_the_value() {
    let e = FocalLossConfig::new()
        .with_gamma(-0.5)
        .validate()
        .unwrap_err();
    assert_eq!(
        e,
        FocalLossError::InvalidGamma {
            loss: "FocalLossConfig",
            value: -0.5
        }
    );
    assert!(e.to_string().contains("gamma is -0.5"), "{e}");
    let e = FocalLossConfig::new()
        .with_alpha(Some(vec![0.5, -0.1]))
        .validate()
        .unwrap_err();
    assert!(e.to_string().contains("alpha[1] is -0.1"), "{e}");
    let e = FocalLossConfig::binary(1.2).validate().unwrap_err();
    assert!(e.to_string().contains("alpha[0] is -0.2"), "{e}");
    let e = FocalLossConfig::new()
        .with_label_smoothing(Some(1.5))
        .validate()
        .unwrap_err();
    assert!(e.to_string().contains("label_smoothing is 1.5"), "{e}");
    let e = FocalLossConfig::new()
        .with_alpha(Some(vec![1.0; 3]))
        .validate_for(4)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("alpha has 3 entries but the logits have 4 classes"),
        "{e}"
    );
    assert!(
        FocalLossConfig::new()
            .with_gamma(f32::NAN)
            .validate()
            .is_err()
    );
    assert!(FocalLossConfig::new().validate_for(7).is_ok());
    assert!(
        SigmoidFocalLossConfig::new()
            .with_alpha(Some(1.5))
            .validate()
            .is_err()
    );
    assert!(
        SigmoidFocalLossConfig::new()
            .with_alpha(None)
            .validate()
            .is_ok()
    );
    assert!(
        Poly1LossConfig::new()
            .with_epsilon(-1.5)
            .validate()
            .is_err()
    );
    assert!(
        AsymmetricLossConfig::new()
            .with_clip(1.0)
            .validate()
            .is_err()
    );
    assert_eq!(
        LdamLossConfig::new(vec![10, 0]).validate(),
        Err(FocalLossError::ZeroCount { class: 1 })
    );
    assert!(
        LdamLossConfig::new(vec![10, 5])
            .with_weights(Some(vec![1.0]))
            .validate()
            .is_err()
    );
    assert!(
        LogitAdjustedLossConfig::new(vec![0.5, 0.0])
            .validate()
            .is_err()
    );
    assert!(LogitAdjustedLossConfig::from_counts(&[3, 0]).is_err());
}

#[test]
#[should_panic(expected = "gamma is -1 in FocalLossConfig")]
fn init_panics_with_the_validate_message() {
    let _ = FocalLossConfig::new().with_gamma(-1.0).init(&device());
}

#[test]
#[should_panic(expected = "alpha has 2 entries but the logits have 3 classes")]
fn forward_panics_on_alpha_length() {
    let dev = device();
    let loss = FocalLossConfig::binary(0.25).init(&dev);
    let _ = loss.forward(Tensor::<2>::zeros([2, 3], &dev), ints(&[0, 1], &dev));
}

#[test]
fn ldam_margins_follow_the_quarter_power() {
    // Delta_j proportional to n_j^(-1/4), the rarest class at max_m: counts [16, 1] -> [0.25, 0.5].
    let m = LdamLossConfig::new(vec![16, 1]).margins().unwrap();
    assert!(
        (m[0] - 0.25).abs() < 1e-7 && (m[1] - 0.5).abs() < 1e-7,
        "{m:?}"
    );
}

#[test]
fn logit_adjustment_with_uniform_priors_is_cross_entropy() {
    // Equal priors shift every logit by the same amount, which cancels in the softmax. 1e-6.
    let dev = device();
    let la = LogitAdjustedLossConfig::new(vec![0.25; 4]).init(&dev);
    let ce = FocalLossConfig::new().with_gamma(0.0).init(&dev);
    let t = ints(&SAMPLE_TARGETS, &dev);
    let a = values(la.forward(matrix(&sample_logits(), &dev), t.clone()));
    let b = values(ce.forward(matrix(&sample_logits(), &dev), t));
    assert!(mixed_error(&a, &b) < 1e-6);
    let adjusted = focal_loss::posthoc_logit_adjustment(
        matrix(&sample_logits(), &dev),
        &[0.5, 0.25, 0.125, 0.125],
        1.0,
    )
    .unwrap();
    let row0 = values(adjusted)[..4].to_vec();
    let want = [
        2.0 - 0.5f64.ln(),
        -1.0 - 0.25f64.ln(),
        0.5 - 0.125f64.ln(),
        0.1 - 0.125f64.ln(),
    ];
    assert!(mixed_error(&row0, &want) < 1e-6, "{row0:?}");
}
