//! A small convolutional network for images around 28x28 (Fashion-MNIST, MedMNIST).

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::tensor::{Device, Tensor};
use focal_kernels::{conv2d_layer, dropout_layer, max_pool2d_layer};

/// conv3x3(32) - ReLU - maxpool2 - conv3x3(64) - ReLU - maxpool2 - dropout - linear(128) - ReLU -
/// linear(classes).
///
/// The tutorial's shape of network, small enough to train on two CPU cores in seconds per epoch.
///
/// # Shapes
/// - input: `[batch_size, channels, height, width]`, height and width at least 4
/// - output: `[batch_size, n_classes]`
#[derive(Module, Debug)]
pub struct Cnn {
    /// First convolution.
    pub conv1: Conv2d,
    /// Second convolution.
    pub conv2: Conv2d,
    /// 2x2 max pooling, used after each convolution.
    pub pool: MaxPool2d,
    /// Hidden fully connected layer.
    pub fc: Linear,
    /// The classifier head (its bias takes the prior-bias initialisation).
    pub head: Linear,
    /// Dropout before the fully connected layers.
    pub dropout: Dropout,
    /// Activation.
    pub relu: Relu,
}

impl Cnn {
    /// Channels of the first convolution.
    pub const C1: usize = 32;
    /// Channels of the second convolution.
    pub const C2: usize = 64;
    /// Width of the hidden fully connected layer.
    pub const HIDDEN: usize = 128;

    /// A fresh, randomly initialised network for `[channels, height, width]` images.
    pub fn new(
        channels: usize,
        height: usize,
        width: usize,
        n_classes: usize,
        device: &Device,
    ) -> Self {
        let flat = Self::C2 * (height / 4) * (width / 4);
        Cnn {
            conv1: Conv2dConfig::new([channels, Self::C1], [3, 3])
                .with_padding(PaddingConfig2d::Same)
                .init(device),
            conv2: Conv2dConfig::new([Self::C1, Self::C2], [3, 3])
                .with_padding(PaddingConfig2d::Same)
                .init(device),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            fc: LinearConfig::new(flat, Self::HIDDEN).init(device),
            head: LinearConfig::new(Self::HIDDEN, n_classes).init(device),
            dropout: DropoutConfig::new(0.25).init(),
            relu: Relu::new(),
        }
    }

    /// Logits for a batch of images.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = max_pool2d_layer(&self.pool, self.relu.forward(conv2d_layer(&self.conv1, x)));
        let x = max_pool2d_layer(&self.pool, self.relu.forward(conv2d_layer(&self.conv2, x)));
        let x: Tensor<2> = x.flatten(1, 3);
        let x = self
            .relu
            .forward(self.fc.forward(dropout_layer(&self.dropout, x)));
        self.head.forward(dropout_layer(&self.dropout, x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: Tensor<1>) -> Vec<f32> {
        t.into_data().try_into_vec_as::<f32>().unwrap()
    }

    /// PyTorch's default initialisation of Conv2d and Linear: weights kaiming_uniform with
    /// a = sqrt(5) and biases uniform(+-1/sqrt(fan_in)), both on [-1/sqrt(fan_in),
    /// 1/sqrt(fan_in)]. Burn's defaults draw the same, so no parity change was needed.
    #[test]
    fn initialisation_is_pytorchs_default() {
        let device = Device::flex();
        let net = Cnn::new(1, 28, 28, 2, &device);
        let layers: [(&str, Vec<f32>, Vec<f32>, usize); 4] = [
            (
                "conv1",
                values(net.conv1.weight.val().flatten(0, 3)),
                values(net.conv1.bias.as_ref().unwrap().val()),
                9,
            ),
            (
                "conv2",
                values(net.conv2.weight.val().flatten(0, 3)),
                values(net.conv2.bias.as_ref().unwrap().val()),
                32 * 9,
            ),
            (
                "fc",
                values(net.fc.weight.val().flatten(0, 1)),
                values(net.fc.bias.as_ref().unwrap().val()),
                64 * 7 * 7,
            ),
            (
                "head",
                values(net.head.weight.val().flatten(0, 1)),
                values(net.head.bias.as_ref().unwrap().val()),
                Cnn::HIDDEN,
            ),
        ];
        for (name, w, b, fan_in) in layers {
            let bound = 1.0 / (fan_in as f32).sqrt();
            for (what, v) in [("weight", &w), ("bias", &b)] {
                let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
                assert!(max <= bound, "{name} {what}: |{max}| beyond {bound}");
                if v.len() >= 256 {
                    // Uniform on [-bound, bound]: std bound / sqrt(3), values near the bound.
                    let n = v.len() as f32;
                    let mean = v.iter().sum::<f32>() / n;
                    let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / n).sqrt();
                    let want = bound / 3f32.sqrt();
                    assert!((std - want).abs() < 0.1 * want, "{name} {what}: std {std}");
                    assert!(max > 0.95 * bound, "{name} {what}: max {max} of {bound}");
                }
            }
        }
    }
}
