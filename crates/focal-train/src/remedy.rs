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
    /// The parameters it reads, with their defaults.
    pub parameters: &'static str,
}

/// Every remedy: the one table `--help`, `focal compare` and the reports read.
pub const REMEDIES: [RemedyInfo; 11] = [
    RemedyInfo {
        kind: RemedyKind::Ce,
        name: "ce",
        description: "plain cross-entropy (the baseline)",
        data_side: DataSide::None,
        loss_side: "cross-entropy",
        parameters: "",
    },
    RemedyInfo {
        kind: RemedyKind::WeightedCe,
        name: "weighted-ce",
        description: "cross-entropy weighted per class",
        data_side: DataSide::None,
        loss_side: "weighted cross-entropy (PyTorch semantics: mean divides by the sum of weights)",
        parameters: "--alpha: weights, a list (one per class), `auto` = inverse frequency (default) or cb:BETA",
    },
    RemedyInfo {
        kind: RemedyKind::Oversample,
        name: "oversample",
        description: "random over-sampling of the rare classes",
        data_side: DataSide::Oversample,
        loss_side: "cross-entropy",
        parameters: "",
    },
    RemedyInfo {
        kind: RemedyKind::Undersample,
        name: "undersample",
        description: "random under-sampling of the common classes",
        data_side: DataSide::Undersample,
        loss_side: "cross-entropy",
        parameters: "",
    },
    RemedyInfo {
        kind: RemedyKind::BalancedSampler,
        name: "balanced-sampler",
        description: "class-balanced batches (weighted random sampler)",
        data_side: DataSide::BalancedSampler,
        loss_side: "cross-entropy",
        parameters: "",
    },
    RemedyInfo {
        kind: RemedyKind::Smote,
        name: "smote",
        description: "SMOTE synthetic rare samples (k = 5)",
        data_side: DataSide::Smote,
        loss_side: "cross-entropy",
        parameters: "",
    },
    RemedyInfo {
        kind: RemedyKind::Focal,
        name: "focal",
        description: "focal loss (Lin et al. 2017)",
        data_side: DataSide::None,
        loss_side: "softmax focal loss",
        parameters: "--gamma (default 2), --alpha: none (default), a number (two classes: weight on the positive class), a list, `auto` or cb:BETA",
    },
    RemedyInfo {
        kind: RemedyKind::CbFocal,
        name: "cb-focal",
        description: "class-balanced focal loss (Cui et al. 2019)",
        data_side: DataSide::None,
        loss_side: "focal loss with effective-number weights",
        parameters: "--beta (default 0.999), --gamma (default 2)",
    },
    RemedyInfo {
        kind: RemedyKind::LdamDrw,
        name: "ldam-drw",
        description: "LDAM margins with deferred re-weighting (Cao et al. 2019)",
        data_side: DataSide::None,
        loss_side: "LDAM (max margin 0.5, s = 30); effective-number weights from 80% of the epochs",
        parameters: "--beta (default 0.9999) for the deferred weights",
    },
    RemedyInfo {
        kind: RemedyKind::LogitAdjust,
        name: "logit-adjust",
        description: "logit-adjusted cross-entropy (Menon et al. 2021)",
        data_side: DataSide::None,
        loss_side: "cross-entropy on logits + tau log(prior)",
        parameters: "--tau (default 1)",
    },
    RemedyInfo {
        kind: RemedyKind::Poly,
        name: "poly",
        description: "Poly-1 cross-entropy (Leng et al. 2022)",
        data_side: DataSide::None,
        loss_side: "CE + epsilon (1 - p_t)",
        parameters: "--epsilon (default 1)",
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
        // Every kind has exactly one row; the table is checked by a test.
        REMEDIES
            .iter()
            .find(|r| r.kind == self)
            .unwrap_or(&REMEDIES[0])
    }

    /// The CLI name.
    pub fn name(self) -> &'static str {
        self.info().name
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
        let bad = |why: &str| {
            TrainError::invalid(format!(
                "--alpha {s:?}: {why}; give a number, a comma-separated list, `auto` or cb:BETA"
            ))
        };
        if s == "auto" {
            return Ok(Alpha::Auto);
        }
        if let Some(beta) = s.strip_prefix("cb:") {
            let b: f64 = beta.parse().map_err(|_| bad("BETA is not a number"))?;
            if !(0.0..1.0).contains(&b) {
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
            Alpha::Scalar(_) => Err(TrainError::invalid(format!(
                "--alpha: a single number is for two classes; this task has {c}: give {c} comma-separated weights, `auto` or cb:BETA"
            ))),
            Alpha::List(l) if l.len() == c => Ok(l.clone()),
            Alpha::List(l) => Err(TrainError::invalid(format!(
                "--alpha: {} weights for {c} classes; give one weight per class",
                l.len()
            ))),
            Alpha::Auto => Ok(focal_loss::class_weights::inverse_frequency(counts)?),
            Alpha::Cb(b) => Ok(focal_loss::class_weights::effective_number(counts, *b)?),
        }
    }
}

/// A remedy with its parameters resolved (defaults filled in); what `config.json` records.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Remedy {
    /// Which remedy.
    pub kind: RemedyKind,
    /// Focusing parameter (focal, cb-focal).
    pub gamma: Option<f32>,
    /// Class weights (weighted-ce, focal).
    pub alpha: Option<Alpha>,
    /// Effective-number beta (cb-focal, ldam-drw).
    pub beta: Option<f64>,
    /// Logit-adjustment temperature (logit-adjust).
    pub tau: Option<f32>,
    /// Poly-1 epsilon (poly).
    pub epsilon: Option<f32>,
}

/// Parameters as the user gave them; `None` means "the remedy's default".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RemedyParams {
    /// `--gamma`.
    pub gamma: Option<f32>,
    /// `--alpha`.
    pub alpha: Option<Alpha>,
    /// `--beta`.
    pub beta: Option<f64>,
    /// `--tau`.
    pub tau: Option<f32>,
    /// `--epsilon`.
    pub epsilon: Option<f32>,
}

impl Remedy {
    /// The remedy `kind` with `params`, defaults filled in and values checked. A parameter the
    /// remedy does not read is an error naming it (so `--gamma` with `ce` is not silently ignored).
    pub fn new(kind: RemedyKind, params: &RemedyParams) -> Result<Self, TrainError> {
        let uses: &[&str] = match kind {
            RemedyKind::WeightedCe => &["alpha"],
            RemedyKind::Focal => &["gamma", "alpha"],
            RemedyKind::CbFocal => &["gamma", "beta"],
            RemedyKind::LdamDrw => &["beta"],
            RemedyKind::LogitAdjust => &["tau"],
            RemedyKind::Poly => &["epsilon"],
            _ => &[],
        };
        let given = [
            ("gamma", params.gamma.is_some()),
            ("alpha", params.alpha.is_some()),
            ("beta", params.beta.is_some()),
            ("tau", params.tau.is_some()),
            ("epsilon", params.epsilon.is_some()),
        ];
        if let Some((name, _)) = given.iter().find(|(n, g)| *g && !uses.contains(n)) {
            return Err(TrainError::invalid(format!(
                "--{name} does not apply to remedy {}; it reads: {}",
                kind.name(),
                if uses.is_empty() {
                    "no parameter".to_string()
                } else {
                    uses.iter()
                        .map(|u| format!("--{u}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )));
        }
        let uses_p = |p: &str| uses.contains(&p);
        let gamma = uses_p("gamma").then(|| params.gamma.unwrap_or(2.0));
        if let Some(g) = gamma
            && !(g.is_finite() && g >= 0.0)
        {
            return Err(TrainError::invalid(format!(
                "--gamma {g}: gamma must be finite and >= 0"
            )));
        }
        let beta = uses_p("beta").then(|| {
            params.beta.unwrap_or(if kind == RemedyKind::LdamDrw {
                0.9999
            } else {
                0.999
            })
        });
        if let Some(b) = beta
            && !(0.0..1.0).contains(&b)
        {
            return Err(TrainError::invalid(format!(
                "--beta {b}: beta must be in [0, 1) (0.9, 0.99, 0.999, 0.9999 are the paper's)"
            )));
        }
        let alpha = match kind {
            RemedyKind::WeightedCe => Some(params.alpha.clone().unwrap_or(Alpha::Auto)),
            RemedyKind::Focal => params.alpha.clone(),
            _ => None,
        };
        let tau = uses_p("tau").then(|| params.tau.unwrap_or(1.0));
        if let Some(t) = tau
            && !t.is_finite()
        {
            return Err(TrainError::invalid(format!(
                "--tau {t}: tau must be finite"
            )));
        }
        let epsilon = uses_p("epsilon").then(|| params.epsilon.unwrap_or(1.0));
        if let Some(e) = epsilon
            && !(e.is_finite() && e >= -1.0)
        {
            return Err(TrainError::invalid(format!(
                "--epsilon {e}: epsilon must be >= -1"
            )));
        }
        Ok(Remedy {
            kind,
            gamma,
            alpha,
            beta,
            tau,
            epsilon,
        })
    }

    /// The remedy with every default.
    pub fn default_for(kind: RemedyKind) -> Self {
        // No parameter given: nothing can be out of range.
        Remedy::new(kind, &RemedyParams::default()).unwrap_or(Remedy {
            kind,
            gamma: None,
            alpha: None,
            beta: None,
            tau: None,
            epsilon: None,
        })
    }

    /// The data side.
    pub fn data_side(&self) -> DataSide {
        self.kind.info().data_side
    }

    /// A short label with the parameters, e.g. `focal(gamma=2, alpha=0.25)`.
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        if let Some(g) = self.gamma {
            parts.push(format!("gamma={g}"));
        }
        if let Some(a) = &self.alpha {
            parts.push(format!("alpha={a}"));
        }
        if let Some(b) = self.beta {
            parts.push(format!("beta={b}"));
        }
        if let Some(t) = self.tau {
            parts.push(format!("tau={t}"));
        }
        if let Some(e) = self.epsilon {
            parts.push(format!("epsilon={e}"));
        }
        if parts.is_empty() {
            self.kind.name().to_string()
        } else {
            format!("{}({})", self.kind.name(), parts.join(", "))
        }
    }

    /// The loss for `epoch` (1-based, of `epochs`), from the class counts of the (resampled)
    /// training data. Only `ldam-drw` changes with the epoch.
    pub fn loss(
        &self,
        counts: &[usize],
        epoch: usize,
        epochs: usize,
        device: &Device,
    ) -> Result<Loss, TrainError> {
        Ok(match self.kind {
            RemedyKind::Ce
            | RemedyKind::Oversample
            | RemedyKind::Undersample
            | RemedyKind::BalancedSampler
            | RemedyKind::Smote => Loss::Ce(Box::new(CrossEntropyLossConfig::new().init(device))),
            RemedyKind::WeightedCe => {
                let w = self.alpha.clone().unwrap_or(Alpha::Auto).resolve(counts)?;
                let cfg = FocalLossConfig::new()
                    .with_gamma(0.0)
                    .with_alpha(Some(w))
                    .with_normalize_by_weights(true);
                cfg.validate_for(counts.len())?;
                Loss::Focal(Box::new(cfg.init(device)))
            }
            RemedyKind::Focal | RemedyKind::CbFocal => {
                let alpha = match (&self.alpha, self.beta) {
                    (Some(a), _) => Some(a.resolve(counts)?),
                    (None, Some(b)) => {
                        Some(focal_loss::class_weights::effective_number(counts, b)?)
                    }
                    (None, None) => None,
                };
                let cfg = FocalLossConfig::new()
                    .with_gamma(self.gamma.unwrap_or(2.0))
                    .with_alpha(alpha);
                cfg.validate_for(counts.len())?;
                Loss::Focal(Box::new(cfg.init(device)))
            }
            RemedyKind::LdamDrw => {
                // Deferred re-weighting: plain LDAM first, class-balanced weights for the last 20%.
                let drw_epoch = (epochs * 4).div_ceil(5).max(1);
                let weights = if epoch > drw_epoch {
                    Some(focal_loss::class_weights::effective_number(
                        counts,
                        self.beta.unwrap_or(0.9999),
                    )?)
                } else {
                    None
                };
                let cfg = LdamLossConfig::new(counts.to_vec()).with_weights(weights);
                cfg.validate()?;
                Loss::Ldam(Box::new(cfg.init(device)))
            }
            RemedyKind::LogitAdjust => {
                let cfg =
                    LogitAdjustedLossConfig::from_counts(counts)?.with_tau(self.tau.unwrap_or(1.0));
                cfg.validate()?;
                Loss::LogitAdjust(Box::new(cfg.init(device)))
            }
            RemedyKind::Poly => {
                let cfg = Poly1LossConfig::new().with_epsilon(self.epsilon.unwrap_or(1.0));
                cfg.validate()?;
                Loss::Poly(Box::new(cfg.init(device)))
            }
        })
    }
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
    fn every_kind_has_one_row_and_names_round_trip() {
        for r in REMEDIES {
            assert_eq!(REMEDIES.iter().filter(|x| x.kind == r.kind).count(), 1);
            assert_eq!(r.name.parse::<RemedyKind>().unwrap(), r.kind);
            assert_eq!(r.kind.name(), r.name);
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
        assert!(
            Alpha::Scalar(0.25)
                .resolve(&[1, 2, 3])
                .unwrap_err()
                .to_string()
                .contains("two classes")
        );
    }

    #[test]
    fn parameters_a_remedy_does_not_read_are_rejected() {
        let p = RemedyParams {
            gamma: Some(2.0),
            ..Default::default()
        };
        let e = Remedy::new(RemedyKind::Ce, &p).unwrap_err().to_string();
        assert!(e.contains("--gamma") && e.contains("ce"), "{e}");
        let r = Remedy::new(RemedyKind::Focal, &p).unwrap();
        assert_eq!(r.gamma, Some(2.0));
        assert_eq!(Remedy::default_for(RemedyKind::CbFocal).beta, Some(0.999));
        let neg = RemedyParams {
            gamma: Some(-1.0),
            ..Default::default()
        };
        assert!(Remedy::new(RemedyKind::Focal, &neg).is_err());
    }
}
