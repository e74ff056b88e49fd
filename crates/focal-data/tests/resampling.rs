//! Samplers and resamplers: counts follow the strategy, SMOTE points lie on segments between
//! same-class neighbours, same seed same output.

use std::collections::BTreeMap;
use std::time::Instant;

use focal_data::class_counts as counts;
use focal_data::sampling::{
    RandomOverSampler, RandomUnderSampler, Resampler, SamplingStrategy, Smote,
    WeightedRandomSampler,
};

/// 2-D points: 90 of class 0 around (0, 0), 10 of class 1 around (5, 5), pseudo-random but fixed.
fn toy() -> (Vec<f32>, Vec<usize>) {
    let mut x = Vec::new();
    let mut y = Vec::new();
    for i in 0..100u32 {
        let c = usize::from(i % 10 == 3);
        let base = if c == 1 { 5.0 } else { 0.0 };
        let a = ((i * 37 % 101) as f32) / 101.0;
        let b = ((i * 59 % 103) as f32) / 103.0;
        x.extend([base + a, base + b]);
        y.push(c);
    }
    (x, y)
}

#[test]
fn over_and_under_sampling_counts_match_the_strategy() {
    let (x, y) = toy();
    let cases: Vec<(Box<dyn Resampler>, Vec<usize>)> = vec![
        (
            Box::new(RandomOverSampler {
                strategy: SamplingStrategy::Auto,
            }),
            vec![90, 90],
        ),
        (
            Box::new(RandomOverSampler {
                strategy: SamplingStrategy::Ratio(0.5),
            }),
            vec![90, 45],
        ),
        (
            Box::new(RandomOverSampler {
                strategy: SamplingStrategy::Counts(BTreeMap::from([(1, 30)])),
            }),
            vec![90, 30],
        ),
        (
            Box::new(RandomUnderSampler {
                strategy: SamplingStrategy::Auto,
            }),
            vec![10, 10],
        ),
        (
            Box::new(RandomUnderSampler {
                strategy: SamplingStrategy::Ratio(0.25),
            }),
            vec![40, 10],
        ),
        (
            Box::new(Smote {
                k_neighbors: 5,
                strategy: SamplingStrategy::Auto,
            }),
            vec![90, 90],
        ),
        (
            Box::new(Smote {
                k_neighbors: 3,
                strategy: SamplingStrategy::Ratio(0.2),
            }),
            vec![90, 18],
        ),
    ];
    for (sampler, want) in cases {
        let (rx, ry) = sampler.fit_resample(&x, &y, 2, 7).unwrap();
        assert_eq!(counts(&ry, 2), want);
        assert_eq!(rx.len(), ry.len() * 2);
        // Same seed, same output; another seed, another output (unless nothing is drawn).
        assert_eq!(
            sampler.fit_resample(&x, &y, 2, 7).unwrap(),
            (rx.clone(), ry.clone())
        );
        assert_ne!(sampler.fit_resample(&x, &y, 2, 8).unwrap().0, rx);
    }
}

#[test]
fn random_over_sampling_only_duplicates_existing_samples() {
    let (x, y) = toy();
    let (rx, ry) = RandomOverSampler {
        strategy: SamplingStrategy::Auto,
    }
    .fit_resample(&x, &y, 2, 1)
    .unwrap();
    assert_eq!(&rx[..x.len()], &x[..]);
    for (s, &l) in rx.chunks(2).zip(&ry).skip(100) {
        assert_eq!(l, 1);
        assert!(x.chunks(2).zip(&y).any(|(o, &ol)| o == s && ol == 1));
    }
}

#[test]
fn impossible_strategies_are_errors() {
    let (x, y) = toy();
    let over = RandomOverSampler {
        strategy: SamplingStrategy::Ratio(0.05),
    };
    assert!(over.fit_resample(&x, &y, 2, 0).is_err());
    let under = RandomUnderSampler {
        strategy: SamplingStrategy::Counts(BTreeMap::from([(1, 11)])),
    };
    assert!(under.fit_resample(&x, &y, 2, 0).is_err());
    let smote = Smote {
        k_neighbors: 10,
        strategy: SamplingStrategy::Auto,
    };
    let err = smote.fit_resample(&x, &y, 2, 0).unwrap_err().to_string();
    assert!(err.contains("class 1 has 10 samples"), "{err}");
    assert!(
        RandomOverSampler {
            strategy: SamplingStrategy::Auto
        }
        .fit_resample(&x, &y, 3, 0)
        .is_err()
    );
}

/// Brute-force k nearest same-class neighbours of minority sample `i` (indices into `rows`).
fn knn(rows: &[&[f32]], i: usize, k: usize) -> Vec<usize> {
    let mut d: Vec<(f32, usize)> = rows
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .map(|(j, r)| {
            (
                r.iter().zip(rows[i]).map(|(a, b)| (a - b) * (a - b)).sum(),
                j,
            )
        })
        .collect();
    d.sort_by(|a, b| a.partial_cmp(b).unwrap());
    d.into_iter().take(k).map(|(_, j)| j).collect()
}

#[test]
fn smote_points_lie_on_a_segment_to_one_of_the_k_neighbours() {
    let (x, y) = toy();
    let k = 3;
    let (rx, ry) = Smote {
        k_neighbors: k,
        strategy: SamplingStrategy::Auto,
    }
    .fit_resample(&x, &y, 2, 11)
    .unwrap();
    assert_eq!(&rx[..x.len()], &x[..]);
    let minority: Vec<&[f32]> = x
        .chunks(2)
        .zip(&y)
        .filter(|(_, l)| **l == 1)
        .map(|(r, _)| r)
        .collect();
    for (p, &l) in rx.chunks(2).zip(&ry).skip(100) {
        assert_eq!(l, 1);
        // Some minority sample i and one of its k neighbours z with p = x_i + t (x_z - x_i),
        // t in [0, 1]: collinear (cross product ~ 0) and between (tolerance 1e-4).
        let on_segment = (0..minority.len()).any(|i| {
            knn(&minority, i, k).into_iter().any(|z| {
                let (a, b) = (minority[i], minority[z]);
                let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
                let (px, py) = (p[0] - a[0], p[1] - a[1]);
                let cross = dx * py - dy * px;
                let len2 = dx * dx + dy * dy;
                let t = if len2 > 0.0 {
                    (px * dx + py * dy) / len2
                } else {
                    0.0
                };
                cross.abs() < 1e-4 && (-1e-4..=1.0 + 1e-4).contains(&t)
            })
        });
        assert!(
            on_segment,
            "{p:?} is on no segment between a minority sample and its neighbours"
        );
    }
}

#[test]
fn smote_on_flattened_images_finishes_in_seconds() {
    // 20,000 samples of 784 values, 400 in the minority: neighbours are searched for the
    // minority only. Budget: 20 s in the dev profile (0.1 s measured on 2 cores).
    let n = 20_000;
    let d = 784;
    let mut x = vec![0f32; n * d];
    for (i, v) in x.iter_mut().enumerate() {
        *v = ((i * 2_654_435_761) % 1000) as f32 / 1000.0;
    }
    let y: Vec<usize> = (0..n).map(|i| usize::from(i % 50 == 0)).collect();
    let t = Instant::now();
    let (_, ry) = Smote {
        k_neighbors: 5,
        strategy: SamplingStrategy::Ratio(0.1),
    }
    .fit_resample(&x, &y, d, 0)
    .unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(counts(&ry, 2), vec![19_600, 1_960]);
    assert!(secs < 20.0, "SMOTE took {secs:.1} s");
}

#[test]
fn smote_with_a_large_minority_stays_fast() {
    // 2,000 minority samples of 784 values brought up to 18,000: every minority row needs its
    // neighbours (2,000 x 2,000 distances). Budget 60 s in the dev profile.
    let n = 20_000;
    let d = 784;
    let x: Vec<f32> = (0..n * d)
        .map(|i| ((i * 2_654_435_761) % 997) as f32 / 997.0)
        .collect();
    let y: Vec<usize> = (0..n).map(|i| usize::from(i % 10 == 0)).collect();
    let t = Instant::now();
    let (_, ry) = Smote::default().fit_resample(&x, &y, d, 0).unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(counts(&ry, 2), vec![18_000, 18_000]);
    println!("SMOTE, 2,000 x 784 minority to 18,000: {secs:.2} s");
    assert!(secs < 60.0, "SMOTE took {secs:.1} s");
}

#[test]
fn weighted_sampler_balances_classes_and_repeats_per_seed() {
    let (_, y) = toy();
    let s = WeightedRandomSampler::balanced(&y, 20_000).unwrap();
    let p = s.probabilities();
    // Each class has total probability 1/2 (tolerance 1e-9).
    let p1: f64 = p
        .iter()
        .zip(&y)
        .filter(|(_, l)| **l == 1)
        .map(|(p, _)| p)
        .sum();
    assert!((p1 - 0.5).abs() < 1e-9);
    let idx = s.epoch_indices(3);
    assert_eq!(idx.len(), 20_000);
    assert_eq!(idx, s.epoch_indices(3));
    assert_ne!(idx, s.epoch_indices(4));
    let drawn_1 = idx.iter().filter(|&&i| y[i] == 1).count() as f64 / 20_000.0;
    // Binomial standard deviation at n = 20,000 is 0.0035; allow 5 of them.
    assert!((drawn_1 - 0.5).abs() < 0.018, "{drawn_1}");

    let w = WeightedRandomSampler::from_class_weights(&y, &[0.0, 1.0], 100).unwrap();
    assert!(w.epoch_indices(0).iter().all(|&i| y[i] == 1));
    assert!(WeightedRandomSampler::from_class_weights(&y, &[1.0], 10).is_err());
    assert!(WeightedRandomSampler::from_class_weights(&y, &[-1.0, 1.0], 10).is_err());
}
