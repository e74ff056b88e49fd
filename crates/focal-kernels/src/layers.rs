//! Burn-nn's `Conv2d` and `MaxPool2d` layers run through this crate's kernels: the same
//! parameters, the same padding rule, the same result, so a model keeps Burn's layers (and their
//! records and initialisers) and only its `forward` calls change.

use burn::nn::BatchNorm;
use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::nn::{Dropout, PaddingConfig2d};
use burn::tensor::Tensor;
use burn::tensor::ops::{ConvOptions, MaxPoolOptions};

use crate::extension::BatchNormSpec;

/// `Same` padding as burn-nn computes it: the total padding that keeps `ceil(len / stride)`
/// outputs, the odd one at the end.
fn same(kernel: usize, stride: usize, len: usize) -> (usize, usize) {
    let out = len.div_ceil(stride);
    let total = if out > 0 {
        ((out - 1) * stride + kernel).saturating_sub(len)
    } else {
        0
    };
    (total / 2, total - total / 2)
}

/// `((top, bottom), (left, right))` for an `h x w` input.
fn pairs(
    padding: &PaddingConfig2d,
    [h, w]: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
) -> [(usize, usize); 2] {
    match *padding {
        PaddingConfig2d::Valid => [(0, 0), (0, 0)],
        PaddingConfig2d::Same => [same(kernel[0], stride[0], h), same(kernel[1], stride[1], w)],
        PaddingConfig2d::Explicit(top, left, bottom, right) => [(top, bottom), (left, right)],
    }
}

/// `layer.forward(x)`, through [`crate::conv2d`].
pub fn conv2d_layer(layer: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    let padding = pairs(&layer.padding, [h, w], layer.kernel_size, layer.stride);
    let options =
        ConvOptions::new_with_padding(layer.stride, padding, layer.dilation, layer.groups);
    crate::api::conv2d(
        x,
        layer.weight.val(),
        layer.bias.as_ref().map(|b| b.val()),
        options,
    )
}

/// `layer.forward(x)`, through [`crate::batch_norm_train`] / [`crate::batch_norm_eval`]: batch
/// statistics, with the running statistics updated as burn-nn's `BatchNorm` updates them
/// (`running * (1 - momentum) + batch * momentum`, the biased batch variance), when the layer is
/// training on an autodiff device; the running statistics otherwise.
pub fn batch_norm_layer<const D: usize>(layer: &BatchNorm, x: Tensor<D>) -> Tensor<D> {
    batch_norm_fused(layer, x, None, false)
}

/// `relu(layer.forward(x))` as one op (see [`batch_norm_layer`]).
pub fn batch_norm_relu_layer<const D: usize>(layer: &BatchNorm, x: Tensor<D>) -> Tensor<D> {
    batch_norm_fused(layer, x, None, true)
}

/// `relu(layer.forward(x) + residual)` as one op, a ResNet block's end (see
/// [`batch_norm_layer`]).
pub fn batch_norm_add_relu_layer<const D: usize>(
    layer: &BatchNorm,
    x: Tensor<D>,
    residual: Tensor<D>,
) -> Tensor<D> {
    batch_norm_fused(layer, x, Some(residual), true)
}

fn batch_norm_fused<const D: usize>(
    layer: &BatchNorm,
    x: Tensor<D>,
    residual: Option<Tensor<D>>,
    relu: bool,
) -> Tensor<D> {
    let spec = BatchNormSpec {
        epsilon: layer.epsilon,
        relu,
    };
    let device = x.device();
    if !(device.is_autodiff() && layer.training.is_enabled()) {
        let mean = layer.running_mean.value().to_device(&device);
        let var = layer.running_var.value().to_device(&device);
        return crate::api::batch_norm_eval(
            x,
            layer.gamma.val(),
            layer.beta.val(),
            (mean, var),
            residual,
            spec,
        );
    }
    let out = crate::api::batch_norm_train(x, layer.gamma.val(), layer.beta.val(), residual, spec);
    // As burn-nn's `BatchNorm::forward_train`, op for op.
    let running_mean = layer.running_mean.value_sync().to_device(&device);
    let running_var = layer.running_var.value_sync().to_device(&device);
    let running_mean = running_mean
        .mul_scalar(1.0 - layer.momentum)
        .add(out.mean.detach().mul_scalar(layer.momentum));
    let running_var = running_var
        .mul_scalar(1.0 - layer.momentum)
        .add(out.variance.detach().mul_scalar(layer.momentum));
    layer.running_mean.update(running_mean.detach());
    layer.running_var.update(running_var.detach());
    out.output
}

/// `layer.forward(x)`, through [`crate::dropout`]: the identity unless the layer is training
/// on an autodiff device with a probability above 0, as Burn's `Dropout::forward`.
pub fn dropout_layer<const D: usize>(layer: &Dropout, x: Tensor<D>) -> Tensor<D> {
    if !layer.training.is_enabled() || !x.device().is_autodiff() || layer.prob == 0.0 {
        return x;
    }
    crate::api::dropout(x, layer.prob)
}

/// `layer.forward(x)`, through [`crate::max_pool2d`].
pub fn max_pool2d_layer(layer: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    let padding = pairs(&layer.padding, [h, w], layer.kernel_size, layer.stride);
    let options = MaxPoolOptions::new(layer.kernel_size)
        .with_stride(layer.stride)
        .with_padding_pairs(padding)
        .with_dilation(layer.dilation)
        .with_ceil_mode(layer.ceil_mode);
    crate::api::max_pool2d(x, options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::DropoutConfig;
    use burn::tensor::Device;

    #[test]
    fn dropout_layer_drops_only_where_burns_layer_would() {
        let layer = DropoutConfig::new(0.5).init();
        let plain = Tensor::<2>::ones([8, 100], &Device::flex());
        // Without autodiff (evaluation, prediction): the identity.
        let out = dropout_layer(&layer, plain.clone());
        assert_eq!(out.into_data(), plain.into_data());
        let device = Device::flex().autodiff();
        let x = Tensor::<2>::ones([8, 100], &device);
        let none = dropout_layer(&DropoutConfig::new(0.0).init(), x.clone());
        assert_eq!(none.into_data(), x.clone().into_data());
        let v = dropout_layer(&layer, x)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert!(v.iter().all(|&e| e == 0.0 || e == 2.0));
        assert!(v.contains(&0.0) && v.contains(&2.0));
    }
}
