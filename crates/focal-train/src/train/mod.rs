//! The training loop: our own, short, with per-class validation, checkpoints and resume.
//!
//! [`train`] and [`resume`] share one set-up ([`session::Session::open`]) and one loop; they
//! write the run folder's files (formats in [`crate::run`]) but no HTML: the report is drawn by
//! the caller (focal-experiment's `pipeline`) from those files.

mod evaluation;
mod faults;
mod loss_total;
mod session;

use std::fs;
use std::path::Path;

use crate::config::TrainConfig;
use crate::data::{InputNormalization, PreparedData};
use crate::error::TrainError;
use crate::progress::{NoProgress, Progress};
use crate::run::checkpoint::{self, TrainState, Which};
use crate::run::lock;
use crate::run::record::{FinalMetrics, RunConfig, read_config};
use crate::transfer;

pub use evaluation::{Evaluated, evaluate_model, final_metrics, logits_set, predict, predict_set};
#[doc(hidden)]
pub use faults::{NanGuard, inject_nan_at};
use session::{Learner, Session};
pub use session::{RunSummary, epoch_seed};

/// Trains `config` on `data`, writing the run folder `out_dir` (created if needed; files in it
/// are replaced), and returns the final test metrics.
///
/// The same config, data and seed give the same bytes on the same backend. Calls from several
/// threads of one process run one after the other (Burn's CPU generator is process-wide).
///
/// # Errors
/// Another process training the same folder ([`TrainError::RunBusy`]), an invalid
/// configuration, a device that is not there, a NaN/inf loss (the message names the
/// epoch and step; the last good checkpoint stays), or a file that cannot be written.
pub fn train(
    config: &TrainConfig,
    data: &PreparedData,
    out_dir: &Path,
    progress: &dyn Progress,
) -> Result<RunSummary, TrainError> {
    if config.pretrained().is_some()
        && data.task.input_normalization != InputNormalization::Imagenet
    {
        return Err(TrainError::PretrainedNeedsImagenetInputs);
    }
    let _lock = lock::acquire(out_dir)?;
    let session = Session::open(config, data, out_dir, progress)?;
    fs::create_dir_all(out_dir).map_err(|e| TrainError::io(out_dir, e))?;
    let (model, pretrained) = session.new_model()?;
    session.write_run_files(pretrained)?;
    let learner = Learner {
        model,
        optim: session.new_optimizer(),
    };
    session.run(learner, TrainState::start())
}

/// Checks that `data` is the data set the run in `run_dir` was trained on (by fingerprint).
pub fn check_same_data(
    rc: &RunConfig,
    data: &PreparedData,
    run_dir: &Path,
) -> Result<(), TrainError> {
    if rc.data_fingerprint == data.fingerprint {
        return Ok(());
    }
    Err(TrainError::DataMismatch {
        run: run_dir.to_path_buf(),
        expected: rc.data_fingerprint.clone(),
        found: data.fingerprint.clone(),
    })
}

/// Continues the run in `run_dir` from its last checkpoint, on the same data (checked by
/// fingerprint), and finishes it as the uninterrupted run would have.
///
/// A run killed before its first checkpoint starts again from the beginning (with the same
/// seed, that is the run it would have been).
///
/// # Errors
/// Besides those of [`train`]: [`TrainError::RunBusy`] when another process holds the run
/// folder's lock (see [`crate::run::lock`]).
pub fn resume(
    run_dir: &Path,
    data: &PreparedData,
    progress: &dyn Progress,
) -> Result<RunSummary, TrainError> {
    let rc = read_config(run_dir)?;
    let _lock = lock::acquire(run_dir)?;
    check_same_data(&rc, data, run_dir)?;
    let config = rc.train;
    if !checkpoint::exists(run_dir) {
        progress.message(&format!(
            "{}: no checkpoint yet; training from the start",
            run_dir.display()
        ));
        return train(&config, data, run_dir, progress);
    }
    if let Some(record) = &rc.transfer {
        crate::transfer::check_weights(record)?;
    }
    let session = Session::open(&config, data, run_dir, progress)?;
    let state = checkpoint::read_state(run_dir, Which::Last)?;
    let model = session.load_checkpoint(Which::Last)?;
    let optim = checkpoint::load_optimizer(session.new_optimizer(), run_dir)?;
    progress.message(&format!(
        "resuming {} after epoch {}",
        run_dir.display(),
        state.epoch
    ));
    session.run(Learner { model, optim }, state)
}

/// The checkpoint whose model a finished run evaluated (and wrote `predictions.csv` from), and
/// its epoch: the best validation epoch's with early stopping, else the last one's. `last` is
/// the state of the last checkpoint.
pub fn evaluated_checkpoint(config: &TrainConfig, last: &TrainState) -> (Which, usize) {
    if config.early_stop().is_some() && last.best_epoch > 0 {
        (Which::Best, last.best_epoch)
    } else {
        (Which::Last, last.epoch)
    }
}

/// Re-evaluates a finished run on `data` (the run's data, checked by fingerprint): the model of
/// the evaluated epoch (best with early stopping, else last), both decision rules, without
/// writing anything. What `focal eval --run` prints.
pub fn evaluate_run(run_dir: &Path, data: &PreparedData) -> Result<FinalMetrics, TrainError> {
    Ok(evaluate_run_predictions(run_dir, data)?.0)
}

/// [`evaluate_run`], with the test predictions its metrics were computed from (the calibrated
/// probabilities when the run applies a temperature), so that a caller can judge them again.
pub fn evaluate_run_predictions(
    run_dir: &Path,
    data: &PreparedData,
) -> Result<(FinalMetrics, crate::evaluate::Predictions), TrainError> {
    let rc = read_config(run_dir)?;
    check_same_data(&rc, data, run_dir)?;
    let config = rc.train.clone();
    let device = config.device().resolve()?;
    let last = checkpoint::read_state(run_dir, Which::Last)?;
    let (which, evaluated) = evaluated_checkpoint(&config, &last);
    let model = transfer::run_model(&rc, &data.dataset.kind, run_dir, which, &device)?;
    let (model, data) = transfer::evaluation_inputs(&rc, model, data, run_dir, &NoProgress)?;
    let done = evaluate_model(&config, &data, &model, &device, None, &last, evaluated)?;
    Ok((done.metrics, done.test))
}
