//! ResNet-18 and ResNet-50 with torchvision's architecture and parameter names.
//!
//! Initialised as torchvision initialises them: every convolution
//! `kaiming_normal_(mode="fan_out", nonlinearity="relu")` (normal, std `sqrt(2 / fan_out)`,
//! `fan_out = out_channels * kh * kw`), batch norm weight 1 and bias 0, and the head as PyTorch's
//! `Linear` default (uniform on `+-1/sqrt(fan_in)` for weight and bias, which is Burn's default).
//!
//! Field names follow torchvision's state-dict keys (`conv1`, `bn1`, `layer1.0.conv2`, `fc`, ...)
//! so that its weights load with two remappings only: `downsample.0` -> `downsample.conv` and
//! `downsample.1` -> `downsample.bn` (see `pretrained.rs`).

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Initializer, Linear, LinearConfig, PaddingConfig2d, Relu,
};
use burn::tensor::{Device, Tensor};

use super::head::Head;
use focal_kernels::{
    batch_norm_add_relu_layer, batch_norm_layer, batch_norm_relu_layer, conv2d_layer,
    max_pool2d_layer,
};

/// Which residual block a ResNet is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// Two 3x3 convolutions (ResNet-18/34), expansion 1.
    Basic,
    /// 1x1, 3x3, 1x1 convolutions (ResNet-50/101/152), expansion 4.
    Bottleneck,
}

impl BlockKind {
    fn expansion(self) -> usize {
        match self {
            BlockKind::Basic => 1,
            BlockKind::Bottleneck => 4,
        }
    }
}

/// The projection shortcut of a block whose shape changes (torchvision's `downsample`).
#[derive(Module, Debug)]
pub struct Downsample {
    /// 1x1 convolution with the block's stride.
    pub conv: Conv2d,
    /// Batch normalisation after it.
    pub bn: BatchNorm,
}

/// One residual block: a torchvision `BasicBlock` (no `conv3`) or `Bottleneck` (with `conv3`).
#[derive(Module, Debug)]
pub struct Block {
    /// First convolution (3x3 basic, 1x1 bottleneck).
    pub conv1: Conv2d,
    /// Its batch normalisation.
    pub bn1: BatchNorm,
    /// Second convolution (3x3; carries the stride in both kinds, as torchvision v1.5).
    pub conv2: Conv2d,
    /// Its batch normalisation.
    pub bn2: BatchNorm,
    /// Third convolution (1x1, bottleneck only).
    pub conv3: Option<Conv2d>,
    /// Its batch normalisation (bottleneck only).
    pub bn3: Option<BatchNorm>,
    /// Projection shortcut when the shape changes.
    pub downsample: Option<Downsample>,
    /// Activation.
    pub relu: Relu,
}

/// A bias-free convolution initialised as torchvision's ResNet initialises its convolutions:
/// `kaiming_normal_(mode="fan_out", nonlinearity="relu")`, gain `sqrt(2)` over `sqrt(fan_out)`
/// (Burn's default, PyTorch's `Conv2d` default, is uniform on `+-1/sqrt(fan_in)`).
fn conv(cin: usize, cout: usize, k: usize, stride: usize, device: &Device) -> Conv2d {
    let p = k / 2;
    Conv2dConfig::new([cin, cout], [k, k])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
        .with_bias(false)
        .with_initializer(Initializer::KaimingNormal {
            gain: std::f64::consts::SQRT_2,
            fan_out_only: true,
        })
        .init(device)
}

fn bn(n: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(n).init(device)
}

impl Block {
    fn new(
        kind: BlockKind,
        inplanes: usize,
        planes: usize,
        stride: usize,
        device: &Device,
    ) -> Self {
        let out = planes * kind.expansion();
        let downsample = (stride != 1 || inplanes != out).then(|| Downsample {
            conv: conv(inplanes, out, 1, stride, device),
            bn: bn(out, device),
        });
        match kind {
            BlockKind::Basic => Block {
                conv1: conv(inplanes, planes, 3, stride, device),
                bn1: bn(planes, device),
                conv2: conv(planes, planes, 3, 1, device),
                bn2: bn(planes, device),
                conv3: None,
                bn3: None,
                downsample,
                relu: Relu::new(),
            },
            BlockKind::Bottleneck => Block {
                conv1: conv(inplanes, planes, 1, 1, device),
                bn1: bn(planes, device),
                conv2: conv(planes, planes, 3, stride, device),
                bn2: bn(planes, device),
                conv3: Some(conv(planes, out, 1, 1, device)),
                bn3: Some(bn(out, device)),
                downsample,
                relu: Relu::new(),
            },
        }
    }

    /// `relu(bn(conv(...)) + identity)`: each batch norm with the ReLU after it, and the last
    /// with the residual add too, is one op of focal-kernels (see `batch_norm_relu_layer`).
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let identity = match &self.downsample {
            Some(d) => batch_norm_layer(&d.bn, conv2d_layer(&d.conv, x.clone())),
            None => x.clone(),
        };
        let y = batch_norm_relu_layer(&self.bn1, conv2d_layer(&self.conv1, x));
        match (&self.conv3, &self.bn3) {
            (Some(c3), Some(b3)) => {
                let y = batch_norm_relu_layer(&self.bn2, conv2d_layer(&self.conv2, y));
                batch_norm_add_relu_layer(b3, conv2d_layer(c3, y), identity)
            }
            _ => batch_norm_add_relu_layer(&self.bn2, conv2d_layer(&self.conv2, y), identity),
        }
    }

    /// The block with burn-nn's layers and ops (no fusion): what `forward` was before the fused
    /// batch norms, kept to test against.
    #[cfg(test)]
    fn forward_reference(&self, x: Tensor<4>) -> Tensor<4> {
        let identity = match &self.downsample {
            Some(d) => d.bn.forward(conv2d_layer(&d.conv, x.clone())),
            None => x.clone(),
        };
        let mut y = self
            .relu
            .forward(self.bn1.forward(conv2d_layer(&self.conv1, x)));
        y = self.bn2.forward(conv2d_layer(&self.conv2, y));
        if let (Some(c3), Some(b3)) = (&self.conv3, &self.bn3) {
            y = b3.forward(conv2d_layer(c3, self.relu.forward(y)));
        }
        self.relu.forward(y + identity)
    }
}

/// A torchvision ResNet: stem (7x7 conv, batch norm, ReLU, 3x3 max pool), four stages of blocks,
/// global average pooling and a linear head `fc`.
///
/// Any number of input channels and classes; inputs as small as 28x28 work (the last stages see
/// 1x1 feature maps, as torchvision's would).
///
/// # Shapes
/// - input: `[batch_size, channels, height, width]`
/// - output: `[batch_size, n_classes]`
#[derive(Module, Debug)]
pub struct ResNet {
    /// Stem convolution, 7x7, stride 2.
    pub conv1: Conv2d,
    /// Stem batch normalisation.
    pub bn1: BatchNorm,
    /// Stem max pooling, 3x3, stride 2.
    pub maxpool: MaxPool2d,
    /// Stage 1 (64 planes).
    pub layer1: Vec<Block>,
    /// Stage 2 (128 planes, stride 2).
    pub layer2: Vec<Block>,
    /// Stage 3 (256 planes, stride 2).
    pub layer3: Vec<Block>,
    /// Stage 4 (512 planes, stride 2).
    pub layer4: Vec<Block>,
    /// Global average pooling.
    pub avgpool: AdaptiveAvgPool2d,
    /// The hidden layer of an MLP head ([`Head`]; `None`: torchvision's linear head).
    pub hidden: Option<Linear>,
    /// The classifier head (after `hidden` when there is one).
    pub fc: Linear,
    /// Activation.
    pub relu: Relu,
}

impl ResNet {
    /// ResNet-18: basic blocks, `[2, 2, 2, 2]`.
    pub fn resnet18(channels: usize, n_classes: usize, device: &Device) -> Self {
        Self::new(BlockKind::Basic, [2, 2, 2, 2], channels, n_classes, device)
    }

    /// ResNet-50: bottleneck blocks, `[3, 4, 6, 3]`.
    pub fn resnet50(channels: usize, n_classes: usize, device: &Device) -> Self {
        Self::new(
            BlockKind::Bottleneck,
            [3, 4, 6, 3],
            channels,
            n_classes,
            device,
        )
    }

    /// A ResNet of `kind` blocks with `layers[i]` blocks in stage `i`, torchvision's widths
    /// (64, 128, 256, 512 planes).
    pub fn new(
        kind: BlockKind,
        layers: [usize; 4],
        channels: usize,
        n_classes: usize,
        device: &Device,
    ) -> Self {
        Self::with_width(kind, layers, channels, n_classes, 64, device)
    }

    /// As [`ResNet::new`] with stage widths `width * (1, 2, 4, 8)` instead of 64 * ...: the
    /// same layout and parameter names at any size (tests use tiny ones).
    pub fn with_width(
        kind: BlockKind,
        layers: [usize; 4],
        channels: usize,
        n_classes: usize,
        width: usize,
        device: &Device,
    ) -> Self {
        let mut inplanes = width;
        let mut stage = |planes: usize, n: usize, stride: usize| -> Vec<Block> {
            (0..n)
                .map(|i| {
                    let block = Block::new(
                        kind,
                        inplanes,
                        planes,
                        if i == 0 { stride } else { 1 },
                        device,
                    );
                    inplanes = planes * kind.expansion();
                    block
                })
                .collect()
        };
        let layer1 = stage(width, layers[0], 1);
        let layer2 = stage(2 * width, layers[1], 2);
        let layer3 = stage(4 * width, layers[2], 2);
        let layer4 = stage(8 * width, layers[3], 2);
        ResNet {
            conv1: conv(channels, width, 7, 2, device),
            bn1: bn(width, device),
            maxpool: MaxPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(),
            layer1,
            layer2,
            layer3,
            layer4,
            avgpool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            hidden: None,
            fc: LinearConfig::new(8 * width * kind.expansion(), n_classes).init(device),
            relu: Relu::new(),
        }
    }

    /// Logits for a batch of images.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.features(x);
        match &self.hidden {
            Some(h) => self.fc.forward(self.relu.forward(h.forward(x))),
            None => self.fc.forward(x),
        }
    }

    /// The pooled penultimate features `[N, F]` of a batch of images: what the head sees
    /// (`F` = 512 for ResNet-18, 2048 for ResNet-50).
    ///
    /// On the autodiff device, the leading layers that are frozen (the stem and the first
    /// stages, see [`crate::transfer::freeze`]) run without autodiff, as they run in
    /// evaluation: no graph is built through them, and a frozen backbone gives to the bit the
    /// features that [`crate::transfer`] caches.
    pub fn features(&self, x: Tensor<4>) -> Tensor<2> {
        let stages = self.stages();
        let (mut x, start) = match self.frozen_prefix().filter(|_| x.device().is_autodiff()) {
            Some(k) => {
                let mut y = self.stem_valid(x.inner());
                for stage in &stages[..k] {
                    for block in stage.iter() {
                        y = block.valid().forward(y);
                    }
                }
                (Tensor::from_inner(y), k)
            }
            None => (self.stem(x), 0),
        };
        for stage in &stages[start..] {
            for block in stage.iter() {
                x = block.forward(x);
            }
        }
        self.avgpool.forward(x).flatten(1, 3)
    }

    fn stem(&self, x: Tensor<4>) -> Tensor<4> {
        let stem = batch_norm_relu_layer(&self.bn1, conv2d_layer(&self.conv1, x));
        max_pool2d_layer(&self.maxpool, stem)
    }

    fn stem_valid(&self, x: Tensor<4>) -> Tensor<4> {
        let (conv1, bn1) = (self.conv1.valid(), self.bn1.valid());
        let stem = batch_norm_relu_layer(&bn1, conv2d_layer(&conv1, x));
        max_pool2d_layer(&self.maxpool, stem)
    }

    /// How many residual stages after a frozen stem are frozen too (`None`: the stem trains).
    /// A layer is frozen when its batch norm is out of training and its convolution takes no
    /// gradient (what `Module::freeze` makes of it).
    fn frozen_prefix(&self) -> Option<usize> {
        let frozen = |conv: &Conv2d, bn: &BatchNorm| {
            !bn.training.is_enabled() && !conv.weight.val().is_require_grad()
        };
        if !frozen(&self.conv1, &self.bn1) {
            return None;
        }
        let stages = self.stages();
        let all_frozen = |s: &Vec<Block>| s.iter().all(|b| frozen(&b.conv1, &b.bn1));
        Some(stages.iter().take_while(|s| all_frozen(s)).count())
    }

    /// The width of [`features`](Self::features).
    pub fn feature_width(&self) -> usize {
        self.head().in_features()
    }

    /// A copy of the head (`hidden` and `fc`).
    pub fn head(&self) -> Head {
        Head {
            hidden: self.hidden.clone(),
            fc: self.fc.clone(),
            relu: Relu::new(),
        }
    }

    /// The network with `head` in place of its own.
    pub fn with_head(self, head: Head) -> Self {
        ResNet {
            hidden: head.hidden,
            fc: head.fc,
            ..self
        }
    }

    /// The four residual stages, `layer1` first.
    pub fn stages(&self) -> [&Vec<Block>; 4] {
        [&self.layer1, &self.layer2, &self.layer3, &self.layer4]
    }

    #[cfg(test)]
    fn blocks(&self) -> impl Iterator<Item = &Block> {
        self.layer1
            .iter()
            .chain(&self.layer2)
            .chain(&self.layer3)
            .chain(&self.layer4)
    }

    /// [`ResNet::forward`] with burn-nn's layers and ops throughout (no fused batch norm).
    #[cfg(test)]
    fn forward_reference(&self, x: Tensor<4>) -> Tensor<2> {
        let stem = self
            .relu
            .forward(self.bn1.forward(conv2d_layer(&self.conv1, x)));
        let mut x = max_pool2d_layer(&self.maxpool, stem);
        for block in self.blocks() {
            x = block.forward_reference(x);
        }
        let x: Tensor<2> = self.avgpool.forward(x).flatten(1, 3);
        self.fc.forward(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, TensorData, Tolerance};

    /// Logits within 1e-4 of the largest one (a logit that is a near-cancelling sum of 8 * width
    /// features holds a larger relative error of its own), and the same predicted class.
    fn close(a: Tensor<2>, b: Tensor<2>) {
        let [n, c] = b.dims();
        let (a, b) = (
            a.into_data().try_into_vec_as::<f32>().unwrap(),
            b.into_data().try_into_vec_as::<f32>().unwrap(),
        );
        let scale = b.iter().fold(0f32, |m, v| m.max(v.abs()));
        for (x, y) in a.iter().zip(&b) {
            assert!(
                (x - y).abs() <= 1e-4 * scale,
                "{x} vs {y} (largest {scale})"
            );
        }
        let argmax = |v: &[f32]| -> Vec<usize> {
            v.chunks(c)
                .map(|r| (0..c).fold(0, |best, j| if r[j] > r[best] { j } else { best }))
                .collect()
        };
        assert_eq!(argmax(&a).len(), n);
        assert_eq!(argmax(&a), argmax(&b), "predicted classes");
    }

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_into_vec_as::<f32>().unwrap()
    }

    fn mean_std(v: &[f32]) -> (f64, f64) {
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = v
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / n;
        (mean, var.sqrt())
    }

    /// torchvision's initialisation: each convolution normal with std `sqrt(2 / fan_out)`
    /// (within 5%: the smallest has 8,192 weights), batch norm weight 1 and bias 0, the head
    /// uniform on `+-1/sqrt(fan_in)`. (The draws come from the device's seeded generator, as
    /// every layer's: `focal train` seeds it before building the model.)
    #[test]
    fn initialisation_is_torchvisions() {
        let device = Device::flex();
        for (net, fc_in) in [
            (ResNet::resnet18(3, 2, &device), 512),
            (ResNet::resnet50(3, 2, &device), 2048),
        ] {
            let mut convs = vec![&net.conv1];
            let mut bns = vec![&net.bn1];
            for b in net.blocks() {
                convs.extend([&b.conv1, &b.conv2].into_iter().chain(&b.conv3));
                bns.extend([&b.bn1, &b.bn2].into_iter().chain(&b.bn3));
                if let Some(d) = &b.downsample {
                    convs.push(&d.conv);
                    bns.push(&d.bn);
                }
            }
            for c in convs {
                let [o, _, kh, kw] = c.weight.val().dims();
                let (mean, std) = mean_std(&values(c.weight.val()));
                let want = (2.0 / (o * kh * kw) as f64).sqrt();
                assert!((std - want).abs() < 0.05 * want, "std {std}, want {want}");
                assert!(mean.abs() < 0.05 * want, "mean {mean}");
                assert!(c.bias.is_none());
            }
            for b in bns {
                assert!(values(b.gamma.val()).iter().all(|&v| v == 1.0));
                assert!(values(b.beta.val()).iter().all(|&v| v == 0.0));
            }
            let bound = 1.0 / (fc_in as f32).sqrt();
            let w = values(net.fc.weight.val());
            assert!(w.iter().all(|v| v.abs() <= bound));
            let (_, std) = mean_std(&w);
            let want = f64::from(bound) / 3f64.sqrt();
            assert!((std - want).abs() < 0.1 * want, "fc std {std}");
            let b = values(net.fc.bias.as_ref().unwrap().val());
            assert!(b.iter().all(|v| v.abs() <= bound));
        }
    }

    /// The fused batch norms give the logits (and, through them, the predictions) of burn-nn's
    /// layers: in training (batch statistics, on the autodiff device, for batches of 1 and 33
    /// and an odd image size), with the same running statistics after it, and in evaluation.
    #[test]
    fn fused_forward_matches_burn_nn_layers() {
        let device = Device::flex().autodiff();
        for (kind, layers, width, size) in [
            (BlockKind::Basic, [2, 2, 2, 2], 8, 33),
            (BlockKind::Bottleneck, [3, 4, 6, 3], 4, 29),
        ] {
            device.seed(3);
            let net = ResNet::with_width(kind, layers, 3, 5, width, &device);
            let twin = net.clone();
            for n in [1, 33] {
                let x = Tensor::<4>::random([n, 3, size, size], Distribution::Default, &device);
                close(net.forward(x.clone()), twin.forward_reference(x));
            }
            let running_var = |m: &ResNet| -> Vec<f32> {
                m.layer4[0]
                    .bn2
                    .running_var
                    .value()
                    .into_data()
                    .try_into_vec_as::<f32>()
                    .unwrap()
            };
            TensorData::new(running_var(&net), [running_var(&net).len()]).assert_approx_eq::<f32>(
                &TensorData::new(running_var(&twin), [running_var(&twin).len()]),
                Tolerance::rel_abs(1e-4, 1e-6),
            );
            let (a, b) = (net.valid(), twin.valid());
            let x = Tensor::<4>::random([7, 3, size, size], Distribution::Default, &Device::flex());
            close(a.forward(x.clone()), b.forward_reference(x));
        }
    }
}
