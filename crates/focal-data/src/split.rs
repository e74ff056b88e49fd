//! Stratified train/val/test splits: by sample, or by group (no group in two splits).

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
    ///
    /// With [`groups`](Dataset::groups), every split (and every carved split) is
    /// [`stratified_group_split`]: no group in two parts.
    pub fn resolve_splits(
        &self,
        fractions: SplitFractions,
        seed: u64,
    ) -> Result<Splits, DataError> {
        fractions.validate()?;
        let Some(pre) = &self.splits else {
            return self.split_rows(&(0..self.n_samples()).collect::<Vec<_>>(), fractions, seed);
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
        let inner = self.split_rows(&pre.train, sub, seed)?;
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

impl Dataset {
    /// The split of the samples `rows` (indices of the returned split are positions in
    /// `rows`): by group when the data set has groups, else by sample.
    fn split_rows(
        &self,
        rows: &[usize],
        fractions: SplitFractions,
        seed: u64,
    ) -> Result<Splits, DataError> {
        let labels: Vec<usize> = rows.iter().map(|&i| self.y[i]).collect();
        match &self.groups {
            None => stratified_split(&labels, fractions, seed),
            Some(groups) => {
                let names: Vec<&str> = rows.iter().map(|&i| groups[i].as_str()).collect();
                stratified_group_split(&labels, &group_ids(&names), fractions, seed)
            }
        }
    }
}

/// Dense ids `0..n_groups` for group names, numbered in the names' sorted order (as
/// scikit-learn's `np.unique` numbers them), so that the ids do not depend on the order of the
/// samples.
pub fn group_ids<S: AsRef<str>>(names: &[S]) -> Vec<usize> {
    let mut sorted: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
    sorted.sort_unstable();
    sorted.dedup();
    names
        .iter()
        .map(|n| sorted.binary_search(&n.as_ref()).unwrap_or(0))
        .collect()
}

/// Population standard deviation (NumPy's `np.std`, `ddof = 0`).
fn std_dev(v: impl Iterator<Item = f64> + Clone) -> f64 {
    let n = v.clone().count() as f64;
    if n == 0.0 {
        return 0.0;
    }
    let mean = v.clone().sum::<f64>() / n;
    (v.map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt()
}

/// NumPy's `np.isclose(a, b)`: `|a - b| <= 1e-8 + 1e-5 * |b|`.
fn is_close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-8 + 1e-5 * b.abs()
}

/// Splits sample indices into train/val/test so that no group (`groups[i]`, the group of
/// sample `i`: a patient, a study) has samples in two splits, each split's class proportions
/// as close to the whole's as the groups allow.
///
/// The rule is scikit-learn's `StratifiedGroupKFold(shuffle=True)`, adapted from k equal folds
/// to three splits of the given fractions:
///
/// 1. count each group's samples per class; shuffle the groups (ChaCha8, `seed`), then order
///    them by the standard deviation of their class counts, largest first (a stable sort, so
///    the shuffle breaks ties);
/// 2. give each group in turn to the split that, with the group added, has the smallest mean
///    over classes of the standard deviation across splits of `n[split][class] / (N[class] *
///    fraction[split])` (each split's share of a class relative to its target share; 1 for
///    every split when the ratio is exact), ties going to the split least filled relative to
///    its fraction, then to the earlier split;
/// 3. (not in scikit-learn, whose folds are equal) where that leaves a split without a group,
///    or without a positive (label 1 of two classes), and the groups allow one, move into it
///    the group, from a split that keeps a group (and a positive) without it, whose move keeps
///    the criterion lowest, then the smallest such group.
///
/// A split of fraction 0 gets no group. Each returned split is sorted; same labels, groups,
/// fractions and seed, same splits. Group ids need not be dense (see [`group_ids`] for names).
///
/// # Errors
/// A [`DataError::Unmeetable`] naming the counts when the groups cannot give every split of a
/// positive fraction a sample, or (two classes) a positive (label 1), or (more classes) when a
/// class would be missing from training; an invalid argument when the lengths differ or the
/// fractions do not sum to 1.
pub fn stratified_group_split(
    y: &[usize],
    groups: &[usize],
    fractions: SplitFractions,
    seed: u64,
) -> Result<Splits, DataError> {
    fractions.validate()?;
    if y.is_empty() {
        return Err(DataError::invalid("cannot split an empty data set"));
    }
    if groups.len() != y.len() {
        return Err(DataError::invalid(format!(
            "{} groups for {} samples: every sample needs its group",
            groups.len(),
            y.len()
        )));
    }
    let mut uniq = groups.to_vec();
    uniq.sort_unstable();
    uniq.dedup();
    // Every id is in `uniq`, so the search always finds it.
    let dense: Vec<usize> = groups
        .iter()
        .map(|g| uniq.binary_search(g).unwrap_or(0))
        .collect();
    let n_groups = dense.iter().copied().max().map_or(0, |m| m + 1);
    let n_classes = y.iter().copied().max().map_or(0, |m| m + 1);
    let mut class_total = vec![0usize; n_classes];
    let mut per_group = vec![vec![0usize; n_classes]; n_groups];
    for (&c, &g) in y.iter().zip(&dense) {
        class_total[c] += 1;
        per_group[g][c] += 1;
    }
    let present: Vec<usize> = (0..n_classes).filter(|&c| class_total[c] > 0).collect();
    let fr = [fractions.train, fractions.val, fractions.test];
    let active: Vec<usize> = (0..3).filter(|&k| fr[k] > 0.0).collect();
    const NAMES: [&str; 3] = ["train", "val", "test"];
    let what = "a split by group".to_string();
    if n_groups < active.len() {
        return Err(DataError::Unmeetable {
            what,
            reason: format!(
                "the data hold {n_groups} group{} but the splits ({}) need at least one each; \
                 give more groups, or leave the validation or test fraction at 0",
                if n_groups == 1 { "" } else { "s" },
                active
                    .iter()
                    .map(|&k| NAMES[k])
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let binary = n_classes == 2 && class_total[1] > 0;
    if binary {
        let with_positive = per_group.iter().filter(|g| g[1] > 0).count();
        if with_positive < active.len() {
            return Err(DataError::Unmeetable {
                what,
                reason: format!(
                    "the positive class (label 1, {} samples) is in {with_positive} group{} \
                     but each of the {} splits ({}) needs a positive; give more groups with \
                     positives, or leave the validation or test fraction at 0",
                    class_total[1],
                    if with_positive == 1 { "" } else { "s" },
                    active.len(),
                    active
                        .iter()
                        .map(|&k| NAMES[k])
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    let mut order: Vec<usize> = (0..n_groups).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let spread: Vec<f64> = per_group
        .iter()
        .map(|g| std_dev(present.iter().map(|&c| g[c] as f64)))
        .collect();
    order.sort_by(|&a, &b| spread[b].total_cmp(&spread[a]));
    // The criterion: the mean over classes of the spread across splits of each split's share
    // of the class relative to its target share.
    let evaluate = |counts: &[Vec<usize>; 3]| -> f64 {
        present
            .iter()
            .map(|&c| {
                std_dev(
                    active
                        .iter()
                        .map(|&j| counts[j][c] as f64 / (class_total[c] as f64 * fr[j])),
                )
            })
            .sum::<f64>()
            / present.len() as f64
    };
    let mut counts = [
        vec![0usize; n_classes],
        vec![0; n_classes],
        vec![0; n_classes],
    ];
    let mut split_of_group = vec![0usize; n_groups];
    for &g in &order {
        let mut best: Option<(usize, f64, f64)> = None;
        for &k in &active {
            for &c in &present {
                counts[k][c] += per_group[g][c];
            }
            let eval = evaluate(&counts);
            for &c in &present {
                counts[k][c] -= per_group[g][c];
            }
            let fill = counts[k].iter().sum::<usize>() as f64 / fr[k];
            let better = match best {
                None => true,
                Some((_, e, f)) => {
                    eval < e && !is_close(eval, e) || (is_close(eval, e) && fill < f)
                }
            };
            if better {
                best = Some((k, eval, fill));
            }
        }
        let k = best.map_or(0, |b| b.0);
        for &c in &present {
            counts[k][c] += per_group[g][c];
        }
        split_of_group[g] = k;
    }
    // The greedy rule can leave a small split without a group, or without a positive, when few
    // groups hold positives (it puts three single positives in training rather than spread
    // them 70/15/15). Where the groups allow it, move into such a split the group, from a split
    // that can spare it, whose move keeps the criterion lowest (then the smaller group).
    let positive_groups = |split_of_group: &[usize], k: usize| {
        (0..n_groups)
            .filter(|&g| split_of_group[g] == k && binary && per_group[g][1] > 0)
            .count()
    };
    let groups_in =
        |split_of_group: &[usize], k: usize| split_of_group.iter().filter(|&&s| s == k).count();
    for _ in 0..n_groups {
        let lacking = active
            .iter()
            .copied()
            .find(|&k| groups_in(&split_of_group, k) == 0 || (binary && counts[k][1] == 0));
        let Some(k) = lacking else { break };
        let needs_positive = binary && counts[k][1] == 0;
        let mut best: Option<(usize, f64, usize)> = None;
        for g in 0..n_groups {
            let j = split_of_group[g];
            let gives_positive = binary && per_group[g][1] > 0;
            let spare = j != k
                && groups_in(&split_of_group, j) >= 2
                && (!needs_positive || gives_positive)
                && (!binary || !gives_positive || positive_groups(&split_of_group, j) >= 2);
            if !spare {
                continue;
            }
            let mut moved = counts.clone();
            for &c in &present {
                moved[j][c] -= per_group[g][c];
                moved[k][c] += per_group[g][c];
            }
            let eval = evaluate(&moved);
            let size: usize = per_group[g].iter().sum();
            let better = match best {
                None => true,
                Some((_, e, s)) => {
                    eval < e && !is_close(eval, e) || (is_close(eval, e) && size < s)
                }
            };
            if better {
                best = Some((g, eval, size));
            }
        }
        let Some((g, _, _)) = best else { break };
        let j = split_of_group[g];
        for &c in &present {
            counts[j][c] -= per_group[g][c];
            counts[k][c] += per_group[g][c];
        }
        split_of_group[g] = k;
    }
    let mut splits = Splits::default();
    for (i, &g) in dense.iter().enumerate() {
        match split_of_group[g] {
            0 => splits.train.push(i),
            1 => splits.val.push(i),
            _ => splits.test.push(i),
        }
    }
    let per_split = |c: usize| {
        active
            .iter()
            .map(|&k| format!("{} {}", NAMES[k], counts[k][c]))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(&k) = active.iter().find(|&&k| groups_in(&split_of_group, k) == 0) {
        return Err(DataError::Unmeetable {
            what,
            reason: format!(
                "the {} split gets no group of the {n_groups} (samples per split: {}); give \
                 more groups, or leave its fraction at 0",
                NAMES[k],
                per_split_total(&counts, &active)
            ),
        });
    }
    if binary && let Some(&k) = active.iter().find(|&&k| counts[k][1] == 0) {
        return Err(DataError::Unmeetable {
            what,
            reason: format!(
                "the {} split gets no positive (label 1): positives per split {}, over {} groups \
                 holding positives; give more groups with positives, or another seed or \
                 fractions",
                NAMES[k],
                per_split(1),
                per_group.iter().filter(|g| g[1] > 0).count()
            ),
        });
    }
    if !binary && let Some(&c) = present.iter().find(|&&c| counts[0][c] == 0) {
        return Err(DataError::Unmeetable {
            what,
            reason: format!(
                "class {c} ({} samples in {} groups) gets no training sample (per split: {}); \
                 give more groups of that class, or leave it out",
                class_total[c],
                per_group.iter().filter(|g| g[c] > 0).count(),
                per_split(c)
            ),
        });
    }
    Ok(splits)
}

fn per_split_total(counts: &[Vec<usize>; 3], active: &[usize]) -> String {
    const NAMES: [&str; 3] = ["train", "val", "test"];
    active
        .iter()
        .map(|&k| format!("{} {}", NAMES[k], counts[k].iter().sum::<usize>()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_sorted_names() {
        assert_eq!(group_ids(&["p2", "p1", "p2", "p10"]), vec![2, 0, 2, 1]);
    }

    #[test]
    fn np_std_and_isclose() {
        // np.std([1, 2, 3, 4]) = 1.118033988749895
        assert!((std_dev([1.0, 2.0, 3.0, 4.0].into_iter()) - 1.118033988749895).abs() < 1e-15);
        assert!(is_close(1.0, 1.0 + 1e-6) && !is_close(1.0, 1.001));
    }

    #[test]
    fn no_group_is_in_two_splits_and_the_counts_are_named() {
        // 40 patients of 3 images each; every fourth patient positive.
        let groups: Vec<usize> = (0..120).map(|i| i / 3).collect();
        let y: Vec<usize> = groups.iter().map(|g| usize::from(g % 4 == 0)).collect();
        let s = stratified_group_split(&y, &groups, SplitFractions::default(), 7).unwrap();
        let part = |i: usize| {
            [&s.train, &s.val, &s.test]
                .iter()
                .position(|p| p.contains(&i))
        };
        for g in 0..40 {
            let parts: Vec<_> = (0..120).filter(|&i| groups[i] == g).map(part).collect();
            assert!(
                parts.windows(2).all(|w| w[0] == w[1]),
                "group {g}: {parts:?}"
            );
        }
        assert_eq!(s.train.len() + s.val.len() + s.test.len(), 120);
        assert_eq!(
            s,
            stratified_group_split(&y, &groups, SplitFractions::default(), 7).unwrap()
        );
        // Two patients with positives cannot give three splits a positive each.
        let y2: Vec<usize> = groups.iter().map(|&g| usize::from(g < 2)).collect();
        let e = stratified_group_split(&y2, &groups, SplitFractions::default(), 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("in 2 groups") && e.contains("3 splits"), "{e}");
    }
}
