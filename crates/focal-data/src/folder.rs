//! Image folders: `root/<class>/*.{png,jpg,jpeg,bmp}`.

use std::fs;
use std::path::{Path, PathBuf};

use image::DynamicImage;
use image::imageops::FilterType;

use crate::dataset::{DataFormat, Dataset, SampleKind};
use crate::error::DataError;

/// What the folder loader reads from the caller's options (`load` builds it from
/// [`LoadOptions`](crate::LoadOptions)); its own type so that this module does not depend on
/// `load`, which depends on it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FolderOptions {
    /// Resize every image to `(width, height)`; `None`: the size of the first image.
    pub(crate) image_size: Option<(u32, u32)>,
    /// `Some(true)` converts to greyscale, `Some(false)` to RGB; `None`: greyscale when every
    /// image is greyscale, else RGB.
    pub(crate) grayscale: Option<bool>,
}

const EXTENSIONS: [&str; 4] = ["png", "jpg", "jpeg", "bmp"];

fn is_image(p: &Path) -> bool {
    p.extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .is_some_and(|e| EXTENSIONS.contains(&e.as_str()))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let mut v = Vec::new();
    for e in fs::read_dir(dir).map_err(|e| DataError::io(dir, e))? {
        let e = e.map_err(|e| DataError::io(dir, e))?;
        let hidden = e.file_name().to_string_lossy().starts_with('.');
        if !hidden {
            v.push(e.path());
        }
    }
    v.sort();
    Ok(v)
}

/// The class folders of `root` (visible sub-folders, sorted by name).
pub(crate) fn class_dirs(root: &Path) -> Result<Vec<PathBuf>, DataError> {
    Ok(sorted_entries(root)?
        .into_iter()
        .filter(|p| p.is_dir())
        .collect())
}

/// Loads an image folder.
///
/// Classes are the sub-folders of `root`, sorted by name; label `i` is the `i`-th folder. Files
/// with other extensions are ignored; a class folder without any image is an error. Every image
/// is resized (bilinear) to `opts.image_size` (width, height) or, by default, to the size of the
/// first image (first class, first file in name order). With `opts.grayscale` unset, the set is
/// greyscale when every image is (PNG/JPEG/BMP colour type L or LA), else RGB; `Some(true)`
/// converts to greyscale (luma), `Some(false)` to RGB. No predefined splits.
pub(crate) fn load_folder(root: &Path, opts: &FolderOptions) -> Result<Dataset, DataError> {
    let dirs = class_dirs(root)?;
    if dirs.is_empty() {
        return Err(DataError::UnknownFormat {
            path: root.to_path_buf(),
            reason: "a folder with no class sub-folders and no IDX files".into(),
        });
    }
    let mut images: Vec<(DynamicImage, usize)> = Vec::new();
    let mut class_names = Vec::with_capacity(dirs.len());
    for (label, dir) in dirs.iter().enumerate() {
        let files: Vec<PathBuf> = sorted_entries(dir)?
            .into_iter()
            .filter(|p| p.is_file() && is_image(p))
            .collect();
        if files.is_empty() {
            return Err(DataError::EmptyClassFolder { path: dir.clone() });
        }
        for f in files {
            let img = image::ImageReader::open(&f)
                .map_err(|e| DataError::io(&f, e))?
                .with_guessed_format()
                .map_err(|e| DataError::io(&f, e))?
                .decode()
                .map_err(|e| DataError::UnreadableImage {
                    path: f.clone(),
                    reason: e.to_string(),
                })?;
            images.push((img, label));
        }
        class_names.push(
            dir.file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default(),
        );
    }
    let (width, height) = match opts.image_size {
        Some((w, h)) if w > 0 && h > 0 => (w, h),
        Some((w, h)) => {
            return Err(DataError::arg(
                "image size",
                format!("{w}x{h}"),
                "width and height must be positive",
            ));
        }
        None => (images[0].0.width(), images[0].0.height()),
    };
    let grayscale = opts
        .grayscale
        .unwrap_or_else(|| images.iter().all(|(i, _)| !i.color().has_color()));
    let channels = if grayscale { 1 } else { 3 };
    let plane = width as usize * height as usize;
    let mut x = Vec::with_capacity(images.len() * plane * channels);
    let mut y = Vec::with_capacity(images.len());
    for (img, label) in images {
        let img = if img.width() != width || img.height() != height {
            img.resize_exact(width, height, FilterType::Triangle)
        } else {
            img
        };
        if grayscale {
            x.extend(
                img.to_luma8()
                    .as_raw()
                    .iter()
                    .map(|&v| f32::from(v) / 255.0),
            );
        } else {
            let rgb = img.to_rgb8();
            let raw = rgb.as_raw();
            for c in 0..3 {
                x.extend((0..plane).map(|p| f32::from(raw[p * 3 + c]) / 255.0));
            }
        }
        y.push(label);
    }
    let kind = SampleKind::Image {
        channels,
        height: height as usize,
        width: width as usize,
    };
    Dataset::new(
        DataFormat::ImageFolder,
        Some(root.to_path_buf()),
        kind,
        x,
        y,
        class_names,
        None,
    )
}
