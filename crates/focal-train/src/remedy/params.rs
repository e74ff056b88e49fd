//! A remedy's parameters as a user gives them ([`RemedyParams`]: each checked, each optional),
//! and the flat record of a remedy in `config.json` ([`RemedyRecord`]).

use crate::error::TrainError;
use crate::setting::Setting;
use crate::value::{Beta, Gamma, PolyEpsilon, Tau};

use super::{Alpha, Remedy, RemedyKind};

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
