//! NPZ archives in the MedMNIST layout (`train_images`, `train_labels`, `val_*`, `test_*`), or
//! with a single `images`/`labels` (or `x`/`y`) pair.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::budget::Budget;
use crate::dataset::{DataFormat, Dataset, SampleKind, Splits};
use crate::error::DataError;

/// Largest array an `.npy` header may declare (8 GiB), whatever the archive holds.
const MAX_DECLARED_BYTES: u64 = 8 << 30;

/// Largest `.npy` header read (numpy writes a few hundred bytes).
const MAX_HEADER_BYTES: u64 = 1 << 20;

/// Largest label value read: more classes than this means the labels are not class indices.
pub(crate) const MAX_LABEL: i64 = 100_000;

/// The element type of an `.npy` array this loader reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dtype {
    /// Unsigned or signed integer of `size` bytes.
    Int {
        signed: bool,
        size: usize,
        big_endian: bool,
    },
}

/// A parsed `.npy` header.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NpyHeader {
    dtype: Dtype,
    shape: Vec<usize>,
}

/// Parses the header dict `{'descr': '|u1', 'fortran_order': False, 'shape': (3, 28, 28), }`.
fn parse_header_dict(text: &str) -> Result<NpyHeader, String> {
    let field = |key: &str| -> Result<&str, String> {
        let pat = format!("'{key}':");
        let at = text
            .find(&pat)
            .ok_or_else(|| format!("the header has no `{key}`"))?;
        Ok(text[at + pat.len()..].trim_start())
    };
    let descr_rest = field("descr")?;
    let descr = descr_rest
        .strip_prefix('\'')
        .and_then(|r| r.split('\'').next())
        .ok_or("`descr` is not a quoted string")?;
    let fortran = field("fortran_order")?.starts_with("True");
    let shape_rest = field("shape")?;
    let inner = shape_rest
        .strip_prefix('(')
        .and_then(|r| r.split(')').next())
        .ok_or("`shape` is not a tuple")?;
    let mut shape = Vec::new();
    for part in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let part = part.trim_end_matches('L');
        shape.push(
            part.parse::<usize>()
                .map_err(|_| format!("shape entry `{part}` is not a size"))?,
        );
    }
    if fortran && shape.iter().filter(|&&d| d > 1).count() > 1 {
        return Err(
            "Fortran-ordered arrays are not supported; save with np.ascontiguousarray".into(),
        );
    }
    let mut chars = descr.chars();
    let order = chars.next().ok_or("empty `descr`")?;
    let kind = chars.next().ok_or("`descr` too short")?;
    let size: usize = chars
        .as_str()
        .parse()
        .map_err(|_| format!("unsupported dtype `{descr}`"))?;
    let big_endian = order == '>';
    let dtype = match (kind, size) {
        ('u', 1 | 2 | 4 | 8) => Dtype::Int {
            signed: false,
            size,
            big_endian,
        },
        ('i', 1 | 2 | 4 | 8) => Dtype::Int {
            signed: true,
            size,
            big_endian,
        },
        ('b', 1) => Dtype::Int {
            signed: false,
            size: 1,
            big_endian,
        },
        _ => {
            return Err(format!(
                "unsupported dtype `{descr}`; images must be uint8 and labels an integer type"
            ));
        }
    };
    Ok(NpyHeader { dtype, shape })
}

/// Reads one `.npy` entry of the archive, checking the declared size against the entry's size
/// and the memory budget (`per_value` bytes per element once decoded) before reading the data.
fn read_entry(
    archive: &mut zip::ZipArchive<File>,
    path: &Path,
    name: &str,
    per_value: u64,
    budget: &mut Budget,
) -> Result<(NpyHeader, Vec<u8>), DataError> {
    let entry_name = format!("{name}.npy");
    let mut f = archive
        .by_name(&entry_name)
        .map_err(|e| DataError::corrupt(path, format!("entry `{entry_name}`"), e.to_string()))?;
    let entry_size = f.size();
    let (parsed, prefix_len, header_len) = read_header(&mut f, entry_size, path, &entry_name)?;
    let corrupt =
        |reason: String| DataError::corrupt(path, format!("entry `{entry_name}`"), reason);
    let Dtype::Int { size, .. } = parsed.dtype;
    let declared = parsed
        .shape
        .iter()
        .try_fold(size as u64, |acc, &d| acc.checked_mul(d as u64))
        .unwrap_or(u64::MAX);
    let actual = entry_size - prefix_len - header_len;
    if declared != actual || declared > MAX_DECLARED_BYTES {
        return Err(DataError::DeclaredSize {
            path: path.to_path_buf(),
            entry: format!("entry `{entry_name}` (shape {:?})", parsed.shape),
            declared,
            actual,
        });
    }
    let elements = declared / size as u64;
    budget.take(
        path,
        &format!("entry `{entry_name}` (shape {:?})", parsed.shape),
        elements.saturating_mul(per_value),
    )?;
    let mut data = Vec::new();
    (&mut f)
        .take(declared)
        .read_to_end(&mut data)
        .map_err(|e| corrupt(format!("cannot decompress the data ({e})")))?;
    if data.len() as u64 != declared {
        return Err(DataError::DeclaredSize {
            path: path.to_path_buf(),
            entry: format!("entry `{entry_name}` (shape {:?})", parsed.shape),
            declared,
            actual: data.len() as u64,
        });
    }
    Ok((parsed, data))
}

/// Reads the `.npy` header of an archive entry of `entry_size` bytes: the parsed header, and
/// the lengths of the prefix (magic, version, length) and of the header text.
fn read_header(
    f: &mut impl Read,
    entry_size: u64,
    path: &Path,
    entry_name: &str,
) -> Result<(NpyHeader, u64, u64), DataError> {
    let corrupt =
        |reason: String| DataError::corrupt(path, format!("entry `{entry_name}`"), reason);
    let mut pre = [0u8; 10];
    f.read_exact(&mut pre)
        .map_err(|e| corrupt(format!("too short for an .npy header ({e})")))?;
    if &pre[..6] != b"\x93NUMPY" {
        return Err(corrupt("not an .npy array (no \\x93NUMPY magic)".into()));
    }
    let (header_len, prefix_len) = match pre[6] {
        1 => (u64::from(u16::from_le_bytes([pre[8], pre[9]])), 10u64),
        2 | 3 => {
            let mut more = [0u8; 2];
            f.read_exact(&mut more)
                .map_err(|e| corrupt(format!("truncated .npy header ({e})")))?;
            (
                u64::from(u32::from_le_bytes([pre[8], pre[9], more[0], more[1]])),
                12u64,
            )
        }
        v => return Err(corrupt(format!("unsupported .npy version {v}"))),
    };
    if header_len > MAX_HEADER_BYTES {
        return Err(corrupt(format!(
            "the .npy header declares {header_len} bytes; numpy writes a few hundred"
        )));
    }
    if prefix_len + header_len > entry_size {
        return Err(DataError::DeclaredSize {
            path: path.to_path_buf(),
            entry: format!("entry `{entry_name}` header"),
            declared: header_len,
            actual: entry_size.saturating_sub(prefix_len),
        });
    }
    let mut header = vec![0u8; header_len as usize];
    f.read_exact(&mut header)
        .map_err(|e| corrupt(format!("truncated .npy header ({e})")))?;
    let text = String::from_utf8_lossy(&header);
    let parsed = parse_header_dict(&text).map_err(corrupt)?;
    Ok((parsed, prefix_len, header_len))
}

/// The width and height of the images of an `.npz` (read from the first image entry's header
/// alone), or `None` when its arrays are not images.
pub(crate) fn image_size(path: &Path) -> Result<Option<(u32, u32)>, DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| {
        DataError::corrupt(path, "zip directory", format!("not a valid .npz ({e})"))
    })?;
    let Some(name) = ["train_images", "images", "x"]
        .into_iter()
        .map(|n| format!("{n}.npy"))
        .find(|n| archive.file_names().any(|e| e == n))
    else {
        return Ok(None);
    };
    let mut f = archive
        .by_name(&name)
        .map_err(|e| DataError::corrupt(path, format!("entry `{name}`"), e.to_string()))?;
    let entry_size = f.size();
    let (header, ..) = read_header(&mut f, entry_size, path, &name)?;
    let dim = |d: usize| u32::try_from(d).unwrap_or(u32::MAX);
    Ok(match header.shape.as_slice() {
        [_, h, w] | [_, h, w, 1 | 3] => Some((dim(*w), dim(*h))),
        _ => None,
    })
}

/// Integer values of an array, widened to `i64`.
fn ints(h: &NpyHeader, data: &[u8]) -> Vec<i64> {
    let Dtype::Int {
        signed,
        size,
        big_endian,
    } = h.dtype;
    data.chunks_exact(size)
        .map(|c| {
            let mut b = [0u8; 8];
            if big_endian {
                b[8 - size..].copy_from_slice(c);
                b.reverse();
            } else {
                b[..size].copy_from_slice(c);
            }
            let raw = u64::from_le_bytes(b);
            if signed {
                let shift = 64 - 8 * size as u32;
                ((raw << shift) as i64) >> shift
            } else {
                raw as i64
            }
        })
        .collect()
}

/// One images/labels pair read from the archive.
fn read_pair(
    archive: &mut zip::ZipArchive<File>,
    path: &Path,
    images: &str,
    labels: &str,
    budget: &mut Budget,
) -> Result<(SampleKind, Vec<u8>, Vec<usize>), DataError> {
    let (ih, idata) = read_entry(archive, path, images, 4, budget)?;
    let (lh, ldata) = read_entry(archive, path, labels, 8, budget)?;
    let entry = |n: &str| format!("{}:{n}.npy", path.display());
    if ih.dtype
        != (Dtype::Int {
            signed: false,
            size: 1,
            big_endian: false,
        })
    {
        return Err(DataError::corrupt(
            path,
            format!("entry `{images}.npy`"),
            "images must be uint8 (|u1)",
        ));
    }
    let kind = match ih.shape.as_slice() {
        [_, h, w] => SampleKind::Image {
            channels: 1,
            height: *h,
            width: *w,
        },
        [_, h, w, c @ (1 | 3)] => SampleKind::Image {
            channels: *c,
            height: *h,
            width: *w,
        },
        s => {
            return Err(DataError::corrupt(
                path,
                format!("entry `{images}.npy`"),
                format!("images of shape {s:?}; expected (N, H, W) or (N, H, W, 3)"),
            ));
        }
    };
    // With no image the data size is 0 whatever the other dimensions: check them apart.
    let per_image = ih.shape[1..]
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64));
    if !per_image.is_some_and(|p| p > 0 && p <= MAX_DECLARED_BYTES) {
        return Err(DataError::corrupt(
            path,
            format!("entry `{images}.npy`"),
            format!(
                "images of shape {:?}: each image must hold between 1 and 2^33 values",
                ih.shape
            ),
        ));
    }
    let n = ih.shape[0];
    let n_labels = match lh.shape.as_slice() {
        [n] | [n, 1] => *n,
        s => {
            return Err(DataError::corrupt(
                path,
                format!("entry `{labels}.npy`"),
                format!("labels of shape {s:?}; expected (N,) or (N, 1)"),
            ));
        }
    };
    if n != n_labels {
        return Err(DataError::CountMismatch {
            images: entry(images),
            n_images: n,
            labels: entry(labels),
            n_labels,
        });
    }
    let mut y = Vec::with_capacity(n);
    for (i, v) in ints(&lh, &ldata).into_iter().enumerate() {
        if v > MAX_LABEL {
            return Err(DataError::corrupt(
                path,
                format!("entry `{labels}.npy`, element {i}"),
                format!(
                    "label {v}; labels must be class indices 0..n_classes, at most {MAX_LABEL}"
                ),
            ));
        }
        let label = usize::try_from(v).map_err(|_| {
            DataError::corrupt(
                path,
                format!("entry `{labels}.npy`, element {i}"),
                format!("negative label {v}; labels must be 0..n_classes"),
            )
        })?;
        y.push(label);
    }
    // HWC (numpy) to CHW.
    let x = match kind {
        SampleKind::Image {
            channels: 3,
            height,
            width,
        } => {
            let plane = height * width;
            let mut x = vec![0u8; idata.len()];
            for (s, img) in idata.chunks_exact(plane * 3).enumerate() {
                let out = &mut x[s * plane * 3..(s + 1) * plane * 3];
                for p in 0..plane {
                    for c in 0..3 {
                        out[c * plane + p] = img[p * 3 + c];
                    }
                }
            }
            x
        }
        _ => idata,
    };
    Ok((kind, x, y))
}

/// Class names of known MedMNIST files (from MedMNIST's `INFO`), by file stem.
fn known_class_names(stem: &str) -> Option<Vec<&'static str>> {
    match stem {
        "pneumoniamnist" => Some(vec!["normal", "pneumonia"]),
        "breastmnist" => Some(vec!["malignant", "normal, benign"]),
        _ => None,
    }
}

/// Loads an `.npz` archive.
///
/// With `train_images`/`train_labels` (MedMNIST), every present split among `train`, `val`,
/// `test` is read and kept as a predefined split (train, then val, then test in the data set);
/// otherwise `images`/`labels` or `x`/`y` give one set without splits. Class names are
/// MedMNIST's for the files it knows, else the label indices. Each array's declared size is
/// checked against `budget` (`None`: the default budget) before it is decompressed.
pub(crate) fn load_npz(path: &Path, budget: Option<u64>) -> Result<Dataset, DataError> {
    let mut budget = Budget::new(budget);
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| {
        DataError::corrupt(path, "zip directory", format!("not a valid .npz ({e})"))
    })?;
    let names: Vec<String> = archive.file_names().map(String::from).collect();
    let has = |n: &str| names.iter().any(|e| e == &format!("{n}.npy"));
    let mut kind = None;
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let mut splits = Splits::default();
    let medmnist = has("train_images");
    let pairs: Vec<(&str, String, String)> = if medmnist {
        ["train", "val", "test"]
            .into_iter()
            .filter(|s| has(&format!("{s}_images")))
            .map(|s| (s, format!("{s}_images"), format!("{s}_labels")))
            .collect()
    } else if has("images") {
        vec![("all", "images".into(), "labels".into())]
    } else if has("x") {
        vec![("all", "x".into(), "y".into())]
    } else {
        return Err(DataError::UnknownFormat {
            path: path.to_path_buf(),
            reason: format!(
                "an .npz with entries {names:?}; expected train_images/train_labels (MedMNIST), \
                 images/labels or x/y"
            ),
        });
    };
    for (split, images, labels) in &pairs {
        let (k, px, py) = read_pair(&mut archive, path, images, labels, &mut budget)?;
        if let Some(prev) = kind
            && prev != k
        {
            return Err(DataError::corrupt(
                path,
                format!("entry `{images}.npy`"),
                format!(
                    "sample shape {:?} differs from {:?}",
                    k.shape(),
                    SampleKind::shape(&prev)
                ),
            ));
        }
        kind = Some(k);
        let idx: Vec<usize> = (y.len()..y.len() + py.len()).collect();
        match *split {
            "train" => splits.train = idx,
            "val" => splits.val = idx,
            "test" => splits.test = idx,
            _ => {}
        }
        x.extend(px);
        y.extend(py);
    }
    let Some(kind) = kind else {
        return Err(DataError::UnknownFormat {
            path: path.to_path_buf(),
            reason: "no image entries".into(),
        });
    };
    if y.is_empty() {
        return Err(DataError::corrupt(
            path,
            format!("entry `{}.npy`", pairs[0].1),
            "the arrays hold no image",
        ));
    }
    let n_classes = y.iter().copied().max().map_or(1, |m| m + 1);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let class_names = match known_class_names(&stem) {
        Some(n) if n.len() >= n_classes => n.into_iter().map(String::from).collect(),
        _ => (0..n_classes).map(|i| i.to_string()).collect(),
    };
    Dataset::new(
        DataFormat::Npz,
        Some(path.to_path_buf()),
        kind,
        x,
        y,
        class_names,
        medmnist.then_some(splits),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numpy_headers() {
        let h =
            parse_header_dict("{'descr': '|u1', 'fortran_order': False, 'shape': (624, 28, 28), }")
                .unwrap();
        assert_eq!(h.shape, vec![624, 28, 28]);
        assert_eq!(
            h.dtype,
            Dtype::Int {
                signed: false,
                size: 1,
                big_endian: false
            }
        );
        let h =
            parse_header_dict("{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }").unwrap();
        assert_eq!(h.shape, vec![5]);
        assert!(
            parse_header_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }").is_err()
        );
    }

    #[test]
    fn widens_signed_and_big_endian_integers() {
        let h = NpyHeader {
            dtype: Dtype::Int {
                signed: true,
                size: 2,
                big_endian: false,
            },
            shape: vec![2],
        };
        assert_eq!(ints(&h, &[0xff, 0xff, 0x02, 0x00]), vec![-1, 2]);
        let h = NpyHeader {
            dtype: Dtype::Int {
                signed: false,
                size: 4,
                big_endian: true,
            },
            shape: vec![1],
        };
        assert_eq!(ints(&h, &[0, 0, 1, 2]), vec![258]);
    }
}
