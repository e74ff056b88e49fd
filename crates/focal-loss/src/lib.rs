//! Focal loss and its relatives as [Burn](https://burn.dev) modules, exact against PyTorch.
//!
//! Cross-entropy lets a rare class vanish in the average; these losses push back. Each loss is a
//! `XxxConfig` (`#[derive(Config)]`, validated) whose `init` builds a `#[derive(Module)]` with
//! `forward(logits, targets)`:
//!
//! | loss | config | paper |
//! |---|---|---|
//! | softmax focal loss, per-class alpha, ignore index, label smoothing | [`FocalLossConfig`] | Lin et al. 2017 |
//! | weighted cross-entropy (the `gamma = 0` case) | [`FocalLossConfig`] with `gamma = 0` and `alpha` | |
//! | sigmoid focal loss (binary / multi-label, torchvision semantics) | [`SigmoidFocalLossConfig`] | Lin et al. 2017 |
//! | Poly-1 (cross-entropy and focal forms) | [`Poly1LossConfig`] | Leng et al. 2022 |
//! | LDAM (label-distribution-aware margins) | [`LdamLossConfig`] | Cao et al. 2019 |
//! | logit-adjusted cross-entropy | [`LogitAdjustedLossConfig`] | Menon et al. 2021 |
//! | asymmetric loss (multi-label) | [`AsymmetricLossConfig`] | Ridnik et al. 2021 |
//!
//! plus class weights ([`class_weights`]: inverse frequency, effective number of samples) and the
//! RetinaNet prior-probability bias initialisation ([`init`]).
//!
//! Every loss is computed from `log_softmax` / `log_sigmoid`, and every loss has finite, correct
//! gradients for every `gamma >= 0`, saturated logits (±100) included.
//!
//! # One optimisation step
//!
//! ```
//! use burn::module::Module;
//! use burn::nn::{Linear, LinearConfig};
//! use burn::optim::{AdamConfig, GradientsParams, Optimizer};
//! use burn::tensor::{Device, Int, Tensor};
//! use focal_loss::FocalLossConfig;
//!
//! let device = Device::default().autodiff();
//! let model: Linear = LinearConfig::new(4, 3).init(&device);
//! let mut optim = AdamConfig::new().init();
//! // Class 2 is rare: give it more weight.
//! let loss_fn = FocalLossConfig::new()
//!     .with_gamma(2.0)
//!     .with_alpha(Some(vec![0.25, 0.25, 0.5]))
//!     .init(&device);
//!
//! let x = Tensor::<2>::from_floats([[0.1, 0.2, 0.3, 0.4], [1.0, -1.0, 0.5, 0.0]], &device);
//! let y = Tensor::<1, Int>::from_ints([2, 0], &device);
//! let loss = loss_fn.forward(model.forward(x.clone()), y.clone());
//! let before = loss.clone().into_scalar::<f32>();
//! let grads = GradientsParams::from_grads(loss.backward(), &model);
//! let model = optim.step(1e-2, model, grads);
//!
//! let after = loss_fn.forward(model.forward(x), y).into_scalar::<f32>();
//! assert!(after < before);
//! ```

mod asymmetric;
pub mod class_weights;
mod error;
mod focal;
mod fused;
pub mod init;
mod ldam;
mod logit_adjust;
mod numerics;
mod poly;
mod reduction;
mod sigmoid_focal;

pub use asymmetric::{AsymmetricLoss, AsymmetricLossConfig};
pub use error::FocalLossError;
pub use focal::{FocalLoss, FocalLossConfig, valid_gamma};
pub use ldam::{LdamLoss, LdamLossConfig};
pub use logit_adjust::{LogitAdjustedLoss, LogitAdjustedLossConfig, posthoc_logit_adjustment};
pub use poly::{Poly1Loss, Poly1LossConfig};
pub use reduction::Reduction;
pub use sigmoid_focal::{SigmoidFocalLoss, SigmoidFocalLossConfig};
