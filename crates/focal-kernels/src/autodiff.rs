//! The operations on autodiff over flex: the forward pass on flex, and a node in Burn's graph
//! whose backward pass calls the kernels of `conv.rs` and `pool.rs`.

use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::{
    Autodiff, Flex,
    tensor::{FloatTensor, IntTensor},
};

use burn::backend::AutodiffBackend;
use burn::backend::ops::{ActivationOps, FloatTensorOps, ModuleOps};

use crate::conv::{self, Conv2dSpec};
use crate::extension::{
    BatchNormSpec, FocalKernels, HostInts, HostValues, bn_train_forward, conv_forward, dims4, host,
    pool_forward, tensor, tensor_of, values,
};
use crate::norm::{self, Dims};
use crate::optim::{AdamStep, SgdStep};
use crate::pool::{self, Pool2dSpec};

#[derive(Debug)]
struct Conv2dBackward;

impl Backward<Flex, 2> for Conv2dBackward {
    /// The input and the weight (contiguous), and the convolution's spec.
    type State = (FlexTensor, FlexTensor, Conv2dSpec);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w] = ops.parents;
        let dy = host(&grads.consume::<Flex>(&ops.node));
        let (x, w, spec) = ops.state;
        let g = conv::Geometry::new(dims4(&x), dims4(&w), spec);
        if let Some(node) = node_w {
            let dw = conv::grad_weight(&g, values(&x), values(&dy));
            grads.register::<Flex>(node.id, tensor(dw, dims4(&w)));
        }
        if let Some(node) = node_x {
            let dx = conv::grad_input(&g, values(&w), values(&dy));
            grads.register::<Flex>(node.id, tensor(dx, dims4(&x)));
        }
    }
}

/// The forward pass's argmax positions, shared with the backward pass without a copy.
#[derive(Clone)]
struct Argmax(Arc<Vec<u32>>);

impl std::fmt::Debug for Argmax {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Argmax({} positions)", self.0.len())
    }
}

#[derive(Debug)]
struct MaxPool2dBackward;

impl Backward<Flex, 1> for MaxPool2dBackward {
    /// The argmax positions, and the input's shape.
    type State = (Argmax, [usize; 4]);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let dy = host(&grads.consume::<Flex>(&ops.node));
        let (Argmax(idx), [n, c, h, w]) = ops.state;
        if let Some(node) = node_x {
            let dx = pool::backward(values(&dy), &idx, n * c, [h, w]);
            grads.register::<Flex>(node.id, tensor(dx, [n, c, h, w]));
        }
    }
}

/// What the batch norm's backward pass reads: the input, the output (for the ReLU's mask, when
/// fused), gamma, and the batch statistics.
#[derive(Clone)]
struct BatchNormState {
    x: FlexTensor,
    y: Option<FlexTensor>,
    gamma: FlexTensor,
    stats: Arc<norm::Stats>,
}

impl std::fmt::Debug for BatchNormState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BatchNormState({} channels)", self.stats.mean.len())
    }
}

/// The backward pass of `relu?(bn(x) + residual?)`; parents `x, gamma, beta` and, when `N` is 4,
/// the residual.
#[derive(Debug)]
struct BatchNormBackward<const N: usize>;

impl<const N: usize> Backward<Flex, N> for BatchNormBackward<N> {
    type State = BatchNormState;

    fn backward(self, ops: Ops<Self::State, N>, grads: &mut Gradients, _: &mut Checkpointer) {
        let parents = ops.parents;
        let mut dz = host(&grads.consume::<Flex>(&ops.node));
        let BatchNormState { x, y, gamma, stats } = ops.state;
        drop(ops.node);
        let shape = x.layout().shape().clone();
        let d = Dims::of(&shape);
        if let Some(y) = &y {
            // The gradient through the ReLU, in the incoming gradient's buffer when it is ours.
            if dz.try_storage_mut::<f32>().is_none() {
                dz = tensor_of(values(&dz).to_vec(), &shape);
            }
            let buf = dz.try_storage_mut::<f32>().expect("a tensor of our own"); // invariant: made unique above
            norm::relu_mask(&mut buf[..d.n * d.c * d.hw], values(y));
        }
        // The residual's gradient is dz itself.
        let residual_node = if N == 4 { parents[3].clone() } else { None };
        if let Some(node) = residual_node {
            grads.register::<Flex>(node.id, dz.clone());
        }
        let (node_x, node_gamma, node_beta) =
            (parents[0].clone(), parents[1].clone(), parents[2].clone());
        if node_x.is_none() && node_gamma.is_none() && node_beta.is_none() {
            return;
        }
        let sums = norm::grad_sums(values(&dz), values(&x), d, &stats.mean);
        let g = norm::coefficients(&sums, d, values(&gamma), &stats.invstd);
        if let Some(node) = node_x {
            let mut dx = dz;
            if dx.try_storage_mut::<f32>().is_none() {
                dx = tensor_of(values(&dx).to_vec(), &shape);
            }
            let buf = dx.try_storage_mut::<f32>().expect("a tensor of our own"); // invariant: made unique above
            norm::grad_input(&mut buf[..d.n * d.c * d.hw], values(&x), d, &stats.mean, &g);
            grads.register::<Flex>(node.id, dx);
        }
        if let Some(node) = node_gamma {
            grads.register::<Flex>(node.id, tensor_of(g.dgamma.clone(), &[d.c]));
        }
        if let Some(node) = node_beta {
            grads.register::<Flex>(node.id, tensor_of(g.dbeta.clone(), &[d.c]));
        }
    }
}

type A<C> = Autodiff<Flex, C>;

/// A batch norm's output, batch mean and batch variance.
type Normalised<C> = (FloatTensor<A<C>>, FloatTensor<A<C>>, FloatTensor<A<C>>);

fn bn_train<C: CheckpointStrategy>(
    x: FloatTensor<A<C>>,
    gamma: FloatTensor<A<C>>,
    beta: FloatTensor<A<C>>,
    residual: Option<FloatTensor<A<C>>>,
    spec: BatchNormSpec,
) -> Normalised<C> {
    let (xp, gp, bp) = (
        host(x.primitive()),
        host(gamma.primitive()),
        host(beta.primitive()),
    );
    let rp = residual.as_ref().map(|r| host(r.primitive()));
    let (y, stats) = bn_train_forward(&xp, &gp, &bp, rp.as_ref(), spec);
    let c = stats.mean.len();
    let mean = tensor_of(stats.mean.clone(), &[c]);
    let var = tensor_of(stats.var.clone(), &[c]);
    let state = |y: &FlexTensor| BatchNormState {
        x: xp,
        y: spec.relu.then(|| y.clone()),
        gamma: gp,
        stats: Arc::new(stats),
    };
    let out = match residual {
        Some(r) => match BatchNormBackward::<4>
            .prepare::<C>([x.node(), gamma.node(), beta.node(), r.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let s = state(&y);
                prep.finish(s, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(y),
        },
        None => match BatchNormBackward::<3>
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let s = state(&y);
                prep.finish(s, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(y),
        },
    };
    (out, A::<C>::from_inner(mean), A::<C>::from_inner(var))
}

fn bn_eval<C: CheckpointStrategy>(
    x: FloatTensor<A<C>>,
    gamma: FloatTensor<A<C>>,
    beta: FloatTensor<A<C>>,
    (mean, var): (FloatTensor<A<C>>, FloatTensor<A<C>>),
    residual: Option<FloatTensor<A<C>>>,
    spec: BatchNormSpec,
) -> FloatTensor<A<C>> {
    // Fixed statistics on the autodiff device (a frozen layer): Burn's own ops, which track
    // what needs tracking.
    let mut y = <A<C> as ModuleOps<A<C>>>::batch_norm(x, gamma, beta, mean, var, spec.epsilon);
    if let Some(r) = residual {
        y = <A<C> as FloatTensorOps<A<C>>>::float_add(y, r);
    }
    if spec.relu {
        y = <A<C> as ActivationOps<A<C>>>::relu(y);
    }
    y
}

impl<C: CheckpointStrategy> FocalKernels for Autodiff<Flex, C> {
    // The optimizer steps work on the parameters' values, outside the graph (ModuleOptimizer
    // hands them the inner tensors): here they run on the inner tensors and come back as
    // leaves.
    fn focal_adam_step(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        moment_1: FloatTensor<Self>,
        moment_2: FloatTensor<Self>,
        step: AdamStep,
    ) -> Normalised<C> {
        let (p, m1, m2) = crate::extension::adam_step(
            param.into_primitive(),
            grad.primitive(),
            Some((moment_1.into_primitive(), moment_2.into_primitive())),
            step,
        );
        (
            Self::from_inner(p),
            Self::from_inner(m1),
            Self::from_inner(m2),
        )
    }

    fn focal_adam_first_step(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        step: AdamStep,
    ) -> Normalised<C> {
        let (p, m1, m2) =
            crate::extension::adam_step(param.into_primitive(), grad.primitive(), None, step);
        (
            Self::from_inner(p),
            Self::from_inner(m1),
            Self::from_inner(m2),
        )
    }

    fn focal_sgd_plain_step(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        step: SgdStep,
    ) -> FloatTensor<Self> {
        Self::from_inner(Flex::focal_sgd_plain_step(
            param.into_primitive(),
            grad.into_primitive(),
            step,
        ))
    }

    fn focal_sgd_first_step(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        step: SgdStep,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (p, v) =
            Flex::focal_sgd_first_step(param.into_primitive(), grad.into_primitive(), step);
        (Self::from_inner(p), Self::from_inner(v))
    }

    fn focal_sgd_step(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        velocity: FloatTensor<Self>,
        step: SgdStep,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (p, v) = Flex::focal_sgd_step(
            param.into_primitive(),
            grad.into_primitive(),
            velocity.into_primitive(),
            step,
        );
        (Self::from_inner(p), Self::from_inner(v))
    }

    fn focal_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        spec: BatchNormSpec,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        bn_train::<C>(x, gamma, beta, None, spec)
    }

    fn focal_batch_norm_add_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        residual: FloatTensor<Self>,
        spec: BatchNormSpec,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        bn_train::<C>(x, gamma, beta, Some(residual), spec)
    }

    fn focal_batch_norm_eval(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        var: FloatTensor<Self>,
        spec: BatchNormSpec,
    ) -> FloatTensor<Self> {
        bn_eval::<C>(x, gamma, beta, (mean, var), None, spec)
    }

    fn focal_batch_norm_add_eval(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        var: FloatTensor<Self>,
        residual: FloatTensor<Self>,
        spec: BatchNormSpec,
    ) -> FloatTensor<Self> {
        bn_eval::<C>(x, gamma, beta, (mean, var), Some(residual), spec)
    }

    fn focal_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        spec: Conv2dSpec,
    ) -> FloatTensor<Self> {
        let guards = [x.node(), weight.node()];
        let xp = host(x.primitive());
        let wp = host(weight.primitive());
        let y = conv_forward(&xp, &wp, spec);
        match Conv2dBackward
            .prepare::<C>(guards)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((xp, wp, spec), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }

    fn focal_max_pool2d(x: FloatTensor<Self>, spec: Pool2dSpec) -> FloatTensor<Self> {
        let guards = [x.node()];
        let shape = dims4(x.primitive());
        let (y, idx) = pool_forward(x.primitive(), &spec);
        match MaxPool2dBackward
            .prepare::<C>(guards)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((Argmax(Arc::new(idx)), shape), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }

    fn focal_attach_gradient(
        x: FloatTensor<Self>,
        value: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        crate::gradient::attach::<C>(x, value, grad)
    }

    fn focal_host_values(x: FloatTensor<Self>) -> HostValues {
        HostValues::shared(x.primitive())
    }

    fn focal_host_ints(x: IntTensor<Self>) -> HostInts {
        crate::extension::host_ints(&x)
    }
}
