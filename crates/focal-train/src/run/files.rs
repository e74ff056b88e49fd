//! Writing and reading the files of a run folder: every write is atomic (a temporary file in
//! the same folder, synced, then renamed), so a killed run never leaves a torn file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::TrainError;

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, synced, renamed.
/// A write that fails (a full disk) removes the temporary file and leaves `path` as it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let written = fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written {
        // Best effort: the failed write is what the caller reports.
        let _ = fs::remove_file(&tmp);
        return Err(TrainError::io(&tmp, e));
    }
    fs::rename(&tmp, path).map_err(|e| TrainError::io(path, e))
}

/// Writes `value` as pretty JSON, atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), TrainError> {
    let mut s = serde_json::to_string_pretty(value).map_err(|e| TrainError::format(path, e))?;
    s.push('\n');
    write_atomic(path, s.as_bytes())
}

/// Reads a JSON file.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, TrainError> {
    let s = fs::read_to_string(path).map_err(|e| TrainError::io(path, e))?;
    serde_json::from_str(&s).map_err(|e| TrainError::format(path, e))
}

pub(crate) fn csv_bytes(
    path: &Path,
    header: &[String],
    rows: &[Vec<String>],
) -> Result<Vec<u8>, TrainError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)
        .map_err(|e| TrainError::format(path, e))?;
    for r in rows {
        w.write_record(r).map_err(|e| TrainError::format(path, e))?;
    }
    w.into_inner()
        .map_err(|e| TrainError::format(path, e.to_string()))
}

/// A fresh run folder under `out` named `name`, or `<name>-2`, `<name>-3`... when taken.
pub fn fresh_run_dir(out: &Path, name: &str) -> Result<PathBuf, TrainError> {
    if out.exists() && !out.is_dir() {
        return Err(TrainError::invalid(focal_data::msg![
            crate::setting::Setting::Out,
            format!(
                " {}: a file is there; give a folder (run folders are made inside it)",
                out.display()
            )
        ]));
    }
    fs::create_dir_all(out).map_err(|e| TrainError::io(out, e))?;
    for i in 1.. {
        let dir = if i == 1 {
            out.join(name)
        } else {
            out.join(format!("{name}-{i}"))
        };
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(TrainError::io(&dir, e)),
        }
    }
    unreachable!("the loop above returns")
}
