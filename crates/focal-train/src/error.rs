//! The one error type of focal-train.
//!
//! Variants carry data (the setting, the value, what is allowed, the file), never command-line
//! flag names: a setting is named by its [`Setting`], as in `config.json`, and the CLI maps each
//! setting to its flag.

use std::fmt;
use std::path::PathBuf;

/// A training setting, by its key in `config.json`; the CLI maps each to its flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    /// Number of epochs.
    Epochs,
    /// Samples per step.
    BatchSize,
    /// Learning rate.
    Lr,
    /// L2 weight decay.
    WeightDecay,
    /// Gradient clipping norm.
    ClipGrad,
    /// Warm-up epochs.
    WarmupEpochs,
    /// Early-stopping patience.
    EarlyStop,
    /// Recall the threshold is tuned for.
    TargetRecall,
    /// Prior probability of the positive class at initialisation.
    PriorBias,
    /// Pretrained weights.
    Pretrained,
    /// Focusing parameter of the focal losses.
    Gamma,
    /// Class weights.
    Alpha,
    /// Effective-number beta.
    Beta,
    /// Logit-adjustment temperature.
    Tau,
    /// Poly-1 epsilon.
    Epsilon,
    /// The imposed `negative:positive` ratio.
    Ratio,
    /// The training seeds of an experiment.
    Seeds,
    /// Epochs between last checkpoints.
    CheckpointEvery,
    /// Worker threads of the CPU backend.
    Threads,
    /// The size images are loaded at.
    ImageSize,
    /// The decision rule of predictions.
    Rule,
    /// The weight-file format of an export.
    ExportFormat,
    /// Which training images are augmented.
    Augment,
    /// Horizontal flips of augmented images.
    AugmentFlip,
    /// The largest shift of augmented images.
    AugmentShift,
    /// The largest rotation of augmented images.
    AugmentRotate,
}

impl Setting {
    /// The key in `config.json` (and in messages).
    pub fn name(self) -> &'static str {
        match self {
            Setting::Epochs => "epochs",
            Setting::BatchSize => "batch_size",
            Setting::Lr => "lr",
            Setting::WeightDecay => "weight_decay",
            Setting::ClipGrad => "clip_grad",
            Setting::WarmupEpochs => "warmup_epochs",
            Setting::EarlyStop => "early_stop",
            Setting::TargetRecall => "target_recall",
            Setting::PriorBias => "prior_bias",
            Setting::Pretrained => "pretrained",
            Setting::Gamma => "gamma",
            Setting::Alpha => "alpha",
            Setting::Beta => "beta",
            Setting::Tau => "tau",
            Setting::Epsilon => "epsilon",
            Setting::Ratio => "ratio",
            Setting::Seeds => "seeds",
            Setting::CheckpointEvery => "checkpoint_every",
            Setting::Threads => "threads",
            Setting::ImageSize => "image_size",
            Setting::Rule => "rule",
            Setting::ExportFormat => "export format",
            Setting::Augment => "augment",
            Setting::AugmentFlip => "augment.flip",
            Setting::AugmentShift => "augment.shift",
            Setting::AugmentRotate => "augment.rotate",
        }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The names of `settings`, comma-separated (for "it reads: gamma, alpha").
fn names(settings: &[Setting]) -> String {
    if settings.is_empty() {
        return "no parameter".to_string();
    }
    settings
        .iter()
        .map(|s| s.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The three splits of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitName {
    /// Training split.
    Train,
    /// Validation split.
    Validation,
    /// Test split.
    Test,
}

impl fmt::Display for SplitName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SplitName::Train => "train",
            SplitName::Validation => "validation",
            SplitName::Test => "test",
        })
    }
}

/// Everything that can go wrong while configuring, training or evaluating.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A name (remedy, model, optimizer, schedule, device) that is not one of the valid ones.
    #[error("unknown {what} {name:?}; valid: {valid}")]
    UnknownName {
        /// What kind of name.
        what: &'static str,
        /// The name given.
        name: String,
        /// The valid names, comma-separated.
        valid: String,
    },
    /// A setting whose value is outside what it allows.
    #[error("{setting} {value}: {allowed}")]
    OutOfRange {
        /// The setting.
        setting: Setting,
        /// The value given, as text.
        value: String,
        /// What the setting allows (and a hint).
        allowed: &'static str,
    },
    /// A remedy parameter given to a remedy that does not read it.
    #[error(
        "{setting} does not apply to remedy {remedy}; it reads: {}",
        names(reads)
    )]
    NotApplicable {
        /// The parameter given.
        setting: Setting,
        /// The remedy.
        remedy: &'static str,
        /// The parameters the remedy reads.
        reads: &'static [Setting],
    },
    /// Warm-up as long as the whole run.
    #[error("warmup_epochs {warmup}: must be below epochs {epochs}")]
    WarmupTooLong {
        /// Warm-up epochs.
        warmup: usize,
        /// Epochs.
        epochs: usize,
    },
    /// A setting that needs a binary task, on a multi-class one.
    #[error("{setting} needs a binary task (one positive class)")]
    NeedsBinaryTask {
        /// The setting.
        setting: Setting,
    },
    /// A class index that the task does not have.
    #[error("{setting}: class {class} is not one of the {n_classes} classes")]
    NoSuchClass {
        /// The setting that named the class.
        setting: Setting,
        /// The class index.
        class: usize,
        /// The task's class count.
        n_classes: usize,
    },
    /// Pretrained torchvision weights asked for a model that has none.
    #[error(
        "pretrained weights need model resnet18 or resnet50 (torchvision weights); got {model}"
    )]
    PretrainedNeedsResnet {
        /// The model asked for.
        model: &'static str,
    },
    /// Pretrained weights with inputs not normalised as torchvision's weights expect.
    #[error(
        "pretrained weights expect RGB inputs normalised with ImageNet's mean and standard \
         deviation; prepare the data with PreparedData::with_input_normalization(InputNormalization::Imagenet)"
    )]
    PretrainedNeedsImagenetInputs,
    /// A class-weight text that cannot be read.
    #[error("alpha {text:?}: {reason}; give a number, a comma-separated list, `auto` or cb:BETA")]
    BadAlpha {
        /// The text given.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// One class weight on a task of more than two classes.
    #[error(
        "alpha: a single number is for two classes; this task has {n_classes}: give {n_classes} comma-separated weights, `auto` or cb:BETA"
    )]
    ScalarAlphaNeedsTwoClasses {
        /// The task's class count.
        n_classes: usize,
    },
    /// A list of class weights of the wrong length.
    #[error("alpha: {given} weights for {n_classes} classes; give one weight per class")]
    AlphaLength {
        /// Weights given.
        given: usize,
        /// The task's class count.
        n_classes: usize,
    },
    /// An empty split.
    #[error(
        "the {split} split is empty ({samples} samples in all); use more data or other split fractions"
    )]
    EmptySplit {
        /// The split.
        split: SplitName,
        /// Samples in the data set.
        samples: usize,
    },
    /// A split index beyond the data set.
    #[error("the {split} split holds index {index}, beyond the data ({samples} samples)")]
    SplitIndexBeyondData {
        /// The split.
        split: SplitName,
        /// The index.
        index: usize,
        /// Samples in the data set.
        samples: usize,
    },
    /// A class with no training sample.
    #[error("class {class} ({name}) has no training sample; use more data or another ratio")]
    NoTrainingSample {
        /// The class index.
        class: usize,
        /// Its name.
        name: String,
    },
    /// SMOTE with fewer than two samples of a class.
    #[error(
        "remedy smote needs at least 2 training samples of every class (the rarest has {found}); use more data"
    )]
    SmoteTooFewSamples {
        /// Samples of the rarest class.
        found: usize,
    },
    /// A pool too small for the asked split sizes.
    #[error(
        "splits of {sizes:?} samples at {ratio_negative}:{ratio_positive} need {need} samples of {class}, the pool has {have}; ask for smaller splits"
    )]
    PoolTooSmall {
        /// The asked split sizes.
        sizes: [usize; 3],
        /// Negative part of the ratio.
        ratio_negative: u32,
        /// Positive part of the ratio.
        ratio_positive: u32,
        /// The class that runs short.
        class: String,
        /// Samples needed.
        need: usize,
        /// Samples in the pool.
        have: usize,
    },
    /// Data that are not the run's (by fingerprint).
    #[error(
        "{run}: the data differ from the run's (fingerprint {found} vs {expected}); pass the run's data"
    )]
    DataMismatch {
        /// The run folder.
        run: PathBuf,
        /// The run's fingerprint.
        expected: String,
        /// The fingerprint of the data given.
        found: String,
    },
    /// The split rebuilt from the data is not the run's `split.json`.
    #[error("{run}: the split rebuilt from the data differs from split.json; pass the run's data")]
    SplitMismatch {
        /// The run folder.
        run: PathBuf,
    },
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
    /// Another process (or thread) is training the run folder.
    #[error(
        "{run}: another focal process{} is training this run folder (its lock file .lock); \
         wait for it to finish, or stop it first",
        pid.map_or(String::new(), |p| format!(" (pid {p})"))
    )]
    RunBusy {
        /// The run folder.
        run: PathBuf,
        /// The holder's process id, as its lock file says.
        pid: Option<u32>,
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
    #[error(
        "--ensemble {k}: an ensemble averages a group of K >= 2 seeds, and --seeds must be a multiple of K (it is {seeds}); e.g. --ensemble {} --seeds {}, or --seeds {} for a noise estimate over three ensembles",
        .k.max(&2),
        .k.max(&2),
        3 * .k.max(&2)
    )]
    EnsembleSeeds {
        /// The seeds asked to average.
        k: usize,
        /// The seeds each entry has.
        seeds: usize,
    },
    /// An experiment with nothing in it.
    #[error("nothing to run: give at least one remedy (or setting) and one seed")]
    NothingToRun,
    /// A sweep without values of its parameter.
    #[error("{setting}: give at least one value to sweep")]
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
    /// Augmentation asked for on feature rows.
    #[error(
        "augmentation transforms images; this data set holds feature rows: train without augment"
    )]
    AugmentNeedsImages,
    /// Augmentation with every transform off.
    #[error(
        "augment with no transform: flip off, shift 0 and rotate 0; turn one on, or train without augment"
    )]
    NoAugmentTransform,
    /// A shift as large as the images.
    #[error("augment.shift {shift}: the shift must be below the image size ({width}x{height})")]
    AugmentShiftTooLarge {
        /// The largest shift asked for, in pixels.
        shift: usize,
        /// Image height.
        height: usize,
        /// Image width.
        width: usize,
    },
    /// A remedy that augments, configured without augmentation.
    #[error("remedy {remedy} augments minority images; it needs augment minority or all")]
    RemedyNeedsAugmentation {
        /// The remedy.
        remedy: &'static str,
    },
    /// An image model asked for tabular data.
    #[error("model {model} needs images; this data set holds feature rows: use model mlp")]
    ModelNeedsImages {
        /// The model asked for.
        model: &'static str,
    },
    /// Images too small for the model.
    #[error(
        "model {model} needs images of at least {min}x{min}; these are {height}x{width}: use model mlp"
    )]
    ImageTooSmall {
        /// The model asked for.
        model: &'static str,
        /// Image height.
        height: usize,
        /// Image width.
        width: usize,
        /// Smallest side the model accepts.
        min: usize,
    },
    /// A pretrained weight file that cannot be used.
    #[error("pretrained weights {path}: {message}")]
    Pretrained {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The loss became NaN or infinite.
    #[error(
        "the loss became {value} at epoch {epoch}, step {step}; training stopped and the last good \
         checkpoint (epoch {last_good_epoch}) is kept: try a lower learning rate or gradient clipping at norm 1.0"
    )]
    NonFinite {
        /// Epoch (1-based) of the bad step.
        epoch: usize,
        /// Step within the epoch (1-based).
        step: usize,
        /// The loss value (NaN or inf).
        value: f32,
        /// The last epoch whose checkpoint was written (0: none).
        last_good_epoch: usize,
    },
    /// Reading or writing a file of the run folder.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause (in the message, not chained as a source, so that error chains printed
        /// with anyhow's `{:#}` do not repeat it).
        error: std::io::Error,
    },
    /// A JSON or CSV file that cannot be parsed or written.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A Burn record (checkpoint) that cannot be saved or loaded.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Writing a checkpoint failed (a full disk, a quota); the previous one is kept.
    #[error(
        "{run}: writing the checkpoint of epoch {epoch} failed ({cause}); the last good \
         checkpoint{} is kept; free disk space, then resume the run",
        kept.map_or(" (none yet)".to_string(), |e| format!(" (epoch {e})"))
    )]
    CheckpointWrite {
        /// The run folder.
        run: PathBuf,
        /// The epoch whose checkpoint was being written.
        epoch: usize,
        /// The epoch of the checkpoint kept, if any.
        kept: Option<usize>,
        /// The failed write, in words.
        cause: String,
    },
    /// A chart of a report that could not be drawn.
    #[error("drawing {chart}: {message}")]
    Chart {
        /// The chart's title.
        chart: String,
        /// What went wrong.
        message: String,
    },
    /// Labelled data given to judge a run's predictions hold classes the run does not know.
    #[error(
        "{path}: class {class:?} is not among the run's classes ({expected}); give data with the \
         classes the run was trained on, or predict without judging"
    )]
    UnknownLabel {
        /// The data.
        path: PathBuf,
        /// The data's class that the run lacks.
        class: String,
        /// The run's classes (or its positive class), comma-separated.
        expected: String,
    },
    /// The data set or task could not be prepared.
    #[error(transparent)]
    Data(#[from] focal_data::DataError),
    /// A loss could not be configured.
    #[error(transparent)]
    Loss(#[from] focal_loss::FocalLossError),
    /// A metric could not be computed.
    #[error(transparent)]
    Metrics(#[from] focal_metrics::MetricsError),
    /// The asked device is not available.
    #[error("{message}")]
    Device {
        /// What is missing and how to get it.
        message: String,
    },
}

impl TrainError {
    /// A [`TrainError::OutOfRange`] for `setting` at `value`.
    pub fn out_of_range(setting: Setting, value: impl fmt::Display, allowed: &'static str) -> Self {
        TrainError::OutOfRange {
            setting,
            value: value.to_string(),
            allowed,
        }
    }

    /// The setting this error is about, if it is about one (the CLI names its flag).
    pub fn setting(&self) -> Option<Setting> {
        match self {
            TrainError::OutOfRange { setting, .. }
            | TrainError::NotApplicable { setting, .. }
            | TrainError::NeedsBinaryTask { setting }
            | TrainError::NoSuchClass { setting, .. }
            | TrainError::NothingToSweep { setting } => Some(*setting),
            TrainError::WarmupTooLong { .. } => Some(Setting::WarmupEpochs),
            TrainError::AugmentNeedsImages | TrainError::RemedyNeedsAugmentation { .. } => {
                Some(Setting::Augment)
            }
            TrainError::AugmentShiftTooLarge { .. } => Some(Setting::AugmentShift),
            TrainError::PretrainedNeedsResnet { .. }
            | TrainError::PretrainedNeedsImagenetInputs => Some(Setting::Pretrained),
            TrainError::BadAlpha { .. }
            | TrainError::ScalarAlphaNeedsTwoClasses { .. }
            | TrainError::AlphaLength { .. } => Some(Setting::Alpha),
            _ => None,
        }
    }

    /// A [`TrainError::Io`] about `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        TrainError::Io {
            path: path.into(),
            error: source,
        }
    }

    /// A [`TrainError::Format`] about `path`.
    pub fn format(path: impl Into<PathBuf>, message: impl fmt::Display) -> Self {
        TrainError::Format {
            path: path.into(),
            message: message.to_string(),
        }
    }
}
