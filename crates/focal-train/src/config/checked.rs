//! [`TrainConfig`]: a run's settings, checked (private fields, read through its methods), and
//! how `config.json` records it.

use std::fmt;
use std::path::{Path, PathBuf};

use focal_data::SampleKind;

use super::kinds::{Calibration, OptimizerKind, ScheduleKind, Streaming};
use crate::augmentation::Augmentation;
use crate::device::DeviceChoice;
use crate::error::TrainError;
use crate::finetune::{FeatureCache, Finetune, HeadKind};
use crate::model::ModelKind;
use crate::remedy::Remedy;
use crate::setting::Setting;
use crate::value::{ClipNorm, LearningRate, Prior, TargetRecall, WeightDecay};

/// The settings of one training run, checked (not the data: see [`crate::PreparedData`]): a
/// value of this type is a valid configuration, made only by [`TrainSpec::check`] or read back
/// from a run's `config.json` (checked again).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "ConfigRecord")]
pub struct TrainConfig {
    model: ModelKind,
    remedy: Remedy,
    epochs: usize,
    batch_size: usize,
    lr: LearningRate,
    optimizer: OptimizerKind,
    weight_decay: WeightDecay,
    schedule: ScheduleKind,
    warmup_epochs: usize,
    clip_grad: Option<ClipNorm>,
    early_stop: Option<usize>,
    target_recall: Option<TargetRecall>,
    prior_bias: Option<Prior>,
    pretrained: Option<PathBuf>,
    device: DeviceChoice,
    #[serde(skip_serializing_if = "Streaming::is_auto")]
    stream: Streaming,
    checkpoint_every: usize,
    seed: u64,
    calibrate: Calibration,
    #[serde(skip_serializing_if = "Option::is_none")]
    augment: Option<Augmentation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Finetune::is_all")]
    finetune: Finetune,
    #[serde(skip_serializing_if = "HeadKind::is_linear")]
    head: HeadKind,
    #[serde(skip_serializing_if = "FeatureCache::is_auto")]
    feature_cache: FeatureCache,
}

/// `config.json`'s `train` as written, before it is checked; the fields added since the first
/// version default to what runs written before them did.
#[derive(serde::Deserialize)]
struct ConfigRecord {
    model: ModelKind,
    remedy: Remedy,
    epochs: usize,
    batch_size: usize,
    lr: f64,
    optimizer: OptimizerKind,
    weight_decay: f32,
    schedule: ScheduleKind,
    warmup_epochs: usize,
    clip_grad: Option<f32>,
    early_stop: Option<usize>,
    target_recall: Option<f64>,
    prior_bias: Option<f64>,
    pretrained: Option<PathBuf>,
    device: DeviceChoice,
    #[serde(default)]
    stream: Streaming,
    #[serde(default = "one")]
    checkpoint_every: usize,
    seed: u64,
    #[serde(default = "Calibration::not_recorded")]
    calibrate: Calibration,
    #[serde(default)]
    augment: Option<Augmentation>,
    #[serde(default)]
    log_dir: Option<PathBuf>,
    #[serde(default)]
    finetune: Finetune,
    #[serde(default)]
    head: HeadKind,
    #[serde(default)]
    feature_cache: FeatureCache,
}

fn one() -> usize {
    1
}

impl TryFrom<ConfigRecord> for TrainConfig {
    type Error = TrainError;
    fn try_from(r: ConfigRecord) -> Result<Self, TrainError> {
        TrainConfig::checked(
            r.model,
            r.remedy,
            Numbers {
                epochs: r.epochs,
                batch_size: r.batch_size,
                lr: r.lr,
                weight_decay: r.weight_decay,
                warmup_epochs: r.warmup_epochs,
                clip_grad: r.clip_grad,
                early_stop: r.early_stop,
                target_recall: r.target_recall,
                prior_bias: r.prior_bias,
                checkpoint_every: r.checkpoint_every,
            },
            Choices {
                optimizer: r.optimizer,
                schedule: r.schedule,
                pretrained: r.pretrained,
                device: r.device,
                stream: r.stream,
                seed: r.seed,
                calibrate: r.calibrate,
                augment: r.augment,
                log_dir: r.log_dir,
                finetune: r.finetune,
                head: r.head,
                feature_cache: r.feature_cache,
            },
        )
    }
}

/// The numeric settings of a run, before they are checked.
pub(crate) struct Numbers {
    pub(crate) epochs: usize,
    pub(crate) batch_size: usize,
    pub(crate) lr: f64,
    pub(crate) weight_decay: f32,
    pub(crate) warmup_epochs: usize,
    pub(crate) clip_grad: Option<f32>,
    pub(crate) early_stop: Option<usize>,
    pub(crate) target_recall: Option<f64>,
    pub(crate) prior_bias: Option<f64>,
    pub(crate) checkpoint_every: usize,
}

/// The other settings of a run.
pub(crate) struct Choices {
    pub(crate) optimizer: OptimizerKind,
    pub(crate) schedule: ScheduleKind,
    pub(crate) pretrained: Option<PathBuf>,
    pub(crate) device: DeviceChoice,
    pub(crate) stream: Streaming,
    pub(crate) seed: u64,
    pub(crate) calibrate: Calibration,
    pub(crate) augment: Option<Augmentation>,
    pub(crate) log_dir: Option<PathBuf>,
    pub(crate) finetune: Finetune,
    pub(crate) head: HeadKind,
    pub(crate) feature_cache: FeatureCache,
}

impl TrainConfig {
    /// Default epochs. Measured on two CPU cores: the bundled 98:2 task (6,406 training images)
    /// with the CNN takes about 7 s per epoch, so 10 epochs keep `focal train` near a minute
    /// and a half.
    pub const DEFAULT_EPOCHS: usize = 10;

    /// Every rule of a configuration, checked once; an error names the setting, its value and
    /// what it allows.
    pub(crate) fn checked(
        model: ModelKind,
        remedy: Remedy,
        n: Numbers,
        c: Choices,
    ) -> Result<Self, TrainError> {
        let bad = |setting, value: &dyn fmt::Display, allowed| {
            Err(TrainError::out_of_range(setting, value, allowed))
        };
        if n.epochs == 0 {
            return bad(Setting::Epochs, &0, "train for at least one epoch");
        }
        if n.batch_size == 0 {
            return bad(Setting::BatchSize, &0, "a batch needs at least one sample");
        }
        if n.warmup_epochs >= n.epochs && n.warmup_epochs > 0 {
            return Err(TrainError::WarmupTooLong {
                warmup: n.warmup_epochs,
                epochs: n.epochs,
            });
        }
        if n.checkpoint_every == 0 {
            return bad(
                Setting::CheckpointEvery,
                &0,
                "write a checkpoint at least every N >= 1 epochs",
            );
        }
        if n.early_stop == Some(0) {
            return bad(Setting::EarlyStop, &0, "patience must be at least 1 epoch");
        }
        match &c.augment {
            Some(a) => a.validate()?,
            None if remedy.kind().augments() => {
                return Err(TrainError::RemedyNeedsAugmentation {
                    remedy: remedy.kind().name(),
                });
            }
            None => {}
        }
        let resnet = matches!(model, ModelKind::Resnet18 | ModelKind::Resnet50);
        if c.pretrained.is_some() && !resnet {
            return Err(TrainError::PretrainedNeedsResnet {
                model: model.name(),
            });
        }
        if !c.finetune.is_all() && c.pretrained.is_none() {
            return Err(TrainError::invalid(focal_data::msg![
                Setting::Finetune,
                format!(
                    " {}: freezes pretrained layers, and there are none without ",
                    c.finetune
                ),
                Setting::Pretrained,
                " FILE (torchvision weights); give the weights, or train every layer with ",
                Setting::Finetune,
                " all"
            ]));
        }
        if !c.head.is_linear() && !resnet {
            return Err(TrainError::invalid(focal_data::msg![
                Setting::Head,
                format!(" {}: a head of the ResNets; got ", c.head),
                Setting::Model,
                format!(" {}, whose head is its own", model.name())
            ]));
        }
        Ok(TrainConfig {
            model,
            remedy,
            epochs: n.epochs,
            batch_size: n.batch_size,
            lr: LearningRate::new(n.lr)?,
            optimizer: c.optimizer,
            weight_decay: WeightDecay::new(n.weight_decay)?,
            schedule: c.schedule,
            warmup_epochs: n.warmup_epochs,
            clip_grad: n.clip_grad.map(ClipNorm::new).transpose()?,
            early_stop: n.early_stop,
            target_recall: n.target_recall.map(TargetRecall::new).transpose()?,
            prior_bias: n.prior_bias.map(Prior::new).transpose()?,
            pretrained: c.pretrained,
            device: c.device,
            stream: c.stream,
            checkpoint_every: n.checkpoint_every,
            seed: c.seed,
            calibrate: c.calibrate,
            augment: c.augment,
            log_dir: c.log_dir,
            finetune: c.finetune,
            head: c.head,
            feature_cache: c.feature_cache,
        })
    }

    /// The architecture.
    pub fn model(&self) -> ModelKind {
        self.model
    }
    /// The remedy with its parameters.
    pub fn remedy(&self) -> &Remedy {
        &self.remedy
    }
    /// Number of epochs (at least 1).
    pub fn epochs(&self) -> usize {
        self.epochs
    }
    /// Samples per training step (at least 1).
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }
    /// Base learning rate.
    pub fn lr(&self) -> f64 {
        self.lr.get()
    }
    /// The optimizer.
    pub fn optimizer(&self) -> OptimizerKind {
        self.optimizer
    }
    /// L2 weight decay (0: none).
    pub fn weight_decay(&self) -> f32 {
        self.weight_decay.get()
    }
    /// Learning-rate schedule.
    pub fn schedule(&self) -> ScheduleKind {
        self.schedule
    }
    /// Linear warm-up over this many epochs (0: none; fewer than the epochs).
    pub fn warmup_epochs(&self) -> usize {
        self.warmup_epochs
    }
    /// Clip each parameter's gradient to this L2 norm (Burn's `GradientClipping::Norm`).
    pub fn clip_grad(&self) -> Option<f32> {
        self.clip_grad.map(ClipNorm::get)
    }
    /// Stop when the validation metric has not improved for this many epochs (at least 1).
    pub fn early_stop(&self) -> Option<usize> {
        self.early_stop
    }
    /// Tune the threshold for this recall of the positive class instead of the best F1.
    pub fn target_recall(&self) -> Option<f64> {
        self.target_recall.map(TargetRecall::get)
    }
    /// RetinaNet prior-probability bias initialisation of the positive class.
    pub fn prior_bias(&self) -> Option<f64> {
        self.prior_bias.map(Prior::get)
    }
    /// torchvision weights to start from (ResNets).
    pub fn pretrained(&self) -> Option<&Path> {
        self.pretrained.as_deref()
    }
    /// Where to train.
    pub fn device(&self) -> DeviceChoice {
        self.device
    }
    /// Whether the training samples stay on the device or stream from the host batch by batch
    /// ([`Streaming`]). Not a setting of the model: the batches hold the same values either
    /// way, and so do the results.
    pub fn stream(&self) -> Streaming {
        self.stream
    }
    /// Write the last checkpoint every this many epochs, and at the end; a resumed run restarts
    /// from it. The best model is written whenever it improves.
    pub fn checkpoint_every(&self) -> usize {
        self.checkpoint_every
    }
    /// The seed of everything random: initialisation, resampling, shuffling, dropout.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// Calibration of the probabilities after training; runs written before it was recorded
    /// did not calibrate.
    pub fn calibrate(&self) -> Calibration {
        self.calibrate
    }
    /// Augmentation of the training images, each epoch anew (`None`: none). Never applied to
    /// validation, test or new data.
    pub fn augment(&self) -> Option<&Augmentation> {
        self.augment.as_ref()
    }
    /// Where to log the run for experiment trackers (TensorBoard events and `metrics.jsonl`);
    /// `None`: no log. Not a setting of the model: it changes no result.
    pub fn log_dir(&self) -> Option<&Path> {
        self.log_dir.as_deref()
    }

    /// Which layers of the pretrained network train ([`Finetune::All`] without pretrained
    /// weights).
    pub fn finetune(&self) -> Finetune {
        self.finetune
    }
    /// The head of a ResNet.
    pub fn head(&self) -> HeadKind {
        self.head
    }
    /// Where a frozen backbone's features are cached. Not a setting of the model: the cached
    /// features are those the backbone computes in each step.
    pub fn feature_cache(&self) -> &FeatureCache {
        &self.feature_cache
    }

    /// The settings as a report's table shows them, `(setting, value)`: every one that shapes
    /// the model, the optional ones when set.
    pub fn rows(&self) -> Vec<(String, String)> {
        let mut rows = vec![
            ("model".to_string(), self.model.to_string()),
            ("remedy".to_string(), self.remedy.label()),
            (
                "augmentation (training images)".to_string(),
                (self.augment.as_ref()).map_or_else(|| "none".to_string(), |a| a.to_string()),
            ),
            ("epochs".to_string(), self.epochs.to_string()),
            ("batch size".to_string(), self.batch_size.to_string()),
            (
                "optimizer".to_string(),
                format!(
                    "{}, lr {}, {} schedule",
                    self.optimizer,
                    self.lr(),
                    self.schedule
                ),
            ),
            ("seed".to_string(), self.seed.to_string()),
            ("calibration".to_string(), self.calibrate.to_string()),
        ];
        let optional = [
            (
                "weight decay",
                (self.weight_decay() > 0.0).then(|| self.weight_decay().to_string()),
            ),
            (
                "gradient clipping (norm)",
                self.clip_grad().map(|n| n.to_string()),
            ),
            (
                "early stopping (patience)",
                self.early_stop.map(|p| p.to_string()),
            ),
            (
                "pretrained weights",
                self.pretrained.as_ref().map(|p| p.display().to_string()),
            ),
            (
                "trained layers",
                (!self.finetune.is_all()).then(|| self.finetune.to_string()),
            ),
            (
                "head",
                (!self.head.is_linear()).then(|| self.head.to_string()),
            ),
        ];
        rows.extend(
            optional
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k.to_string(), v))),
        );
        rows
    }

    /// The same configuration with another remedy (a sweep's entries), checked again.
    pub fn with_remedy(&self, remedy: Remedy) -> Result<Self, TrainError> {
        if self.augment.is_none() && remedy.kind().augments() {
            return Err(TrainError::RemedyNeedsAugmentation {
                remedy: remedy.kind().name(),
            });
        }
        Ok(TrainConfig {
            remedy,
            ..self.clone()
        })
    }

    /// The same configuration with another seed (an experiment's seeds).
    pub fn with_seed(&self, seed: u64) -> Self {
        TrainConfig {
            seed,
            ..self.clone()
        }
    }

    /// The same configuration logging into `log_dir` (a run's own folder of the log).
    pub fn with_log_dir(&self, log_dir: Option<PathBuf>) -> Self {
        TrainConfig {
            log_dir,
            ..self.clone()
        }
    }

    /// The remedy's label with the augmentation, if any: e.g. `oversample-augment [augment
    /// minority: flip, shift 2 px, rotate 10 deg]`.
    pub fn remedy_label(&self) -> String {
        match &self.augment {
            Some(a) => format!("{} [augment {a}]", self.remedy.label()),
            None => self.remedy.label(),
        }
    }

    /// Checks the settings that depend on the samples (`kind`): augmentation needs images
    /// wider and taller than its shift.
    pub fn check_samples(&self, kind: &SampleKind) -> Result<(), TrainError> {
        match &self.augment {
            Some(a) => a.check_samples(kind),
            None => Ok(()),
        }
    }

    /// The learning rate at `step` (0-based) of `steps_per_epoch`.
    pub fn lr_at(&self, epoch: usize, step: usize, steps_per_epoch: usize) -> f64 {
        let spe = steps_per_epoch.max(1) as f64;
        let t = (epoch - 1) as f64 + step as f64 / spe; // epochs done, fractional
        let warm = if self.warmup_epochs > 0 && t < self.warmup_epochs as f64 {
            (t + 1.0 / spe) / self.warmup_epochs as f64
        } else {
            1.0
        };
        let e = self.epochs as f64;
        let sched = match self.schedule {
            ScheduleKind::Constant => 1.0,
            ScheduleKind::Step => {
                if t >= 0.75 * e {
                    0.01
                } else if t >= 0.5 * e {
                    0.1
                } else {
                    1.0
                }
            }
            ScheduleKind::Cosine => 0.5 * (1.0 + (std::f64::consts::PI * t / e).cos()),
        };
        self.lr.get() * warm * sched
    }
}
