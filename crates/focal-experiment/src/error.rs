//! The one error type of focal-experiment: what goes wrong while planning, training, gathering
//! or reporting an experiment. Like focal-train's, a variant whose message names settings
//! builds it with the settings as values ([`ExperimentError::render`]), and never names a flag.

use std::path::PathBuf;

use focal_data::msg;
use focal_train::{Message, Setting, TrainError};

/// Everything that can go wrong with an experiment (a run's own errors are [`TrainError`]s).
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// A folder that holds neither a run nor an experiment.
    #[error(
        "{path}: neither a run folder (metrics.json) nor an experiment folder (plan.json or comparison.json)"
    )]
    NotARunFolder {
        /// The folder.
        path: PathBuf,
    },
    /// A folder without `plan.json`.
    #[error("{path}: no plan.json; plan an experiment with compare or sweep first")]
    NotAPlan {
        /// The folder.
        path: PathBuf,
    },
    /// A run index beyond the plan.
    #[error("run {index}: the plan has {runs} runs (indices 0 to {})", runs.saturating_sub(1))]
    NoSuchRun {
        /// The index asked for.
        index: usize,
        /// Runs in the plan.
        runs: usize,
    },
    /// An experiment folder that holds another plan.
    #[error(
        "{dir}: holds the plan of another experiment (plan.json: other task, seeds or runs); choose another folder"
    )]
    PlanDiffers {
        /// The experiment folder.
        dir: PathBuf,
    },
    /// A planned run folder that holds a run of another configuration.
    #[error("{run}: holds a run of another configuration than the plan's; move it away")]
    RunFolderTaken {
        /// The run folder.
        run: PathBuf,
    },
    /// An experiment whose runs are not all complete after training (another process holds some).
    #[error(
        "{dir}: {missing} runs are not complete (being trained by another process?); gather them later"
    )]
    RunsMissing {
        /// The experiment folder.
        dir: PathBuf,
        /// How many.
        missing: usize,
    },
    /// Ensembles that the seeds cannot fill: fewer than two models each, or seeds that are not
    /// a whole number of groups.
    #[error("{}", self.by_keys())]
    EnsembleSeeds {
        /// The seeds asked to average.
        k: usize,
        /// The seeds each entry has.
        seeds: usize,
    },
    /// An experiment with nothing in it.
    #[error("{}", self.by_keys())]
    NothingToRun,
    /// A sweep without values of its parameter.
    #[error("{}", self.by_keys())]
    NothingToSweep {
        /// The swept setting.
        setting: Setting,
    },
    /// A sweep stage whose choosing metric is undefined for every setting.
    #[error(
        "the sweep over {parameter} has no defined validation {metric}; use more validation data"
    )]
    SweepUndefined {
        /// The swept parameter(s).
        parameter: String,
        /// The choosing metric.
        metric: &'static str,
    },
    /// A chart of a report that could not be drawn.
    #[error("drawing {chart}: {message}")]
    Chart {
        /// The chart's title.
        chart: String,
        /// What went wrong.
        message: String,
    },
    /// A run of the experiment, or reading its files.
    #[error(transparent)]
    Train(#[from] TrainError),
}

impl From<focal_data::DataError> for ExperimentError {
    fn from(e: focal_data::DataError) -> Self {
        ExperimentError::Train(TrainError::Data(e))
    }
}

impl ExperimentError {
    /// The message of a variant that names settings, the settings in it as values.
    fn named(&self) -> Option<Message> {
        Some(match self {
            ExperimentError::EnsembleSeeds { k, seeds } => {
                let e = (*k).max(2);
                msg![
                    Setting::Ensemble,
                    format!(" {k}: an ensemble averages a group of K >= 2 seeds, and "),
                    Setting::Seeds,
                    format!(" must be a multiple of K (it is {seeds}); e.g. "),
                    Setting::Ensemble,
                    format!(" {e} "),
                    Setting::Seeds,
                    format!(" {e}, or "),
                    Setting::Seeds,
                    format!(" {} for a noise estimate over three ensembles", 3 * e),
                ]
            }
            ExperimentError::NothingToRun => msg![
                "nothing to run: give at least one remedy (or setting) and one seed (",
                Setting::Remedies,
                ", ",
                Setting::Seeds,
                ")"
            ],
            ExperimentError::NothingToSweep { setting } => {
                msg![*setting, ": give at least one value to sweep"]
            }
            ExperimentError::NotARunFolder { .. }
            | ExperimentError::NotAPlan { .. }
            | ExperimentError::NoSuchRun { .. }
            | ExperimentError::PlanDiffers { .. }
            | ExperimentError::RunFolderTaken { .. }
            | ExperimentError::RunsMissing { .. }
            | ExperimentError::SweepUndefined { .. }
            | ExperimentError::Chart { .. }
            | ExperimentError::Train(_) => return None,
        })
    }

    fn by_keys(&self) -> String {
        self.named().map(|m| m.to_string()).unwrap_or_default()
    }

    /// The message, each setting named by `names` (`Display` names them by their keys).
    pub fn render(&self, names: &dyn Fn(Setting) -> String) -> String {
        match (self.named(), self) {
            (Some(m), _) => m.render(names),
            (None, ExperimentError::Train(e)) => e.render(names),
            (None, other) => other.to_string(),
        }
    }
}
