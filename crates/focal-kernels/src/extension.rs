//! The backend extension: the trait, its flex implementation (forward passes, no graph), and the
//! helpers that move between flex tensors and slices. The autodiff implementation is in
//! `autodiff.rs`.

use burn::backend::flex::FlexTensor;
use burn::backend::{Backend, Flex, backend_extension, tensor::FloatTensor};
use burn::tensor::TensorData;

use crate::conv::{self, Conv2dSpec};
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
}

/// The elements of an `f32` tensor in row-major order, readable on the host: on flex a shared
/// reference to the tensor's own storage (no copy), elsewhere a copy. Dereferences to `[f32]`.
pub struct HostValues(Repr);

enum Repr {
    Shared(FlexTensor),
    Owned(Vec<f32>),
}

impl HostValues {
    pub(crate) fn shared(t: &FlexTensor) -> Self {
        Self(Repr::Shared(host(t)))
    }

    pub(crate) fn owned(v: Vec<f32>) -> Self {
        Self(Repr::Owned(v))
    }
}

impl std::ops::Deref for HostValues {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        match &self.0 {
            Repr::Shared(t) => values(t),
            Repr::Owned(v) => v,
        }
    }
}

impl std::fmt::Debug for HostValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HostValues({} elements)", self.len())
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

impl FocalKernels for Flex {
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
}
