//! The loss a remedy trains with, stage by stage.

use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::tensor::{Device, Int, Tensor};
use focal_loss::{
    FocalLoss, FocalLossConfig, LdamLoss, LdamLossConfig, LogitAdjustedLoss,
    LogitAdjustedLossConfig, Poly1Loss, Poly1LossConfig,
};

use crate::error::TrainError;

use super::table::Remedy;

/// The share of the epochs the deferred re-weighting remedies train without class weights.
const DRW_SHARE: (usize, usize) = (4, 5);

impl Remedy {
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
            Remedy::Ce {}
            | Remedy::Oversample {}
            | Remedy::Undersample {}
            | Remedy::BalancedSampler {}
            | Remedy::Smote {}
            | Remedy::OversampleAugment {} => {
                Loss::Ce(Box::new(CrossEntropyLossConfig::new().init(device)))
            }
            Remedy::WeightedCe { alpha } => weighted_ce(alpha.resolve(counts)?, counts, device)?,
            Remedy::Focal { gamma, alpha } => {
                let alpha = alpha.as_ref().map(|a| a.resolve(counts)).transpose()?;
                focal(gamma.get(), alpha, counts, device)?
            }
            Remedy::CbFocal { gamma, beta } => {
                let alpha = focal_loss::class_weights::effective_number(counts, beta.get())?;
                focal(gamma.get(), Some(alpha), counts, device)?
            }
            Remedy::LdamDrw { beta } => {
                // Deferred re-weighting: plain LDAM first, class-balanced weights at the end.
                let weights = if self.loss_stage(epoch, epochs) > 0 {
                    Some(focal_loss::class_weights::effective_number(
                        counts,
                        beta.get(),
                    )?)
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
                    let alpha = focal_loss::class_weights::effective_number(counts, beta.get())?;
                    weighted_ce(alpha, counts, device)?
                }
            }
            Remedy::FocalDrw { gamma, beta } => {
                let alpha = if self.loss_stage(epoch, epochs) > 0 {
                    Some(focal_loss::class_weights::effective_number(
                        counts,
                        beta.get(),
                    )?)
                } else {
                    None
                };
                focal(gamma.get(), alpha, counts, device)?
            }
            Remedy::LogitAdjust { tau } => {
                let cfg = LogitAdjustedLossConfig::from_counts(counts)?.with_tau(tau.get());
                cfg.validate()?;
                Loss::LogitAdjust(Box::new(cfg.init(device)))
            }
            Remedy::Poly { epsilon } => {
                let cfg = Poly1LossConfig::new().with_epsilon(epsilon.get());
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
