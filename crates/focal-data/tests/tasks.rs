//! Task building (exact counts, deterministic) and stratified, disjoint splits.

use focal_data::split::stratified_split;
use focal_data::task::{ClassSelector, TaskSpec, build_task};
use focal_data::{DataError, DataFormat, Dataset, SampleKind, SplitFractions, Splits, bundled};

fn spec(
    positive: Option<&str>,
    ratio: Option<(u32, u32)>,
    long_tail: Option<f64>,
    seed: u64,
) -> TaskSpec {
    TaskSpec {
        positive: positive.map(|p| p.parse::<ClassSelector>().unwrap()),
        ratio,
        long_tail,
        allow_majority_positive: false,
        seed,
    }
}

#[test]
fn bag_at_98_to_2_has_exact_counts_and_is_deterministic() {
    let ds = bundled().unwrap();
    let t = build_task(&ds, &spec(Some("Bag"), Some((98, 2)), None, 0)).unwrap();
    assert_eq!(t.class_names, vec!["not Bag", "Bag"]);
    // 98:2 = 49:1; 1000 bags allow 1000, 9000 others allow 9000 / 49 = 183 -> 8967:183.
    assert_eq!(t.class_counts(), vec![8967, 183]);
    assert_eq!(
        t.fingerprint(),
        build_task(&ds, &spec(Some("8"), Some((98, 2)), None, 0))
            .unwrap()
            .fingerprint()
    );
    assert_ne!(
        t.fingerprint(),
        build_task(&ds, &spec(Some("Bag"), Some((98, 2)), None, 1))
            .unwrap()
            .fingerprint()
    );
    // Every kept positive is a real bag image.
    let bags: Vec<std::borrow::Cow<[f32]>> = (0..ds.n_samples())
        .filter(|&i| ds.y[i] == 8)
        .map(|i| ds.sample(i))
        .collect();
    let first_pos = (0..t.n_samples()).find(|&i| t.y[i] == 1).unwrap();
    assert!(bags.contains(&t.sample(first_pos)));
}

#[test]
fn positive_without_ratio_relabels_only() {
    let ds = bundled().unwrap();
    let t = build_task(&ds, &spec(Some("Trouser"), None, None, 0)).unwrap();
    assert_eq!(t.n_samples(), 10_000);
    assert_eq!(t.class_counts(), vec![9000, 1000]);
    assert!(matches!(
        build_task(&ds, &spec(Some("Hat"), None, None, 0)),
        Err(DataError::UnknownClass { .. })
    ));
    assert!(build_task(&ds, &spec(None, Some((9, 1)), None, 0)).is_err());
}

#[test]
fn long_tail_counts_follow_cui_et_al() {
    let ds = bundled().unwrap();
    let t = build_task(&ds, &spec(None, None, Some(100.0), 3)).unwrap();
    // Python: [int(1000 * 100 ** (-i / 9)) for i in range(10)]
    assert_eq!(
        t.class_counts(),
        vec![1000, 599, 359, 215, 129, 77, 46, 27, 16, 10]
    );
    assert_eq!(t.class_names, ds.class_names);
}

fn two_class(n0: usize, n1: usize, splits: Option<Splits>) -> Dataset {
    let y: Vec<usize> = (0..n0 + n1).map(|i| usize::from(i >= n0)).collect();
    let x: Vec<f32> = (0..y.len()).map(|i| i as f32).collect();
    Dataset::new(
        DataFormat::Csv,
        None,
        SampleKind::Tabular { n_features: 1 },
        x,
        y,
        vec!["neg".into(), "pos".into()],
        splits,
    )
    .unwrap()
}

#[test]
fn ratio_is_applied_within_each_predefined_split() {
    // train: 0..80 (60 neg, 20 pos), test: 80..100 (10 neg, 10 pos).
    let ds = {
        let mut y = vec![0; 60];
        y.extend(vec![1; 20]);
        y.extend(vec![0; 10]);
        y.extend(vec![1; 10]);
        let x: Vec<f32> = (0..100).map(|i| i as f32).collect();
        let splits = Splits {
            train: (0..80).collect(),
            val: vec![],
            test: (80..100).collect(),
        };
        Dataset::new(
            DataFormat::Csv,
            None,
            SampleKind::Tabular { n_features: 1 },
            x,
            y,
            vec!["neg".into(), "pos".into()],
            Some(splits),
        )
        .unwrap()
    };
    let t = build_task(&ds, &spec(None, Some((9, 1)), None, 5)).unwrap();
    let s = t.splits.clone().unwrap();
    assert_eq!(t.class_counts_of(&s.train), vec![54, 6]);
    assert_eq!(t.class_counts_of(&s.test), vec![9, 1]);
    // Kept samples came from their own split.
    assert!(s.train.iter().all(|&i| t.sample(i)[0] < 80.0));
    assert!(s.test.iter().all(|&i| t.sample(i)[0] >= 80.0));
}

#[test]
fn unmeetable_ratio_names_the_counts() {
    let ds = two_class(40, 5, None);
    let err = build_task(&ds, &spec(Some("pos"), Some((98, 2)), None, 0)).unwrap_err();
    assert!(matches!(err, DataError::Unmeetable { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("40 negative") && msg.contains("5 positive") && msg.contains("98:2"),
        "{msg}"
    );
}

#[test]
fn stratified_split_is_disjoint_complete_stratified_and_deterministic() {
    let ds = two_class(900, 100, None);
    let f = SplitFractions {
        train: 0.6,
        val: 0.2,
        test: 0.2,
    };
    let s = stratified_split(&ds.y, f, 42).unwrap();
    let mut all: Vec<usize> = s
        .train
        .iter()
        .chain(&s.val)
        .chain(&s.test)
        .copied()
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..1000).collect::<Vec<_>>());
    assert_eq!(ds.class_counts_of(&s.train), vec![540, 60]);
    assert_eq!(ds.class_counts_of(&s.val), vec![180, 20]);
    assert_eq!(ds.class_counts_of(&s.test), vec![180, 20]);
    assert_eq!(s, stratified_split(&ds.y, f, 42).unwrap());
    assert_ne!(s, stratified_split(&ds.y, f, 43).unwrap());
    assert!(
        stratified_split(
            &ds.y,
            SplitFractions {
                train: 0.5,
                val: 0.2,
                test: 0.2
            },
            0
        )
        .is_err()
    );
}

#[test]
fn resolve_splits_keeps_predefined_and_carves_val_from_train() {
    let splits = Splits {
        train: (0..80).collect(),
        val: vec![],
        test: (80..100).collect(),
    };
    let mut y = vec![0; 100];
    for i in (0..100).step_by(4) {
        y[i] = 1;
    }
    let x: Vec<f32> = (0..100).map(|i| i as f32).collect();
    let ds = Dataset::new(
        DataFormat::Csv,
        None,
        SampleKind::Tabular { n_features: 1 },
        x,
        y,
        vec!["a".into(), "b".into()],
        Some(splits),
    )
    .unwrap();
    let r = ds
        .resolve_splits(
            SplitFractions {
                train: 0.75,
                val: 0.25,
                test: 0.0,
            },
            1,
        )
        .unwrap();
    assert_eq!(r.test, (80..100).collect::<Vec<_>>());
    assert_eq!(r.train.len() + r.val.len(), 80);
    assert!(r.val.iter().all(|i| *i < 80 && !r.train.contains(i)));
    // train has 60 of class 0 and 20 of class 1; a quarter of each goes to val.
    assert_eq!(ds.class_counts_of(&r.val), vec![15, 5]);

    let bundled = bundled().unwrap();
    let r = bundled
        .resolve_splits(SplitFractions::default(), 0)
        .unwrap();
    assert_eq!(bundled.class_counts_of(&r.test), vec![150; 10]);
    assert_eq!(bundled.class_counts_of(&r.val), vec![150; 10]);
    assert_eq!(bundled.class_counts_of(&r.train), vec![700; 10]);
}

#[test]
fn a_task_built_from_a_data_set_given_up_is_the_one_built_from_a_borrowed_one() {
    use focal_data::task::{build_task_rows, build_task_rows_owned};
    let split = Splits {
        train: (0..50).chain(80..90).collect(),
        val: vec![],
        test: (50..80).chain(90..100).collect(),
    };
    let cases = [
        (
            bundled().unwrap(),
            spec(Some("Bag"), Some((98, 2)), None, 0),
        ),
        (bundled().unwrap(), spec(Some("Trouser"), None, None, 0)),
        (bundled().unwrap(), spec(None, None, Some(100.0), 3)),
        (
            two_class(80, 20, Some(split)),
            spec(None, Some((9, 1)), None, 5),
        ),
        (two_class(80, 20, None), spec(Some("pos"), None, None, 1)),
    ];
    for (ds, spec) in cases {
        let (a, rows_a) = build_task_rows(&ds, &spec).unwrap();
        let (b, rows_b) = build_task_rows_owned(ds, &spec).unwrap();
        assert_eq!(rows_a, rows_b, "{spec:?}");
        assert_eq!(a.x, b.x, "{spec:?}");
        assert_eq!(a.y, b.y, "{spec:?}");
        assert_eq!(a.class_names, b.class_names, "{spec:?}");
        assert_eq!(a.splits, b.splits, "{spec:?}");
        assert_eq!(a.fingerprint(), b.fingerprint(), "{spec:?}");
    }
}
