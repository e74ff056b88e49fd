//! Batch normalisation over `[n, c, rest...]` row-major `f32` slices, with an optional residual
//! added and ReLU applied to the result (`relu(bn(x) + residual)`, a ResNet block's end), in
//! training mode (batch statistics) and inference mode (given statistics).
//!
//! Burn's own training path (`batch_norm_train` as flex runs it) is a dozen tensor ops: two
//! transposed copies and reductions for the statistics, four broadcast passes to normalise, and
//! as many again, with the copies, in the backward pass; the ReLU and the residual add are
//! further passes each with a tensor of their own. Here the forward pass is one read of `x` for
//! the statistics (per channel, in parallel over channels) and one pass that writes the output;
//! the backward pass is one read for the two per-channel sums and one pass that writes the
//! input's gradient (in the incoming gradient's buffer when nothing else holds it).
//!
//! The sums are taken in two levels: blocks of [`BLOCK`] contiguous values in `f32` lanes, the
//! blocks' sums in `f64`, and the statistics' sums are of values shifted by the channel's first
//! element, so that a channel whose mean is large against its spread keeps its variance (no
//! `E[x^2] - E[x]^2` cancellation). The order of every sum depends on the shapes alone: the same
//! bits on any number of threads.

use rayon::prelude::*;

/// Values per first-level block of a sum.
const BLOCK: usize = 256;

/// `f32` lanes of a first-level sum (written so that the compiler keeps them in vector
/// registers).
const LANES: usize = 16;

/// The sizes of a batch-normalised tensor: batch, channels, and elements per channel per sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dims {
    pub n: usize,
    pub c: usize,
    pub hw: usize,
}

impl Dims {
    /// The sizes of a tensor of shape `shape` (`[n, c, ...]`).
    ///
    /// # Panics
    /// A shape of fewer than two dimensions.
    pub fn of(shape: &[usize]) -> Self {
        assert!(
            shape.len() >= 2,
            "batch_norm: the input must be [batch, channels, ...]"
        );
        Dims {
            n: shape[0],
            c: shape[1],
            hw: shape[2..].iter().product(),
        }
    }

    fn len(&self) -> usize {
        self.n * self.c * self.hw
    }

    /// Values per channel.
    fn count(&self) -> usize {
        self.n * self.hw
    }

    /// Planes (`hw` values of one sample and channel) per rayon task: about 32 K values.
    fn planes_per_task(&self) -> usize {
        (1usize << 15).div_ceil(self.hw.max(1)).max(1)
    }
}

/// `(sum(a - sa), sum((a - sa) * (b - sb)))` over one contiguous run, `b` defaulting to `a`:
/// blocks of [`BLOCK`] values in `f32` lanes, the blocks in `f64`.
fn run_sums(a: &[f32], sa: f32, b: Option<(&[f32], f32)>, acc: &mut (f64, f64)) {
    let mut start = 0;
    while start < a.len() {
        let end = (start + BLOCK).min(a.len());
        let xa = &a[start..end];
        let mut s = [0.0f32; LANES];
        let mut q = [0.0f32; LANES];
        match b {
            None => {
                let mut it = xa.chunks_exact(LANES);
                for ch in &mut it {
                    for l in 0..LANES {
                        let d = ch[l] - sa;
                        s[l] += d;
                        q[l] += d * d;
                    }
                }
                for (l, &v) in it.remainder().iter().enumerate() {
                    let d = v - sa;
                    s[l] += d;
                    q[l] += d * d;
                }
            }
            Some((b, sb)) => {
                let xb = &b[start..end];
                let mut ia = xa.chunks_exact(LANES);
                let mut ib = xb.chunks_exact(LANES);
                for (ca, cb) in (&mut ia).zip(&mut ib) {
                    for l in 0..LANES {
                        let d = ca[l] - sa;
                        s[l] += d;
                        q[l] += d * (cb[l] - sb);
                    }
                }
                for (l, (&va, &vb)) in ia.remainder().iter().zip(ib.remainder()).enumerate() {
                    let d = va - sa;
                    s[l] += d;
                    q[l] += d * (vb - sb);
                }
            }
        }
        acc.0 += s.iter().map(|&v| f64::from(v)).sum::<f64>();
        acc.1 += q.iter().map(|&v| f64::from(v)).sum::<f64>();
        start = end;
    }
}

/// The planes of channel `ch` of `x`, in sample order.
fn planes(x: &[f32], d: Dims, ch: usize) -> impl Iterator<Item = &[f32]> {
    (0..d.n).map(move |i| &x[(i * d.c + ch) * d.hw..(i * d.c + ch + 1) * d.hw])
}

/// Per channel, the batch mean and the biased variance of `x`, both in `f64`.
fn statistics(x: &[f32], d: Dims) -> Vec<(f64, f64)> {
    let count = d.count() as f64;
    (0..d.c)
        .into_par_iter()
        .map(|ch| {
            if d.count() == 0 {
                return (0.0, 0.0);
            }
            let shift = x[ch * d.hw];
            let mut acc = (0.0, 0.0);
            for p in planes(x, d, ch) {
                run_sums(p, shift, None, &mut acc);
            }
            let m = acc.0 / count;
            let var = (acc.1 / count - m * m).max(0.0);
            (f64::from(shift) + m, var)
        })
        .collect()
}

/// `1 / sqrt(var + epsilon)`, as `f32`.
pub(crate) fn inv_std(var: &[f32], epsilon: f64) -> Vec<f32> {
    var.iter()
        .map(|&v| (1.0 / (f64::from(v) + epsilon).sqrt()) as f32)
        .collect()
}

/// `y = relu?((x - mean) * gamma * invstd + beta + residual?)`, plane by plane in parallel.
#[allow(clippy::too_many_arguments)]
pub(crate) fn normalize(
    x: &[f32],
    residual: Option<&[f32]>,
    d: Dims,
    gamma: &[f32],
    beta: &[f32],
    mean: &[f32],
    invstd: &[f32],
    relu: bool,
) -> Vec<f32> {
    assert_eq!(x.len(), d.len(), "batch_norm: input of another size");
    if let Some(r) = residual {
        assert_eq!(r.len(), d.len(), "batch_norm: residual of another size");
    }
    let mut y = vec![0.0f32; d.len()];
    if y.is_empty() {
        return y;
    }
    let scale: Vec<f32> = gamma.iter().zip(invstd).map(|(g, s)| g * s).collect();
    let per = d.planes_per_task();
    y.par_chunks_mut(per * d.hw)
        .enumerate()
        .for_each(|(t, ys)| {
            for (q, yp) in ys.chunks_mut(d.hw).enumerate() {
                let plane = t * per + q;
                let ch = plane % d.c;
                let (m, a, b) = (mean[ch], scale[ch], beta[ch]);
                let xp = &x[plane * d.hw..(plane + 1) * d.hw];
                match residual {
                    Some(r) => {
                        let rp = &r[plane * d.hw..(plane + 1) * d.hw];
                        for ((o, &v), &rv) in yp.iter_mut().zip(xp).zip(rp) {
                            let z = (v - m) * a + b + rv;
                            *o = if relu { z.max(0.0) } else { z };
                        }
                    }
                    None => {
                        for (o, &v) in yp.iter_mut().zip(xp) {
                            let z = (v - m) * a + b;
                            *o = if relu { z.max(0.0) } else { z };
                        }
                    }
                }
            }
        });
    y
}

/// Per channel, the batch mean, the biased batch variance and `1 / sqrt(var + epsilon)`.
#[derive(Clone, Debug)]
pub(crate) struct Stats {
    pub mean: Vec<f32>,
    pub var: Vec<f32>,
    pub invstd: Vec<f32>,
}

/// Batch normalisation of `x` with its own batch statistics: the output and the statistics.
pub(crate) fn forward_train(
    x: &[f32],
    residual: Option<&[f32]>,
    d: Dims,
    gamma: &[f32],
    beta: &[f32],
    epsilon: f64,
    relu: bool,
) -> (Vec<f32>, Stats) {
    assert_eq!(x.len(), d.len(), "batch_norm: input of another size");
    let stats = statistics(x, d);
    let mean: Vec<f32> = stats.iter().map(|s| s.0 as f32).collect();
    let var: Vec<f32> = stats.iter().map(|s| s.1 as f32).collect();
    let invstd: Vec<f32> = stats
        .iter()
        .map(|s| (1.0 / (s.1 + epsilon).sqrt()) as f32)
        .collect();
    let y = normalize(x, residual, d, gamma, beta, &mean, &invstd, relu);
    (y, Stats { mean, var, invstd })
}

/// `dz = dy` where `y > 0`, else 0 (the gradient through the fused ReLU), written over `dy`.
pub(crate) fn relu_mask(dy: &mut [f32], y: &[f32]) {
    assert_eq!(dy.len(), y.len(), "batch_norm: gradient of another size");
    dy.par_chunks_mut(1 << 15)
        .zip(y.par_chunks(1 << 15))
        .for_each(|(g, o)| {
            for (g, &o) in g.iter_mut().zip(o) {
                *g = if o > 0.0 { *g } else { 0.0 };
            }
        });
}

/// Per channel: `(sum(dz), sum(dz * (x - mean)))`.
pub(crate) fn grad_sums(dz: &[f32], x: &[f32], d: Dims, mean: &[f32]) -> Vec<(f64, f64)> {
    (0..d.c)
        .into_par_iter()
        .map(|ch| {
            let mut acc = (0.0, 0.0);
            for (gp, xp) in planes(dz, d, ch).zip(planes(x, d, ch)) {
                run_sums(gp, 0.0, Some((xp, mean[ch])), &mut acc);
            }
            acc
        })
        .collect()
}

/// The gradients of gamma and beta, and the coefficients of the input's gradient, per channel,
/// from the sums of [`grad_sums`].
pub(crate) struct GradCoefficients {
    pub dgamma: Vec<f32>,
    pub dbeta: Vec<f32>,
    /// `gamma * invstd`.
    scale: Vec<f32>,
    /// `mean(dz)`.
    mean_dz: Vec<f32>,
    /// `invstd^2 * mean(dz * (x - mean))`.
    proj: Vec<f32>,
}

pub(crate) fn coefficients(
    sums: &[(f64, f64)],
    d: Dims,
    gamma: &[f32],
    invstd: &[f32],
) -> GradCoefficients {
    let count = d.count().max(1) as f64;
    let mut g = GradCoefficients {
        dgamma: Vec::with_capacity(d.c),
        dbeta: Vec::with_capacity(d.c),
        scale: Vec::with_capacity(d.c),
        mean_dz: Vec::with_capacity(d.c),
        proj: Vec::with_capacity(d.c),
    };
    for (ch, &(sdz, sdzx)) in sums.iter().enumerate() {
        let is = f64::from(invstd[ch]);
        g.dbeta.push(sdz as f32);
        g.dgamma.push((sdzx * is) as f32);
        g.scale.push((f64::from(gamma[ch]) * is) as f32);
        g.mean_dz.push((sdz / count) as f32);
        g.proj.push((sdzx / count * is * is) as f32);
    }
    g
}

/// The input's gradient `gamma * invstd * (dz - mean(dz) - (x - mean) * invstd^2 *
/// mean(dz * (x - mean)))`, written over `dz`.
pub(crate) fn grad_input(dz: &mut [f32], x: &[f32], d: Dims, mean: &[f32], g: &GradCoefficients) {
    if dz.is_empty() {
        return;
    }
    let per = d.planes_per_task();
    dz.par_chunks_mut(per * d.hw)
        .enumerate()
        .for_each(|(t, gs)| {
            for (q, gp) in gs.chunks_mut(d.hw).enumerate() {
                let plane = t * per + q;
                let ch = plane % d.c;
                let (m, s, md, pj) = (mean[ch], g.scale[ch], g.mean_dz[ch], g.proj[ch]);
                let xp = &x[plane * d.hw..(plane + 1) * d.hw];
                for (o, &v) in gp.iter_mut().zip(xp) {
                    *o = s * (*o - md - (v - m) * pj);
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(len: usize, seed: u32, offset: f32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 2001) as f32 / 1000.0 - 1.0 + offset
            })
            .collect()
    }

    /// The statistics against a two-pass computation in f64, for a channel whose mean is 1e4
    /// times its spread (where `E[x^2] - E[x]^2` in f32 would lose the variance).
    #[test]
    fn statistics_keep_the_variance_of_an_offset_channel() {
        let d = Dims {
            n: 3,
            c: 2,
            hw: 777,
        };
        let x = data(d.len(), 4, 1e4);
        let stats = statistics(&x, d);
        for (ch, &(m, v)) in stats.iter().enumerate() {
            let vals: Vec<f64> = planes(&x, d, ch).flatten().map(|&v| f64::from(v)).collect();
            let mean = vals.iter().sum::<f64>() / vals.len() as f64;
            let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / vals.len() as f64;
            assert!((m - mean).abs() < 1e-9 * mean.abs(), "{m} vs {mean}");
            assert!((v - var).abs() < 1e-6 * var, "{v} vs {var}");
        }
    }

    /// The backward pass against the definition through finite differences of a weighted sum,
    /// in f64 (the kernel is f32: a loose tolerance).
    #[test]
    fn the_gradient_is_the_derivative() {
        let d = Dims { n: 2, c: 3, hw: 5 };
        let x = data(d.len(), 1, 0.0);
        let w = data(d.len(), 2, 0.0);
        let gamma = [0.5f32, 1.5, -1.0];
        let beta = [0.1f32, -0.2, 0.3];
        let eps = 1e-5;
        let loss = |x: &[f32]| -> f64 {
            let (y, _) = forward_train(x, None, d, &gamma, &beta, eps, false);
            y.iter().zip(&w).map(|(a, b)| f64::from(a * b)).sum()
        };
        let (_, t) = forward_train(&x, None, d, &gamma, &beta, eps, false);
        let sums = grad_sums(&w, &x, d, &t.mean);
        let g = coefficients(&sums, d, &gamma, &t.invstd);
        let mut dx = w.clone();
        grad_input(&mut dx, &x, d, &t.mean, &g);
        for i in [0, 7, 14, 29] {
            let h = 1e-2f32;
            let mut xp = x.clone();
            xp[i] += h;
            let mut xm = x.clone();
            xm[i] -= h;
            let fd = (loss(&xp) - loss(&xm)) / (2.0 * f64::from(h));
            assert!(
                (fd - f64::from(dx[i])).abs() < 2e-2,
                "{i}: {fd} vs {}",
                dx[i]
            );
        }
    }
}
