//! Augmentation of training images, as a run records it (`config.json`'s `augment`): which
//! images are transformed and how. The transforms themselves are focal-data's
//! [`Augment`](focal_data::augment::Augment); the training loop applies them to a fresh copy of
//! the training set every epoch, never to validation, test or new data.

use std::fmt;

use focal_data::SampleKind;
use focal_data::augment::Augment;

use crate::error::TrainError;
use crate::setting::Setting;

/// Mirror left-right by default (torchvision's `RandomHorizontalFlip(p=0.5)`).
pub const DEFAULT_AUGMENT_FLIP: bool = true;
/// The default largest shift, in pixels per axis: 2 px suits 28x28 images (7%); scale it with
/// the image (e.g. 16 at 224x224).
pub const DEFAULT_AUGMENT_SHIFT: usize = 2;
/// The default largest rotation, in degrees either way.
pub const DEFAULT_AUGMENT_ROTATE: f32 = 10.0;
/// The largest rotation accepted, in degrees either way.
pub const MAX_AUGMENT_ROTATE: f32 = 180.0;

/// Which training images are augmented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AugmentScope {
    /// The images of the task's minority class ([`crate::minority_class`]: the positive class of
    /// a binary task, else the class with the fewest training samples), over-sampled copies
    /// included, each copy transformed on its own.
    Minority,
    /// Every training image.
    All,
}

impl AugmentScope {
    /// The CLI name.
    pub fn name(self) -> &'static str {
        match self {
            AugmentScope::Minority => "minority",
            AugmentScope::All => "all",
        }
    }
}

impl fmt::Display for AugmentScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Random transforms of training images, drawn anew for each image every epoch (as a
/// torchvision transform in a training `DataLoader`), seeded by the run's seed and the epoch.
/// Check a value with [`validate`](Self::validate).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Augmentation {
    /// Which images.
    pub scope: AugmentScope,
    /// Mirror left-right with probability 1/2.
    pub flip: bool,
    /// Shift by a whole number of pixels drawn uniformly in `[-shift, shift]`, per axis
    /// (pixels moved in from outside are 0).
    pub shift: usize,
    /// Rotate about the centre by an angle drawn uniformly in `[-rotate, rotate]` degrees
    /// (bilinear).
    pub rotate: f32,
}

impl Augmentation {
    /// The default transforms (flip, shift 2 px, rotation 10 degrees) for `scope`.
    pub fn default_for(scope: AugmentScope) -> Self {
        Augmentation {
            scope,
            flip: DEFAULT_AUGMENT_FLIP,
            shift: DEFAULT_AUGMENT_SHIFT,
            rotate: DEFAULT_AUGMENT_ROTATE,
        }
    }

    /// Checks the values that do not depend on the data: a finite rotation in `[0, 180]`, and
    /// at least one transform.
    pub fn validate(&self) -> Result<(), TrainError> {
        if !(self.rotate.is_finite() && (0.0..=MAX_AUGMENT_ROTATE).contains(&self.rotate)) {
            return Err(TrainError::out_of_range(
                Setting::AugmentRotate,
                self.rotate,
                "the largest rotation must be in [0, 180] degrees",
            ));
        }
        if !self.flip && self.shift == 0 && self.rotate == 0.0 {
            return Err(TrainError::NoAugmentTransform);
        }
        Ok(())
    }

    /// Checks that the samples `kind` can be augmented so: images, wider and taller than the
    /// shift.
    pub fn check_samples(&self, kind: &SampleKind) -> Result<(), TrainError> {
        let SampleKind::Image { height, width, .. } = *kind else {
            return Err(TrainError::AugmentNeedsImages);
        };
        if self.shift >= height.min(width) {
            return Err(TrainError::AugmentShiftTooLarge {
                shift: self.shift,
                height,
                width,
            });
        }
        Ok(())
    }

    /// focal-data's transforms.
    pub fn transforms(&self) -> Augment {
        Augment {
            hflip: self.flip,
            max_shift: self.shift,
            max_rotation_deg: self.rotate,
        }
    }
}

impl fmt::Display for Augmentation {
    /// `minority: flip, shift 2 px, rotate 10 deg` (the transforms in use only).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if self.flip {
            parts.push("flip".to_string());
        }
        if self.shift > 0 {
            parts.push(format!("shift {} px", self.shift));
        }
        if self.rotate > 0.0 {
            parts.push(format!("rotate {} deg", self.rotate));
        }
        write!(f, "{}: {}", self.scope, parts.join(", "))
    }
}
