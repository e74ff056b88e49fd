//! Format detection and the one entry point, [`load`].

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::dataset::{DataFormat, Dataset, SampleKind};
use crate::dicom::{DicomOptions, DicomWindow};
use crate::error::DataError;
use crate::folder::FolderOptions;
use crate::manifest::ManifestSpec;
use crate::msg;
use crate::setting::{DataSetting, Message};
use crate::{folder, idx, manifest, npz, resize, table};

/// Options for [`load`]; every field is optional and `Default` picks the documented default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadOptions {
    /// CSV only (feature rows and manifests): the label column. Default: the column named
    /// `label` when there is one, else the last column (of a manifest: the last that is neither
    /// the image nor the group column).
    pub label_column: Option<String>,
    /// CSV only: the column of image paths. Set, the CSV is a manifest (one image per row,
    /// [`DataFormat::Manifest`]); unset, a CSV holds feature rows.
    pub image_column: Option<String>,
    /// Manifests only: the folder the image paths are relative to. Default: the manifest's
    /// folder. Absolute paths stay as they are.
    pub image_root: Option<PathBuf>,
    /// Manifests only: what to append to an image name that is not found as written, e.g.
    /// `.jpg` for ISIC's `ISIC_2637011`. Default: each extension focal reads is tried (png,
    /// jpg, jpeg, bmp, tif, tiff, dcm, then the same in upper case).
    pub image_suffix: Option<String>,
    /// Manifests only: the column of each image's group (a patient id); the data set's splits
    /// then keep each group within one split ([`Dataset::groups`]).
    pub group_column: Option<String>,
    /// Image folders only: a CSV with the columns `path` (relative to the folder, e.g.
    /// `yes/img_001.png`) and `group`, giving each image's group as `group_column` does for
    /// manifests.
    pub groups_file: Option<PathBuf>,
    /// DICOM files: the window that maps values to grey levels. Default: the file's own
    /// window, else min-max.
    pub dicom_window: DicomWindow,
    /// DICOM files: the frame (0-based) read from multi-frame files. Default: multi-frame files
    /// are refused, naming their frame count.
    pub dicom_frame: Option<u32>,
    /// Resize every image to `(width, height)`: image folders while decoding, IDX and NPZ
    /// images after (bilinear in both). Default: see `default_image_size`; IDX and NPZ keep
    /// their size.
    pub image_size: Option<(u32, u32)>,
    /// Image folders without `image_size`: a folder whose images all share one size no larger
    /// than this (in either dimension) keeps it; any other folder (mixed sizes, or larger) is
    /// resized to this. `None`: the size of the first image (first class folder, first file by
    /// name), the rule before image sizes were recorded.
    pub default_image_size: Option<(u32, u32)>,
    /// Image folders only: `Some(true)` converts to greyscale, `Some(false)` to RGB. Default:
    /// greyscale when every image is greyscale, else RGB.
    pub grayscale: Option<bool>,
    /// Most bytes the decoded data may take as `f32`: checked against what each file declares
    /// before it is read (IDX, NPZ), before decoding (image folders), before resizing (IDX,
    /// NPZ), and while reading (CSV). `None`: a quarter of physical memory
    /// ([`memory::default_budget`](crate::memory::default_budget)).
    pub memory_budget: Option<u64>,
}

impl LoadOptions {
    /// The part of these options the image-folder loader reads.
    fn folder_options(&self) -> FolderOptions {
        FolderOptions {
            image_size: self.image_size,
            default_image_size: self.default_image_size,
            grayscale: self.grayscale,
            memory_budget: self.memory_budget,
            dicom: DicomOptions {
                window: self.dicom_window,
                frame: self.dicom_frame,
            },
        }
    }

    /// The manifest this CSV is read as, when the options name an image column.
    fn manifest_spec(&self, labels: bool) -> Option<ManifestSpec<'_>> {
        Some(ManifestSpec {
            image_column: self.image_column.as_deref()?,
            label: labels.then_some(self.label_column.as_deref()),
            group_column: self.group_column.as_deref(),
            image_root: self.image_root.as_deref(),
            image_suffix: self.image_suffix.as_deref(),
        })
    }

    /// Refuses the options that `stored` has no use for (a group column on an image folder,
    /// an image column on IDX files, ...), naming the setting and what takes it.
    fn check_applies(&self, path: &Path, stored: &Stored) -> Result<(), DataError> {
        let manifest = matches!(stored, Stored::Csv) && self.image_column.is_some();
        let refuse = |setting: DataSetting, value: String, takes: Message| {
            let mut reason = msg![format!("{} is {}; ", path.display(), stored.describe())];
            reason.0.extend(takes.0);
            Err(DataError::arg(setting, value, reason))
        };
        if !matches!(stored, Stored::Csv)
            && let Some(c) = &self.image_column
        {
            return refuse(
                DataSetting::ImageColumn,
                c.clone(),
                msg!["only a CSV manifest has an image column"],
            );
        }
        if !manifest {
            for (setting, v) in [
                (
                    DataSetting::ImageRoot,
                    self.image_root.as_ref().map(|p| p.display().to_string()),
                ),
                (DataSetting::ImageSuffix, self.image_suffix.clone()),
                (DataSetting::GroupColumn, self.group_column.clone()),
            ] {
                if let Some(v) = v {
                    return refuse(
                        setting,
                        v,
                        msg![
                            "it applies to a CSV manifest only (a CSV with an image column, ",
                            DataSetting::ImageColumn,
                            ")"
                        ],
                    );
                }
            }
        }
        if let Some(g) = &self.groups_file
            && !matches!(stored, Stored::ImageFolder)
        {
            return refuse(
                DataSetting::Groups,
                g.display().to_string(),
                if manifest {
                    msg![
                        "a manifest names its groups in a column: name it with ",
                        DataSetting::GroupColumn
                    ]
                } else {
                    msg!["a groups file (path,group) applies to image folders only"]
                },
            );
        }
        Ok(())
    }
}

/// Loads a data set, detecting its format from the path:
///
/// - a folder holding `train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]` and/or the
///   `t10k-` pair (MNIST, Fashion-MNIST): format [`DataFormat::Idx`], splits `train` and `test`;
/// - a single IDX images file (`...-images-idx3-ubyte[.gz]`) with its labels file beside it:
///   format [`DataFormat::Idx`], no splits;
/// - a `.npz` file (MedMNIST layout `train_images`, `train_labels`, `val_*`, `test_*`, or one
///   `images`/`labels` pair): format [`DataFormat::Npz`], the predefined splits kept;
/// - a folder of class folders `root/<class>/*.{png,jpg,jpeg,bmp,tif,tiff,dcm}` (and DICOM
///   files known by their contents): format [`DataFormat::ImageFolder`];
/// - a `.csv` file with a header and `opts.image_column` set: a manifest, one image path per
///   row, format [`DataFormat::Manifest`] (images decoded as image folders decode them; each
///   sample's [`id`](Dataset::ids) its path as written);
/// - any other `.csv` file with a header: format [`DataFormat::Csv`].
///
/// Images of more than 8 bits (16-bit PNG and TIFF, DICOM) are kept at 16 bits
/// ([`Values::Pixels16`](crate::Values::Pixels16)); DICOM files go through their modality
/// rescale and VOI window ([`DicomWindow`]). Groups (`opts.group_column` for manifests,
/// `opts.groups_file` for image folders) make every split of the data set a split by group.
///
/// Class names: IDX folders read `classes.txt` (one name per line) when present, else use the
/// Fashion-MNIST names when the folder's path contains "fashion", else the label indices; NPZ
/// files use MedMNIST's names for `pneumoniamnist` and `breastmnist`, else the label indices;
/// image folders use the folder names; CSV files and manifests the label values.
///
/// Files whose extension says nothing are recognised by their first bytes (zip, IDX magic).
/// Images are stored channel-first with values scaled to `[0, 1]`.
///
/// [`DataFormat::Idx`]: crate::DataFormat::Idx
/// [`DataFormat::Npz`]: crate::DataFormat::Npz
/// [`DataFormat::ImageFolder`]: crate::DataFormat::ImageFolder
/// [`DataFormat::Csv`]: crate::DataFormat::Csv
/// [`DataFormat::Manifest`]: crate::DataFormat::Manifest
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Dataset, DataError> {
    let ds = load_as_stored(path, opts)?;
    sized(path, ds, opts)
}

/// The bundled data set ([`crate::bundled`]) at `opts.image_size` (resized bilinear, as IDX
/// files are, after the memory check); its stored 28x28 without one.
pub fn load_bundled(opts: &LoadOptions) -> Result<Dataset, DataError> {
    sized(Path::new("<bundled>"), crate::bundled()?, opts)
}

/// `ds`, read from `path`, at `opts.image_size` (IDX, NPZ and the bundled set; image folders
/// were sized while decoding).
fn sized(path: &Path, ds: Dataset, opts: &LoadOptions) -> Result<Dataset, DataError> {
    match (opts.image_size, ds.kind) {
        (Some(size), SampleKind::Image { channels, .. })
            if ds.format != DataFormat::ImageFolder && ds.format != DataFormat::Manifest =>
        {
            folder::check_budget(
                path,
                ds.n_samples(),
                [channels, size.1 as usize, size.0 as usize],
                opts.memory_budget,
            )?;
            folder::resolve_size(&[], Some(size), None)?;
            Ok(resize::resize_images(ds, size))
        }
        (Some(size), SampleKind::Tabular { .. }) => Err(DataError::arg(
            DataSetting::ImageSize,
            format!("{}x{}", size.0, size.1),
            format!(
                "{} holds feature rows, not images; leave the image size out",
                path.display()
            ),
        )),
        _ => Ok(ds),
    }
}

/// What a data set holds, as [`probe`] reads it from headers alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// Feature rows (a CSV file, or an `.npz` whose arrays are not images).
    Table,
    /// Images of `width` x `height` (IDX and NPZ: the declared size; an image folder: the
    /// largest of the first image of each class folder).
    Images {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
}

/// Tells feature rows from images, and the images' size, reading headers only (the first
/// image of each class folder; an IDX or `.npy` header), e.g. to choose a model before
/// [`load`], which decodes image folders at the model's size. Formats are recognised as
/// [`load`] recognises them (one detection serves both); only headers are checked, so a file
/// the probe accepts may still be refused by [`load`].
pub fn probe(path: &Path) -> Result<Probe, DataError> {
    probe_with(path, &LoadOptions::default())
}

/// [`probe`] with the options [`load`] would be given: a CSV with `opts.image_column` is a
/// manifest, probed as images (the largest of the first image of each class, reading headers
/// only; every image path resolved); DICOM headers are read with `opts`' frame choice.
pub fn probe_with(path: &Path, opts: &LoadOptions) -> Result<Probe, DataError> {
    let images = |(width, height): (u32, u32)| Probe::Images { width, height };
    let unknown = |reason: &str| DataError::UnknownFormat {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let folder_opts = opts.folder_options();
    let stored = detect(path)?;
    opts.check_applies(path, &stored)?;
    match stored {
        Stored::Csv if opts.image_column.is_some() => {
            let spec = opts
                .manifest_spec(true)
                .ok_or_else(|| unknown("no image column"))?;
            let m = manifest::read(path, &spec)?;
            let mut first_of_class: Vec<(String, usize)> = Vec::new();
            for (i, r) in m.rows.iter().enumerate() {
                let label = r.label.clone().unwrap_or_default();
                if !first_of_class.iter().any(|(l, _)| *l == label) {
                    first_of_class.push((label, i));
                }
            }
            let mut largest = (0, 0);
            for (_, i) in first_of_class {
                let h = folder::probe(&m.rows[i].image, &folder_opts)
                    .map_err(|e| m.image_error(path, i, e))?;
                largest = (largest.0.max(h.width), largest.1.max(h.height));
            }
            Ok(images(largest))
        }
        Stored::IdxDir => match idx::images_file(path) {
            Some(f) => idx::image_size(&f).map(images),
            None => Err(unknown(
                "an IDX folder without an images file (train- or t10k-images-idx3-ubyte)",
            )),
        },
        Stored::ImageFolder => {
            let mut largest: Option<(u32, u32)> = None;
            for class in folder::class_dirs(path)? {
                if let Some(first) = folder::image_files(&class)?.first() {
                    let h = folder::probe(first, &folder_opts)?;
                    let (lw, lh) = largest.unwrap_or((0, 0));
                    largest = Some((lw.max(h.width), lh.max(h.height)));
                }
            }
            largest.map(images).ok_or_else(|| {
                unknown(
                    "a folder with no image (.png, .jpg, .jpeg, .bmp, .tif, .tiff, .dcm) in any \
                     class folder",
                )
            })
        }
        Stored::Npz => npz::image_size(path).map(|size| size.map_or(Probe::Table, images)),
        Stored::Csv => Ok(Probe::Table),
        Stored::IdxFile => idx::image_size(path).map(images),
    }
}

/// Refuses a pipe, socket or device: reading one could block forever or never end.
pub(crate) fn not_special(path: &Path, meta: &std::fs::Metadata) -> Result<(), DataError> {
    if meta.is_dir() || meta.is_file() {
        return Ok(());
    }
    Err(DataError::UnknownFormat {
        path: path.to_path_buf(),
        reason: "not a regular file or folder (a pipe, socket or device)".into(),
    })
}

/// How a data set is stored, as [`load`] and [`probe`] recognise it.
enum Stored {
    /// A folder of IDX files.
    IdxDir,
    /// A folder of class folders of images.
    ImageFolder,
    /// An `.npz` archive.
    Npz,
    /// A CSV file.
    Csv,
    /// A single IDX images file.
    IdxFile,
}

impl Stored {
    /// What the path holds, for messages.
    fn describe(&self) -> &'static str {
        match self {
            Stored::IdxDir => "a folder of IDX files",
            Stored::ImageFolder => "an image folder",
            Stored::Npz => "an .npz archive",
            Stored::Csv => "a CSV file",
            Stored::IdxFile => "an IDX file",
        }
    }
}

/// Recognises the format of `path`: by kind (folder), by extension, else by the first bytes.
fn detect(path: &Path) -> Result<Stored, DataError> {
    let meta = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
    not_special(path, &meta)?;
    if meta.is_dir() {
        return Ok(if idx::dir_has_idx(path) {
            Stored::IdxDir
        } else {
            Stored::ImageFolder
        });
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if name.ends_with(".npz") {
        return Ok(Stored::Npz);
    }
    if name.ends_with(".csv") {
        return Ok(Stored::Csv);
    }
    if name.contains("idx3-ubyte") {
        return Ok(Stored::IdxFile);
    }
    let mut head = [0u8; 4];
    let n = File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| DataError::io(path, e))?;
    match &head[..n] {
        [b'P', b'K', ..] => Ok(Stored::Npz),
        [0, 0, 8, 3] => Ok(Stored::IdxFile),
        _ => Err(DataError::UnknownFormat {
            path: path.to_path_buf(),
            reason: "a file that is neither .npz, .csv nor IDX".into(),
        }),
    }
}

fn load_as_stored(path: &Path, opts: &LoadOptions) -> Result<Dataset, DataError> {
    let stored = detect(path)?;
    opts.check_applies(path, &stored)?;
    if let (Stored::Csv, Some(spec)) = (&stored, opts.manifest_spec(true)) {
        return manifest::load(path, &spec, &opts.folder_options());
    }
    match stored {
        Stored::IdxDir => idx::load_dir(path, opts.memory_budget),
        Stored::ImageFolder => {
            folder::load_folder(path, &opts.folder_options(), opts.groups_file.as_deref())
        }
        Stored::Npz => npz::load_npz(path, opts.memory_budget),
        Stored::Csv => table::load_csv(path, opts.label_column.as_deref(), opts.memory_budget),
        Stored::IdxFile => idx::load_single(path, opts.memory_budget),
    }
}
