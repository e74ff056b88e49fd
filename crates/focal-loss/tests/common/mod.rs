//! Helpers shared by the integration tests.
#![allow(dead_code)]

use burn::tensor::{Device, Int, Tensor, TensorData};

/// The autodiff CPU device the tests run on.
pub fn device() -> Device {
    Device::default().autodiff()
}

/// A `[rows, cols]` float tensor from nested rows.
pub fn matrix(rows: &[Vec<f64>], device: &Device) -> Tensor<2> {
    let n = rows.len();
    let c = rows.first().map_or(0, Vec::len);
    let flat: Vec<f32> = rows.iter().flatten().map(|&v| v as f32).collect();
    Tensor::<2>::from_data(TensorData::new(flat, [n, c]), device)
}

/// A `[n]` int tensor.
pub fn ints(values: &[i64], device: &Device) -> Tensor<1, Int> {
    Tensor::<1, Int>::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
}

/// The values of a tensor as f64, row-major.
pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().iter::<f64>().collect()
}

/// Largest `|got - want| / max(1, |want|)` (absolute below 1, relative above).
pub fn mixed_error(got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len(), "length mismatch");
    got.iter()
        .zip(want)
        .map(|(g, w)| {
            if g.is_nan() || w.is_nan() {
                if g.is_nan() && w.is_nan() {
                    0.0
                } else {
                    f64::INFINITY
                }
            } else {
                (g - w).abs() / w.abs().max(1.0)
            }
        })
        .fold(0.0, f64::max)
}

/// Runs `loss` on `logits` (tracked) and returns (loss values, d sum(loss) / d logits).
pub fn value_and_grad<const D: usize>(
    logits: Tensor<2>,
    loss: impl FnOnce(Tensor<2>) -> Tensor<D>,
) -> (Vec<f64>, Vec<f64>) {
    let x = logits.require_grad();
    let out = loss(x.clone());
    let grads = out.clone().sum().backward();
    let g = x
        .grad(&grads)
        .expect("logits are tracked, so they have a gradient");
    (values(out), values(g))
}
