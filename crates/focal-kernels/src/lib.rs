//! CPU kernels with hand-written backward passes for Burn 0.22's flex backend, added through
//! Burn's backend-extension mechanism.
//!
//! Burn's flex backend computes a convolution's gradients through generic fallbacks (the input
//! gradient as a transposed convolution, the weight gradient as a convolution with batch and
//! channels swapped) and max pooling through a general strided path. Measured against PyTorch on
//! the same cores (BENCHMARKS.md) these held the CNN's training step at 0.44x of PyTorch's speed.
//! Here each of them is one im2col + matrix product per group of images (the `gemm` kernels
//! burn-flex uses), or one pass over the planes, with rayon over groups.
//!
//! [`conv2d`] and [`max_pool2d`] take and return ordinary `Tensor`s. On a flex device (with or
//! without autodiff) and for `f32` they run these kernels, with the backward passes registered
//! in Burn's autodiff graph; on any other device or dtype, or for a grouped convolution, they
//! call Burn's own `conv2d` / `max_pool2d`, so a model written with them runs everywhere.
//!
//! ```
//! use burn::tensor::{Device, Tensor, ops::{ConvOptions, MaxPoolOptions}};
//!
//! let device = Device::flex().autodiff();
//! let x = Tensor::<4>::ones([2, 3, 8, 8], &device).require_grad();
//! let w = Tensor::<4>::ones([4, 3, 3, 3], &device).require_grad();
//! let y = focal_kernels::conv2d(x.clone(), w.clone(), None, ConvOptions::new([1, 1], [1, 1], [1, 1], 1));
//! let y = focal_kernels::max_pool2d(y, MaxPoolOptions::new([2, 2]).with_stride([2, 2]));
//! let grads = y.sum().backward();
//! assert_eq!(w.grad(&grads).unwrap().dims(), [4, 3, 3, 3]);
//! ```

mod autodiff;
mod conv;
mod gradient;
mod layers;
mod pool;

pub use layers::{conv2d_layer, max_pool2d_layer};

pub use conv::Conv2dSpec;
pub use pool::Pool2dSpec;

use burn::backend::flex::FlexTensor;
use burn::backend::{Backend, Dispatch, Flex, backend_extension, tensor::FloatTensor};
use burn::tensor::ops::{ConvOptions, MaxPoolOptions};
use burn::tensor::{DType, Device, Tensor, TensorData};

/// The operations, as a Burn backend extension: implemented for flex and for autodiff over
/// flex (with the backward passes).
#[backend_extension(Flex, Autodiff)]
pub trait FocalKernels: Backend {
    /// A 2-D convolution, groups = 1, no bias: `x [n, c, h, w]`, `weight [o, c, kh, kw]`.
    fn focal_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        spec: Conv2dSpec,
    ) -> FloatTensor<Self>;

    /// A 2-D max pooling, dilation 1, floor mode: `x [n, c, h, w]`.
    fn focal_max_pool2d(x: FloatTensor<Self>, spec: Pool2dSpec) -> FloatTensor<Self>;

    /// `value` (`[1]` or `[n]`), with `grad` (`[n, c]`) as its gradient with respect to
    /// `x` (`[n, c]`); see [`attach_gradient`].
    fn focal_attach_gradient(
        x: FloatTensor<Self>,
        value: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

/// The `f32` elements of a flex tensor in row-major order (a copy only when it is strided).
pub(crate) fn host(t: &FlexTensor) -> FlexTensor {
    t.to_contiguous()
}

pub(crate) fn values(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>()
        .expect("focal-kernels: an f32 tensor in contiguous layout")
}

pub(crate) fn dims4(t: &FlexTensor) -> [usize; 4] {
    let s = t.layout().shape();
    [s[0], s[1], s[2], s[3]]
}

pub(crate) fn tensor(values: Vec<f32>, shape: [usize; 4]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

pub(crate) fn conv_forward(x: &FlexTensor, w: &FlexTensor, spec: Conv2dSpec) -> FlexTensor {
    let (x, w) = (host(x), host(w));
    let g = conv::Geometry::new(dims4(&x), dims4(&w), spec);
    tensor(
        conv::forward(&g, values(&x), values(&w)),
        [g.n, g.o, g.ho, g.wo],
    )
}

impl FocalKernels for Flex {
    fn focal_conv2d(x: FlexTensor, weight: FlexTensor, spec: Conv2dSpec) -> FlexTensor {
        conv_forward(&x, &weight, spec)
    }

    fn focal_max_pool2d(x: FlexTensor, spec: Pool2dSpec) -> FlexTensor {
        let x = host(&x);
        let [n, c, h, w] = dims4(&x);
        let [ho, wo] = spec
            .output(h, w)
            .expect("max_pool2d: kernel larger than input");
        let (y, _) = pool::forward(values(&x), n * c, [h, w], &spec);
        tensor(y, [n, c, ho, wo])
    }

    fn focal_attach_gradient(_x: FlexTensor, value: FlexTensor, _grad: FlexTensor) -> FlexTensor {
        value
    }
}

/// Whether the kernels here compute an op on `x`: an `f32` tensor on a flex device.
fn applies(x: &Tensor<4>) -> bool {
    x.dtype() == DType::F32 && x.device().without_autodiff() == Device::flex()
}

/// A 2-D convolution, as `burn::tensor::module::conv2d`: `x [n, c, h, w]`,
/// `weight [o, c / groups, kh, kw]`, optional `bias [o]`.
pub fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: ConvOptions<2>,
) -> Tensor<4> {
    if options.groups != 1 || !applies(&x) || weight.dtype() != DType::F32 {
        return burn::tensor::module::conv2d(x, weight, bias, options);
    }
    let spec = Conv2dSpec {
        stride: options.stride,
        padding: options.padding,
        dilation: options.dilation,
    };
    let y =
        <Dispatch as FocalKernels>::focal_conv2d(x.into_dispatch(), weight.into_dispatch(), spec);
    let y = Tensor::<4>::from_dispatch(y);
    match bias {
        Some(b) => {
            let o = b.dims()[0];
            y + b.reshape([1, o, 1, 1])
        }
        None => y,
    }
}

/// A tensor equal to `value` whose gradient with respect to `x` (`[n, c]`) is `grad` (row-major
/// `[n, c]`): for a loss computed outside the graph together with its gradient in closed form
/// (the fused focal loss). `value` is `[1]` (a reduced loss: the incoming gradient scales `grad`)
/// or `[n]` (one loss per row: each row of `grad` is scaled by its own incoming gradient).
///
/// On flex this is one autodiff node whose backward pass returns `grad` itself when the incoming
/// gradient is 1 (as in `loss.backward()`), else one scaling pass. Elsewhere it is composed of
/// tensor ops with the same value and gradient: `value + sum(x * g) - sum(detach(x) * g)`.
///
/// # Panics
/// `grad` not of `x`'s size, or `value` neither `[1]` nor `[n]`.
pub fn attach_gradient(x: Tensor<2>, value: Tensor<1>, grad: Vec<f32>) -> Tensor<1> {
    let [n, c] = x.dims();
    assert_eq!(
        grad.len(),
        n * c,
        "attach_gradient: grad must be [{n}, {c}]"
    );
    let per_row = match value.dims()[0] {
        1 if n != 1 => false,
        len if len == n => true,
        len => panic!("attach_gradient: value must be [1] or [{n}], not [{len}]"),
    };
    let device = x.device();
    let g = Tensor::<2>::from_data(TensorData::new(grad, [n, c]), &device);
    if x.dtype() == DType::F32 && device.without_autodiff() == Device::flex() {
        return Tensor::<1>::from_dispatch(<Dispatch as FocalKernels>::focal_attach_gradient(
            x.into_dispatch(),
            value.into_dispatch(),
            g.into_dispatch(),
        ));
    }
    let fixed = x.clone().detach();
    if per_row {
        value + (x * g.clone()).sum_dim(1).reshape([n]) - (fixed * g).sum_dim(1).reshape([n])
    } else {
        value + (x * g.clone()).sum() - (fixed * g).sum()
    }
}

/// A 2-D max pooling, as `burn::tensor::module::max_pool2d`.
pub fn max_pool2d(x: Tensor<4>, options: MaxPoolOptions<2>) -> Tensor<4> {
    let [(pt, pb), (pl, pr)] = options.padding;
    let fits = pt == pb
        && pl == pr
        && pt * 2 <= options.kernel_size[0]
        && pl * 2 <= options.kernel_size[1];
    if !applies(&x) || !fits || options.dilation != [1, 1] || options.ceil_mode {
        return burn::tensor::module::max_pool2d(x, options);
    }
    let spec = Pool2dSpec {
        kernel: options.kernel_size,
        stride: options.stride,
        padding: [pt, pl],
    };
    Tensor::<4>::from_dispatch(<Dispatch as FocalKernels>::focal_max_pool2d(
        x.into_dispatch(),
        spec,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flex_f32_tensors_take_the_kernels_others_do_not() {
        let shape = [1, 1, 2, 2];
        assert!(applies(&Tensor::<4>::zeros(shape, &Device::flex())));
        assert!(applies(&Tensor::<4>::zeros(
            shape,
            &Device::flex().autodiff()
        )));
        let f64s = Tensor::<4>::zeros(shape, (&Device::flex(), DType::F64));
        assert!(!applies(&f64s));
    }
}
