//! Poly-1 loss (Leng et al. 2022), cross-entropy and focal forms.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor};

use crate::error::FocalLossError;
use crate::focal::{
    check_batch, check_len, focal_from_log_probs, validate_gamma, validate_weights,
};
use crate::numerics::{one_minus_softmax, safe_pow};
use crate::reduction::{Reduction, reduce};

const NAME: &str = "Poly1LossConfig";

/// Configuration of the [`Poly1Loss`].
///
/// [PolyLoss: A Polynomial Expansion Perspective of Classification Loss
/// Functions](https://arxiv.org/abs/2204.12511), Leng et al. 2022.
///
/// ```text
/// Poly-1 CE:    loss_i = -log p_t + epsilon * (1 - p_t)                        (gamma = 0)
/// Poly-1 focal: loss_i = -alpha_t (1 - p_t)^gamma log p_t + epsilon * (1 - p_t)^(gamma + 1)
///
/// p_t     = softmax(logits_i)_{y_i}, the probability of the true class
/// alpha_t = alpha[y_i] (1 when alpha is None); it weights the focal term only, as in the paper's code
/// epsilon = the weight of the first polynomial term; -1 cancels it, the paper uses values in [-1, 2]
/// ```
///
/// The paper's code states the focal form with sigmoid probabilities for detection; this is the
/// same formula with softmax probabilities, the form that matches [`crate::FocalLoss`].
#[derive(Config, Debug)]
pub struct Poly1LossConfig {
    /// Weight of the `(1 - p_t)` term, >= -1 (the paper's Poly-1 CE on ImageNet uses 2).
    #[config(default = 1.0)]
    pub epsilon: f32,
    /// Focusing parameter gamma >= 0; 0 gives the cross-entropy form.
    #[config(default = 0.0)]
    pub gamma: f32,
    /// One weight per class (>= 0) on the focal / cross-entropy term; `None` weights every class 1.
    pub alpha: Option<Vec<f32>>,
    /// How `forward` reduces the per-sample losses.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl Poly1LossConfig {
    /// Checks epsilon (finite, >= -1), gamma (finite, >= 0) and alpha (finite, >= 0).
    pub fn validate(&self) -> Result<(), FocalLossError> {
        if !(self.epsilon.is_finite() && self.epsilon >= -1.0) {
            return Err(FocalLossError::OutOfRange {
                name: "epsilon",
                value: self.epsilon as f64,
                range: "[-1, inf) (-1 cancels the leading polynomial term)",
            });
        }
        validate_gamma(NAME, self.gamma)?;
        if let Some(alpha) = &self.alpha {
            validate_weights(NAME, alpha)?;
        }
        Ok(())
    }

    /// Builds the loss.
    ///
    /// # Panics
    ///
    /// With the message of [`validate`](Self::validate) when it returns an error.
    pub fn init(&self, device: &Device) -> Poly1Loss {
        if let Err(e) = self.validate() {
            panic!("{e}");
        }
        Poly1Loss {
            epsilon: self.epsilon,
            gamma: self.gamma,
            alpha: self
                .alpha
                .as_ref()
                .map(|a| Tensor::<1>::from_floats(a.as_slice(), device)),
            reduction: self.reduction,
        }
    }
}

/// The Poly-1 loss; build it with [`Poly1LossConfig`], whose docs give the formula.
#[derive(Module, Debug)]
pub struct Poly1Loss {
    /// Weight of the leading polynomial term.
    pub epsilon: f32,
    /// Focusing parameter.
    pub gamma: f32,
    /// Per-class weights of the focal term.
    pub alpha: Option<Tensor<1>>,
    /// Reduction of `forward`.
    #[module(skip)]
    pub reduction: Reduction,
}

impl Poly1Loss {
    /// The reduced loss, shape `[1]`.
    ///
    /// # Shapes
    ///
    /// - logits: `[batch_size, num_classes]`
    /// - targets: `[batch_size]`, values in `0..num_classes`
    ///
    /// # Panics
    ///
    /// When the batch sizes differ or `alpha` does not have `num_classes` entries.
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
        if let Err(e) = check_len("alpha", self.alpha.as_ref().map(|a| a.dims()[0]), c) {
            panic!("{e}");
        }
        let log_probs = log_softmax(logits, 1);
        let one_minus_pt = one_minus_softmax(log_probs.clone())
            .gather(1, targets.clone().reshape([n, 1]))
            .reshape([n]);
        let focal = focal_from_log_probs(log_probs, targets, self.gamma, self.alpha.clone(), None);
        let poly = match safe_pow(one_minus_pt.clone(), self.gamma + 1.0) {
            Some(p) => p,
            None => one_minus_pt,
        };
        focal + poly * self.epsilon
    }
}
