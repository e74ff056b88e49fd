//! Seeded bootstrap confidence intervals for a binary task's F1 and average precision.
//!
//! A bootstrap resample draws `n` sample indices uniformly with replacement; the statistic is
//! recomputed on every resample, and the 95% percentile interval is the 2.5th and 97.5th
//! percentiles of the resampled values (numpy's default `'linear'` interpolation). The estimate
//! is the statistic on the full sample.
//!
//! The scores are sorted once, in [`Bootstrap::new`]. A resample is then just a multiplicity per
//! sample, and its statistics are weighted sums over the pre-sorted order in O(n): F1 from the
//! weighted true positive, false positive and false negative counts, average precision from the
//! weighted cumulative counts at each distinct score (tied scores form one step, as in
//! scikit-learn). On integer multiplicities both equal scikit-learn's `f1_score` and
//! `average_precision_score` on the data with every sample repeated that many times.
//!
//! - A resample that draws no positive sample has no average precision; it is skipped, and
//!   [`BinaryIntervals::skipped_without_positive`] says how many were (never counted as 0).
//! - F1 follows scikit-learn's `zero_division=0`: a resample with no true positive, no false
//!   positive and no false negative has F1 0.
//! - The same inputs and seed give bit-identical intervals (ChaCha8 seeded with
//!   `seed_from_u64`, indices from `rand`'s portable `Uniform<usize>`), on every platform, for a
//!   given version of `rand`.
//!
//! ```
//! use focal_metrics::bootstrap::{DEFAULT_RESAMPLES, binary_intervals};
//! let y_true = [false, false, true, true, false, true, false, false];
//! let scores = [0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.6, 0.05];
//! let y_pred: Vec<bool> = scores.iter().map(|&s| s >= 0.5).collect();
//! let ci = binary_intervals(&y_true, &scores, &y_pred, DEFAULT_RESAMPLES, 42)?;
//! assert!(ci.f1.low <= ci.f1.estimate && ci.f1.estimate <= ci.f1.high);
//! assert_eq!(ci.f1.resamples, 1000);
//! assert_eq!(ci.average_precision.resamples, 1000 - ci.skipped_without_positive);
//! # Ok::<(), focal_metrics::MetricsError>(())
//! ```

use rand::SeedableRng;
use rand::distr::{Distribution, Uniform};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result};
use crate::ranking::{self, average_precision_of_counts};

/// Resamples drawn when the caller has no reason to choose: 1000.
pub const DEFAULT_RESAMPLES: usize = 1000;

/// Lower percentile of the 95% interval.
pub const LOW_PERCENTILE: f64 = 2.5;

/// Upper percentile of the 95% interval.
pub const HIGH_PERCENTILE: f64 = 97.5;

/// A bootstrap percentile interval around a statistic.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// The statistic on the full sample.
    pub estimate: f64,
    /// 2.5th percentile of the resampled statistics.
    pub low: f64,
    /// 97.5th percentile of the resampled statistics.
    pub high: f64,
    /// Number of resampled statistics the bounds come from.
    pub resamples: usize,
}

/// 95% bootstrap intervals for F1 (of the positive class) and average precision.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BinaryIntervals {
    /// F1 of the positive class at the given predictions (`zero_division=0`); every resample
    /// counts.
    pub f1: Interval,
    /// Average precision (`average_precision_score`); resamples without a positive are left
    /// out.
    pub average_precision: Interval,
    /// Resamples drawn.
    pub resamples: usize,
    /// Seed of the resampling.
    pub seed: u64,
    /// Resamples that drew no positive sample, where average precision is undefined:
    /// `average_precision.resamples == resamples - skipped_without_positive`.
    pub skipped_without_positive: usize,
}

/// A binary task's labels, scores and predictions, sorted once, ready to be resampled.
#[derive(Debug, Clone, PartialEq)]
pub struct Bootstrap {
    /// Per sample, in input order: `group << 2 | y_true << 1 | y_pred`, where `group` numbers
    /// the distinct scores from the highest (0) down.
    cells: Vec<u64>,
    n_groups: usize,
}

/// Per-resample buffers, reused across resamples.
#[derive(Debug, Default)]
struct Scratch {
    /// Weight per `(group, y_true, y_pred)`, at index `group << 2 | y_true << 1 | y_pred`
    /// (the sample's cell). The confusion counts are summed from it afterwards rather than
    /// counted per draw: four counters hit by every draw would serialize the draws.
    weights: Vec<u64>,
    /// Cumulative weighted true positives at each non-empty group (input to the AP formula);
    /// the first `len` entries are this resample's.
    tps: Vec<u64>,
    /// Cumulative weighted false positives at each non-empty group.
    fps: Vec<u64>,
}

impl Scratch {
    /// Empties the resample.
    fn reset(&mut self, n_groups: usize) {
        self.weights.clear();
        self.weights.resize(4 * n_groups, 0);
        self.tps.resize(n_groups, 0);
        self.fps.resize(n_groups, 0);
    }

    /// Adds `multiplicity` copies of the sample with this cell to the resample.
    #[inline]
    fn add(&mut self, cell: u64, multiplicity: u64) {
        self.weights[cell as usize] += multiplicity;
    }
}

/// The statistics of one resample.
struct Stats {
    f1: f64,
    /// `None` when the resample holds no positive sample.
    average_precision: Option<f64>,
}

impl Bootstrap {
    /// Checks the inputs and sorts the scores (descending; equal scores, `-0.0` and `0.0`
    /// included, form one group, as in scikit-learn).
    ///
    /// # Errors
    /// [`MetricsError::LengthMismatch`] when `scores` or `y_pred` is not as long as `y_true`,
    /// [`MetricsError::Empty`], [`MetricsError::NonFinite`] for a NaN or infinite score, and
    /// [`MetricsError::SingleClass`] unless `y_true` holds both classes (with no positive the
    /// average precision is undefined; with no negative it is 1 on every resample, an interval
    /// that says nothing).
    pub fn new(y_true: &[bool], scores: &[f64], y_pred: &[bool]) -> Result<Self> {
        for other in [scores.len(), y_pred.len()] {
            if other != y_true.len() {
                return Err(MetricsError::LengthMismatch {
                    y_true: y_true.len(),
                    y_pred: other,
                });
            }
        }
        if y_true.is_empty() {
            return Err(MetricsError::Empty);
        }
        if let Some(index) = scores.iter().position(|s| !s.is_finite()) {
            return Err(MetricsError::NonFinite {
                index,
                value: scores[index],
            });
        }
        let positives = y_true.iter().filter(|&&y| y).count();
        let negatives = y_true.len() - positives;
        if positives == 0 || negatives == 0 {
            return Err(MetricsError::SingleClass {
                positives,
                negatives,
            });
        }

        // The one sort: ascending order of the inverted key is descending order of the score.
        let keys: Vec<u64> = scores.iter().map(|&s| !ranking::sortable_key(s)).collect();
        let mut order: Vec<usize> = (0..scores.len()).collect();
        order.sort_unstable_by_key(|&i| keys[i]);

        let mut cells = vec![0u64; scores.len()];
        let mut group = 0u64;
        for (rank, &i) in order.iter().enumerate() {
            if rank > 0 && keys[i] != keys[order[rank - 1]] {
                group += 1;
            }
            cells[i] = group << 2 | u64::from(y_true[i]) << 1 | u64::from(y_pred[i]);
        }
        Ok(Self {
            cells,
            n_groups: group as usize + 1,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Always false: [`Bootstrap::new`] rejects empty inputs.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// F1 of the positive class on the full sample (`f1_score`, `zero_division=0`).
    pub fn f1(&self) -> f64 {
        self.full_sample().f1
    }

    /// Average precision on the full sample, identical to
    /// [`BinaryCurve::average_precision`](crate::ranking::BinaryCurve::average_precision).
    pub fn average_precision(&self) -> f64 {
        self.full_sample()
            .average_precision
            .expect("Bootstrap::new requires a positive sample")
    }

    fn full_sample(&self) -> Stats {
        let mut s = Scratch::default();
        s.reset(self.n_groups);
        for &cell in &self.cells {
            s.add(cell, 1);
        }
        self.stats(&mut s)
    }

    /// F1 of the positive class on a resample where sample `i` occurs `counts[i]` times
    /// (`f1_score` on the repeated data, `zero_division=0`).
    ///
    /// # Errors
    /// [`MetricsError::LengthMismatch`] unless there is one count per sample.
    pub fn f1_with_counts(&self, counts: &[u32]) -> Result<f64> {
        Ok(self.stats_with_counts(counts)?.f1)
    }

    /// Average precision on a resample where sample `i` occurs `counts[i]` times
    /// (`average_precision_score` on the repeated data), computed over the pre-sorted order in
    /// O(n); `None` when the resample holds no positive sample.
    ///
    /// # Errors
    /// [`MetricsError::LengthMismatch`] unless there is one count per sample.
    pub fn average_precision_with_counts(&self, counts: &[u32]) -> Result<Option<f64>> {
        Ok(self.stats_with_counts(counts)?.average_precision)
    }

    fn stats_with_counts(&self, counts: &[u32]) -> Result<Stats> {
        if counts.len() != self.cells.len() {
            return Err(MetricsError::LengthMismatch {
                y_true: self.cells.len(),
                y_pred: counts.len(),
            });
        }
        let mut s = Scratch::default();
        s.reset(self.n_groups);
        for (&cell, &m) in self.cells.iter().zip(counts) {
            s.add(cell, u64::from(m));
        }
        Ok(self.stats(&mut s))
    }

    /// 95% percentile intervals from `resamples` bootstrap resamples drawn with `seed`.
    ///
    /// # Errors
    /// [`MetricsError::InvalidParameter`] for `resamples == 0`, and
    /// [`MetricsError::NoPositiveResample`] when no resample drew a positive sample (only
    /// likely with very few positives and very few resamples).
    pub fn intervals(&self, resamples: usize, seed: u64) -> Result<BinaryIntervals> {
        if resamples == 0 {
            return Err(MetricsError::InvalidParameter {
                name: "resamples",
                value: 0.0,
                expected: "at least 1 (1000 is the usual choice)",
            });
        }
        let n = self.cells.len();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let index = Uniform::new(0, n).expect("n > 0 was checked by Bootstrap::new");
        let mut scratch = Scratch::default();
        let mut f1 = Vec::with_capacity(resamples);
        let mut ap = Vec::with_capacity(resamples);
        for _ in 0..resamples {
            scratch.reset(self.n_groups);
            for _ in 0..n {
                scratch.add(self.cells[index.sample(&mut rng)], 1);
            }
            let stats = self.stats(&mut scratch);
            f1.push(stats.f1);
            ap.extend(stats.average_precision);
        }
        if ap.is_empty() {
            return Err(MetricsError::NoPositiveResample { resamples });
        }
        let skipped_without_positive = resamples - ap.len();
        Ok(BinaryIntervals {
            f1: interval(self.f1(), &mut f1),
            average_precision: interval(self.average_precision(), &mut ap),
            resamples,
            seed,
            skipped_without_positive,
        })
    }

    /// The statistics of the resample accumulated in `s`, in O(number of distinct scores).
    fn stats(&self, s: &mut Scratch) -> Stats {
        // One pass over the groups, highest score first: the confusion counts, and the
        // cumulative counts at each distinct score present in the resample (scores the resample
        // never drew are no threshold of its curve). Branch-free: every group is written at
        // `len`, which only advances past non-empty groups.
        let mut confusion = [0u64; 4];
        let (mut tp_sum, mut fp_sum, mut len) = (0u64, 0u64, 0usize);
        for w in s.weights.chunks_exact(4) {
            for (c, &x) in confusion.iter_mut().zip(w) {
                *c += x;
            }
            let (neg, pos) = (w[0] + w[1], w[2] + w[3]);
            tp_sum += pos;
            fp_sum += neg;
            s.tps[len] = tp_sum;
            s.fps[len] = fp_sum;
            len += usize::from(neg + pos > 0);
        }
        // Cells by `y_true << 1 | y_pred`: TN, FP, FN, TP.
        let [_, fp, fn_, tp] = confusion;
        // scikit-learn: 2 tp / (true_sum + pred_sum), 0 when that is 0.
        let denominator = (tp + fn_) + (tp + fp);
        let f1 = if denominator == 0 {
            0.0
        } else {
            2.0 * tp as f64 / denominator as f64
        };

        let average_precision =
            (tp_sum > 0).then(|| average_precision_of_counts(&s.tps[..len], &s.fps[..len]));
        Stats {
            f1,
            average_precision,
        }
    }
}

/// 95% bootstrap percentile intervals for the F1 of the positive class at the predictions
/// `y_pred` and for the average precision of `scores`, from `resamples` resamples drawn with
/// `seed` ([`DEFAULT_RESAMPLES`] is the usual count).
///
/// # Errors
/// As [`Bootstrap::new`] and [`Bootstrap::intervals`].
pub fn binary_intervals(
    y_true: &[bool],
    scores: &[f64],
    y_pred: &[bool],
    resamples: usize,
    seed: u64,
) -> Result<BinaryIntervals> {
    Bootstrap::new(y_true, scores, y_pred)?.intervals(resamples, seed)
}

/// Multiplicity of every sample `0..n` in a resample given as its drawn indices.
///
/// # Errors
/// [`MetricsError::InvalidParameter`] for an index `>= n`.
pub fn counts_from_indices(n: usize, indices: &[usize]) -> Result<Vec<u32>> {
    let mut counts = vec![0u32; n];
    for &i in indices {
        let slot = counts.get_mut(i).ok_or(MetricsError::InvalidParameter {
            name: "resample index",
            value: i as f64,
            expected: "below the number of samples",
        })?;
        *slot += 1;
    }
    Ok(counts)
}

/// `numpy.percentile(values, q)` with its default `'linear'` method, `q` in `[0, 100]`.
///
/// # Errors
/// [`MetricsError::Empty`], [`MetricsError::NonFinite`] for a NaN or infinite value, and
/// [`MetricsError::InvalidParameter`] for `q` outside `[0, 100]`.
pub fn percentile(values: &[f64], q: f64) -> Result<f64> {
    if values.is_empty() {
        return Err(MetricsError::Empty);
    }
    if let Some(index) = values.iter().position(|v| !v.is_finite()) {
        return Err(MetricsError::NonFinite {
            index,
            value: values[index],
        });
    }
    if !(0.0..=100.0).contains(&q) {
        return Err(MetricsError::InvalidParameter {
            name: "q",
            value: q,
            expected: "a percentile in [0, 100]",
        });
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    Ok(percentile_of_sorted(&sorted, q))
}

fn interval(estimate: f64, values: &mut [f64]) -> Interval {
    values.sort_unstable_by(f64::total_cmp);
    Interval {
        estimate,
        low: percentile_of_sorted(values, LOW_PERCENTILE),
        high: percentile_of_sorted(values, HIGH_PERCENTILE),
        resamples: values.len(),
    }
}

/// numpy's `'linear'` method (`numpy/lib/_function_base_impl.py`): virtual index
/// `q / 100 * (n - 1)`, then `_lerp`, which interpolates from the upper neighbour when the
/// fraction is at least 0.5.
fn percentile_of_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let virtual_index = q / 100.0 * (n - 1) as f64;
    let below = virtual_index.floor();
    let gamma = virtual_index - below;
    let i = (below as usize).min(n - 1);
    let (a, b) = (sorted[i], sorted[(i + 1).min(n - 1)]);
    let diff = b - a;
    if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_matches_numpy() {
        // numpy 2.4.6: np.percentile(v, q) for v = [3, 1, 4, 1, 5, 9, 2, 6]
        let v = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        for (q, expected) in [
            (0.0, 1.0),
            (2.5, 1.0),
            (50.0, 3.5),
            (97.5, 8.475000000000001),
            (100.0, 9.0),
        ] {
            assert_eq!(percentile(&v, q).unwrap(), expected, "q = {q}");
        }
        assert_eq!(percentile(&[7.0], 97.5).unwrap(), 7.0);
        // Virtual index 34 * 0.025 = 0.85: numpy interpolates down from the upper neighbour
        // (0.057); up from the lower one would give 0.056999999999999995.
        let mut v = vec![0.06, 0.04];
        v.extend([1.0; 33]);
        assert_eq!(percentile(&v, 2.5).unwrap(), 0.057);
        assert!(percentile(&v, 101.0).is_err());
    }

    #[test]
    fn counts_from_indices_counts() {
        assert_eq!(counts_from_indices(3, &[2, 0, 2]).unwrap(), vec![1, 0, 2]);
        assert!(counts_from_indices(3, &[3]).is_err());
    }
}
