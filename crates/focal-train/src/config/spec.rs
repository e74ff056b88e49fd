//! A run's settings as a user gives them: [`TrainSpec`], and the augmentation asked for,
//! [`AugmentSpec`], resolved per remedy.

use std::path::PathBuf;

use crate::augmentation::{AugmentScope, Augmentation};
use crate::device::DeviceChoice;
use crate::error::TrainError;
use crate::finetune::{FeatureCache, Finetune, HeadKind};
use crate::model::ModelKind;
use crate::remedy::{Remedy, RemedyKind};
use crate::setting::Setting;

use super::checked::{Choices, Numbers, TrainConfig};
use super::kinds::{Calibration, OptimizerKind, ScheduleKind, Streaming};

/// Which training images to augment, as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AugmentChoice {
    /// No augmentation (refused for a remedy that augments).
    Off,
    /// These images.
    On(AugmentScope),
}

/// The augmentation asked for: which images (`None`: the remedy's own choice) and the
/// transforms (`None`: the defaults). [`AugmentSpec::resolve`] gives a remedy's augmentation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AugmentSpec {
    /// Which images; `None`: the minority class for a remedy that augments, none otherwise.
    pub scope: Option<AugmentChoice>,
    /// Mirror left-right (default [`crate::DEFAULT_AUGMENT_FLIP`]).
    pub flip: Option<bool>,
    /// The largest shift in pixels (default [`crate::DEFAULT_AUGMENT_SHIFT`]).
    pub shift: Option<usize>,
    /// The largest rotation in degrees (default [`crate::DEFAULT_AUGMENT_ROTATE`]).
    pub rotate: Option<f32>,
}

impl AugmentSpec {
    /// The transforms set, by their settings.
    fn transforms_given(&self) -> impl Iterator<Item = Setting> {
        [
            (Setting::AugmentFlip, self.flip.is_some()),
            (Setting::AugmentShift, self.shift.is_some()),
            (Setting::AugmentRotate, self.rotate.is_some()),
        ]
        .into_iter()
        .filter_map(|(s, given)| given.then_some(s))
    }

    /// Refuses transforms that no run of the remedies `kinds` would apply: without a scope
    /// they set the transforms of a remedy that augments, and nothing else (which images to
    /// transform is not guessed).
    pub fn check_for(&self, kinds: &[RemedyKind]) -> Result<(), TrainError> {
        if self.scope.is_some() || kinds.iter().any(|k| k.augments()) {
            return Ok(());
        }
        match self.transforms_given().next() {
            Some(setting) => Err(TrainError::TransformWithoutAugment {
                setting,
                remedies: RemedyKind::ALL
                    .iter()
                    .filter(|k| k.augments())
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
            None => Ok(()),
        }
    }

    /// The augmentation of a run of the remedy `kind`: the scope asked for, or the remedy's
    /// own (oversample-augment: the minority class), with the transforms asked for or their
    /// defaults; `None` when the run does not augment.
    pub fn resolve(&self, kind: RemedyKind) -> Result<Option<Augmentation>, TrainError> {
        let scope = match self.scope {
            Some(AugmentChoice::Off) => {
                if kind.augments() {
                    return Err(TrainError::AugmentOff {
                        remedy: kind.name(),
                    });
                }
                if let Some(setting) = self.transforms_given().next() {
                    return Err(TrainError::TransformWhileOff { setting });
                }
                return Ok(None);
            }
            Some(AugmentChoice::On(scope)) => scope,
            None if kind.augments() => AugmentScope::Minority,
            None => return Ok(None),
        };
        let d = Augmentation::default_for(scope);
        Ok(Some(Augmentation {
            scope,
            flip: self.flip.unwrap_or(d.flip),
            shift: self.shift.unwrap_or(d.shift),
            rotate: self.rotate.unwrap_or(d.rotate),
        }))
    }
}

/// The settings of one training run as a user gives them: every field public and unchecked,
/// `focal train`'s defaults by [`Default`] (the CNN, plain cross-entropy, 10 epochs, batch 32,
/// Adam at 1e-3 with PyTorch's epsilon, seed 0). [`check`](Self::check) makes the
/// [`TrainConfig`] a run trains with; every default of the project's commands is read from
/// here.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSpec {
    /// The architecture.
    pub model: ModelKind,
    /// The remedy with its parameters.
    pub remedy: Remedy,
    /// Number of epochs (at least 1).
    pub epochs: usize,
    /// Samples per training step (at least 1).
    pub batch_size: usize,
    /// Base learning rate (finite, > 0).
    pub lr: f64,
    /// The optimizer.
    pub optimizer: OptimizerKind,
    /// L2 weight decay (finite, >= 0; 0: none).
    pub weight_decay: f32,
    /// Learning-rate schedule.
    pub schedule: ScheduleKind,
    /// Linear warm-up over this many epochs (0: none; fewer than the epochs).
    pub warmup_epochs: usize,
    /// Clip each parameter's gradient to this L2 norm (finite, > 0).
    pub clip_grad: Option<f32>,
    /// Stop when the validation metric has not improved for this many epochs (at least 1).
    pub early_stop: Option<usize>,
    /// Tune the threshold for this recall of the positive class, in (0, 1], instead of the
    /// best F1.
    pub target_recall: Option<f64>,
    /// RetinaNet prior-probability bias initialisation of the positive class, in (0, 1).
    pub prior_bias: Option<f64>,
    /// torchvision weights to start from (ResNets; the file must exist).
    pub pretrained: Option<PathBuf>,
    /// Where to train (a GPU must be there).
    pub device: DeviceChoice,
    /// Whether the training samples stream from the host.
    pub stream: Streaming,
    /// Write the last checkpoint every this many epochs (at least 1).
    pub checkpoint_every: usize,
    /// The seed of everything random.
    pub seed: u64,
    /// Calibration after training.
    pub calibrate: Calibration,
    /// The augmentation asked for.
    pub augment: AugmentSpec,
    /// Where to log for experiment trackers (made absolute).
    pub log_dir: Option<PathBuf>,
    /// Which layers of the pretrained network train.
    pub finetune: Finetune,
    /// The head of a ResNet.
    pub head: HeadKind,
    /// Where a frozen backbone's features are cached (a folder made absolute).
    pub feature_cache: FeatureCache,
}

impl Default for TrainSpec {
    fn default() -> Self {
        TrainSpec {
            model: ModelKind::Cnn,
            remedy: Remedy::Ce {},
            epochs: TrainConfig::DEFAULT_EPOCHS,
            batch_size: 32,
            lr: 1e-3,
            optimizer: OptimizerKind::Adam,
            weight_decay: 0.0,
            schedule: ScheduleKind::Constant,
            warmup_epochs: 0,
            clip_grad: None,
            early_stop: None,
            target_recall: None,
            prior_bias: None,
            pretrained: None,
            device: DeviceChoice::Cpu,
            stream: Streaming::Auto,
            checkpoint_every: 1,
            seed: 0,
            calibrate: Calibration::Auto,
            augment: AugmentSpec::default(),
            log_dir: None,
            finetune: Finetune::All,
            head: HeadKind::Linear,
            feature_cache: FeatureCache::Auto,
        }
    }
}

impl TrainSpec {
    /// The defaults with the remedy `kind` at its default parameters.
    pub fn for_remedy(kind: RemedyKind) -> Self {
        TrainSpec {
            remedy: Remedy::default_for(kind),
            ..TrainSpec::default()
        }
    }

    /// Every setting checked: the configuration a run trains with. An error names the setting,
    /// its value and what it allows.
    pub fn check(&self) -> Result<TrainConfig, TrainError> {
        self.check_among(&[self.remedy.kind()])
    }

    /// [`check`](Self::check) for a run that is one of an experiment's, whose remedies are
    /// `kinds`: augmentation transforms are refused only when none of them would apply them.
    pub fn check_among(&self, kinds: &[RemedyKind]) -> Result<TrainConfig, TrainError> {
        self.augment.check_for(kinds)?;
        let augment = self.augment.resolve(self.remedy.kind())?;
        let log_dir = match &self.log_dir {
            Some(d) => Some(std::path::absolute(d).map_err(|e| TrainError::io(d, e))?),
            None => None,
        };
        let feature_cache = match &self.feature_cache {
            FeatureCache::Dir(d) => {
                FeatureCache::Dir(std::path::absolute(d).map_err(|e| TrainError::io(d, e))?)
            }
            other => other.clone(),
        };
        let config = TrainConfig::checked(
            self.model,
            self.remedy.clone(),
            Numbers {
                epochs: self.epochs,
                batch_size: self.batch_size,
                lr: self.lr,
                weight_decay: self.weight_decay,
                warmup_epochs: self.warmup_epochs,
                clip_grad: self.clip_grad,
                early_stop: self.early_stop,
                target_recall: self.target_recall,
                prior_bias: self.prior_bias,
                checkpoint_every: self.checkpoint_every,
            },
            Choices {
                optimizer: self.optimizer,
                schedule: self.schedule,
                pretrained: self.pretrained.clone(),
                device: self.device,
                stream: self.stream,
                seed: self.seed,
                calibrate: self.calibrate,
                augment,
                log_dir,
                finetune: self.finetune,
                head: self.head,
                feature_cache,
            },
        )?;
        if let Some(p) = &self.pretrained
            && !p.is_file()
        {
            return Err(TrainError::invalid(focal_data::msg![
                Setting::Pretrained,
                format!(" {}: no such file", p.display())
            ]));
        }
        // A missing GPU is reported now, not after minutes of loading data.
        self.device.resolve()?;
        Ok(config)
    }
}

impl TrainConfig {
    /// `focal train`'s defaults with the remedy `kind` at its default parameters (and, for a
    /// remedy that augments, the default augmentation of the minority class).
    pub fn for_remedy(kind: RemedyKind) -> Self {
        TrainSpec::for_remedy(kind)
            .check()
            .expect("the defaults are a valid configuration")
    }
}
