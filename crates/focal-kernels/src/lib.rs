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
//! [`dropout`] (and [`dropout_layer`] for burn-nn's `Dropout`) draws its mask in parallel on flex
//! instead of element by element from one locked generator (see the `dropout` module).
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

pub mod allocator;
mod api;
mod autodiff;
mod buffer;
mod conv;
mod dropout;
mod extension;
mod gradient;
mod layers;
mod norm;
mod optim;
mod optimizer;
mod pool;

pub use api::{
    BatchNormOutput, attach_gradient, batch_norm_eval, batch_norm_train, conv2d, dropout,
    host_ints, host_values, max_pool2d,
};
pub use conv::Conv2dSpec;
pub use extension::{BatchNormSpec, FocalKernels, Host, HostElement, HostInts, HostValues};
pub use layers::{
    batch_norm_add_relu_layer, batch_norm_layer, batch_norm_relu_layer, conv2d_layer,
    dropout_layer, max_pool2d_layer,
};
pub use optim::{AdamStep, SgdStep};
pub use optimizer::{FusedAdam, FusedAdamConfig, FusedSgd, FusedSgdConfig, SgdState};
pub use pool::Pool2dSpec;
