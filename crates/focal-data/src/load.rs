//! Format detection and the one entry point, [`load`].

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::dataset::{DataFormat, Dataset, SampleKind};
use crate::error::DataError;
use crate::folder::FolderOptions;
use crate::setting::DataSetting;
use crate::{folder, idx, npz, resize, table};

/// Options for [`load`]; every field is optional and `Default` picks the documented default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadOptions {
    /// CSV only: the label column. Default: the column named `label` when there is one, else
    /// the last column.
    pub label_column: Option<String>,
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
        }
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
/// - a folder of class folders `root/<class>/*.{png,jpg,jpeg,bmp}`: format
///   [`DataFormat::ImageFolder`];
/// - a `.csv` file with a header: format [`DataFormat::Csv`].
///
/// Class names: IDX folders read `classes.txt` (one name per line) when present, else use the
/// Fashion-MNIST names when the folder's path contains "fashion", else the label indices; NPZ
/// files use MedMNIST's names for `pneumoniamnist` and `breastmnist`, else the label indices;
/// image folders use the folder names; CSV files the label values.
///
/// Files whose extension says nothing are recognised by their first bytes (zip, IDX magic).
/// Images are stored channel-first with values scaled to `[0, 1]`.
///
/// [`DataFormat::Idx`]: crate::DataFormat::Idx
/// [`DataFormat::Npz`]: crate::DataFormat::Npz
/// [`DataFormat::ImageFolder`]: crate::DataFormat::ImageFolder
/// [`DataFormat::Csv`]: crate::DataFormat::Csv
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
            if ds.format != DataFormat::ImageFolder =>
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
    let images = |(width, height): (u32, u32)| Probe::Images { width, height };
    let unknown = |reason: &str| DataError::UnknownFormat {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    match detect(path)? {
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
                    let (w, h, _) = folder::probe(first, None)?;
                    let (lw, lh) = largest.unwrap_or((0, 0));
                    largest = Some((lw.max(w), lh.max(h)));
                }
            }
            largest.map(images).ok_or_else(|| {
                unknown("a folder with no image (.png, .jpg, .jpeg, .bmp) in any class folder")
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
    match detect(path)? {
        Stored::IdxDir => idx::load_dir(path, opts.memory_budget),
        Stored::ImageFolder => folder::load_folder(path, &opts.folder_options()),
        Stored::Npz => npz::load_npz(path, opts.memory_budget),
        Stored::Csv => table::load_csv(path, opts.label_column.as_deref(), opts.memory_budget),
        Stored::IdxFile => idx::load_single(path, opts.memory_budget),
    }
}
