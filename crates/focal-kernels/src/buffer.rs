//! Output buffers that the tasks filling them zero first.
//!
//! A gradient that is built by adding into it (max pooling's scatter, col2im) needs zeros to
//! start from. `vec![0.0; n]` gets them from `calloc`, which for a large buffer maps fresh pages
//! without touching them: the first `+=` into each page reads it (mapping the shared zero page)
//! and then writes it (a copy-on-write fault, with a TLB shootdown across the cores). On the
//! ResNet stem's max pooling backward, 32x64x112x112, that was most of the op's time (`perf`:
//! `ptep_clear_flush` and `native_write_msr` 34% of the samples, BENCHMARKS.md 2026-12-08).
//! Here each task writes the zeros of its own chunk, then adds into it while it is in cache.

use std::mem::MaybeUninit;

use rayon::prelude::*;

/// A vector of `len` values made in chunks of `chunk` (the last may be shorter): each chunk is
/// written with zeros by one rayon task, which then calls `fill(chunk index, chunk)`.
pub(crate) fn par_zeroed_chunks<F>(len: usize, chunk: usize, fill: F) -> Vec<f32>
where
    F: Fn(usize, &mut [f32]) + Sync + Send,
{
    let mut v: Vec<f32> = Vec::with_capacity(len);
    v.spare_capacity_mut()[..len]
        .par_chunks_mut(chunk.max(1))
        .enumerate()
        .for_each(|(t, part)| {
            part.fill(MaybeUninit::new(0.0));
            // SAFETY: every element of `part` was written just above, and `MaybeUninit<f32>`
            // has the layout of `f32`.
            #[allow(unsafe_code)]
            let part = unsafe {
                std::slice::from_raw_parts_mut(part.as_mut_ptr().cast::<f32>(), part.len())
            };
            fill(t, part);
        });
    // SAFETY: the chunks cover `0..len` and each was initialised above (a panic in `fill`
    // propagates out of `for_each` before this line, leaving the vector empty).
    #[allow(unsafe_code)]
    unsafe {
        v.set_len(len)
    };
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chunk_starts_at_zero_and_keeps_what_it_wrote() {
        let v = par_zeroed_chunks(10, 4, |t, c| {
            assert!(c.iter().all(|&x| x == 0.0));
            c[0] = t as f32 + 1.0;
        });
        assert_eq!(v, [1., 0., 0., 0., 2., 0., 0., 0., 3., 0.]);
        assert!(par_zeroed_chunks(0, 4, |_, _| unreachable!()).is_empty());
    }
}
