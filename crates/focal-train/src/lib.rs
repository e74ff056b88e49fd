//! Train classifiers on imbalanced data with any remedy, judged per class, on CPU or GPU.
//!
//! The pieces, in the order data flows through them:
//! - [`PreparedData`]: the task (e.g. one rare positive class at 98:2) and its train/val/test
//!   split, built once and shared by every remedy and seed of a comparison;
//! - [`Remedy`] / [`REMEDIES`]: the imbalance remedies, each a data side and a loss;
//! - [`Model`] / [`ModelKind`]: MLP, small CNN, torchvision ResNet-18/50 (optionally pretrained);
//! - [`train()`] / [`resume()`]: our own training loop (Adam or SGD, schedules, clipping, NaN
//!   guard, early stopping on validation PR-AUC, a checkpoint per epoch);
//! - [`run`]: the run folder it writes (every file format is defined there), with test metrics
//!   at two decision rules: argmax, and a threshold tuned on validation;
//! - [`predict`] / [`export`]: a finished run applied to new data, or written out as weights.
//!
//! Several runs on one split (comparisons, sweeps, ensembles, plans for many processes) and the
//! HTML reports are the crate `focal-experiment`'s.
//!
//! ARCHITECTURE.md at the repository root draws the modules and what may import what.
//!
//! ```no_run
//! use focal_train::{NoProgress, PreparedData, RemedyKind, TrainConfig, train};
//! use focal_data::task::{ClassSelector, TaskSpec};
//!
//! let source = focal_data::bundled()?;
//! let spec = TaskSpec { positive: Some(ClassSelector::Name("Shirt".into())), ratio: Some((98, 2)), long_tail: None, allow_majority_positive: false, seed: 0 };
//! let data = PreparedData::new(&source, &spec, Default::default())?;
//! let summary = train(&TrainConfig::for_remedy(RemedyKind::Focal), &data, "runs/focal".as_ref(), &NoProgress)?;
//! println!("{}", focal_train::run::render_report(&summary.metrics));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod augmentation;
mod config;
mod data;
pub mod device;
mod error;
mod evaluate;
pub mod export;
pub mod finetune;
pub mod judge;
pub mod model;
mod named;
pub mod predict;
mod progress;
mod remedy;
pub mod run;
mod setting;
mod source;
pub mod train;
pub mod transfer;
mod value;

pub use augmentation::{
    AugmentScope, Augmentation, DEFAULT_AUGMENT_FLIP, DEFAULT_AUGMENT_ROTATE,
    DEFAULT_AUGMENT_SHIFT, MAX_AUGMENT_ROTATE,
};
pub use config::{
    ADAM_EPSILON, AugmentChoice, AugmentSpec, Calibration, OptimizerKind, ScheduleKind, Streaming,
    TrainConfig, TrainSpec,
};
pub use data::{
    DataSource, DeviceSet, HostBatch, HostSet, InputNormalization, PRETRAINED_SIZE, PreparedData,
    Reading, SCRATCH_RESNET_SIZE, Statistics, TaskKind, TaskRecord, default_image_size,
    minority_class,
};
pub use device::DeviceChoice;
pub use error::{SplitName, TrainError};
pub use evaluate::{
    ClassScores, DecisionRule, Predictions, RuleMetrics, ThresholdObjective, Tuned, tune,
};
pub use model::{Model, ModelKind};
pub use named::Named;
pub use progress::{NoProgress, Progress};
pub use remedy::{
    Alpha, DEFAULT_CB_BETA, DEFAULT_DRW_BETA, DEFAULT_EPSILON, DEFAULT_GAMMA, DEFAULT_TAU,
    DataSide, Loss, Remedy, RemedyInfo, RemedyKind, RemedyParams, RemedyRecord,
};
pub use run::{TrainState, read_config, read_split};
pub use setting::{Message, Setting, setting_list};
pub use train::{
    RunSummary, epoch_seed, evaluate_run, evaluate_run_predictions, final_metrics, predict, resume,
    train,
};
pub use value::{
    Beta, ClassWeights, ClipNorm, Gamma, LearningRate, PolyEpsilon, PositiveWeight, Prior,
    TargetRecall, Tau, Threshold, WeightDecay,
};

pub use source::{
    CNN_MAX_SIDE, DEFAULT_POSITIVE, DEFAULT_RATIO, DataSpec, FEW_POSITIVES, ModelChoice, ModelWhy,
    few_positives_warnings,
};
