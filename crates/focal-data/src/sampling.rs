//! Samplers and resamplers, one flow for all: validate, resolve the strategy, resample.
//!
//! As in imbalanced-learn, every resampler has a `fit_resample` taking flat samples `x`
//! (`sample_len` values each), labels `y` and a seed, and returns new `(x, y)`; the class counts
//! after resampling are exactly those the [`SamplingStrategy`] resolves to. Example, counts
//! before and after `RandomOverSampler` with `Auto`: `{0: 900, 1: 100}` -> `{0: 900, 1: 900}`.
//!
//! [`WeightedRandomSampler`] is the data-loader side: it keeps the data and draws indices per
//! epoch.

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::DataError;

/// How many samples each class should have after resampling (imbalanced-learn's
/// `sampling_strategy`).
#[derive(Debug, Clone, PartialEq)]
pub enum SamplingStrategy {
    /// Over-sampling: every class up to the majority count. Under-sampling: every class down to
    /// the minority count.
    Auto,
    /// Binary only: the ratio `n_minority / n_majority` after resampling, in `(0, 1]`.
    /// Over-sampling raises the minority to `floor(r * n_majority)`; under-sampling lowers the
    /// majority to `floor(n_minority / r)`.
    Ratio(f64),
    /// The wanted count per class label; classes not listed keep their count. Over-samplers
    /// need each count >= the current one, under-samplers <= it.
    Counts(BTreeMap<usize, usize>),
}

/// Whether a sampler adds samples (over) or removes them (under).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Over,
    Under,
}

/// A resampler: returns a new data set whose class counts follow its strategy.
pub trait Resampler {
    /// Resamples `x` (`y.len()` samples of `sample_len` values each) and `y`, deterministically
    /// from `seed`.
    fn fit_resample(
        &self,
        x: &[f32],
        y: &[usize],
        sample_len: usize,
        seed: u64,
    ) -> Result<(Vec<f32>, Vec<usize>), DataError>;
}

/// Checks the inputs every resampler shares.
fn validate(x: &[f32], y: &[usize], sample_len: usize) -> Result<(), DataError> {
    if y.is_empty() {
        return Err(DataError::invalid("cannot resample an empty data set"));
    }
    if sample_len == 0 || x.len() != y.len() * sample_len {
        return Err(DataError::invalid(format!(
            "{} values for {} labels of {sample_len} values each",
            x.len(),
            y.len()
        )));
    }
    Ok(())
}

/// Indices of each class (`by_class[c]`), over `0..=max(y)`.
fn by_class(y: &[usize]) -> Vec<Vec<usize>> {
    let n = y.iter().copied().max().map_or(0, |m| m + 1);
    let mut v = vec![Vec::new(); n];
    for (i, &l) in y.iter().enumerate() {
        v[l].push(i);
    }
    v
}

impl SamplingStrategy {
    /// How many samples over-sampling (`over`) or under-sampling with this strategy leaves, from
    /// the class counts: what a sampler's `fit_resample` returns, without drawing it (to size a
    /// run before it starts). Errors as `fit_resample` would for a strategy the counts cannot meet.
    pub fn resampled_len(&self, counts: &[usize], over: bool) -> Result<usize, DataError> {
        let dir = if over {
            Direction::Over
        } else {
            Direction::Under
        };
        Ok(resolve(self, counts, dir)?.values().sum())
    }
}

/// Resolves `strategy` to a target count per present class.
fn resolve(
    strategy: &SamplingStrategy,
    counts: &[usize],
    dir: Direction,
) -> Result<BTreeMap<usize, usize>, DataError> {
    let present: Vec<(usize, usize)> = counts
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, n)| n > 0)
        .collect();
    let max = present.iter().map(|p| p.1).max().unwrap_or(0);
    let min = present.iter().map(|p| p.1).min().unwrap_or(0);
    let mut targets: BTreeMap<usize, usize> = present.iter().copied().collect();
    match strategy {
        SamplingStrategy::Auto => {
            for t in targets.values_mut() {
                *t = if dir == Direction::Over { max } else { min };
            }
        }
        SamplingStrategy::Ratio(r) => {
            if present.len() != 2 {
                return Err(DataError::param(
                    "sampling strategy",
                    r,
                    format!(
                        "a ratio needs exactly two classes, found {}; use Counts",
                        present.len()
                    ),
                ));
            }
            if !(r.is_finite() && *r > 0.0 && *r <= 1.0) {
                return Err(DataError::param(
                    "sampling ratio",
                    r,
                    "must be in (0, 1]: n_minority / n_majority",
                ));
            }
            let (min_c, maj_c) = if present[0].1 <= present[1].1 {
                (present[0].0, present[1].0)
            } else {
                (present[1].0, present[0].0)
            };
            match dir {
                Direction::Over => {
                    let t = (r * max as f64).floor() as usize;
                    if t < min {
                        return Err(DataError::Unmeetable {
                            what: format!("over-sampling ratio {r}"),
                            reason: format!(
                                "the minority already has {min} samples for {max} in the majority \
                                 (ratio {:.4}); over-sampling cannot lower it, ask for a larger ratio",
                                min as f64 / max as f64
                            ),
                        });
                    }
                    targets.insert(min_c, t);
                }
                Direction::Under => {
                    let t = (min as f64 / r).floor() as usize;
                    if t > max {
                        return Err(DataError::Unmeetable {
                            what: format!("under-sampling ratio {r}"),
                            reason: format!(
                                "the majority has only {max} samples, {t} would be needed with \
                                 {min} minority samples; ask for a larger ratio"
                            ),
                        });
                    }
                    targets.insert(maj_c, t);
                }
            }
        }
        SamplingStrategy::Counts(wanted) => {
            for (&c, &t) in wanted {
                let Some(&n) = targets.get(&c) else {
                    return Err(DataError::param(
                        "sampling counts",
                        format!("{c}: {t}"),
                        format!("class {c} has no sample to resample from"),
                    ));
                };
                let ok = match dir {
                    Direction::Over => t >= n,
                    Direction::Under => t <= n,
                };
                if !ok {
                    let verb = if dir == Direction::Over {
                        "over-sampling cannot remove"
                    } else {
                        "under-sampling cannot add"
                    };
                    return Err(DataError::Unmeetable {
                        what: format!("count {t} for class {c}"),
                        reason: format!("class {c} has {n} samples and {verb} samples"),
                    });
                }
                targets.insert(c, t);
            }
        }
    }
    Ok(targets)
}

/// Copies samples `idx` of `x` and their labels.
fn gather(x: &[f32], y: &[usize], sample_len: usize, idx: &[usize]) -> (Vec<f32>, Vec<usize>) {
    let mut ox = Vec::with_capacity(idx.len() * sample_len);
    let mut oy = Vec::with_capacity(idx.len());
    for &i in idx {
        ox.extend_from_slice(&x[i * sample_len..(i + 1) * sample_len]);
        oy.push(y[i]);
    }
    (ox, oy)
}

/// Random over-sampling: duplicates randomly chosen samples (with replacement) of each class up
/// to its target. The original samples come first, in order, then the duplicates class by class.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomOverSampler {
    /// Target counts.
    pub strategy: SamplingStrategy,
}

impl Resampler for RandomOverSampler {
    fn fit_resample(
        &self,
        x: &[f32],
        y: &[usize],
        sample_len: usize,
        seed: u64,
    ) -> Result<(Vec<f32>, Vec<usize>), DataError> {
        validate(x, y, sample_len)?;
        let classes = by_class(y);
        let counts: Vec<usize> = classes.iter().map(Vec::len).collect();
        let targets = resolve(&self.strategy, &counts, Direction::Over)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut idx: Vec<usize> = (0..y.len()).collect();
        for (&c, &t) in &targets {
            let members = &classes[c];
            for _ in members.len()..t {
                idx.push(members[rng.random_range(0..members.len())]);
            }
        }
        Ok(gather(x, y, sample_len, &idx))
    }
}

/// Random under-sampling: keeps a random subset (without replacement) of each class, of its
/// target size. Kept samples stay in their original order.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomUnderSampler {
    /// Target counts.
    pub strategy: SamplingStrategy,
}

impl Resampler for RandomUnderSampler {
    fn fit_resample(
        &self,
        x: &[f32],
        y: &[usize],
        sample_len: usize,
        seed: u64,
    ) -> Result<(Vec<f32>, Vec<usize>), DataError> {
        validate(x, y, sample_len)?;
        let classes = by_class(y);
        let counts: Vec<usize> = classes.iter().map(Vec::len).collect();
        let targets = resolve(&self.strategy, &counts, Direction::Under)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut idx = Vec::with_capacity(targets.values().sum());
        for (&c, &t) in &targets {
            let mut members = classes[c].clone();
            members.shuffle(&mut rng);
            idx.extend_from_slice(&members[..t]);
        }
        idx.sort_unstable();
        Ok(gather(x, y, sample_len, &idx))
    }
}

/// SMOTE (Chawla et al. 2002), imbalanced-learn's algorithm.
///
/// For each new sample of class `c`: pick a sample `x_i` of class `c` uniformly, one of its
/// `k_neighbors` nearest neighbours `x_z` within class `c` (Euclidean, itself excluded, ties
/// broken by index) uniformly, and `lambda ~ U[0, 1)`; the new sample is
/// `x_i + lambda * (x_z - x_i)`. Works on tabular features or flattened images. The original
/// samples come first, then the synthetic ones class by class.
///
/// Neighbours are found by brute force, only for the samples of the classes being over-sampled,
/// one row of distances at a time (memory linear in the class size).
#[derive(Debug, Clone, PartialEq)]
pub struct Smote {
    /// Number of nearest same-class neighbours to interpolate towards (imbalanced-learn: 5).
    pub k_neighbors: usize,
    /// Target counts.
    pub strategy: SamplingStrategy,
}

impl Default for Smote {
    fn default() -> Self {
        Smote {
            k_neighbors: 5,
            strategy: SamplingStrategy::Auto,
        }
    }
}

/// Dot product with eight independent accumulators (faster than a serial sum, and the same
/// result on every run since the order is fixed).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

/// Neighbour lists of every row, computed on all available cores (results do not depend on the
/// number of threads).
fn all_nearest(rows: &[&[f32]], norms: &[f32], k: usize) -> Vec<Vec<usize>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(rows.len().max(1));
    let chunk = rows.len().div_ceil(threads).max(1);
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); rows.len()];
    std::thread::scope(|s| {
        for (t, part) in out.chunks_mut(chunk).enumerate() {
            s.spawn(move || {
                for (j, slot) in part.iter_mut().enumerate() {
                    *slot = nearest(rows, norms, t * chunk + j, k);
                }
            });
        }
    });
    out
}

/// The `k` nearest rows of `rows` (indices into `rows`) to row `q`, itself excluded.
fn nearest(rows: &[&[f32]], norms: &[f32], q: usize, k: usize) -> Vec<usize> {
    let xq = rows[q];
    let mut best: Vec<(f32, usize)> = Vec::with_capacity(k + 1);
    for (j, xj) in rows.iter().enumerate() {
        if j == q {
            continue;
        }
        let dot = dot(xq, xj);
        let d = (norms[q] + norms[j] - 2.0 * dot).max(0.0);
        if best.len() < k || (d, j) < best[best.len() - 1] {
            let pos = best.partition_point(|&e| e < (d, j));
            best.insert(pos, (d, j));
            best.truncate(k);
        }
    }
    best.into_iter().map(|(_, j)| j).collect()
}

impl Resampler for Smote {
    fn fit_resample(
        &self,
        x: &[f32],
        y: &[usize],
        sample_len: usize,
        seed: u64,
    ) -> Result<(Vec<f32>, Vec<usize>), DataError> {
        validate(x, y, sample_len)?;
        if self.k_neighbors == 0 {
            return Err(DataError::param("k_neighbors", 0, "must be at least 1"));
        }
        let classes = by_class(y);
        let counts: Vec<usize> = classes.iter().map(Vec::len).collect();
        let targets = resolve(&self.strategy, &counts, Direction::Over)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (mut ox, mut oy) = (x.to_vec(), y.to_vec());
        for (&c, &t) in &targets {
            let members = &classes[c];
            let n_new = t - members.len();
            if n_new == 0 {
                continue;
            }
            if members.len() <= self.k_neighbors {
                return Err(DataError::Unmeetable {
                    what: format!("SMOTE with k_neighbors = {}", self.k_neighbors),
                    reason: format!(
                        "class {c} has {} samples, at least {} are needed; lower k_neighbors or use random over-sampling",
                        members.len(),
                        self.k_neighbors + 1
                    ),
                });
            }
            let rows: Vec<&[f32]> = members
                .iter()
                .map(|&i| &x[i * sample_len..(i + 1) * sample_len])
                .collect();
            let norms: Vec<f32> = rows.iter().map(|r| r.iter().map(|v| v * v).sum()).collect();
            // Most rows get picked when many samples are made: compute them all in parallel.
            let mut neighbours: Vec<Option<Vec<usize>>> = if n_new >= rows.len() {
                all_nearest(&rows, &norms, self.k_neighbors)
                    .into_iter()
                    .map(Some)
                    .collect()
            } else {
                vec![None; rows.len()]
            };
            ox.reserve(n_new * sample_len);
            for _ in 0..n_new {
                let i = rng.random_range(0..rows.len());
                let nn = neighbours[i]
                    .get_or_insert_with(|| nearest(&rows, &norms, i, self.k_neighbors));
                let z = nn[rng.random_range(0..nn.len())];
                let lambda: f32 = rng.random();
                ox.extend(
                    rows[i]
                        .iter()
                        .zip(rows[z])
                        .map(|(a, b)| a + lambda * (b - a)),
                );
                oy.push(c);
            }
        }
        Ok((ox, oy))
    }
}

/// Class-balanced sampling for a data loader: draws `num_samples` indices per epoch, with
/// replacement, with probability proportional to per-sample weights derived from per-class
/// weights (`w_i = class_weights[y_i]`).
///
/// PyTorch's `WeightedRandomSampler` takes per-*sample* weights; passing per-class weights there
/// is a common mistake. Here the constructor takes per-class weights and does the expansion.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightedRandomSampler {
    cumulative: Vec<f64>,
    num_samples: usize,
}

impl WeightedRandomSampler {
    /// A sampler over `y` with per-class weights (finite, >= 0, not all samples zero).
    pub fn from_class_weights(
        y: &[usize],
        class_weights: &[f64],
        num_samples: usize,
    ) -> Result<Self, DataError> {
        if y.is_empty() {
            return Err(DataError::invalid("cannot sample from an empty data set"));
        }
        if let Some(w) = class_weights
            .iter()
            .find(|w| !(w.is_finite() && **w >= 0.0))
        {
            return Err(DataError::param(
                "class weight",
                w,
                "weights must be finite and >= 0",
            ));
        }
        let mut cumulative = Vec::with_capacity(y.len());
        let mut total = 0.0;
        for (i, &l) in y.iter().enumerate() {
            let w = class_weights.get(l).ok_or_else(|| {
                DataError::param(
                    "class weights",
                    format!("{} weights", class_weights.len()),
                    format!("sample {i} has label {l}; give one weight per class"),
                )
            })?;
            total += w;
            cumulative.push(total);
        }
        if total <= 0.0 {
            return Err(DataError::param(
                "class weights",
                "all zero",
                "at least one sampled class needs a positive weight",
            ));
        }
        Ok(WeightedRandomSampler {
            cumulative,
            num_samples,
        })
    }

    /// Every class equally likely: class weight `1 / n_c` (inverse frequency).
    pub fn balanced(y: &[usize], num_samples: usize) -> Result<Self, DataError> {
        let counts = crate::dataset::class_counts(y, y.iter().copied().max().map_or(0, |m| m + 1));
        let weights: Vec<f64> = counts
            .iter()
            .map(|&n| if n == 0 { 0.0 } else { 1.0 / n as f64 })
            .collect();
        Self::from_class_weights(y, &weights, num_samples)
    }

    /// Number of indices drawn per epoch.
    pub fn num_samples(&self) -> usize {
        self.num_samples
    }

    /// The probability of drawing each sample.
    pub fn probabilities(&self) -> Vec<f64> {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let mut prev = 0.0;
        self.cumulative
            .iter()
            .map(|&c| {
                let p = (c - prev) / total;
                prev = c;
                p
            })
            .collect()
    }

    /// The indices of one epoch, drawn with replacement; same `epoch_seed`, same indices.
    pub fn epoch_indices(&self, epoch_seed: u64) -> Vec<usize> {
        let mut rng = ChaCha8Rng::seed_from_u64(epoch_seed);
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        (0..self.num_samples)
            .map(|_| {
                let u = rng.random::<f64>() * total;
                // First sample whose cumulative weight exceeds u: zero-weight samples never win.
                self.cumulative
                    .partition_point(|&c| c <= u)
                    .min(self.cumulative.len() - 1)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_matches_imbalanced_learn() {
        let counts = [900, 100];
        let over = resolve(&SamplingStrategy::Auto, &counts, Direction::Over).unwrap();
        assert_eq!(over, BTreeMap::from([(0, 900), (1, 900)]));
        let under = resolve(&SamplingStrategy::Auto, &counts, Direction::Under).unwrap();
        assert_eq!(under, BTreeMap::from([(0, 100), (1, 100)]));
        let r = resolve(&SamplingStrategy::Ratio(0.5), &counts, Direction::Over).unwrap();
        assert_eq!(r, BTreeMap::from([(0, 900), (1, 450)]));
        let r = resolve(&SamplingStrategy::Ratio(0.5), &counts, Direction::Under).unwrap();
        assert_eq!(r, BTreeMap::from([(0, 200), (1, 100)]));
        assert!(resolve(&SamplingStrategy::Ratio(0.05), &counts, Direction::Over).is_err());
    }

    #[test]
    fn resampled_len_is_what_the_samplers_return() {
        // Three classes, one of them absent: it stays absent either way.
        let y: Vec<usize> = [0; 7].into_iter().chain([2; 3]).collect();
        let x: Vec<f32> = (0..y.len() * 2).map(|v| v as f32).collect();
        let counts = [7, 0, 3];
        for strategy in [SamplingStrategy::Auto, SamplingStrategy::Ratio(0.5)] {
            let over = RandomOverSampler {
                strategy: strategy.clone(),
            };
            let under = RandomUnderSampler {
                strategy: strategy.clone(),
            };
            let (_, yo) = over.fit_resample(&x, &y, 2, 1).unwrap();
            let (_, yu) = under.fit_resample(&x, &y, 2, 1).unwrap();
            assert_eq!(strategy.resampled_len(&counts, true).unwrap(), yo.len());
            assert_eq!(strategy.resampled_len(&counts, false).unwrap(), yu.len());
        }
        assert!(
            SamplingStrategy::Ratio(0.1)
                .resampled_len(&counts, true)
                .is_err()
        );
    }

    #[test]
    fn nearest_excludes_self_and_sorts_by_distance() {
        let data = [[0.0f32], [1.0], [3.0], [0.5]];
        let rows: Vec<&[f32]> = data.iter().map(|r| &r[..]).collect();
        let norms: Vec<f32> = rows.iter().map(|r| r[0] * r[0]).collect();
        assert_eq!(nearest(&rows, &norms, 0, 2), vec![3, 1]);
    }
}
