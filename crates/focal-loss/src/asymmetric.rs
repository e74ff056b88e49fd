//! Asymmetric loss for multi-label classification (Ridnik et al. 2021).

use burn::config::Config;
use burn::module::Module;
use burn::tensor::activation::log_sigmoid;
use burn::tensor::{Device, Tensor};

use crate::error::FocalLossError;
use crate::focal::validate_gamma;
use crate::numerics::safe_pow;
use crate::reduction::{Reduction, reduce};
use crate::sigmoid_focal::check_same_shape;

const NAME: &str = "AsymmetricLossConfig";

/// Configuration of the [`AsymmetricLoss`].
///
/// [Asymmetric Loss For Multi-Label Classification](https://arxiv.org/abs/2009.14119), Ridnik et
/// al. 2021; semantics of the authors' `AsymmetricLoss` (`Alibaba-MIIL/ASL`).
///
/// ```text
/// loss_ij = -( t * (1 - p)^gamma_pos * log p  +  (1 - t) * p_m^gamma_neg * log(1 - p_m) )
///
/// p   = sigmoid(x_ij), the predicted probability that label j applies to sample i
/// t   = the target, 0 or 1
/// p_m = max(p - m, 0), the shifted probability: easy negatives (p < m) are discarded
/// m   = clip, the probability margin
/// ```
///
/// `log p` and `log(1 - p)` come from `log_sigmoid` (the authors clamp at 1e-8 instead); the
/// focusing weights are differentiated (the authors' `disable_torch_grad_focal_loss = False`).
#[derive(Config, Debug)]
pub struct AsymmetricLossConfig {
    /// Focusing parameter of the positives, >= 0.
    #[config(default = 1.0)]
    pub gamma_pos: f32,
    /// Focusing parameter of the negatives, >= 0.
    #[config(default = 4.0)]
    pub gamma_neg: f32,
    /// Probability margin m in `[0, 1)` for the negatives; 0 turns shifting off.
    #[config(default = 0.05)]
    pub clip: f32,
    /// How `forward` reduces the element losses; the authors' code sums.
    #[config(default = "Reduction::Sum")]
    pub reduction: Reduction,
}

impl AsymmetricLossConfig {
    /// Checks both gammas (finite, >= 0) and the clip (in `[0, 1)`).
    pub fn validate(&self) -> Result<(), FocalLossError> {
        validate_gamma(NAME, self.gamma_pos)?;
        validate_gamma(NAME, self.gamma_neg)?;
        if !(0.0..1.0).contains(&self.clip) {
            return Err(FocalLossError::OutOfRange {
                name: "clip",
                value: self.clip as f64,
                range: "[0, 1) (0.05 in the paper)",
            });
        }
        Ok(())
    }

    /// Builds the loss.
    ///
    /// # Panics
    ///
    /// With the message of [`validate`](Self::validate) when it returns an error.
    pub fn init(&self, _device: &Device) -> AsymmetricLoss {
        if let Err(e) = self.validate() {
            panic!("{e}");
        }
        AsymmetricLoss {
            gamma_pos: self.gamma_pos,
            gamma_neg: self.gamma_neg,
            clip: self.clip,
            reduction: self.reduction,
        }
    }
}

/// The asymmetric loss; build it with [`AsymmetricLossConfig`], whose docs give the formula.
#[derive(Module, Debug)]
pub struct AsymmetricLoss {
    /// Focusing parameter of the positives.
    pub gamma_pos: f32,
    /// Focusing parameter of the negatives.
    pub gamma_neg: f32,
    /// Probability margin of the negatives.
    pub clip: f32,
    /// Reduction of `forward`.
    #[module(skip)]
    pub reduction: Reduction,
}

impl AsymmetricLoss {
    /// The reduced loss, shape `[1]` (`Mean`: over all elements).
    ///
    /// # Shapes
    ///
    /// - logits: `[batch_size, num_labels]`
    /// - targets: `[batch_size, num_labels]`, values 0 or 1
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
    /// # Panics
    ///
    /// When the shapes differ.
    pub fn forward_no_reduction(&self, logits: Tensor<2>, targets: Tensor<2>) -> Tensor<2> {
        check_same_shape(&logits, &targets);
        let log_p = log_sigmoid(logits.clone());
        let log_q = log_sigmoid(logits.neg());
        // Positives: (1 - p)^gamma_pos = exp(gamma_pos * log(1 - p)), exact and smooth.
        let mut pos = log_p.clone();
        if self.gamma_pos != 0.0 {
            pos = pos * (log_q.clone() * self.gamma_pos).exp();
        }
        // Negatives: 1 - p_m = min(1 - p + m, 1); with m = 0 it is 1 - p itself.
        let (log_one_minus_pm, pm) = if self.clip > 0.0 {
            let one_minus_pm = (log_q.exp() + self.clip).clamp_max(1.0);
            (
                one_minus_pm.clone().log(),
                one_minus_pm.neg().add_scalar(1.0),
            )
        } else {
            (log_q, log_p.exp())
        };
        let mut neg = log_one_minus_pm;
        if let Some(w) = safe_pow(pm, self.gamma_neg) {
            neg = neg * w;
        }
        let neg_targets = targets.clone().neg().add_scalar(1.0);
        (targets * pos + neg_targets * neg).neg()
    }
}
