//! What a folder is, by the files in it: a run (complete or not) or an experiment. The one
//! place that says which file makes a folder what ("metrics.json exists means complete").

use std::path::{Path, PathBuf};

use focal_data::msg;

use crate::error::TrainError;
use crate::setting::Setting;

/// A run folder's configuration, written when the run starts.
pub const CONFIG_FILE: &str = "config.json";
/// A run folder's final metrics, written when the run is complete.
pub const METRICS_FILE: &str = "metrics.json";
/// An experiment folder's plan (focal-experiment's format).
pub const PLAN_FILE: &str = "plan.json";
/// An experiment folder's gathered tables (focal-experiment's format).
pub const COMPARISON_FILE: &str = "comparison.json";

/// Whether the run folder `run_dir` holds a complete run (its final metrics are written).
pub fn is_complete(run_dir: &Path) -> bool {
    run_dir.join(METRICS_FILE).is_file()
}

/// Whether the run folder `run_dir` holds a run that started (its configuration is written).
pub fn is_started(run_dir: &Path) -> bool {
    run_dir.join(CONFIG_FILE).is_file()
}

/// Whether `dir` holds an experiment (a plan, or the tables of one written before plans).
pub fn is_experiment(dir: &Path) -> bool {
    dir.join(PLAN_FILE).is_file() || dir.join(COMPARISON_FILE).is_file()
}

/// What a path holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Folder {
    /// Nothing is there.
    Missing,
    /// A file, not a folder.
    File,
    /// A run folder; `complete` when its final metrics are written.
    Run {
        /// Whether the run is complete.
        complete: bool,
    },
    /// An experiment folder, with its first run folder (by name) when it has one.
    Experiment {
        /// One of its run folders.
        example: Option<PathBuf>,
    },
    /// A folder that holds neither.
    Other,
}

impl Folder {
    /// What `dir` holds.
    pub fn of(dir: &Path) -> Folder {
        if !dir.exists() {
            Folder::Missing
        } else if !dir.is_dir() {
            Folder::File
        } else if is_started(dir) {
            Folder::Run {
                complete: is_complete(dir),
            }
        } else if is_experiment(dir) {
            let mut runs: Vec<PathBuf> = std::fs::read_dir(dir)
                .map(|entries| {
                    entries
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| is_started(p))
                        .collect()
                })
                .unwrap_or_default();
            runs.sort();
            Folder::Experiment {
                example: runs.into_iter().next(),
            }
        } else {
            Folder::Other
        }
    }
}

/// Checks that `dir`, given as `setting` (a run to evaluate, resume, predict with or export),
/// is a run folder; otherwise says what it is instead and what to give.
pub fn check_run(dir: &Path, setting: Setting) -> Result<(), TrainError> {
    let shown = dir.display();
    let what = match Folder::of(dir) {
        Folder::Run { .. } => return Ok(()),
        Folder::Missing => msg![
            setting,
            format!(" {shown}: no such folder; give a run folder written by training")
        ],
        Folder::File => msg![
            setting,
            format!(" {shown}: a file; give a run folder written by training")
        ],
        Folder::Experiment { example } => msg![
            setting,
            format!(
                " {shown}: an experiment folder (compare or sweep), not a run; give one of its \
                 run folders{}",
                example.map_or(String::new(), |p| format!(", e.g. {}", p.display()))
            )
        ],
        Folder::Other => msg![
            setting,
            format!(
                " {shown}: not a run folder (no {CONFIG_FILE}); give a folder written by \
                 training (its run folder is printed at the end of training)"
            )
        ],
    };
    Err(TrainError::invalid(what))
}
