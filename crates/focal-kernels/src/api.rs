//! The functions on `Tensor`s: the kernels on flex, Burn's own ops elsewhere.

use burn::backend::Dispatch;
use burn::tensor::ops::{ConvOptions, MaxPoolOptions};
use burn::tensor::{DType, Device, Distribution, Int, Tensor, TensorData};

use crate::conv::Conv2dSpec;
use crate::extension::{BatchNormSpec, FocalKernels, Host, HostInts, HostValues};
use crate::pool::Pool2dSpec;

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

/// Whether the kernels here compute a batch norm of `x` with parameters `params`: all `f32`
/// on a flex device, `x` of rank 2 or more.
fn norm_applies<const D: usize>(x: &Tensor<D>, params: &[&Tensor<1>]) -> bool {
    D >= 2
        && x.dtype() == DType::F32
        && x.device().without_autodiff() == Device::flex()
        && params.iter().all(|p| p.dtype() == DType::F32)
}

/// `relu?(y + residual?)`, with Burn's ops: the fallback's fused tail.
fn add_relu<const D: usize>(y: Tensor<D>, residual: Option<Tensor<D>>, relu: bool) -> Tensor<D> {
    let y = match residual {
        Some(r) => y + r,
        None => y,
    };
    if relu {
        burn::tensor::activation::relu(y)
    } else {
        y
    }
}

/// Batch normalisation with the batch's own statistics, as
/// `burn::tensor::module::batch_norm_train`, optionally followed by adding `residual` and by
/// ReLU (`spec.relu`): `relu(bn(x) + residual)` is one op, a ResNet block's end. `x` is
/// `[n, c, ...]`, `gamma` and `beta` are `[c]`.
///
/// Returns the output and the batch mean and biased variance (`[c]`, detached), which a layer
/// folds into its running statistics (see [`crate::batch_norm_layer`]). On flex, for `f32`, it
/// is the kernel of `norm.rs` (statistics in one read of `x`, one pass to write the output; the
/// backward pass one read for the per-channel sums and one pass for the input's gradient);
/// elsewhere Burn's `batch_norm_train`, add and `relu`.
pub fn batch_norm_train<const D: usize>(
    x: Tensor<D>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    residual: Option<Tensor<D>>,
    spec: BatchNormSpec,
) -> BatchNormOutput<D> {
    let fits = residual
        .as_ref()
        .is_none_or(|r| r.dtype() == DType::F32 && r.dims() == x.dims());
    if !fits || !norm_applies(&x, &[&gamma, &beta]) {
        let out = burn::tensor::module::batch_norm_train(x, gamma, beta, spec.epsilon);
        return BatchNormOutput {
            output: add_relu(out.output, residual, spec.relu),
            mean: out.mean,
            variance: out.variance,
        };
    }
    let (x, gamma, beta) = (
        x.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
    );
    let (y, mean, var) = match residual {
        Some(r) => <Dispatch as FocalKernels>::focal_batch_norm_add_train(
            x,
            gamma,
            beta,
            r.into_dispatch(),
            spec,
        ),
        None => <Dispatch as FocalKernels>::focal_batch_norm_train(x, gamma, beta, spec),
    };
    BatchNormOutput {
        output: Tensor::from_dispatch(y),
        mean: Tensor::from_dispatch(mean),
        variance: Tensor::from_dispatch(var),
    }
}

/// What [`batch_norm_train`] returns.
#[derive(Debug)]
pub struct BatchNormOutput<const D: usize> {
    /// `relu?(bn(x) + residual?)`, of `x`'s shape.
    pub output: Tensor<D>,
    /// The batch mean per channel, `[c]`, outside the graph.
    pub mean: Tensor<1>,
    /// The biased batch variance per channel, `[c]`, outside the graph.
    pub variance: Tensor<1>,
}

/// Batch normalisation with given statistics (inference), as `burn::tensor::module::batch_norm`,
/// optionally followed by adding `residual` and ReLU, in one pass on flex without autodiff;
/// Burn's ops elsewhere (and on the autodiff device, where an input may be tracked).
pub fn batch_norm_eval<const D: usize>(
    x: Tensor<D>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    (mean, variance): (Tensor<1>, Tensor<1>),
    residual: Option<Tensor<D>>,
    spec: BatchNormSpec,
) -> Tensor<D> {
    let fits = residual
        .as_ref()
        .is_none_or(|r| r.dtype() == DType::F32 && r.dims() == x.dims());
    if !fits || x.device().is_autodiff() || !norm_applies(&x, &[&gamma, &beta, &mean, &variance]) {
        let y = burn::tensor::module::batch_norm(x, gamma, beta, mean, variance, spec.epsilon);
        return add_relu(y, residual, spec.relu);
    }
    let (x, gamma, beta) = (
        x.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
    );
    let (mean, var) = (mean.into_dispatch(), variance.into_dispatch());
    Tensor::from_dispatch(match residual {
        Some(r) => <Dispatch as FocalKernels>::focal_batch_norm_add_eval(
            x,
            gamma,
            beta,
            mean,
            var,
            r.into_dispatch(),
            spec,
        ),
        None => <Dispatch as FocalKernels>::focal_batch_norm_eval(x, gamma, beta, mean, var, spec),
    })
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

/// The elements of `x` in row-major order, readable on the host. On flex, for `f32`, this
/// shares the tensor's storage (no copy unless `x` is strided or a view); elsewhere it reads the
/// tensor back (`into_data`) and converts to `f32`. For kernels that read a tensor computed by
/// the graph, such as the fused losses' logits.
pub fn host_values<const D: usize>(x: &Tensor<D>) -> HostValues {
    if x.dtype() == DType::F32 && x.device().without_autodiff() == Device::flex() {
        return <Dispatch as FocalKernels>::focal_host_values(x.clone().into_dispatch());
    }
    HostValues::owned(
        x.clone()
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("converted to f32 above"), // invariant
    )
}

/// The elements of an integer tensor (class targets) in row-major order, readable on the host:
/// on flex, for `i32` (flex's default) and `i64`, sharing the tensor's storage (no copy, even
/// when other handles to the tensor exist); elsewhere read back and converted to `i64`.
pub fn host_ints<const D: usize>(x: &Tensor<D, Int>) -> HostInts {
    if matches!(x.dtype(), DType::I32 | DType::I64)
        && x.device().without_autodiff() == Device::flex()
    {
        return <Dispatch as FocalKernels>::focal_host_ints(x.clone().into_dispatch());
    }
    HostInts::I64(Host::owned(
        x.clone()
            .into_data()
            .convert::<i64>()
            .try_into_vec::<i64>()
            .expect("converted to i64 above"), // invariant
    ))
}

/// Dropout as `burn::nn::Dropout` applies it in training: each element kept with probability
/// `1 - prob` and scaled by `1 / (1 - prob)`, else zeroed. On flex, for `f32`, the mask comes
/// from [`crate::dropout::mask`] (drawn in parallel, seeded by one draw from the device's
/// generator); elsewhere from Burn's Bernoulli draw, as `Dropout::forward`. Either way the
/// gradient is the incoming one times the mask.
///
/// # Panics
/// `prob` not in `[0, 1)`.
pub fn dropout<const D: usize>(x: Tensor<D>, prob: f64) -> Tensor<D> {
    assert!(
        (0.0..1.0).contains(&prob),
        "dropout: prob must be in [0, 1), not {prob}"
    );
    let keep = 1.0 - prob;
    let device = x.device();
    if x.dtype() != DType::F32 || device.clone().without_autodiff() != Device::flex() {
        let random = x.random_like(Distribution::Bernoulli(keep));
        return x * random * (1.0 / keep);
    }
    // Four uniform draws (about 24 random bits each) folded into the mask's 64-bit seed.
    let draws = Tensor::<1>::random(
        [4],
        Distribution::Default,
        &device.clone().without_autodiff(),
    )
    .into_data()
    .convert::<f32>()
    .try_into_vec::<f32>()
    .expect("converted to f32 above"); // invariant
    let seed = draws
        .iter()
        .fold(0u64, |acc, v| acc.rotate_left(23) ^ u64::from(v.to_bits()));
    let shape = x.shape();
    let mask = crate::dropout::mask(seed, keep, shape.num_elements());
    x * Tensor::<D>::from_data(TensorData::new(mask, shape), &device)
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

    fn values<const D: usize>(x: Tensor<D>) -> Vec<f32> {
        x.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
    }

    /// On flex the mask follows the device's seed, holds 0 or 1 / keep, keeps about the share
    /// asked for, and is the gradient; an `f64` tensor takes Burn's own draw, with the same
    /// rule.
    #[test]
    fn dropout_follows_the_device_seed_and_its_mask_is_the_gradient() {
        let device = Device::flex().autodiff();
        let x = Tensor::<2>::ones([64, 300], &device).require_grad();
        device.seed(5);
        let a = dropout(x.clone(), 0.25);
        let again = dropout(x.clone(), 0.25);
        device.seed(5);
        let b = dropout(x.clone(), 0.25);
        let mask = values(a.clone());
        assert_eq!(mask, values(b));
        assert_ne!(mask, values(again));
        let scale = (1.0f64 / 0.75) as f32;
        assert!(mask.iter().all(|&v| v == 0.0 || v == scale));
        let kept = mask.iter().filter(|&&v| v != 0.0).count() as f64 / mask.len() as f64;
        assert!((kept - 0.75).abs() < 0.02, "kept {kept}");
        let grads = a.sum().backward();
        assert_eq!(values(x.grad(&grads).unwrap()), mask);

        let wide = Tensor::<2>::ones([64, 300], (&device, DType::F64));
        let out = values(dropout(wide, 0.25));
        assert!(out.iter().all(|&v| v == 0.0 || (v - scale).abs() < 1e-6));
        assert!(out.contains(&0.0) && out.iter().any(|&v| v != 0.0));
    }

    /// The values, the address of the first, and the type of what `host_ints` gave.
    fn read(h: &HostInts) -> (Vec<i64>, usize, DType) {
        match h {
            HostInts::I32(t) => (
                t.iter().map(|&v| i64::from(v)).collect(),
                t.as_ptr() as usize,
                DType::I32,
            ),
            HostInts::I64(t) => (t.to_vec(), t.as_ptr() as usize, DType::I64),
        }
    }

    /// Targets are read in the integer type they hold, from the tensor's own storage on flex
    /// (two reads of one tensor, through two handles, see the same memory), and converted to
    /// `i64` for other types (each read a vector of its own).
    #[test]
    fn integer_targets_are_read_in_place_in_their_own_type() {
        let values = vec![3i64, 0, 1, 2, 1];
        for device in [Device::flex(), Device::flex().autodiff()] {
            for (dtype, read_as) in [
                (DType::I32, DType::I32),
                (DType::I64, DType::I64),
                (DType::I16, DType::I64),
            ] {
                let x = Tensor::<1, Int>::from_data(
                    TensorData::new(values.clone(), [5]),
                    (&device, dtype),
                );
                let (a, b) = (host_ints(&x), host_ints(&x.clone()));
                let ((got, first, ty), (_, again, _)) = (read(&a), read(&b));
                assert_eq!((got, ty), (values.clone(), read_as), "{dtype:?}");
                assert_eq!(first == again, dtype == read_as, "{dtype:?}: shared");
            }
            // A view (every other element) is made contiguous first.
            let x = Tensor::<1, Int>::from_data(
                TensorData::new(values.clone(), [5]),
                (&device, DType::I32),
            );
            let view = x.slice(burn::tensor::s![0..5;2]);
            let (got, _, ty) = read(&host_ints(&view));
            assert_eq!((got, ty), (vec![3, 1, 1], DType::I32));
        }
    }
}
