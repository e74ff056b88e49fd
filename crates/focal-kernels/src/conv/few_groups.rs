//! Convolutions whose image groups are too few to keep the threads busy: a small batch, or the
//! small planes of a ResNet's last stages (at 64x64 input, ResNet-50's 2x2 planes put the whole
//! batch of 32 in one group, so one thread did all the work, and a pointwise convolution ran
//! as 32 products four columns wide: up to 10x PyTorch's time, BENCHMARKS.md 2026-12-08).
//!
//! Here every group's column matrix is built first (one task per input channel; a pointwise
//! convolution's images gathered into one matrix), then each group's product runs on the pool
//! (`gemm` sharing its tiles out over the threads), and the results are written out one task
//! per image. Each output element is still one sum in an order fixed by the shapes, so the
//! results are the same bits on any number of threads.

use std::borrow::Cow;

use rayon::prelude::*;

use super::{Geometry, col2im, grad_block, kernel_rows, matmul_with};

/// Fewer image groups than this and each group's products run on the whole pool.
pub(super) const MIN_TASKS: usize = 8;

/// The first image of group `t` and the group's number of images.
fn span(g: &Geometry, t: usize) -> (usize, usize) {
    let first = t * g.group();
    (first, g.group().min(g.n - first))
}

/// Row `(i, j)` of one input plane's column matrix written into `dst` (`ho * wo` values: the
/// plane's pixels under kernel position `(i, j)` for every output position, 0 in the padding).
fn im2col_row_into(g: &Geometry, plane: &[f32], i: usize, j: usize, dst: &mut [f32]) {
    let [sh, sw] = g.spec.stride;
    let ((oh_lo, oh_hi), (ow_lo, ow_hi), off_h, off_w) = kernel_rows(g, i, j);
    for (oh, row) in dst.chunks_exact_mut(g.wo).enumerate() {
        if oh < oh_lo || oh >= oh_hi || ow_lo >= ow_hi {
            row.fill(0.0);
            continue;
        }
        let ih = ((oh * sh) as isize + off_h) as usize;
        let src = &plane[ih * g.w..(ih + 1) * g.w];
        row[..ow_lo].fill(0.0);
        row[ow_hi..].fill(0.0);
        let iw0 = ((ow_lo * sw) as isize + off_w) as usize;
        let out = &mut row[ow_lo..ow_hi];
        if sw == 1 {
            out.copy_from_slice(&src[iw0..iw0 + out.len()]);
        } else {
            for (q, d) in out.iter_mut().enumerate() {
                *d = src[iw0 + q * sw];
            }
        }
    }
}

/// The column matrix `[K, images * P]` of the images `xs` (as `super::columns` builds it), one
/// task per input channel; the images themselves for a pointwise convolution of one image.
fn group_columns<'a>(g: &Geometry, xs: &'a [f32], images: usize) -> Cow<'a, [f32]> {
    if g.pointwise() && images == 1 {
        return Cow::Borrowed(&xs[..g.image_len()]);
    }
    let (p, plane) = (g.p(), g.h * g.w);
    let ld = images * p;
    let mut col = vec![0.0f32; g.k() * ld];
    col.par_chunks_mut(g.kh * g.kw * ld)
        .enumerate()
        .for_each(|(ch, rows)| {
            for (r, row) in rows.chunks_exact_mut(ld).enumerate() {
                for (q, dst) in row.chunks_exact_mut(p).enumerate() {
                    let start = q * g.image_len() + ch * plane;
                    im2col_row_into(g, &xs[start..start + plane], r / g.kw, r % g.kw, dst);
                }
            }
        });
    Cow::Owned(col)
}

/// `f(group's slice, images)` for every image group of `v` (`per_image` values an image), on the
/// pool.
fn per_group<'a, F>(g: &Geometry, v: &'a [f32], per_image: usize, f: F) -> Vec<Cow<'a, [f32]>>
where
    F: Fn(&'a [f32], usize) -> Cow<'a, [f32]> + Sync + Send,
{
    (0..g.tasks())
        .into_par_iter()
        .map(|t| {
            let (first, images) = span(g, t);
            f(&v[first * per_image..(first + images) * per_image], images)
        })
        .collect()
}

/// The column matrix of every group of the batch `x`.
fn all_columns<'a>(g: &Geometry, x: &'a [f32]) -> Vec<Cow<'a, [f32]>> {
    per_group(g, x, g.image_len(), |xs, images| {
        group_columns(g, xs, images)
    })
}

/// The output gradient of every group as one `[o, images * p]` matrix.
fn all_grad_blocks<'a>(g: &Geometry, dy: &'a [f32]) -> Vec<Cow<'a, [f32]>> {
    per_group(g, dy, g.o * g.p(), |dys, images| grad_block(g, dys, images))
}

/// `dst (+)= lhs . rhs` on the whole pool (see `super::matmul_with`).
#[allow(clippy::type_complexity)]
fn on_pool(
    mnk: (usize, usize, usize),
    dst: (&mut [f32], usize, bool),
    lhs: (&[f32], (usize, usize)),
    rhs: (&[f32], (usize, usize)),
) {
    matmul_with(gemm::Parallelism::Rayon(0), mnk, dst, lhs, rhs);
}

/// `super::forward`, into `y [n, o, ho, wo]`: each group's `W . col` one product on the pool.
pub(super) fn forward(g: &Geometry, x: &[f32], w: &[f32], y: &mut [f32]) {
    let (k, p, o, group) = (g.k(), g.p(), g.o, g.group());
    let cols = all_columns(g, x);
    // Group t's product [o, images * p] at t * group * o * p; with one image a group, that is
    // already the layout of y.
    let products = |dst: &mut [f32]| {
        dst.par_chunks_mut(group * o * p)
            .enumerate()
            .for_each(|(t, prod)| {
                let ld = prod.len() / o;
                on_pool(
                    (o, ld, k),
                    (prod, ld, false),
                    (w, (k, 1)),
                    (&cols[t], (ld, 1)),
                );
            });
    };
    if group == 1 {
        products(y);
        return;
    }
    let mut tmp = vec![0.0f32; y.len()];
    products(&mut tmp);
    y.par_chunks_mut(o * p).enumerate().for_each(|(img, dst)| {
        let (t, q) = (img / group, img % group);
        let ld = span(g, t).1 * p;
        let prod = &tmp[t * group * o * p..];
        for (oc, d) in dst.chunks_exact_mut(p).enumerate() {
            d.copy_from_slice(&prod[oc * ld + q * p..oc * ld + (q + 1) * p]);
        }
    });
}

/// `super::grad_weight`: `dY . col^T` of each group added in order, each one product on the
/// pool.
pub(super) fn grad_weight(g: &Geometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let (k, p, o) = (g.k(), g.p(), g.o);
    let cols = all_columns(g, x);
    let blocks = all_grad_blocks(g, dy);
    let mut acc = vec![0.0f32; o * k];
    for (t, (col, block)) in cols.iter().zip(&blocks).enumerate() {
        let ld = span(g, t).1 * p;
        // The first product writes `acc` (see `super::grad_weight`).
        on_pool(
            (o, k, ld),
            (&mut acc, k, t > 0),
            (block, (ld, 1)),
            (col, (1, ld)),
        );
    }
    acc
}

/// `super::grad_input`: each group's `W^T . dY` one product on the pool, then col2im one task
/// per image.
pub(super) fn grad_input(g: &Geometry, w: &[f32], dy: &[f32]) -> Vec<f32> {
    let (k, p, o, group) = (g.k(), g.p(), g.o, g.group());
    let blocks = all_grad_blocks(g, dy);
    // Group t's [k, images * p] at t * group * k * p.
    let mut dcol = vec![0.0f32; g.n * k * p];
    dcol.par_chunks_mut(group * k * p)
        .enumerate()
        .for_each(|(t, d)| {
            let ld = d.len() / k;
            on_pool(
                (k, ld, o),
                (d, ld, false),
                (w, (1, k)),
                (&blocks[t], (ld, 1)),
            );
        });
    if g.pointwise() && group == 1 {
        // [c, p] per image: the input gradient itself.
        return dcol;
    }
    let il = g.image_len();
    crate::buffer::par_zeroed_chunks(g.n * il, il, |img, dx| {
        let (t, q) = (img / group, img % group);
        let ld = span(g, t).1 * p;
        col2im(g, &dcol[t * group * k * p..], ld, q * p, dx);
    })
}
