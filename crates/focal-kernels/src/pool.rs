//! 2-D max pooling (dilation 1, floor mode) on row-major `f32` NCHW slices: the forward pass
//! keeps, per output, the position of its maximum in the input plane, and the backward pass adds
//! each output gradient at that position. One rayon task per group of planes.

use rayon::prelude::*;

/// Kernel, stride and padding of a 2-D max pooling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pool2dSpec {
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Stride along height and width (non-zero).
    pub stride: [usize; 2],
    /// Padding on each side along height and width (at most half the kernel).
    pub padding: [usize; 2],
}

impl Pool2dSpec {
    /// Output height and width for an `h x w` input (`None` when the kernel does not fit).
    pub fn output(&self, h: usize, w: usize) -> Option<[usize; 2]> {
        let dim = |len: usize, k: usize, s: usize, p: usize| {
            let padded = len + 2 * p;
            (k >= 1 && padded >= k).then(|| (padded - k) / s + 1)
        };
        Some([
            dim(h, self.kernel[0], self.stride[0], self.padding[0])?,
            dim(w, self.kernel[1], self.stride[1], self.padding[1])?,
        ])
    }
}

/// Planes per rayon task: about 64 K input elements.
fn planes_per_task(plane: usize) -> usize {
    (1usize << 16).div_ceil(plane.max(1)).max(1)
}

/// The pooled planes `[planes, ho, wo]`, `[ho, wo]`, and, per output, the index of its maximum in its input
/// plane (the first maximum in row-major order; a NaN wins, the last of them, as in PyTorch).
pub(crate) fn forward(
    x: &[f32],
    planes: usize,
    [h, w]: [usize; 2],
    spec: &Pool2dSpec,
) -> (Vec<f32>, Vec<u32>, [usize; 2]) {
    // invariant: the models' layers never pool a plane smaller than the kernel
    let [ho, wo] = spec
        .output(h, w)
        .expect("max_pool2d: kernel larger than input");
    let (plane_in, plane_out) = (h * w, ho * wo);
    let mut y = vec![0.0f32; planes * plane_out];
    let mut idx = vec![0u32; planes * plane_out];
    if y.is_empty() {
        return (y, idx, [ho, wo]);
    }
    let per = planes_per_task(plane_in);
    let [kh, kw] = spec.kernel;
    let [sh, sw] = spec.stride;
    let [ph, pw] = spec.padding;
    y.par_chunks_mut(per * plane_out)
        .zip(idx.par_chunks_mut(per * plane_out))
        .enumerate()
        .for_each(|(t, (ys, is))| {
            for (q, (yp, ip)) in ys
                .chunks_mut(plane_out)
                .zip(is.chunks_mut(plane_out))
                .enumerate()
            {
                let plane = &x[(t * per + q) * plane_in..(t * per + q + 1) * plane_in];
                if spec.kernel == [2, 2] && spec.stride == [2, 2] && spec.padding == [0, 0] {
                    pool_2x2(plane, w, [ho, wo], yp, ip);
                    continue;
                }
                for oh in 0..ho {
                    let h0 = (oh * sh).saturating_sub(ph);
                    let h1 = (oh * sh + kh - ph).min(h);
                    for ow in 0..wo {
                        let w0 = (ow * sw).saturating_sub(pw);
                        let w1 = (ow * sw + kw - pw).min(w);
                        let mut best = f32::NEG_INFINITY;
                        let mut at = h0 * w + w0;
                        // Selects, not branches: on real activations which element wins is
                        // unpredictable. A NaN wins over anything, a later NaN over an
                        // earlier one (PyTorch's `val > max || isnan(val)`).
                        for ih in h0..h1 {
                            for iw in w0..w1 {
                                let v = plane[ih * w + iw];
                                let wins = v > best || v.is_nan();
                                best = if wins { v } else { best };
                                at = if wins { ih * w + iw } else { at };
                            }
                        }
                        yp[oh * wo + ow] = best;
                        ip[oh * wo + ow] = at as u32;
                    }
                }
            }
        });
    (y, idx, [ho, wo])
}

/// The 2x2, stride 2 pooling of one plane (the CNN's), two input rows at a time.
fn pool_2x2(plane: &[f32], w: usize, [ho, wo]: [usize; 2], yp: &mut [f32], ip: &mut [u32]) {
    let pick = |best: (f32, usize), v: f32, at: usize| {
        if v > best.0 || v.is_nan() {
            (v, at)
        } else {
            best
        }
    };
    for oh in 0..ho {
        let (r0, r1) = (2 * oh * w, (2 * oh + 1) * w);
        let top = &plane[r0..r0 + 2 * wo];
        let bottom = &plane[r1..r1 + 2 * wo];
        let ys = &mut yp[oh * wo..(oh + 1) * wo];
        let is = &mut ip[oh * wo..(oh + 1) * wo];
        for (ow, (t, b)) in top.chunks_exact(2).zip(bottom.chunks_exact(2)).enumerate() {
            let mut best = (t[0], r0 + 2 * ow);
            best = pick(best, t[1], r0 + 2 * ow + 1);
            best = pick(best, b[0], r1 + 2 * ow);
            best = pick(best, b[1], r1 + 2 * ow + 1);
            ys[ow] = best.0;
            is[ow] = best.1 as u32;
        }
    }
}

/// The gradient with respect to the input `[planes, h, w]`, from the output gradient and the
/// indices of the forward pass.
pub(crate) fn backward(dy: &[f32], idx: &[u32], planes: usize, [h, w]: [usize; 2]) -> Vec<f32> {
    let plane_in = h * w;
    if planes == 0 || plane_in == 0 {
        return Vec::new();
    }
    let plane_out = dy.len() / planes;
    let per = planes_per_task(plane_in);
    crate::buffer::par_zeroed_chunks(planes * plane_in, per * plane_in, |t, dxs| {
        for (q, dp) in dxs.chunks_mut(plane_in).enumerate() {
            let at = (t * per + q) * plane_out;
            for (&g, &i) in dy[at..at + plane_out].iter().zip(&idx[at..at + plane_out]) {
                dp[i as usize] += g;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maxima_and_their_gradient() {
        // One 4x5 plane, 3x3 kernel, stride 2, padding 1 (ResNet's stem pooling).
        let x: Vec<f32> = (0..20).map(|v| ((v * 7) % 11) as f32).collect();
        let spec = Pool2dSpec {
            kernel: [3, 3],
            stride: [2, 2],
            padding: [1, 1],
        };
        let (y, idx, _) = forward(&x, 1, [4, 5], &spec);
        assert_eq!(spec.output(4, 5), Some([2, 3]));
        for (o, (&v, &i)) in y.iter().zip(&idx).enumerate() {
            let (oh, ow) = (o / 3, o % 3);
            let mut best = f32::NEG_INFINITY;
            for ih in (oh * 2).saturating_sub(1)..(oh * 2 + 2).min(4) {
                for iw in (ow * 2).saturating_sub(1)..(ow * 2 + 2).min(5) {
                    best = best.max(x[ih * 5 + iw]);
                }
            }
            assert_eq!(v, best);
            assert_eq!(x[i as usize], best);
        }
        let dy = vec![1.0f32; y.len()];
        let dx = backward(&dy, &idx, 1, [4, 5]);
        assert_eq!(dx.iter().sum::<f32>(), y.len() as f32);
    }

    #[test]
    fn nan_propagates() {
        let x = [1.0, f32::NAN, 3.0, 2.0];
        let spec = Pool2dSpec {
            kernel: [2, 2],
            stride: [2, 2],
            padding: [0, 0],
        };
        let (y, idx, _) = forward(&x, 1, [2, 2], &spec);
        assert!(y[0].is_nan());
        assert_eq!(idx[0], 1);
    }
}
