//! `focal compare --ensemble K`: an entry's seeds in groups of K (seeds 0..K-1, K..2K-1, ...),
//! the probabilities of each group's models averaged and judged as one model; the groups are
//! the ensemble row's "seeds" (mean ± std over groups when there are two or more).
//!
//! Each run keeps the probabilities it was judged by: `predictions.csv` (test) and
//! `val_predictions.csv` (validation, calibrated when the test's are). The ensemble averages
//! them sample by sample, tunes its own threshold on the averaged validation probabilities, and
//! computes the test metrics as a run does ([`focal_train::train::final_metrics`]). Its time per epoch
//! is the sum of its members' (it costs K trainings).

use crate::ExperimentError;
use std::path::Path;

use crate::experiment::{Entry, SeedResult, TaskSummary, seed_result};
use focal_train::Predictions;
use focal_train::TrainConfig;
use focal_train::TrainError;
use focal_train::run::checkpoint::TrainState;
use focal_train::run::predictions::{PredictionsFile, TEST_PREDICTIONS, VAL_PREDICTIONS};
use focal_train::run::record::read_metrics;
use focal_train::train::final_metrics;

/// The label of the ensembles of `k` seeds of the entry `label`.
pub fn label(label: &str, k: usize) -> String {
    format!("{label} (ensemble of {k})")
}

/// The ensembles of `entry` (an entry of the plan in `dir`, every run complete): its seeds in
/// groups of `k`, in order, each group's probabilities averaged and judged as one model, one
/// result per group.
///
/// # Errors
/// Seeds that do not make whole groups of `k` (see [`crate::spec::Ensembles`]), a run without
/// `val_predictions.csv` (written by focal before ensembles), files that disagree on the
/// samples, or a file that cannot be read.
///
/// `config_of` gives the configuration a run folder (relative to `dir`) was trained with.
pub fn entry<'a>(
    dir: &Path,
    task: &TaskSummary,
    config_of: &dyn Fn(&str) -> Option<&'a TrainConfig>,
    entry: &Entry,
    k: usize,
) -> Result<Entry, ExperimentError> {
    crate::spec::Ensembles::new(k, entry.seeds.len())?;
    let seeds = entry
        .seeds
        .chunks_exact(k)
        .map(|members| group(dir, task, config_of, members))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Entry {
        label: label(&entry.label, k),
        remedy: entry.remedy.clone(),
        seeds,
        ensemble_of: Some(k),
    })
}

/// One ensemble: `members`' probabilities averaged, judged as a run is.
fn group<'a>(
    dir: &Path,
    task: &TaskSummary,
    config_of: &dyn Fn(&str) -> Option<&'a TrainConfig>,
    members: &[SeedResult],
) -> Result<SeedResult, ExperimentError> {
    let config = config_of(&members[0].run_dir).ok_or_else(|| ExperimentError::NotAPlan {
        path: dir.to_path_buf(),
    })?;
    let mut val: Option<(Vec<String>, Predictions)> = None;
    let mut test: Option<(Vec<String>, Predictions)> = None;
    for m in members {
        let run_dir = dir.join(&m.run_dir);
        accumulate(&mut val, &run_dir.join(VAL_PREDICTIONS))?;
        accumulate(&mut test, &run_dir.join(TEST_PREDICTIONS))?;
    }
    let (Some((_, mut val)), Some((_, mut test))) = (val, test) else {
        return Err(ExperimentError::NothingToRun);
    };
    for p in [&mut val, &mut test] {
        for v in &mut p.probs {
            *v /= members.len() as f32;
        }
    }
    let first = read_metrics(&dir.join(&members[0].run_dir))?;
    let state = TrainState {
        epoch: first.epochs_run,
        ..TrainState::start()
    };
    let mut metrics = final_metrics(
        config,
        first.positive,
        &task.class_names,
        &val,
        &test,
        &state,
        first.evaluated_epoch,
    )?;
    // The ensemble costs its members' trainings (already read into their results).
    metrics.time_per_epoch_s = members.iter().map(|m| m.time_per_epoch_s).sum();
    let run_dirs: Vec<&str> = members.iter().map(|m| m.run_dir.as_str()).collect();
    let mut result = seed_result(
        &metrics,
        &[],
        members[0].seed,
        run_dirs.join("+"),
        task.minority,
    );
    result.val_pr_auc = val.pr_auc(first.positive);
    Ok(result)
}

/// Adds the probabilities of `path` to `sum` (the first file starts it), checking that every
/// file lists the same samples with the same labels.
fn accumulate(
    sum: &mut Option<(Vec<String>, Predictions)>,
    path: &Path,
) -> Result<(), ExperimentError> {
    if !path.is_file() {
        return Err(TrainError::format(
            path,
            "missing: the run was trained by a focal that did not keep its validation \
             predictions, so it cannot join an ensemble; train it again (remove the run folder \
             and run the same command) or judge the runs without ensembles",
        )
        .into());
    }
    let file = PredictionsFile::read(path).map_err(|e| TrainError::format(path, e))?;
    let (Some(ids), Some(probs)) = (file.ids, file.probs) else {
        return Err(TrainError::format(
            path,
            "needs the id column and one probability column per class",
        )
        .into());
    };
    match sum {
        None => {
            *sum = Some((
                ids,
                Predictions {
                    y_true: file.y_true,
                    probs: probs.iter().map(|&p| p as f32).collect(),
                    n_classes: file.n_classes,
                },
            ));
        }
        Some((first_ids, p)) => {
            if *first_ids != ids || p.y_true != file.y_true || p.n_classes != file.n_classes {
                return Err(TrainError::format(
                    path,
                    "lists other samples (or labels, or classes) than the ensemble's first \
                     member: the runs of an ensemble must share one split",
                )
                .into());
            }
            for (s, &v) in p.probs.iter_mut().zip(&probs) {
                *s += v as f32;
            }
        }
    }
    Ok(())
}
