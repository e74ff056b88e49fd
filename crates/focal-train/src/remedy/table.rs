//! The table of remedies and every view derived from it: [`Remedy`], [`RemedyKind`], each
//! remedy's [`RemedyInfo`], its defaults, the parameters it reads ([`RemedyParams`], checked
//! into a remedy) and its record in `config.json` ([`RemedyRecord`]).

use crate::error::TrainError;
use crate::setting::Setting;
use crate::value::{Beta, Gamma, PolyEpsilon, Tau};

use super::alpha::Alpha;

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
                        $(p.$field = Param::given($field);)*
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
                        $($field: Param::resolve(self.$field.clone(), $default)),*
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
        <Self as crate::named::Named>::parse_name(name)
    }
}

impl crate::named::Named for RemedyKind {
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

/// A remedy's parameters as the user gave them: each value checked, `None` meaning "the
/// remedy's default". [`check`](Self::check) turns them into a [`Remedy`] of a given kind,
/// refusing a parameter that remedy does not read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RemedyParams {
    /// Focusing parameter.
    pub gamma: Option<Gamma>,
    /// Class weights.
    pub alpha: Option<Alpha>,
    /// Effective-number beta.
    pub beta: Option<Beta>,
    /// Logit-adjustment temperature.
    pub tau: Option<Tau>,
    /// Poly-1 epsilon.
    pub epsilon: Option<PolyEpsilon>,
}

/// How a remedy's field takes a parameter: a field of the parameter's type takes the value
/// given or its default; an optional field (focal's alpha) takes the value given, else its
/// default (none).
pub(super) trait Param<P>: Sized {
    /// The field's value from what was given and the default.
    fn resolve(given: Option<P>, default: Self) -> Self;
    /// The field as a given parameter (for the record and the label).
    fn given(&self) -> Option<P>;
}

impl<T: Clone> Param<T> for T {
    fn resolve(given: Option<T>, default: T) -> T {
        given.unwrap_or(default)
    }
    fn given(&self) -> Option<T> {
        Some(self.clone())
    }
}

impl<T: Clone> Param<T> for Option<T> {
    fn resolve(given: Option<T>, default: Option<T>) -> Option<T> {
        given.or(default)
    }
    fn given(&self) -> Option<T> {
        self.clone()
    }
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

    /// Only the parameters `kind` reads (for an experiment whose settings serve several
    /// remedies).
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

    /// Refuses a parameter given that `kind` does not read.
    pub(super) fn refuse_unread(&self, kind: RemedyKind) -> Result<(), TrainError> {
        match self
            .given()
            .into_iter()
            .find(|(s, g)| *g && !kind.reads().contains(s))
        {
            Some((setting, _)) => Err(TrainError::NotApplicable {
                setting,
                remedy: kind.name(),
                reads: kind.reads(),
            }),
            None => Ok(()),
        }
    }

    /// Refuses a parameter given that none of `kinds` reads (an experiment's settings go to
    /// the remedies that read them; one that no remedy reads would be silently ignored).
    pub fn refuse_unread_by_all(&self, kinds: &[RemedyKind]) -> Result<(), TrainError> {
        for (setting, given) in self.given() {
            if given && !kinds.iter().any(|k| k.reads().contains(&setting)) {
                return Err(TrainError::ReadByNone {
                    setting,
                    remedies: kinds.iter().map(|k| k.name()).collect(),
                    readers: RemedyKind::ALL
                        .iter()
                        .filter(|k| k.reads().contains(&setting))
                        .map(|k| k.name())
                        .collect(),
                });
            }
        }
        Ok(())
    }
}

/// The flat form of a [`Remedy`] in `config.json`: the remedy's name and every parameter,
/// `null` where it does not apply (the format of every run folder so far). Reading one checks
/// it as [`RemedyParams::check`] does.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RemedyRecord {
    /// Which remedy.
    pub kind: RemedyKind,
    /// Focusing parameter (focal, cb-focal, focal-drw).
    pub gamma: Option<Gamma>,
    /// Class weights (weighted-ce, focal).
    pub alpha: Option<Alpha>,
    /// Effective-number beta (cb-focal, ldam-drw, ce-drw, focal-drw).
    pub beta: Option<Beta>,
    /// Logit-adjustment temperature (logit-adjust).
    pub tau: Option<Tau>,
    /// Poly-1 epsilon (poly).
    pub epsilon: Option<PolyEpsilon>,
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
