//! The one error type of focal-train.
//!
//! Variants carry data (the setting, the value, what is allowed, the file), never command-line
//! flag names: a variant whose message names a setting holds that message as a [`Message`],
//! the settings in it as values, and [`TrainError::render`] names them as its caller does (a
//! command-line tool by their flags); `Display` names them by their keys, as in `config.json`.

use std::fmt;
use std::path::PathBuf;

use focal_data::{DataSetting as D, msg};

use crate::setting::{Message, Setting, setting_list};

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
    #[error("{}", self.by_keys())]
    OutOfRange {
        /// The setting.
        setting: Setting,
        /// The value given, as text.
        value: String,
        /// What the setting allows (and a hint).
        allowed: &'static str,
    },
    /// A remedy parameter given to a remedy that does not read it.
    #[error("{}", self.by_keys())]
    NotApplicable {
        /// The parameter given.
        setting: Setting,
        /// The remedy.
        remedy: &'static str,
        /// The parameters the remedy reads.
        reads: &'static [Setting],
    },
    /// A remedy parameter that none of an experiment's remedies reads.
    #[error("{}", self.by_keys())]
    ReadByNone {
        /// The parameter given.
        setting: Setting,
        /// The experiment's remedies.
        remedies: Vec<&'static str>,
        /// The remedies that read it.
        readers: Vec<&'static str>,
    },
    /// A setting whose value cannot be used, with the whole message (its settings as values).
    #[error("{message}")]
    Invalid {
        /// What is wrong and how to fix it.
        message: Message,
    },
    /// Warm-up as long as the whole run.
    #[error("{}", self.by_keys())]
    WarmupTooLong {
        /// Warm-up epochs.
        warmup: usize,
        /// Epochs.
        epochs: usize,
    },
    /// A setting that needs a binary task, on a multi-class one.
    #[error("{}", self.by_keys())]
    NeedsBinaryTask {
        /// The setting.
        setting: Setting,
    },
    /// A class index that the task does not have.
    #[error("{}", self.by_keys())]
    NoSuchClass {
        /// The setting that named the class.
        setting: Setting,
        /// The class index.
        class: usize,
        /// The task's class count.
        n_classes: usize,
    },
    /// Pretrained torchvision weights asked for a model that has none.
    #[error("{}", self.by_keys())]
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
    #[error("{}", self.by_keys())]
    BadAlpha {
        /// The text given.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// One class weight on a task of more than two classes.
    #[error("{}", self.by_keys())]
    ScalarAlphaNeedsTwoClasses {
        /// The task's class count.
        n_classes: usize,
    },
    /// A list of class weights of the wrong length.
    #[error("{}", self.by_keys())]
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
    #[error("{}", self.by_keys())]
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
    #[error("{}", self.by_keys())]
    DataMismatch {
        /// The run folder.
        run: PathBuf,
        /// The run's fingerprint.
        expected: String,
        /// The fingerprint of the data given.
        found: String,
    },
    /// The split rebuilt from the data is not the run's `split.json`.
    #[error("{}", self.by_keys())]
    SplitMismatch {
        /// The run folder.
        run: PathBuf,
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
    /// Augmentation asked for on feature rows.
    #[error("{}", self.by_keys())]
    AugmentNeedsImages,
    /// Augmentation with every transform off.
    #[error("{}", self.by_keys())]
    NoAugmentTransform,
    /// A shift as large as the images.
    #[error("{}", self.by_keys())]
    AugmentShiftTooLarge {
        /// The largest shift asked for, in pixels.
        shift: usize,
        /// Image height.
        height: usize,
        /// Image width.
        width: usize,
    },
    /// Augmentation turned off for a remedy that augments.
    #[error("{}", self.by_keys())]
    AugmentOff {
        /// The remedy.
        remedy: &'static str,
    },
    /// A transform set while augmentation is turned off.
    #[error("{}", self.by_keys())]
    TransformWhileOff {
        /// The transform's setting.
        setting: Setting,
    },
    /// A transform set with no run to apply it to (no scope, no remedy that augments).
    #[error("{}", self.by_keys())]
    TransformWithoutAugment {
        /// The transform's setting.
        setting: Setting,
        /// The remedies that augment, comma-separated.
        remedies: String,
    },
    /// A remedy that augments, configured without augmentation.
    #[error("{}", self.by_keys())]
    RemedyNeedsAugmentation {
        /// The remedy.
        remedy: &'static str,
    },
    /// An image model asked for tabular data.
    #[error("{}", self.by_keys())]
    ModelNeedsImages {
        /// The model asked for.
        model: &'static str,
    },
    /// Images too small for the model.
    #[error("{}", self.by_keys())]
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
    #[error("{}", self.by_keys())]
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
        message: Message,
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

    /// The message of a variant that names settings, the settings in it as values; `None`
    /// for the others (whose messages name files, counts and values only).
    fn named(&self) -> Option<Message> {
        use Setting as S;
        Some(match self {
            TrainError::OutOfRange {
                setting,
                value,
                allowed,
            } => msg![*setting, format!(" {value}: {allowed}")],
            TrainError::NotApplicable {
                setting,
                remedy,
                reads,
            } => {
                let mut m = msg![
                    *setting,
                    format!(" does not apply to remedy {remedy}; it reads: ")
                ];
                m.0.extend(setting_list(reads).0);
                m
            }
            TrainError::ReadByNone {
                setting,
                remedies,
                readers,
            } => msg![
                *setting,
                " applies to none of ",
                S::Remedies,
                format!(
                    " {}; it is read by: {}",
                    remedies.join(","),
                    readers.join(", ")
                )
            ],
            TrainError::WarmupTooLong { warmup, epochs } => msg![
                S::WarmupEpochs,
                format!(" {warmup}: must be below "),
                S::Epochs,
                format!(" {epochs}")
            ],
            TrainError::NeedsBinaryTask { setting } => msg![
                *setting,
                " needs a binary task (",
                S::Data(D::Positive),
                " CLASS)"
            ],
            TrainError::NoSuchClass {
                setting,
                class,
                n_classes,
            } => msg![
                *setting,
                format!(": class {class} is not one of the {n_classes} classes")
            ],
            TrainError::PretrainedNeedsResnet { model } => msg![
                S::Pretrained,
                " needs ",
                S::Model,
                " resnet18 or resnet50 (torchvision weights); got ",
                S::Model,
                format!(" {model}")
            ],
            TrainError::BadAlpha { text, reason } => msg![
                S::Alpha,
                format!(
                    " {text:?}: {reason}; give a number, a comma-separated list, `auto` or cb:BETA"
                )
            ],
            TrainError::ScalarAlphaNeedsTwoClasses { n_classes } => msg![
                S::Alpha,
                format!(
                    ": a single number is for two classes; this task has {n_classes}: give \
                     {n_classes} comma-separated weights, `auto` or cb:BETA"
                )
            ],
            TrainError::AlphaLength { given, n_classes } => msg![
                S::Alpha,
                format!(": {given} weights for {n_classes} classes; give one weight per class")
            ],
            TrainError::NoTrainingSample { class, name } => msg![
                format!("class {class} ({name}) has no training sample; use more data or another "),
                S::Data(D::Ratio)
            ],
            TrainError::DataMismatch {
                run,
                expected,
                found,
            } => msg![
                format!(
                    "{}: the data differ from the run's (fingerprint {found} vs {expected}); \
                     pass the run's ",
                    run.display()
                ),
                S::Data(D::Data)
            ],
            TrainError::SplitMismatch { run } => msg![
                format!(
                    "{}: the split rebuilt from the data differs from split.json; pass the \
                     run's ",
                    run.display()
                ),
                S::Data(D::Data)
            ],
            TrainError::AugmentNeedsImages => msg![
                S::Augment,
                ": augmentation transforms images; this data set holds feature rows (CSV): \
                 drop ",
                S::Augment,
                " (and the remedy oversample-augment)"
            ],
            TrainError::NoAugmentTransform => msg![
                S::Augment,
                " with no transform (",
                S::AugmentFlip,
                " off, ",
                S::AugmentShift,
                " 0, ",
                S::AugmentRotate,
                " 0): turn one on, or drop ",
                S::Augment
            ],
            TrainError::AugmentShiftTooLarge {
                shift,
                height,
                width,
            } => msg![
                S::AugmentShift,
                format!(" {shift}: the shift must be below the image size ({width}x{height})")
            ],
            TrainError::AugmentOff { remedy } => msg![
                S::Augment,
                format!(
                    " none: remedy {remedy} augments the minority class's images; use remedy \
                     oversample for over-sampling alone"
                )
            ],
            TrainError::TransformWhileOff { setting } => msg![
                *setting,
                " sets a transform but ",
                S::Augment,
                " none turns augmentation off; drop one of them"
            ],
            TrainError::TransformWithoutAugment { setting, remedies } => msg![
                *setting,
                " needs ",
                S::Augment,
                " minority or ",
                S::Augment,
                format!(" all (which training images to transform), or remedy {remedies}")
            ],
            TrainError::RemedyNeedsAugmentation { remedy } => msg![
                format!("remedy {remedy} augments minority images; it needs "),
                S::Augment,
                " minority or all"
            ],
            TrainError::ModelNeedsImages { model } => msg![
                format!("model {model} needs images; this data set holds feature rows: use "),
                S::Model,
                " mlp"
            ],
            TrainError::ImageTooSmall {
                model,
                height,
                width,
                min,
            } => msg![
                format!(
                    "model {model} needs images of at least {min}x{min}; these are \
                     {height}x{width}: use "
                ),
                S::Model,
                " mlp"
            ],
            TrainError::NonFinite {
                epoch,
                step,
                value,
                last_good_epoch,
            } => msg![
                format!(
                    "the loss became {value} at epoch {epoch}, step {step}; training stopped \
                     and the last good checkpoint (epoch {last_good_epoch}) is kept: try a \
                     lower learning rate or gradient clipping, e.g. "
                ),
                S::Lr,
                " 1e-4 or ",
                S::ClipGrad,
                " 1.0"
            ],
            TrainError::Device { message } | TrainError::Invalid { message } => message.clone(),
            TrainError::UnknownName { .. }
            | TrainError::PretrainedNeedsImagenetInputs
            | TrainError::EmptySplit { .. }
            | TrainError::SplitIndexBeyondData { .. }
            | TrainError::SmoteTooFewSamples { .. }
            | TrainError::PoolTooSmall { .. }
            | TrainError::RunBusy { .. }
            | TrainError::Pretrained { .. }
            | TrainError::Io { .. }
            | TrainError::Format { .. }
            | TrainError::Checkpoint { .. }
            | TrainError::CheckpointWrite { .. }
            | TrainError::UnknownLabel { .. }
            | TrainError::Data(_)
            | TrainError::Loss(_)
            | TrainError::Metrics(_) => return None,
        })
    }

    /// The message with its settings named by their keys (the `Display` of the variants that
    /// name settings).
    fn by_keys(&self) -> String {
        self.named().map(|m| m.to_string()).unwrap_or_default()
    }

    /// The message, each setting named by `names` (`Display` names them by their keys, as
    /// `config.json` does): a command-line tool passes the flags that set them.
    pub fn render(&self, names: &dyn Fn(Setting) -> String) -> String {
        match (self.named(), self) {
            (Some(m), _) => m.render(names),
            (None, TrainError::Data(d)) => d.render(&|s| names(Setting::Data(s))),
            (None, other) => other.to_string(),
        }
    }

    /// A [`TrainError::Invalid`]: `message` says what is wrong, naming the settings.
    pub fn invalid(message: impl Into<Message>) -> Self {
        TrainError::Invalid {
            message: message.into(),
        }
    }

    /// A [`TrainError::Device`]: the device, or an operation on it, failed.
    pub fn device(message: impl Into<Message>) -> Self {
        TrainError::Device {
            message: message.into(),
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
