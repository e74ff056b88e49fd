//! Resizing images already decoded to `f32` (IDX, NPZ), with the `image` crate's resampling.

use image::imageops::{self, FilterType};
use image::{ImageBuffer, Luma};

use crate::dataset::{Dataset, SampleKind};

/// One channel-first sample `[C, H, W]` (`shape`) resized to `size` (width, height), plane by
/// plane, bilinear (the `image` crate's `Triangle` filter, as image folders are resized).
pub(crate) fn resize_sample(values: &[f32], shape: [usize; 3], size: (u32, u32)) -> Vec<f32> {
    let [c, h, w] = shape;
    let plane = h * w;
    let mut out = Vec::with_capacity(c * size.0 as usize * size.1 as usize);
    for ch in 0..c {
        let buf: ImageBuffer<Luma<f32>, Vec<f32>> = ImageBuffer::from_raw(
            w as u32,
            h as u32,
            values[ch * plane..(ch + 1) * plane].to_vec(),
        )
        .expect("a plane of h * w values"); // invariant: the slice is exactly one plane
        out.extend(imageops::resize(&buf, size.0, size.1, FilterType::Triangle).into_raw());
    }
    out
}

/// `ds` with every image resized to `size` (width, height); rows and images of that size
/// already are returned unchanged.
pub(crate) fn resize_images(ds: Dataset, size: (u32, u32)) -> Dataset {
    let SampleKind::Image {
        channels,
        height,
        width,
    } = ds.kind
    else {
        return ds;
    };
    if (width as u32, height as u32) == size {
        return ds;
    }
    let shape = [channels, height, width];
    let x: Vec<f32> = (0..ds.n_samples())
        .flat_map(|i| resize_sample(&ds.sample(i), shape, size))
        .collect();
    Dataset {
        x: x.into(),
        kind: SampleKind::Image {
            channels,
            height: size.1 as usize,
            width: size.0 as usize,
        },
        ..ds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uniform_plane_stays_uniform_and_takes_the_new_shape() {
        let v = vec![0.5f32; 2 * 4 * 6];
        let out = resize_sample(&v, [2, 4, 6], (3, 2));
        assert_eq!(out.len(), 2 * 2 * 3);
        assert!(out.iter().all(|&x| (x - 0.5).abs() < 1e-6));
    }
}
