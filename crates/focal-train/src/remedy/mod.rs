//! Remedies for class imbalance: one named combination of a data-side strategy and a loss.
//!
//! Every remedy is described once, in the table below: its name, what it does to the data, its
//! loss, and its parameters with their types and defaults. [`Remedy`] (a remedy with checked
//! parameters), [`RemedyKind`] (which remedy), [`RemedyKind::info`], [`Remedy::default_for`],
//! the parameters a remedy reads, [`RemedyParams::check`] and the record in `config.json` all
//! derive from it; only the loss a remedy trains with ([`Remedy::loss`]) is written by hand.
//! The decision side (argmax, or a threshold tuned on validation) is applied to every remedy at
//! evaluation, so each run reports both.

mod alpha;
mod loss;
mod params;

pub use alpha::Alpha;
pub use loss::Loss;
pub use params::{RemedyParams, RemedyRecord};

use crate::setting::Setting;
use crate::value::{Beta, Gamma, PolyEpsilon, Tau};

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

/// What a remedy is, for `--help`, reports and the training loop.
#[derive(Debug, Clone, Copy)]
pub struct RemedyInfo {
    /// The remedy.
    pub kind: RemedyKind,
    /// One line for `--help` and reports.
    pub description: &'static str,
    /// What it does to the data.
    pub data_side: DataSide,
    /// The loss it trains with.
    pub loss_side: &'static str,
    /// The parameters it reads, in the order of [`RemedyParams`].
    pub reads: &'static [Setting],
    /// Whether it augments the minority class's training images (run with augment minority
    /// unless told all; the augment settings choose the transforms).
    pub augments: bool,
}

/// The setting of a remedy parameter's field.
macro_rules! param_setting {
    (gamma) => {
        Setting::Gamma
    };
    (alpha) => {
        Setting::Alpha
    };
    (beta) => {
        Setting::Beta
    };
    (tau) => {
        Setting::Tau
    };
    (epsilon) => {
        Setting::Epsilon
    };
}

/// The table of remedies: for each, its variant (named in kebab case: `WeightedCe` is
/// `weighted-ce`), description, data side, loss,
/// whether it augments, and its parameters (`field: Type = default`, each field one of
/// [`RemedyParams`]'s).
macro_rules! remedies {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident {
            description: $description:literal,
            data: $data:expr,
            loss: $loss:literal,
            augments: $augments:literal,
            params: { $( $(#[doc = $fdoc:literal])* $field:ident: $fty:ty = $default:expr ),* $(,)? } $(,)?
        }
    ),* $(,)?) => {
        /// A remedy with its parameters, each a checked value with its default filled in: a
        /// value of this type is always a valid remedy (build one with
        /// [`RemedyParams::check`] or [`Remedy::default_for`]). `config.json` records it in
        /// the flat form of [`RemedyRecord`].
        #[derive(Debug, Clone, PartialEq, strum::EnumDiscriminants, serde::Serialize, serde::Deserialize)]
        #[serde(into = "RemedyRecord", try_from = "RemedyRecord")]
        #[strum_discriminants(
            name(RemedyKind),
            doc = "Which remedy, by its name (`ce`, `weighted-ce`, ...).",
            derive(
                Hash,
                strum::EnumString,
                strum::Display,
                strum::IntoStaticStr,
                strum::EnumIter,
                strum::EnumMessage,
                serde::Serialize,
                serde::Deserialize
            ),
            strum(serialize_all = "kebab-case"),
            serde(rename_all = "kebab-case")
        )]
        pub enum Remedy {
            $(
                $(#[doc = $doc])*
                $variant { $( $(#[doc = $fdoc])* $field: $fty ),* }
            ),*
        }

        impl RemedyKind {
            /// Every remedy, in the order `--help` lists them.
            pub const ALL: &'static [RemedyKind] = &[$(RemedyKind::$variant),*];

            /// What this remedy is.
            pub fn info(self) -> &'static RemedyInfo {
                match self {
                    $(RemedyKind::$variant => &RemedyInfo {
                        kind: RemedyKind::$variant,
                        description: $description,
                        data_side: $data,
                        loss_side: $loss,
                        reads: &[$(param_setting!($field)),*],
                        augments: $augments,
                    }),*
                }
            }
        }

        impl Remedy {
            /// The remedy `kind` with every default.
            pub fn default_for(kind: RemedyKind) -> Self {
                match kind {
                    $(RemedyKind::$variant => Remedy::$variant { $($field: $default),* }),*
                }
            }

            /// The parameters, resolved (`None` where the remedy reads none).
            pub fn params(&self) -> RemedyParams {
                #[allow(unused_mut)]
                let mut p = RemedyParams::default();
                match self {
                    $(Remedy::$variant { $($field),* } => {
                        $(p.$field = params::Param::given($field);)*
                    })*
                }
                p
            }
        }

        impl RemedyParams {
            /// The remedy `kind` with these parameters, defaults filled in. A parameter the
            /// remedy does not read is an error naming it (so a gamma given to `ce` is not
            /// silently ignored).
            pub fn check(&self, kind: RemedyKind) -> Result<Remedy, crate::error::TrainError> {
                self.refuse_unread(kind)?;
                Ok(match kind {
                    $(RemedyKind::$variant => Remedy::$variant {
                        $($field: params::Param::resolve(self.$field.clone(), $default)),*
                    }),*
                })
            }
        }
    };
}

remedies! {
    /// Plain cross-entropy: the baseline.
    Ce {
        description: "plain cross-entropy (the baseline)",
        data: DataSide::None,
        loss: "cross-entropy",
        augments: false,
        params: {},
    },
    /// Cross-entropy weighted per class.
    WeightedCe {
        description: "cross-entropy weighted per class",
        data: DataSide::None,
        loss: "weighted cross-entropy (PyTorch semantics: mean divides by the sum of weights)",
        augments: false,
        params: {
            /// The class weights.
            alpha: Alpha = Alpha::Auto,
        },
    },
    /// Random over-sampling of the minority classes, then cross-entropy.
    Oversample {
        description: "random over-sampling of the rare classes",
        data: DataSide::Oversample,
        loss: "cross-entropy",
        augments: false,
        params: {},
    },
    /// Random under-sampling of the majority classes, then cross-entropy.
    Undersample {
        description: "random under-sampling of the common classes",
        data: DataSide::Undersample,
        loss: "cross-entropy",
        augments: false,
        params: {},
    },
    /// Class-balanced sampling of each epoch's batches, then cross-entropy.
    BalancedSampler {
        description: "class-balanced batches (weighted random sampler)",
        data: DataSide::BalancedSampler,
        loss: "cross-entropy",
        augments: false,
        params: {},
    },
    /// SMOTE synthetic minority samples, then cross-entropy.
    Smote {
        description: "SMOTE synthetic rare samples (k = 5)",
        data: DataSide::Smote,
        loss: "cross-entropy",
        augments: false,
        params: {},
    },
    /// Focal loss.
    Focal {
        description: "focal loss (Lin et al. 2017)",
        data: DataSide::None,
        loss: "softmax focal loss",
        augments: false,
        params: {
            /// Focusing parameter.
            gamma: Gamma = Gamma::DEFAULT,
            /// Class weights (none: every class 1).
            alpha: Option<Alpha> = None,
        },
    },
    /// Focal loss with class-balanced (effective number) weights.
    CbFocal {
        description: "class-balanced focal loss (Cui et al. 2019)",
        data: DataSide::None,
        loss: "focal loss with effective-number weights",
        augments: false,
        params: {
            /// Focusing parameter.
            gamma: Gamma = Gamma::DEFAULT,
            /// Effective-number beta.
            beta: Beta = Beta::CB_DEFAULT,
        },
    },
    /// LDAM loss with deferred re-weighting.
    LdamDrw {
        description: "LDAM margins with deferred re-weighting (Cao et al. 2019)",
        data: DataSide::None,
        loss: "LDAM (max margin 0.5, s = 30); effective-number weights from 80% of the epochs",
        augments: false,
        params: {
            /// Effective-number beta of the deferred weights.
            beta: Beta = Beta::DRW_DEFAULT,
        },
    },
    /// Logit-adjusted cross-entropy.
    LogitAdjust {
        description: "logit-adjusted cross-entropy (Menon et al. 2021)",
        data: DataSide::None,
        loss: "cross-entropy on logits + tau log(prior)",
        augments: false,
        params: {
            /// Temperature.
            tau: Tau = Tau::DEFAULT,
        },
    },
    /// Poly-1 cross-entropy.
    Poly {
        description: "Poly-1 cross-entropy (Leng et al. 2022)",
        data: DataSide::None,
        loss: "CE + epsilon (1 - p_t)",
        augments: false,
        params: {
            /// Epsilon.
            epsilon: PolyEpsilon = PolyEpsilon::DEFAULT,
        },
    },
    /// Random over-sampling of the minority classes, each copy of a minority image augmented
    /// anew every epoch, then cross-entropy.
    OversampleAugment {
        description: "random over-sampling, each rare image copy augmented (flip/shift/rotate)",
        data: DataSide::Oversample,
        loss: "cross-entropy",
        augments: true,
        params: {},
    },
    /// Cross-entropy with deferred re-weighting (plain, then effective-number class weights).
    CeDrw {
        description: "cross-entropy with deferred re-weighting (Cao et al. 2019's schedule)",
        data: DataSide::None,
        loss: "cross-entropy; from 80% of the epochs weighted by effective numbers \
               (PyTorch semantics: mean divides by the sum of weights)",
        augments: false,
        params: {
            /// Effective-number beta of the deferred weights.
            beta: Beta = Beta::DRW_DEFAULT,
        },
    },
    /// Focal loss with deferred re-weighting (no alpha, then effective-number class weights).
    FocalDrw {
        description: "focal loss with deferred re-weighting (Cao et al. 2019's schedule)",
        data: DataSide::None,
        loss: "softmax focal loss; from 80% of the epochs with effective-number alpha",
        augments: false,
        params: {
            /// Focusing parameter.
            gamma: Gamma = Gamma::DEFAULT,
            /// Effective-number beta of the deferred weights.
            beta: Beta = Beta::DRW_DEFAULT,
        },
    },
}

impl RemedyKind {
    /// The name (`focal train --remedy NAME`): the variant in kebab case.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The parameters this remedy reads.
    pub fn reads(self) -> &'static [Setting] {
        self.info().reads
    }

    /// Whether this remedy augments the minority class's images (see [`RemedyInfo::augments`]).
    pub fn augments(self) -> bool {
        self.info().augments
    }

    /// The names of every remedy, comma-separated (for messages).
    pub fn names() -> String {
        Self::ALL
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The parameters this remedy reads with their defaults, for help texts: e.g.
    /// `gamma (default 2), alpha (default none)`.
    pub fn parameter_help(self) -> String {
        let p = Remedy::default_for(self).params();
        self.reads()
            .iter()
            .map(|s| {
                let default = match s {
                    Setting::Gamma => p.gamma.map(|v| v.to_string()),
                    Setting::Alpha => p.alpha.as_ref().map(|v| v.to_string()),
                    Setting::Beta => p.beta.map(|v| v.to_string()),
                    Setting::Tau => p.tau.map(|v| v.to_string()),
                    Setting::Epsilon => p.epsilon.map(|v| v.to_string()),
                    _ => None,
                };
                format!("{s} (default {})", default.as_deref().unwrap_or("none"))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The remedy of `name`, or an error listing the valid names.
    pub fn parse(name: &str) -> Result<Self, crate::error::TrainError> {
        <Self as crate::config::Named>::parse_name(name)
    }
}

impl crate::config::Named for RemedyKind {
    const WHAT: &'static str = "remedy";

    fn help(self) -> Option<&'static str> {
        Some(self.info().description)
    }
}

impl Remedy {
    /// Which remedy.
    pub fn kind(&self) -> RemedyKind {
        RemedyKind::from(self)
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
}

#[cfg(test)]
mod tests;
