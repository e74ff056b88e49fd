//! NumPy's summation order, so that averages agree with scikit-learn to the last bit.
//!
//! `numpy.sum` over a contiguous float64 array uses pairwise summation with blocks of 128 and an
//! eight-way unrolled inner loop (`pairwise_sum` in `numpy/_core/src/umath/loops_utils.h.src`).
//! Reproducing that order makes `macro avg`, `weighted avg`, average precision and ROC AUC
//! bit-identical in the common case, which matters for the text report: a value that rounds at
//! the last printed digit must round the same way as in Python.

const BLOCK: usize = 128;

/// Sums `term(0) + ... + term(n - 1)` in the order `numpy.sum` uses.
pub(crate) fn pairwise_sum_by(n: usize, term: &impl Fn(usize) -> f64) -> f64 {
    pairwise(0, n, term)
}

/// Sums a slice in the order `numpy.sum` uses.
pub(crate) fn pairwise_sum(values: &[f64]) -> f64 {
    pairwise_sum_by(values.len(), &|i| values[i])
}

fn pairwise(start: usize, n: usize, term: &impl Fn(usize) -> f64) -> f64 {
    if n < 8 {
        // NumPy starts this branch from -0.0 (so that an all -0.0 sum stays -0.0).
        let mut res = -0.0;
        for i in 0..n {
            res += term(start + i);
        }
        res
    } else if n <= BLOCK {
        let mut r = [0.0f64; 8];
        for (j, slot) in r.iter_mut().enumerate() {
            *slot = term(start + j);
        }
        let mut i = 8;
        while i < n - (n % 8) {
            for (j, slot) in r.iter_mut().enumerate() {
                *slot += term(start + i + j);
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += term(start + i);
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise(start, n2, term) + pairwise(start + n2, n - n2, term)
    }
}

/// `numpy.mean` of a slice (NaN if empty).
pub(crate) fn mean(values: &[f64]) -> f64 {
    pairwise_sum(values) / values.len() as f64
}

/// `numpy.average(values, weights=weights)`: `sum(values * weights) / sum(weights)`.
pub(crate) fn weighted_average(values: &[f64], weights: &[f64]) -> f64 {
    let num = pairwise_sum_by(values.len(), &|i| values[i] * weights[i]);
    num / pairwise_sum(weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_plain_sum_on_exact_values() {
        // Integers below 2^53 sum exactly in any order, so every branch must give n(n-1)/2.
        for n in [0usize, 1, 7, 8, 9, 127, 128, 129, 1000, 4097] {
            let v: Vec<f64> = (0..n).map(|i| i as f64).collect();
            assert_eq!(
                pairwise_sum(&v),
                (n * n.saturating_sub(1) / 2) as f64,
                "n = {n}"
            );
        }
    }

    #[test]
    fn order_differs_from_sequential_like_numpy() {
        // numpy 2.4: np.sum(np.array([1e16] + [1.0] * 15)) == 1.0000000000000014e16 (the eight
        // accumulators keep seven pairs of ones together; only the one added to 1e16 is lost),
        // whereas a left-to-right loop loses every one and gives 1e16.
        let mut v = vec![1e16];
        v.extend(std::iter::repeat_n(1.0, 15));
        let sequential: f64 = v.iter().sum();
        assert_eq!(sequential, 1e16);
        assert_eq!(pairwise_sum(&v), 1.0000000000000014e16);
    }
}
