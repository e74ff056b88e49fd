//! Remedies for class imbalance: one named combination of a data-side strategy and a loss.
//!
//! Every remedy is listed once, in [`REMEDIES`]; `focal train --remedy NAME` and `focal compare
//! --remedies` take these names. The decision side (argmax, or a threshold tuned on validation)
//! is applied to every remedy at evaluation, so each run reports both.

use std::fmt;
use std::str::FromStr;

use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::tensor::{Device, Int, Tensor};
use focal_loss::{
    FocalLoss, FocalLossConfig, LdamLoss, LdamLossConfig, LogitAdjustedLoss,
    LogitAdjustedLossConfig, Poly1Loss, Poly1LossConfig,
};

use crate::error::TrainError;
use crate::setting::Setting;

/// The remedies, by their CLI names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RemedyKind {
    /// Plain cross-entropy: the baseline.
    Ce,
    /// Cross-entropy weighted per class.
    WeightedCe,
    /// Random over-sampling of the minority classes, then cross-entropy.
    Oversample,
    /// Random under-sampling of the majority classes, then cross-entropy.
    Undersample,
    /// Class-balanced sampling of each epoch's batches, then cross-entropy.
    BalancedSampler,
    /// SMOTE synthetic minority samples, then cross-entropy.
    Smote,
    /// Focal loss.
    Focal,
    /// Focal loss with class-balanced (effective number) weights.
    CbFocal,
    /// LDAM loss with deferred re-weighting.
    LdamDrw,
    /// Logit-adjusted cross-entropy.
    LogitAdjust,
    /// Poly-1 cross-entropy.
    Poly,
    /// Random over-sampling of the minority classes, each copy of a minority image augmented
    /// anew every epoch, then cross-entropy.
    OversampleAugment,
    /// Cross-entropy with deferred re-weighting (plain, then effective-number class weights).
    CeDrw,
    /// Focal loss with deferred re-weighting (no alpha, then effective-number class weights).
    FocalDrw,
}

/// What a remedy does to the data before training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataSide {
    /// The training split as it is, shuffled each epoch.
    None,
    /// Random over-sampling to the majority count (once, before training).
    Oversample,
    /// Random under-sampling to the minority count (once, before training).
    Undersample,
    /// Each epoch draws as many samples as the training split holds, every class equally likely.
    BalancedSampler,
    /// SMOTE (k = 5) to the majority count (once, before training).
    Smote,
}

/// The default focusing parameter of focal and cb-focal (the paper's).
pub const DEFAULT_GAMMA: f32 = 2.0;
/// The default effective-number beta of cb-focal (Cui et al.'s best on long-tailed CIFAR).
pub const DEFAULT_CB_BETA: f64 = 0.999;
/// The default effective-number beta of ldam-drw's deferred weights (Cao et al.'s).
pub const DEFAULT_DRW_BETA: f64 = 0.9999;
/// The default logit-adjustment temperature (Menon et al.'s).
pub const DEFAULT_TAU: f32 = 1.0;
/// The default Poly-1 epsilon (Leng et al.'s).
pub const DEFAULT_EPSILON: f32 = 1.0;
/// The share of the epochs ldam-drw trains without class weights (the deferral).
const DRW_SHARE: (usize, usize) = (4, 5);

/// One row of the remedy table.
#[derive(Debug, Clone, Copy)]
pub struct RemedyInfo {
    /// The remedy.
    pub kind: RemedyKind,
    /// Its CLI name.
    pub name: &'static str,
    /// One line for `--help` and reports.
    pub description: &'static str,
    /// What it does to the data.
    pub data_side: DataSide,
    /// The loss it trains with.
    pub loss_side: &'static str,
    /// The parameters it reads.
    pub reads: &'static [Setting],
    /// Whether it augments the minority class's training images (run with augment minority
    /// unless told all; the augment settings choose the transforms).
    pub augments: bool,
}

/// Every remedy: the one table `--help`, `focal compare` and the reports read.
pub const REMEDIES: [RemedyInfo; 14] = [
    RemedyInfo {
        kind: RemedyKind::Ce,
        name: "ce",
        description: "plain cross-entropy (the baseline)",
        data_side: DataSide::None,
        loss_side: "cross-entropy",
        reads: &[],
        augments: false,
    },
    RemedyInfo {
        kind: RemedyKind::WeightedCe,
        name: "weighted-ce",
        description: "cross-entropy weighted per class",
        data_side: DataSide::None,
        loss_side: "weighted cross-entropy (PyTorch semantics: mean divides by the sum of weights)",
        reads: &[Setting::Alpha],
        augments: false,
    },
    RemedyInfo {
        kind: RemedyKind::Oversample,
        name: "oversample",
        description: "random over-sampling of the rare classes",
        data_side: DataSide::Oversample,
        loss_side: "cross-entropy",
        reads: &[],
        augments: false,
    },
    RemedyInfo {
        kind: RemedyKind::Undersample,
        name: "undersample",
        description: "random under-sampling of the common classes",
        data_side: DataSide::Undersample,
        loss_side: "cross-entropy",
        reads: &[],
        augments: false,
    },
    RemedyInfo {
        kind: RemedyKind::BalancedSampler,
        name: "balanced-sampler",
        description: "class-balanced batches (weighted random sampler)",
        data_side: DataSide::BalancedSampler,
        loss_side: "cross-entropy",
        reads: &[],
        augments: false,
    },
    RemedyInfo {
        kind: RemedyKind::Smote,
        name: "smote",
        description: "SMOTE synthetic rare samples (k = 5)",
        data_side: DataSide::Smote,
        loss_side: "cross-entropy",
        reads: &[],
        augments: false,
    },
    RemedyInfo {
        kind: RemedyKind::Focal,
        name: "focal",
        description: "focal loss (Lin et al. 2017)",
        data_side: DataSide::None,
        loss_side: "softmax focal loss",
        reads: &[Setting::Gamma, Setting::Alpha],
        augments: false,
    },
    RemedyInfo {
        kind: RemedyKind::CbFocal,
        name: "cb-focal",
        description: "class-balanced focal loss (Cui et al. 2019)",
        data_side: DataSide::None,
        loss_side: "focal loss with effective-number weights",
        reads: &[Setting::Gamma, Setting::Beta],
        augments: false,
    },
    RemedyInfo {
        kind: RemedyKind::LdamDrw,
        name: "ldam-drw",
        description: "LDAM margins with deferred re-weighting (Cao et al. 2019)",
        data_side: DataSide::None,
        loss_side: "LDAM (max margin 0.5, s = 30); effective-number weights from 80% of the epochs",
        reads: &[Setting::Beta],
        augments: false,
    },
    RemedyInfo {
        kind: RemedyKind::LogitAdjust,
        name: "logit-adjust",
        description: "logit-adjusted cross-entropy (Menon et al. 2021)",
        data_side: DataSide::None,
        loss_side: "cross-entropy on logits + tau log(prior)",
        reads: &[Setting::Tau],
        augments: false,
    },
    RemedyInfo {
        kind: RemedyKind::Poly,
        name: "poly",
        description: "Poly-1 cross-entropy (Leng et al. 2022)",
        data_side: DataSide::None,
        loss_side: "CE + epsilon (1 - p_t)",
        reads: &[Setting::Epsilon],
        augments: false,
    },
    RemedyInfo {
        kind: RemedyKind::OversampleAugment,
        name: "oversample-augment",
        description: "random over-sampling, each rare image copy augmented (flip/shift/rotate)",
        data_side: DataSide::Oversample,
        loss_side: "cross-entropy",
        reads: &[],
        augments: true,
    },
    RemedyInfo {
        kind: RemedyKind::CeDrw,
        name: "ce-drw",
        description: "cross-entropy with deferred re-weighting (Cao et al. 2019's schedule)",
        data_side: DataSide::None,
        loss_side: "cross-entropy; from 80% of the epochs weighted by effective numbers \
                    (PyTorch semantics: mean divides by the sum of weights)",
        reads: &[Setting::Beta],
        augments: false,
    },
    RemedyInfo {
        kind: RemedyKind::FocalDrw,
        name: "focal-drw",
        description: "focal loss with deferred re-weighting (Cao et al. 2019's schedule)",
        data_side: DataSide::None,
        loss_side: "softmax focal loss; from 80% of the epochs with effective-number alpha",
        reads: &[Setting::Gamma, Setting::Beta],
        augments: false,
    },
];

fn valid_names() -> String {
    REMEDIES
        .iter()
        .map(|r| r.name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl RemedyKind {
    /// This remedy's row of [`REMEDIES`].
    pub fn info(self) -> &'static RemedyInfo {
        // The table is in enum order (checked by a test), so the row is found by position.
        &REMEDIES[self as usize]
    }

    /// The CLI name.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The parameters this remedy reads.
    pub fn reads(self) -> &'static [Setting] {
        self.info().reads
    }

    /// Whether this remedy augments the minority class's images (see [`RemedyInfo::augments`]).
    pub fn augments(self) -> bool {
        self.info().augments
    }

    /// The parameters this remedy reads with their defaults, for help texts: e.g.
    /// `gamma (default 2), alpha (default none)`.
    pub fn parameter_help(self) -> String {
        let d = Remedy::default_for(self);
        self.reads()
            .iter()
            .map(|s| {
                let default = match (s, &d) {
                    (
                        Setting::Gamma,
                        Remedy::Focal { gamma, .. }
                        | Remedy::CbFocal { gamma, .. }
                        | Remedy::FocalDrw { gamma, .. },
                    ) => gamma.to_string(),
                    (Setting::Alpha, Remedy::WeightedCe { alpha }) => alpha.to_string(),
                    (Setting::Alpha, Remedy::Focal { alpha: None, .. }) => "none".to_string(),
                    (
                        Setting::Beta,
                        Remedy::CbFocal { beta, .. }
                        | Remedy::LdamDrw { beta }
                        | Remedy::CeDrw { beta }
                        | Remedy::FocalDrw { beta, .. },
                    ) => beta.to_string(),
                    (Setting::Tau, Remedy::LogitAdjust { tau }) => tau.to_string(),
                    (Setting::Epsilon, Remedy::Poly { epsilon }) => epsilon.to_string(),
                    _ => String::new(),
                };
                format!("{s} (default {default})")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for RemedyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RemedyKind {
    type Err = TrainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        REMEDIES
            .iter()
            .find(|r| r.name == s.trim())
            .map(|r| r.kind)
            .ok_or_else(|| TrainError::UnknownName {
                what: "remedy",
                name: s.to_string(),
                valid: valid_names(),
            })
    }
}

/// How class weights (`alpha`) are given.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type", content = "value")]
pub enum Alpha {
    /// One number: with two classes, weight `a` on the positive class (class 1) and `1 - a` on
    /// class 0 (torchvision's and the tutorial's reading).
    Scalar(f32),
    /// One weight per class.
    List(Vec<f32>),
    /// Inverse frequency of the training split (scikit-learn's `balanced`).
    Auto,
    /// Effective number of samples with this beta (Cui et al. 2019).
    Cb(f64),
}

impl FromStr for Alpha {
    type Err = TrainError;
    /// `0.25`, `0.1,0.9`, `auto`, `cb:0.999`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = |reason: &'static str| TrainError::BadAlpha {
            text: s.to_string(),
            reason,
        };
        if s == "auto" {
            return Ok(Alpha::Auto);
        }
        if let Some(beta) = s.strip_prefix("cb:") {
            let b: f64 = beta.parse().map_err(|_| bad("BETA is not a number"))?;
            if !focal_loss::class_weights::valid_beta(b) {
                return Err(bad("BETA must be in [0, 1)"));
            }
            return Ok(Alpha::Cb(b));
        }
        let parts: Result<Vec<f32>, _> = s.split(',').map(|p| p.trim().parse::<f32>()).collect();
        let parts = parts.map_err(|_| bad("not a number"))?;
        if parts.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err(bad("weights must be finite and >= 0"));
        }
        match parts.as_slice() {
            [a] if *a > 1.0 => Err(bad("a single alpha is a weight in [0, 1]")),
            [a] => Ok(Alpha::Scalar(*a)),
            _ => Ok(Alpha::List(parts)),
        }
    }
}

impl fmt::Display for Alpha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Alpha::Scalar(a) => write!(f, "{a}"),
            Alpha::List(l) => write!(
                f,
                "{}",
                l.iter()
                    .map(|w| w.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Alpha::Auto => f.write_str("auto"),
            Alpha::Cb(b) => write!(f, "cb:{b}"),
        }
    }
}

impl Alpha {
    /// One weight per class, from the training split's class `counts`.
    pub fn resolve(&self, counts: &[usize]) -> Result<Vec<f32>, TrainError> {
        let c = counts.len();
        match self {
            Alpha::Scalar(a) if c == 2 => Ok(vec![1.0 - a, *a]),
            Alpha::Scalar(_) => Err(TrainError::ScalarAlphaNeedsTwoClasses { n_classes: c }),
            Alpha::List(l) if l.len() == c => Ok(l.clone()),
            Alpha::List(l) => Err(TrainError::AlphaLength {
                given: l.len(),
                n_classes: c,
            }),
            Alpha::Auto => Ok(focal_loss::class_weights::inverse_frequency(counts)?),
            Alpha::Cb(b) => Ok(focal_loss::class_weights::effective_number(counts, *b)?),
        }
    }
}

/// A remedy with its parameters, each checked and with its default filled in: a value of this
/// type is always a valid remedy (build one with [`RemedyParams::check`] or
/// [`Remedy::default_for`]). `config.json` records it in the flat form of [`RemedyRecord`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(into = "RemedyRecord", try_from = "RemedyRecord")]
pub enum Remedy {
    /// Plain cross-entropy.
    Ce,
    /// Cross-entropy weighted per class.
    WeightedCe {
        /// The class weights.
        alpha: Alpha,
    },
    /// Random over-sampling, then cross-entropy.
    Oversample,
    /// Random under-sampling, then cross-entropy.
    Undersample,
    /// Class-balanced sampling, then cross-entropy.
    BalancedSampler,
    /// SMOTE, then cross-entropy.
    Smote,
    /// Focal loss.
    Focal {
        /// Focusing parameter, >= 0.
        gamma: f32,
        /// Class weights (none: every class 1).
        alpha: Option<Alpha>,
    },
    /// Focal loss with effective-number weights.
    CbFocal {
        /// Focusing parameter, >= 0.
        gamma: f32,
        /// Effective-number beta, in [0, 1).
        beta: f64,
    },
    /// LDAM with deferred re-weighting.
    LdamDrw {
        /// Effective-number beta of the deferred weights, in [0, 1).
        beta: f64,
    },
    /// Logit-adjusted cross-entropy.
    LogitAdjust {
        /// Temperature, finite.
        tau: f32,
    },
    /// Poly-1 cross-entropy.
    Poly {
        /// Epsilon, >= -1.
        epsilon: f32,
    },
    /// Random over-sampling with the minority images augmented, then cross-entropy.
    OversampleAugment,
    /// Cross-entropy with deferred re-weighting.
    CeDrw {
        /// Effective-number beta of the deferred weights, in [0, 1).
        beta: f64,
    },
    /// Focal loss with deferred re-weighting.
    FocalDrw {
        /// Focusing parameter, >= 0.
        gamma: f32,
        /// Effective-number beta of the deferred weights, in [0, 1).
        beta: f64,
    },
}

/// A remedy's parameters as the user gave them, unchecked; `None` means "the remedy's default".
/// [`check`](Self::check) turns them into a [`Remedy`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RemedyParams {
    /// Focusing parameter.
    pub gamma: Option<f32>,
    /// Class weights.
    pub alpha: Option<Alpha>,
    /// Effective-number beta.
    pub beta: Option<f64>,
    /// Logit-adjustment temperature.
    pub tau: Option<f32>,
    /// Poly-1 epsilon.
    pub epsilon: Option<f32>,
}

impl RemedyParams {
    /// Which parameters are given, each with its setting.
    pub fn given(&self) -> [(Setting, bool); 5] {
        [
            (Setting::Gamma, self.gamma.is_some()),
            (Setting::Alpha, self.alpha.is_some()),
            (Setting::Beta, self.beta.is_some()),
            (Setting::Tau, self.tau.is_some()),
            (Setting::Epsilon, self.epsilon.is_some()),
        ]
    }

    /// Only the parameters `kind` reads (for an experiment whose flags serve several remedies).
    pub fn only_for(&self, kind: RemedyKind) -> RemedyParams {
        let reads = |s| kind.reads().contains(&s);
        RemedyParams {
            gamma: self.gamma.filter(|_| reads(Setting::Gamma)),
            alpha: self.alpha.clone().filter(|_| reads(Setting::Alpha)),
            beta: self.beta.filter(|_| reads(Setting::Beta)),
            tau: self.tau.filter(|_| reads(Setting::Tau)),
            epsilon: self.epsilon.filter(|_| reads(Setting::Epsilon)),
        }
    }

    /// The remedy `kind` with these parameters, defaults filled in and every value checked. A
    /// parameter the remedy does not read is an error naming it (so a gamma given to `ce` is
    /// not silently ignored).
    pub fn check(&self, kind: RemedyKind) -> Result<Remedy, TrainError> {
        if let Some((setting, _)) = self
            .given()
            .into_iter()
            .find(|(s, g)| *g && !kind.reads().contains(s))
        {
            return Err(TrainError::NotApplicable {
                setting,
                remedy: kind.name(),
                reads: kind.reads(),
            });
        }
        let gamma = || {
            let g = self.gamma.unwrap_or(DEFAULT_GAMMA);
            if focal_loss::valid_gamma(g) {
                Ok(g)
            } else {
                Err(TrainError::out_of_range(
                    Setting::Gamma,
                    g,
                    "gamma must be finite and >= 0",
                ))
            }
        };
        let beta = |default: f64| {
            let b = self.beta.unwrap_or(default);
            if focal_loss::class_weights::valid_beta(b) {
                Ok(b)
            } else {
                Err(TrainError::out_of_range(
                    Setting::Beta,
                    b,
                    "beta must be in [0, 1) (0.9, 0.99, 0.999, 0.9999 are the paper's)",
                ))
            }
        };
        Ok(match kind {
            RemedyKind::Ce => Remedy::Ce,
            RemedyKind::Oversample => Remedy::Oversample,
            RemedyKind::Undersample => Remedy::Undersample,
            RemedyKind::BalancedSampler => Remedy::BalancedSampler,
            RemedyKind::Smote => Remedy::Smote,
            RemedyKind::OversampleAugment => Remedy::OversampleAugment,
            RemedyKind::WeightedCe => Remedy::WeightedCe {
                alpha: self.alpha.clone().unwrap_or(Alpha::Auto),
            },
            RemedyKind::Focal => Remedy::Focal {
                gamma: gamma()?,
                alpha: self.alpha.clone(),
            },
            RemedyKind::CbFocal => Remedy::CbFocal {
                gamma: gamma()?,
                beta: beta(DEFAULT_CB_BETA)?,
            },
            RemedyKind::LdamDrw => Remedy::LdamDrw {
                beta: beta(DEFAULT_DRW_BETA)?,
            },
            RemedyKind::CeDrw => Remedy::CeDrw {
                beta: beta(DEFAULT_DRW_BETA)?,
            },
            RemedyKind::FocalDrw => Remedy::FocalDrw {
                gamma: gamma()?,
                beta: beta(DEFAULT_DRW_BETA)?,
            },
            RemedyKind::LogitAdjust => {
                let tau = self.tau.unwrap_or(DEFAULT_TAU);
                if !tau.is_finite() {
                    return Err(TrainError::out_of_range(
                        Setting::Tau,
                        tau,
                        "tau must be finite",
                    ));
                }
                Remedy::LogitAdjust { tau }
            }
            RemedyKind::Poly => {
                let epsilon = self.epsilon.unwrap_or(DEFAULT_EPSILON);
                if !(epsilon.is_finite() && epsilon >= -1.0) {
                    return Err(TrainError::out_of_range(
                        Setting::Epsilon,
                        epsilon,
                        "epsilon must be >= -1",
                    ));
                }
                Remedy::Poly { epsilon }
            }
        })
    }
}

/// The flat form of a [`Remedy`] in `config.json`: the remedy's name and every parameter,
/// `null` where it does not apply (the format of every run folder so far).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RemedyRecord {
    /// Which remedy.
    pub kind: RemedyKind,
    /// Focusing parameter (focal, cb-focal, focal-drw).
    pub gamma: Option<f32>,
    /// Class weights (weighted-ce, focal).
    pub alpha: Option<Alpha>,
    /// Effective-number beta (cb-focal, ldam-drw, ce-drw, focal-drw).
    pub beta: Option<f64>,
    /// Logit-adjustment temperature (logit-adjust).
    pub tau: Option<f32>,
    /// Poly-1 epsilon (poly).
    pub epsilon: Option<f32>,
}

impl From<Remedy> for RemedyRecord {
    fn from(r: Remedy) -> Self {
        let p = r.params();
        RemedyRecord {
            kind: r.kind(),
            gamma: p.gamma,
            alpha: p.alpha,
            beta: p.beta,
            tau: p.tau,
            epsilon: p.epsilon,
        }
    }
}

impl TryFrom<RemedyRecord> for Remedy {
    type Error = TrainError;
    fn try_from(r: RemedyRecord) -> Result<Self, TrainError> {
        RemedyParams {
            gamma: r.gamma,
            alpha: r.alpha,
            beta: r.beta,
            tau: r.tau,
            epsilon: r.epsilon,
        }
        .check(r.kind)
    }
}

impl Remedy {
    /// The remedy `kind` with every default.
    pub fn default_for(kind: RemedyKind) -> Self {
        match kind {
            RemedyKind::Ce => Remedy::Ce,
            RemedyKind::Oversample => Remedy::Oversample,
            RemedyKind::Undersample => Remedy::Undersample,
            RemedyKind::BalancedSampler => Remedy::BalancedSampler,
            RemedyKind::Smote => Remedy::Smote,
            RemedyKind::OversampleAugment => Remedy::OversampleAugment,
            RemedyKind::WeightedCe => Remedy::WeightedCe { alpha: Alpha::Auto },
            RemedyKind::Focal => Remedy::Focal {
                gamma: DEFAULT_GAMMA,
                alpha: None,
            },
            RemedyKind::CbFocal => Remedy::CbFocal {
                gamma: DEFAULT_GAMMA,
                beta: DEFAULT_CB_BETA,
            },
            RemedyKind::LdamDrw => Remedy::LdamDrw {
                beta: DEFAULT_DRW_BETA,
            },
            RemedyKind::CeDrw => Remedy::CeDrw {
                beta: DEFAULT_DRW_BETA,
            },
            RemedyKind::FocalDrw => Remedy::FocalDrw {
                gamma: DEFAULT_GAMMA,
                beta: DEFAULT_DRW_BETA,
            },
            RemedyKind::LogitAdjust => Remedy::LogitAdjust { tau: DEFAULT_TAU },
            RemedyKind::Poly => Remedy::Poly {
                epsilon: DEFAULT_EPSILON,
            },
        }
    }

    /// Which remedy.
    pub fn kind(&self) -> RemedyKind {
        match self {
            Remedy::Ce => RemedyKind::Ce,
            Remedy::WeightedCe { .. } => RemedyKind::WeightedCe,
            Remedy::Oversample => RemedyKind::Oversample,
            Remedy::Undersample => RemedyKind::Undersample,
            Remedy::BalancedSampler => RemedyKind::BalancedSampler,
            Remedy::Smote => RemedyKind::Smote,
            Remedy::Focal { .. } => RemedyKind::Focal,
            Remedy::CbFocal { .. } => RemedyKind::CbFocal,
            Remedy::LdamDrw { .. } => RemedyKind::LdamDrw,
            Remedy::LogitAdjust { .. } => RemedyKind::LogitAdjust,
            Remedy::Poly { .. } => RemedyKind::Poly,
            Remedy::OversampleAugment => RemedyKind::OversampleAugment,
            Remedy::CeDrw { .. } => RemedyKind::CeDrw,
            Remedy::FocalDrw { .. } => RemedyKind::FocalDrw,
        }
    }

    /// The parameters, resolved (`None` where the remedy reads none).
    pub fn params(&self) -> RemedyParams {
        let mut p = RemedyParams::default();
        match self {
            Remedy::WeightedCe { alpha } => p.alpha = Some(alpha.clone()),
            Remedy::Focal { gamma, alpha } => {
                p.gamma = Some(*gamma);
                p.alpha = alpha.clone();
            }
            Remedy::CbFocal { gamma, beta } => {
                p.gamma = Some(*gamma);
                p.beta = Some(*beta);
            }
            Remedy::LdamDrw { beta } | Remedy::CeDrw { beta } => p.beta = Some(*beta),
            Remedy::FocalDrw { gamma, beta } => {
                p.gamma = Some(*gamma);
                p.beta = Some(*beta);
            }
            Remedy::LogitAdjust { tau } => p.tau = Some(*tau),
            Remedy::Poly { epsilon } => p.epsilon = Some(*epsilon),
            Remedy::Ce
            | Remedy::Oversample
            | Remedy::Undersample
            | Remedy::BalancedSampler
            | Remedy::Smote
            | Remedy::OversampleAugment => {}
        }
        p
    }

    /// The data side.
    pub fn data_side(&self) -> DataSide {
        self.kind().info().data_side
    }

    /// A short label with the parameters, e.g. `focal(gamma=2, alpha=0.25)`.
    pub fn label(&self) -> String {
        let p = self.params();
        let mut parts = Vec::new();
        if let Some(g) = p.gamma {
            parts.push(format!("gamma={g}"));
        }
        if let Some(a) = &p.alpha {
            parts.push(format!("alpha={a}"));
        }
        if let Some(b) = p.beta {
            parts.push(format!("beta={b}"));
        }
        if let Some(t) = p.tau {
            parts.push(format!("tau={t}"));
        }
        if let Some(e) = p.epsilon {
            parts.push(format!("epsilon={e}"));
        }
        if parts.is_empty() {
            self.kind().name().to_string()
        } else {
            format!("{}({})", self.kind().name(), parts.join(", "))
        }
    }

    /// The stage of the loss at `epoch` (1-based, of `epochs`): the loss is the same for every
    /// epoch of one stage, so the loop builds it once per stage. Only the deferred
    /// re-weighting remedies (ldam-drw, ce-drw, focal-drw) have two: unweighted, then
    /// class-balanced weights for the last fifth of the epochs.
    pub fn loss_stage(&self, epoch: usize, epochs: usize) -> usize {
        match self {
            Remedy::LdamDrw { .. } | Remedy::CeDrw { .. } | Remedy::FocalDrw { .. } => {
                let drw_epoch = (epochs * DRW_SHARE.0).div_ceil(DRW_SHARE.1).max(1);
                usize::from(epoch > drw_epoch)
            }
            _ => 0,
        }
    }

    /// The loss for `epoch` (1-based, of `epochs`), from the class counts of the (resampled)
    /// training data.
    pub fn loss(
        &self,
        counts: &[usize],
        epoch: usize,
        epochs: usize,
        device: &Device,
    ) -> Result<Loss, TrainError> {
        Ok(match self {
            Remedy::Ce
            | Remedy::Oversample
            | Remedy::Undersample
            | Remedy::BalancedSampler
            | Remedy::Smote
            | Remedy::OversampleAugment => {
                Loss::Ce(Box::new(CrossEntropyLossConfig::new().init(device)))
            }
            Remedy::WeightedCe { alpha } => weighted_ce(alpha.resolve(counts)?, counts, device)?,
            Remedy::Focal { gamma, alpha } => {
                let alpha = alpha.as_ref().map(|a| a.resolve(counts)).transpose()?;
                focal(*gamma, alpha, counts, device)?
            }
            Remedy::CbFocal { gamma, beta } => {
                let alpha = focal_loss::class_weights::effective_number(counts, *beta)?;
                focal(*gamma, Some(alpha), counts, device)?
            }
            Remedy::LdamDrw { beta } => {
                // Deferred re-weighting: plain LDAM first, class-balanced weights at the end.
                let weights = if self.loss_stage(epoch, epochs) > 0 {
                    Some(focal_loss::class_weights::effective_number(counts, *beta)?)
                } else {
                    None
                };
                let cfg = LdamLossConfig::new(counts.to_vec()).with_weights(weights);
                cfg.validate()?;
                Loss::Ldam(Box::new(cfg.init(device)))
            }
            Remedy::CeDrw { beta } => {
                if self.loss_stage(epoch, epochs) == 0 {
                    Loss::Ce(Box::new(CrossEntropyLossConfig::new().init(device)))
                } else {
                    let alpha = focal_loss::class_weights::effective_number(counts, *beta)?;
                    weighted_ce(alpha, counts, device)?
                }
            }
            Remedy::FocalDrw { gamma, beta } => {
                let alpha = if self.loss_stage(epoch, epochs) > 0 {
                    Some(focal_loss::class_weights::effective_number(counts, *beta)?)
                } else {
                    None
                };
                focal(*gamma, alpha, counts, device)?
            }
            Remedy::LogitAdjust { tau } => {
                let cfg = LogitAdjustedLossConfig::from_counts(counts)?.with_tau(*tau);
                cfg.validate()?;
                Loss::LogitAdjust(Box::new(cfg.init(device)))
            }
            Remedy::Poly { epsilon } => {
                let cfg = Poly1LossConfig::new().with_epsilon(*epsilon);
                cfg.validate()?;
                Loss::Poly(Box::new(cfg.init(device)))
            }
        })
    }
}

/// The softmax focal loss with class weights `alpha`, checked against the classes of `counts`.
fn focal(
    gamma: f32,
    alpha: Option<Vec<f32>>,
    counts: &[usize],
    device: &Device,
) -> Result<Loss, TrainError> {
    let cfg = FocalLossConfig::new().with_gamma(gamma).with_alpha(alpha);
    cfg.validate_for(counts.len())?;
    Ok(Loss::Focal(Box::new(cfg.init(device))))
}

/// Cross-entropy weighted by `alpha` with PyTorch's semantics (`weight=alpha`: the mean divides
/// by the sum of the samples' weights), as the focal loss with gamma 0.
fn weighted_ce(alpha: Vec<f32>, counts: &[usize], device: &Device) -> Result<Loss, TrainError> {
    let cfg = FocalLossConfig::new()
        .with_gamma(0.0)
        .with_alpha(Some(alpha))
        .with_normalize_by_weights(true);
    cfg.validate_for(counts.len())?;
    Ok(Loss::Focal(Box::new(cfg.init(device))))
}

/// A training loss, any of the remedies'.
#[derive(Debug)]
pub enum Loss {
    /// Burn's cross-entropy.
    Ce(Box<CrossEntropyLoss>),
    /// Focal loss (also weighted CE, as gamma 0 with weights).
    Focal(Box<FocalLoss>),
    /// LDAM.
    Ldam(Box<LdamLoss>),
    /// Logit-adjusted CE.
    LogitAdjust(Box<LogitAdjustedLoss>),
    /// Poly-1.
    Poly(Box<Poly1Loss>),
}

impl Loss {
    /// Mean loss of a batch: `logits [N, C]`, `targets [N]` -> `[1]`.
    pub fn forward(&self, logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
        match self {
            Loss::Ce(l) => l.forward(logits, targets),
            Loss::Focal(l) => l.forward(logits, targets),
            Loss::Ldam(l) => l.forward(logits, targets),
            Loss::LogitAdjust(l) => l.forward(logits, targets),
            Loss::Poly(l) => l.forward(logits, targets),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_row_in_enum_order_and_names_round_trip() {
        for (i, r) in REMEDIES.iter().enumerate() {
            assert_eq!(r.kind as usize, i, "{} is out of order", r.name);
            assert_eq!(r.name.parse::<RemedyKind>().unwrap(), r.kind);
            assert_eq!(r.kind.name(), r.name);
            let d = Remedy::default_for(r.kind);
            assert_eq!(d.kind(), r.kind);
            // The defaults pass the checks, and the parameters a remedy has are those it reads.
            assert_eq!(RemedyParams::default().check(r.kind).unwrap(), d);
            let p = d.params();
            for s in [
                Setting::Gamma,
                Setting::Beta,
                Setting::Tau,
                Setting::Epsilon,
            ] {
                let has = match s {
                    Setting::Gamma => p.gamma.is_some(),
                    Setting::Beta => p.beta.is_some(),
                    Setting::Tau => p.tau.is_some(),
                    _ => p.epsilon.is_some(),
                };
                assert_eq!(has, r.reads.contains(&s), "{} {s}", r.name);
            }
        }
    }

    #[test]
    fn unknown_remedy_lists_the_valid_names() {
        let e = "focall".parse::<RemedyKind>().unwrap_err().to_string();
        assert!(
            e.contains("focall") && e.contains("cb-focal") && e.contains("ldam-drw"),
            "{e}"
        );
    }

    #[test]
    fn alpha_parses_and_resolves() {
        assert_eq!(
            "0.25".parse::<Alpha>().unwrap().resolve(&[98, 2]).unwrap(),
            vec![0.75, 0.25]
        );
        assert_eq!("auto".parse::<Alpha>().unwrap(), Alpha::Auto);
        assert_eq!("cb:0.99".parse::<Alpha>().unwrap(), Alpha::Cb(0.99));
        assert_eq!(
            "1,2,3".parse::<Alpha>().unwrap(),
            Alpha::List(vec![1.0, 2.0, 3.0])
        );
        // inverse frequency: n / (C n_c) = 100 / (2 * 98), 100 / (2 * 2)
        let w = Alpha::Auto.resolve(&[98, 2]).unwrap();
        assert!((w[0] - 100.0 / 196.0).abs() < 1e-6 && (w[1] - 25.0).abs() < 1e-5);
        assert!("x".parse::<Alpha>().is_err());
        assert!("cb:1.5".parse::<Alpha>().is_err());
        assert!("1.5".parse::<Alpha>().is_err());
        let e = Alpha::Scalar(0.25).resolve(&[1, 2, 3]).unwrap_err();
        assert!(matches!(
            e,
            TrainError::ScalarAlphaNeedsTwoClasses { n_classes: 3 }
        ));
        assert!(e.to_string().contains("two classes"));
    }

    #[test]
    fn parameters_a_remedy_does_not_read_are_rejected() {
        let p = RemedyParams {
            gamma: Some(2.0),
            ..Default::default()
        };
        let e = p.check(RemedyKind::Ce).unwrap_err();
        assert!(
            matches!(
                e,
                TrainError::NotApplicable {
                    setting: Setting::Gamma,
                    remedy: "ce",
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(
            p.check(RemedyKind::Focal).unwrap(),
            Remedy::Focal {
                gamma: 2.0,
                alpha: None
            }
        );
        assert_eq!(p.only_for(RemedyKind::Ce), RemedyParams::default());
        assert_eq!(
            Remedy::default_for(RemedyKind::CbFocal),
            Remedy::CbFocal {
                gamma: DEFAULT_GAMMA,
                beta: 0.999
            }
        );
        let neg = RemedyParams {
            gamma: Some(-1.0),
            ..Default::default()
        };
        assert!(matches!(
            neg.check(RemedyKind::Focal),
            Err(TrainError::OutOfRange {
                setting: Setting::Gamma,
                ..
            })
        ));
        let beta = RemedyParams {
            beta: Some(1.0),
            ..Default::default()
        };
        assert!(beta.check(RemedyKind::LdamDrw).is_err());
        assert!(
            RemedyKind::CbFocal
                .parameter_help()
                .contains("beta (default 0.999)")
        );
    }

    #[test]
    fn config_json_keeps_the_flat_record() {
        // The form every run folder so far has: the name and all five parameters.
        let r = Remedy::Focal {
            gamma: 2.0,
            alpha: Some(Alpha::Scalar(0.25)),
        };
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"focal","gamma":2.0,"alpha":{"type":"scalar","value":0.25},"beta":null,"tau":null,"epsilon":null}"#
        );
        assert_eq!(serde_json::from_str::<Remedy>(&json).unwrap(), r);
        // A record that no valid remedy has is refused on reading.
        let bad = r#"{"kind":"ce","gamma":2.0,"alpha":null,"beta":null,"tau":null,"epsilon":null}"#;
        assert!(serde_json::from_str::<Remedy>(bad).is_err());
    }

    #[test]
    fn ldam_drw_has_two_loss_stages() {
        let r = Remedy::default_for(RemedyKind::LdamDrw);
        // 10 epochs: plain LDAM for 8, weighted for 2.
        let stages: Vec<usize> = (1..=10).map(|e| r.loss_stage(e, 10)).collect();
        assert_eq!(stages, [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
        assert_eq!(Remedy::Ce.loss_stage(10, 10), 0);
    }

    #[test]
    fn ce_drw_and_focal_drw_defer_the_effective_number_weights() {
        let device = Device::flex();
        let counts = [90usize, 10];
        let logits = Tensor::<2>::from_floats([[2.0, -1.0], [0.5, 0.3], [-1.0, 1.5]], &device);
        let targets = Tensor::<1, Int>::from_ints([0, 1, 1], &device);
        let value = |r: &Remedy, epoch: usize| -> f32 {
            r.loss(&counts, epoch, 10, &device)
                .unwrap()
                .forward(logits.clone(), targets.clone())
                .into_scalar()
        };
        let weights =
            focal_loss::class_weights::effective_number(&counts, DEFAULT_DRW_BETA).unwrap();
        let weighted_ce = Remedy::WeightedCe {
            alpha: Alpha::List(weights.clone()),
        };
        let ce_drw = Remedy::default_for(RemedyKind::CeDrw);
        let stages: Vec<usize> = (1..=10).map(|e| ce_drw.loss_stage(e, 10)).collect();
        assert_eq!(stages, [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
        assert!((value(&ce_drw, 8) - value(&Remedy::Ce, 8)).abs() < 1e-6);
        assert!((value(&ce_drw, 9) - value(&weighted_ce, 9)).abs() < 1e-6);
        assert!((value(&ce_drw, 9) - value(&ce_drw, 8)).abs() > 1e-3);

        let focal_drw = Remedy::default_for(RemedyKind::FocalDrw);
        let focal = Remedy::default_for(RemedyKind::Focal);
        let cb = Remedy::Focal {
            gamma: DEFAULT_GAMMA,
            alpha: Some(Alpha::List(weights)),
        };
        assert!((value(&focal_drw, 8) - value(&focal, 8)).abs() < 1e-6);
        assert!((value(&focal_drw, 10) - value(&cb, 10)).abs() < 1e-6);
        assert_eq!(focal_drw.label(), "focal-drw(gamma=2, beta=0.9999)");
    }
}
