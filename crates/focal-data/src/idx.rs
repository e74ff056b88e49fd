//! IDX files (MNIST, Fashion-MNIST), raw or gzip-compressed.
//!
//! Format (big-endian): two zero bytes, a type byte (`0x08` = unsigned byte), the number of
//! dimensions, one `u32` per dimension, then the data. Images are `[N, H, W]` (magic `0x00000803`),
//! labels `[N]` (magic `0x00000801`).

use std::fs;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use crate::budget::Budget;
use crate::dataset::{DataFormat, Dataset, SampleKind, Splits};
use crate::error::DataError;

/// Largest data block an IDX header may declare (8 GiB), whatever the file holds.
const MAX_DECLARED_BYTES: u64 = 8 << 30;

/// An IDX array of unsigned bytes.
#[derive(Debug)]
pub(crate) struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Reads one IDX array of unsigned bytes from `bytes` (the file's content, gzip or raw).
///
/// `path` is only used in error messages. The data block is read only after its declared size
/// has been checked: against the memory budget (as the `f32` values it becomes), against the
/// file length for raw files, and by reading at most the declared size plus one byte for
/// compressed ones, so a hostile header cannot make us allocate more than the data actually
/// present, nor a gzip bomb more than the budget.
pub(crate) fn parse_idx(
    bytes: &[u8],
    path: &Path,
    expected_ndim: usize,
    budget: &mut Budget,
) -> Result<IdxArray, DataError> {
    if is_gzip(bytes) {
        let mut dec = flate2::read::GzDecoder::new(bytes);
        read_idx(&mut dec, None, path, expected_ndim, budget)
    } else {
        let mut r = bytes;
        read_idx(
            &mut r,
            Some(bytes.len() as u64),
            path,
            expected_ndim,
            budget,
        )
    }
}

fn is_gzip(head: &[u8]) -> bool {
    head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b
}

/// Reads an IDX file (gzip or raw) as [`parse_idx`] does, streaming: only the header is read
/// before the checks, never the whole file.
pub(crate) fn read_idx_file(
    path: &Path,
    expected_ndim: usize,
    budget: &mut Budget,
) -> Result<IdxArray, DataError> {
    let file = fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let len = file.metadata().map_err(|e| DataError::io(path, e))?.len();
    let mut r = std::io::BufReader::new(file);
    let head = r.fill_buf().map_err(|e| DataError::io(path, e))?;
    if is_gzip(head) {
        let mut dec = flate2::bufread::GzDecoder::new(r);
        read_idx(&mut dec, None, path, expected_ndim, budget)
    } else {
        read_idx(&mut r, Some(len), path, expected_ndim, budget)
    }
}

fn read_exact_or_corrupt(
    r: &mut dyn Read,
    buf: &mut [u8],
    path: &Path,
    entry: &str,
) -> Result<(), DataError> {
    r.read_exact(buf).map_err(|e| {
        DataError::corrupt(
            path,
            entry,
            format!("the file ends inside the header or is not valid gzip ({e})"),
        )
    })
}

fn read_idx(
    r: &mut dyn Read,
    raw_len: Option<u64>,
    path: &Path,
    expected_ndim: usize,
    budget: &mut Budget,
) -> Result<IdxArray, DataError> {
    let mut magic = [0u8; 4];
    read_exact_or_corrupt(r, &mut magic, path, "header (magic number)")?;
    let found = u32::from_be_bytes(magic);
    let expected_magic = 0x0800 | expected_ndim as u32;
    if found != expected_magic {
        let what = if expected_ndim == 1 {
            "0x00000801 (IDX labels, unsigned bytes)"
        } else {
            "0x00000803 (IDX images, unsigned bytes)"
        };
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            found,
            expected: what.to_string(),
        });
    }
    let mut dims = Vec::with_capacity(expected_ndim);
    let mut declared: u64 = 1;
    for d in 0..expected_ndim {
        let mut b = [0u8; 4];
        read_exact_or_corrupt(r, &mut b, path, &format!("header (dimension {d})"))?;
        let v = u32::from_be_bytes(b);
        declared = declared.saturating_mul(u64::from(v));
        dims.push(v as usize);
    }
    let header_len = 4 + 4 * expected_ndim as u64;
    if let Some(len) = raw_len {
        let actual = len.saturating_sub(header_len);
        if declared != actual {
            return Err(DataError::DeclaredSize {
                path: path.to_path_buf(),
                entry: format!("the header (dimensions {dims:?})"),
                declared,
                actual,
            });
        }
    }
    if declared > MAX_DECLARED_BYTES {
        return Err(DataError::DeclaredSize {
            path: path.to_path_buf(),
            entry: format!("the header (dimensions {dims:?}, over the 8 GiB limit)"),
            declared,
            actual: raw_len.map_or(0, |l| l.saturating_sub(header_len)),
        });
    }
    // Images become f32 values, labels usize ones.
    let per_value = if expected_ndim == 1 { 8 } else { 4 };
    budget.take(
        path,
        &format!("the header's dimensions {dims:?}"),
        declared.saturating_mul(per_value),
    )?;
    // Grows with the data actually present, never to the declared size up front.
    let mut data = Vec::new();
    r.take(declared.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| {
            DataError::corrupt(
                path,
                format!("data block (after {} bytes)", data.len()),
                format!("the gzip stream is truncated or corrupt ({e})"),
            )
        })?;
    if data.len() as u64 != declared {
        return Err(DataError::DeclaredSize {
            path: path.to_path_buf(),
            entry: format!("the header (dimensions {dims:?})"),
            declared,
            actual: data.len() as u64,
        });
    }
    Ok(IdxArray { dims, data })
}

/// Sample kind, flat pixel bytes (value `b / 255`) and labels of a loaded part.
pub(crate) type Samples = (SampleKind, Vec<u8>, Vec<usize>);

/// Images `[N, H, W]` and labels `[N]` as flat pixel bytes (values `b / 255` in `[0, 1]`) and
/// labels, checked to agree on `N`.
pub(crate) fn images_and_labels(
    images: IdxArray,
    images_name: &str,
    labels: IdxArray,
    labels_name: &str,
) -> Result<Samples, DataError> {
    let n = images.dims[0];
    if n == 0 {
        return Err(DataError::corrupt(
            images_name,
            "the header (dimension 0)",
            "the file holds no image",
        ));
    }
    if n != labels.dims[0] {
        return Err(DataError::CountMismatch {
            images: images_name.to_string(),
            n_images: n,
            labels: labels_name.to_string(),
            n_labels: labels.dims[0],
        });
    }
    let kind = SampleKind::Image {
        channels: 1,
        height: images.dims[1],
        width: images.dims[2],
    };
    let x = images.data;
    let y = labels.data.iter().map(|&v| usize::from(v)).collect();
    Ok((kind, x, y))
}

/// The Fashion-MNIST class names, by label.
pub const FASHION_MNIST_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// Finds `<prefix>-<kind>-idx<n>-ubyte[.gz]` (or with a dot before `idx`) in `dir`.
fn find_file(dir: &Path, prefix: &str, kind: &str, ndim: usize) -> Option<PathBuf> {
    for sep in ["-", "."] {
        for ext in ["", ".gz"] {
            let p = dir.join(format!("{prefix}-{kind}{sep}idx{ndim}-ubyte{ext}"));
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// The width and height declared by an IDX images file's header (gzip or raw), reading the
/// header alone.
pub(crate) fn image_size(path: &Path) -> Result<(u32, u32), DataError> {
    let file = fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut r = std::io::BufReader::new(file);
    let head = r.fill_buf().map_err(|e| DataError::io(path, e))?;
    let mut header = [0u8; 16];
    if is_gzip(head) {
        let mut dec = flate2::bufread::GzDecoder::new(r);
        read_exact_or_corrupt(&mut dec, &mut header, path, "header")?;
    } else {
        read_exact_or_corrupt(&mut r, &mut header, path, "header")?;
    }
    let word =
        |i: usize| u32::from_be_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    if word(0) != 0x0803 {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            found: word(0),
            expected: "0x00000803 (IDX images, unsigned bytes)".to_string(),
        });
    }
    Ok((word(12), word(8)))
}

/// The images file of an IDX folder (the training one when there is one).
pub(crate) fn images_file(dir: &Path) -> Option<PathBuf> {
    find_file(dir, "train", "images", 3).or_else(|| find_file(dir, "t10k", "images", 3))
}

/// Whether `dir` holds at least one of the standard IDX file names.
pub(crate) fn dir_has_idx(dir: &Path) -> bool {
    ["train", "t10k"].iter().any(|p| {
        find_file(dir, p, "images", 3).is_some() || find_file(dir, p, "labels", 1).is_some()
    })
}

/// Class names for IDX data: `classes.txt` in the folder (one per line) when present, the
/// Fashion-MNIST names when the folder's path mentions "fashion" and labels fit, else the label
/// indices as text.
fn class_names(dir: &Path, n_classes: usize) -> Result<Vec<String>, DataError> {
    let list = dir.join("classes.txt");
    if list.is_file() {
        let text = fs::read_to_string(&list).map_err(|e| DataError::io(&list, e))?;
        let names: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        if names.len() < n_classes {
            return Err(DataError::corrupt(
                &list,
                format!("line {}", names.len() + 1),
                format!(
                    "{} class names for labels up to {}; write one name per line",
                    names.len(),
                    n_classes - 1
                ),
            ));
        }
        return Ok(names);
    }
    let fashion = dir.to_string_lossy().to_lowercase().contains("fashion");
    if fashion && n_classes <= FASHION_MNIST_CLASSES.len() {
        return Ok(FASHION_MNIST_CLASSES
            .iter()
            .map(|s| s.to_string())
            .collect());
    }
    Ok((0..n_classes).map(|i| i.to_string()).collect())
}

/// Loads one pair of files; `None` when neither file is there.
fn load_pair(dir: &Path, prefix: &str, budget: &mut Budget) -> Result<Option<Samples>, DataError> {
    let images = find_file(dir, prefix, "images", 3);
    let labels = find_file(dir, prefix, "labels", 1);
    match (images, labels) {
        (None, None) => Ok(None),
        (Some(i), None) => Err(DataError::UnknownFormat {
            path: i,
            reason: format!("no matching {prefix}-labels-idx1-ubyte[.gz] beside it"),
        }),
        (None, Some(l)) => Err(DataError::UnknownFormat {
            path: l,
            reason: format!("no matching {prefix}-images-idx3-ubyte[.gz] beside it"),
        }),
        (Some(i), Some(l)) => {
            let im = read_idx_file(&i, 3, budget)?;
            let lb = read_idx_file(&l, 1, budget)?;
            Ok(Some(images_and_labels(
                im,
                &i.display().to_string(),
                lb,
                &l.display().to_string(),
            )?))
        }
    }
}

/// Loads a torchvision-style MNIST folder: `train-*` and/or `t10k-*` pairs, giving the train and
/// test splits (train samples first), both within `budget` bytes (`None`: the default budget).
pub(crate) fn load_dir(dir: &Path, budget: Option<u64>) -> Result<Dataset, DataError> {
    let mut budget = Budget::new(budget);
    let train = load_pair(dir, "train", &mut budget)?;
    let test = load_pair(dir, "t10k", &mut budget)?;
    let mut parts = Vec::new();
    let mut kind = None;
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let mut splits = Splits::default();
    for (name, part) in [("train", train), ("t10k", test)] {
        let Some((k, px, py)) = part else { continue };
        if let Some(prev) = kind
            && prev != k
        {
            return Err(DataError::invalid(format!(
                "{}: train images are {:?} but {name} images are {:?}",
                dir.display(),
                SampleKind::shape(&prev),
                k.shape()
            )));
        }
        kind = Some(k);
        let start = y.len();
        let idx: Vec<usize> = (start..start + py.len()).collect();
        if name == "train" {
            splits.train = idx;
        } else {
            splits.test = idx;
        }
        // The first part's values are moved, not copied: a copy would hold the training
        // images twice at the peak of loading.
        if x.is_empty() {
            x = px;
        } else {
            x.extend(px);
        }
        y.extend(py);
        parts.push(name);
    }
    let Some(kind) = kind else {
        return Err(DataError::UnknownFormat {
            path: dir.to_path_buf(),
            reason: "no train-/t10k- IDX files".into(),
        });
    };
    let n_classes = y.iter().copied().max().map_or(1, |m| m + 1);
    let names = class_names(dir, n_classes)?;
    Dataset::new(
        DataFormat::Idx,
        Some(dir.to_path_buf()),
        kind,
        x,
        y,
        names,
        Some(splits),
    )
}

/// Loads a single IDX images file and the labels file beside it (`images-idx3` replaced by
/// `labels-idx1` in the name); no predefined splits; within `budget` bytes (`None`: the default).
pub(crate) fn load_single(images_path: &Path, budget: Option<u64>) -> Result<Dataset, DataError> {
    let name = images_path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let labels_name = name
        .replace("images-idx3", "labels-idx1")
        .replace("images.idx3", "labels.idx1");
    if labels_name == name {
        return Err(DataError::UnknownFormat {
            path: images_path.to_path_buf(),
            reason:
                "an IDX file whose name does not contain `images-idx3`; pass the folder instead"
                    .into(),
        });
    }
    let labels_path = images_path.with_file_name(&labels_name);
    let mut budget = Budget::new(budget);
    let im = read_idx_file(images_path, 3, &mut budget)?;
    let lb = read_idx_file(&labels_path, 1, &mut budget)?;
    let (kind, x, y) = images_and_labels(
        im,
        &images_path.display().to_string(),
        lb,
        &labels_path.display().to_string(),
    )?;
    let n_classes = y.iter().copied().max().map_or(1, |m| m + 1);
    let dir = images_path.parent().unwrap_or(Path::new("."));
    let names = class_names(dir, n_classes)?;
    Dataset::new(
        DataFormat::Idx,
        Some(images_path.to_path_buf()),
        kind,
        x,
        y,
        names,
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx_bytes(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut v = magic.to_be_bytes().to_vec();
        for d in dims {
            v.extend(d.to_be_bytes());
        }
        v.extend(data);
        v
    }

    #[test]
    fn parses_a_raw_array() {
        let b = idx_bytes(0x803, &[2, 1, 2], &[0, 255, 51, 102]);
        let a = parse_idx(&b, Path::new("x"), 3, &mut Budget::new(None)).unwrap();
        assert_eq!(a.dims, vec![2, 1, 2]);
        assert_eq!(a.data, vec![0, 255, 51, 102]);
    }

    #[test]
    fn huge_declared_size_is_refused_before_allocating() {
        let b = idx_bytes(0x803, &[u32::MAX, u32::MAX, u32::MAX], &[1, 2, 3]);
        let err = parse_idx(&b, Path::new("x"), 3, &mut Budget::new(None)).unwrap_err();
        assert!(
            matches!(err, DataError::DeclaredSize { actual: 3, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_declared_size_above_the_budget_is_refused_before_reading() {
        // A gzip stream whose header declares 100 x 28 x 28 images: never decompressed past
        // the header once the budget says no.
        let b = idx_bytes(0x803, &[100, 28, 28], &[0; 100 * 28 * 28]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &b).unwrap();
        let gz = gz.finish().unwrap();
        let err = parse_idx(&gz, Path::new("x.gz"), 3, &mut Budget::new(Some(1000))).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::OverBudget {
                    needed: 313_600,
                    budget: 1000,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn wrong_magic_names_both_numbers() {
        let b = idx_bytes(0x801, &[1], &[0]);
        let err = parse_idx(&b, Path::new("imgs"), 3, &mut Budget::new(None)).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("0x00000801") && msg.contains("0x00000803"),
            "{msg}"
        );
    }
}
