//! The backend extension: the trait, its flex implementation (forward passes, no graph), and the
//! helpers that move between flex tensors and slices. The autodiff implementation is in
//! `autodiff.rs`.

use burn::backend::flex::FlexTensor;
use burn::backend::{
    Backend, Flex, backend_extension,
    tensor::{FloatTensor, IntTensor},
};
use burn::tensor::TensorData;

use crate::conv::{self, Conv2dSpec};
use crate::norm::{self, Dims};
use crate::optim::{self, AdamStep, SgdStep};
use crate::pool::{self, Pool2dSpec};

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

    /// Batch normalisation with the batch's own statistics, `relu?(bn(x) + residual?)`:
    /// `x [n, c, ...]`, `gamma` and `beta` `[c]`, `residual` of `x`'s shape. Returns the output,
    /// the batch mean and the biased batch variance (`[c]` each, outside the graph).
    fn focal_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        spec: BatchNormSpec,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

    /// [`Self::focal_batch_norm_train`] with a residual of `x`'s shape added before the ReLU.
    /// (The extension macro takes no optional tensors: two ops.)
    fn focal_batch_norm_add_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        residual: FloatTensor<Self>,
        spec: BatchNormSpec,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

    /// Batch normalisation with given statistics (inference), `relu?(bn(x))`.
    fn focal_batch_norm_eval(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        var: FloatTensor<Self>,
        spec: BatchNormSpec,
    ) -> FloatTensor<Self>;

    /// [`Self::focal_batch_norm_eval`] with a residual added before the ReLU.
    fn focal_batch_norm_add_eval(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        var: FloatTensor<Self>,
        residual: FloatTensor<Self>,
        spec: BatchNormSpec,
    ) -> FloatTensor<Self>;

    /// One Adam/AdamW step of one parameter (`f32`, any shape): `(param, moment 1, moment 2)`
    /// after it, written over the inputs' buffers where nothing else holds them.
    fn focal_adam_step(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        moment_1: FloatTensor<Self>,
        moment_2: FloatTensor<Self>,
        step: AdamStep,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

    /// The first Adam/AdamW step of one parameter (no moments yet).
    fn focal_adam_first_step(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        step: AdamStep,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

    /// One SGD step without momentum: the parameter after it.
    fn focal_sgd_plain_step(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        step: SgdStep,
    ) -> FloatTensor<Self>;

    /// The first SGD step with momentum: `(param, velocity)`.
    fn focal_sgd_first_step(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        step: SgdStep,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    /// One SGD step with momentum: `(param, velocity)`.
    fn focal_sgd_step(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        velocity: FloatTensor<Self>,
        step: SgdStep,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    /// A 2-D max pooling, dilation 1, floor mode: `x [n, c, h, w]`.
    fn focal_max_pool2d(x: FloatTensor<Self>, spec: Pool2dSpec) -> FloatTensor<Self>;

    /// `value` (`[1]` or `[n]`), with `grad` (`[n, c]`) as its gradient with respect to
    /// `x` (`[n, c]`); see [`crate::attach_gradient`].
    fn focal_attach_gradient(
        x: FloatTensor<Self>,
        value: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// The elements of an `f32` tensor, row-major, sharing its storage (a copy only when it is
    /// strided or a view); see [`crate::host_values`].
    fn focal_host_values(x: FloatTensor<Self>) -> HostValues;

    /// The elements of an `i32` or `i64` tensor, as [`Self::focal_host_values`]; see
    /// [`crate::host_ints`].
    fn focal_host_ints(x: IntTensor<Self>) -> HostInts;
}

/// The settings of a batch normalisation: epsilon, and whether ReLU follows (after the residual,
/// when one is added).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNormSpec {
    /// Added to the variance before its square root.
    pub epsilon: f64,
    /// Whether the output is `relu(bn(x) [+ residual])`.
    pub relu: bool,
}

/// The elements of a tensor in row-major order, readable on the host: on flex a shared
/// reference to the tensor's own storage (no copy), elsewhere a copy. Dereferences to `[T]`.
pub struct Host<T>(Repr<T>);

/// The elements of an `f32` tensor; see [`crate::host_values`].
pub type HostValues = Host<f32>;

/// The elements of an integer tensor, in the type it holds them in; see [`crate::host_ints`].
#[derive(Debug)]
pub enum HostInts {
    /// Flex's default integer type.
    I32(Host<i32>),
    /// `i64`, and every other integer type converted to it.
    I64(Host<i64>),
}

enum Repr<T> {
    /// A contiguous flex tensor whose elements are `T`.
    Shared(FlexTensor),
    Owned(Vec<T>),
}

/// The element types [`Host`] reads.
pub trait HostElement: Sized {
    /// `t`'s elements, when `t` is contiguous and holds this type.
    fn slice(t: &FlexTensor) -> Option<&[Self]>;
}

impl HostElement for f32 {
    fn slice(t: &FlexTensor) -> Option<&[f32]> {
        t.as_slice::<f32>()
    }
}

impl HostElement for i32 {
    fn slice(t: &FlexTensor) -> Option<&[i32]> {
        t.as_slice::<i32>()
    }
}

impl HostElement for i64 {
    fn slice(t: &FlexTensor) -> Option<&[i64]> {
        t.as_slice::<i64>()
    }
}

impl<T: HostElement> Host<T> {
    /// `t`'s elements, shared when it is contiguous, else copied into a contiguous tensor.
    ///
    /// # Panics
    /// `t`'s elements not of type `T` (the callers check the dtype).
    pub(crate) fn shared(t: &FlexTensor) -> Self {
        let t = host(t);
        assert!(
            T::slice(&t).is_some(),
            "focal-kernels: a {:?} tensor read as another type",
            t.dtype()
        ); // invariant: api.rs checks the dtype
        Self(Repr::Shared(t))
    }

    pub(crate) fn owned(v: Vec<T>) -> Self {
        Self(Repr::Owned(v))
    }
}

impl<T: HostElement> std::ops::Deref for Host<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match &self.0 {
            Repr::Shared(t) => T::slice(t).unwrap_or_default(), // checked in `shared`
            Repr::Owned(v) => v,
        }
    }
}

impl<T> std::fmt::Debug for Host<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = match &self.0 {
            Repr::Shared(t) => t.layout().num_elements(),
            Repr::Owned(v) => v.len(),
        };
        write!(f, "Host({len} elements)")
    }
}

/// The elements of `t`, an `i32` or `i64` tensor (the caller checks), shared.
pub(crate) fn host_ints(t: &FlexTensor) -> HostInts {
    if t.dtype() == burn::tensor::DType::I32 {
        HostInts::I32(Host::shared(t))
    } else {
        HostInts::I64(Host::shared(t))
    }
}

/// `t` in row-major layout (a copy only when it is strided or a view).
pub(crate) fn host(t: &FlexTensor) -> FlexTensor {
    t.to_contiguous()
}

/// The `f32` elements of a tensor that [`host`] made contiguous.
pub(crate) fn values(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>()
        .expect("focal-kernels: an f32 tensor in contiguous layout") // invariant: api.rs checks the dtype, host() the layout
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

/// The max pooling of `x` and, per output, the position of its maximum in its input plane.
pub(crate) fn pool_forward(x: &FlexTensor, spec: &Pool2dSpec) -> (FlexTensor, Vec<u32>) {
    let x = host(x);
    let [n, c, h, w] = dims4(&x);
    let (y, idx, [ho, wo]) = pool::forward(values(&x), n * c, [h, w], spec);
    (tensor(y, [n, c, ho, wo]), idx)
}

/// A flex tensor of `values` in `shape`.
pub(crate) fn tensor_of(values: Vec<f32>, shape: &[usize]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape.to_vec()))
}

/// The training forward pass on contiguous tensors: the output, and the mean, variance and
/// inverse standard deviation per channel.
pub(crate) fn bn_train_forward(
    x: &FlexTensor,
    gamma: &FlexTensor,
    beta: &FlexTensor,
    residual: Option<&FlexTensor>,
    spec: BatchNormSpec,
) -> (FlexTensor, norm::Stats) {
    let shape = x.layout().shape().clone();
    let d = Dims::of(&shape);
    let (y, stats) = norm::forward_train(
        values(x),
        residual.map(values),
        d,
        values(gamma),
        values(beta),
        spec.epsilon,
        spec.relu,
    );
    (tensor_of(y, &shape), stats)
}

pub(crate) fn bn_eval_forward(
    x: &FlexTensor,
    gamma: &FlexTensor,
    beta: &FlexTensor,
    mean: &FlexTensor,
    var: &FlexTensor,
    residual: Option<&FlexTensor>,
    spec: BatchNormSpec,
) -> FlexTensor {
    let (x, gamma, beta, mean, var) = (host(x), host(gamma), host(beta), host(mean), host(var));
    let residual = residual.map(host);
    let shape = x.layout().shape().clone();
    let invstd = norm::inv_std(values(&var), spec.epsilon);
    let y = norm::normalize(
        values(&x),
        residual.as_ref().map(values),
        Dims::of(&shape),
        values(&gamma),
        values(&beta),
        values(&mean),
        &invstd,
        spec.relu,
    );
    tensor_of(y, &shape)
}

/// The training forward pass on flex without autodiff: output, mean, variance.
fn flex_bn_train(
    x: &FlexTensor,
    gamma: &FlexTensor,
    beta: &FlexTensor,
    residual: Option<&FlexTensor>,
    spec: BatchNormSpec,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let (x, gamma, beta) = (host(x), host(gamma), host(beta));
    let residual = residual.map(host);
    let (y, t) = bn_train_forward(&x, &gamma, &beta, residual.as_ref(), spec);
    let c = t.mean.len();
    (y, tensor_of(t.mean, &[c]), tensor_of(t.var, &[c]))
}

/// `t` as a contiguous tensor that owns its whole buffer (copied when shared, strided, a view,
/// or a prefix of a larger buffer), so that it can be written in place.
pub(crate) fn owned(t: FlexTensor) -> FlexTensor {
    let n = t.layout().num_elements();
    let whole = t.layout().contiguous_offsets() == Some((0, n)) && t.bytes().len() == n * 4;
    let mut t = t;
    if whole && t.try_storage_mut::<f32>().is_some() {
        return t;
    }
    let shape = t.layout().shape().clone();
    let c = host(&t);
    drop(t);
    tensor_of(values(&c).to_vec(), &shape)
}

/// A new zeroed tensor of `t`'s shape.
fn zeros_like(t: &FlexTensor) -> FlexTensor {
    let shape = t.layout().shape().clone();
    tensor_of(vec![0.0; shape.num_elements()], &shape)
}

fn write(t: &mut FlexTensor) -> &mut [f32] {
    t.try_storage_mut::<f32>()
        .expect("focal-kernels: a tensor made unique by owned()") // invariant: owned() or a new tensor
}

pub(crate) fn adam_step(
    param: FlexTensor,
    grad: &FlexTensor,
    moments: Option<(FlexTensor, FlexTensor)>,
    step: AdamStep,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let mut p = owned(param);
    let g = host(grad);
    let first = moments.is_none();
    let (mut m1, mut m2) = match moments {
        Some((a, b)) => (owned(a), owned(b)),
        None => (zeros_like(&p), zeros_like(&p)),
    };
    optim::adam(
        &step,
        write(&mut p),
        values(&g),
        write(&mut m1),
        write(&mut m2),
        first,
    );
    (p, m1, m2)
}

pub(crate) fn sgd_step(
    param: FlexTensor,
    grad: &FlexTensor,
    velocity: Option<FlexTensor>,
    first: bool,
    step: SgdStep,
) -> (FlexTensor, Option<FlexTensor>) {
    let mut p = owned(param);
    let g = host(grad);
    let mut v = match velocity {
        Some(v) => Some(owned(v)),
        None if step.momentum.is_some() => Some(zeros_like(&p)),
        None => None,
    };
    optim::sgd(
        &step,
        write(&mut p),
        values(&g),
        v.as_mut().map(write),
        first,
    );
    (p, v)
}

impl FocalKernels for Flex {
    fn focal_adam_step(
        param: FlexTensor,
        grad: FlexTensor,
        moment_1: FlexTensor,
        moment_2: FlexTensor,
        step: AdamStep,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        adam_step(param, &grad, Some((moment_1, moment_2)), step)
    }

    fn focal_adam_first_step(
        param: FlexTensor,
        grad: FlexTensor,
        step: AdamStep,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        adam_step(param, &grad, None, step)
    }

    fn focal_sgd_plain_step(param: FlexTensor, grad: FlexTensor, step: SgdStep) -> FlexTensor {
        sgd_step(
            param,
            &grad,
            None,
            true,
            SgdStep {
                momentum: None,
                ..step
            },
        )
        .0
    }

    fn focal_sgd_first_step(
        param: FlexTensor,
        grad: FlexTensor,
        step: SgdStep,
    ) -> (FlexTensor, FlexTensor) {
        let (p, v) = sgd_step(param, &grad, None, true, step);
        let v = v.expect("focal_sgd_first_step: a step with momentum"); // invariant: optim.rs calls it with momentum only
        (p, v)
    }

    fn focal_sgd_step(
        param: FlexTensor,
        grad: FlexTensor,
        velocity: FlexTensor,
        step: SgdStep,
    ) -> (FlexTensor, FlexTensor) {
        let (p, v) = sgd_step(param, &grad, Some(velocity), false, step);
        let v = v.expect("focal_sgd_step: a velocity given"); // invariant: Some in, Some out
        (p, v)
    }

    fn focal_batch_norm_train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        spec: BatchNormSpec,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        flex_bn_train(&x, &gamma, &beta, None, spec)
    }

    fn focal_batch_norm_add_train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        residual: FlexTensor,
        spec: BatchNormSpec,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        flex_bn_train(&x, &gamma, &beta, Some(&residual), spec)
    }

    fn focal_batch_norm_eval(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        mean: FlexTensor,
        var: FlexTensor,
        spec: BatchNormSpec,
    ) -> FlexTensor {
        bn_eval_forward(&x, &gamma, &beta, &mean, &var, None, spec)
    }

    fn focal_batch_norm_add_eval(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        mean: FlexTensor,
        var: FlexTensor,
        residual: FlexTensor,
        spec: BatchNormSpec,
    ) -> FlexTensor {
        bn_eval_forward(&x, &gamma, &beta, &mean, &var, Some(&residual), spec)
    }

    fn focal_conv2d(x: FlexTensor, weight: FlexTensor, spec: Conv2dSpec) -> FlexTensor {
        conv_forward(&x, &weight, spec)
    }

    fn focal_max_pool2d(x: FlexTensor, spec: Pool2dSpec) -> FlexTensor {
        pool_forward(&x, &spec).0
    }

    fn focal_attach_gradient(_x: FlexTensor, value: FlexTensor, _grad: FlexTensor) -> FlexTensor {
        value
    }

    fn focal_host_values(x: FlexTensor) -> HostValues {
        HostValues::shared(&x)
    }

    fn focal_host_ints(x: FlexTensor) -> HostInts {
        host_ints(&x)
    }
}
