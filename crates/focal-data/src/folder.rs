//! Image folders: `root/<class>/*.{png,jpg,jpeg,bmp,tif,tiff,dcm}`, and the decoding of image
//! files every image source shares (folders, manifests, inputs to predict on).

use std::fs;
use std::path::{Path, PathBuf};

use image::DynamicImage;

use crate::dataset::{DataFormat, Dataset, SampleKind, Values};
use crate::dicom::{self, DicomOptions};
use crate::error::DataError;
use crate::memory;
use crate::pixels::decode_all;
use crate::setting::DataSetting;
use rayon::prelude::*;

/// What the folder loader reads from the caller's options (`load` builds it from
/// [`LoadOptions`](crate::LoadOptions)); its own type so that this module does not depend on
/// `load`, which depends on it. Manifests read their images with the same options.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
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
    /// How DICOM files are read.
    pub(crate) dicom: DicomOptions,
}

/// The extensions of the image files focal reads, in the order a manifest's name without an
/// extension tries them.
pub(crate) const EXTENSIONS: [&str; 7] = ["png", "jpg", "jpeg", "bmp", "tif", "tiff", "dcm"];

/// The extensions the `image` crate decodes (never DICOM, so never sniffed for it).
const RASTER: [&str; 6] = ["png", "jpg", "jpeg", "bmp", "tif", "tiff"];

fn extension(p: &Path) -> Option<String> {
    p.extension().map(|e| e.to_string_lossy().to_lowercase())
}

fn is_image(p: &Path) -> bool {
    extension(p).is_some_and(|e| EXTENSIONS.contains(&e.as_str()))
}

/// Whether `p` is read as DICOM: by its extension, or, for a name that is no raster image's,
/// by the `DICM` magic after the preamble.
fn is_dicom(p: &Path) -> bool {
    match extension(p) {
        Some(e) if RASTER.contains(&e.as_str()) => false,
        Some(e) if e == "dcm" || e == "dicom" => true,
        _ => dicom::has_dicm_magic(p),
    }
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

/// The first DICOM file of an image folder (class folders, files by name) or of a manifest's
/// images (`ids`, as a manifest names them, relative to `base`), for describing a data set.
pub fn first_dicom(path: &Path, ids: Option<&[String]>, base: Option<&Path>) -> Option<PathBuf> {
    let is_dicom = |p: &Path| {
        p.extension().is_some_and(|e| e.eq_ignore_ascii_case("dcm")) || dicom::has_dicm_magic(p)
    };
    if path.is_dir() {
        for class in class_dirs(path).ok()? {
            if let Some(f) = image_files(&class).ok()?.into_iter().find(|f| is_dicom(f)) {
                return Some(f);
            }
        }
        return None;
    }
    let base = base
        .map(Path::to_path_buf)
        .or_else(|| path.parent().map(Path::to_path_buf))?;
    ids?.iter().find_map(|id| {
        [id.clone(), format!("{id}.dcm")]
            .into_iter()
            .map(|c| base.join(c))
            .find(|p| p.is_file() && is_dicom(p))
    })
}

/// The class folders of `root` (visible sub-folders, sorted by name).
pub(crate) fn class_dirs(root: &Path) -> Result<Vec<PathBuf>, DataError> {
    Ok(sorted_entries(root)?
        .into_iter()
        .filter(|(_, m)| m.is_dir())
        .map(|(p, _)| p)
        .collect())
}

/// The image files of `dir` (by extension, or DICOM files by their contents; sorted by name;
/// hidden files and sub-folders skipped). An entry with an image extension that is not a
/// regular file (a pipe, a socket, a device: reading it could block forever) is an error.
pub(crate) fn image_files(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let mut files = Vec::new();
    for (p, meta) in sorted_entries(dir)? {
        if meta.is_dir() {
            continue;
        }
        if !is_image(&p) {
            // Only regular files are sniffed: opening a pipe could block.
            if meta.is_file() && dicom::has_dicm_magic(&p) {
                files.push(p);
            }
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

/// Whether `path` names an image file: by its extension (.png, .jpg, .jpeg, .bmp, .tif, .tiff,
/// .dcm), or a DICOM file by its contents.
pub(crate) fn is_image_file(path: &Path) -> bool {
    is_image(path) || (path.is_file() && dicom::has_dicm_magic(path))
}

pub(crate) use crate::pixels::max_alloc;

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

/// What an image file's header says: its size, whether it has colour, and whether it is kept
/// at 16 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// Width in pixels.
    pub(crate) width: u32,
    /// Height in pixels.
    pub(crate) height: u32,
    /// Whether the colour type has colour.
    pub(crate) color: bool,
    /// Whether the samples have more than 8 bits (kept as 16-bit values).
    pub(crate) deep: bool,
}

/// The [`Header`] of one image file, from its header alone (DICOM: refusing from the header
/// what decoding would refuse).
pub(crate) fn probe(path: &Path, opts: &FolderOptions) -> Result<Header, DataError> {
    use image::ImageDecoder;
    if is_dicom(path) {
        let (width, height, color, deep) =
            dicom::probe(path, &opts.dicom, max_alloc(opts.memory_budget))?;
        return Ok(Header {
            width,
            height,
            color,
            deep,
        });
    }
    let decoder = reader(path, opts.memory_budget)?
        .into_decoder()
        .map_err(|e| unreadable(path, e))?;
    let (width, height) = decoder.dimensions();
    let color = decoder.color_type();
    Ok(Header {
        width,
        height,
        color: color.has_color(),
        deep: u16::from(color.bytes_per_pixel()) > u16::from(color.channel_count()),
    })
}

/// Decodes one image file, the decoder's allocations limited (see [`max_alloc`]): DICOM
/// through [`dicom::decode`], everything else through the `image` crate.
pub(crate) fn decode(path: &Path, opts: &FolderOptions) -> Result<DynamicImage, DataError> {
    if is_dicom(path) {
        return dicom::decode(path, &opts.dicom, max_alloc(opts.memory_budget));
    }
    reader(path, opts.memory_budget)?
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

/// Decodes `files` into one set's values, as image folders and manifests load them: every
/// header read first (sizes, colour, bit depth; see [`resolve_size`]), the memory the decoded
/// set will take checked against the budget (an error naming `source`, before any decoding),
/// then the images decoded and resized as needed, in parallel. Greyscale when every image is (unless
/// `opts.grayscale` says otherwise), 16-bit when any image is. `context` turns an error about
/// file `i` into the caller's (a manifest names its line).
pub(crate) fn decode_set(
    source: &Path,
    files: &[PathBuf],
    opts: &FolderOptions,
    context: &(dyn Fn(usize, DataError) -> DataError + Sync),
) -> Result<(SampleKind, Values), DataError> {
    // Headers and images are read on rayon's pool (the threads `--threads` sets); the first
    // failing file in order is the one reported, as a sequential read would.
    let headers: Vec<Result<Header, DataError>> = files
        .par_iter()
        .enumerate()
        .map(|(i, f)| probe(f, opts).map_err(|e| context(i, e)))
        .collect();
    let mut sizes = Vec::with_capacity(files.len());
    let mut any_color = false;
    let mut deep = false;
    for h in headers {
        let h = h?;
        sizes.push((h.width, h.height));
        any_color |= h.color;
        deep |= h.deep;
    }
    let (width, height) = resolve_size(&sizes, opts.image_size, opts.default_image_size)?;
    let grayscale = opts.grayscale.unwrap_or(!any_color);
    let channels = if grayscale { 1 } else { 3 };
    let shape = [channels, height as usize, width as usize];
    check_budget(source, files.len(), shape, opts.memory_budget)?;
    let x = decode_all(files.len(), (width, height), grayscale, deep, &|i| {
        decode(&files[i], opts).map_err(|e| context(i, e))
    })?;
    let kind = SampleKind::Image {
        channels,
        height: height as usize,
        width: width as usize,
    };
    Ok((kind, x.into_values()))
}

/// Loads an image folder.
///
/// Classes are the sub-folders of `root`, sorted by name; label `i` is the `i`-th folder. Files
/// with other extensions are ignored (DICOM files are recognised by their contents too); a
/// class folder without any image is an error. The images are decoded by [`decode_set`]: the
/// size (see [`resolve_size`]), colour and bit depth decided from the files' headers first;
/// the memory the decoded set will take checked against the budget (an error naming both,
/// before any decoding); then the images decoded (in parallel) and resized (bilinear) as
/// needed. With `opts.grayscale` unset, the set is greyscale when every image is (colour type
/// L or LA, DICOM MONOCHROME), else RGB; `Some(true)` converts to greyscale (luma),
/// `Some(false)` to RGB. Kept as bytes, or as 16-bit values when any image has more than 8
/// bits. No predefined splits.
///
/// With `groups_file`, each image's group is read from it (see
/// [`folder_groups`](crate::groups::folder_groups)) before any image is decoded.
pub(crate) fn load_folder(
    root: &Path,
    opts: &FolderOptions,
    groups_file: Option<&Path>,
) -> Result<Dataset, DataError> {
    let (files, class_names) = folder_files(root)?;
    let paths: Vec<PathBuf> = files.iter().map(|(f, _)| f.clone()).collect();
    let groups = groups_file
        .map(|g| crate::groups::folder_groups(g, root, &paths))
        .transpose()?;
    let (kind, x) = decode_set(root, &paths, opts, &|_, e| e)?;
    let y = files.iter().map(|(_, label)| *label).collect();
    let ds = Dataset::new(
        DataFormat::ImageFolder,
        Some(root.to_path_buf()),
        kind,
        x,
        y,
        class_names,
        None,
    )?;
    match groups {
        Some(g) => ds.with_groups(g),
        None => Ok(ds),
    }
}

/// Image files of a folder, each with its label, and the class names.
pub(crate) type LabelledFiles = (Vec<(PathBuf, usize)>, Vec<String>);

/// The image files of a folder of class folders, each with its label, and the class names.
pub(crate) fn folder_files(root: &Path) -> Result<LabelledFiles, DataError> {
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
    Ok((files, class_names))
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
