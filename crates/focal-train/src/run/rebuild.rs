//! Rebuilding a run's task from its folder: what `resume`, `eval --run`, `predict` and the
//! workers of a planned experiment start from.

use std::path::Path;

use crate::data::{PreparedData, TaskRecord};
use crate::error::TrainError;
use crate::run::record::{read_config, read_split};

/// The data of a finished or interrupted run, rebuilt as the run built them: from `data`, or
/// the source the run recorded (when that path still exists), or the bundled data set; checked
/// against the run's `split.json`.
pub fn run_data(run_dir: &Path, data: Option<&Path>) -> Result<PreparedData, TrainError> {
    let rc = read_config(run_dir)?;
    let prepared = task_data(&rc.task, data)?;
    if prepared.splits != read_split(run_dir)? {
        return Err(TrainError::SplitMismatch {
            run: run_dir.to_path_buf(),
        });
    }
    Ok(prepared)
}

/// The task `task` rebuilt from `data`, or the source it recorded (when that path still exists),
/// or the bundled data set.
pub fn task_data(task: &TaskRecord, data: Option<&Path>) -> Result<PreparedData, TrainError> {
    let recorded = task.source.path().filter(|p| p.exists());
    let source = match data.or(recorded) {
        Some(p) => focal_data::load(p, &task.load_options())?,
        None => focal_data::load_bundled(&task.load_options())?,
    };
    PreparedData::rebuild(&source, task)
}
