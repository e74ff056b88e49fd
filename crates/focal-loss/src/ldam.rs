//! LDAM loss: label-distribution-aware margins (Cao et al. 2019).

use burn::config::Config;
use burn::module::Module;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor};

use crate::class_weights::check_counts;
use crate::error::FocalLossError;
use crate::focal::{check_batch, check_len, focal_from_log_probs, validate_weights};
use crate::numerics::one_hot_float;
use crate::reduction::{Reduction, reduce};

const NAME: &str = "LdamLossConfig";

/// Configuration of the [`LdamLoss`].
///
/// [Learning Imbalanced Datasets with Label-Distribution-Aware Margin
/// Loss](https://arxiv.org/abs/1906.07413), Cao et al. 2019; semantics of the authors' code
/// (`kaidic/LDAM-DRW`, `LDAMLoss`).
///
/// ```text
/// loss_i  = -w_{y_i} * log softmax(s * (z_i - Delta_{y_i} e_{y_i}))_{y_i}
///
/// Delta_j = max_m * n_j^(-1/4) / max_k n_k^(-1/4), the margin of class j (the rarest class gets max_m)
/// n_j     = the number of training samples of class j
/// s       = the logit scale
/// e_y     = the one-hot vector of the true class
/// w_j     = the class weight (1 when weights is None); deferred re-weighting (DRW) switches it
///           from None to class-balanced weights late in training
/// ```
///
/// As in the authors' code (PyTorch `cross_entropy` with `weight`), `Reduction::Mean` divides by
/// the sum of `w_{y_i}` over the batch.
#[derive(Config, Debug)]
pub struct LdamLossConfig {
    /// Number of training samples per class, each >= 1.
    pub class_counts: Vec<usize>,
    /// The largest margin, given to the rarest class (> 0).
    #[config(default = 0.5)]
    pub max_m: f32,
    /// Scale applied to the margin-adjusted logits (> 0).
    #[config(default = 30.0)]
    pub s: f32,
    /// One weight per class (>= 0), e.g. from [`crate::class_weights::effective_number`] for DRW.
    pub weights: Option<Vec<f32>>,
    /// How `forward` reduces the per-sample losses.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl LdamLossConfig {
    /// Checks the counts (non-empty, no zero), `max_m` and `s` (finite, > 0) and the weights
    /// (finite, >= 0, one per class).
    pub fn validate(&self) -> Result<(), FocalLossError> {
        check_counts(&self.class_counts)?;
        for (name, value) in [("max_m", self.max_m), ("s", self.s)] {
            if !(value.is_finite() && value > 0.0) {
                return Err(FocalLossError::OutOfRange {
                    name,
                    value: value as f64,
                    range: "(0, inf)",
                });
            }
        }
        if let Some(w) = &self.weights {
            validate_weights(NAME, w)?;
        }
        check_len(
            "weights",
            self.weights.as_ref().map(Vec::len),
            self.class_counts.len(),
        )
    }

    /// The per-class margins `Delta_j`.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate).
    pub fn margins(&self) -> Result<Vec<f32>, FocalLossError> {
        self.validate()?;
        let raw: Vec<f64> = self
            .class_counts
            .iter()
            .map(|&n| (n as f64).powf(-0.25))
            .collect();
        let max = raw.iter().cloned().fold(f64::MIN, f64::max);
        Ok(raw
            .iter()
            .map(|m| (m * self.max_m as f64 / max) as f32)
            .collect())
    }

    /// Builds the loss.
    ///
    /// # Panics
    ///
    /// With the message of [`validate`](Self::validate) when it returns an error.
    pub fn init(&self, device: &Device) -> LdamLoss {
        let margins = match self.margins() {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        };
        LdamLoss {
            margins: Tensor::<1>::from_floats(margins.as_slice(), device),
            s: self.s,
            weights: self
                .weights
                .as_ref()
                .map(|w| Tensor::<1>::from_floats(w.as_slice(), device)),
            reduction: self.reduction,
        }
    }
}

/// The LDAM loss; build it with [`LdamLossConfig`], whose docs give the formula.
#[derive(Module, Debug)]
pub struct LdamLoss {
    /// Per-class margins, `[num_classes]`.
    pub margins: Tensor<1>,
    /// Logit scale.
    pub s: f32,
    /// Per-class weights.
    pub weights: Option<Tensor<1>>,
    /// Reduction of `forward`.
    #[module(skip)]
    pub reduction: Reduction,
}

impl LdamLoss {
    /// The reduced loss, shape `[1]`.
    ///
    /// # Shapes
    ///
    /// - logits: `[batch_size, num_classes]`
    /// - targets: `[batch_size]`, values in `0..num_classes`
    ///
    /// # Panics
    ///
    /// When the batch sizes differ or the logits do not have one column per class count.
    pub fn forward(&self, logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
        let losses = self.forward_no_reduction(logits, targets.clone());
        let denominator = self
            .weights
            .as_ref()
            .map(|w| w.clone().gather(0, targets).sum());
        reduce(losses, self.reduction, denominator)
    }

    /// The loss of each sample, shape `[batch_size]`.
    ///
    /// # Panics
    ///
    /// As [`forward`](Self::forward).
    pub fn forward_no_reduction(&self, logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
        let [n, c] = logits.dims();
        check_batch(n, targets.dims()[0]);
        if let Err(e) = check_len("class_counts", Some(self.margins.dims()[0]), c) {
            panic!("{e}");
        }
        let margin_t = self
            .margins
            .clone()
            .gather(0, targets.clone())
            .reshape([n, 1])
            .expand([n, c]);
        let adjusted = logits - one_hot_float(targets.clone(), c) * margin_t;
        let log_probs = log_softmax(adjusted * self.s, 1);
        focal_from_log_probs(log_probs, targets, 0.0, self.weights.clone(), None)
    }
}
