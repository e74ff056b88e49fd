//! Real data in, an imbalanced task out: loaders, the bundled default set, task construction,
//! stratified splits, samplers and resamplers, augmentation and a Burn batcher.
//!
//! Every loader produces one in-memory [`Dataset`]: labels `0..n_classes` indexing
//! `class_names`, samples flat in `x` (images channel-first, values in `[0, 1]`, kept as bytes
//! or as 16-bit values). Sources: IDX, NPZ, class folders of PNG/JPEG/BMP/TIFF/DICOM, CSV
//! feature rows, and manifests (a CSV of image paths, labels and often patients, split by
//! group so that no patient is in two splits).
//!
//! ```no_run
//! use focal_data::{bundled, task::{build_task, TaskSpec, ClassSelector}};
//! let ds = bundled()?;
//! let spec = TaskSpec { positive: Some(ClassSelector::Name("Bag".into())), ratio: Some((98, 2)), long_tail: None, allow_majority_positive: false, seed: 0 };
//! let task = build_task(&ds, &spec)?;
//! assert_eq!(task.class_names, ["not Bag", "Bag"]);
//! # Ok::<(), focal_data::DataError>(())
//! ```

mod budget;
mod bundled;
mod dataset;
mod dicom;
mod error;
mod folder;
mod groups;
mod idx;
mod inputs;
mod load;
mod manifest;
mod npz;
mod pixels;
mod resize;
pub mod setting;
mod summary;
mod table;

pub mod augment;
#[cfg(feature = "burn")]
pub mod batcher;
pub mod memory;
pub mod predictions;
pub mod sampling;
pub mod split;
pub mod task;

pub use bundled::{BUNDLED_DESCRIPTION, bundled};
pub use dataset::{
    DataFormat, Dataset, SampleKind, SplitGroups, Splits, Values, class_counts, grey_to_rgb,
    imbalance_ratio, pixel, pixel16,
};
pub use dicom::{DicomImage, DicomInfo, DicomWindow, dicom_info, read_dicom};
pub use error::DataError;
pub use folder::first_dicom;
pub use idx::FASHION_MNIST_CLASSES;
pub use inputs::{InputLabels, InputOptions, Inputs, load_inputs};
pub use load::{LoadOptions, Probe, load, load_bundled, probe, probe_with};
pub use setting::{DataSetting, Message, Part};
pub use split::{SplitFractions, group_ids, stratified_group_split};
