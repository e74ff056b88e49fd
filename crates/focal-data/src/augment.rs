//! Augmentation of image samples: horizontal flip, small shift, small rotation.
//!
//! Meant for minority-class images (see [`Augment::apply_to_classes`]): it gives a rare class
//! variety that random over-sampling, which only repeats images, does not. Flips suit data
//! whose classes are mirror-symmetric (clothes, X-rays with care), not digits or text.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dataset::SampleKind;
use crate::error::DataError;

/// Random image transforms, each drawn independently per sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Augment {
    /// Mirror left-right with probability 1/2.
    pub hflip: bool,
    /// Shift by a whole number of pixels drawn uniformly in `[-max_shift, max_shift]`, per axis.
    pub max_shift: usize,
    /// Rotate about the centre by an angle drawn uniformly in `[-max, max]` degrees (bilinear).
    pub max_rotation_deg: f32,
}

impl Default for Augment {
    /// Flip, shift up to 2 pixels, rotate up to 10 degrees.
    fn default() -> Self {
        Augment {
            hflip: true,
            max_shift: 2,
            max_rotation_deg: 10.0,
        }
    }
}

impl Augment {
    /// Transforms every image of `x` (flat, `kind` each) in place, deterministically from `seed`.
    /// Pixels moved in from outside the image are 0.
    pub fn apply_batch(&self, x: &mut [f32], kind: SampleKind, seed: u64) -> Result<(), DataError> {
        let n = check(x, kind)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for s in 0..n {
            self.apply_one(x, kind, s, &mut rng);
        }
        Ok(())
    }

    /// Transforms in place only the images whose label `y[i]` is in `classes` (e.g. the
    /// minority class), deterministically from `seed`.
    pub fn apply_to_classes(
        &self,
        x: &mut [f32],
        y: &[usize],
        kind: SampleKind,
        classes: &[usize],
        seed: u64,
    ) -> Result<(), DataError> {
        let n = check(x, kind)?;
        if n != y.len() {
            return Err(DataError::invalid(format!(
                "{n} images but {} labels",
                y.len()
            )));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for (s, l) in y.iter().enumerate() {
            if classes.contains(l) {
                self.apply_one(x, kind, s, &mut rng);
            }
        }
        Ok(())
    }

    fn apply_one(&self, x: &mut [f32], kind: SampleKind, s: usize, rng: &mut ChaCha8Rng) {
        let SampleKind::Image {
            channels,
            height,
            width,
        } = kind
        else {
            return;
        };
        let flip = self.hflip && rng.random::<bool>();
        let shift = self.max_shift as i64;
        let (dx, dy) = if shift > 0 {
            (
                rng.random_range(-shift..=shift) as f32,
                rng.random_range(-shift..=shift) as f32,
            )
        } else {
            (0.0, 0.0)
        };
        let angle = if self.max_rotation_deg > 0.0 {
            rng.random_range(-self.max_rotation_deg..=self.max_rotation_deg)
                .to_radians()
        } else {
            0.0
        };
        if !flip && dx == 0.0 && dy == 0.0 && angle == 0.0 {
            return;
        }
        let (sin, cos) = angle.sin_cos();
        let (cx, cy) = ((width as f32 - 1.0) / 2.0, (height as f32 - 1.0) / 2.0);
        let plane = height * width;
        let len = channels * plane;
        let img = &mut x[s * len..(s + 1) * len];
        let src = img.to_vec();
        for c in 0..channels {
            let sp = &src[c * plane..(c + 1) * plane];
            let at = |r: i64, q: i64| -> f32 {
                if r < 0 || q < 0 || r >= height as i64 || q >= width as i64 {
                    0.0
                } else {
                    let q = if flip { width as i64 - 1 - q } else { q };
                    sp[r as usize * width + q as usize]
                }
            };
            for r in 0..height {
                for q in 0..width {
                    // Inverse map: undo the shift, then the rotation about the centre.
                    let (ux, uy) = (q as f32 - dx - cx, r as f32 - dy - cy);
                    let sx = cos * ux + sin * uy + cx;
                    let sy = -sin * ux + cos * uy + cy;
                    let (x0, y0) = (sx.floor(), sy.floor());
                    let (fx, fy) = (sx - x0, sy - y0);
                    let (x0, y0) = (x0 as i64, y0 as i64);
                    let v = at(y0, x0) * (1.0 - fx) * (1.0 - fy)
                        + at(y0, x0 + 1) * fx * (1.0 - fy)
                        + at(y0 + 1, x0) * (1.0 - fx) * fy
                        + at(y0 + 1, x0 + 1) * fx * fy;
                    img[c * plane + r * width + q] = v;
                }
            }
        }
    }
}

fn check(x: &[f32], kind: SampleKind) -> Result<usize, DataError> {
    if !matches!(kind, SampleKind::Image { .. }) {
        return Err(DataError::invalid(
            "augmentation needs image samples, the data set is tabular",
        ));
    }
    let len = kind.len();
    if len == 0 || !x.len().is_multiple_of(len) {
        return Err(DataError::invalid(format!(
            "{} values are not a whole number of {len}-value images",
            x.len()
        )));
    }
    Ok(x.len() / len)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: SampleKind = SampleKind::Image {
        channels: 1,
        height: 3,
        width: 3,
    };

    #[test]
    fn flip_only_mirrors_rows() {
        let aug = Augment {
            hflip: true,
            max_shift: 0,
            max_rotation_deg: 0.0,
        };
        let orig: Vec<f32> = (0..9).map(|v| v as f32).collect();
        // Over many seeds, each output is the original or its mirror, and both occur.
        let mirror = vec![2.0, 1.0, 0.0, 5.0, 4.0, 3.0, 8.0, 7.0, 6.0];
        let (mut seen_flip, mut seen_same) = (false, false);
        for seed in 0..20 {
            let mut x = orig.clone();
            aug.apply_batch(&mut x, KIND, seed).unwrap();
            assert!(x == orig || x == mirror, "{x:?}");
            seen_flip |= x == mirror;
            seen_same |= x == orig;
        }
        assert!(seen_flip && seen_same);
    }

    #[test]
    fn shift_moves_pixels_and_fills_zero() {
        let aug = Augment {
            hflip: false,
            max_shift: 1,
            max_rotation_deg: 0.0,
        };
        let mut x = vec![0.0; 9];
        x[4] = 1.0;
        aug.apply_batch(&mut x, KIND, 3).unwrap();
        // The single bright pixel moved by at most one step per axis, intact (tolerance 1e-6).
        assert!((x.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(x.iter().filter(|&&v| v == 1.0).count(), 1);
    }

    #[test]
    fn only_chosen_classes_change_and_seed_repeats() {
        let aug = Augment {
            hflip: false,
            max_shift: 0,
            max_rotation_deg: 30.0,
        };
        let orig: Vec<f32> = (0..18).map(|v| (v % 7) as f32).collect();
        let (mut a, mut b) = (orig.clone(), orig.clone());
        aug.apply_to_classes(&mut a, &[0, 1], KIND, &[1], 9)
            .unwrap();
        aug.apply_to_classes(&mut b, &[0, 1], KIND, &[1], 9)
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(a[..9], orig[..9]);
        assert_ne!(a[9..], orig[9..]);
    }
}
