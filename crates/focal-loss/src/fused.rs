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

/// Rows x classes above which the rows are split over threads.
const PARALLEL_ELEMENTS: usize = 1 << 15;

/// What the fused kernel needs besides the logits and targets.
pub(crate) struct Spec<'a> {
    pub gamma: f32,
    pub alpha: Option<&'a [f32]>,
    pub ignore_index: Option<usize>,
    /// The factor on every gradient (the mean's `1 / denominator`, or 1), applied in `f64`
    /// before the gradient is rounded to `f32`.
    pub grad_scale: f64,
}

/// Per-sample losses `[n]` (0 for ignored samples; empty unless asked for), their sum, and the
/// gradient of each sample's loss with respect to its logits `[n, c]` (0 rows for ignored
/// samples), times `Spec::grad_scale`.
pub(crate) struct Output {
    pub losses: Vec<f32>,
    /// The sum of the per-sample losses, in `f64`: summed over blocks of `SUM_BLOCK` rows, then
    /// over the blocks, in row order, so the same for every number of threads.
    pub total: f64,
    pub grad: Vec<f32>,
}

/// Rows per partial sum of the losses; the parallel split is a multiple of it.
const SUM_BLOCK: usize = 64;

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

/// Accumulators of the row reductions: one AVX-512 register of `f32`, or two AVX2 ones. The
/// order of the additions is fixed by this number, not by the instruction set, so every CPU
/// gives the same bits.
const REDUCE_LANES: usize = 16;

/// The sum of a slice in `REDUCE_LANES` `f32` lanes (vectorised), returned as `f64`.
#[inline(always)]
fn lane_sum(v: &[f32]) -> f64 {
    let mut acc = [0.0f32; REDUCE_LANES];
    let chunks = v.chunks_exact(REDUCE_LANES);
    let rest: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for k in 0..REDUCE_LANES {
            acc[k] += c[k];
        }
    }
    acc.iter().map(|&a| f64::from(a)).sum::<f64>() + f64::from(rest)
}

/// The largest element of a slice in `REDUCE_LANES` `f32` lanes (vectorised); NaNs are passed
/// over, as by `f32::max`.
#[inline(always)]
fn lane_max(v: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; REDUCE_LANES];
    let chunks = v.chunks_exact(REDUCE_LANES);
    let rest = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |m, &x| m.max(x));
    for c in chunks {
        for k in 0..REDUCE_LANES {
            acc[k] = acc[k].max(c[k]);
        }
    }
    acc.iter().fold(rest, |m, &x| m.max(x))
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

#[inline(always)]
fn row(z: &[f32], t: usize, spec: &Spec<'_>, grad: &mut [f32]) -> f32 {
    let a = spec.alpha.map_or(1.0, |w| f64::from(w[t]));
    let g = f64::from(spec.gamma);
    let max = lane_max(z);
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
    let coef = coef * spec.grad_scale;
    let scale = (coef / s) as f32;
    for gj in grad.iter_mut() {
        *gj *= scale;
    }
    grad[t] = (-coef * u) as f32;
    loss as f32
}

/// The denominator of the mean over the samples that are not ignored: their number, or, with
/// `by_weights`, the sum of their alpha_t.
///
/// # Panics
/// A target outside `0..c` that is not the ignore index.
pub(crate) fn mean_denominator<T: Target>(
    targets: &[T],
    c: usize,
    spec: &Spec<'_>,
    by_weights: bool,
) -> f64 {
    let mut total = 0.0;
    for (i, &t) in targets.iter().enumerate() {
        let t: i64 = t.into();
        if spec.ignore_index.is_some_and(|ig| t == ig as i64) {
            continue;
        }
        let t = class(t, i, c);
        total += match spec.alpha {
            Some(w) if by_weights => f64::from(w[t]),
            _ => 1.0,
        };
    }
    total
}

/// The integer types targets arrive in (flex keeps `Int` tensors as `i32` by default), read in
/// place rather than converted.
pub(crate) trait Target: Copy + Into<i64> + Send + Sync {}

impl Target for i32 {}
impl Target for i64 {}

/// Target `t` of sample `i` as a class index.
///
/// # Panics
/// `t` outside `0..c`.
fn class(t: i64, i: usize, c: usize) -> usize {
    usize::try_from(t)
        .ok()
        .filter(|&t| t < c)
        .unwrap_or_else(|| panic!("target {t} of sample {i} is not a class of 0..{c}"))
}

/// The loss and gradient of every row of `z` (`[n, c]`, row-major) against `targets`; the
/// per-sample losses are kept only with `per_row` (a reduced loss needs just their sum, and a
/// buffer the size of the batch fewer per step).
///
/// # Panics
/// A target outside `0..c` that is not the ignore index.
pub(crate) fn focal_rows<T: Target>(
    z: &[f32],
    targets: &[T],
    c: usize,
    spec: &Spec<'_>,
    per_row: bool,
) -> Output {
    let n = targets.len();
    let mut out = Output {
        losses: if per_row { vec![0.0; n] } else { Vec::new() },
        total: 0.0,
        grad: vec![0.0; n * c],
    };
    if n == 0 || c == 0 {
        return out;
    }
    // Rows `first..` into `grad` and, with `per_row`, `losses`; the partial sums of their losses
    // per block of `SUM_BLOCK` rows (`first` is a multiple of it).
    let rows = |first: usize, losses: Option<&mut [f32]>, grad: &mut [f32]| -> Vec<f64> {
        let len = grad.len() / c;
        let mut own = Vec::new();
        let losses = match losses {
            Some(l) => l,
            None => {
                own.resize(len, 0.0f32);
                &mut own[..]
            }
        };
        pulp::Arch::new().dispatch(Rows {
            z: &z[first * c..],
            targets: &targets[first..],
            first,
            c,
            spec,
            losses: &mut *losses,
            grad,
        });
        losses
            .chunks(SUM_BLOCK)
            .map(|b| b.iter().map(|&l| f64::from(l)).sum::<f64>())
            .collect()
    };
    let sums: Vec<f64> = if n * c >= PARALLEL_ELEMENTS {
        use rayon::prelude::*;
        // About four tasks a thread: even shares when rows cost the same, some balance if not;
        // a multiple of SUM_BLOCK rows, so that the sums do not depend on the split.
        let chunk = n
            .div_ceil(4 * rayon::current_num_threads().max(1))
            .next_multiple_of(SUM_BLOCK);
        let grads = out.grad.par_chunks_mut(chunk * c).enumerate();
        let parts: Vec<Vec<f64>> = if per_row {
            out.losses
                .par_chunks_mut(chunk)
                .zip(grads)
                .map(|(l, (k, g))| rows(k * chunk, Some(l), g))
                .collect()
        } else {
            grads.map(|(k, g)| rows(k * chunk, None, g)).collect()
        };
        parts.concat()
    } else {
        let losses = per_row.then_some(&mut out.losses[..]);
        rows(0, losses, &mut out.grad)
    };
    out.total = sums.iter().sum();
    out
}

/// A run of consecutive rows, computed with the widest vector instructions the CPU has (pulp
/// compiles `with_simd`, and the `#[inline(always)]` functions it calls, once per instruction
/// set and picks one at run time; the arithmetic is the same, without fused multiply-adds, so
/// every CPU gives the same bits).
struct Rows<'a, 's, T> {
    z: &'a [f32],
    targets: &'a [T],
    first: usize,
    c: usize,
    spec: &'a Spec<'s>,
    losses: &'a mut [f32],
    grad: &'a mut [f32],
}

impl<T: Target> pulp::WithSimd for Rows<'_, '_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let c = self.c;
        if c == 2 {
            binary_rows(self);
            return;
        }
        for (k, (loss, grad)) in self
            .losses
            .iter_mut()
            .zip(self.grad.chunks_mut(c))
            .enumerate()
        {
            let t: i64 = self.targets[k].into();
            if self.spec.ignore_index.is_some_and(|ig| t == ig as i64) {
                continue;
            }
            let t = class(t, self.first + k, c);
            *loss = row(&self.z[k * c..(k + 1) * c], t, self.spec, grad);
        }
    }
}

/// Rows at a time in the two-class kernel: one vector register of `f32` with AVX-512, two with
/// AVX2.
const LANES: usize = 16;

/// `ln(1 + e)` for `e` in `[0, 1]`, in `f32` without branches (Cephes' `logf` on `1 + e`, about
/// 1 ulp, plus the first-order correction for the rounding of `1 + e`, so that tiny `e` give
/// `e`).
#[inline(always)]
fn ln_1p_unit(e: f32) -> f32 {
    let v = 1.0 + e;
    // v in [1, 2]: v = 2^k m with m in [sqrt(1/2), sqrt(2)).
    let k = if v > std::f32::consts::SQRT_2 {
        1.0
    } else {
        0.0
    };
    let m = if v > std::f32::consts::SQRT_2 {
        v * 0.5
    } else {
        v
    };
    let x = m - 1.0;
    let z = x * x;
    let mut p = 7.037_683_6e-2f32;
    p = p * x - 1.151_461e-1;
    p = p * x + 1.167_699_9e-1;
    p = p * x - 1.242_014_1e-1;
    p = p * x + 1.424_932_3e-1;
    p = p * x - 1.666_805_8e-1;
    p = p * x + 2.000_071_4e-1;
    p = p * x - 2.499_999_4e-1;
    p = p * x + 3.333_333e-1;
    let y = p * x * z - 2.121_944_4e-4 * k - 0.5 * z;
    let r = x + y + 0.693_359_4 * k;
    r + (e - (v - 1.0)) / v
}

/// Two classes, `LANES` rows at a time in `f32` vectors. With `d = z_other - z_t`,
/// `e = exp(-|d|)` and `l = ln(1 + e)`: `-log p_t = max(d, 0) + l`, `-log(1 - p_t) =
/// max(-d, 0) + l`, `1 - p_t = 1 / (1 + e)` or `e / (1 + e)` by the sign of `d`; the two
/// gradient entries are `-coef (1 - p_t)` (target) and `+coef (1 - p_t)` (other class). A row
/// outside the range where `f32` keeps every quantity to 1e-6 (`|d| > 80`, or `(1 - p_t)^g`
/// by an exponential beyond `e^-8`) takes the general `f64` path, as do ignored rows.
#[inline(always)]
fn binary_rows<T: Target>(r: Rows<'_, '_, T>) {
    let g = r.spec.gamma;
    let n = r.losses.len();
    let mut i = 0;
    while i < n {
        let m = LANES.min(n - i);
        let mut d = [0.0f32; LANES];
        let mut at = [0.0f32; LANES];
        let mut skip = [false; LANES];
        let mut t = [0usize; LANES];
        for k in 0..m {
            let row = i + k;
            let tk: i64 = r.targets[row].into();
            if r.spec.ignore_index.is_some_and(|ig| tk == ig as i64) {
                skip[k] = true;
                continue;
            }
            t[k] = class(tk, r.first + row, 2);
            d[k] = r.z[2 * row + 1 - t[k]] - r.z[2 * row + t[k]];
            at[k] = r.spec.alpha.map_or(1.0, |w| w[t[k]]);
        }
        let mut loss = [0.0f32; LANES];
        let mut gt = [0.0f32; LANES];
        let mut exact = [true; LANES];
        for k in 0..LANES {
            let dk = d[k];
            let e = exp_nonpositive(-dk.abs());
            let l = ln_1p_unit(e);
            let neg_log_pt = dk.max(0.0) + l;
            let neg_log_u = (-dk).max(0.0) + l;
            let inv = 1.0 / (1.0 + e);
            let (u, pt) = if dk >= 0.0 {
                (inv, e * inv)
            } else {
                (e * inv, inv)
            };
            let (ug, ug1) = if g == 0.0 {
                (1.0, 0.0)
            } else if g == 1.0 {
                (u, 1.0)
            } else if g == 2.0 {
                (u * u, u)
            } else {
                let ug = exp_nonpositive(-g * neg_log_u);
                (ug, ug / u)
            };
            let general = g != 0.0 && g != 1.0 && g != 2.0;
            exact[k] = dk.abs() <= 80.0 && !(general && g * neg_log_u > 8.0);
            loss[k] = at[k] * ug * neg_log_pt;
            // coef = alpha_t ((1 - p_t)^g + g p_t (1 - p_t)^(g - 1) (-log p_t)).
            let coef = at[k] * (ug + g * pt * ug1 * neg_log_pt);
            gt[k] = coef * u;
        }
        let scale = r.spec.grad_scale as f32;
        for k in 0..m {
            let row = i + k;
            if skip[k] {
                continue;
            }
            let grad = &mut r.grad[2 * row..2 * row + 2];
            if !exact[k] || !(d[k].is_finite()) {
                r.losses[row] = row_f64(&r.z[2 * row..2 * row + 2], t[k], r.spec, grad);
                continue;
            }
            r.losses[row] = loss[k];
            grad[t[k]] = -gt[k] * scale;
            grad[1 - t[k]] = gt[k] * scale;
        }
        i += m;
    }
}

/// [`row`], not inlined: the rare rows the two-class kernel hands back.
#[inline(never)]
fn row_f64(z: &[f32], t: usize, spec: &Spec<'_>, grad: &mut [f32]) -> f32 {
    row(z, t, spec, grad)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reduced loss's sum is the same, bit for bit, for every number of threads (the
    /// parallel split moves, the blocks of the sum do not), and agrees with the per-row losses
    /// summed one after the other; the gradient does not depend on whether the rows are kept.
    #[test]
    fn the_sum_of_the_losses_does_not_depend_on_the_threads() {
        let (n, c) = (5000, 7); // above PARALLEL_ELEMENTS: the parallel path
        assert!(n * c >= PARALLEL_ELEMENTS);
        let z: Vec<f32> = (0..n * c)
            .map(|i| ((i * 37 % 101) as f32) * 0.05 - 2.5)
            .collect();
        let targets: Vec<i64> = (0..n).map(|i| (i * 3 % c) as i64).collect();
        let spec = Spec {
            gamma: 2.0,
            alpha: None,
            ignore_index: None,
            grad_scale: 1.0,
        };
        let runs: Vec<Output> = [1, 2, 3, 8]
            .iter()
            .map(|&threads| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .expect("a thread pool");
                pool.install(|| focal_rows(&z, &targets, c, &spec, false))
            })
            .collect();
        for run in &runs {
            assert_eq!(run.total.to_bits(), runs[0].total.to_bits());
            assert!(run.losses.is_empty());
        }
        let kept = focal_rows(&z, &targets, c, &spec, true);
        assert_eq!(kept.total.to_bits(), runs[0].total.to_bits());
        assert_eq!(kept.grad, runs[0].grad);
        let serial: f64 = kept.losses.iter().map(|&l| f64::from(l)).sum();
        assert!(serial > 0.0);
        assert!((kept.total - serial).abs() <= 1e-12 * serial);
    }

    /// The two-class kernel (`LANES` rows at a time in `f32`) against the general `f64` row, over
    /// logit gaps from -100 to 100 (both sides of the hand-back at |d| = 80) and gammas
    /// including non-integers: value and gradient within 1e-5 relative (1e-30 absolute).
    #[test]
    fn two_class_kernel_matches_the_general_row() {
        let gaps: Vec<f32> = (-400..=400).map(|k| k as f32 * 0.25).collect();
        for gamma in [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0] {
            for alpha in [None, Some(&[0.25f32, 0.75][..])] {
                let spec = Spec {
                    gamma,
                    alpha,
                    ignore_index: Some(7),
                    grad_scale: 0.5,
                };
                let mut z = Vec::new();
                let mut targets = Vec::new();
                for (i, &d) in gaps.iter().enumerate() {
                    let t = i % 2;
                    let mut row = [0.3f32, 0.3];
                    row[1 - t] += d;
                    z.extend_from_slice(&row);
                    targets.push(if i % 97 == 0 { 7 } else { t as i64 });
                }
                let fast = focal_rows(&z, &targets, 2, &spec, true);
                for (i, &t) in targets.iter().enumerate() {
                    let mut grad = [0.0f32; 2];
                    let want = if t == 7 {
                        0.0
                    } else {
                        row(&z[2 * i..2 * i + 2], t as usize, &spec, &mut grad)
                    };
                    let close = |a: f32, b: f32| (a - b).abs() <= 1e-5 * b.abs() + 1e-30;
                    let got = fast.losses[i];
                    assert!(
                        close(got, want),
                        "gamma {gamma}, d {}: {got} vs {want}",
                        gaps[i]
                    );
                    for (j, (&a, &b)) in fast.grad[2 * i..2 * i + 2].iter().zip(&grad).enumerate() {
                        assert!(
                            close(a, b),
                            "gamma {gamma}, d {}, grad {j}: {a} vs {b}",
                            gaps[i]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn ln_1p_unit_is_accurate_to_a_few_ulp() {
        for k in 0..=10_000 {
            let e = if k == 0 {
                0.0
            } else {
                (-(k as f32) * 0.01).exp()
            };
            let want = f64::from(e).ln_1p();
            let got = f64::from(ln_1p_unit(e));
            assert!(
                (got - want).abs() <= 4.0 * f64::from(f32::EPSILON) * want,
                "{e}: {got} vs {want}"
            );
        }
    }
}
