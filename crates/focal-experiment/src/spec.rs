//! Experiments as a user asks for them: a comparison of remedies ([`CompareSpec`]) or a sweep
//! of focal loss's parameters ([`SweepRequest`]), checked before any data is read into what
//! [`crate::plan::ExperimentPlan`] plans; and the folder an experiment is written to.

use std::path::{Path, PathBuf};

use focal_data::msg;
use focal_train::{
    Alpha, Gamma, RemedyKind, RemedyParams, Setting, TrainConfig, TrainError, TrainSpec,
};

use crate::ExperimentError;
use crate::experiment::{Plan, SweepMetric, SweepSpec};

/// The remedies a comparison runs by default.
pub const DEFAULT_REMEDIES: [RemedyKind; 6] = [
    RemedyKind::Ce,
    RemedyKind::WeightedCe,
    RemedyKind::Oversample,
    RemedyKind::Smote,
    RemedyKind::Focal,
    RemedyKind::CbFocal,
];

/// The gammas a sweep tries by default.
pub const DEFAULT_SWEEP_GAMMAS: [f32; 6] = [0.0, 0.5, 1.0, 2.0, 3.0, 5.0];

/// The epochs of each run of a comparison or sweep when none are asked for: keeps the default
/// comparison on the bundled data under 5 minutes on two CPU cores.
pub const EXPERIMENT_EPOCHS: usize = 4;

/// The items of a list flag: separated by `,` or `/` (`cb:0.999` holds neither), trimmed,
/// empty ones dropped.
fn items(text: &str) -> impl Iterator<Item = &str> {
    text.split([',', '/'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The remedies of a comparison from their names (`ce,focal`).
pub fn remedy_list(text: &str) -> Result<Vec<RemedyKind>, ExperimentError> {
    items(text)
        .map(|name| {
            RemedyKind::parse(name)
                .map_err(|e| TrainError::invalid(msg![Setting::Remedies, format!(": {e}")]).into())
        })
        .collect()
}

/// The gammas of a sweep (`0,0.5,1`); none given: the sweep's default ones.
pub fn gamma_list(text: &str) -> Result<Vec<Gamma>, ExperimentError> {
    items(text)
        .map(|g| {
            let v = g.parse::<f32>().map_err(|_| {
                TrainError::invalid(msg![Setting::Gamma, format!(": {g:?} is not a number")])
            })?;
            Ok(Gamma::new(v)?)
        })
        .collect()
}

/// The alphas a sweep tries at the best gamma (`auto,0.25` or `cb:0.999/auto`); a per-class
/// list cannot be one of them (its commas separate the alphas).
pub fn alpha_list(text: &str) -> Result<Vec<Alpha>, ExperimentError> {
    items(text)
        .map(|a| {
            a.parse::<Alpha>().map_err(|e| {
                TrainError::invalid(msg![Setting::ThenAlpha, format!(" {a}: {e}")]).into()
            })
        })
        .collect()
}

/// The seeds `first, first + 1, ...`: `n` of them, at least one.
pub fn seeds(first: u64, n: usize) -> Result<Vec<u64>, ExperimentError> {
    if n == 0 {
        return Err(TrainError::out_of_range(Setting::Seeds, 0, "give at least 1").into());
    }
    Ok((0..n as u64).map(|i| first + i).collect())
}

/// Ensembles of `k` seeds each, checked against the seeds they group: at least two models an
/// ensemble, and a whole number of groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ensembles(usize);

impl Ensembles {
    /// Groups of `k` of `seeds` seeds.
    pub fn new(k: usize, seeds: usize) -> Result<Self, ExperimentError> {
        if k >= 2 && seeds >= k && seeds.is_multiple_of(k) {
            Ok(Ensembles(k))
        } else {
            Err(ExperimentError::EnsembleSeeds { k, seeds })
        }
    }

    /// Seeds an ensemble averages.
    pub fn size(self) -> usize {
        self.0
    }
}

/// A comparison of remedies as a user asks for it: every remedy trained with the base settings
/// on the same split, budget and seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareSpec {
    /// The settings every run shares (its remedy is replaced by each of `remedies`).
    pub base: TrainSpec,
    /// The remedies, in table order.
    pub remedies: Vec<RemedyKind>,
    /// Remedy parameters, each for the remedies that read it.
    pub params: RemedyParams,
    /// Training seeds per remedy (the first is the base's seed).
    pub seeds: usize,
    /// Also judge ensembles of this many seeds.
    pub ensemble: Option<usize>,
}

/// A checked comparison: what [`crate::plan::ExperimentPlan::compare`] plans.
#[derive(Debug, Clone)]
pub struct Compare {
    pub(crate) plans: Vec<Plan>,
    pub(crate) seeds: Vec<u64>,
    pub(crate) ensembles: Option<Ensembles>,
}

impl Compare {
    /// The entries, one per remedy.
    pub fn plans(&self) -> &[Plan] {
        &self.plans
    }

    /// The training seeds.
    pub fn seeds(&self) -> &[u64] {
        &self.seeds
    }
}

impl CompareSpec {
    /// Every setting checked, before any data is read: at least one remedy and none twice, each
    /// remedy's configuration, a remedy parameter that no listed remedy reads refused (it would
    /// be silently ignored), the seeds and the ensembles.
    pub fn check(&self) -> Result<Compare, ExperimentError> {
        if self.remedies.is_empty() {
            return Err(ExperimentError::NothingToRun);
        }
        if let Some(dup) = self
            .remedies
            .iter()
            .enumerate()
            .find(|(i, k)| self.remedies[..*i].contains(k))
            .map(|(_, k)| k)
        {
            return Err(TrainError::invalid(msg![
                Setting::Remedies,
                format!(": {dup} is listed twice")
            ])
            .into());
        }
        self.params.refuse_unread_by_all(&self.remedies)?;
        let mut plans = Vec::with_capacity(self.remedies.len());
        for &kind in &self.remedies {
            let remedy = self.params.only_for(kind).check(kind)?;
            let config = TrainSpec {
                remedy,
                ..self.base.clone()
            }
            .check_among(&self.remedies)?;
            plans.push(Plan {
                label: kind.name().to_string(),
                config,
            });
        }
        let seeds = seeds(self.base.seed, self.seeds)?;
        let ensembles = self
            .ensemble
            .map(|k| Ensembles::new(k, seeds.len()))
            .transpose()?;
        Ok(Compare {
            plans,
            seeds,
            ensembles,
        })
    }
}

/// A sweep of focal loss's gamma, then alpha at the best gamma (or the full grid), as a user
/// asks for it.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRequest {
    /// The settings every run shares (its remedy is focal loss at each setting).
    pub base: TrainSpec,
    /// The gammas to try ([`DEFAULT_SWEEP_GAMMAS`] when empty).
    pub gammas: Vec<Gamma>,
    /// The alphas to try at the best gamma, or crossed with every gamma for a grid.
    pub alphas: Vec<Alpha>,
    /// Remedy parameters: alpha is the one used while gamma is swept; focal loss reads no
    /// other (a gamma here is refused: the gammas are the sweep's).
    pub params: RemedyParams,
    /// The full grid instead of gamma first, then alpha.
    pub grid: bool,
    /// The validation metric that chooses.
    pub metric: SweepMetric,
    /// Training seeds per setting.
    pub seeds: usize,
}

/// A checked sweep: its base configuration, the sweep and the seeds.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The configuration every run starts from.
    pub base: TrainConfig,
    /// The settings swept.
    pub spec: SweepSpec,
    /// The training seeds.
    pub seeds: Vec<u64>,
}

impl SweepRequest {
    /// Every setting checked, before any data is read.
    pub fn check(&self) -> Result<Sweep, ExperimentError> {
        // Focal loss reads gamma and alpha; the gammas are the sweep's own.
        if let Err(TrainError::NotApplicable { setting, .. }) = self.params.check(RemedyKind::Focal)
        {
            return Err(TrainError::invalid(msg![
                setting,
                " does not apply to a focal sweep: it trains the focal remedy, which reads ",
                Setting::Gamma,
                " and ",
                Setting::Alpha
            ])
            .into());
        }
        if self.params.gamma.is_some() {
            return Err(TrainError::invalid(msg![
                Setting::Gamma,
                ": give the gammas to sweep as a list"
            ])
            .into());
        }
        let base = TrainSpec {
            remedy: focal_train::Remedy::default_for(RemedyKind::Focal),
            ..self.base.clone()
        }
        .check()?;
        let gammas = if self.gammas.is_empty() {
            DEFAULT_SWEEP_GAMMAS
                .iter()
                .map(|&g| Gamma::new(g))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            self.gammas.clone()
        };
        Ok(Sweep {
            base,
            spec: SweepSpec {
                gammas,
                alphas: self.alphas.clone(),
                base_alpha: self.params.alpha.clone(),
                grid: self.grid,
                metric: self.metric,
            },
            seeds: seeds(self.base.seed, self.seeds)?,
        })
    }
}

/// The folder of an experiment: `out`, created if needed (it must be a folder that holds no
/// experiment's tables yet; one holding the same plan is continued, as checked when the plan
/// is written), or `runs/<what>` (`-2`, `-3`... when taken).
pub fn experiment_dir(out: Option<&Path>, what: &str) -> Result<PathBuf, ExperimentError> {
    let Some(dir) = out else {
        return Ok(focal_train::run::fresh_run_dir(Path::new("runs"), what)?);
    };
    let shown = dir.display();
    if dir.exists() && !dir.is_dir() {
        return Err(TrainError::invalid(msg![
            Setting::Out,
            format!(
                " {shown}: a file is there; give a folder (the experiment is written inside it)"
            )
        ])
        .into());
    }
    if dir.join(focal_train::run::folder::COMPARISON_FILE).exists() {
        return Err(TrainError::invalid(msg![
            Setting::Out,
            format!(
                " {shown}: already holds an experiment ({}); choose another folder",
                focal_train::run::folder::COMPARISON_FILE
            )
        ])
        .into());
    }
    std::fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, e))?;
    Ok(dir.to_path_buf())
}
