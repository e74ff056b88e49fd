//! The fused steps as burn-optim optimizers (`Optimizer`, so that a `ModuleOptimizer` runs them
//! as it runs Burn's): see `optim.rs` for the kernels and why they give Burn's bits.

use burn::backend::Dispatch;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{
    AdamState, AdamWState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer,
    RecordState, StateSink, StateSource,
};
use burn::tensor::{DType, Device, Tensor};

use crate::extension::FocalKernels;
use crate::optim::{AdamStep, SgdStep};

/// Whether the fused kernels take these tensors: `f32` on flex without autodiff.
fn fused<const D: usize>(tensors: &[&Tensor<D>]) -> bool {
    tensors
        .iter()
        .all(|t| t.dtype() == DType::F32 && t.device() == Device::flex())
}

/// Adam or AdamW, fused (see the module's documentation). Build it with [`FusedAdamConfig`].
#[derive(Clone, Debug)]
pub struct FusedAdam {
    config: FusedAdamConfig,
    decoupled: bool,
}

/// Adam's settings, as burn-optim's `AdamConfig` (the same defaults: betas 0.9 and 0.999,
/// epsilon 1e-5, no weight decay, no clipping; no AMSGrad).
#[derive(Clone, Debug)]
pub struct FusedAdamConfig {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    weight_decay: Option<WeightDecayConfig>,
    grad_clipping: Option<GradientClippingConfig>,
}

impl Default for FusedAdamConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl FusedAdamConfig {
    /// burn-optim's defaults.
    pub fn new() -> Self {
        FusedAdamConfig {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-5,
            weight_decay: None,
            grad_clipping: None,
        }
    }

    /// Decay of the first moment.
    pub fn with_beta_1(mut self, beta_1: f32) -> Self {
        self.beta_1 = beta_1;
        self
    }

    /// Decay of the second moment.
    pub fn with_beta_2(mut self, beta_2: f32) -> Self {
        self.beta_2 = beta_2;
        self
    }

    /// Added to the root of the second moment (PyTorch's default is 1e-8).
    pub fn with_epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Adam's L2 penalty on the gradient (AdamW: the decoupled decay rate).
    pub fn with_weight_decay(mut self, weight_decay: Option<WeightDecayConfig>) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Gradient clipping, applied by the `ModuleOptimizer` before each step.
    pub fn with_grad_clipping(mut self, clipping: Option<GradientClippingConfig>) -> Self {
        self.grad_clipping = clipping;
        self
    }

    /// Adam, as `AdamConfig::init`.
    pub fn init(&self) -> ModuleOptimizer {
        self.module_optimizer(false)
    }

    /// The bare Adam optimizer, as `AdamConfig::build` (no clipping: that is the
    /// `ModuleOptimizer`'s).
    pub fn build(&self) -> FusedAdam {
        FusedAdam {
            config: self.clone(),
            decoupled: false,
        }
    }

    /// The bare AdamW optimizer (see [`Self::init_adamw`]).
    pub fn build_adamw(&self) -> FusedAdam {
        FusedAdam {
            config: self.clone(),
            decoupled: true,
        }
    }

    /// AdamW (burn-optim's `AdamW`, not cautious) with these betas and epsilon and the decay
    /// rate of [`Self::with_weight_decay`] (burn-optim's `AdamWConfig` defaults to 1e-4).
    pub fn init_adamw(&self) -> ModuleOptimizer {
        self.module_optimizer(true)
    }

    fn module_optimizer(&self, decoupled: bool) -> ModuleOptimizer {
        let optim = ModuleOptimizer::from(if decoupled {
            self.build_adamw()
        } else {
            self.build()
        });
        match &self.grad_clipping {
            Some(c) => optim.with_grad_clipping(c.init()),
            None => optim,
        }
    }

    fn burn_adam(&self) -> burn::optim::Adam {
        burn::optim::AdamConfig::new()
            .with_beta_1(self.beta_1)
            .with_beta_2(self.beta_2)
            .with_epsilon(self.epsilon)
            .with_weight_decay(self.weight_decay.clone())
            .build()
    }

    fn burn_adamw(&self) -> burn::optim::AdamW {
        burn::optim::AdamWConfig::new()
            .with_beta_1(self.beta_1)
            .with_beta_2(self.beta_2)
            .with_epsilon(self.epsilon)
            .with_weight_decay(self.weight_decay.as_ref().map_or(0.0, |w| w.penalty))
            .build()
    }
}

impl FusedAdam {
    /// The flex step: `(param, moment 1, moment 2)` after it.
    fn flex_step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        moments: Option<(Tensor<D>, Tensor<D>)>,
        time: usize,
    ) -> (Tensor<D>, Tensor<D>, Tensor<D>) {
        let c = &self.config;
        let spec = AdamStep {
            beta_1: c.beta_1,
            beta_2: c.beta_2,
            epsilon: c.epsilon,
            time: time as i32,
            lr,
            weight_decay: c.weight_decay.as_ref().map(|w| w.penalty),
            decoupled: self.decoupled,
        };
        let (p, m1, m2) = match moments {
            Some((m1, m2)) => <Dispatch as FocalKernels>::focal_adam_step(
                tensor.into_dispatch(),
                grad.into_dispatch(),
                m1.into_dispatch(),
                m2.into_dispatch(),
                spec,
            ),
            None => <Dispatch as FocalKernels>::focal_adam_first_step(
                tensor.into_dispatch(),
                grad.into_dispatch(),
                spec,
            ),
        };
        (
            Tensor::from_dispatch(p),
            Tensor::from_dispatch(m1),
            Tensor::from_dispatch(m2),
        )
    }
}

/// The moments of an Adam state, and the step number after this one.
fn moments<const D: usize>(
    state: Option<AdaptiveMomentumState<D>>,
) -> (Option<(Tensor<D>, Tensor<D>)>, usize) {
    match state {
        Some(s) => (Some((s.moment_1, s.moment_2)), s.time + 1),
        None => (None, 1),
    }
}

fn fits<const D: usize>(
    tensor: &Tensor<D>,
    grad: &Tensor<D>,
    state: Option<&AdaptiveMomentumState<D>>,
) -> bool {
    fused(&[tensor, grad])
        && state.is_none_or(|s| s.max_moment_2.is_none() && fused(&[&s.moment_1, &s.moment_2]))
}

impl FusedAdam {
    fn step_momentum<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<AdaptiveMomentumState<D>>,
    ) -> (Tensor<D>, Option<AdamState<D>>) {
        let (moments, time) = moments(state);
        let (p, m1, m2) = self.flex_step(lr, tensor, grad, moments, time);
        let state = AdaptiveMomentumState::new(time, m1, m2);
        (p, Some(AdamState::new(state)))
    }
}

/// Burn's Adam and AdamW both keep an `AdaptiveMomentumState` under `momentum` (`AdamState`,
/// `AdamWState`: records of the same names); this optimizer keeps `AdamState` for both.
impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let momentum = state.map(|s| s.momentum);
        if !fits(&tensor, &grad, momentum.as_ref()) {
            return if self.decoupled {
                let (t, s) =
                    self.config
                        .burn_adamw()
                        .step(lr, tensor, grad, momentum.map(AdamWState::new));
                (t, s.map(|s| AdamState::new(s.momentum)))
            } else {
                self.config
                    .burn_adam()
                    .step(lr, tensor, grad, momentum.map(AdamState::new))
            };
        }
        self.step_momentum(lr, tensor, grad, momentum)
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.momentum = state.momentum.to_device(device);
        state
    }
}

/// SGD, fused (see the module's documentation). Build it with [`FusedSgdConfig`].
#[derive(Clone, Debug)]
pub struct FusedSgd {
    config: FusedSgdConfig,
}

/// SGD's settings, as burn-optim's `SgdConfig` with a `MomentumConfig`: momentum, dampening
/// (burn-optim's default is 0.1, PyTorch's 0) and Nesterov.
#[derive(Clone, Debug, Default)]
pub struct FusedSgdConfig {
    weight_decay: Option<WeightDecayConfig>,
    momentum: Option<(f64, f64, bool)>,
    gradient_clipping: Option<GradientClippingConfig>,
}

impl FusedSgdConfig {
    /// Plain SGD.
    pub fn new() -> Self {
        Self::default()
    }

    /// L2 penalty added to the gradient.
    pub fn with_weight_decay(mut self, weight_decay: Option<WeightDecayConfig>) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Momentum, as burn-optim's `MomentumConfig` gives it.
    pub fn with_momentum(
        mut self,
        momentum: Option<burn::optim::momentum::MomentumConfig>,
    ) -> Self {
        self.momentum = momentum.map(|m| (m.momentum, m.dampening, m.nesterov));
        self
    }

    /// Gradient clipping, applied by the `ModuleOptimizer` before each step.
    pub fn with_gradient_clipping(mut self, clipping: Option<GradientClippingConfig>) -> Self {
        self.gradient_clipping = clipping;
        self
    }

    /// The bare optimizer, as `SgdConfig::build`.
    pub fn build(&self) -> FusedSgd {
        FusedSgd {
            config: self.clone(),
        }
    }

    /// The optimizer, as `SgdConfig::init`.
    pub fn init(&self) -> ModuleOptimizer {
        let optim = ModuleOptimizer::from(self.build());
        match &self.gradient_clipping {
            Some(c) => optim.with_grad_clipping(c.init()),
            None => optim,
        }
    }
}

/// SGD's state: the velocity, when there is momentum. Recorded under the names of burn-optim's
/// `SgdState` (`momentum.velocity`), so the checkpoints of either load into the other.
#[derive(Clone, Debug)]
pub struct SgdState<const D: usize> {
    /// The velocity of the momentum, when there is momentum.
    pub velocity: Option<Tensor<D>>,
}

impl<const D: usize> RecordState for SgdState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        if let Some(v) = &self.velocity {
            let path = burn::optim::join_path(prefix, "momentum");
            out.push_tensor(&path, "velocity", v.clone().into_data());
        }
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        let path = burn::optim::join_path(prefix, "momentum");
        let velocity = if src.has_under(&path) {
            Some(Tensor::from_data(
                src.take_tensor(&path, "velocity")?,
                device,
            ))
        } else {
            None
        };
        Some(SgdState { velocity })
    }
}

impl Optimizer for FusedSgd {
    type State<const D: usize> = SgdState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let c = &self.config;
        let velocity = state.and_then(|s| s.velocity);
        let spec = SgdStep {
            lr,
            weight_decay: c.weight_decay.as_ref().map(|w| w.penalty),
            momentum: c.momentum,
        };
        let all_flex = fused(&[&tensor, &grad]) && velocity.as_ref().is_none_or(|v| fused(&[v]));
        if !all_flex {
            return sgd_tensor_ops(&spec, tensor, grad, velocity);
        }
        let (p, v) = match (c.momentum, velocity) {
            (None, _) => (
                <Dispatch as FocalKernels>::focal_sgd_plain_step(
                    tensor.into_dispatch(),
                    grad.into_dispatch(),
                    spec,
                ),
                None,
            ),
            (Some(_), None) => {
                let (p, v) = <Dispatch as FocalKernels>::focal_sgd_first_step(
                    tensor.into_dispatch(),
                    grad.into_dispatch(),
                    spec,
                );
                (p, Some(v))
            }
            (Some(_), Some(v)) => {
                let (p, v) = <Dispatch as FocalKernels>::focal_sgd_step(
                    tensor.into_dispatch(),
                    grad.into_dispatch(),
                    v.into_dispatch(),
                    spec,
                );
                (p, Some(v))
            }
        };
        (
            Tensor::from_dispatch(p),
            Some(SgdState {
                velocity: v.map(Tensor::from_dispatch),
            }),
        )
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.velocity = state.velocity.map(|v| v.to_device(device));
        state
    }
}

/// burn-optim's SGD step, op for op (`Sgd::step` with `WeightDecay` and `Momentum`), for
/// tensors the kernels do not take.
fn sgd_tensor_ops<const D: usize>(
    spec: &SgdStep,
    tensor: Tensor<D>,
    grad: Tensor<D>,
    velocity: Option<Tensor<D>>,
) -> (Tensor<D>, Option<SgdState<D>>) {
    let mut grad = match spec.weight_decay {
        Some(w) => tensor.clone().mul_scalar(w).add(grad),
        None => grad,
    };
    let mut kept = None;
    if let Some((momentum, dampening, nesterov)) = spec.momentum {
        let m = momentum as f32;
        let v = match velocity {
            Some(v) => grad
                .clone()
                .mul_scalar(1.0 - dampening)
                .add(v.mul_scalar(m)),
            None => grad.clone(),
        };
        grad = if nesterov {
            v.clone().mul_scalar(m).add(grad)
        } else {
            v.clone()
        };
        kept = Some(v);
    }
    let delta = grad.mul_scalar(spec.lr);
    (tensor - delta, Some(SgdState { velocity: kept }))
}
