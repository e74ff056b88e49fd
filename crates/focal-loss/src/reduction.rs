//! How per-sample losses are reduced to one number.

use burn::config::Config;
use burn::tensor::Tensor;

/// The reduction applied by a loss's `forward`.
///
/// Every loss also has a `forward_no_reduction` that returns the unreduced losses.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum Reduction {
    /// The mean over the samples that count (for the softmax losses: the non-ignored samples;
    /// for the multi-label losses: all elements).
    Mean,
    /// The sum of the losses.
    Sum,
}

/// Reduces `losses` (already zero where ignored) to shape `[1]`.
///
/// `denominator` is the number (or total weight) of the samples that count; `None` means every
/// element counts. A zero denominator (every sample ignored) gives 0 instead of NaN.
pub(crate) fn reduce<const D: usize>(
    losses: Tensor<D>,
    reduction: Reduction,
    denominator: Option<Tensor<1>>,
) -> Tensor<1> {
    match (reduction, denominator) {
        (Reduction::Sum, _) => losses.sum(),
        (Reduction::Mean, None) => losses.mean(),
        (Reduction::Mean, Some(den)) => {
            let zero = den.clone().equal_elem(0.0);
            losses.sum() / den.mask_fill(zero, 1.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn mean_sum_and_empty_denominator() {
        let device = Device::default();
        let losses = Tensor::<1>::from_floats([1.0, 2.0, 0.0, 5.0], &device);
        let value = |t: Tensor<1>| t.into_scalar::<f32>();
        assert_eq!(value(reduce(losses.clone(), Reduction::Sum, None)), 8.0);
        assert_eq!(value(reduce(losses.clone(), Reduction::Mean, None)), 2.0);
        let three = Tensor::<1>::from_floats([3.0], &device);
        assert!(
            (value(reduce(losses.clone(), Reduction::Mean, Some(three))) - 8.0 / 3.0).abs() < 1e-6
        );
        let zero = Tensor::<1>::from_floats([0.0], &device);
        let nothing = Tensor::<1>::zeros([4], &device);
        assert_eq!(value(reduce(nothing, Reduction::Mean, Some(zero))), 0.0);
    }
}
