//! Stratified train/val/test splits.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::dataset::{Dataset, Splits};
use crate::error::DataError;
use crate::setting::DataSetting;

/// Fractions of a train/val/test split; each in `[0, 1]`, summing to 1 (within 1e-6).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SplitFractions {
    /// Fraction of each class that goes to training.
    pub train: f64,
    /// Fraction of each class that goes to validation.
    pub val: f64,
    /// Fraction of each class that goes to testing.
    pub test: f64,
}

impl Default for SplitFractions {
    /// 70% train, 15% validation, 15% test.
    fn default() -> Self {
        SplitFractions {
            train: 0.7,
            val: 0.15,
            test: 0.15,
        }
    }
}

impl SplitFractions {
    /// Checks that each fraction is in `[0, 1]`, `train > 0`, and the sum is 1 within 1e-6.
    pub fn validate(&self) -> Result<(), DataError> {
        let all = [self.train, self.val, self.test];
        let text = format!("{}/{}/{}", self.train, self.val, self.test);
        if all.iter().any(|f| !(0.0..=1.0).contains(f)) || self.train <= 0.0 {
            return Err(DataError::arg(
                DataSetting::SplitFractions,
                text,
                "each fraction must be in [0, 1] and train above 0",
            ));
        }
        if (all.iter().sum::<f64>() - 1.0).abs() > 1e-6 {
            return Err(DataError::arg(
                DataSetting::SplitFractions,
                text,
                "train + val + test must be 1",
            ));
        }
        Ok(())
    }
}

/// Splits sample indices into train/val/test, class by class, so that each split keeps the
/// class proportions of `y`.
///
/// For each class with `n` samples (shuffled with a ChaCha8 generator seeded by `seed`),
/// `round(n * test)` go to test, `round(n * val)` to validation (never more than remain) and the
/// rest to training, so a class with a single sample lands in training. The splits are disjoint,
/// cover every index, and each is sorted. Same `y`, fractions and seed, same splits.
pub fn stratified_split(
    y: &[usize],
    fractions: SplitFractions,
    seed: u64,
) -> Result<Splits, DataError> {
    fractions.validate()?;
    if y.is_empty() {
        return Err(DataError::invalid("cannot split an empty data set"));
    }
    let n_classes = y.iter().copied().max().map_or(0, |m| m + 1);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (i, &l) in y.iter().enumerate() {
        by_class[l].push(i);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut splits = Splits::default();
    for mut members in by_class {
        members.shuffle(&mut rng);
        let n = members.len();
        let n_test = ((n as f64 * fractions.test).round() as usize).min(n.saturating_sub(1));
        let n_val = ((n as f64 * fractions.val).round() as usize).min(n.saturating_sub(n_test + 1));
        splits.test.extend_from_slice(&members[..n_test]);
        splits
            .val
            .extend_from_slice(&members[n_test..n_test + n_val]);
        splits.train.extend_from_slice(&members[n_test + n_val..]);
    }
    splits.train.sort_unstable();
    splits.val.sort_unstable();
    splits.test.sort_unstable();
    Ok(splits)
}

impl Dataset {
    /// The splits a run should use.
    ///
    /// - Predefined splits are returned as they are, except that an empty `val` (or `test`) is
    ///   carved out of `train`, stratified, with the share `fractions.val / (fractions.train +
    ///   fractions.val)` (likewise for test) — so MNIST-style train/test sources get a validation
    ///   split without touching their test split.
    /// - Without predefined splits: [`stratified_split`] of all labels.
    pub fn resolve_splits(
        &self,
        fractions: SplitFractions,
        seed: u64,
    ) -> Result<Splits, DataError> {
        fractions.validate()?;
        let Some(pre) = &self.splits else {
            return stratified_split(&self.y, fractions, seed);
        };
        let carve_val = pre.val.is_empty() && fractions.val > 0.0;
        let carve_test = pre.test.is_empty() && fractions.test > 0.0;
        if !(carve_val || carve_test) || pre.train.is_empty() {
            return Ok(pre.clone());
        }
        let val = if carve_val { fractions.val } else { 0.0 };
        let test = if carve_test { fractions.test } else { 0.0 };
        let total = fractions.train + val + test;
        let sub = SplitFractions {
            train: fractions.train / total,
            val: val / total,
            test: test / total,
        };
        let labels: Vec<usize> = pre.train.iter().map(|&i| self.y[i]).collect();
        let inner = stratified_split(&labels, sub, seed)?;
        let back = |v: &[usize]| -> Vec<usize> { v.iter().map(|&j| pre.train[j]).collect() };
        Ok(Splits {
            train: back(&inner.train),
            val: if carve_val {
                back(&inner.val)
            } else {
                pre.val.clone()
            },
            test: if carve_test {
                back(&inner.test)
            } else {
                pre.test.clone()
            },
        })
    }
}
