//! The softmax focal loss in one pass over the logits, with its closed-form gradient, for Burn's
//! CPU backend (flex).
//!
//! ```text
//! L_i       = -alpha_t (1 - p_t)^g log p_t
//! dL_i/dz_j = alpha_t (p_j - [j = t]) ((1 - p_t)^g - g p_t (1 - p_t)^(g-1) log p_t)
//! ```
//!
//! Per row, one exponential per logit (in f64): `e_j = exp(z_j - max)`, `s = sum e_j`,
//! `1 - p_t = (s - e_t) / s` (the other classes' share, no cancellation), and
//! `log p_t = -ln_1p((s - e_t) / e_t)`. The limits are exact: `g = 0` gives cross-entropy, and
//! `1 - p_t = 0` gives a zero gradient for every `g` (the term `g p_t u^(g-1) log p_t` tends to 0
//! as `u -> 0`, for `g < 1` too).
//!
//! The autodiff graph sees the result as `L + sum(z * G) - sum(detach(z) * G)`, with `L` and `G`
//! computed here as constants: its value is `L` exactly (the two sums are the same computation on
//! the same numbers), and its gradient with respect to the logits is `G`. A GPU would pay a host
//! round trip for this, so there the loss stays composed of tensor ops (see `focal.rs`).

use burn::tensor::{Int, Tensor, TensorData};

/// Rows x classes above which the rows are split over threads.
const PARALLEL_ELEMENTS: usize = 1 << 15;

/// What the fused kernel needs besides the logits and targets.
pub(crate) struct Spec<'a> {
    pub gamma: f32,
    pub alpha: Option<&'a [f32]>,
    pub ignore_index: Option<usize>,
}

/// Per-sample losses `[n]` (0 for ignored samples), the gradient of each sample's loss with
/// respect to its logits `[n, c]` (0 rows for ignored samples), and each sample's weight in a
/// weighted mean (alpha_t, or 1; 0 for ignored samples).
pub(crate) struct Output {
    pub losses: Vec<f32>,
    pub grad: Vec<f32>,
    pub weights: Vec<f32>,
}

fn row(z: &[f32], t: usize, spec: &Spec<'_>, grad: &mut [f32]) -> (f32, f32) {
    let a = spec.alpha.map_or(1.0, |w| f64::from(w[t]));
    let g = f64::from(spec.gamma);
    let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let mut s = 0.0f64;
    for (gj, &zj) in grad.iter_mut().zip(z) {
        let e = f64::from(zj - max).exp();
        *gj = e as f32;
        s += e;
    }
    // e_t again in f64: as f32 it can be subnormal (z_t - max < -87), and log p_t needs it exact.
    let et = f64::from(z[t] - max).exp();
    let rest = (s - et).max(0.0);
    let u = rest / s; // 1 - p_t
    let pt = et / s;
    let log_pt = -(rest / et).ln_1p();
    let (modulator, coef) = if g == 0.0 {
        (1.0, a)
    } else if u > 0.0 {
        let ug = u.powf(g);
        (ug, a * (ug - g * pt * u.powf(g - 1.0) * log_pt))
    } else {
        (0.0, 0.0)
    };
    let loss = -a * modulator * log_pt;
    for (j, gj) in grad.iter_mut().enumerate() {
        let p = f64::from(*gj) / s;
        let delta = if j == t { 1.0 } else { 0.0 };
        *gj = (coef * (p - delta)) as f32;
    }
    (loss as f32, a as f32)
}

/// The loss and gradient of every row of `z` (`[n, c]`, row-major) against `targets`.
///
/// # Panics
/// A target outside `0..c` that is not the ignore index.
pub(crate) fn focal_rows(z: &[f32], targets: &[i64], c: usize, spec: &Spec<'_>) -> Output {
    let n = targets.len();
    let mut out = Output {
        losses: vec![0.0; n],
        grad: vec![0.0; n * c],
        weights: vec![0.0; n],
    };
    let one = |i: usize, loss: &mut f32, weight: &mut f32, grad: &mut [f32]| {
        let t = targets[i];
        if spec.ignore_index.is_some_and(|ig| t == ig as i64) {
            return;
        }
        let t = usize::try_from(t)
            .ok()
            .filter(|&t| t < c)
            .unwrap_or_else(|| panic!("target {t} of sample {i} is not a class of 0..{c}"));
        (*loss, *weight) = row(&z[i * c..(i + 1) * c], t, spec, grad);
    };
    if n * c >= PARALLEL_ELEMENTS {
        use rayon::prelude::*;
        out.losses
            .par_iter_mut()
            .zip(out.weights.par_iter_mut())
            .zip(out.grad.par_chunks_mut(c))
            .enumerate()
            .for_each(|(i, ((l, w), g))| one(i, l, w, g));
    } else {
        for (i, ((l, w), g)) in out
            .losses
            .iter_mut()
            .zip(out.weights.iter_mut())
            .zip(out.grad.chunks_mut(c))
            .enumerate()
        {
            one(i, l, w, g);
        }
    }
    out
}

/// `value + sum(z * grad) - sum(detach(z) * grad)`, summed per row when `per_row` (then `value`
/// is `[n]`), else in total (`value` is `[1]`): a tensor equal to `value` whose gradient with
/// respect to `logits` is `grad`.
pub(crate) fn attach(
    logits: Tensor<2>,
    value: Tensor<1>,
    grad: Vec<f32>,
    per_row: bool,
) -> Tensor<1> {
    let [n, c] = logits.dims();
    let device = logits.device();
    let g = Tensor::<2>::from_data(TensorData::new(grad, [n, c]), &device);
    let fixed = logits.clone().detach();
    let (a, b) = if per_row {
        (
            (logits * g.clone()).sum_dim(1).reshape([n]),
            (fixed * g).sum_dim(1).reshape([n]),
        )
    } else {
        ((logits * g.clone()).sum(), (fixed * g).sum())
    };
    value + a - b
}

/// The targets on the host as `i64`.
pub(crate) fn host_targets(targets: Tensor<1, Int>) -> Vec<i64> {
    targets
        .into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .expect("converted to i64 above") // invariant
}

/// The logits on the host as `f32`.
pub(crate) fn host_logits(logits: &Tensor<2>) -> Vec<f32> {
    logits
        .clone()
        .detach()
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("converted to f32 above") // invariant
}
