//! The models `focal train --model` offers, behind one [`Model`] enum.

mod cnn;
mod head;
mod mlp;
pub mod pretrained;
mod resnet;

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};
use focal_data::SampleKind;

pub use cnn::Cnn;
pub use head::Head;
pub use mlp::Mlp;
pub use resnet::{Block, BlockKind, Downsample, ResNet};

use crate::error::TrainError;
use crate::setting::Setting;

crate::named::named_choice! {
    /// The model architectures, by their names.
    pub enum ModelKind ("model") {
        /// Multi-layer perceptron (tabular rows, or images flattened).
        Mlp,
        /// Small convolutional network for images around 28x28.
        Cnn,
        /// torchvision ResNet-18.
        Resnet18,
        /// torchvision ResNet-50.
        Resnet50,
    }
}

impl ModelKind {
    /// The name.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// Whether the model needs image input (`[C, H, W]` samples).
    pub fn needs_images(self) -> bool {
        !matches!(self, ModelKind::Mlp)
    }
}

/// A classifier: one of the architectures, taking flat samples and returning logits.
#[derive(Module, Debug)]
pub enum Model {
    /// See [`Mlp`].
    Mlp(Mlp),
    /// See [`Cnn`].
    Cnn(Cnn),
    /// See [`ResNet`].
    ResNet(ResNet),
    /// A ResNet's head alone, on the pooled features of its frozen backbone (`[N, F]` rows):
    /// what a run that trains only the head trains, its features computed once (see
    /// [`crate::transfer`]).
    Head(Head),
}

/// The shape the model reshapes its flat input to: `[C, H, W]`, or `[F]` for rows.
fn image_dims(kind: &SampleKind) -> Option<[usize; 3]> {
    match *kind {
        SampleKind::Image {
            channels,
            height,
            width,
        } => Some([channels, height, width]),
        SampleKind::Tabular { .. } => None,
    }
}

impl Model {
    /// A fresh, randomly initialised model of `kind` for samples of `sample` and `n_classes`.
    ///
    /// # Errors
    /// An image model asked for tabular data, or images too small for the CNN (under 4x4).
    pub fn new(
        kind: ModelKind,
        sample: &SampleKind,
        n_classes: usize,
        device: &Device,
    ) -> Result<Self, TrainError> {
        let dims = image_dims(sample);
        match (kind, dims) {
            (ModelKind::Mlp, _) => Ok(Model::Mlp(Mlp::new(sample.len(), n_classes, device))),
            (_, None) => Err(TrainError::ModelNeedsImages { model: kind.name() }),
            (ModelKind::Cnn, Some([c, h, w])) => {
                if h < 4 || w < 4 {
                    return Err(TrainError::ImageTooSmall {
                        model: kind.name(),
                        height: h,
                        width: w,
                        min: 4,
                    });
                }
                Ok(Model::Cnn(Cnn::new(c, h, w, n_classes, device)))
            }
            (ModelKind::Resnet18, Some([c, _, _])) => {
                Ok(Model::ResNet(ResNet::resnet18(c, n_classes, device)))
            }
            (ModelKind::Resnet50, Some([c, _, _])) => {
                Ok(Model::ResNet(ResNet::resnet50(c, n_classes, device)))
            }
        }
    }

    /// [`Model::new`] with the head `head` (a ResNet's; the other models have their own and
    /// refuse an MLP head, as the configuration does). The MLP head is drawn after the rest, so
    /// the linear head's runs draw what they drew before heads were a choice.
    pub fn with_head_kind(
        kind: ModelKind,
        head: crate::finetune::HeadKind,
        sample: &SampleKind,
        n_classes: usize,
        device: &Device,
    ) -> Result<Self, TrainError> {
        let model = Self::new(kind, sample, n_classes, device)?;
        Ok(match (model, head) {
            (Model::ResNet(net), crate::finetune::HeadKind::Mlp { .. }) => {
                let width = net.feature_width();
                Model::ResNet(net.with_head(Head::new(head, width, n_classes, device)))
            }
            (model, _) => model,
        })
    }

    /// Logits `[N, n_classes]` for input shaped `[N, C, H, W]` (image models) or `[N, F]` (MLP,
    /// images flattened).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        match self {
            Model::Mlp(m) => m.forward(x.flatten(1, 3)),
            Model::Cnn(m) => m.forward(x),
            Model::ResNet(m) => m.forward(x),
            Model::Head(m) => m.forward(x.flatten(1, 3)),
        }
    }

    /// The classifier head.
    pub fn head(&self) -> &Linear {
        match self {
            Model::Mlp(m) => &m.head,
            Model::Cnn(m) => &m.head,
            Model::ResNet(m) => &m.fc,
            Model::Head(m) => &m.fc,
        }
    }

    fn head_mut(&mut self) -> &mut Linear {
        match self {
            Model::Mlp(m) => &mut m.head,
            Model::Cnn(m) => &mut m.head,
            Model::ResNet(m) => &mut m.fc,
            Model::Head(m) => &mut m.fc,
        }
    }

    /// RetinaNet's prior-probability initialisation (Lin et al. 2017, section 4.1), for a softmax
    /// head: the bias of class `positive` is set so that, with zero features, the model gives it
    /// probability `prior` and spreads the rest evenly (`log(prior * (C - 1) / (1 - prior))`;
    /// for two classes this is the paper's `-log((1 - pi) / pi)`); the other biases are 0.
    ///
    /// # Errors
    /// `prior` outside `(0, 1)`, or `positive` not a class.
    pub fn with_prior_bias(mut self, positive: usize, prior: f64) -> Result<Self, TrainError> {
        let head = self.head_mut();
        let device = head.weight.val().device();
        let n_classes = head.weight.val().dims()[1];
        if positive >= n_classes {
            return Err(TrainError::NoSuchClass {
                setting: Setting::PriorBias,
                class: positive,
                n_classes,
            });
        }
        let pos = focal_loss::init::prior_bias(prior).map_err(|_| {
            TrainError::out_of_range(Setting::PriorBias, prior, "the prior must be in (0, 1)")
        })?;
        let bias_value = pos + ((n_classes - 1) as f32).ln();
        let mut bias = vec![0.0f32; n_classes];
        bias[positive] = bias_value;
        head.bias = Some(Param::from_tensor(Tensor::<1>::from_floats(
            bias.as_slice(),
            &device,
        )));
        Ok(self)
    }
}
