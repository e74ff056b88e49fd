//! The one error type of `focal-data`.

use std::path::PathBuf;

use crate::msg;
use crate::setting::{DataSetting, Message};

/// Everything that can go wrong while loading, building or resampling a data set.
///
/// Each variant carries the file (and line, column or entry) it is about; messages are lowercase,
/// name the thing and suggest a fix.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file or folder could not be read.
    #[error("cannot read {path} (check that the path exists and is readable)")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error (the error's `source`).
        #[source]
        source: std::io::Error,
    },
    /// The path exists but is in no format `focal` reads.
    #[error(
        "{path}: unknown data format ({reason}); expected a folder with IDX files \
         (train-images-idx3-ubyte[.gz], ...), a .npz file, a folder of class folders, or a .csv file"
    )]
    UnknownFormat {
        /// The path given.
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },
    /// A file is truncated or does not hold what its header declares.
    #[error("{path}: corrupt file at {entry}: {reason}; re-download or re-export the file")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where in the file: a header field, a byte offset, an archive entry.
        entry: String,
        /// What is wrong.
        reason: String,
    },
    /// A file starts with the wrong magic number.
    #[error(
        "{path}: wrong magic number {found:#010x}, expected {expected}; \
         is this the right file (images vs labels, IDX vs something else)?"
    )]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The magic number found.
        found: u32,
        /// The magic number(s) expected, in words.
        expected: String,
    },
    /// A header declares more data than the file holds (or than is sane to allocate).
    #[error(
        "{path}: {entry} declares {declared} bytes of data but the file holds {actual}; \
         the file is truncated or its header is corrupt"
    )]
    DeclaredSize {
        /// The file.
        path: PathBuf,
        /// The header or archive entry.
        entry: String,
        /// Bytes the header declares.
        declared: u64,
        /// Bytes actually present.
        actual: u64,
    },
    /// Images and labels disagree on the number of samples.
    #[error(
        "{images} holds {n_images} images but {labels} holds {n_labels} labels; \
         pair each images file with its own labels file"
    )]
    CountMismatch {
        /// The images file (or archive entry).
        images: String,
        /// Number of images.
        n_images: usize,
        /// The labels file (or archive entry).
        labels: String,
        /// Number of labels.
        n_labels: usize,
    },
    /// An image could not be decoded.
    #[error("{path}: cannot decode image: {reason}; remove or re-save the file")]
    UnreadableImage {
        /// The image file.
        path: PathBuf,
        /// The decoder's message.
        reason: String,
    },
    /// A class folder holds no image.
    #[error(
        "{path}: class folder holds no image (.png, .jpg, .jpeg, .bmp, .tif, .tiff, .dcm, or a \
         DICOM file by its contents); add images or remove the folder"
    )]
    EmptyClassFolder {
        /// The class folder.
        path: PathBuf,
    },
    /// A CSV cell is not a number.
    #[error("{message}")]
    CsvNotNumeric {
        /// The whole message, naming the settings that fix it (see [`DataError::render`]).
        message: Message,
        /// The CSV file.
        path: PathBuf,
        /// 1-based line number in the file (the header is line 1).
        line: u64,
        /// 1-based column number.
        column: usize,
        /// The column's header.
        header: String,
        /// The cell as read.
        value: String,
    },
    /// A CSV file is malformed (ragged rows, bad quoting, no header).
    #[error(
        "{path}: line {line}: {reason}; fix the CSV (one header line, the same number of columns on every line)"
    )]
    CsvMalformed {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// The label column asked for is not in the CSV header.
    #[error("{message}")]
    MissingLabelColumn {
        /// The whole message, naming the settings that fix it (see [`DataError::render`]).
        message: Message,
        /// The CSV file.
        path: PathBuf,
        /// The label column asked for.
        name: String,
        /// The header's column names, comma-separated.
        available: String,
    },
    /// A column asked for (the image, label or group column) is not in a CSV's header.
    #[error("{message}")]
    MissingColumn {
        /// The whole message, naming the setting (see [`DataError::render`]).
        message: Message,
        /// The CSV file.
        path: PathBuf,
        /// Which column: the image, label or group column.
        setting: DataSetting,
        /// The column asked for.
        name: String,
        /// The header's column names, comma-separated.
        available: String,
    },
    /// A cell of a manifest (a CSV of image paths) that cannot be used.
    #[error("{path}: line {line}, column `{column}`: {reason}")]
    ManifestCell {
        /// The manifest.
        path: PathBuf,
        /// 1-based line number in the file (the header is line 1).
        line: u64,
        /// The column's name.
        column: String,
        /// What is wrong, and the fix (naming settings as values).
        reason: Message,
    },
    /// An image a manifest names could not be read or decoded.
    #[error("{path}: line {line}, column `{column}`: {source}")]
    ManifestImage {
        /// The manifest.
        path: PathBuf,
        /// 1-based line number in the file (the header is line 1).
        line: u64,
        /// The image column's name.
        column: String,
        /// What went wrong with the image (it names the image file).
        #[source]
        source: Box<DataError>,
    },
    /// Two rows of a manifest name the same image.
    #[error(
        "{path}: lines {first_line} and {line} both name the image {image}; each image may \
         appear once: remove the duplicated row"
    )]
    DuplicateImage {
        /// The manifest.
        path: PathBuf,
        /// The first line naming the image.
        first_line: u64,
        /// The line naming it again.
        line: u64,
        /// The image file, as resolved.
        image: PathBuf,
    },
    /// An image of a folder has no row in the groups file.
    #[error(
        "{path}: no group for the image {image}; add a row `path,group` for it (paths relative \
         to the image folder)"
    )]
    MissingGroup {
        /// The groups file.
        path: PathBuf,
        /// The image without a group, as the groups file would name it.
        image: String,
    },
    /// A DICOM file that cannot be read as an image.
    #[error("{path}: cannot read the DICOM image: {reason}")]
    Dicom {
        /// The DICOM file.
        path: PathBuf,
        /// What is wrong, and the fix.
        reason: String,
    },
    /// A DICOM file whose pixel data are encoded in a transfer syntax focal cannot decode.
    #[error(
        "{path}: DICOM transfer syntax {uid} ({name}) cannot be decoded here (focal decodes \
         native, deflated and RLE pixel data, 8-bit JPEG and JPEG 2000); convert the file to \
         an uncompressed transfer syntax such as Explicit VR Little Endian (dcmtk's dcmdjpls \
         or dcmdjpeg, or GDCM's gdcmconv)"
    )]
    UnsupportedTransferSyntax {
        /// The DICOM file.
        path: PathBuf,
        /// The transfer syntax UID.
        uid: String,
        /// Its name, or `an unknown transfer syntax`.
        name: String,
    },
    /// A multi-frame DICOM file, read without a frame chosen.
    #[error("{message}")]
    MultiFrame {
        /// The whole message, naming the setting (see [`DataError::render`]).
        message: Message,
        /// The DICOM file.
        path: PathBuf,
        /// Number of frames.
        frames: u32,
    },
    /// Decoding the data set would take more memory than the budget allows.
    #[error("{message}")]
    TooLarge {
        /// The whole message, naming the settings that fix it (see [`DataError::render`]).
        message: Message,
        /// The folder or file.
        path: PathBuf,
        /// Number of images.
        n_samples: usize,
        /// The shape of one decoded image, `[channels, height, width]`.
        shape: Vec<usize>,
        /// Bytes the decoded set would take.
        needed: u64,
        /// Bytes it may take.
        budget: u64,
    },
    /// A file declares more data than the memory budget allows (checked before reading it).
    #[error("{message}")]
    OverBudget {
        /// The whole message, naming the settings that fix it (see [`DataError::render`]).
        message: Message,
        /// The file.
        path: PathBuf,
        /// What in the file: an archive entry, the header's dimensions, the rows read so far.
        entry: String,
        /// Bytes it would take (as `f32` values).
        needed: u64,
        /// Bytes it may take.
        budget: u64,
    },
    /// Input for a trained model does not have the shape the model expects.
    #[error("{path}: {found}, but the run expects {expected}; {fix}")]
    ShapeMismatch {
        /// The file (or folder) read.
        path: PathBuf,
        /// What the file holds.
        found: String,
        /// What the model expects.
        expected: String,
        /// How to fix the input.
        fix: String,
    },
    /// A data set's parts do not fit together.
    #[error("invalid data set: {reason}")]
    InvalidDataset {
        /// What is wrong.
        reason: String,
    },
    /// A class named on the command line is not in the data set.
    #[error(
        "no class `{name}` in the data set; the classes are: {available}; pass a name or an index"
    )]
    UnknownClass {
        /// The name or index given.
        name: String,
        /// The data set's classes, comma-separated.
        available: String,
    },
    /// A ratio, imbalance factor or sampling strategy cannot be met with the data at hand.
    #[error("{what} cannot be met: {reason}")]
    Unmeetable {
        /// What was asked for, e.g. `ratio 98:2`.
        what: String,
        /// The counts that make it impossible, and what would work.
        reason: String,
    },
    /// A predictions CSV that cannot be read as a whole (empty, no rows, too many classes).
    #[error("{path}: {message}")]
    Predictions {
        /// The file.
        path: PathBuf,
        /// What is wrong, and what the file should look like.
        message: String,
    },
    /// A cell or a line of a predictions CSV that cannot be read.
    #[error("{path}: line {line}, column {column}: {message}")]
    PredictionsCell {
        /// The file.
        path: PathBuf,
        /// Line, 1-based (the header is line 1).
        line: u64,
        /// Column, 1-based.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A setting whose value is out of range, malformed, or at odds with the data.
    #[error("{message}")]
    InvalidArgument {
        /// The setting.
        setting: DataSetting,
        /// The value given.
        value: String,
        /// The whole message (`invalid <setting> `<value>`: <reason>`), naming settings as
        /// values (see [`DataError::render`]).
        message: Message,
    },
    /// An argument of a library function (a sampler's, the batcher's) that no user setting
    /// sets: out of range or malformed.
    #[error("invalid {name} `{value}`: {reason}")]
    InvalidParameter {
        /// The argument, e.g. `k_neighbors`.
        name: &'static str,
        /// The value given.
        value: String,
        /// What is expected.
        reason: String,
    },
}

/// `[3, 224, 224]` as `3x224x224`.
fn shape_text(shape: &[usize]) -> String {
    shape
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("x")
}

impl DataError {
    /// A [`DataError::Predictions`] for `path`.
    pub(crate) fn predictions(path: &std::path::Path, message: impl ToString) -> Self {
        DataError::Predictions {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }

    /// An [`DataError::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }

    /// A [`DataError::Corrupt`] for `path`.
    pub(crate) fn corrupt(
        path: impl Into<PathBuf>,
        entry: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        DataError::Corrupt {
            path: path.into(),
            entry: entry.into(),
            reason: reason.into(),
        }
    }

    /// An [`DataError::InvalidDataset`].
    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        DataError::InvalidDataset {
            reason: reason.into(),
        }
    }

    /// A [`DataError::InvalidArgument`]: `setting` at `value`, and why not.
    pub(crate) fn arg(
        setting: DataSetting,
        value: impl std::fmt::Display,
        reason: impl Into<Message>,
    ) -> Self {
        let value = value.to_string();
        let mut message = msg!["invalid ", setting, format!(" `{value}`: ")];
        message.0.extend(reason.into().0);
        DataError::InvalidArgument {
            setting,
            value,
            message,
        }
    }

    /// A [`DataError::InvalidParameter`].
    pub(crate) fn param(
        name: &'static str,
        value: impl std::fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        DataError::InvalidParameter {
            name,
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    /// A [`DataError::TooLarge`].
    pub(crate) fn too_large(
        path: &std::path::Path,
        n_samples: usize,
        shape: Vec<usize>,
        needed: u64,
        budget: u64,
    ) -> Self {
        use crate::memory::human_bytes;
        let message = msg![
            format!(
                "{}: {n_samples} images of {} take {} as f32, above the budget of {} (",
                path.display(),
                shape_text(&shape),
                human_bytes(needed),
                human_bytes(budget)
            ),
            DataSetting::MaxMemory,
            "; default a quarter of physical memory); pass a smaller ",
            DataSetting::ImageSize,
            ", e.g. 64x64 (or 224x224 for a ResNet)",
        ];
        DataError::TooLarge {
            message,
            path: path.to_path_buf(),
            n_samples,
            shape,
            needed,
            budget,
        }
    }

    /// A [`DataError::OverBudget`].
    pub(crate) fn over_budget(
        path: &std::path::Path,
        entry: impl Into<String>,
        needed: u64,
        budget: u64,
    ) -> Self {
        use crate::memory::human_bytes;
        let entry = entry.into();
        let message = msg![
            format!(
                "{}: {entry} would take {} in memory, above the memory budget of {}; raise ",
                path.display(),
                human_bytes(needed),
                human_bytes(budget)
            ),
            DataSetting::MaxMemory,
            " (default a quarter of physical memory) if the machine has that much memory, or use \
             a smaller data set",
        ];
        DataError::OverBudget {
            message,
            path: path.to_path_buf(),
            entry,
            needed,
            budget,
        }
    }

    /// A [`DataError::CsvNotNumeric`].
    pub(crate) fn csv_not_numeric(
        path: &std::path::Path,
        line: u64,
        column: usize,
        header: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        let (header, value) = (header.into(), value.into());
        let message = msg![
            format!(
                "{}: line {line}, column {column} (`{header}`): `{value}` is not a number; \
                 features must be numeric (or this is the label column: choose it with ",
                path.display()
            ),
            DataSetting::LabelColumn,
            ")",
        ];
        DataError::CsvNotNumeric {
            message,
            path: path.to_path_buf(),
            line,
            column,
            header,
            value,
        }
    }

    /// A [`DataError::MissingColumn`]: the column of `setting`, `name`, is not among `headers`.
    pub(crate) fn missing_column(
        path: &std::path::Path,
        setting: DataSetting,
        name: impl Into<String>,
        available: impl Into<String>,
    ) -> Self {
        let (name, available) = (name.into(), available.into());
        let message = msg![
            format!("{}: no column `{name}` for the ", path.display()),
            setting,
            format!("; the columns are: {available}; pass one of them with "),
            setting,
        ];
        DataError::MissingColumn {
            message,
            path: path.to_path_buf(),
            setting,
            name,
            available,
        }
    }

    /// A [`DataError::MultiFrame`].
    pub(crate) fn multi_frame(path: &std::path::Path, frames: u32) -> Self {
        let message = msg![
            format!(
                "{}: a multi-frame DICOM file of {frames} frames; choose the frame to read with ",
                path.display()
            ),
            DataSetting::DicomFrame,
            format!(
                " (0 to {}), or split the file into one image per frame",
                frames.saturating_sub(1)
            ),
        ];
        DataError::MultiFrame {
            message,
            path: path.to_path_buf(),
            frames,
        }
    }

    /// A [`DataError::MissingLabelColumn`].
    pub(crate) fn missing_label_column(
        path: &std::path::Path,
        name: impl Into<String>,
        available: impl Into<String>,
    ) -> Self {
        let (name, available) = (name.into(), available.into());
        let message = msg![
            format!(
                "{}: no label column `{name}`; the columns are: {available}; pass one of them \
                 with ",
                path.display()
            ),
            DataSetting::LabelColumn,
        ];
        DataError::MissingLabelColumn {
            message,
            path: path.to_path_buf(),
            name,
            available,
        }
    }

    /// The message, each setting named by `names` (`Display` names them by their keys):
    /// a command-line tool passes the flags that set them.
    pub fn render(&self, names: &dyn Fn(DataSetting) -> String) -> String {
        match self {
            DataError::InvalidArgument { message, .. }
            | DataError::TooLarge { message, .. }
            | DataError::OverBudget { message, .. }
            | DataError::CsvNotNumeric { message, .. }
            | DataError::MissingLabelColumn { message, .. }
            | DataError::MissingColumn { message, .. }
            | DataError::MultiFrame { message, .. } => message.render(names),
            DataError::ManifestCell {
                path,
                line,
                column,
                reason,
            } => format!(
                "{}: line {line}, column `{column}`: {}",
                path.display(),
                reason.render(names)
            ),
            DataError::ManifestImage {
                path,
                line,
                column,
                source,
            } => format!(
                "{}: line {line}, column `{column}`: {}",
                path.display(),
                source.render(names)
            ),
            other => other.to_string(),
        }
    }
}
