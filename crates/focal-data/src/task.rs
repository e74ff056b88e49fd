//! Task building: the rare (positive) class, an imposed ratio, or a long-tailed profile.
//!
//! # Convention
//! With a positive class the task is binary: **label 1 is the positive (rare) class**, label 0
//! every other class. Class names are `["not <name>", "<name>"]`, or `["<other>", "<name>"]`
//! when the source has exactly two classes. The metrics crate reads class 1 as the positive.

use std::str::FromStr;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::dataset::{Dataset, Splits};
use crate::error::DataError;
use crate::msg;
use crate::setting::{DataSetting, Message};

/// A class chosen by name (`"Bag"`) or index (`"8"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassSelector {
    /// A class name, matched exactly, then ignoring ASCII case.
    Name(String),
    /// A label index.
    Index(usize),
}

impl FromStr for ClassSelector {
    type Err = DataError;

    /// A whole number is an index, anything else a name.
    fn from_str(s: &str) -> Result<Self, DataError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(DataError::arg(
                DataSetting::Positive,
                s,
                "give a class name or index",
            ));
        }
        Ok(match s.parse::<usize>() {
            Ok(i) => ClassSelector::Index(i),
            Err(_) => ClassSelector::Name(s.to_string()),
        })
    }
}

impl ClassSelector {
    /// The label this selector names in `class_names`.
    pub fn resolve(&self, class_names: &[String]) -> Result<usize, DataError> {
        let found = match self {
            ClassSelector::Index(i) => (*i < class_names.len()).then_some(*i),
            ClassSelector::Name(n) => class_names
                .iter()
                .position(|c| c == n)
                .or_else(|| class_names.iter().position(|c| c.eq_ignore_ascii_case(n))),
        };
        found.ok_or_else(|| DataError::UnknownClass {
            name: match self {
                ClassSelector::Index(i) => i.to_string(),
                ClassSelector::Name(n) => n.clone(),
            },
            available: class_names
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{i} {c}"))
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

/// Parses a ratio `"98:2"` (negative:positive) into `(98, 2)`; both parts must be positive.
pub fn parse_ratio(s: &str) -> Result<(u32, u32), DataError> {
    let bad = || {
        DataError::arg(
            DataSetting::Ratio,
            s,
            "expected NEGATIVE:POSITIVE with two positive whole numbers, e.g. 98:2",
        )
    };
    let (a, b) = s.split_once(':').ok_or_else(bad)?;
    let a: u32 = a.trim().parse().map_err(|_| bad())?;
    let b: u32 = b.trim().parse().map_err(|_| bad())?;
    if a == 0 || b == 0 {
        return Err(bad());
    }
    Ok((a, b))
}

/// What task to build from a data set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskSpec {
    /// The positive (rare) class; `None` keeps all classes (multi-class).
    pub positive: Option<ClassSelector>,
    /// `negative:positive` ratio imposed by subsampling, e.g. `(98, 2)`. Needs `positive`, or a
    /// two-class source (whose class 1 is then the positive).
    pub ratio: Option<(u32, u32)>,
    /// Long-tailed multi-class profile with this imbalance factor (largest / smallest class,
    /// >= 1): `n_i = floor(n_max * IF^(-i / (C - 1)))` for class index `i` (Cui et al. 2019).
    pub long_tail: Option<f64>,
    /// Accept a positive class that outnumbers the negatives (by default an error: the
    /// positive class is meant to be the rare one, and every "minority" figure reads it).
    pub allow_majority_positive: bool,
    /// Seed of the subsampling.
    pub seed: u64,
}

impl TaskSpec {
    /// Checks what can be checked before any data is read: a long-tailed profile keeps every
    /// class (so no positive class or ratio beside it), its factor is a finite number >= 1, and
    /// a ratio read backwards (`2:98` is NEGATIVE:POSITIVE) would make the positive class the
    /// majority unless [`TaskSpec::allow_majority_positive`].
    pub fn check(&self) -> Result<(), DataError> {
        if let Some(f) = self.long_tail {
            if self.positive.is_some() || self.ratio.is_some() {
                return Err(DataError::arg(
                    DataSetting::LongTail,
                    f,
                    msg![
                        "a long-tailed profile keeps all classes; use it without ",
                        DataSetting::Positive,
                        " and ",
                        DataSetting::Ratio,
                    ],
                ));
            }
            if !(f.is_finite() && f >= 1.0) {
                return Err(DataError::arg(
                    DataSetting::LongTail,
                    f,
                    "the imbalance factor must be a finite number >= 1",
                ));
            }
        }
        if let (Some((a, b)), false) = (self.ratio, self.allow_majority_positive)
            && b > a
        {
            let mut reason = msg![format!(
                "the ratio is NEGATIVE:POSITIVE, so it makes the positive class the majority ({b} \
                 in every {}; did you mean {b}:{a}?): ",
                a + b
            )];
            reason.0.extend(majority_fix().0);
            return Err(DataError::arg(
                DataSetting::Ratio,
                format!("{a}:{b}"),
                reason,
            ));
        }
        Ok(())
    }
}

/// Builds the task `spec` describes from `ds`.
///
/// 1. With `positive`, labels become binary (see the module docs for the convention).
/// 2. With `ratio = (a, b)`, negatives and positives are subsampled, without replacement and
///    deterministically from `seed`, to exactly `a:b` (reduced by their gcd `g`: `t * a/g`
///    negatives and `t * b/g` positives, with `t` as large as the data allows). When `ds` has
///    predefined splits the ratio is imposed within each split and the splits are kept.
/// 3. With `long_tail = IF`, class `i` keeps `floor(n_max * IF^(-i/(C-1)))` samples, `n_max` as
///    large as the class counts allow (per split when there are splits).
///
/// Kept samples stay in their original order. A ratio or profile that cannot be met (a class
/// that would keep no sample) is an [`DataError::Unmeetable`] naming the counts.
pub fn build_task(ds: &Dataset, spec: &TaskSpec) -> Result<Dataset, DataError> {
    build_task_rows(ds, spec).map(|(task, _)| task)
}

/// [`build_task`], with the row of `ds` each sample of the task came from (increasing: kept
/// samples stay in their original order), so that a task's sample can be named by its row in
/// the source.
pub fn build_task_rows(ds: &Dataset, spec: &TaskSpec) -> Result<(Dataset, Vec<usize>), DataError> {
    let plan = plan_task(ds, spec)?;
    let mut out = match &plan.keep {
        Some(keep) => ds.subset(&keep.rows),
        None => ds.clone(),
    };
    plan.label(&mut out, ds.n_samples());
    Ok(plan.finish(out, ds.n_samples()))
}

/// [`build_task_rows`] of a data set given up to it: the task's values are the source's own,
/// all of them or the kept ones moved to the front of its buffer, so the values are never held
/// twice over (a task of a 10 GB image set needs no second 10 GB).
pub fn build_task_rows_owned(
    ds: Dataset,
    spec: &TaskSpec,
) -> Result<(Dataset, Vec<usize>), DataError> {
    let plan = plan_task(&ds, spec)?;
    let n = ds.n_samples();
    let mut out = match &plan.keep {
        Some(keep) => ds.into_subset(&keep.rows),
        None => ds,
    };
    plan.label(&mut out, n);
    Ok(plan.finish(out, n))
}

/// What a task makes of its source: new labels and class names, and the rows kept.
struct TaskPlan {
    /// Labels of every row of the source (binary with a positive class), and class names.
    labels: Option<(Vec<usize>, Vec<String>)>,
    /// The rows kept, when not all of them, with the kept rows of each predefined split.
    keep: Option<Kept>,
}

struct Kept {
    rows: Vec<usize>,
    splits: Option<[Vec<usize>; 3]>,
}

impl TaskPlan {
    /// Gives `out` (the source's kept rows, in order) the task's labels and class names.
    fn label(&self, out: &mut Dataset, source_len: usize) {
        if let Some((y, names)) = &self.labels {
            out.y = match &self.keep {
                Some(keep) => keep.rows.iter().map(|&i| y[i]).collect(),
                None => y.clone(),
            };
            out.class_names = names.clone();
        }
        debug_assert!(self.keep.is_some() || out.n_samples() == source_len);
    }

    /// The task with its predefined splits renumbered, and the source row of each sample.
    fn finish(self, mut out: Dataset, source_len: usize) -> (Dataset, Vec<usize>) {
        let Some(keep) = self.keep else {
            return (out, (0..source_len).collect());
        };
        out.splits = keep.splits.map(|[train, val, test]| {
            let mut new_index = vec![usize::MAX; source_len];
            for (j, &i) in keep.rows.iter().enumerate() {
                new_index[i] = j;
            }
            let remap = |v: Vec<usize>| v.into_iter().map(|i| new_index[i]).collect::<Vec<_>>();
            Splits {
                train: remap(train),
                val: remap(val),
                test: remap(test),
            }
        });
        (out, keep.rows)
    }
}

/// Labels, class names and kept rows of the task `spec` on `ds`, its values untouched.
fn plan_task(ds: &Dataset, spec: &TaskSpec) -> Result<TaskPlan, DataError> {
    spec.check()?;
    let mut labels = None;
    let positive = match &spec.positive {
        Some(sel) => Some(sel.resolve(&ds.class_names)?),
        None if spec.ratio.is_some() && ds.n_classes() == 2 => Some(1),
        None if spec.ratio.is_some() => {
            return Err(DataError::arg(
                DataSetting::Ratio,
                format_ratio(spec.ratio),
                msg![
                    format!(
                        "a ratio needs a positive class: the data set has {} classes; name it \
                         with ",
                        ds.n_classes()
                    ),
                    DataSetting::Positive,
                    " (a name or an index)",
                ],
            ));
        }
        None => None,
    };
    if let Some(p) = positive {
        let name = &ds.class_names[p];
        let negative = if ds.n_classes() == 2 {
            ds.class_names[1 - p].clone()
        } else {
            format!("not {name}")
        };
        let y: Vec<usize> = ds.y.iter().map(|&l| usize::from(l == p)).collect();
        if !spec.allow_majority_positive {
            check_positive_is_rare(&y, spec.ratio, name)?;
        }
        labels = Some((y, vec![negative, name.clone()]));
    }
    let targets: Box<TargetFn> = match (spec.ratio, spec.long_tail) {
        (Some((a, b)), _) => {
            Box::new(move |counts: &[usize], part: &str| ratio_targets(counts, a, b, part))
        }
        (None, Some(f)) => {
            if ds.n_classes() < 2 {
                return Err(DataError::arg(
                    DataSetting::LongTail,
                    f,
                    "needs at least two classes",
                ));
            }
            Box::new(move |counts: &[usize], part: &str| long_tail_targets(counts, f, part))
        }
        (None, None) => return Ok(TaskPlan { labels, keep: None }),
    };
    let (y, n_classes) = match &labels {
        Some((y, names)) => (y, names.len()),
        None => (&ds.y, ds.n_classes()),
    };
    let parts: Vec<(&str, Vec<usize>)> = match &ds.splits {
        Some(s) => vec![
            ("train split", s.train.clone()),
            ("val split", s.val.clone()),
            ("test split", s.test.clone()),
        ],
        None => vec![("data set", (0..ds.n_samples()).collect())],
    };
    let mut kept_parts = Vec::with_capacity(parts.len());
    for (k, (part_name, indices)) in parts.iter().enumerate() {
        if indices.is_empty() {
            kept_parts.push(Vec::new());
            continue;
        }
        let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
        for &i in indices {
            by_class[y[i]].push(i);
        }
        let counts: Vec<usize> = by_class.iter().map(Vec::len).collect();
        let target = targets(&counts, part_name)?;
        let mut rng =
            ChaCha8Rng::seed_from_u64(spec.seed ^ (k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut kept = Vec::new();
        for (mut members, t) in by_class.into_iter().zip(target) {
            members.shuffle(&mut rng);
            kept.extend_from_slice(&members[..t]);
        }
        kept.sort_unstable();
        kept_parts.push(kept);
    }
    let rows: Vec<usize> = {
        let mut v: Vec<usize> = kept_parts.iter().flatten().copied().collect();
        v.sort_unstable();
        v
    };
    let splits = match (ds.splits.is_some(), <[Vec<usize>; 3]>::try_from(kept_parts)) {
        (true, Ok(parts)) => Some(parts),
        _ => None,
    };
    Ok(TaskPlan {
        labels,
        keep: Some(Kept { rows, splits }),
    })
}

/// Per-class target counts from the class counts of one part (and the part's name).
type TargetFn = dyn Fn(&[usize], &str) -> Result<Vec<usize>, DataError>;

fn format_ratio(r: Option<(u32, u32)>) -> String {
    r.map_or_else(String::new, |(a, b)| format!("{a}:{b}"))
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// What a positive class that would be the majority is told: why it is refused, and the fix.
fn majority_fix() -> Message {
    msg![
        "the positive class is meant to be the rare one (every minority figure, the tuned \
         threshold and PR-AUC read it): name the rare class with ",
        DataSetting::Positive,
        ", or pass ",
        DataSetting::AllowMajorityPositive,
    ]
}

/// Refuses a positive class that would be the majority of the task by its count among the
/// binary labels `y` (a ratio that makes it the majority is refused by [`TaskSpec::check`]).
fn check_positive_is_rare(
    y: &[usize],
    ratio: Option<(u32, u32)>,
    name: &str,
) -> Result<(), DataError> {
    if ratio.is_some() {
        return Ok(());
    }
    let positives = y.iter().filter(|&&l| l == 1).count();
    let negatives = y.len() - positives;
    if positives > negatives {
        let mut reason = msg![format!(
            "it is the majority ({positives} of {} samples): ",
            y.len()
        )];
        reason.0.extend(majority_fix().0);
        return Err(DataError::arg(DataSetting::Positive, name, reason));
    }
    Ok(())
}

/// The default positive class of a two-class data set: the one with the fewest training
/// samples (the training split when the data set has one, else every sample), class 1 on a
/// tie; `None` unless the data set has exactly two classes.
pub fn default_positive(ds: &Dataset) -> Option<usize> {
    if ds.n_classes() != 2 {
        return None;
    }
    let counts = match &ds.splits {
        Some(s) => ds.class_counts_of(&s.train),
        None => ds.class_counts(),
    };
    Some(if counts[0] < counts[1] { 0 } else { 1 })
}

/// Per-class targets `[negatives, positives]` for ratio `a:b`.
fn ratio_targets(counts: &[usize], a: u32, b: u32, part: &str) -> Result<Vec<usize>, DataError> {
    let g = gcd(u64::from(a), u64::from(b)).max(1);
    let (ra, rb) = (u64::from(a) / g, u64::from(b) / g);
    let (neg, pos) = (counts[0] as u64, counts[1] as u64);
    let t = (neg / ra).min(pos / rb);
    if t == 0 {
        return Err(DataError::Unmeetable {
            what: format!("ratio {a}:{b}"),
            reason: format!(
                "the {part} has {neg} negative and {pos} positive samples, but {a}:{b} needs at \
                 least {ra} negatives and {rb} positives; use a milder ratio or more data"
            ),
        });
    }
    Ok(vec![(t * ra) as usize, (t * rb) as usize])
}

/// Per-class targets of a long-tailed profile with imbalance factor `f`.
fn long_tail_targets(counts: &[usize], f: f64, part: &str) -> Result<Vec<usize>, DataError> {
    let c = counts.len();
    let factor = |i: usize| f.powf(-(i as f64) / (c - 1) as f64);
    // The largest n_max such that every class has floor(n_max * factor(i)) samples available.
    let mut n_max = counts[0];
    for (i, &n) in counts.iter().enumerate().skip(1) {
        // n_max * factor(i) < n + 1 keeps floor(...) <= n.
        let bound = (((n as f64) + 1.0) / factor(i)).ceil() as usize;
        n_max = n_max.min(bound.saturating_sub(1).max(n));
    }
    let mut targets: Vec<usize> = (0..c)
        .map(|i| (n_max as f64 * factor(i)).floor() as usize)
        .collect();
    // Guard against rounding: never ask for more than is there.
    while targets.iter().zip(counts).any(|(t, n)| t > n) && n_max > 0 {
        n_max -= 1;
        targets = (0..c)
            .map(|i| (n_max as f64 * factor(i)).floor() as usize)
            .collect();
    }
    if let Some(i) = targets.iter().position(|&t| t == 0) {
        return Err(DataError::Unmeetable {
            what: format!("long-tail imbalance factor {f}"),
            reason: format!(
                "the {part} has class counts {counts:?}; with n_max = {n_max}, class {i} would keep \
                 no sample (targets {targets:?}); use a smaller factor or more data"
            ),
        });
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ratios_and_selectors() {
        assert_eq!(parse_ratio("98:2").unwrap(), (98, 2));
        assert!(parse_ratio("98").is_err());
        assert!(parse_ratio("0:2").is_err());
        assert_eq!(
            "8".parse::<ClassSelector>().unwrap(),
            ClassSelector::Index(8)
        );
        assert_eq!(
            "Bag".parse::<ClassSelector>().unwrap(),
            ClassSelector::Name("Bag".into())
        );
        let names: Vec<String> = vec!["a".into(), "Bag".into()];
        assert_eq!(
            ClassSelector::Name("bag".into()).resolve(&names).unwrap(),
            1
        );
        assert!(ClassSelector::Index(2).resolve(&names).is_err());
    }

    #[test]
    fn ratio_targets_keep_as_many_as_possible() {
        assert_eq!(
            ratio_targets(&[9000, 1000], 98, 2, "x").unwrap(),
            vec![8967, 183]
        );
        assert_eq!(
            ratio_targets(&[100, 100], 1, 1, "x").unwrap(),
            vec![100, 100]
        );
        let err = ratio_targets(&[40, 5], 98, 2, "train split")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("40 negative") && err.contains("train split"),
            "{err}"
        );
    }

    #[test]
    fn long_tail_targets_follow_the_formula() {
        // Python: [int(1000 * 100 ** (-i / 9)) for i in range(10)]
        let t = long_tail_targets(&[1000; 10], 100.0, "x").unwrap();
        assert_eq!(t, vec![1000, 599, 359, 215, 129, 77, 46, 27, 16, 10]);
        // A short tail class caps n_max.
        let t = long_tail_targets(&[1000, 1000, 5], 4.0, "x").unwrap();
        assert_eq!(t, vec![23, 11, 5]);
    }
}
