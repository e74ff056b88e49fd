//! The softmax focal loss in one pass over the logits, with its closed-form gradient, for Burn's
//! CPU backend (flex).
//!
//! ```text
//! L_i       = -alpha_t (1 - p_t)^g log p_t
//! dL_i/dz_j = alpha_t (p_j - [j = t]) ((1 - p_t)^g - g p_t (1 - p_t)^(g-1) log p_t)
//! ```
//!
//! Per row, one exponential per logit (`f32`, vectorised; the target's in `f64`):
//! `e_j = exp(z_j - max)`, `rest = sum_{j != t} e_j` (summed without e_t), `s = rest + e_t`,
//! `1 - p_t = rest / s` (the other classes' share, no cancellation), and
//! `log p_t = -ln_1p(rest / e_t)`. The limits are exact: `g = 0` gives cross-entropy, and
//! `1 - p_t = 0` gives a zero gradient for every `g` (the term `g p_t u^(g-1) log p_t` tends to 0
//! as `u -> 0`, for `g < 1` too).
//!
//! The autodiff graph sees `L` as one custom node (focal-kernels' `attach_gradient`, a Burn
//! backend extension) whose backward pass returns `G`, scaled by the incoming gradient. A GPU
//! would pay a host round trip for this, so there the loss stays composed of tensor ops (see
//! `focal.rs`).

use burn::tensor::{Int, Tensor};

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

/// `exp(x)` in `f32` for `x <= 0` (Cephes' `expf`: `2^n e^r` with `|r| <= ln 2 / 2` and a
/// degree-6 polynomial, about 1 ulp), written without branches so that the compiler turns the
/// loop over a row into vector instructions. Inputs below -87 give `exp(-87)` (1.6e-38, where an
/// exact result would be subnormal or 0: no probability a loss or gradient can resolve); a NaN
/// stays NaN.
#[inline(always)]
fn exp_nonpositive(x: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0; // 1.5 * 2^23: adding and subtracting it rounds to an integer
    let x = if x < -87.0 { -87.0 } else { x };
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let mut p = 1.987_569_2e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    // `shifted`'s bits are ROUND's plus n: the exponent field of 2^n from integer operations.
    y * f32::from_bits(shifted.to_bits().wrapping_sub(0x4B40_0000 - 127) << 23)
}

/// The sum of a slice in eight `f32` lanes (vectorised), returned as `f64`.
#[inline(always)]
fn lane_sum(v: &[f32]) -> f64 {
    let mut acc = [0.0f32; 8];
    let chunks = v.chunks_exact(8);
    let rest: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for k in 0..8 {
            acc[k] += c[k];
        }
    }
    acc.iter().map(|&a| f64::from(a)).sum::<f64>() + f64::from(rest)
}

/// `u^g` for `u >= 0`, with integer powers by multiplication.
#[inline(always)]
fn power(u: f64, g: f64) -> f64 {
    if g == 1.0 {
        u
    } else if g == 2.0 {
        u * u
    } else if g.fract() == 0.0 && g <= 16.0 {
        u.powi(g as i32)
    } else {
        u.powf(g)
    }
}

fn row(z: &[f32], t: usize, spec: &Spec<'_>, grad: &mut [f32]) -> (f32, f32) {
    let a = spec.alpha.map_or(1.0, |w| f64::from(w[t]));
    let g = f64::from(spec.gamma);
    let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    for (gj, &zj) in grad.iter_mut().zip(z) {
        *gj = exp_nonpositive(zj - max);
    }
    // The other classes' share, summed without e_t: 1 - p_t without cancellation. e_t itself in
    // f64: as f32 it can be subnormal (z_t - max < -87), and log p_t needs it exact.
    let rest = lane_sum(&grad[..t]) + lane_sum(&grad[t + 1..]);
    let et = f64::from(z[t] - max).exp();
    let s = rest + et;
    let u = rest / s; // 1 - p_t
    let pt = et / s;
    let log_pt = -(rest / et).ln_1p();
    let (modulator, coef) = if g == 0.0 {
        (1.0, a)
    } else if u > 0.0 {
        let ug = power(u, g);
        // u^(g-1) = u^g / u, exact enough and one power fewer.
        (ug, a * (ug - g * pt * (ug / u) * log_pt))
    } else {
        (0.0, 0.0)
    };
    let loss = -a * modulator * log_pt;
    // dL/dz_j = coef (p_j - [j = t]): coef / s * e_j off the target, -coef (1 - p_t) on it.
    let scale = (coef / s) as f32;
    for gj in grad.iter_mut() {
        *gj *= scale;
    }
    grad[t] = (-coef * u) as f32;
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
