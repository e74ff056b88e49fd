//! The one in-memory data set type every loader produces.

use std::path::PathBuf;

/// What one sample is: an image or a row of numeric features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum SampleKind {
    /// An image stored channel-first (`[channels, height, width]`), pixel values scaled to `[0, 1]`.
    Image {
        /// Number of colour channels (1 greyscale, 3 RGB).
        channels: usize,
        /// Height in pixels.
        height: usize,
        /// Width in pixels.
        width: usize,
    },
    /// A row of `n_features` numeric features.
    Tabular {
        /// Number of features per row.
        n_features: usize,
    },
}

impl SampleKind {
    /// Number of `f32` values in one sample.
    pub fn len(&self) -> usize {
        match *self {
            SampleKind::Image {
                channels,
                height,
                width,
            } => channels * height * width,
            SampleKind::Tabular { n_features } => n_features,
        }
    }

    /// Whether a sample holds no values at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shape of one sample: `[C, H, W]` for images, `[F]` for tabular rows.
    pub fn shape(&self) -> Vec<usize> {
        match *self {
            SampleKind::Image {
                channels,
                height,
                width,
            } => vec![channels, height, width],
            SampleKind::Tabular { n_features } => vec![n_features],
        }
    }
}

/// Predefined splits of a data set, as indices into its samples.
///
/// `val` or `test` may be empty when the source does not define them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Splits {
    /// Indices of the training samples.
    pub train: Vec<usize>,
    /// Indices of the validation samples.
    pub val: Vec<usize>,
    /// Indices of the test samples.
    pub test: Vec<usize>,
}

/// An in-memory classification data set.
///
/// Conventions: labels are `0..n_classes`, indexing `class_names`; samples are stored flat and
/// row-major in `x`, `kind.len()` values each.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The source format, e.g. `"idx"`, `"npz"`, `"image-folder"`, `"csv"`, `"bundled"`.
    pub format: String,
    /// Where the data came from, when it came from a file or folder.
    pub source: Option<PathBuf>,
    /// What one sample is.
    pub kind: SampleKind,
    /// All samples, flattened, `n_samples * kind.len()` values.
    pub x: Vec<f32>,
    /// One label per sample, in `0..class_names.len()`.
    pub y: Vec<usize>,
    /// Class names, indexed by label.
    pub class_names: Vec<String>,
    /// Predefined splits, when the source has them.
    pub splits: Option<Splits>,
}
