//! Fused optimizer steps: Adam, AdamW and SGD (with momentum) as one pass over each parameter
//! tensor, updating the moments and the parameter in place, with the same `f32` operations in
//! the same order as burn-optim's `Adam`, `AdamW` and `Sgd`, so the results are the same bits.
//!
//! Burn's step is a chain of tensor ops (`mul_scalar`, `add`, `square`, `sqrt`, `div`, `sub`),
//! each a pass over the tensor and most with a tensor of their own: about ten passes and seven
//! allocations per parameter for Adam, which the op table measured at 0.16x PyTorch over
//! ResNet-18's 11 M parameters. Here every element is read and written once, in blocks spread
//! over rayon's threads, and the parameter and moments are overwritten where nothing else holds
//! them (else copied first, as Burn's copy-on-write ops would).
//!
//! Every operation of Burn's chain is an IEEE `f32` operation on one element (its scalars
//! converted to `f32` as flex converts them; no fused multiply-add), so doing them element by
//! element in the same order gives the same bits. The optimizers keep burn-optim's state types
//! (`AdamState`, `AdamWState`) or one with the same record names ([`SgdState`]), so checkpoints
//! written with either load into the other. On other devices or dtypes they run burn-optim's own
//! step.

use rayon::prelude::*;

/// Elements per rayon task.
const BLOCK: usize = 1 << 15;

/// The scalars of one Adam or AdamW step of one parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStep {
    /// Decay of the first moment.
    pub beta_1: f32,
    /// Decay of the second moment.
    pub beta_2: f32,
    /// Added to the root of the second moment.
    pub epsilon: f32,
    /// The step's number, from 1 (the bias corrections' exponent).
    pub time: i32,
    /// The learning rate.
    pub lr: f64,
    /// Adam: L2 penalty added to the gradient (`grad + p * penalty`); AdamW: the decoupled
    /// decay rate.
    pub weight_decay: Option<f32>,
    /// AdamW's update (bias corrections applied to the moments, decay of the parameter) instead
    /// of Adam's.
    pub decoupled: bool,
}

/// The scalars of one SGD step of one parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdStep {
    /// The learning rate.
    pub lr: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: Option<f32>,
    /// Momentum, dampening and Nesterov, as burn-optim's `MomentumConfig`.
    pub momentum: Option<(f64, f64, bool)>,
}

/// Adam's (or AdamW's) element update, given the previous moments (`None` on the first step).
#[inline(always)]
fn adam_element(
    k: &AdamCoefficients,
    p: &mut f32,
    g: f32,
    prev: Option<(f32, f32)>,
    m1: &mut f32,
    m2: &mut f32,
) {
    // Adam's weight decay: `tensor.mul_scalar(penalty).add(grad)`.
    let g = match (k.decoupled, k.penalty) {
        (false, Some(w)) => *p * w + g,
        _ => g,
    };
    let (a, b) = match prev {
        // `moment_1.mul_scalar(beta_1).add(grad.mul_scalar(1 - beta_1))`, and the same with the
        // square for moment 2.
        Some((a, b)) => (a * k.beta_1 + g * k.f1, b * k.beta_2 + (g * g) * k.f2),
        None => (g * k.f1, (g * g) * k.f2),
    };
    *m1 = a;
    *m2 = b;
    if k.decoupled {
        // AdamW: `m1 / (1 - b1^t) / (sqrt(m2 / (1 - b2^t)) + eps)`, the parameter decayed by
        // `1 - lr * decay`.
        let u = (a / k.c1) / ((b / k.c2).sqrt() + k.epsilon);
        let decayed = match k.keep {
            Some(keep) => *p * keep,
            None => *p,
        };
        *p = decayed - u * k.lr;
    } else {
        // Adam: `m1 * cf / (sqrt(m2) + eps * sqrt(1 - b2^t))`.
        let u = (a * k.cf) / (b.sqrt() + k.eps_bc);
        *p -= u * k.lr;
    }
}

/// [`AdamStep`]'s scalars as burn-optim computes them, in `f32`.
struct AdamCoefficients {
    beta_1: f32,
    beta_2: f32,
    f1: f32,
    f2: f32,
    cf: f32,
    eps_bc: f32,
    c1: f32,
    c2: f32,
    epsilon: f32,
    lr: f32,
    penalty: Option<f32>,
    keep: Option<f32>,
    decoupled: bool,
}

impl AdamCoefficients {
    fn new(s: &AdamStep) -> Self {
        let bc2 = (1.0 - s.beta_2.powi(s.time)).sqrt();
        let decay_rate = s.lr * f64::from(s.weight_decay.unwrap_or(0.0));
        AdamCoefficients {
            beta_1: s.beta_1,
            beta_2: s.beta_2,
            f1: 1.0 - s.beta_1,
            f2: 1.0 - s.beta_2,
            cf: bc2 / (1.0 - s.beta_1.powi(s.time)),
            eps_bc: s.epsilon * bc2,
            c1: 1f32 - s.beta_1.powi(s.time),
            c2: 1f32 - s.beta_2.powi(s.time),
            epsilon: s.epsilon,
            lr: s.lr as f32,
            penalty: s.weight_decay,
            // AdamW: `tensor.mul_scalar(1.0 - decay_rate)` unless the rate is 0.
            keep: (decay_rate != 0.0).then_some((1.0 - decay_rate) as f32),
            decoupled: s.decoupled,
        }
    }
}

/// One Adam/AdamW step in place: `p`, and the moments `m1`, `m2`, which hold the previous ones
/// when `first` is false and are written either way.
pub(crate) fn adam(
    step: &AdamStep,
    p: &mut [f32],
    g: &[f32],
    m1: &mut [f32],
    m2: &mut [f32],
    first: bool,
) {
    let n = p.len();
    assert!(
        g.len() == n && m1.len() == n && m2.len() == n,
        "adam: tensors of different sizes"
    );
    let k = AdamCoefficients::new(step);
    p.par_chunks_mut(BLOCK)
        .zip(g.par_chunks(BLOCK))
        .zip(m1.par_chunks_mut(BLOCK))
        .zip(m2.par_chunks_mut(BLOCK))
        .for_each(|(((p, g), m1), m2)| {
            for (((p, &g), m1), m2) in p.iter_mut().zip(g).zip(m1).zip(m2) {
                let prev = (!first).then_some((*m1, *m2));
                adam_element(&k, p, g, prev, m1, m2);
            }
        });
}

/// One SGD step in place: `p`, and with momentum the velocity `v` (the previous one unless
/// `first`).
pub(crate) fn sgd(step: &SgdStep, p: &mut [f32], g: &[f32], v: Option<&mut [f32]>, first: bool) {
    let n = p.len();
    assert_eq!(g.len(), n, "sgd: tensors of different sizes");
    let lr = step.lr as f32;
    let wd = step.weight_decay;
    let decayed = move |p: f32, g: f32| match wd {
        Some(w) => p * w + g,
        None => g,
    };
    match (v, step.momentum) {
        (Some(v), Some((momentum, dampening, nesterov))) => {
            assert_eq!(v.len(), n, "sgd: velocity of another size");
            let (m, keep) = (momentum as f32, (1.0 - dampening) as f32);
            p.par_chunks_mut(BLOCK)
                .zip(g.par_chunks(BLOCK))
                .zip(v.par_chunks_mut(BLOCK))
                .for_each(|((p, g), v)| {
                    for ((p, &g), v) in p.iter_mut().zip(g).zip(v) {
                        let g = decayed(*p, g);
                        // `grad.mul_scalar(1 - dampening).add(velocity.mul_scalar(momentum))`.
                        let vel = if first { g } else { g * keep + *v * m };
                        *v = vel;
                        let u = if nesterov { vel * m + g } else { vel };
                        *p -= u * lr;
                    }
                });
        }
        _ => {
            p.par_chunks_mut(BLOCK)
                .zip(g.par_chunks(BLOCK))
                .for_each(|(p, g)| {
                    for (p, &g) in p.iter_mut().zip(g) {
                        let g = decayed(*p, g);
                        *p -= g * lr;
                    }
                });
        }
    }
}
