//! How a task was built and read, as `config.json` records it: [`TaskRecord`], where its
//! data came from ([`DataSource`]), how they were read ([`Reading`]) and normalised
//! ([`InputNormalization`]).

use std::path::PathBuf;

use focal_data::Dataset;
use focal_data::split::SplitFractions;

/// Where a task's data came from, as `config.json` records it: the bundled data set, a path,
/// or a data set built in memory (by a library user; it cannot be reloaded by path).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", from = "String")]
pub enum DataSource {
    /// The bundled Fashion-MNIST test split.
    Bundled,
    /// A file or folder.
    Path(PathBuf),
    /// A data set built in memory.
    InMemory,
}

impl DataSource {
    const BUNDLED: &str = "bundled";
    const IN_MEMORY: &str = "<in memory>";

    /// The source of `ds`.
    pub fn of(ds: &Dataset) -> Self {
        match (&ds.source, ds.format) {
            (Some(p), _) => DataSource::Path(p.clone()),
            (None, focal_data::DataFormat::Bundled) => DataSource::Bundled,
            (None, _) => DataSource::InMemory,
        }
    }

    /// The path, for a source read from one.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            DataSource::Path(p) => Some(p),
            _ => None,
        }
    }
}

impl std::fmt::Display for DataSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DataSource::Bundled => f.write_str(Self::BUNDLED),
            DataSource::Path(p) => write!(f, "{}", p.display()),
            DataSource::InMemory => f.write_str(Self::IN_MEMORY),
        }
    }
}

impl From<DataSource> for String {
    fn from(s: DataSource) -> String {
        s.to_string()
    }
}

impl From<String> for DataSource {
    fn from(s: String) -> Self {
        match s.as_str() {
            Self::BUNDLED => DataSource::Bundled,
            Self::IN_MEMORY => DataSource::InMemory,
            _ => DataSource::Path(PathBuf::from(s)),
        }
    }
}

/// How samples are normalised before they enter the model, as `config.json` records it.
///
/// Serialised as `"training-split"` and `"imagenet"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputNormalization {
    /// Standardised per colour channel (images) or feature (rows) with the mean and standard
    /// deviation of the training split: models trained from scratch (and every run written
    /// before this was recorded).
    #[default]
    TrainingSplit,
    /// As torchvision's pretrained weights expect: images as RGB (greyscale repeated over the
    /// three channels), pixel values in `[0, 1]` normalised with ImageNet's mean
    /// `[0.485, 0.456, 0.406]` and standard deviation `[0.229, 0.224, 0.225]`.
    Imagenet,
}

impl InputNormalization {
    /// The normalisation a run needs: ImageNet's with pretrained weights, else the training
    /// split's.
    pub fn for_pretrained(pretrained: bool) -> Self {
        if pretrained {
            InputNormalization::Imagenet
        } else {
            InputNormalization::TrainingSplit
        }
    }
}

/// How the task was built.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TaskRecord {
    /// Where the data came from.
    pub source: DataSource,
    /// The name of the positive class in the source, for a binary task.
    pub positive_name: Option<String>,
    /// The imposed `negative:positive` ratio.
    pub ratio: Option<(u32, u32)>,
    /// Split fractions.
    pub fractions: SplitFractions,
    /// The seed of task building and splitting.
    pub seed: u64,
    /// Class names of the task.
    pub class_names: Vec<String>,
    /// Exact train/validation/test sizes, when the task pooled every sample and drew splits of
    /// these sizes at `ratio` ([`PreparedData::with_split_sizes`]); `None` for fraction splits.
    #[serde(default)]
    pub split_sizes: Option<[usize; 3]>,
    /// The minority class ([`minority_class`]); absent in runs written before it was recorded,
    /// where [`crate::run::read_config`] fills it in.
    #[serde(default)]
    pub minority: Option<usize>,
    /// The size (width, height) the task's images were loaded at, read again at this size by
    /// `resume`, `eval --run` and `predict`; `None` for feature rows and in runs written before
    /// it was recorded (whose image folders were read at their first image's size).
    #[serde(default)]
    pub image_size: Option<(u32, u32)>,
    /// The CSV label column the data were read with (`None`: the loader's default).
    #[serde(default)]
    pub label_column: Option<String>,
    /// The long-tail imbalance factor of a multi-class task, when one was imposed.
    #[serde(default)]
    pub long_tail: Option<f64>,
    /// How the samples are normalised (and, for ImageNet's, made RGB); runs written before it
    /// was recorded standardised with the training split.
    #[serde(default)]
    pub input_normalization: InputNormalization,
    /// How a manifest, DICOM files or a groups file were read (absent for other sources, and
    /// in runs written before they could be read).
    #[serde(default, flatten)]
    pub reading: Reading,
    /// The bit depth the images were decoded at (8 or 16); absent for feature rows and in runs
    /// written before 16-bit images were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bit_depth: Option<u8>,
}

/// How a source that needs more than its path was read: a manifest's columns and image
/// folder, DICOM's window and frame, a folder's groups file. Every field is left out of
/// `config.json` when unset.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reading {
    /// The manifest's image column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_column: Option<String>,
    /// The folder the manifest's image paths are relative to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_root: Option<PathBuf>,
    /// The suffix appended to image names without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_suffix: Option<String>,
    /// The manifest's group (patient) column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_column: Option<String>,
    /// The `path,group` file of an image folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<PathBuf>,
    /// The DICOM window (`None`: the file's own, else min-max).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dicom_window: Option<focal_data::DicomWindow>,
    /// The frame read from multi-frame DICOM files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dicom_frame: Option<u32>,
}

impl TaskRecord {
    /// The load options that read the task's source as the run read it.
    pub fn load_options(&self) -> focal_data::LoadOptions {
        let r = &self.reading;
        focal_data::LoadOptions {
            label_column: self.label_column.clone(),
            image_size: self.image_size,
            image_column: r.image_column.clone(),
            image_root: r.image_root.clone(),
            image_suffix: r.image_suffix.clone(),
            group_column: r.group_column.clone(),
            groups_file: r.groups.clone(),
            dicom_window: r.dicom_window.unwrap_or_default(),
            dicom_frame: r.dicom_frame,
            ..focal_data::LoadOptions::default()
        }
    }
}
