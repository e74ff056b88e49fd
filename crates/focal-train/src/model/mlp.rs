//! A multi-layer perceptron for tabular rows or flattened images.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, Relu};
use burn::tensor::{Device, Tensor};
use focal_kernels::dropout_layer;

/// Two hidden layers of ReLU units with dropout, then a linear head.
///
/// # Shapes
/// - input: `[batch_size, n_features]`
/// - output: `[batch_size, n_classes]`
#[derive(Module, Debug)]
pub struct Mlp {
    /// First hidden layer.
    pub fc1: Linear,
    /// Second hidden layer.
    pub fc2: Linear,
    /// The classifier head (its bias takes the prior-bias initialisation).
    pub head: Linear,
    /// Dropout before the head.
    pub dropout: Dropout,
    /// Activation.
    pub relu: Relu,
}

impl Mlp {
    /// Hidden width of both hidden layers.
    pub const HIDDEN: usize = 128;

    /// A fresh, randomly initialised MLP.
    pub fn new(n_features: usize, n_classes: usize, device: &Device) -> Self {
        Mlp {
            fc1: LinearConfig::new(n_features, Self::HIDDEN).init(device),
            fc2: LinearConfig::new(Self::HIDDEN, Self::HIDDEN).init(device),
            head: LinearConfig::new(Self::HIDDEN, n_classes).init(device),
            dropout: DropoutConfig::new(0.2).init(),
            relu: Relu::new(),
        }
    }

    /// Logits for a batch of rows.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let x = self.relu.forward(self.fc1.forward(x));
        let x = self.relu.forward(self.fc2.forward(x));
        self.head.forward(dropout_layer(&self.dropout, x))
    }
}
