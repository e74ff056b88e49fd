//! The RetinaNet prior-probability initialisation of the classifier's bias.
//!
//! Lin et al. 2017, section 4.1: at the start of training every class should predict a small
//! probability `pi` (0.01 in the paper), so that the many easy negatives do not swamp the first
//! updates. With a zero-initialised or small weight, that is the bias
//!
//! ```text
//! b = -log((1 - pi) / pi)      sigmoid(b) = pi
//! ```
//!
//! ```
//! use burn::nn::LinearConfig;
//! use burn::tensor::Device;
//! use focal_loss::init::{prior_bias, with_prior_bias};
//!
//! let device = Device::default();
//! assert!((prior_bias(0.01).unwrap() + 4.59512).abs() < 1e-4);
//! let head = with_prior_bias(LinearConfig::new(16, 3).init(&device), 0.01).unwrap();
//! ```

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::Tensor;

use crate::error::FocalLossError;

/// The bias `-log((1 - pi) / pi)` whose sigmoid is the prior `pi`.
///
/// For a softmax head over `C` classes, the bias that gives the rare classes probability `pi`
/// each is not this one; use it with sigmoid (one-vs-all) heads, as RetinaNet does.
///
/// # Errors
///
/// `prior` outside the open interval `(0, 1)`.
pub fn prior_bias(prior: f64) -> Result<f32, FocalLossError> {
    if !(prior > 0.0 && prior < 1.0) {
        return Err(FocalLossError::OutOfRange {
            name: "prior",
            value: prior,
            range: "(0, 1) (0.01 in the paper)",
        });
    }
    Ok((-((1.0 - prior) / prior).ln()) as f32)
}

/// Returns `linear` with every bias entry set to [`prior_bias`]`(prior)` (a bias is added when
/// the layer has none). The weights are left as they are.
///
/// # Errors
///
/// As [`prior_bias`].
pub fn with_prior_bias(mut linear: Linear, prior: f64) -> Result<Linear, FocalLossError> {
    let b = prior_bias(prior)?;
    let device = linear.weight.val().device();
    let d_output = linear.weight.val().dims()[1];
    linear.bias = Some(Param::from_tensor(Tensor::<1>::full(
        [d_output],
        b,
        &device,
    )));
    Ok(linear)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::LinearConfig;
    use burn::tensor::Device;

    #[test]
    fn prior_bias_inverts_the_sigmoid() {
        for pi in [0.01f64, 0.1, 0.5, 0.9] {
            let b = prior_bias(pi).unwrap() as f64;
            assert!((1.0 / (1.0 + (-b).exp()) - pi).abs() < 1e-7, "pi {pi}");
        }
        for bad in [0.0, 1.0, -0.1, f64::NAN] {
            assert!(prior_bias(bad).is_err(), "{bad}");
        }
        let msg = prior_bias(1.5).unwrap_err().to_string();
        assert!(msg.contains("prior is 1.5"), "{msg}");
    }

    #[test]
    fn with_prior_bias_sets_every_output_and_adds_a_missing_bias() {
        let device = Device::default();
        let linear = LinearConfig::new(4, 3).with_bias(false).init(&device);
        let linear = with_prior_bias(linear, 0.01).unwrap();
        let bias = linear.bias.expect("a bias was added").val();
        let got: Vec<f32> = bias.into_data().iter::<f32>().collect();
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|&b| (b + 4.59512).abs() < 1e-4), "{got:?}");
    }
}
