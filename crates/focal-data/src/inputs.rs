//! New samples for a trained model: read from any path `focal` reads, or from image files with
//! no class folders, or a CSV without a label column, and brought to the shape the model
//! expects (images resized and converted as training did) or refused with the reason.

use std::path::{Path, PathBuf};

use crate::dataset::{Dataset, SampleKind};
use crate::dicom::{DicomOptions, DicomWindow};
use crate::error::DataError;
use crate::folder::FolderOptions;
use crate::load::{LoadOptions, load};
use crate::manifest::{self, ManifestSpec};
use crate::pixels::Pixels;
use crate::{folder, idx, table};

/// Options of [`load_inputs`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InputOptions {
    /// CSV only: the label column (when the file has one). Default: as [`load`] picks it. A
    /// manifest's labels are read when it has this column (or, unset, a `label` column), and
    /// it is read without labels when it has neither.
    pub label_column: Option<String>,
    /// Most bytes the decoded images may take; `None`: the default budget
    /// ([`crate::memory::default_budget`]).
    pub memory_budget: Option<u64>,
    /// CSV only: the column of image paths; set, the CSV is a manifest (see
    /// [`LoadOptions::image_column`]).
    pub image_column: Option<String>,
    /// Manifests: the folder image paths are relative to (see [`LoadOptions::image_root`]).
    pub image_root: Option<PathBuf>,
    /// Manifests: the suffix of names without one (see [`LoadOptions::image_suffix`]).
    pub image_suffix: Option<String>,
    /// DICOM files: the window (see [`LoadOptions::dicom_window`]); give the run's own.
    pub dicom_window: DicomWindow,
    /// DICOM files: the frame of multi-frame files (see [`LoadOptions::dicom_frame`]).
    pub dicom_frame: Option<u32>,
}

impl InputOptions {
    fn folder_options(&self) -> FolderOptions {
        FolderOptions {
            memory_budget: self.memory_budget,
            dicom: DicomOptions {
                window: self.dicom_window,
                frame: self.dicom_frame,
            },
            ..FolderOptions::default()
        }
    }
}

/// The labels of labelled inputs, in the source's own classes.
#[derive(Debug, Clone, PartialEq)]
pub struct InputLabels {
    /// One label per sample, indexing `class_names`.
    pub y: Vec<usize>,
    /// The source's class names.
    pub class_names: Vec<String>,
}

/// Samples to predict on.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// One identifier per sample: the file's path for images read one per file, else the
    /// sample's 0-based row number in the source.
    pub ids: Vec<String>,
    /// The samples, flat, `kind.len()` values each (images channel-first, values in `[0, 1]`).
    pub x: Vec<f32>,
    /// What one sample is: the kind the model expects.
    pub kind: SampleKind,
    /// The labels, when the source has them (class folders, IDX, NPZ, a CSV with a label
    /// column).
    pub labels: Option<InputLabels>,
}

impl Inputs {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there is no sample.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

fn kind_text(kind: SampleKind) -> String {
    match kind {
        SampleKind::Image {
            channels,
            height,
            width,
        } => format!(
            "{} images of {width}x{height} pixels ({channels}x{height}x{width})",
            if channels == 1 { "greyscale" } else { "RGB" }
        ),
        SampleKind::Tabular { n_features } => format!("rows of {n_features} features"),
    }
}

/// Reads the samples at `path` for a model that expects samples of `expected`:
///
/// - one image file (.png, .jpg, .jpeg, .bmp, .tif, .tiff, .dcm, or DICOM by its contents), or
///   a folder of image files with no class folders: each image resized (bilinear, as image
///   folders are loaded) to the expected size and converted to its channels; ids are the
///   files' paths; no labels. A colour image for a greyscale model is refused (an RGB file
///   whose three channels are equal counts as grey);
/// - a CSV manifest (`opts.image_column` set): its images read as image files are, ids the
///   manifest's image paths as written; labels when it has the label column;
/// - a CSV file: with exactly the expected number of columns, every column is a feature and
///   there are no labels; else it must hold the features and a label column (as [`load`] picks
///   it, or `opts.label_column`);
/// - anything else [`load`] reads (class folders, IDX, NPZ): images resized to the expected
///   size, greyscale expanded to RGB when the model expects three channels; its labels kept.
///
/// Samples of another kind (rows for an image model, images for a row model, a colour set for
/// a greyscale model, another feature count) are a [`DataError::ShapeMismatch`] naming the
/// file, what it holds and what is expected.
pub fn load_inputs(
    path: &Path,
    expected: SampleKind,
    opts: &InputOptions,
) -> Result<Inputs, DataError> {
    let meta = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
    crate::load::not_special(path, &meta)?;
    if meta.is_file() && folder::is_image_file(path) {
        return image_files(path, &[path.to_path_buf()], expected, opts);
    }
    let is_csv = path
        .extension()
        .is_some_and(|e| e.to_string_lossy().eq_ignore_ascii_case("csv"));
    if let (true, Some(column)) = (is_csv, opts.image_column.as_deref()) {
        return manifest_inputs(path, column, expected, opts);
    }
    if meta.is_dir() && !idx::dir_has_idx(path) && folder::class_dirs(path)?.is_empty() {
        let files = folder::image_files(path)?;
        if files.is_empty() {
            return Err(DataError::UnknownFormat {
                path: path.to_path_buf(),
                reason: "a folder with no image files, no class sub-folders and no IDX files"
                    .into(),
            });
        }
        return image_files(path, &files, expected, opts);
    }
    if is_csv {
        return csv_rows(path, expected, opts);
    }
    let size = match expected {
        SampleKind::Image { height, width, .. } => Some((width as u32, height as u32)),
        SampleKind::Tabular { .. } => None,
    };
    let load_opts = LoadOptions {
        label_column: opts.label_column.clone(),
        image_size: size,
        memory_budget: opts.memory_budget,
        dicom_window: opts.dicom_window,
        dicom_frame: opts.dicom_frame,
        ..LoadOptions::default()
    };
    labelled(path, load(path, &load_opts)?, expected)
}

fn mismatch(path: &Path, found: impl Into<String>, expected: SampleKind, fix: &str) -> DataError {
    DataError::ShapeMismatch {
        path: path.to_path_buf(),
        found: found.into(),
        expected: kind_text(expected),
        fix: fix.into(),
    }
}

/// A loaded data set brought to `expected`, its labels kept.
fn labelled(path: &Path, ds: Dataset, expected: SampleKind) -> Result<Inputs, DataError> {
    let x = match (ds.kind, expected) {
        (found, want) if found == want => ds.x.into_f32(),
        (
            SampleKind::Image {
                channels: 1,
                height,
                width,
            },
            SampleKind::Image {
                channels: 3,
                height: h,
                width: w,
            },
        ) if (height, width) == (h, w) => crate::dataset::grey_to_rgb(&ds.x.into_f32(), h * w),
        (found, SampleKind::Image { channels: 1, .. })
            if matches!(found, SampleKind::Image { .. }) =>
        {
            return Err(mismatch(
                path,
                kind_text(found),
                expected,
                "convert the images to greyscale",
            ));
        }
        (found, _) => {
            return Err(mismatch(
                path,
                kind_text(found),
                expected,
                "give the kind of data the run was trained on",
            ));
        }
    };
    Ok(Inputs {
        ids: ds
            .ids
            .clone()
            .unwrap_or_else(|| (0..ds.y.len()).map(|i| i.to_string()).collect()),
        x,
        kind: expected,
        labels: Some(InputLabels {
            y: ds.y,
            class_names: ds.class_names,
        }),
    })
}

/// A CSV: features only, or features and a label column.
fn csv_rows(path: &Path, expected: SampleKind, opts: &InputOptions) -> Result<Inputs, DataError> {
    let SampleKind::Tabular { n_features } = expected else {
        return Err(mismatch(
            path,
            "a CSV of feature rows",
            expected,
            "give image files, an image folder, IDX or NPZ",
        ));
    };
    let columns = table::csv_header(path)?.len();
    if columns == n_features && opts.label_column.is_none() {
        let ds = table::load_csv_features(path, opts.memory_budget)?;
        return Ok(Inputs {
            ids: (0..ds.y.len()).map(|i| i.to_string()).collect(),
            x: ds.x.into_f32(),
            kind: expected,
            labels: None,
        });
    }
    if columns != n_features + 1 {
        return Err(mismatch(
            path,
            format!("{columns} columns"),
            expected,
            &format!(
                "give {n_features} feature columns, optionally with the label column ({} columns)",
                n_features + 1
            ),
        ));
    }
    let ds = table::load_csv(path, opts.label_column.as_deref(), opts.memory_budget)?;
    labelled(path, ds, expected)
}

/// Whether every pixel of `img` has equal red, green and blue (a grey image stored as colour).
fn is_grey(img: &image::DynamicImage) -> bool {
    img.to_rgb8().pixels().all(|p| p[0] == p[1] && p[1] == p[2])
}

/// Image files, each resized and converted to `expected`; ids the files' paths.
fn image_files(
    path: &Path,
    files: &[PathBuf],
    expected: SampleKind,
    opts: &InputOptions,
) -> Result<Inputs, DataError> {
    let x = image_values(path, files, expected, opts, &|_, e| e)?;
    Ok(Inputs {
        ids: files.iter().map(|f| f.display().to_string()).collect(),
        x,
        kind: expected,
        labels: None,
    })
}

/// The values of image files, each resized and converted to `expected` (a colour image for a
/// greyscale model refused); `context` turns an error about file `i` into the caller's.
fn image_values(
    path: &Path,
    files: &[PathBuf],
    expected: SampleKind,
    opts: &InputOptions,
    context: &dyn Fn(usize, DataError) -> DataError,
) -> Result<Vec<f32>, DataError> {
    let SampleKind::Image {
        channels,
        height,
        width,
    } = expected
    else {
        return Err(mismatch(
            path,
            "images",
            expected,
            "give a CSV of feature rows",
        ));
    };
    folder::check_budget(
        path,
        files.len(),
        [channels, height, width],
        opts.memory_budget,
    )?;
    let grayscale = channels == 1;
    let folder_opts = opts.folder_options();
    let mut x = Vec::with_capacity(files.len() * expected.len());
    for (i, f) in files.iter().enumerate() {
        let img = folder::decode(f, &folder_opts).map_err(|e| context(i, e))?;
        if grayscale && img.color().has_color() && !is_grey(&img) {
            return Err(context(
                i,
                mismatch(f, "a colour image", expected, "convert it to greyscale"),
            ));
        }
        // Each image at its own depth: 16-bit values keep their precision as f32.
        let deep =
            u16::from(img.color().bytes_per_pixel()) > u16::from(img.color().channel_count());
        let mut px = Pixels::with_capacity(deep, expected.len());
        crate::pixels::push_values(img, (width as u32, height as u32), grayscale, &mut px);
        x.extend(px.into_values().into_f32());
    }
    Ok(x)
}

/// A manifest's images for a model that expects `expected`: ids its image cells, labels when
/// it has the label column.
fn manifest_inputs(
    path: &Path,
    image_column: &str,
    expected: SampleKind,
    opts: &InputOptions,
) -> Result<Inputs, DataError> {
    let headers = table::csv_header(path)?;
    let label = match opts.label_column.as_deref() {
        Some(l) if headers.iter().any(|h| h == l) => Some(l),
        None if headers.iter().any(|h| h == "label") => Some("label"),
        _ => None,
    };
    let spec = ManifestSpec {
        image_column,
        label: label.map(Some),
        group_column: None,
        image_root: opts.image_root.as_deref(),
        image_suffix: opts.image_suffix.as_deref(),
    };
    let m = manifest::read(path, &spec)?;
    let files: Vec<PathBuf> = m.rows.iter().map(|r| r.image.clone()).collect();
    let x = image_values(path, &files, expected, opts, &|i, e| {
        m.image_error(path, i, e)
    })?;
    let labels = m.label_column.as_ref().map(|_| {
        let text: Vec<String> = m
            .rows
            .iter()
            .map(|r| r.label.clone().unwrap_or_default())
            .collect();
        let (class_names, y) = table::classes_of(&text);
        InputLabels { y, class_names }
    });
    Ok(Inputs {
        ids: m.rows.iter().map(|r| r.id.clone()).collect(),
        x,
        kind: expected,
        labels,
    })
}
