//! Sigmoid focal loss with torchvision's semantics (binary and multi-label).

use burn::config::Config;
use burn::module::Module;
use burn::tensor::activation::log_sigmoid;
use burn::tensor::{Device, Tensor};

use crate::error::FocalLossError;
use crate::focal::validate_gamma;
use crate::numerics::safe_pow;
use crate::reduction::{Reduction, reduce};

const NAME: &str = "SigmoidFocalLossConfig";

/// Configuration of the [`SigmoidFocalLoss`], the element-wise focal loss of RetinaNet.
///
/// [Focal Loss for Dense Object Detection](https://arxiv.org/abs/1708.02002), Lin et al. 2017;
/// semantics of torchvision's `ops.sigmoid_focal_loss`.
///
/// ```text
/// loss_ij = alpha_t * (1 - p_t)^gamma * BCE(x_ij, t_ij)
///
/// p       = sigmoid(x_ij), the predicted probability that label j applies to sample i
/// t_ij    = the target in [0, 1] (soft targets allowed)
/// BCE     = -(t * log p + (1 - t) * log(1 - p)), computed with log_sigmoid
/// p_t     = p * t + (1 - p) * (1 - t)
/// alpha_t = alpha * t + (1 - alpha) * (1 - t); 1 when alpha is None
/// ```
///
/// `alpha` weights the *positives* (torchvision and the paper): the default 0.25 down-weights
/// them, because in dense detection the positives are the easy, rare foreground that the
/// focusing term already protects. For a rare positive class in classification, try `alpha > 0.5`.
#[derive(Config, Debug)]
pub struct SigmoidFocalLossConfig {
    /// Focusing parameter gamma >= 0.
    #[config(default = 2.0)]
    pub gamma: f32,
    /// Weight of the positives in `[0, 1]` (negatives get `1 - alpha`); `None` turns weighting off
    /// (torchvision's `alpha < 0`).
    #[config(default = "Some(0.25)")]
    pub alpha: Option<f32>,
    /// How `forward` reduces the element losses; `Mean` averages over all elements.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl SigmoidFocalLossConfig {
    /// Checks gamma (finite, >= 0) and alpha (in `[0, 1]`).
    pub fn validate(&self) -> Result<(), FocalLossError> {
        validate_gamma(NAME, self.gamma)?;
        if let Some(a) = self.alpha
            && !(0.0..=1.0).contains(&a)
        {
            return Err(FocalLossError::OutOfRange {
                name: "alpha",
                value: a as f64,
                range: "[0, 1] (use None to turn weighting off)",
            });
        }
        Ok(())
    }

    /// Builds the loss.
    ///
    /// # Panics
    ///
    /// With the message of [`validate`](Self::validate) when it returns an error.
    pub fn init(&self, _device: &Device) -> SigmoidFocalLoss {
        if let Err(e) = self.validate() {
            panic!("{e}");
        }
        SigmoidFocalLoss {
            gamma: self.gamma,
            alpha: self.alpha,
            reduction: self.reduction,
        }
    }
}

/// The sigmoid focal loss; build it with [`SigmoidFocalLossConfig`], whose docs give the formula.
#[derive(Module, Debug)]
pub struct SigmoidFocalLoss {
    /// Focusing parameter.
    pub gamma: f32,
    /// Weight of the positives.
    pub alpha: Option<f32>,
    /// Reduction of `forward`.
    #[module(skip)]
    pub reduction: Reduction,
}

impl SigmoidFocalLoss {
    /// The reduced loss, shape `[1]` (`Mean`: over all elements).
    ///
    /// # Shapes
    ///
    /// - logits: `[batch_size, num_labels]`
    /// - targets: `[batch_size, num_labels]`, values in `[0, 1]`
    ///
    /// # Panics
    ///
    /// When the shapes differ.
    pub fn forward(&self, logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
        reduce(
            self.forward_no_reduction(logits, targets),
            self.reduction,
            None,
        )
    }

    /// The loss of each element, shape `[batch_size, num_labels]`.
    ///
    /// # Shapes
    ///
    /// As [`forward`](Self::forward).
    ///
    /// # Panics
    ///
    /// When the shapes differ.
    pub fn forward_no_reduction(&self, logits: Tensor<2>, targets: Tensor<2>) -> Tensor<2> {
        check_same_shape(&logits, &targets);
        sigmoid_focal_elementwise(logits, targets, self.gamma, self.alpha)
    }
}

/// Element-wise sigmoid focal loss; the one place that computes the formula.
pub(crate) fn sigmoid_focal_elementwise<const D: usize>(
    logits: Tensor<D>,
    targets: Tensor<D>,
    gamma: f32,
    alpha: Option<f32>,
) -> Tensor<D> {
    let log_p = log_sigmoid(logits.clone());
    let log_q = log_sigmoid(logits.neg());
    let neg_targets = targets.clone().neg().add_scalar(1.0);
    let mut loss = (targets.clone() * log_p.clone() + neg_targets.clone() * log_q.clone()).neg();
    // 1 - p_t = p (1 - t) + (1 - p) t, with p and 1 - p both from log_sigmoid: no cancellation.
    let one_minus_pt = log_p.exp() * neg_targets + log_q.exp() * targets.clone();
    if let Some(factor) = safe_pow(one_minus_pt, gamma) {
        loss = loss * factor;
    }
    if let Some(a) = alpha {
        loss = loss * (targets * (2.0 * a - 1.0)).add_scalar(1.0 - a);
    }
    loss
}

pub(crate) fn check_same_shape<const D: usize>(logits: &Tensor<D>, targets: &Tensor<D>) {
    let (l, t) = (logits.dims(), targets.dims());
    assert_eq!(
        l, t,
        "logits have shape {l:?} but targets have shape {t:?}; give one target per logit"
    );
}
