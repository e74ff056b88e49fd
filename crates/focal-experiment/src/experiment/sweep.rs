//! Sweeps of focal loss's parameters: gamma first, then alpha at the best gamma on
//! validation (or the full grid), each stage judged by one validation metric.

use serde::{Deserialize, Serialize};

use focal_train::{Alpha, Gamma, RemedyKind, RemedyParams, Setting, TrainConfig};

use super::records::{Entry, Plan, Stat, SweepMetric, SweepStage};
use crate::ExperimentError;

/// What to sweep (recorded in `plan.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepSpec {
    /// The gammas to try.
    pub gammas: Vec<Gamma>,
    /// The alphas to try (at the best gamma, or crossed with every gamma for a grid). Empty: alpha
    /// stays `base_alpha`.
    pub alphas: Vec<Alpha>,
    /// The alpha used while sweeping gamma (`None`: no class weights).
    pub base_alpha: Option<Alpha>,
    /// A full grid instead of gamma first, then alpha.
    pub grid: bool,
    /// The validation metric that chooses.
    pub metric: SweepMetric,
}

impl SweepSpec {
    /// Whether the sweep has a second stage (alpha at the best gamma), which can only be
    /// planned once the first stage's runs are finished.
    pub fn two_stage(&self) -> bool {
        !self.grid && !self.alphas.is_empty()
    }

    /// The entries of the first stage: every gamma at `base_alpha`, or the whole grid. Every
    /// gamma is checked (by the remedy's own rule) before the first run starts.
    pub fn first_stage(&self, base: &TrainConfig) -> Result<Vec<Plan>, ExperimentError> {
        if self.gammas.is_empty() {
            return Err(ExperimentError::NothingToSweep {
                setting: Setting::Gamma,
            });
        }
        let plans = self
            .gammas
            .iter()
            .map(|&g| focal_plan(base, g, self.base_alpha.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        if !self.grid {
            return Ok(plans);
        }
        let alphas: Vec<Option<Alpha>> = if self.alphas.is_empty() {
            vec![self.base_alpha.clone()]
        } else {
            self.alphas.iter().cloned().map(Some).collect()
        };
        let mut grid = Vec::new();
        for &g in &self.gammas {
            for a in &alphas {
                grid.push(focal_plan(base, g, a.clone())?);
            }
        }
        Ok(grid)
    }

    /// The entries of the second stage: every alpha at gamma number `best_gamma`.
    pub fn second_stage(
        &self,
        base: &TrainConfig,
        best_gamma: usize,
    ) -> Result<Vec<Plan>, ExperimentError> {
        let gamma = self.gammas[best_gamma];
        self.alphas
            .iter()
            .map(|a| focal_plan(base, gamma, Some(a.clone())))
            .collect()
    }

    /// The first stage judged on its entries: the stage's table line and the chosen entry.
    pub fn judge_first(&self, entries: &[Entry]) -> Result<(SweepStage, usize), ExperimentError> {
        if self.grid {
            let xs = (0..entries.len()).map(|i| i as f64).collect();
            stage("gamma x alpha", entries, xs, self.metric)
        } else {
            let xs = self.gammas.iter().map(|&g| f64::from(g.get())).collect();
            stage("gamma", entries, xs, self.metric)
        }
    }

    /// The second stage judged on its entries.
    pub fn judge_second(&self, entries: &[Entry]) -> Result<SweepStage, ExperimentError> {
        Ok(stage("alpha", entries, alpha_xs(&self.alphas), self.metric)?.0)
    }
}

fn focal_plan(
    base: &TrainConfig,
    gamma: Gamma,
    alpha: Option<Alpha>,
) -> Result<Plan, ExperimentError> {
    let label = match &alpha {
        Some(a) => format!("gamma={gamma} alpha={a}"),
        None => format!("gamma={gamma}"),
    };
    let remedy = RemedyParams {
        gamma: Some(gamma),
        alpha,
        ..RemedyParams::default()
    }
    .check(RemedyKind::Focal)?;
    let config = base.with_remedy(remedy)?;
    Ok(Plan { label, config })
}

fn stage(
    parameter: &str,
    entries: &[Entry],
    xs: Vec<f64>,
    metric: SweepMetric,
) -> Result<(SweepStage, usize), ExperimentError> {
    let means: Vec<Option<f64>> = entries
        .iter()
        .map(|e| {
            Stat::of(&e.seeds.iter().map(|s| metric.of(s)).collect::<Vec<_>>()).map(|s| s.mean)
        })
        .collect();
    let best = means
        .iter()
        .enumerate()
        .filter_map(|(i, m)| m.map(|m| (i, m)))
        // On a tie the first setting (the smaller gamma, as listed) is kept.
        .fold(None, |best: Option<(usize, f64)>, (i, m)| match best {
            Some((_, b)) if b >= m => best,
            _ => Some((i, m)),
        })
        .map(|(i, _)| i)
        .ok_or_else(|| ExperimentError::SweepUndefined {
            parameter: parameter.to_string(),
            metric: metric.name(),
        })?;
    Ok((
        SweepStage {
            parameter: parameter.to_string(),
            settings: entries.iter().map(|e| e.label.clone()).collect(),
            points: xs
                .into_iter()
                .zip(&means)
                .filter_map(|(x, m)| m.map(|m| (x, m)))
                .collect(),
            chosen: entries[best].label.clone(),
        },
        best,
    ))
}

fn alpha_xs(alphas: &[Alpha]) -> Vec<f64> {
    let numeric: Option<Vec<f64>> = alphas
        .iter()
        .map(|a| match a {
            Alpha::Scalar(v) => Some(f64::from(v.get())),
            _ => None,
        })
        .collect();
    numeric.unwrap_or_else(|| (0..alphas.len()).map(|i| i as f64).collect())
}
