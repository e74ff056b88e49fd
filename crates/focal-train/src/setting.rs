//! Every setting a user sets, by its key; messages name them as values (see
//! [`focal_data::Message`]), so that a command-line tool prints its flags where the library
//! prints keys.

use std::fmt;

use focal_data::{DataSetting, Part};

/// A setting of a run, an experiment, a prediction or an export, by its key in `config.json`
/// (or, for those no file records, in the library's API). A command-line tool maps each to its
/// flag in one table; the library never names a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    /// A setting of loading the data or building the task.
    Data(DataSetting),
    /// The architecture.
    Model,
    /// The remedy of a run.
    Remedy,
    /// The remedies of a comparison.
    Remedies,
    /// Number of epochs.
    Epochs,
    /// Samples per step.
    BatchSize,
    /// Learning rate.
    Lr,
    /// The optimizer.
    Optimizer,
    /// L2 weight decay.
    WeightDecay,
    /// The learning-rate schedule.
    Schedule,
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
    /// Which pretrained layers train.
    Finetune,
    /// The head of a ResNet.
    Head,
    /// Where a frozen backbone's features are cached.
    FeatureCache,
    /// Focusing parameter of the focal losses.
    Gamma,
    /// Class weights.
    Alpha,
    /// The alphas a sweep tries at the best gamma.
    ThenAlpha,
    /// Effective-number beta.
    Beta,
    /// Logit-adjustment temperature.
    Tau,
    /// Poly-1 epsilon.
    Epsilon,
    /// Where to train.
    Device,
    /// Worker threads of the CPU backend.
    Threads,
    /// Whether training samples stream from the host.
    Stream,
    /// Calibration after training.
    Calibrate,
    /// Epochs between last checkpoints.
    CheckpointEvery,
    /// Where a run logs for experiment trackers.
    LogDir,
    /// The seed of everything random.
    Seed,
    /// The training seeds of an experiment.
    Seeds,
    /// The seeds an ensemble averages.
    Ensemble,
    /// Worker processes of an experiment.
    Jobs,
    /// Which training images are augmented.
    Augment,
    /// Horizontal flips of augmented images.
    AugmentFlip,
    /// The largest shift of augmented images.
    AugmentShift,
    /// The largest rotation of augmented images.
    AugmentRotate,
    /// The decision rule of predictions.
    Rule,
    /// A decision threshold on the positive class's probability.
    Threshold,
    /// The weight-file format of an export.
    ExportFormat,
    /// A run folder to continue.
    Resume,
    /// A run or experiment folder to read.
    Run,
    /// A file of predictions to judge.
    Predictions,
    /// The class names of a predictions file.
    ClassNames,
    /// Digits of a classification report.
    Digits,
    /// Where results are written.
    Out,
}

impl Setting {
    /// The key in `config.json` (and in the library's own messages).
    pub fn key(self) -> &'static str {
        match self {
            Setting::Data(d) => d.key(),
            Setting::Model => "model",
            Setting::Remedy => "remedy",
            Setting::Remedies => "remedies",
            Setting::Epochs => "epochs",
            Setting::BatchSize => "batch_size",
            Setting::Lr => "lr",
            Setting::Optimizer => "optimizer",
            Setting::WeightDecay => "weight_decay",
            Setting::Schedule => "schedule",
            Setting::ClipGrad => "clip_grad",
            Setting::WarmupEpochs => "warmup_epochs",
            Setting::EarlyStop => "early_stop",
            Setting::TargetRecall => "target_recall",
            Setting::PriorBias => "prior_bias",
            Setting::Pretrained => "pretrained",
            Setting::Finetune => "finetune",
            Setting::Head => "head",
            Setting::FeatureCache => "feature_cache",
            Setting::Gamma => "gamma",
            Setting::Alpha => "alpha",
            Setting::ThenAlpha => "then_alpha",
            Setting::Beta => "beta",
            Setting::Tau => "tau",
            Setting::Epsilon => "epsilon",
            Setting::Device => "device",
            Setting::Threads => "threads",
            Setting::Stream => "stream",
            Setting::Calibrate => "calibrate",
            Setting::CheckpointEvery => "checkpoint_every",
            Setting::LogDir => "log_dir",
            Setting::Seed => "seed",
            Setting::Seeds => "seeds",
            Setting::Ensemble => "ensemble",
            Setting::Jobs => "jobs",
            Setting::Augment => "augment",
            Setting::AugmentFlip => "augment.flip",
            Setting::AugmentShift => "augment.shift",
            Setting::AugmentRotate => "augment.rotate",
            Setting::Rule => "rule",
            Setting::Threshold => "threshold",
            Setting::ExportFormat => "export format",
            Setting::Resume => "resume",
            Setting::Run => "run",
            Setting::Predictions => "predictions",
            Setting::ClassNames => "class_names",
            Setting::Digits => "digits",
            Setting::Out => "out",
        }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl From<DataSetting> for Setting {
    fn from(d: DataSetting) -> Self {
        Setting::Data(d)
    }
}

impl From<Setting> for Part<Setting> {
    fn from(s: Setting) -> Self {
        Part::Setting(s)
    }
}

/// Words that name settings of this crate (see [`focal_data::Message`]).
pub type Message = focal_data::Message<Setting>;

/// The names of `settings`, comma-separated (for "it reads: gamma, alpha"), as a message.
pub fn setting_list(settings: &[Setting]) -> Message {
    if settings.is_empty() {
        return focal_data::msg!["no parameter"];
    }
    let mut m = focal_data::Message(Vec::new());
    for (i, s) in settings.iter().enumerate() {
        if i > 0 {
            m.0.push(Part::from(", "));
        }
        m.0.push(Part::Setting(*s));
    }
    m
}
