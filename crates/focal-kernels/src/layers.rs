//! Burn-nn's `Conv2d` and `MaxPool2d` layers run through this crate's kernels: the same
//! parameters, the same padding rule, the same result, so a model keeps Burn's layers (and their
//! records and initialisers) and only its `forward` calls change.

use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::nn::{Dropout, PaddingConfig2d};
use burn::tensor::Tensor;
use burn::tensor::ops::{ConvOptions, MaxPoolOptions};

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
