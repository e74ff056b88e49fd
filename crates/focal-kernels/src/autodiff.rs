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

use crate::conv::{self, Conv2dSpec};
use crate::extension::{
    FocalKernels, HostInts, HostValues, conv_forward, dims4, host, pool_forward, tensor, values,
};
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

impl<C: CheckpointStrategy> FocalKernels for Autodiff<Flex, C> {
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
