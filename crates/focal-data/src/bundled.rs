//! The bundled default data set: the Fashion-MNIST test split, embedded in the binary.
//!
//! Source, licence and checksums: `data/fashion-mnist-test/PROVENANCE.md` and `LICENSE` at the
//! root of the repository.

use std::path::Path;

use crate::budget::Budget;
use crate::dataset::{DataFormat, Dataset};
use crate::error::DataError;
use crate::idx::{FASHION_MNIST_CLASSES, images_and_labels, parse_idx};

const IMAGES: &[u8] = include_bytes!("../../../data/fashion-mnist-test/t10k-images-idx3-ubyte.gz");
const LABELS: &[u8] = include_bytes!("../../../data/fashion-mnist-test/t10k-labels-idx1-ubyte.gz");

/// A short description of the bundled set, for help texts and reports.
pub const BUNDLED_DESCRIPTION: &str = "Fashion-MNIST test split (10,000 28x28 greyscale images, 10 classes of 1,000; MIT licence, Zalando SE)";

/// The bundled default data set: the Fashion-MNIST test split (Xiao et al. 2017), 10,000
/// greyscale 28x28 images, 1,000 per class, classes `T-shirt/top, Trouser, Pullover, Dress, Coat,
/// Sandal, Shirt, Sneaker, Bag, Ankle boot`.
///
/// `format` is `"bundled"`, `source` is `None` and there are no predefined splits (use
/// [`Dataset::resolve_splits`]). Decoding takes a fraction of a second; errors are impossible
/// unless the embedded files were damaged at build time, and are reported, not panicked on.
pub fn bundled() -> Result<Dataset, DataError> {
    // The bundled set is small and known: no budget applies.
    let mut budget = Budget::unlimited();
    let images = parse_idx(
        IMAGES,
        Path::new("<bundled>/t10k-images-idx3-ubyte.gz"),
        3,
        &mut budget,
    )?;
    let labels = parse_idx(
        LABELS,
        Path::new("<bundled>/t10k-labels-idx1-ubyte.gz"),
        1,
        &mut budget,
    )?;
    let (kind, x, y) = images_and_labels(
        images,
        "<bundled>/t10k-images-idx3-ubyte.gz",
        labels,
        "<bundled>/t10k-labels-idx1-ubyte.gz",
    )?;
    let names = FASHION_MNIST_CLASSES
        .iter()
        .map(|s| s.to_string())
        .collect();
    Dataset::new(DataFormat::Bundled, None, kind, x, y, names, None)
}
