//! Ranking metrics: precision-recall and ROC curves, average precision, ROC AUC.
//!
//! Scores are any real numbers where larger means "more likely positive" (typically
//! P(positive)). A sample counts as predicted positive at threshold `t` when `score >= t`, and
//! the thresholds are the distinct scores, as in scikit-learn. Tied scores form one step of the
//! curve, so ties are handled exactly as scikit-learn does (`-0.0` ties with `0.0`).
//!
//! Every function sorts the scores once (a radix sort, O(n)); to compute several metrics on the
//! same scores, build a [`BinaryCurve`] once and ask it for each.

use crate::error::{MetricsError, Result};
use crate::sum;

/// The precision-recall curve, in scikit-learn's layout.
///
/// `thresholds` are the distinct scores in increasing order; `precision[i]` and `recall[i]` are
/// the values when predicting positive every score `>= thresholds[i]`. The last entry of
/// `precision` is 1 and of `recall` is 0 (no threshold: nothing predicted positive), so both are
/// one longer than `thresholds`.
#[derive(Debug, Clone, PartialEq)]
pub struct PrCurve {
    /// Precision per threshold, then 1.
    pub precision: Vec<f64>,
    /// Recall per threshold (decreasing), then 0.
    pub recall: Vec<f64>,
    /// Distinct scores, increasing.
    pub thresholds: Vec<f64>,
}

/// The ROC curve, in scikit-learn's layout (`roc_curve(..., drop_intermediate=True)`).
///
/// Starts at `(0, 0)` with threshold `+inf`; then one point per kept threshold in decreasing
/// order. Points collinear with their neighbours are dropped, as scikit-learn does by default.
#[derive(Debug, Clone, PartialEq)]
pub struct RocCurve {
    /// False positive rate, increasing.
    pub fpr: Vec<f64>,
    /// True positive rate, increasing.
    pub tpr: Vec<f64>,
    /// `+inf`, then scores, decreasing.
    pub thresholds: Vec<f64>,
}

/// Cumulative true and false positive counts at every distinct score, highest score first
/// (scikit-learn's `_binary_clf_curve`): the shared first step of every ranking metric.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryCurve {
    thresholds: Vec<f64>,
    tps: Vec<u64>,
    fps: Vec<u64>,
}

impl BinaryCurve {
    /// Sorts the scores once and counts positives above every distinct score.
    ///
    /// # Errors
    /// [`MetricsError::LengthMismatch`], [`MetricsError::Empty`], [`MetricsError::NonFinite`].
    pub fn new(y_true: &[bool], scores: &[f64]) -> Result<Self> {
        if y_true.len() != scores.len() {
            return Err(MetricsError::LengthMismatch {
                y_true: y_true.len(),
                y_pred: scores.len(),
            });
        }
        if scores.is_empty() {
            return Err(MetricsError::Empty);
        }
        let n_pos = y_true.iter().filter(|&&y| y).count();
        let mut pos = Vec::with_capacity(n_pos);
        let mut neg = Vec::with_capacity(scores.len() - n_pos);
        for (index, (&y, &s)) in y_true.iter().zip(scores).enumerate() {
            if !s.is_finite() {
                return Err(MetricsError::NonFinite { index, value: s });
            }
            // Ascending order of this key is descending order of the score.
            let key = !sortable_key(s);
            if y { pos.push(key) } else { neg.push(key) }
        }
        let mut scratch = Vec::new();
        radix_sort(&mut pos, &mut scratch);
        radix_sort(&mut neg, &mut scratch);
        drop(scratch);

        // At most one entry per sample; reserving avoids copying while the vectors grow.
        let mut thresholds = Vec::with_capacity(scores.len());
        let mut tps = Vec::with_capacity(scores.len());
        let mut fps = Vec::with_capacity(scores.len());
        let (mut i, mut j, mut tp, mut fp) = (0usize, 0usize, 0u64, 0u64);
        while i < pos.len() || j < neg.len() {
            let key = match (pos.get(i), neg.get(j)) {
                (Some(&a), Some(&b)) => a.min(b),
                (Some(&a), None) => a,
                (None, Some(&b)) => b,
                (None, None) => break,
            };
            while i < pos.len() && pos[i] == key {
                tp += 1;
                i += 1;
            }
            while j < neg.len() && neg[j] == key {
                fp += 1;
                j += 1;
            }
            thresholds.push(from_sortable_key(!key));
            tps.push(tp);
            fps.push(fp);
        }
        Ok(Self {
            thresholds,
            tps,
            fps,
        })
    }

    /// Distinct scores, decreasing.
    pub fn thresholds(&self) -> &[f64] {
        &self.thresholds
    }

    /// True positives when predicting `score >= thresholds()[i]`.
    pub fn true_positives(&self) -> &[u64] {
        &self.tps
    }

    /// False positives when predicting `score >= thresholds()[i]`.
    pub fn false_positives(&self) -> &[u64] {
        &self.fps
    }

    /// Number of positive samples.
    pub fn positives(&self) -> u64 {
        self.tps.last().copied().unwrap_or(0)
    }

    /// Number of negative samples.
    pub fn negatives(&self) -> u64 {
        self.fps.last().copied().unwrap_or(0)
    }

    fn single_class(&self) -> MetricsError {
        MetricsError::SingleClass {
            positives: self.positives() as usize,
            negatives: self.negatives() as usize,
        }
    }

    /// The precision-recall curve (`precision_recall_curve`). With no positive sample, recall is
    /// 1 at every threshold, as in scikit-learn.
    pub fn precision_recall_curve(&self) -> PrCurve {
        let k = self.thresholds.len();
        let p = self.positives() as f64;
        // Exact-size iterators: collect allocates once and writes without capacity checks.
        let precision = (0..k)
            .rev()
            .map(|j| self.tps[j] as f64 / (self.tps[j] + self.fps[j]) as f64)
            .chain(std::iter::once(1.0))
            .collect();
        let recall = (0..k)
            .rev()
            .map(|j| {
                if p == 0.0 {
                    1.0
                } else {
                    self.tps[j] as f64 / p
                }
            })
            .chain(std::iter::once(0.0))
            .collect();
        let thresholds = self.thresholds.iter().rev().copied().collect();
        PrCurve {
            precision,
            recall,
            thresholds,
        }
    }

    /// Average precision: `sum_i (R_i - R_{i-1}) P_i` over the thresholds (the step-wise sum,
    /// not the trapezoid), identical to `average_precision_score`.
    ///
    /// # Errors
    /// [`MetricsError::SingleClass`] when there is no positive sample (scikit-learn warns and
    /// returns 0).
    pub fn average_precision(&self) -> Result<f64> {
        let p = self.positives();
        if p == 0 {
            return Err(self.single_class());
        }
        Ok(average_precision_of_counts(&self.tps, &self.fps))
    }

    /// The ROC curve with collinear points dropped (`roc_curve`, `drop_intermediate=True`).
    ///
    /// # Errors
    /// [`MetricsError::SingleClass`] unless both classes occur (scikit-learn warns and returns
    /// NaN rates).
    pub fn roc_curve(&self) -> Result<RocCurve> {
        let (p, n) = (self.positives(), self.negatives());
        if p == 0 || n == 0 {
            return Err(self.single_class());
        }
        let k = self.thresholds.len();
        let keep = |j: usize| -> bool {
            if j == 0 || j + 1 == k {
                return true;
            }
            let second = |v: &[u64]| v[j + 1] as i128 - 2 * v[j] as i128 + v[j - 1] as i128;
            second(&self.fps) != 0 || second(&self.tps) != 0
        };
        let mut fpr = vec![0.0];
        let mut tpr = vec![0.0];
        let mut thresholds = vec![f64::INFINITY];
        let (pf, nf) = (p as f64, n as f64);
        for j in (0..k).filter(|&j| keep(j)) {
            fpr.push(self.fps[j] as f64 / nf);
            tpr.push(self.tps[j] as f64 / pf);
            thresholds.push(self.thresholds[j]);
        }
        Ok(RocCurve {
            fpr,
            tpr,
            thresholds,
        })
    }

    /// Area under the ROC curve by the trapezoid rule (`roc_auc_score`), ties counted as half.
    ///
    /// # Errors
    /// [`MetricsError::SingleClass`] unless both classes occur (scikit-learn warns and returns
    /// NaN).
    pub fn roc_auc(&self) -> Result<f64> {
        let roc = self.roc_curve()?;
        Ok(trapezoid(&roc.fpr, &roc.tpr))
    }
}

/// Average precision from cumulative true and false positive counts at each distinct score,
/// highest score first (as [`BinaryCurve`] holds them; counts may be sums of sample weights).
///
/// Every entry must have `tps[j] + fps[j] > 0` and the last `tps` must be positive. The bootstrap
/// calls this too, so that a resample's AP is computed by the very same expression.
pub(crate) fn average_precision_of_counts(tps: &[u64], fps: &[u64]) -> f64 {
    debug_assert_eq!(tps.len(), fps.len());
    let k = tps.len();
    let p = tps[k - 1] as f64;
    // scikit-learn: -sum(diff(recall) * precision[:-1]) over the increasing-threshold arrays.
    // Output index i is internal (decreasing-threshold) index j = k - 1 - i.
    let recall = |j: usize| tps[j] as f64 / p;
    let term = |i: usize| {
        let j = k - 1 - i;
        let tp_next = if j == 0 { 0 } else { tps[j - 1] };
        if tp_next == tps[j] {
            // A step with no new positive: (r - r) * precision is exactly +0.0 (precision is
            // finite and >= 0), and skipping its two divisions makes the rare-positive curves of
            // the bootstrap cheap. The term stays, so the pairwise order is numpy's.
            return 0.0;
        }
        let r_next = if j == 0 { 0.0 } else { recall(j - 1) };
        let precision = tps[j] as f64 / (tps[j] + fps[j]) as f64;
        (r_next - recall(j)) * precision
    };
    (-sum::pairwise_sum_by(k, &term)).max(0.0)
}

/// `numpy.trapezoid(y, x)`: `sum((x[i+1] - x[i]) * (y[i+1] + y[i]) / 2)`.
fn trapezoid(x: &[f64], y: &[f64]) -> f64 {
    let m = x.len().saturating_sub(1);
    sum::pairwise_sum_by(m, &|i| (x[i + 1] - x[i]) * (y[i + 1] + y[i]) / 2.0)
}

/// Precision-recall curve of binary labels against scores (`precision_recall_curve`).
///
/// # Errors
/// As [`BinaryCurve::new`].
pub fn precision_recall_curve(y_true: &[bool], scores: &[f64]) -> Result<PrCurve> {
    Ok(BinaryCurve::new(y_true, scores)?.precision_recall_curve())
}

/// Average precision (`average_precision_score`, step-wise, ties as scikit-learn).
///
/// ```
/// // ANCHORS.md: y = [0, 0, 1, 1], s = [.1, .4, .35, .8] -> AP 0.8333 (trapezoid: 0.7917).
/// let ap = focal_metrics::ranking::average_precision(&[false, false, true, true],
///     &[0.1, 0.4, 0.35, 0.8]).unwrap();
/// assert!((ap - 5.0 / 6.0).abs() < 1e-15);
/// ```
///
/// # Errors
/// As [`BinaryCurve::new`] and [`BinaryCurve::average_precision`].
pub fn average_precision(y_true: &[bool], scores: &[f64]) -> Result<f64> {
    BinaryCurve::new(y_true, scores)?.average_precision()
}

/// ROC curve (`roc_curve` with its default `drop_intermediate=True`).
///
/// # Errors
/// As [`BinaryCurve::new`] and [`BinaryCurve::roc_curve`].
pub fn roc_curve(y_true: &[bool], scores: &[f64]) -> Result<RocCurve> {
    BinaryCurve::new(y_true, scores)?.roc_curve()
}

/// ROC AUC (`roc_auc_score`).
///
/// ```
/// let auc = focal_metrics::ranking::roc_auc(&[false, false, true, true],
///     &[0.1, 0.4, 0.35, 0.8]).unwrap();
/// assert_eq!(auc, 0.75);
/// ```
///
/// # Errors
/// As [`BinaryCurve::new`] and [`BinaryCurve::roc_auc`].
pub fn roc_auc(y_true: &[bool], scores: &[f64]) -> Result<f64> {
    BinaryCurve::new(y_true, scores)?.roc_auc()
}

/// Macro one-vs-rest average precision over classes `0..n_classes`:
/// `average_precision_score(y_true, probs, average="macro")` for multi-class `y_true`.
///
/// `probs` is `n_samples x n_classes`, row-major; column `c` scores class `c` against the rest.
/// Rows need not sum to 1 here (the CLI checks that).
///
/// # Errors
/// [`MetricsError::ShapeMismatch`], [`MetricsError::LabelOutOfRange`], [`MetricsError::NoClasses`],
/// [`MetricsError::Empty`], [`MetricsError::NonFinite`], and [`MetricsError::ClassAbsent`] when
/// a class never occurs in `y_true` (scikit-learn raises then too).
pub fn macro_average_precision_ovr(
    y_true: &[usize],
    probs: &[f64],
    n_classes: usize,
) -> Result<f64> {
    ovr(y_true, probs, n_classes, BinaryCurve::average_precision)
}

/// Macro one-vs-rest ROC AUC over classes `0..n_classes`:
/// `roc_auc_score(y_true, probs, multi_class="ovr", average="macro")`.
///
/// # Errors
/// As [`macro_average_precision_ovr`].
pub fn macro_roc_auc_ovr(y_true: &[usize], probs: &[f64], n_classes: usize) -> Result<f64> {
    ovr(y_true, probs, n_classes, BinaryCurve::roc_auc)
}

fn ovr(
    y_true: &[usize],
    probs: &[f64],
    n_classes: usize,
    metric: fn(&BinaryCurve) -> Result<f64>,
) -> Result<f64> {
    crate::confusion::check_prob_matrix_shape(y_true, probs, n_classes)?;
    let mut present = vec![false; n_classes];
    for &y in y_true {
        present[y] = true;
    }
    if let Some(class) = present.iter().position(|&p| !p) {
        return Err(MetricsError::ClassAbsent { class });
    }
    let mut scores = Vec::with_capacity(y_true.len());
    let mut labels = Vec::with_capacity(y_true.len());
    let mut per_class = Vec::with_capacity(n_classes);
    for c in 0..n_classes {
        scores.clear();
        labels.clear();
        scores.extend(probs.iter().skip(c).step_by(n_classes));
        labels.extend(y_true.iter().map(|&y| y == c));
        let curve = BinaryCurve::new(&labels, &scores).map_err(|e| match e {
            MetricsError::NonFinite { index, value } => MetricsError::NonFinite {
                index: index * n_classes + c,
                value,
            },
            other => other,
        })?;
        per_class.push(metric(&curve)?);
    }
    Ok(sum::mean(&per_class))
}

/// Maps a finite f64 to a u64 whose unsigned order is the numeric order; -0.0 maps like 0.0.
pub(crate) fn sortable_key(x: f64) -> u64 {
    let bits = (x + 0.0).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

fn from_sortable_key(key: u64) -> f64 {
    if key >> 63 == 1 {
        f64::from_bits(key & !(1 << 63))
    } else {
        f64::from_bits(!key)
    }
}

/// LSD radix sort of u64 keys, 11 bits per pass; passes where every key shares the digit are
/// skipped (probabilities share their top bits).
fn radix_sort(keys: &mut Vec<u64>, scratch: &mut Vec<u64>) {
    const BITS: u32 = 11;
    const BUCKETS: usize = 1 << BITS;
    const PASSES: usize = 64usize.div_ceil(BITS as usize);
    if keys.len() < 512 {
        keys.sort_unstable();
        return;
    }
    let mut hist = vec![[0usize; BUCKETS]; PASSES];
    for &k in keys.iter() {
        for (pass, h) in hist.iter_mut().enumerate() {
            h[((k >> (pass as u32 * BITS)) as usize) & (BUCKETS - 1)] += 1;
        }
    }
    scratch.clear();
    scratch.resize(keys.len(), 0);
    for (pass, h) in hist.iter_mut().enumerate() {
        if h.contains(&keys.len()) {
            continue;
        }
        let mut offset = 0;
        for c in h.iter_mut() {
            let count = *c;
            *c = offset;
            offset += count;
        }
        let shift = pass as u32 * BITS;
        for &k in keys.iter() {
            let b = ((k >> shift) as usize) & (BUCKETS - 1);
            scratch[h[b]] = k;
            h[b] += 1;
        }
        std::mem::swap(keys, scratch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sortable_key_orders_like_numbers() {
        let xs = [-1e300, -2.5, -1.0, -0.0, 0.0, 1e-300, 0.5, 1.0, 3e10];
        for w in xs.windows(2) {
            assert!(sortable_key(w[0]) <= sortable_key(w[1]), "{w:?}");
            assert_eq!(from_sortable_key(sortable_key(w[1])), w[1]);
        }
        assert_eq!(sortable_key(-0.0), sortable_key(0.0));
    }

    #[test]
    fn radix_sort_sorts() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut keys: Vec<u64> = (0..5000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state
            })
            .collect();
        let mut expected = keys.clone();
        expected.sort_unstable();
        radix_sort(&mut keys, &mut Vec::new());
        assert_eq!(keys, expected);
    }

    #[test]
    fn anchor_curves() {
        // sklearn.metrics.precision_recall_curve([0,0,1,1], [.1,.4,.35,.8]):
        // precision [0.5, 0.667, 0.5, 1, 1], recall [1, 1, 0.5, 0.5, 0], thresholds [.1,.35,.4,.8]
        let pr =
            precision_recall_curve(&[false, false, true, true], &[0.1, 0.4, 0.35, 0.8]).unwrap();
        assert_eq!(pr.precision, vec![0.5, 2.0 / 3.0, 0.5, 1.0, 1.0]);
        assert_eq!(pr.recall, vec![1.0, 1.0, 0.5, 0.5, 0.0]);
        assert_eq!(pr.thresholds, vec![0.1, 0.35, 0.4, 0.8]);
        // roc_curve: fpr [0, 0, .5, .5, 1], tpr [0, .5, .5, 1, 1], thresholds [inf, .8, .4, .35, .1]
        let roc = roc_curve(&[false, false, true, true], &[0.1, 0.4, 0.35, 0.8]).unwrap();
        assert_eq!(roc.fpr, vec![0.0, 0.0, 0.5, 0.5, 1.0]);
        assert_eq!(roc.tpr, vec![0.0, 0.5, 0.5, 1.0, 1.0]);
        assert_eq!(roc.thresholds, vec![f64::INFINITY, 0.8, 0.4, 0.35, 0.1]);
    }

    #[test]
    fn single_class_is_an_error() {
        assert_eq!(
            roc_auc(&[true, true], &[0.1, 0.2]),
            Err(MetricsError::SingleClass {
                positives: 2,
                negatives: 0
            })
        );
        assert_eq!(
            average_precision(&[false], &[0.1]),
            Err(MetricsError::SingleClass {
                positives: 0,
                negatives: 1
            })
        );
        assert_eq!(average_precision(&[true], &[0.1]), Ok(1.0));
    }

    #[test]
    fn non_finite_scores_are_rejected() {
        assert_eq!(
            roc_auc(&[true, false], &[0.1, f64::NAN]).map_err(|e| e.to_string()),
            Err("value NaN at index 1 is not finite; scores must be finite numbers".into())
        );
    }
}
