//! `checkpoint/`: where the loop stands after an epoch, and the models to resume or evaluate.
//!
//! `checkpoint/last/{model.bpk, optim.bpk, state.json}` after every epoch and
//! `checkpoint/best/{model.bpk, state.json}` after every improving one: Burn records (burnpack)
//! and a [`TrainState`]. Each folder is written as `<which>.tmp`, then renamed over the old one
//! (kept as `<which>.old` between the two renames), so a crash leaves a whole checkpoint.

use std::fs;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::ModuleRecord;

use crate::error::TrainError;
use crate::model::Model;
use crate::run::files::{read_json, write_json};
use crate::run::record::EpochRecord;

/// `checkpoint/*/state.json`: where the loop stands after an epoch.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainState {
    /// Epochs finished.
    pub epoch: usize,
    /// Best epoch so far by the validation metric.
    pub best_epoch: usize,
    /// Its validation metric.
    pub best_score: Option<f64>,
    /// Every finished epoch.
    pub history: Vec<EpochRecord>,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
}

impl TrainState {
    /// The state before the first epoch.
    pub fn start() -> Self {
        TrainState {
            epoch: 0,
            best_epoch: 0,
            best_score: None,
            history: Vec::new(),
            stopped_early: false,
        }
    }
}

/// Which checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// After the last finished epoch (with the optimizer state).
    Last,
    /// After the best epoch by the validation metric (model only).
    Best,
}

impl Which {
    fn name(self) -> &'static str {
        match self {
            Which::Last => "last",
            Which::Best => "best",
        }
    }
}

/// `checkpoint/<which>`, falling back to the previous copy when a crash hit between renames.
pub fn dir(run_dir: &Path, which: Which) -> PathBuf {
    let base = run_dir.join("checkpoint");
    let dir = base.join(which.name());
    let old = base.join(format!("{}.old", which.name()));
    if !dir.exists() && old.exists() {
        old
    } else {
        dir
    }
}

/// Whether the run has a last checkpoint (it finished at least one epoch).
pub fn exists(run_dir: &Path) -> bool {
    dir(run_dir, Which::Last).join("state.json").is_file()
}

/// The state of checkpoint `which`.
pub fn read_state(run_dir: &Path, which: Which) -> Result<TrainState, TrainError> {
    read_json(&dir(run_dir, which).join("state.json"))
}

/// The model file of checkpoint `which`.
pub fn model_path(run_dir: &Path, which: Which) -> PathBuf {
    dir(run_dir, which).join("model.bpk")
}

/// The record in the model file `path` of a checkpoint: every parameter of the model, or, for
/// a run that froze part of a pretrained network, those it trained (see
/// [`crate::transfer`]).
pub fn read_record(path: &Path) -> Result<ModuleRecord, TrainError> {
    ModuleRecord::load(path).map_err(|e| TrainError::Checkpoint {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// `model` with the weights of checkpoint `which` (a run that trained every layer).
pub fn load_model(model: Model, run_dir: &Path, which: Which) -> Result<Model, TrainError> {
    let path = model_path(run_dir, which);
    let record = read_record(&path)?;
    model
        .try_load_record(record)
        .map_err(|e| TrainError::Checkpoint {
            path: path.clone(),
            message: e.to_string(),
        })
}

/// `optim` with the state of the last checkpoint.
pub fn load_optimizer(
    optim: ModuleOptimizer,
    run_dir: &Path,
) -> Result<ModuleOptimizer, TrainError> {
    let path = dir(run_dir, Which::Last).join("optim.bpk");
    optim.load(&path).map_err(|e| TrainError::Checkpoint {
        path: path.clone(),
        message: e.to_string(),
    })
}

/// Writes checkpoint `which` (`model`: the record of its model) as a whole: into `<which>.tmp`, then renamed over the old one.
///
/// A write that fails (a full disk) removes the partial `<which>.tmp` and leaves the previous
/// checkpoint as it was: [`TrainError::CheckpointWrite`] names the epoch kept.
pub fn save(
    run_dir: &Path,
    which: Which,
    model: ModuleRecord,
    optim: Option<&ModuleOptimizer>,
    state: &TrainState,
) -> Result<(), TrainError> {
    let base = run_dir.join("checkpoint");
    let name = which.name();
    let tmp = base.join(format!("{name}.tmp"));
    let dir = base.join(name);
    let old = base.join(format!("{name}.old"));
    remove_dir(&tmp)?;
    if let Err(e) = write_folder(&tmp, model, optim, state) {
        // Best effort: the failed write is what the caller reports.
        let _ = remove_dir(&tmp);
        // The resume point: the last checkpoint, whichever of the two failed.
        let kept = read_state(run_dir, Which::Last).ok().map(|s| s.epoch);
        return Err(TrainError::CheckpointWrite {
            run: run_dir.to_path_buf(),
            epoch: state.epoch,
            kept,
            cause: e.to_string(),
        });
    }
    remove_dir(&old)?;
    if dir.exists() {
        fs::rename(&dir, &old).map_err(|e| TrainError::io(&dir, e))?;
    }
    fs::rename(&tmp, &dir).map_err(|e| TrainError::io(&dir, e))?;
    remove_dir(&old)
}

/// The files of a checkpoint, written into the folder `tmp`.
fn write_folder(
    tmp: &Path,
    model: ModuleRecord,
    optim: Option<&ModuleOptimizer>,
    state: &TrainState,
) -> Result<(), TrainError> {
    fs::create_dir_all(tmp).map_err(|e| TrainError::io(tmp, e))?;
    let mp = tmp.join("model.bpk");
    model.save(&mp).map_err(|e| TrainError::Checkpoint {
        path: mp.clone(),
        message: e.to_string(),
    })?;
    if let Some(o) = optim {
        let op = tmp.join("optim.bpk");
        o.save(&op).map_err(|e| TrainError::Checkpoint {
            path: op.clone(),
            message: e.to_string(),
        })?;
    }
    write_json(&tmp.join("state.json"), state)
}

fn remove_dir(path: &Path) -> Result<(), TrainError> {
    if path.exists() {
        fs::remove_dir_all(path).map_err(|e| TrainError::io(path, e))?;
    }
    Ok(())
}
