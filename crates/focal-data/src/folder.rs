//! Image folders: `root/<class>/*.{png,jpg,jpeg,bmp}`.

use std::fs;
use std::path::{Path, PathBuf};

use image::DynamicImage;
use image::imageops::FilterType;

use crate::dataset::{DataFormat, Dataset, SampleKind};
use crate::error::DataError;
use crate::memory;
use crate::setting::DataSetting;

/// What the folder loader reads from the caller's options (`load` builds it from
/// [`LoadOptions`](crate::LoadOptions)); its own type so that this module does not depend on
/// `load`, which depends on it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FolderOptions {
    /// Resize every image to `(width, height)`; `None`: see `default_image_size`.
    pub(crate) image_size: Option<(u32, u32)>,
    /// With no `image_size`: images that all share one size within this one keep it, any other
    /// folder is resized to it; `None`: the size of the first image.
    pub(crate) default_image_size: Option<(u32, u32)>,
    /// `Some(true)` converts to greyscale, `Some(false)` to RGB; `None`: greyscale when every
    /// image is greyscale, else RGB.
    pub(crate) grayscale: Option<bool>,
    /// Most bytes the decoded set may take; `None`: [`crate::memory::default_budget`].
    pub(crate) memory_budget: Option<u64>,
}

const EXTENSIONS: [&str; 4] = ["png", "jpg", "jpeg", "bmp"];

fn is_image(p: &Path) -> bool {
    p.extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .is_some_and(|e| EXTENSIONS.contains(&e.as_str()))
}

/// The visible entries of `dir`, sorted by name, each with its metadata (symbolic links
/// followed). An entry that cannot be followed (a dangling link, a link loop) is an error naming
/// it, never skipped in silence.
fn sorted_entries(dir: &Path) -> Result<Vec<(PathBuf, fs::Metadata)>, DataError> {
    let mut v = Vec::new();
    for e in fs::read_dir(dir).map_err(|e| DataError::io(dir, e))? {
        let e = e.map_err(|e| DataError::io(dir, e))?;
        let hidden = e.file_name().to_string_lossy().starts_with('.');
        if !hidden {
            let path = e.path();
            let meta = fs::metadata(&path).map_err(|err| DataError::io(&path, err))?;
            v.push((path, meta));
        }
    }
    v.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(v)
}

/// The class folders of `root` (visible sub-folders, sorted by name).
pub(crate) fn class_dirs(root: &Path) -> Result<Vec<PathBuf>, DataError> {
    Ok(sorted_entries(root)?
        .into_iter()
        .filter(|(_, m)| m.is_dir())
        .map(|(p, _)| p)
        .collect())
}

/// The image files of `dir` (by extension, sorted by name; hidden files and sub-folders
/// skipped). An entry with an image extension that is not a regular file (a pipe, a socket, a
/// device: reading it could block forever) is an error.
pub(crate) fn image_files(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let mut files = Vec::new();
    for (p, meta) in sorted_entries(dir)? {
        if meta.is_dir() || !is_image(&p) {
            continue;
        }
        if !meta.is_file() {
            return Err(DataError::UnreadableImage {
                path: p,
                reason: "not a regular file (a pipe, socket or device)".into(),
            });
        }
        files.push(p);
    }
    Ok(files)
}

/// Whether `path` names an image file by its extension (.png, .jpg, .jpeg, .bmp).
pub(crate) fn is_image_file(path: &Path) -> bool {
    is_image(path)
}

/// The most a decoder may allocate for one image: the `image` crate's default (512 MiB), or
/// the memory budget when that is smaller.
fn max_alloc(budget: Option<u64>) -> u64 {
    const IMAGE_DEFAULT: u64 = 512 << 20;
    memory::resolve(budget).map_or(IMAGE_DEFAULT, |b| b.min(IMAGE_DEFAULT))
}

fn reader(
    path: &Path,
    budget: Option<u64>,
) -> Result<image::ImageReader<std::io::BufReader<fs::File>>, DataError> {
    let mut reader = image::ImageReader::open(path)
        .map_err(|e| DataError::io(path, e))?
        .with_guessed_format()
        .map_err(|e| DataError::io(path, e))?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(max_alloc(budget));
    reader.limits(limits);
    Ok(reader)
}

fn unreadable(path: &Path, e: image::ImageError) -> DataError {
    DataError::UnreadableImage {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Width, height and whether the colour type has colour, from the file's header alone.
pub(crate) fn probe(path: &Path, budget: Option<u64>) -> Result<(u32, u32, bool), DataError> {
    use image::ImageDecoder;
    let decoder = reader(path, budget)?
        .into_decoder()
        .map_err(|e| unreadable(path, e))?;
    let (w, h) = decoder.dimensions();
    Ok((w, h, decoder.color_type().has_color()))
}

/// Decodes one image file, the decoder's allocations limited (see [`max_alloc`]).
pub(crate) fn decode(path: &Path, budget: Option<u64>) -> Result<DynamicImage, DataError> {
    reader(path, budget)?
        .decode()
        .map_err(|e| unreadable(path, e))
}

/// The size every image is loaded at: `explicit` when given; else, with a `default`, the size
/// all images share when they share one no larger than `default` in either dimension, and
/// `default` otherwise (mixed sizes, or larger ones); with neither, the first image's size.
pub(crate) fn resolve_size(
    sizes: &[(u32, u32)],
    explicit: Option<(u32, u32)>,
    default: Option<(u32, u32)>,
) -> Result<(u32, u32), DataError> {
    let check = |(w, h): (u32, u32)| {
        if w > 0 && h > 0 {
            Ok((w, h))
        } else {
            Err(DataError::arg(
                DataSetting::ImageSize,
                format!("{w}x{h}"),
                "width and height must be positive",
            ))
        }
    };
    if let Some(size) = explicit {
        return check(size);
    }
    let first = sizes.first().copied().unwrap_or((1, 1));
    match default {
        None => Ok(first),
        Some(d) => {
            let d = check(d)?;
            let shared = sizes.iter().all(|&s| s == first);
            Ok(if shared && first.0 <= d.0 && first.1 <= d.1 {
                first
            } else {
                d
            })
        }
    }
}

/// Fails when `n` samples of `shape` (`[C, H, W]`) would take more than `budget` bytes as
/// `f32` (`None`: the default budget, a share of physical memory).
pub(crate) fn check_budget(
    path: &Path,
    n: usize,
    shape: [usize; 3],
    budget: Option<u64>,
) -> Result<(), DataError> {
    let needed = memory::f32_bytes(n, shape.iter().product());
    match budget.or_else(memory::default_budget) {
        Some(budget) if needed > budget => Err(DataError::too_large(
            path,
            n,
            shape.to_vec(),
            needed,
            budget,
        )),
        _ => Ok(()),
    }
}

/// Appends `img`, resized (bilinear, the `image` crate's `Triangle` filter) to `size` when it
/// has another size, as channel-first pixel bytes (values `b / 255` in `[0, 1]`): one luma
/// plane, or three RGB planes.
pub(crate) fn push_values(img: DynamicImage, size: (u32, u32), grayscale: bool, x: &mut Vec<u8>) {
    let (width, height) = size;
    let img = if img.width() != width || img.height() != height {
        img.resize_exact(width, height, FilterType::Triangle)
    } else {
        img
    };
    if grayscale {
        x.extend_from_slice(img.to_luma8().as_raw());
    } else {
        let plane = width as usize * height as usize;
        let rgb = img.to_rgb8();
        let raw = rgb.as_raw();
        for c in 0..3 {
            x.extend((0..plane).map(|p| raw[p * 3 + c]));
        }
    }
}

/// Loads an image folder.
///
/// Classes are the sub-folders of `root`, sorted by name; label `i` is the `i`-th folder. Files
/// with other extensions are ignored; a class folder without any image is an error. The size
/// (see [`resolve_size`]) and colour are decided from the files' headers first; the memory the
/// decoded set will take is checked against the budget (an error naming both, before any
/// decoding); then the images are decoded one at a time and resized (bilinear) as needed.
/// With `opts.grayscale` unset, the set is greyscale when every image is (colour type L or
/// LA), else RGB; `Some(true)` converts to greyscale (luma), `Some(false)` to RGB. No
/// predefined splits.
pub(crate) fn load_folder(root: &Path, opts: &FolderOptions) -> Result<Dataset, DataError> {
    let dirs = class_dirs(root)?;
    if dirs.is_empty() {
        return Err(DataError::UnknownFormat {
            path: root.to_path_buf(),
            reason: "a folder with no class sub-folders and no IDX files".into(),
        });
    }
    let mut files: Vec<(PathBuf, usize)> = Vec::new();
    let mut class_names = Vec::with_capacity(dirs.len());
    for (label, dir) in dirs.iter().enumerate() {
        let in_class = image_files(dir)?;
        if in_class.is_empty() {
            return Err(DataError::EmptyClassFolder { path: dir.clone() });
        }
        files.extend(in_class.into_iter().map(|f| (f, label)));
        class_names.push(
            dir.file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default(),
        );
    }
    let mut sizes = Vec::with_capacity(files.len());
    let mut any_color = false;
    for (f, _) in &files {
        let (w, h, color) = probe(f, opts.memory_budget)?;
        sizes.push((w, h));
        any_color |= color;
    }
    let (width, height) = resolve_size(&sizes, opts.image_size, opts.default_image_size)?;
    let grayscale = opts.grayscale.unwrap_or(!any_color);
    let channels = if grayscale { 1 } else { 3 };
    let shape = [channels, height as usize, width as usize];
    check_budget(root, files.len(), shape, opts.memory_budget)?;
    let mut x = Vec::with_capacity(files.len() * shape.iter().product::<usize>());
    let mut y = Vec::with_capacity(files.len());
    for (f, label) in &files {
        push_values(
            decode(f, opts.memory_budget)?,
            (width, height),
            grayscale,
            &mut x,
        );
        y.push(*label);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_size_rule() {
        let d = Some((64, 64));
        // Explicit wins; shared sizes within the default stay; larger or mixed ones take it.
        assert_eq!(resolve_size(&[(10, 10)], Some((5, 7)), d).unwrap(), (5, 7));
        assert_eq!(
            resolve_size(&[(28, 28), (28, 28)], None, d).unwrap(),
            (28, 28)
        );
        assert_eq!(
            resolve_size(&[(28, 28), (30, 28)], None, d).unwrap(),
            (64, 64)
        );
        assert_eq!(resolve_size(&[(630, 630)], None, d).unwrap(), (64, 64));
        assert_eq!(resolve_size(&[(64, 80)], None, d).unwrap(), (64, 64));
        assert_eq!(resolve_size(&[(9, 4), (3, 3)], None, None).unwrap(), (9, 4));
        assert!(resolve_size(&[(9, 4)], Some((0, 3)), d).is_err());
    }
}
