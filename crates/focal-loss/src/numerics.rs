//! Numerically careful building blocks shared by the losses.

use burn::tensor::{Bool, Int, Tensor};

/// Floor applied to `1 - p` before it is raised to the power gamma.
///
/// For `0 < gamma < 1`, `d/du u^gamma = gamma * u^(gamma - 1)` is infinite at `u = 0`, and autodiff
/// would multiply it by the zero derivative of a saturated probability: `0 * inf = NaN`. Below the
/// floor the clamp cuts the gradient to exactly 0 (the true limit), and the value changes by at most
/// `TINY^gamma * (-log p_t)` with `-log p_t < TINY`, far below f32 resolution. `1 / TINY = 1e30` keeps
/// `gamma * u^(gamma - 1)` times any realistic upstream gradient finite in f32.
pub(crate) const TINY: f32 = 1e-30;

/// `u^gamma` with a gradient that is finite everywhere; `None` for `gamma == 0` (factor 1, exactly
/// the unmodulated loss, no `0^0`).
pub(crate) fn safe_pow<const D: usize>(u: Tensor<D>, gamma: f32) -> Option<Tensor<D>> {
    if gamma == 0.0 {
        None
    } else {
        Some(u.clamp_min(TINY).powf_scalar(gamma))
    }
}

/// `1 - softmax(z)_c` for every class, from log-probabilities, without cancellation.
///
/// `1 - p_c` computed as such loses all precision when `p_c` is close to 1. At most one class per row
/// can have `p_c > 1/2`, and it is the row's arg-max; for that class `1 - p_c` equals the sum of the
/// other probabilities, which has no cancellation. For the other classes `p_c <= 1/2` and `1 - p_c`
/// is exact to rounding.
pub(crate) fn one_minus_softmax(log_probs: Tensor<2>) -> Tensor<2> {
    let [n, c] = log_probs.dims();
    let probs = log_probs.clone().exp();
    let top: Tensor<1, Int> = log_probs.detach().argmax(1).reshape([n]);
    let top_mask = class_mask(top, c);
    let rest = probs
        .clone()
        .mask_fill(top_mask.clone(), 0.0)
        .sum_dim(1)
        .expand([n, c]);
    probs.neg().add_scalar(1.0).mask_where(top_mask, rest)
}

/// The mask `[N, C]` that is true where column `c` is `classes[n]`.
///
/// A comparison with `0..C`, not Burn's `one_hot`, which reads the indices back to the host to
/// check them (two device syncs per call, an upload and about a dozen kernels): this is two
/// kernels and no sync. Indices outside `0..C` give a row of `false`. The columns take the
/// classes' integer type, whatever it is (a comparison needs both sides in one type).
pub(crate) fn class_mask(classes: Tensor<1, Int>, num_classes: usize) -> Tensor<2, Bool> {
    let [n] = classes.dims();
    let columns =
        Tensor::<1, Int>::arange(0..num_classes as i64, (&classes.device(), classes.dtype()))
            .reshape([1, num_classes])
            .expand([n, num_classes]);
    classes
        .reshape([n, 1])
        .expand([n, num_classes])
        .equal(columns)
}

/// The one-hot matrix `[N, C]` of `targets` as floats (see [`class_mask`]).
pub(crate) fn one_hot_float(targets: Tensor<1, Int>, num_classes: usize) -> Tensor<2> {
    class_mask(targets, num_classes).float()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
        t.into_data().iter::<f64>().collect()
    }

    #[test]
    fn class_mask_is_one_hot() {
        let device = Device::default();
        let t = Tensor::<1, Int>::from_ints([2, 0, 1, 2], &device);
        let got: Vec<f64> = values(one_hot_float(t.clone(), 3));
        let want: Vec<f64> = values(t.one_hot::<2>(3).float());
        assert_eq!(got, want);
    }

    #[test]
    fn one_minus_softmax_keeps_precision_near_one() {
        // Logits [20, 0, -5]: 1 - p_0 = (e^-20 + e^-25) / (1 + e^-20 + e^-25) ~ 2.0626e-9, which
        // the naive 1 - p_0 in f32 rounds to 0. Relative tolerance 1e-5.
        let device = Device::default();
        let logits = Tensor::<2>::from_floats([[20.0, 0.0, -5.0], [0.0, 0.0, 0.0]], &device);
        let lp = burn::tensor::activation::log_softmax(logits, 1);
        let got = values(one_minus_softmax(lp));
        let (a, b) = ((-20.0f64).exp(), (-25.0f64).exp());
        let s = 1.0 + a + b;
        let want = [
            (a + b) / s,
            1.0 - a / s,
            1.0 - b / s,
            2.0 / 3.0,
            2.0 / 3.0,
            2.0 / 3.0,
        ];
        for (g, w) in got.iter().zip(want) {
            assert!(((g - w) / w).abs() < 1e-5, "{got:?}");
        }
    }

    #[test]
    fn safe_pow_gamma_zero_is_no_factor_and_clamps_zero() {
        let device = Device::default();
        let u = Tensor::<1>::from_floats([0.0, 0.25, 1.0], &device);
        assert!(safe_pow(u.clone(), 0.0).is_none());
        let got = values(safe_pow(u, 0.5).expect("gamma > 0 gives a factor"));
        assert_eq!(got[1], 0.5);
        assert_eq!(got[2], 1.0);
        assert!(got[0] > 0.0 && got[0] < 1e-14, "{got:?}");
    }
}
