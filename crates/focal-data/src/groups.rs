//! Groups files: a CSV `path,group` naming the group (the patient) of each image of a folder,
//! and the column lookup every CSV reader of images shares.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::DataError;
use crate::setting::{DataSetting, Message};
use crate::table::{column_list, csv_error};

/// The index of the column `name` of `headers`, the column `setting` names.
pub(crate) fn column(
    path: &Path,
    headers: &[String],
    name: &str,
    setting: DataSetting,
) -> Result<usize, DataError> {
    headers
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| DataError::missing_column(path, setting, name, column_list(headers)))
}

/// `p` relative to `root`, with `/` between its parts: how a groups file names an image.
pub(crate) fn relative_name(root: &Path, p: &Path) -> String {
    let rel = p.strip_prefix(root).unwrap_or(p);
    rel.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The group of each image of a folder (`files`, under `root`), read from a groups file: a
/// CSV with the columns `path` (relative to `root`, e.g. `yes/img_001.png`) and `group`. Rows
/// for images not in the folder are ignored (a groups file may cover a whole cohort); an image
/// without a row, an empty group, or two rows for one image with different groups are errors.
pub(crate) fn folder_groups(
    groups_file: &Path,
    root: &Path,
    files: &[PathBuf],
) -> Result<Vec<String>, DataError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_path(groups_file)
        .map_err(|e| csv_error(groups_file, e))?;
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| csv_error(groups_file, e))?
        .iter()
        .map(String::from)
        .collect();
    // A groups file's columns are `path` and `group`, whatever the other settings.
    let path_idx = column(groups_file, &headers, "path", DataSetting::Groups)?;
    let group_idx = column(groups_file, &headers, "group", DataSetting::Groups)?;
    let mut by_name: HashMap<String, (String, u64)> = HashMap::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_error(groups_file, e))?;
        let line = rec.position().map_or(0, |p| p.line());
        let raw = rec.get(path_idx).unwrap_or("").replace('\\', "/");
        let name = relative_name(root, Path::new(&raw));
        let group = rec.get(group_idx).unwrap_or("").to_string();
        let cell_error = |idx: usize, reason: Message| DataError::ManifestCell {
            path: groups_file.to_path_buf(),
            line,
            column: headers[idx].clone(),
            reason,
        };
        if name.is_empty() {
            return Err(cell_error(
                path_idx,
                "the path is empty; give each row an image path relative to the image folder"
                    .into(),
            ));
        }
        if group.is_empty() {
            return Err(cell_error(
                group_idx,
                format!("the group of `{name}` is empty; give every image its group").into(),
            ));
        }
        if let Some((other, first)) = by_name.get(&name)
            && *other != group
        {
            return Err(cell_error(
                group_idx,
                format!(
                    "`{name}` is in group `{group}` here but in `{other}` on line {first}; give \
                     each image one group"
                )
                .into(),
            ));
        }
        by_name.insert(name, (group, line));
    }
    files
        .iter()
        .map(|f| {
            let name = relative_name(root, f);
            by_name
                .get(&name)
                .map(|(g, _)| g.clone())
                .ok_or_else(|| DataError::MissingGroup {
                    path: groups_file.to_path_buf(),
                    image: name,
                })
        })
        .collect()
}
