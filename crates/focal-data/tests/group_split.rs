//! The stratified group split, checked against scikit-learn's `StratifiedGroupKFold` semantics
//! by property: no group in two splits, every sample in exactly one, class counts within a
//! bound of their targets, the same splits for the same seed.

use std::collections::HashMap;

use focal_data::{DataError, SplitFractions, Splits, stratified_group_split};
use proptest::prelude::*;

/// Labels and groups: `sizes[g]` samples in group `g`, of which the first `positives[g]`
/// (at most the size) are positive.
fn data(groups: &[(usize, usize)]) -> (Vec<usize>, Vec<usize>) {
    let mut y = Vec::new();
    let mut g = Vec::new();
    for (id, &(size, pos)) in groups.iter().enumerate() {
        for k in 0..size {
            y.push(usize::from(k < pos.min(size)));
            // Ids far apart and out of order: they need not be dense.
            g.push(id * 7919 % 100_003);
        }
    }
    (y, g)
}

fn part_of(s: &Splits, n: usize) -> Vec<Option<usize>> {
    let mut part = vec![None; n];
    for (k, p) in [&s.train, &s.val, &s.test].into_iter().enumerate() {
        for &i in p {
            assert!(part[i].is_none(), "sample {i} in two splits");
            part[i] = Some(k);
        }
    }
    part
}

fn fractions() -> impl Strategy<Value = SplitFractions> {
    prop_oneof![
        Just(SplitFractions::default()),
        Just(SplitFractions {
            train: 0.6,
            val: 0.2,
            test: 0.2
        }),
        Just(SplitFractions {
            train: 0.8,
            val: 0.0,
            test: 0.2
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn no_group_is_shared_and_the_class_counts_stay_near_their_targets(
        groups in prop::collection::vec((1usize..7, 0usize..4), 3..80),
        fr in fractions(),
        seed in 0u64..1000,
    ) {
        let (y, g) = data(&groups);
        let result = stratified_group_split(&y, &g, fr, seed);
        let s = match result {
            Ok(s) => s,
            // Refusals name the counts (checked elsewhere); they must be refusals of a split
            // that cannot give every split a positive or a group.
            Err(DataError::Unmeetable { what, reason }) => {
                prop_assert_eq!(what, "a split by group");
                prop_assert!(reason.contains("group"), "{}", reason);
                // Refused only when the groups cannot give every split a positive: fewer
                // groups, or fewer groups with positives, than splits.
                let splits = [fr.train, fr.val, fr.test].iter().filter(|&&f| f > 0.0).count();
                let with_positive = groups.iter().filter(|&&(_, p)| p > 0).count();
                let any_positive = with_positive > 0;
                prop_assert!(
                    groups.len() < splits || (any_positive && with_positive < splits),
                    "refused although {} groups ({} with positives) could fill {} splits: {}",
                    groups.len(), with_positive, splits, reason
                );
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        };
        // Every sample in exactly one split; each split sorted.
        let part = part_of(&s, y.len());
        prop_assert!(part.iter().all(Option::is_some));
        for p in [&s.train, &s.val, &s.test] {
            prop_assert!(p.windows(2).all(|w| w[0] < w[1]));
        }
        // No group in two splits.
        let mut split_of: HashMap<usize, usize> = HashMap::new();
        for (i, &gid) in g.iter().enumerate() {
            let k = part[i].unwrap_or(9);
            prop_assert_eq!(*split_of.entry(gid).or_insert(k), k, "group {} split", gid);
        }
        // A split of fraction 0 is empty; every other split holds a positive (when there are
        // positives at all).
        let fr3 = [fr.train, fr.val, fr.test];
        let any_positive = y.contains(&1);
        for (k, p) in [&s.train, &s.val, &s.test].into_iter().enumerate() {
            if fr3[k] == 0.0 {
                prop_assert!(p.is_empty());
            } else {
                prop_assert!(!p.is_empty(), "split {} is empty", k);
                prop_assert!(!any_positive || p.iter().any(|&i| y[i] == 1), "split {} has no positive", k);
            }
        }
        // Class counts within the bound: |n[k][c] - N[c] f[k]| <= 2 * (the largest count of
        // class c in one group): the greedy rule moves whole groups, so no split can be closer
        // than a group's size, and it never strays two groups from the target.
        for c in 0..2 {
            let total = y.iter().filter(|&&l| l == c).count() as f64;
            let largest = groups
                .iter()
                .map(|&(size, pos)| if c == 1 { pos.min(size) } else { size - pos.min(size) })
                .max()
                .unwrap_or(0) as f64;
            for (k, p) in [&s.train, &s.val, &s.test].into_iter().enumerate() {
                let n = p.iter().filter(|&&i| y[i] == c).count() as f64;
                let target = total * fr3[k];
                prop_assert!(
                    (n - target).abs() <= 2.0 * largest,
                    "class {} split {}: {} vs target {:.1} (largest group {})", c, k, n, target, largest
                );
            }
        }
        // The same seed gives the same splits.
        prop_assert_eq!(stratified_group_split(&y, &g, fr, seed).unwrap(), s);
    }
}

#[test]
fn groups_of_one_sample_split_like_samples() {
    // 900 negatives and 100 positives, each its own group: the ratio holds in every split
    // within a sample or two, as the per-sample split holds it.
    let y: Vec<usize> = (0..1000).map(|i| usize::from(i % 10 == 0)).collect();
    let g: Vec<usize> = (0..1000).collect();
    let s = stratified_group_split(&y, &g, SplitFractions::default(), 3).unwrap();
    for (p, share) in [(&s.train, 0.7), (&s.val, 0.15), (&s.test, 0.15)] {
        let pos = p.iter().filter(|&&i| y[i] == 1).count() as f64;
        assert!(
            (pos - 100.0 * share).abs() <= 1.0,
            "{pos} positives for {share}"
        );
        assert!(
            (p.len() as f64 - 1000.0 * share).abs() <= 2.0,
            "{} samples",
            p.len()
        );
    }
}

#[test]
fn seeds_draw_different_splits_and_patients_never_leak() {
    // ISIC-like: 200 patients of 1 to 8 images, 1 in 12 patients with a melanoma.
    let groups: Vec<(usize, usize)> = (0..200)
        .map(|p| (1 + p * 37 % 8, usize::from(p % 12 == 0) * (1 + p % 2)))
        .collect();
    let (y, g) = data(&groups);
    let mut seen = Vec::new();
    for seed in 0..20 {
        let s = stratified_group_split(&y, &g, SplitFractions::default(), seed).unwrap();
        let part = part_of(&s, y.len());
        let mut split_of: HashMap<usize, Option<usize>> = HashMap::new();
        for (i, &gid) in g.iter().enumerate() {
            assert_eq!(
                *split_of.entry(gid).or_insert(part[i]),
                part[i],
                "seed {seed}"
            );
        }
        seen.push(s);
    }
    seen.dedup();
    assert!(seen.len() > 1, "the seed shuffles the ties");
}

#[test]
fn refusals_name_the_counts() {
    // Positives in two patients only: three splits cannot each have one.
    let (y, g) = data(&[(3, 3), (2, 1), (4, 0), (4, 0), (4, 0)]);
    let e = stratified_group_split(&y, &g, SplitFractions::default(), 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("in 2 groups") && e.contains("3 splits"), "{e}");
    // Two groups for three splits.
    let (y, g) = data(&[(3, 1), (3, 1)]);
    let e = stratified_group_split(&y, &g, SplitFractions::default(), 0)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("2 groups") && e.contains("train, val, test"),
        "{e}"
    );
    // Without validation, two groups with positives are enough.
    let (y, g) = data(&[(3, 1), (3, 1), (5, 0), (5, 0), (5, 0), (5, 0)]);
    let fr = SplitFractions {
        train: 0.8,
        val: 0.0,
        test: 0.2,
    };
    let s = stratified_group_split(&y, &g, fr, 0).unwrap();
    assert!(s.val.is_empty());
    // Lengths that differ are refused.
    assert!(stratified_group_split(&[0, 1], &[0], fr, 0).is_err());
}
