//! Manifests: a CSV of image paths with their labels (and often their patient), as ISIC,
//! CheXpert, RSNA Pneumonia and most medical sets ship; and groups files (`path,group`) for
//! image folders.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::dataset::{DataFormat, Dataset};
use crate::error::DataError;
use crate::folder::{self, EXTENSIONS, FolderOptions};
use crate::groups::column;
#[cfg(test)]
use crate::groups::relative_name;
use crate::msg;
use crate::setting::{DataSetting, Message};
use crate::table::{classes_of, csv_error};

/// The columns and paths of a manifest, as [`read`] reads it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ManifestSpec<'a> {
    /// The column of image paths.
    pub(crate) image_column: &'a str,
    /// The label column: `Some(Some(name))` that column, `Some(None)` the default (a column
    /// named `label`, else the last column that is neither the image nor the group column),
    /// `None` no labels (images to predict on).
    pub(crate) label: Option<Option<&'a str>>,
    /// The group column, when the images are split by group.
    pub(crate) group_column: Option<&'a str>,
    /// The folder image paths are relative to; `None`: the manifest's folder.
    pub(crate) image_root: Option<&'a Path>,
    /// Appended to image names that are not found as written (ISIC's `ISIC_2637011` with
    /// `.jpg`); `None`: every extension focal reads is tried.
    pub(crate) image_suffix: Option<&'a str>,
}

/// One row of a manifest.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// 1-based line of the row in the file.
    pub(crate) line: u64,
    /// The image cell as written (the sample's id).
    pub(crate) id: String,
    /// The image file it resolves to.
    pub(crate) image: PathBuf,
    /// The label cell, when labels are read.
    pub(crate) label: Option<String>,
    /// The group cell, when groups are read.
    pub(crate) group: Option<String>,
}

/// A manifest's rows and the name of its image column (for messages).
#[derive(Debug, Clone)]
pub(crate) struct Manifest {
    pub(crate) rows: Vec<Row>,
    pub(crate) image_column: String,
    /// The label column read, when labels are read.
    pub(crate) label_column: Option<String>,
}

/// `name` with `suffix` appended (`.jpg` or `jpg`).
fn with_suffix(name: &str, suffix: &str) -> String {
    let suffix = suffix.trim();
    if suffix.is_empty() || suffix.starts_with('.') {
        format!("{name}{suffix}")
    } else {
        format!("{name}.{suffix}")
    }
}

/// The image file a cell names: as written when it exists; else with the suffix, or with each
/// extension focal reads (lower then upper case). `Err` lists what was tried.
fn resolve(
    base: &Path,
    cell: &str,
    suffix: Option<&str>,
) -> Result<(PathBuf, std::fs::Metadata), Vec<PathBuf>> {
    let file = |p: &Path| std::fs::metadata(p).ok().filter(|m| m.is_file());
    let given = base.join(cell);
    if let Some(meta) = file(&given) {
        return Ok((given, meta));
    }
    let mut tried = vec![given];
    let candidates: Vec<String> = match suffix {
        Some(s) => vec![with_suffix(cell, s)],
        None => EXTENSIONS
            .iter()
            .flat_map(|e| {
                [
                    format!("{cell}.{e}"),
                    format!("{cell}.{}", e.to_uppercase()),
                ]
            })
            .collect(),
    };
    for c in candidates {
        let p = base.join(c);
        if let Some(meta) = file(&p) {
            return Ok((p, meta));
        }
        tried.push(p);
    }
    Err(tried)
}

/// What makes two image paths the same file: the device and inode where there are some (so
/// `a/../x.png`, `./x.png` and links to it are one image), else the path without `.` and `..`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum FileKey {
    #[cfg(unix)]
    Inode(u64, u64),
    #[cfg_attr(unix, allow(dead_code))]
    Path(PathBuf),
}

fn file_key(path: &Path, meta: &std::fs::Metadata) -> FileKey {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = path;
        FileKey::Inode(meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        let mut out = PathBuf::new();
        for c in path.components() {
            match c {
                std::path::Component::CurDir => {}
                std::path::Component::ParentDir => {
                    out.pop();
                }
                other => out.push(other),
            }
        }
        FileKey::Path(out)
    }
}

fn tried_text(tried: &[PathBuf]) -> String {
    const SHOWN: usize = 6;
    let names: Vec<String> = tried
        .iter()
        .take(SHOWN)
        .map(|p| p.display().to_string())
        .collect();
    if tried.len() > SHOWN {
        format!("{}, ... ({} paths in all)", names.join(", "), tried.len())
    } else {
        names.join(", ")
    }
}

/// Reads a manifest's rows: every image resolved to a file (none decoded), labels and groups
/// checked non-empty, no image named twice.
pub(crate) fn read(path: &Path, spec: &ManifestSpec<'_>) -> Result<Manifest, DataError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| csv_error(path, e))?;
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| csv_error(path, e))?
        .iter()
        .map(String::from)
        .collect();
    let image_idx = column(path, &headers, spec.image_column, DataSetting::ImageColumn)?;
    let group_idx = spec
        .group_column
        .map(|g| column(path, &headers, g, DataSetting::GroupColumn))
        .transpose()?;
    let label_idx = match spec.label {
        None => None,
        Some(Some(name)) => Some(column(path, &headers, name, DataSetting::LabelColumn)?),
        Some(None) => match headers.iter().position(|h| h == "label") {
            Some(i) => Some(i),
            None => Some(
                (0..headers.len())
                    .rev()
                    .find(|&i| i != image_idx && Some(i) != group_idx)
                    .ok_or_else(|| DataError::CsvMalformed {
                        path: path.to_path_buf(),
                        line: 1,
                        reason: format!(
                            "no column for the labels beside the image column `{}`; add a \
                             label column",
                            spec.image_column
                        ),
                    })?,
            ),
        },
    };
    if label_idx.is_some() && label_idx == Some(image_idx) {
        return Err(DataError::arg(
            DataSetting::LabelColumn,
            spec.image_column,
            "it is the image column too; name the column that holds the labels",
        ));
    }
    let base: PathBuf = match spec.image_root {
        Some(root) => root.to_path_buf(),
        None => path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
    };
    let cell_error = |line: u64, idx: usize, reason: Message| DataError::ManifestCell {
        path: path.to_path_buf(),
        line,
        column: headers[idx].clone(),
        reason,
    };
    let mut rows = Vec::new();
    let mut seen: HashMap<FileKey, u64> = HashMap::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_error(path, e))?;
        let line = rec.position().map_or(0, |p| p.line());
        let cell = |i: usize| rec.get(i).unwrap_or("").to_string();
        let id = cell(image_idx);
        if id.is_empty() {
            return Err(cell_error(
                line,
                image_idx,
                "the image path is empty; give every row its image (or remove the row)".into(),
            ));
        }
        let (image, meta) = resolve(&base, &id, spec.image_suffix).map_err(|tried| {
            let mut reason = msg![
                format!(
                    "no image `{id}` (tried {}); fix the path, or give the folder the paths are \
                     relative to (",
                    tried_text(&tried)
                ),
                DataSetting::ImageRoot,
                ")"
            ];
            if spec.image_suffix.is_none() {
                reason
                    .0
                    .extend(msg![" or the suffix to append (", DataSetting::ImageSuffix, ")"].0);
            }
            cell_error(line, image_idx, reason)
        })?;
        let label = match label_idx {
            Some(i) => {
                let l = cell(i);
                if l.is_empty() {
                    return Err(cell_error(
                        line,
                        i,
                        "the label is empty; give every image its label (or remove the row)".into(),
                    ));
                }
                Some(l)
            }
            None => None,
        };
        let group = match group_idx {
            Some(i) => {
                let g = cell(i);
                if g.is_empty() {
                    return Err(cell_error(
                        line,
                        i,
                        "the group is empty; give every image its group (a patient id), or \
                         split without groups"
                            .into(),
                    ));
                }
                Some(g)
            }
            None => None,
        };
        let key = file_key(&image, &meta);
        if let Some(&first_line) = seen.get(&key) {
            return Err(DataError::DuplicateImage {
                path: path.to_path_buf(),
                first_line,
                line,
                image,
            });
        }
        seen.insert(key, line);
        rows.push(Row {
            line,
            id,
            image,
            label,
            group,
        });
    }
    if rows.is_empty() {
        return Err(DataError::CsvMalformed {
            path: path.to_path_buf(),
            line: 2,
            reason: "no data rows after the header".into(),
        });
    }
    Ok(Manifest {
        rows,
        image_column: headers[image_idx].clone(),
        label_column: label_idx.map(|i| headers[i].clone()),
    })
}

impl Manifest {
    /// An error about the image of row `i` (the image's own error, with the row's line).
    pub(crate) fn image_error(&self, path: &Path, i: usize, e: DataError) -> DataError {
        DataError::ManifestImage {
            path: path.to_path_buf(),
            line: self.rows.get(i).map_or(0, |r| r.line),
            column: self.image_column.clone(),
            source: Box::new(e),
        }
    }
}

/// Loads a labelled manifest: images decoded as image folders decode them
/// ([`folder::decode_set`]), classes the sorted label values (numerically when every label is
/// a number, as CSV labels), each sample's id its image cell, groups from the group column.
pub(crate) fn load(
    path: &Path,
    spec: &ManifestSpec<'_>,
    opts: &FolderOptions,
) -> Result<Dataset, DataError> {
    let manifest = read(path, spec)?;
    let files: Vec<PathBuf> = manifest.rows.iter().map(|r| r.image.clone()).collect();
    let (kind, x) =
        folder::decode_set(path, &files, opts, &|i, e| manifest.image_error(path, i, e))?;
    let labels: Vec<String> = manifest
        .rows
        .iter()
        .map(|r| r.label.clone().unwrap_or_default())
        .collect();
    let (classes, y) = classes_of(&labels);
    let ids = manifest.rows.iter().map(|r| r.id.clone()).collect();
    let ds = Dataset::new(
        DataFormat::Manifest,
        Some(path.to_path_buf()),
        kind,
        x,
        y,
        classes,
        None,
    )?
    .with_ids(ids)?;
    if spec.group_column.is_some() {
        let groups = manifest
            .rows
            .iter()
            .map(|r| r.group.clone().unwrap_or_default())
            .collect();
        return ds.with_groups(groups);
    }
    Ok(ds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_and_relative_names() {
        assert_eq!(with_suffix("ISIC_1", ".jpg"), "ISIC_1.jpg");
        assert_eq!(with_suffix("ISIC_1", "jpg"), "ISIC_1.jpg");
        assert_eq!(
            relative_name(Path::new("/d/set"), Path::new("/d/set/yes/a.png")),
            "yes/a.png"
        );
        assert_eq!(
            relative_name(Path::new("/d/set"), Path::new("./yes/a.png")),
            "yes/a.png"
        );
    }
}
