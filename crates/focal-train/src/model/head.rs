//! The classifier head of a ResNet: torchvision's `fc`, alone or after a hidden layer.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig, Relu};
use burn::tensor::{Device, Tensor};

use crate::finetune::HeadKind;

/// A classifier head on pooled features: `fc(x)`, or `fc(relu(hidden(x)))` (the PyTorch idiom
/// `model.fc = nn.Sequential(nn.Linear(F, H), nn.ReLU(), nn.Linear(H, C))`, whose keys
/// `fc.0`/`fc.2` an export writes).
///
/// Also a model of its own ([`crate::Model::Head`]): what a run whose backbone is frozen
/// trains on the backbone's features, computed once.
#[derive(Module, Debug)]
pub struct Head {
    /// The hidden layer of an MLP head.
    pub hidden: Option<Linear>,
    /// The output layer (the whole head when linear).
    pub fc: Linear,
    /// Activation after the hidden layer.
    pub relu: Relu,
}

impl Head {
    /// A freshly initialised head of `kind` from `features` inputs to `n_classes` logits
    /// (PyTorch's `Linear` initialisation, Burn's default).
    pub fn new(kind: HeadKind, features: usize, n_classes: usize, device: &Device) -> Self {
        match kind {
            HeadKind::Linear => Head {
                hidden: None,
                fc: LinearConfig::new(features, n_classes).init(device),
                relu: Relu::new(),
            },
            HeadKind::Mlp { hidden } => Head {
                hidden: Some(LinearConfig::new(features, hidden).init(device)),
                fc: LinearConfig::new(hidden, n_classes).init(device),
                relu: Relu::new(),
            },
        }
    }

    /// Logits `[N, n_classes]` for pooled features `[N, F]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        match &self.hidden {
            Some(h) => self.fc.forward(self.relu.forward(h.forward(x))),
            None => self.fc.forward(x),
        }
    }

    /// The number of features the head takes.
    pub fn in_features(&self) -> usize {
        match &self.hidden {
            Some(h) => h.weight.val().dims()[0],
            None => self.fc.weight.val().dims()[0],
        }
    }

    /// Its kind.
    pub fn kind(&self) -> HeadKind {
        match &self.hidden {
            Some(h) => HeadKind::Mlp {
                hidden: h.weight.val().dims()[1],
            },
            None => HeadKind::Linear,
        }
    }
}
