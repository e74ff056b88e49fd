//! A value computed outside the graph, attached to it with its gradient: the custom autodiff
//! operation behind the fused losses. The forward pass returns `value`; the backward pass
//! returns `grad` scaled by the incoming gradient (a scalar for a reduced `value [1]`, one factor
//! per row for `value [n]` against `x [n, c]`), with no other pass over the logits.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, Flex, tensor::FloatTensor};
use burn::tensor::TensorData;

use crate::extension::{host, values};

#[derive(Debug)]
pub(crate) struct AttachBackward;

impl Backward<Flex, 1> for AttachBackward {
    /// The gradient of `value` with respect to `x` (`[n, c]`, contiguous).
    type State = FlexTensor;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let dy = host(&grads.consume::<Flex>(&ops.node));
        let Some(node) = node_x else { return };
        let g = ops.state;
        let dy = values(&dy);
        let shape = g.layout().shape().clone();
        let (n, c) = (shape[0], shape[1]);
        let out = if dy.len() == 1 && dy[0] == 1.0 {
            // `loss.backward()` seeds 1: the gradient is `grad` itself, shared, not copied.
            g
        } else {
            let gs = values(&g);
            let scaled: Vec<f32> = if dy.len() == 1 {
                gs.iter().map(|v| v * dy[0]).collect()
            } else {
                assert_eq!(
                    dy.len(),
                    n,
                    "attach_gradient: one incoming gradient per row"
                );
                gs.chunks(c.max(1))
                    .zip(dy)
                    .flat_map(|(row, &d)| row.iter().map(move |v| v * d))
                    .collect()
            };
            FlexTensor::from_data(TensorData::new(scaled, [n, c]))
        };
        grads.register::<Flex>(node.id, out);
    }
}

pub(crate) fn attach<C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<Flex, C>>,
    value: FloatTensor<Autodiff<Flex, C>>,
    grad: FloatTensor<Autodiff<Flex, C>>,
) -> FloatTensor<Autodiff<Flex, C>> {
    let guards = [x.node()];
    let value = value.into_primitive();
    match AttachBackward
        .prepare::<C>(guards)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(host(&grad.into_primitive()), value),
        OpsKind::UnTracked(prep) => prep.finish(value),
    }
}
