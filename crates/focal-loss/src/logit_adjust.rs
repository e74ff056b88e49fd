//! Logit-adjusted cross-entropy (Menon et al. 2021), and the post-hoc adjustment.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor};

use crate::class_weights::priors;
use crate::error::FocalLossError;
use crate::focal::{check_batch, check_len, focal_from_log_probs};
use crate::reduction::{Reduction, reduce};

/// Configuration of the [`LogitAdjustedLoss`].
///
/// [Long-tail learning via logit adjustment](https://arxiv.org/abs/2007.07314), Menon et al. 2021.
///
/// ```text
/// loss_i = -log softmax(z_i + tau * log pi)_{y_i}
///
/// pi_j = the prior (training frequency) of class j; a common scale of pi cancels in the softmax
/// tau  = the adjustment strength (the paper uses 1)
/// ```
///
/// At inference use the raw logits `z` (they are already balanced). The post-hoc variant instead
/// trains with plain cross-entropy and predicts with [`posthoc_logit_adjustment`].
#[derive(Config, Debug)]
pub struct LogitAdjustedLossConfig {
    /// Class priors, each > 0 (counts work too: only ratios matter).
    pub priors: Vec<f32>,
    /// Adjustment strength tau, finite.
    #[config(default = 1.0)]
    pub tau: f32,
    /// How `forward` reduces the per-sample losses.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl LogitAdjustedLossConfig {
    /// The configuration with priors `n_c / n` from class counts and tau 1.
    ///
    /// # Errors
    ///
    /// An empty `counts` or a zero count.
    pub fn from_counts(counts: &[usize]) -> Result<Self, FocalLossError> {
        Ok(Self::new(priors(counts)?))
    }

    /// Checks the priors (non-empty, finite, > 0) and tau (finite).
    pub fn validate(&self) -> Result<(), FocalLossError> {
        validate_priors(&self.priors)?;
        if !self.tau.is_finite() {
            return Err(FocalLossError::OutOfRange {
                name: "tau",
                value: self.tau as f64,
                range: "a finite number (1 in the paper)",
            });
        }
        Ok(())
    }

    /// Builds the loss.
    ///
    /// # Panics
    ///
    /// With the message of [`validate`](Self::validate) when it returns an error.
    pub fn init(&self, device: &Device) -> LogitAdjustedLoss {
        if let Err(e) = self.validate() {
            panic!("{e}");
        }
        LogitAdjustedLoss {
            offsets: Tensor::<1>::from_floats(offsets(&self.priors, self.tau).as_slice(), device),
            reduction: self.reduction,
        }
    }
}

/// The logit-adjusted cross-entropy; build it with [`LogitAdjustedLossConfig`].
#[derive(Module, Debug)]
pub struct LogitAdjustedLoss {
    /// `tau * log pi`, `[num_classes]`.
    pub offsets: Tensor<1>,
    /// Reduction of `forward`.
    #[module(skip)]
    pub reduction: Reduction,
}

impl LogitAdjustedLoss {
    /// The reduced loss, shape `[1]`.
    ///
    /// # Shapes
    ///
    /// - logits: `[batch_size, num_classes]`
    /// - targets: `[batch_size]`, values in `0..num_classes`
    ///
    /// # Panics
    ///
    /// When the batch sizes differ or the logits do not have one column per prior.
    pub fn forward(&self, logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
        reduce(
            self.forward_no_reduction(logits, targets),
            self.reduction,
            None,
        )
    }

    /// The loss of each sample, shape `[batch_size]`.
    ///
    /// # Panics
    ///
    /// As [`forward`](Self::forward).
    pub fn forward_no_reduction(&self, logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
        let [n, c] = logits.dims();
        check_batch(n, targets.dims()[0]);
        if let Err(e) = check_len("priors", Some(self.offsets.dims()[0]), c) {
            panic!("{e}");
        }
        let adjusted = logits + self.offsets.clone().reshape([1, c]).expand([n, c]);
        focal_from_log_probs(log_softmax(adjusted, 1), targets, 0.0, None, None)
    }
}

/// Post-hoc logit adjustment: `z - tau * log pi`, whose arg-max is the balanced prediction.
///
/// # Shapes
///
/// - logits: `[batch_size, num_classes]`, returned in the same shape
///
/// # Errors
///
/// Priors that are empty, not finite or not > 0, a non-finite tau, or a number of priors that
/// differs from the number of columns.
pub fn posthoc_logit_adjustment(
    logits: Tensor<2>,
    priors: &[f32],
    tau: f32,
) -> Result<Tensor<2>, FocalLossError> {
    LogitAdjustedLossConfig::new(priors.to_vec())
        .with_tau(tau)
        .validate()?;
    let [n, c] = logits.dims();
    check_len("priors", Some(priors.len()), c)?;
    let offsets = Tensor::<1>::from_floats(offsets(priors, tau).as_slice(), &logits.device());
    Ok(logits - offsets.reshape([1, c]).expand([n, c]))
}

fn offsets(priors: &[f32], tau: f32) -> Vec<f32> {
    priors.iter().map(|&p| tau * p.ln()).collect()
}

fn validate_priors(priors: &[f32]) -> Result<(), FocalLossError> {
    if priors.is_empty() {
        return Err(FocalLossError::EmptyCounts);
    }
    match priors.iter().find(|p| !(p.is_finite() && **p > 0.0)) {
        Some(&p) => Err(FocalLossError::OutOfRange {
            name: "prior",
            value: p as f64,
            range: "(0, inf); every class needs a positive prior",
        }),
        None => Ok(()),
    }
}
