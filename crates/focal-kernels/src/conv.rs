//! 2-D convolution (groups = 1) as im2col + one matrix product per group of images, forward and
//! both gradients, on row-major `f32` slices in NCHW layout.
//!
//! ```text
//! col    [K = C*kh*kw, L = images*Ho*Wo]   (im2col of a group of images)
//! y      [O, L] = W [O, K] . col                      forward
//! dW    += dY [O, L] . col^T [L, K]                   weight gradient, summed over groups
//! dcol   [K, L] = W^T [K, O] . dY [O, L]; dx = col2im(dcol)   input gradient
//! ```
//!
//! The batch is cut into groups of whole images, each group one task for rayon, so the work
//! spreads over the threads whatever the layer's shape, and each matrix product is large enough
//! for the `gemm` kernels (burn-flex's own) to run near their speed. A 1x1 convolution with
//! stride 1 and no padding skips im2col: the image is its own column matrix.

use rayon::prelude::*;

mod few_groups;

/// Stride, padding (`(begin, end)` per spatial dimension) and dilation of a 2-D convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv2dSpec {
    /// Stride along height and width (non-zero).
    pub stride: [usize; 2],
    /// Padding `(begin, end)` along height and width.
    pub padding: [(usize, usize); 2],
    /// Dilation along height and width (non-zero).
    pub dilation: [usize; 2],
}

/// Every size of one convolution.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Geometry {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub o: usize,
    pub kh: usize,
    pub kw: usize,
    pub ho: usize,
    pub wo: usize,
    pub spec: Conv2dSpec,
}

/// Output length of one spatial dimension (`None` when the kernel does not fit).
pub(crate) fn out_len(
    len: usize,
    kernel: usize,
    stride: usize,
    pad: (usize, usize),
    dil: usize,
) -> Option<usize> {
    let span = dil * (kernel - 1) + 1;
    let padded = len + pad.0 + pad.1;
    (padded >= span).then(|| (padded - span) / stride + 1)
}

impl Geometry {
    /// The geometry of `x [n, c, h, w]` convolved with `w [o, c, kh, kw]`.
    ///
    /// # Panics
    /// Channel counts that differ, or a kernel larger than the padded input.
    pub fn new(x: [usize; 4], weight: [usize; 4], spec: Conv2dSpec) -> Self {
        let [n, c, h, w] = x;
        let [o, wc, kh, kw] = weight;
        assert_eq!(
            c, wc,
            "conv2d: input has {c} channels, the weight expects {wc}"
        );
        let ho = out_len(h, kh, spec.stride[0], spec.padding[0], spec.dilation[0])
            .expect("conv2d: kernel larger than the padded input height");
        let wo = out_len(w, kw, spec.stride[1], spec.padding[1], spec.dilation[1])
            .expect("conv2d: kernel larger than the padded input width");
        Geometry {
            n,
            c,
            h,
            w,
            o,
            kh,
            kw,
            ho,
            wo,
            spec,
        }
    }

    /// Rows of the column matrix: `c * kh * kw`.
    fn k(&self) -> usize {
        self.c * self.kh * self.kw
    }

    /// Output positions per image.
    fn p(&self) -> usize {
        self.ho * self.wo
    }

    fn image_len(&self) -> usize {
        self.c * self.h * self.w
    }

    /// A 1x1 kernel with stride 1 and no padding: the image is its own column matrix.
    fn pointwise(&self) -> bool {
        self.kh == 1
            && self.kw == 1
            && self.spec.stride == [1, 1]
            && self.spec.padding == [(0, 0), (0, 0)]
    }

    /// Images per task: enough columns for an efficient matrix product (about 256). It depends
    /// on the shapes only, never on the number of threads, so that every sum is taken in the
    /// same order on any machine: results are the same bits with 1 thread or 16, run after run.
    fn group(&self) -> usize {
        256usize.div_ceil(self.p().max(1)).clamp(1, self.n.max(1))
    }

    /// Image groups of the batch.
    fn tasks(&self) -> usize {
        self.n.div_ceil(self.group())
    }

    /// Whether the image groups are too few to keep the threads busy (a small batch, or small
    /// planes: ResNet's last stages, where one group holds the whole batch): then each group's
    /// product runs on the whole pool (see the `few_groups` module). By the shapes alone, as
    /// `group`.
    fn few_groups(&self) -> bool {
        self.tasks() < few_groups::MIN_TASKS
    }
}

/// `dst [m, n] (+)= lhs [m, k] . rhs [k, n]`, each matrix a slice with its (row stride, column
/// stride) (`dst`'s column stride is 1), single-threaded (the parallelism is over image groups).
///
/// # Panics
/// A matrix that does not fit in its slice under the strides given.
#[allow(clippy::too_many_arguments)]
fn matmul(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    dst_rs: usize,
    accumulate: bool,
    lhs: &[f32],
    lhs_strides: (usize, usize),
    rhs: &[f32],
    rhs_strides: (usize, usize),
) {
    matmul_with(
        gemm::Parallelism::None,
        (m, n, k),
        (dst, dst_rs, accumulate),
        (lhs, lhs_strides),
        (rhs, rhs_strides),
    );
}

/// [`matmul`] with `gemm`'s parallelism given: `gemm::Parallelism::Rayon(0)` shares the
/// product's tiles out over rayon's pool; each output element is still one sum over `k`, blocked
/// by the shapes alone, so the bits do not depend on the number of threads (the tests check it).
#[allow(clippy::type_complexity)]
fn matmul_with(
    parallelism: gemm::Parallelism,
    (m, n, k): (usize, usize, usize),
    (dst, dst_rs, accumulate): (&mut [f32], usize, bool),
    (lhs, (lhs_rs, lhs_cs)): (&[f32], (usize, usize)),
    (rhs, (rhs_rs, rhs_cs)): (&[f32], (usize, usize)),
) {
    if m == 0 || n == 0 {
        return;
    }
    let last = |rows: usize, rs: usize, cols: usize, cs: usize| (rows - 1) * rs + (cols - 1) * cs;
    assert!(last(m, dst_rs, n, 1) < dst.len(), "matmul: dst too short");
    if k > 0 {
        assert!(
            last(m, lhs_rs, k, lhs_cs) < lhs.len(),
            "matmul: lhs too short"
        );
        assert!(
            last(k, rhs_rs, n, rhs_cs) < rhs.len(),
            "matmul: rhs too short"
        );
    }
    // SAFETY: the asserts above keep every element `gemm` addresses inside its slice, and `dst`
    // is borrowed mutably, so it overlaps neither input.
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs as isize,
            accumulate,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// The output columns `[lo, hi)` whose input position `col * stride + offset` lies in `0..len`.
fn valid_range(out: usize, len: usize, stride: usize, offset: isize) -> (usize, usize) {
    let lo = if offset < 0 {
        ((-offset) as usize).div_ceil(stride)
    } else {
        0
    };
    let last = len as isize - 1 - offset;
    let hi = if last < 0 {
        0
    } else {
        (last as usize / stride + 1).min(out)
    };
    (lo.min(hi), hi)
}

/// Where kernel position `(i, j)` reads inside the plane: the output rows and columns (`[lo,
/// hi)` each) whose input lies in it, and the offsets `off_h`, `off_w` of the input row `oh *
/// stride + off_h` and column `ow * stride + off_w` they read.
pub(crate) fn kernel_rows(
    g: &Geometry,
    i: usize,
    j: usize,
) -> ((usize, usize), (usize, usize), isize, isize) {
    let [sh, sw] = g.spec.stride;
    let [dh, dw] = g.spec.dilation;
    let off_h = (i * dh) as isize - g.spec.padding[0].0 as isize;
    let off_w = (j * dw) as isize - g.spec.padding[1].0 as isize;
    (
        valid_range(g.ho, g.h, sh, off_h),
        valid_range(g.wo, g.w, sw, off_w),
        off_h,
        off_w,
    )
}

/// Appends row `(i, j)` of one input plane's column matrix (`ho * wo` values: the plane's pixels
/// under kernel position `(i, j)` for every output position, 0 where that falls in the padding)
/// to `col`.
fn im2col_row(g: &Geometry, plane: &[f32], i: usize, j: usize, col: &mut Vec<f32>) {
    let [sh, sw] = g.spec.stride;
    let ((oh_lo, oh_hi), (ow_lo, ow_hi), off_h, off_w) = kernel_rows(g, i, j);
    col.resize(col.len() + oh_lo * g.wo, 0.0);
    for oh in oh_lo..oh_hi {
        let ih = (oh * sh) as isize + off_h;
        let src = &plane[ih as usize * g.w..(ih as usize + 1) * g.w];
        col.resize(col.len() + ow_lo, 0.0);
        if ow_lo < ow_hi {
            let iw0 = ((ow_lo * sw) as isize + off_w) as usize;
            if sw == 1 {
                col.extend_from_slice(&src[iw0..iw0 + (ow_hi - ow_lo)]);
            } else {
                col.extend((0..ow_hi - ow_lo).map(|k| src[iw0 + k * sw]));
            }
        }
        col.resize(col.len() + (g.wo - ow_hi), 0.0);
    }
    col.resize(col.len() + (g.ho - oh_hi) * g.wo, 0.0);
}

/// Adds the column matrix `col` (row length `ld`, column offset `at`) back into one image's
/// gradient `dx [c, h, w]`: the adjoint of [`columns`].
fn col2im(g: &Geometry, col: &[f32], ld: usize, at: usize, dx: &mut [f32]) {
    let [sh, sw] = g.spec.stride;
    let [dh, dw] = g.spec.dilation;
    let (pt, pl) = (g.spec.padding[0].0 as isize, g.spec.padding[1].0 as isize);
    for ch in 0..g.c {
        let plane = &mut dx[ch * g.h * g.w..(ch + 1) * g.h * g.w];
        for i in 0..g.kh {
            let (oh_lo, oh_hi) = valid_range(g.ho, g.h, sh, (i * dh) as isize - pt);
            for j in 0..g.kw {
                let row = (ch * g.kh + i) * g.kw + j;
                let src = &col[row * ld + at..];
                let off_w = (j * dw) as isize - pl;
                let (ow_lo, ow_hi) = valid_range(g.wo, g.w, sw, off_w);
                if ow_lo >= ow_hi {
                    continue;
                }
                let iw0 = ((ow_lo * sw) as isize + off_w) as usize;
                for oh in oh_lo..oh_hi {
                    let ih = ((oh * sh + i * dh) as isize - pt) as usize;
                    let dst = &mut plane[ih * g.w..(ih + 1) * g.w];
                    let s = &src[oh * g.wo + ow_lo..oh * g.wo + ow_hi];
                    if sw == 1 {
                        for (d, v) in dst[iw0..iw0 + s.len()].iter_mut().zip(s) {
                            *d += v;
                        }
                    } else {
                        for (k, v) in s.iter().enumerate() {
                            dst[iw0 + k * sw] += v;
                        }
                    }
                }
            }
        }
    }
}

/// The column matrix `[K, images * P]` of the images `x` (consecutive `[c, h, w]` blocks): row
/// `(ch, i, j)` holds each image's `P` values in turn. Written front to back, every element once
/// (no zeroing of the whole buffer first: that memset was 4% of a CNN epoch).
fn columns(g: &Geometry, x: &[f32], images: usize) -> Vec<f32> {
    let mut col = Vec::with_capacity(g.k() * images * g.p());
    let plane = g.h * g.w;
    for ch in 0..g.c {
        for i in 0..g.kh {
            for j in 0..g.kw {
                for q in 0..images {
                    let start = q * g.image_len() + ch * plane;
                    im2col_row(g, &x[start..start + plane], i, j, &mut col);
                }
            }
        }
    }
    debug_assert_eq!(col.len(), g.k() * images * g.p());
    col
}

/// `y [n, o, ho, wo]` for `x [n, c, h, w]` and `w [o, c, kh, kw]`.
pub(crate) fn forward(g: &Geometry, x: &[f32], w: &[f32]) -> Vec<f32> {
    let (k, p, o) = (g.k(), g.p(), g.o);
    let mut y = vec![0.0f32; g.n * o * p];
    if y.is_empty() {
        return y;
    }
    if g.few_groups() {
        few_groups::forward(g, x, w, &mut y);
        return y;
    }
    let group = g.group();
    y.par_chunks_mut(group * o * p)
        .enumerate()
        .for_each(|(t, out)| {
            let images = out.len() / (o * p);
            let xs = &x[t * group * g.image_len()..(t * group + images) * g.image_len()];
            if g.pointwise() {
                for q in 0..images {
                    matmul(
                        o,
                        p,
                        k,
                        &mut out[q * o * p..],
                        p,
                        false,
                        w,
                        (k, 1),
                        &xs[q * g.image_len()..],
                        (p, 1),
                    );
                }
                return;
            }
            let ld = images * p;
            let col = columns(g, xs, images);
            if images == 1 {
                matmul(o, p, k, out, p, false, w, (k, 1), &col, (ld, 1));
                return;
            }
            let mut tmp = vec![0.0f32; o * ld];
            matmul(o, ld, k, &mut tmp, ld, false, w, (k, 1), &col, (ld, 1));
            for q in 0..images {
                for oc in 0..o {
                    out[(q * o + oc) * p..(q * o + oc + 1) * p]
                        .copy_from_slice(&tmp[oc * ld + q * p..oc * ld + (q + 1) * p]);
                }
            }
        });
    y
}

/// The output gradient of a group of images as one `[o, images * p]` matrix (a copy when the
/// group holds more than one image).
fn grad_block<'a>(g: &Geometry, dy: &'a [f32], images: usize) -> std::borrow::Cow<'a, [f32]> {
    let (o, p) = (g.o, g.p());
    if images == 1 {
        return std::borrow::Cow::Borrowed(&dy[..o * p]);
    }
    let ld = images * p;
    let mut block = vec![0.0f32; o * ld];
    for q in 0..images {
        for oc in 0..o {
            block[oc * ld + q * p..oc * ld + (q + 1) * p]
                .copy_from_slice(&dy[(q * o + oc) * p..(q * o + oc + 1) * p]);
        }
    }
    std::borrow::Cow::Owned(block)
}

/// The gradient of the loss with respect to `w [o, c, kh, kw]`, from `x` and `dy [n, o, ho, wo]`.
pub(crate) fn grad_weight(g: &Geometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let (k, p, o) = (g.k(), g.p(), g.o);
    if g.n == 0 || p == 0 {
        return vec![0.0f32; o * k];
    }
    if g.few_groups() {
        return few_groups::grad_weight(g, x, dy);
    }
    let group = g.group();
    let tasks = g.n.div_ceil(group);
    // The tasks fall into a fixed number of parts (by the shapes alone), each summed in task
    // order into its own [o, k] accumulator, and the parts are added in order: the same bits
    // whatever the threads and however rayon splits the work. Fewer parts for large
    // accumulators (9 MB for a 512 -> 512 3x3).
    let parts = tasks.min(if o * k >= 1 << 20 { 4 } else { 8 });
    let per_part = tasks.div_ceil(parts);
    let partial: Vec<Vec<f32>> = (0..parts)
        .into_par_iter()
        .map(|part| {
            // The part's first product writes `acc` instead of adding into it: adding into a
            // fresh calloc'd buffer reads each page before writing it, a copy-on-write fault
            // with a TLB shootdown per page (see `buffer`); 0 + x is x, so the sums are the same.
            let mut acc = vec![0.0f32; o * k];
            let mut written = false;
            let mut add = || std::mem::replace(&mut written, true);
            for t in part * per_part..((part + 1) * per_part).min(tasks) {
                let first = t * group;
                let images = group.min(g.n - first);
                let xs = &x[first * g.image_len()..(first + images) * g.image_len()];
                let dys = &dy[first * o * p..(first + images) * o * p];
                if g.pointwise() {
                    for q in 0..images {
                        matmul(
                            o,
                            k,
                            p,
                            &mut acc,
                            k,
                            add(),
                            &dys[q * o * p..],
                            (p, 1),
                            &xs[q * g.image_len()..],
                            (1, p),
                        );
                    }
                    continue;
                }
                let ld = images * p;
                let col = columns(g, xs, images);
                let block = grad_block(g, dys, images);
                matmul(o, k, ld, &mut acc, k, add(), &block, (ld, 1), &col, (1, ld));
            }
            acc
        })
        .collect();
    let mut parts = partial.into_iter();
    let mut total = parts.next().unwrap_or_else(|| vec![0.0f32; o * k]);
    for part in parts {
        for (a, b) in total.iter_mut().zip(&part) {
            *a += b;
        }
    }
    total
}

/// A stride-1 convolution's input gradient as a forward convolution: `dx = conv(dy, w')`,
/// `w' [c, o, kh, kw]` the weight with its channels swapped and its kernel turned by 180
/// degrees, padded by `dilation * (k - 1) - pad` before and what makes the output `h x w` after.
///
/// The column-matrix form `W^T . dY` then col2im writes a `[c * kh * kw, p]` matrix per image from
/// a product only `o` deep and adds it back up, image group by image group; as a forward
/// convolution the large matrix is the im2col of `dy`, read by a product `o * kh * kw` deep.
/// Timed side by side in one process (ResNet's 3x3 layers, batch 32, 2 threads, 2026-12-08), the
/// forward form was 13-40% faster for output planes of 4x4 to 14x14 (7x7: 35 against 51 ms),
/// level at 16x16, and slower at 2x2 (where the padding is most of its im2col) and at 28x28 and
/// 56x56 (by 5-30%): it is used for planes of 16 to 256 positions. `None` otherwise, for strides
/// other than 1, pointwise kernels (whose gradient is already one product), and padding beyond
/// `dilation * (k - 1)`. By the shapes alone, so the bits do not depend on the threads.
fn transposed(g: &Geometry, w: &[f32]) -> Option<(Geometry, Vec<f32>)> {
    if g.spec.stride != [1, 1] || g.kh * g.kw == 1 || !(16..=256).contains(&g.p()) {
        return None;
    }
    let [dh, dw] = g.spec.dilation;
    let pad = |span: usize, before: usize, len: usize, out: usize| {
        let b = span.checked_sub(before)?;
        // out + b + a - span = len
        let a = (len + span).checked_sub(out + b)?;
        Some((b, a))
    };
    let ph = pad(dh * (g.kh - 1), g.spec.padding[0].0, g.h, g.ho)?;
    let pw = pad(dw * (g.kw - 1), g.spec.padding[1].0, g.w, g.wo)?;
    let spec = Conv2dSpec {
        stride: [1, 1],
        padding: [ph, pw],
        dilation: g.spec.dilation,
    };
    let gt = Geometry::new([g.n, g.o, g.ho, g.wo], [g.c, g.o, g.kh, g.kw], spec);
    debug_assert_eq!([gt.ho, gt.wo], [g.h, g.w]);
    let (kh, kw) = (g.kh, g.kw);
    let mut wt = vec![0.0f32; w.len()];
    for (o, wo) in w.chunks_exact(g.k()).enumerate() {
        for (c, plane) in wo.chunks_exact(kh * kw).enumerate() {
            let dst = &mut wt[(c * g.o + o) * kh * kw..(c * g.o + o + 1) * kh * kw];
            for (d, v) in dst.iter_mut().zip(plane.iter().rev()) {
                *d = *v;
            }
        }
    }
    Some((gt, wt))
}

/// The gradient of the loss with respect to `x [n, c, h, w]`, from `w` and `dy [n, o, ho, wo]`.
pub(crate) fn grad_input(g: &Geometry, w: &[f32], dy: &[f32]) -> Vec<f32> {
    if g.n * g.image_len() == 0 || g.p() == 0 {
        return vec![0.0f32; g.n * g.image_len()];
    }
    if let Some((gt, wt)) = transposed(g, w) {
        return forward(&gt, dy, &wt);
    }
    grad_input_columns(g, w, dy)
}

/// [`grad_input`] as `W^T . dY` per image group, then col2im.
fn grad_input_columns(g: &Geometry, w: &[f32], dy: &[f32]) -> Vec<f32> {
    let (k, p, o) = (g.k(), g.p(), g.o);
    if g.few_groups() {
        return few_groups::grad_input(g, w, dy);
    }
    let group = g.group();
    // Zeroed by the tasks that add into them (col2im), not by calloc: see `buffer`.
    crate::buffer::par_zeroed_chunks(g.n * g.image_len(), group * g.image_len(), |t, dxs| {
        let images = dxs.len() / g.image_len();
        let dys = &dy[t * group * o * p..(t * group + images) * o * p];
        if g.pointwise() {
            for q in 0..images {
                matmul(
                    k,
                    p,
                    o,
                    &mut dxs[q * g.image_len()..],
                    p,
                    false,
                    w,
                    (1, k),
                    &dys[q * o * p..],
                    (p, 1),
                );
            }
            return;
        }
        let ld = images * p;
        let block = grad_block(g, dys, images);
        let mut dcol = vec![0.0f32; k * ld];
        matmul(k, ld, o, &mut dcol, ld, false, w, (1, k), &block, (ld, 1));
        for q in 0..images {
            col2im(
                g,
                &dcol,
                ld,
                q * p,
                &mut dxs[q * g.image_len()..(q + 1) * g.image_len()],
            );
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The convolution by its definition, one output at a time.
    fn naive(g: &Geometry, x: &[f32], w: &[f32]) -> Vec<f32> {
        let mut y = vec![0.0f32; g.n * g.o * g.p()];
        for n in 0..g.n {
            for o in 0..g.o {
                for oh in 0..g.ho {
                    for ow in 0..g.wo {
                        let mut s = 0.0f64;
                        for c in 0..g.c {
                            for i in 0..g.kh {
                                for j in 0..g.kw {
                                    let ih = (oh * g.spec.stride[0] + i * g.spec.dilation[0])
                                        as isize
                                        - g.spec.padding[0].0 as isize;
                                    let iw = (ow * g.spec.stride[1] + j * g.spec.dilation[1])
                                        as isize
                                        - g.spec.padding[1].0 as isize;
                                    if ih < 0 || iw < 0 || ih as usize >= g.h || iw as usize >= g.w
                                    {
                                        continue;
                                    }
                                    let xv =
                                        x[((n * g.c + c) * g.h + ih as usize) * g.w + iw as usize];
                                    let wv = w[((o * g.c + c) * g.kh + i) * g.kw + j];
                                    s += f64::from(xv) * f64::from(wv);
                                }
                            }
                        }
                        y[((n * g.o + o) * g.ho + oh) * g.wo + ow] = s as f32;
                    }
                }
            }
        }
        y
    }

    fn data(len: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 2001) as f32 / 1000.0 - 1.0
            })
            .collect()
    }

    fn dot(a: &[f32], b: &[f32]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| f64::from(*x) * f64::from(*y))
            .sum()
    }

    /// Forward against the definition, and both gradients by the adjoint identities
    /// `<conv(x, w), dy> = <x, grad_input(dy)> = <w, grad_weight(dy)>`.
    fn check(x: [usize; 4], w: [usize; 4], spec: Conv2dSpec) {
        let g = Geometry::new(x, w, spec);
        let xs = data(x.iter().product(), 1);
        let ws = data(w.iter().product(), 2);
        let y = forward(&g, &xs, &ws);
        let want = naive(&g, &xs, &ws);
        for (a, b) in y.iter().zip(&want) {
            assert!(
                (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                "{a} vs {b} ({g:?})"
            );
        }
        let dy = data(y.len(), 3);
        let lhs = dot(&y, &dy);
        let gi = grad_input(&g, &ws, &dy);
        let gw = grad_weight(&g, &xs, &dy);
        let tol = 1e-4 * (1.0 + lhs.abs());
        assert!((dot(&xs, &gi) - lhs).abs() <= tol, "grad input ({g:?})");
        assert!((dot(&ws, &gw) - lhs).abs() <= tol, "grad weight ({g:?})");
    }

    /// The same bits from 1, 2 and 5 threads, and from two runs on the same pool: the tasks and
    /// the order of every sum depend on the shapes alone (a run once gave other predictions
    /// each time, from a weight-gradient fold split as rayon stole work).
    #[test]
    fn results_do_not_depend_on_the_threads() {
        let spec = Conv2dSpec {
            stride: [1, 1],
            padding: [(1, 1), (1, 1)],
            dilation: [1, 1],
        };
        // Groups over the threads, and (2x2 and 4x4 planes: one or two groups) products that
        // gemm shares over the threads, large enough that it does share them.
        for (x, w) in [
            ([32, 8, 14, 14], [16, 8, 3, 3]),
            ([33, 24, 2, 2], [40, 24, 3, 3]),
            ([32, 256, 2, 2], [256, 256, 3, 3]),
            ([32, 128, 4, 4], [512, 128, 1, 1]),
        ] {
            same_bits_on_any_threads(Geometry::new(x, w, spec));
        }
    }

    fn same_bits_on_any_threads(g: Geometry) {
        let xs = data(g.n * g.image_len(), 1);
        let ws = data(g.o * g.k(), 2);
        let dy = data(g.n * g.o * g.p(), 3);
        let all = || {
            (
                forward(&g, &xs, &ws),
                grad_input(&g, &ws, &dy),
                grad_weight(&g, &xs, &dy),
            )
        };
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a thread pool")
                .install(all)
        };
        let one = on(1);
        for threads in [2, 5, 5] {
            assert!(on(threads) == one, "{threads} threads differ from 1");
        }
    }

    #[test]
    fn shapes_of_the_models_and_odd_ones() {
        let s = |stride, pad: usize, dil| Conv2dSpec {
            stride: [stride; 2],
            padding: [(pad, pad); 2],
            dilation: [dil; 2],
        };
        check([3, 1, 28, 28], [4, 1, 3, 3], s(1, 1, 1));
        check([5, 3, 14, 14], [6, 3, 3, 3], s(1, 1, 1));
        check([2, 3, 17, 15], [4, 3, 7, 7], s(2, 3, 1));
        check([4, 8, 9, 9], [5, 8, 1, 1], s(1, 0, 1));
        check([4, 8, 9, 9], [5, 8, 1, 1], s(2, 0, 1));
        check([3, 2, 10, 11], [3, 2, 3, 3], s(2, 1, 2));
        check([9, 4, 2, 2], [5, 4, 3, 3], s(1, 1, 1));
        check([2, 2, 6, 5], [3, 2, 3, 2], s(3, 2, 1));
        // An [o, k] weight of over 2^20 entries: the weight gradient's fold splits per thread.
        check([3, 256, 4, 4], [512, 256, 3, 3], s(1, 1, 1));
        let asymmetric = Conv2dSpec {
            stride: [1, 2],
            padding: [(0, 1), (2, 0)],
            dilation: [1, 1],
        };
        check([2, 3, 7, 8], [2, 3, 2, 3], asymmetric);
    }

    /// Stride-1 input gradients, computed as a forward convolution of `dy`: dilated, padded
    /// asymmetrically, even kernels, no padding, and padding beyond `dilation * (k - 1)` (the
    /// column-matrix path), each against the adjoint identity.
    #[test]
    fn stride_one_input_gradients_as_forward_convolutions() {
        let spec = |padding, dilation| Conv2dSpec {
            stride: [1, 1],
            padding,
            dilation,
        };
        let g = Geometry::new([2, 3, 9, 8], [4, 3, 3, 3], spec([(2, 2); 2], [2, 2]));
        assert!(transposed(&g, &[0.0; 4 * 27]).is_some());
        let large = Geometry::new([2, 3, 28, 28], [4, 3, 3, 3], spec([(1, 1); 2], [1, 1]));
        assert!(transposed(&large, &[0.0; 4 * 27]).is_none());
        check([2, 3, 9, 8], [4, 3, 3, 3], spec([(2, 2); 2], [2, 2]));
        check([2, 3, 7, 7], [4, 3, 2, 3], spec([(0, 1), (1, 0)], [1, 1]));
        check([33, 5, 6, 7], [6, 5, 3, 3], spec([(0, 0); 2], [1, 1]));
        let beyond = Geometry::new([2, 2, 12, 12], [3, 2, 3, 3], spec([(3, 3); 2], [1, 1]));
        assert!(transposed(&beyond, &[0.0; 3 * 18]).is_none());
        check([2, 2, 12, 12], [3, 2, 3, 3], spec([(3, 3); 2], [1, 1]));
    }

    /// ResNet's last stages at 64x64 (2x2 and 4x4 planes: one or two image groups), pointwise
    /// and strided, batch 1, 32 and 33.
    #[test]
    fn small_planes_with_few_groups() {
        let s = |stride, pad: usize| Conv2dSpec {
            stride: [stride; 2],
            padding: [(pad, pad); 2],
            dilation: [1, 1],
        };
        for n in [1, 32, 33] {
            check([n, 64, 2, 2], [72, 64, 1, 1], s(1, 0));
            check([n, 40, 2, 2], [24, 40, 3, 3], s(1, 1));
            check([n, 24, 4, 4], [48, 24, 1, 1], s(2, 0));
            check([n, 16, 4, 4], [20, 16, 3, 3], s(2, 1));
        }
        let g = Geometry::new([32, 64, 2, 2], [72, 64, 1, 1], s(1, 0));
        assert!(g.few_groups() && g.tasks() == 1);
        assert!(!Geometry::new([32, 8, 14, 14], [16, 8, 3, 3], s(1, 1)).few_groups());
    }
}
