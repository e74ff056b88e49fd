//! Softmax focal loss (Lin et al. 2017) with per-class alpha, ignore index and label smoothing.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};

use focal_kernels::HostInts;

use crate::error::FocalLossError;
use crate::fused;
use crate::numerics::{one_hot_float, one_minus_softmax, safe_pow};
use crate::reduction::{Reduction, reduce};

const NAME: &str = "FocalLossConfig";

/// Configuration of the multi-class (softmax) [`FocalLoss`].
///
/// [Focal Loss for Dense Object Detection](https://arxiv.org/abs/1708.02002), Lin et al. 2017.
///
/// ```text
/// loss_i = - sum_c q_ic * alpha_c * (1 - p_ic)^gamma * log p_ic
///
/// p_ic   = softmax(logits_i)_c, the predicted probability of class c for sample i
/// q_ic   = (1 - ls) * [c == y_i] + ls / C, the target distribution (ls = label_smoothing, default 0)
/// alpha_c = the weight of class c (1 when alpha is None)
/// gamma  = the focusing parameter; gamma = 0 gives (weighted, smoothed) cross-entropy
/// ```
///
/// Without smoothing this is the familiar `-alpha_t * (1 - p_t)^gamma * log p_t` with `p_t` the
/// probability of the true class. With smoothing the focal factor applies to each class term, as
/// in Keras' `CategoricalFocalCrossentropy`; with `gamma = 0` and smoothing it equals PyTorch's
/// `cross_entropy(weight = alpha, label_smoothing = ls)` per sample.
///
/// **The alpha convention.** `alpha` is a per-class weight vector, exactly like the `weight` of
/// PyTorch's `CrossEntropyLoss`: `alpha[c]` multiplies the loss of samples whose label is `c`. For
/// two classes, [`FocalLossConfig::binary`]`(a)` is the scalar form of the paper, torchvision and
/// the usual tutorial: weight `a` on class 1 and `1 - a` on class 0. Note that the paper's `a = 0.25`
/// *down*-weights class 1; to up-weight a rare class 1 use `a > 0.5`, or per-class weights from
/// [`crate::class_weights`].
#[derive(Config, Debug)]
pub struct FocalLossConfig {
    /// Focusing parameter gamma >= 0 (the paper's best value is 2; 0 gives cross-entropy).
    #[config(default = 2.0)]
    pub gamma: f32,
    /// One weight per class (>= 0); `None` weights every class 1.
    pub alpha: Option<Vec<f32>>,
    /// A target value whose samples are skipped: their loss is 0 and they do not count in the mean.
    /// It may lie outside `0..num_classes` (e.g. 255, the segmentation convention).
    pub ignore_index: Option<usize>,
    /// Label smoothing factor in `[0, 1]`: the target becomes `(1 - ls) * onehot + ls / C`.
    pub label_smoothing: Option<f32>,
    /// How `forward` reduces the per-sample losses.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
    /// With `Reduction::Mean`, divide by the sum of `alpha[y_i]` over the non-ignored samples instead
    /// of their number (PyTorch's `CrossEntropyLoss(weight=...)` semantics).
    #[config(default = false)]
    pub normalize_by_weights: bool,
    /// Compute the loss and its gradient in one pass (see `fused.rs`) when the logits are on
    /// Burn's CPU backend and there is no label smoothing; otherwise, and on a GPU, the loss is
    /// composed of tensor ops. Both give the same values and gradients (tested to 1e-5).
    #[config(default = true)]
    pub fused: bool,
}

impl FocalLossConfig {
    /// The two-class configuration with the scalar alpha of the paper and torchvision: weight `a` on
    /// class 1 and `1 - a` on class 0 (`alpha = [1 - a, a]`). `gamma` stays at its default, 2.
    ///
    /// `a` outside `[0, 1]` is reported by [`validate`](Self::validate) (as a negative weight).
    pub fn binary(a: f32) -> Self {
        Self::new().with_alpha(Some(vec![1.0 - a, a]))
    }

    /// Checks the configuration without knowing the number of classes.
    ///
    /// Reports a gamma that is negative or not finite, a negative or non-finite alpha entry, and
    /// a label smoothing factor outside `[0, 1]`.
    pub fn validate(&self) -> Result<(), FocalLossError> {
        validate_gamma(NAME, self.gamma)?;
        if let Some(alpha) = &self.alpha {
            validate_weights(NAME, alpha)?;
        }
        if let Some(ls) = self.label_smoothing
            && !(0.0..=1.0).contains(&ls)
        {
            return Err(FocalLossError::InvalidLabelSmoothing { value: ls });
        }
        Ok(())
    }

    /// [`validate`](Self::validate), plus the length of `alpha` against `num_classes`.
    pub fn validate_for(&self, num_classes: usize) -> Result<(), FocalLossError> {
        self.validate()?;
        check_len("alpha", self.alpha.as_ref().map(Vec::len), num_classes)
    }

    /// Builds the loss.
    ///
    /// # Panics
    ///
    /// With the message of [`validate`](Self::validate) when it returns an error.
    pub fn init(&self, device: &Device) -> FocalLoss {
        if let Err(e) = self.validate() {
            panic!("{e}");
        }
        FocalLoss {
            gamma: self.gamma,
            alpha: self
                .alpha
                .as_ref()
                .map(|a| Tensor::<1>::from_floats(a.as_slice(), device)),
            ignore_index: self.ignore_index,
            label_smoothing: self.label_smoothing,
            reduction: self.reduction,
            normalize_by_weights: self.normalize_by_weights,
            fused: self.fused,
        }
    }
}

/// The multi-class focal loss; build it with [`FocalLossConfig`], whose docs give the formula.
///
/// # Example
///
/// ```
/// use burn::tensor::{Device, Int, Tensor, TensorData};
/// use focal_loss::FocalLossConfig;
///
/// let device = Device::default();
/// let loss = FocalLossConfig::new().with_alpha(Some(vec![0.25, 0.75])).init(&device);
/// let logits = Tensor::<2>::from_floats([[2.0, -1.0], [0.5, 0.3]], &device);
/// let targets = Tensor::<1, Int>::from_ints([0, 1], &device);
/// let value = loss.forward(logits, targets); // shape [1]
/// assert!(value.into_scalar::<f32>() > 0.0);
/// ```
#[derive(Module, Debug)]
pub struct FocalLoss {
    /// Focusing parameter.
    pub gamma: f32,
    /// Per-class weights, `[num_classes]`.
    pub alpha: Option<Tensor<1>>,
    /// Target value whose samples are skipped.
    pub ignore_index: Option<usize>,
    /// Label smoothing factor.
    pub label_smoothing: Option<f32>,
    /// Reduction of `forward`.
    #[module(skip)]
    pub reduction: Reduction,
    /// Mean divides by the total alpha weight instead of the sample count.
    pub normalize_by_weights: bool,
    /// Use the fused CPU kernel where it applies.
    pub fused: bool,
}

impl FocalLoss {
    /// The reduced loss, shape `[1]`.
    ///
    /// `Reduction::Mean` divides by the number of non-ignored samples (or their total alpha weight
    /// with `normalize_by_weights`); a batch whose samples are all ignored gives 0, not NaN.
    ///
    /// # Shapes
    ///
    /// - logits: `[batch_size, num_classes]`
    /// - targets: `[batch_size]`, values in `0..num_classes` (or the ignore index); other values
    ///   are not checked (that would cost a device sync) and give backend-defined results
    ///
    /// # Panics
    ///
    /// When the batch sizes differ, or when `alpha` does not have `num_classes` entries (with the
    /// message of [`FocalLossConfig::validate_for`]).
    pub fn forward(&self, logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
        if self.fused_applies(&logits) {
            return self.fused(logits, targets, true);
        }
        let (losses, kept_targets, kept) = self.losses(logits, targets);
        let denominator = match (&kept, &self.alpha, self.normalize_by_weights) {
            (_, Some(alpha), true) => {
                let w = alpha.clone().gather(0, kept_targets);
                Some(match kept {
                    Some(kept) => (w * kept).sum(),
                    None => w.sum(),
                })
            }
            (Some(kept), _, _) => Some(kept.clone().sum()),
            (None, _, _) => None,
        };
        reduce(losses, self.reduction, denominator)
    }

    /// The loss of each sample, shape `[batch_size]`, 0 for ignored samples.
    ///
    /// # Shapes
    ///
    /// - logits: `[batch_size, num_classes]`
    /// - targets: `[batch_size]`
    ///
    /// # Panics
    ///
    /// As [`forward`](Self::forward).
    pub fn forward_no_reduction(&self, logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
        if self.fused_applies(&logits) {
            return self.fused(logits, targets, false);
        }
        self.losses(logits, targets).0
    }

    /// Whether the fused CPU kernel computes this loss for `logits`.
    fn fused_applies(&self, logits: &Tensor<2>) -> bool {
        self.fused
            && self.label_smoothing.is_none()
            && logits.device().without_autodiff() == Device::flex()
    }

    /// The loss (reduced, `[1]`, or per sample, `[n]`) by the fused kernel.
    fn fused(&self, logits: Tensor<2>, targets: Tensor<1, Int>, reduced: bool) -> Tensor<1> {
        let [n, c] = logits.dims();
        check_batch(n, targets.dims()[0]);
        if let Err(e) = check_len("alpha", self.alpha.as_ref().map(|a| a.dims()[0]), c) {
            panic!("{e}");
        }
        let device = logits.device();
        let alpha = self.alpha.as_ref().map(focal_kernels::host_values);
        let spec = fused::Spec {
            gamma: self.gamma,
            alpha: alpha.as_deref(),
            ignore_index: self.ignore_index,
            grad_scale: 1.0,
        };
        let z = focal_kernels::host_values(&logits);
        let (out, spec) = match focal_kernels::host_ints(&targets) {
            HostInts::I32(t) => self.fused_rows(&z, &t, c, spec, reduced),
            HostInts::I64(t) => self.fused_rows(&z, &t, c, spec, reduced),
        };
        if !reduced {
            let values = Tensor::<1>::from_data(TensorData::new(out.losses, [n]), &device);
            return focal_kernels::attach_gradient(logits, values, out.grad);
        }
        let value = Tensor::<1>::from_data(
            TensorData::new(vec![(out.total * spec.grad_scale) as f32], [1]),
            &device,
        );
        focal_kernels::attach_gradient(logits, value, out.grad)
    }

    /// [`fused::focal_rows`] for targets of type `T`, with the mean's scale set in the spec.
    fn fused_rows<'a, T: fused::Target>(
        &self,
        z: &[f32],
        targets: &[T],
        c: usize,
        mut spec: fused::Spec<'a>,
        reduced: bool,
    ) -> (fused::Output, fused::Spec<'a>) {
        if reduced && self.reduction == Reduction::Mean {
            let by_weights = self.normalize_by_weights && spec.alpha.is_some();
            let denominator = fused::mean_denominator(targets, c, &spec, by_weights);
            spec.grad_scale = if denominator > 0.0 {
                1.0 / denominator
            } else {
                0.0
            };
        }
        (fused::focal_rows(z, targets, c, &spec, !reduced), spec)
    }

    /// Per-sample losses, the targets with ignored entries replaced by 0, and the 0/1 mask of the
    /// samples that count (`None` when nothing can be ignored).
    fn losses(
        &self,
        logits: Tensor<2>,
        targets: Tensor<1, Int>,
    ) -> (Tensor<1>, Tensor<1, Int>, Option<Tensor<1>>) {
        let [n, c] = logits.dims();
        check_batch(n, targets.dims()[0]);
        if let Err(e) = check_len("alpha", self.alpha.as_ref().map(|a| a.dims()[0]), c) {
            panic!("{e}");
        }
        let log_probs = log_softmax(logits, 1);
        match self.ignore_index {
            Some(ignore) => {
                let ignored = targets.clone().equal_elem(ignore as i64);
                let safe_targets = targets.mask_fill(ignored.clone(), 0);
                let losses = focal_from_log_probs(
                    log_probs,
                    safe_targets.clone(),
                    self.gamma,
                    self.alpha.clone(),
                    self.label_smoothing,
                )
                .mask_fill(ignored.clone(), 0.0);
                let kept = ignored.bool_not().float();
                (losses, safe_targets, Some(kept))
            }
            None => {
                let losses = focal_from_log_probs(
                    log_probs,
                    targets.clone(),
                    self.gamma,
                    self.alpha.clone(),
                    self.label_smoothing,
                );
                (losses, targets, None)
            }
        }
    }
}

/// Per-sample focal loss `[N]` from log-probabilities `[N, C]` and in-range targets `[N]`.
///
/// This is the one place that computes the formula; a fused kernel replaces this function.
pub(crate) fn focal_from_log_probs(
    log_probs: Tensor<2>,
    targets: Tensor<1, Int>,
    gamma: f32,
    alpha: Option<Tensor<1>>,
    label_smoothing: Option<f32>,
) -> Tensor<1> {
    let [n, c] = log_probs.dims();
    match label_smoothing {
        None => {
            let index = targets.clone().reshape([n, 1]);
            let mut loss = log_probs
                .clone()
                .gather(1, index.clone())
                .reshape([n])
                .neg();
            // Skipped for gamma = 0, where the factor is exactly 1.
            if gamma != 0.0 {
                let one_minus_pt = one_minus_softmax(log_probs).gather(1, index).reshape([n]);
                if let Some(factor) = safe_pow(one_minus_pt, gamma) {
                    loss = loss * factor;
                }
            }
            if let Some(alpha) = alpha {
                loss = loss * alpha.gather(0, targets);
            }
            loss
        }
        Some(ls) => {
            let q = one_hot_float(targets, c) * (1.0 - ls) + ls / c as f32;
            let mut terms = log_probs.clone().neg() * q;
            if gamma != 0.0
                && let Some(factor) = safe_pow(one_minus_softmax(log_probs), gamma)
            {
                terms = terms * factor;
            }
            if let Some(alpha) = alpha {
                terms = terms * alpha.reshape([1, c]).expand([n, c]);
            }
            terms.sum_dim(1).reshape([n])
        }
    }
}

/// Whether `gamma` is a valid focusing parameter: finite and >= 0 (0 gives cross-entropy). The
/// one statement of the rule; every loss with a gamma and every caller that checks one uses it.
pub fn valid_gamma(gamma: f32) -> bool {
    gamma.is_finite() && gamma >= 0.0
}

pub(crate) fn validate_gamma(loss: &'static str, gamma: f32) -> Result<(), FocalLossError> {
    if valid_gamma(gamma) {
        Ok(())
    } else {
        Err(FocalLossError::InvalidGamma { loss, value: gamma })
    }
}

pub(crate) fn validate_weights(loss: &'static str, weights: &[f32]) -> Result<(), FocalLossError> {
    match weights
        .iter()
        .enumerate()
        .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
    {
        Some((class, &value)) => Err(FocalLossError::InvalidClassWeight { loss, class, value }),
        None => Ok(()),
    }
}

pub(crate) fn check_len(
    name: &'static str,
    len: Option<usize>,
    num_classes: usize,
) -> Result<(), FocalLossError> {
    match len {
        Some(len) if len != num_classes => Err(FocalLossError::ClassLengthMismatch {
            name,
            len,
            num_classes,
        }),
        _ => Ok(()),
    }
}

pub(crate) fn check_batch(logits_rows: usize, targets_len: usize) {
    assert_eq!(
        logits_rows, targets_len,
        "logits have {logits_rows} rows but targets have {targets_len} entries; give one target per row"
    );
}
