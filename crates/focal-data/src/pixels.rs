//! Decoded pixels of a set of images, kept at the set's depth (8 or 16 bits), as image folders,
//! manifests and DICOM files fill them.

use image::DynamicImage;
use image::imageops::FilterType;

use crate::dataset::Values;
use crate::memory;

/// Decoded pixels of a set, flat, kept at the set's depth.
#[derive(Debug)]
pub(crate) enum Pixels {
    /// 8-bit samples (`b / 255`).
    U8(Vec<u8>),
    /// 16-bit samples (`v / 65535`).
    U16(Vec<u16>),
}

impl Pixels {
    /// Room for `n` samples, at 16 bits when `deep`.
    pub(crate) fn with_capacity(deep: bool, n: usize) -> Self {
        if deep {
            Pixels::U16(Vec::with_capacity(n))
        } else {
            Pixels::U8(Vec::with_capacity(n))
        }
    }

    /// The samples as a data set's values.
    pub(crate) fn into_values(self) -> Values {
        match self {
            Pixels::U8(b) => Values::Pixels(b),
            Pixels::U16(w) => Values::Pixels16(w),
        }
    }
}

/// Appends `img`, resized (bilinear, the `image` crate's `Triangle` filter) to `size` when it
/// has another size, as channel-first samples at `out`'s depth: one luma plane, or three RGB
/// planes. An 8-bit image in a 16-bit set is promoted after resizing, `b` becoming `b * 257`
/// (the same value); a 16-bit image is only ever pushed into a 16-bit set (the set's depth is
/// that of its deepest image).
pub(crate) fn push_values(img: DynamicImage, size: (u32, u32), grayscale: bool, out: &mut Pixels) {
    fn planes<T: Copy>(raw: &[T], plane: usize, x: &mut Vec<T>) {
        for c in 0..3 {
            x.extend((0..plane).map(|p| raw[p * 3 + c]));
        }
    }
    let (width, height) = size;
    let img = if img.width() != width || img.height() != height {
        img.resize_exact(width, height, FilterType::Triangle)
    } else {
        img
    };
    let plane = width as usize * height as usize;
    match (out, grayscale) {
        (Pixels::U8(x), true) => x.extend_from_slice(img.to_luma8().as_raw()),
        (Pixels::U8(x), false) => planes(img.to_rgb8().as_raw(), plane, x),
        (Pixels::U16(x), true) => x.extend_from_slice(img.to_luma16().as_raw()),
        (Pixels::U16(x), false) => planes(img.to_rgb16().as_raw(), plane, x),
    }
}

/// The most a decoder may allocate for one image: the `image` crate's default (512 MiB), or
/// the memory budget when that is smaller.
pub(crate) fn max_alloc(budget: Option<u64>) -> u64 {
    const IMAGE_DEFAULT: u64 = 512 << 20;
    memory::resolve(budget).map_or(IMAGE_DEFAULT, |b| b.min(IMAGE_DEFAULT))
}
