//! Decoded pixels of a set of images, kept at the set's depth (8 or 16 bits), as image folders,
//! manifests and DICOM files fill them.

use image::DynamicImage;
use image::imageops::FilterType;
use rayon::prelude::*;

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

/// `img` resized (bilinear, the `image` crate's `Triangle` filter) to `size` when it has
/// another size.
fn resized(img: DynamicImage, (width, height): (u32, u32)) -> DynamicImage {
    if img.width() != width || img.height() != height {
        img.resize_exact(width, height, FilterType::Triangle)
    } else {
        img
    }
}

/// Interleaved RGB samples `raw` as three planes of `plane` samples each, into `out`.
fn write_planes<T: Copy>(raw: &[T], plane: usize, out: &mut [T]) {
    for (c, dst) in out.chunks_exact_mut(plane).take(3).enumerate() {
        for (p, d) in dst.iter_mut().enumerate() {
            *d = raw[p * 3 + c];
        }
    }
}

/// Samples of one image of `size`: one luma plane, or three RGB planes.
fn samples((width, height): (u32, u32), grayscale: bool) -> usize {
    width as usize * height as usize * if grayscale { 1 } else { 3 }
}

/// Writes `img`, resized to `size`, as channel-first samples into `out` (one luma plane, or
/// three RGB planes; `out` holds exactly that many), through `luma` or `rgb`, which give the
/// image's interleaved samples at `out`'s depth.
fn write<T: Copy>(
    img: DynamicImage,
    size: (u32, u32),
    grayscale: bool,
    out: &mut [T],
    luma: fn(&DynamicImage) -> Vec<T>,
    rgb: fn(&DynamicImage) -> Vec<T>,
) {
    let img = resized(img, size);
    if grayscale {
        out.copy_from_slice(&luma(&img));
    } else {
        write_planes(&rgb(&img), out.len() / 3, out);
    }
}

/// [`write`] at 8 bits.
fn write_u8(img: DynamicImage, size: (u32, u32), grayscale: bool, out: &mut [u8]) {
    write(
        img,
        size,
        grayscale,
        out,
        |i| i.to_luma8().into_raw(),
        |i| i.to_rgb8().into_raw(),
    );
}

/// [`write`] at 16 bits: an 8-bit image is promoted after resizing, `b` becoming `b * 257`
/// (the same value).
fn write_u16(img: DynamicImage, size: (u32, u32), grayscale: bool, out: &mut [u16]) {
    write(
        img,
        size,
        grayscale,
        out,
        |i| i.to_luma16().into_raw(),
        |i| i.to_rgb16().into_raw(),
    );
}

/// Appends `img`, resized (bilinear, the `image` crate's `Triangle` filter) to `size` when it
/// has another size, as channel-first samples at `out`'s depth: one luma plane, or three RGB
/// planes. An 8-bit image in a 16-bit set is promoted after resizing, `b` becoming `b * 257`
/// (the same value); a 16-bit image is only ever pushed into a 16-bit set (the set's depth is
/// that of its deepest image).
pub(crate) fn push_values(img: DynamicImage, size: (u32, u32), grayscale: bool, out: &mut Pixels) {
    let n = samples(size, grayscale);
    match out {
        Pixels::U8(x) => {
            let start = x.len();
            x.resize(start + n, 0);
            write_u8(img, size, grayscale, &mut x[start..]);
        }
        Pixels::U16(x) => {
            let start = x.len();
            x.resize(start + n, 0);
            write_u16(img, size, grayscale, &mut x[start..]);
        }
    }
}

/// Decodes `n` images, image `i` by `image(i)`, on rayon's pool, into one set of `size` at 16
/// bits when `deep`: the values [`push_values`] gives pushing them one after another, in order.
/// Each image is written into its own part of the set as it is decoded (no second copy of the
/// set); the error of the first failing image in order is returned.
pub(crate) fn decode_all<E: Send>(
    n: usize,
    size: (u32, u32),
    grayscale: bool,
    deep: bool,
    image: &(dyn Fn(usize) -> Result<DynamicImage, E> + Sync),
) -> Result<Pixels, E> {
    fn fill<T, E, F>(n: usize, per: usize, one: F) -> Result<Vec<T>, E>
    where
        T: Copy + Default + Send,
        E: Send,
        F: Fn(usize, &mut [T]) -> Result<(), E> + Sync,
    {
        let mut x = vec![T::default(); n * per];
        let done: Vec<Result<(), E>> = x
            .par_chunks_mut(per.max(1))
            .enumerate()
            .map(|(i, out)| one(i, out))
            .collect();
        done.into_iter().collect::<Result<(), E>>()?;
        Ok(x)
    }
    let per = samples(size, grayscale);
    if deep {
        fill(n, per, |i, out: &mut [u16]| {
            write_u16(image(i)?, size, grayscale, out);
            Ok(())
        })
        .map(Pixels::U16)
    } else {
        fill(n, per, |i, out: &mut [u8]| {
            write_u8(image(i)?, size, grayscale, out);
            Ok(())
        })
        .map(Pixels::U8)
    }
}

/// The most a decoder may allocate for one image: the `image` crate's default (512 MiB), or
/// the memory budget when that is smaller.
pub(crate) fn max_alloc(budget: Option<u64>) -> u64 {
    const IMAGE_DEFAULT: u64 = 512 << 20;
    memory::resolve(budget).map_or(IMAGE_DEFAULT, |b| b.min(IMAGE_DEFAULT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Luma, Rgb};

    /// Test images of several sizes and depths, each distinct.
    fn images() -> Vec<DynamicImage> {
        (0..13u32)
            .map(|i| {
                let (w, h) = (5 + i % 4, 3 + i % 3);
                match i % 3 {
                    0 => DynamicImage::ImageRgb8(ImageBuffer::from_fn(w, h, |x, y| {
                        Rgb([(x * 40 + i) as u8, (y * 50) as u8, (i * 19) as u8])
                    })),
                    1 => DynamicImage::ImageLuma8(ImageBuffer::from_fn(w, h, |x, y| {
                        Luma([(x * 30 + y * 7 + i) as u8])
                    })),
                    _ => DynamicImage::ImageLuma16(ImageBuffer::from_fn(w, h, |x, y| {
                        Luma([(x * 3000 + y * 700 + i * 11) as u16])
                    })),
                }
            })
            .collect()
    }

    #[test]
    fn parallel_decoding_gives_the_values_of_pushing_in_order() {
        let imgs = images();
        for (grayscale, deep) in [(true, false), (false, false), (true, true), (false, true)] {
            let mut expected = Pixels::with_capacity(deep, 0);
            for img in &imgs {
                push_values(img.clone(), (4, 6), grayscale, &mut expected);
            }
            let got = decode_all(imgs.len(), (4, 6), grayscale, deep, &|i| {
                Ok::<_, ()>(imgs[i].clone())
            })
            .unwrap();
            let (expected, got) = (expected.into_values(), got.into_values());
            assert!(expected.len() == 13 * 4 * 6 * if grayscale { 1 } else { 3 });
            assert_eq!(format!("{got:?}"), format!("{expected:?}"));
        }
    }

    #[test]
    fn the_first_failing_image_in_order_is_reported() {
        let imgs = images();
        for _ in 0..20 {
            let r = decode_all(imgs.len(), (4, 4), true, false, &|i| {
                if i == 4 || i == 11 {
                    Err(i)
                } else {
                    Ok(imgs[i].clone())
                }
            });
            assert_eq!(r.err(), Some(4));
        }
    }
}
