//! End-to-end training on tiny generated data: every remedy, resume, the NaN guard, pretrained
//! weights. Tiny models and 2-3 epochs keep the whole file to seconds.

use std::path::Path;

use focal_data::split::SplitFractions;
use focal_data::task::TaskSpec;
use focal_data::{DataFormat, Dataset, SampleKind};
use focal_train::run::{EpochRecord, FinalMetrics, StopReason};
use focal_train::{
    AugmentChoice, AugmentScope, AugmentSpec, Augmentation, DecisionRule, ModelKind, NoProgress,
    PreparedData, RemedyKind, Streaming, TrainError, TrainSpec,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Two Gaussian blobs in 6 dimensions, 20% positives, shifted by 1.5 on every feature.
fn tabular(n: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for i in 0..n {
        let label = usize::from(i % 5 == 0);
        for _ in 0..6 {
            let g: f32 = (0..4).map(|_| rng.random::<f32>()).sum::<f32>() - 2.0;
            x.push(g + 1.5 * label as f32);
        }
        y.push(label);
    }
    two_class(SampleKind::Tabular { n_features: 6 }, x, y)
}

/// A data set of classes "common" (0) and "rare" (1).
fn two_class(kind: SampleKind, x: Vec<f32>, y: Vec<usize>) -> Dataset {
    Dataset::new(
        DataFormat::Csv,
        None,
        kind,
        x,
        y,
        vec!["common".into(), "rare".into()],
        None,
    )
    .unwrap()
}

/// 8x8 greyscale images: noise, plus a bright 3x3 square in the top-left corner for the rare class.
fn images(n: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for i in 0..n {
        let label = usize::from(i % 5 == 0);
        for r in 0..8 {
            for c in 0..8 {
                let base = if label == 1 && r < 3 && c < 3 {
                    0.8
                } else {
                    0.1
                };
                x.push(base + 0.2 * rng.random::<f32>());
            }
        }
        y.push(label);
    }
    let kind = SampleKind::Image {
        channels: 1,
        height: 8,
        width: 8,
    };
    two_class(kind, x, y)
}

fn prepared(ds: &Dataset) -> PreparedData {
    let spec = TaskSpec {
        seed: 0,
        ..Default::default()
    };
    PreparedData::new(ds, &spec, SplitFractions::default()).unwrap()
}

fn tiny_config(kind: RemedyKind) -> TrainSpec {
    TrainSpec {
        model: ModelKind::Mlp,
        epochs: 3,
        batch_size: 16,
        lr: 3e-3,
        ..TrainSpec::for_remedy(kind)
    }
}

/// Trains the checked `spec` (the loop alone: the report is focal-experiment's).
fn train(
    spec: &TrainSpec,
    data: &PreparedData,
    dir: &Path,
    progress: &dyn focal_train::Progress,
) -> Result<focal_train::RunSummary, TrainError> {
    focal_train::train(&spec.check()?, data, dir, progress)
}

fn read_metrics(dir: &Path) -> FinalMetrics {
    serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap()
}

/// metrics.json's confusion matrices are the ones predictions.csv gives: argmax, and the tuned
/// threshold on its probabilities (written exactly, so no sample is in doubt).
fn assert_metrics_match_predictions(dir: &Path) {
    let m = read_metrics(dir);
    let mut rdr = csv::Reader::from_path(dir.join("predictions.csv")).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, ["id", "y_true", "y_pred", "p_0", "p_1"]);
    let mut cm = vec![vec![0u64; 2]; 2];
    let tuned = m
        .rules
        .get(&DecisionRule::Tuned)
        .map(|r| (r.threshold.unwrap(), &r.confusion_matrix));
    let mut cm_tuned = vec![vec![0u64; 2]; 2];
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let t: usize = rec[1].parse().unwrap();
        let p: usize = rec[2].parse().unwrap();
        let p1: f32 = rec[4].parse().unwrap();
        cm[t][p] += 1;
        if let Some((th, _)) = tuned {
            cm_tuned[t][usize::from(f64::from(p1) >= th)] += 1;
        }
    }
    assert_eq!(cm, m.rules[&DecisionRule::Argmax].confusion_matrix);
    if let Some((_, want)) = tuned {
        assert_eq!(&cm_tuned, want);
    }
}

fn assert_run_folder_complete(dir: &Path) {
    for f in [
        "config.json",
        "split.json",
        "history.csv",
        "metrics.json",
        "report.txt",
        "predictions.csv",
        "curves/pr.csv",
        "curves/roc.csv",
        "curves/calibration.csv",
        "checkpoint/last/model.bpk",
        "checkpoint/last/optim.bpk",
        "checkpoint/last/state.json",
        "checkpoint/best/model.bpk",
    ] {
        assert!(dir.join(f).is_file(), "{} missing", f);
    }
}

#[test]
fn every_remedy_trains_end_to_end() {
    let data = prepared(&tabular(400, 1));
    let tmp = tempfile::tempdir().unwrap();
    for r in RemedyKind::ALL.iter().map(|k| k.info()) {
        if r.augments {
            // Augmentation transforms images: covered on images below.
            continue;
        }
        let dir = tmp.path().join(r.kind.name());
        let s = train(&tiny_config(r.kind), &data, &dir, &NoProgress)
            .unwrap_or_else(|e| panic!("{}: {e}", r.kind));
        assert_run_folder_complete(&dir);
        assert_metrics_match_predictions(&dir);
        assert_eq!(s.history.len(), 3);
        let (first, last) = (s.history[0].train_loss, s.history[2].train_loss);
        assert!(
            last < first,
            "{}: train loss {first} -> {last} did not decrease",
            r.kind.name()
        );
        // The blobs are 1.5 apart on 6 features: any remedy ranks them well.
        assert!(
            s.metrics.test_pr_auc.unwrap() > 0.7,
            "{}: {:?}",
            r.kind.name(),
            s.metrics.test_pr_auc
        );
        let history = std::fs::read_to_string(dir.join("history.csv")).unwrap();
        assert_eq!(history.lines().count(), 4, "{}", r.kind.name());
    }
}

#[test]
fn cnn_trains_on_images_and_prior_bias_applies() {
    let data = prepared(&images(200, 2));
    let mut c = tiny_config(RemedyKind::Focal);
    c.model = ModelKind::Cnn;
    c.epochs = 2;
    c.prior_bias = Some(0.01);
    let tmp = tempfile::tempdir().unwrap();
    let s = train(&c, &data, tmp.path(), &NoProgress).unwrap();
    assert_run_folder_complete(tmp.path());
    assert!(
        s.metrics.test_pr_auc.unwrap() > 0.9,
        "{:?}",
        s.metrics.test_pr_auc
    );
}

#[test]
fn resume_after_a_crash_reaches_the_same_metrics() {
    let data = prepared(&tabular(300, 3));
    let tmp = tempfile::tempdir().unwrap();
    let mut c = tiny_config(RemedyKind::Focal);
    c.clip_grad = Some(5.0);
    let whole = train(&c, &data, &tmp.path().join("whole"), &NoProgress).unwrap();

    // The same run, killed (here: a NaN injected) at the first step of the last epoch.
    let broken = tmp.path().join("broken");
    let crash = c.clone();
    let nan = focal_train::train::inject_nan_at(3, 1);
    let err = train(&crash, &data, &broken, &NoProgress).unwrap_err();
    drop(nan);
    assert!(
        matches!(
            err,
            TrainError::NonFinite {
                epoch: 3,
                step: 1,
                last_good_epoch: 2,
                ..
            }
        ),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("epoch 3, step 1") && msg.contains("gradient clipping"),
        "{msg}"
    );
    assert!(!broken.join("metrics.json").exists());

    let resumed = focal_train::resume(&broken, &data, &NoProgress).unwrap();
    assert_eq!(resumed.history.len(), 3);
    for (a, b) in whole.history.iter().zip(&resumed.history) {
        assert_eq!(a.train_loss, b.train_loss, "epoch {}", a.epoch);
        assert_eq!(a.val_pr_auc, b.val_pr_auc, "epoch {}", a.epoch);
    }
    assert_eq!(whole.metrics.rules, resumed.metrics.rules);
    // `focal eval --run` recomputes the same metrics from the checkpoint.
    let again = focal_train::evaluate_run(&broken, &data).unwrap();
    assert_eq!(again.rules, resumed.metrics.rules);
    assert_eq!(again.tuned, resumed.metrics.tuned);

    // Killed before the first checkpoint: resume starts over and ends where the whole run did.
    let early = tmp.path().join("early");
    let nan = focal_train::train::inject_nan_at(1, 1);
    let err = train(&crash, &data, &early, &NoProgress).unwrap_err();
    drop(nan);
    assert!(
        matches!(
            err,
            TrainError::NonFinite {
                last_good_epoch: 0,
                ..
            }
        ),
        "{err}"
    );
    let restarted = focal_train::resume(&early, &data, &NoProgress).unwrap();
    assert_eq!(whole.metrics.rules, restarted.metrics.rules);
    assert_eq!(
        std::fs::read(tmp.path().join("whole/predictions.csv")).unwrap(),
        std::fs::read(broken.join("predictions.csv")).unwrap()
    );
}

#[test]
fn checkpoints_every_second_epoch_resume_from_the_last_one() {
    let data = prepared(&tabular(300, 3));
    let tmp = tempfile::tempdir().unwrap();
    let mut c = tiny_config(RemedyKind::Ce);
    c.checkpoint_every = 2;
    let whole = train(&c, &data, &tmp.path().join("whole"), &NoProgress).unwrap();
    // Epochs 2 (every second) and 3 (the end) are checkpointed.
    let state: focal_train::TrainState = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("whole/checkpoint/last/state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(state.epoch, 3);
    for (crash_epoch, last_good) in [(2, 0), (3, 2)] {
        let dir = tmp.path().join(format!("crash{crash_epoch}"));
        let crash = c.clone();
        let nan = focal_train::train::inject_nan_at(crash_epoch, 1);
        let err = train(&crash, &data, &dir, &NoProgress).unwrap_err();
        drop(nan);
        assert!(
            matches!(err, TrainError::NonFinite { last_good_epoch, .. } if last_good_epoch == last_good),
            "{err}"
        );
        let resumed = focal_train::resume(&dir, &data, &NoProgress).unwrap();
        assert_eq!(resumed.metrics.rules, whole.metrics.rules);
        assert_eq!(
            std::fs::read(tmp.path().join("whole/predictions.csv")).unwrap(),
            std::fs::read(dir.join("predictions.csv")).unwrap()
        );
    }
}

#[test]
fn nan_from_a_huge_learning_rate_stops_with_epoch_and_step() {
    let data = prepared(&tabular(200, 4));
    let mut c = tiny_config(RemedyKind::Ce);
    c.optimizer = focal_train::OptimizerKind::Sgd;
    c.lr = 1e30;
    let tmp = tempfile::tempdir().unwrap();
    match train(&c, &data, tmp.path(), &NoProgress) {
        Err(TrainError::NonFinite { epoch, step, .. }) => assert!(epoch >= 1 && step >= 1),
        other => panic!("expected the NaN guard, got {other:?}"),
    }
}

#[test]
fn same_seed_same_bytes_and_early_stopping() {
    let data = prepared(&tabular(200, 5));
    let tmp = tempfile::tempdir().unwrap();
    let mut c = tiny_config(RemedyKind::Oversample);
    c.epochs = 2;
    train(&c, &data, &tmp.path().join("a"), &NoProgress).unwrap();
    train(&c, &data, &tmp.path().join("b"), &NoProgress).unwrap();
    let read = |d: &str| std::fs::read(tmp.path().join(d).join("predictions.csv")).unwrap();
    assert_eq!(read("a"), read("b"));

    c.epochs = 6;
    c.lr = 0.5; // big steps: validation PR-AUC soon stops improving
    c.early_stop = Some(1);
    let s = train(&c, &data, &tmp.path().join("c"), &NoProgress).unwrap();
    if s.metrics.stopped == StopReason::EarlyStop {
        assert!(s.metrics.epochs_run < 6);
        assert!(s.metrics.evaluated_epoch < s.metrics.epochs_run);
    } else {
        assert_eq!(s.metrics.epochs_run, 6);
    }
}

#[test]
fn image_models_refuse_tabular_data() {
    let data = prepared(&tabular(100, 6));
    let mut c = tiny_config(RemedyKind::Ce);
    c.model = ModelKind::Cnn;
    let tmp = tempfile::tempdir().unwrap();
    let e = train(&c, &data, tmp.path(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(e.contains("use model mlp"), "{e}");
}

#[test]
fn multi_class_runs_report_macro_scores_and_argmax_only() {
    // Three blobs along the first feature, counts 60:30:10.
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for i in 0..300 {
        let label = match i % 10 {
            0 => 2,
            1..=3 => 1,
            _ => 0,
        };
        for f in 0..4 {
            let g: f32 = rng.random::<f32>() - 0.5;
            x.push(g + if f == 0 { 2.0 * label as f32 } else { 0.0 });
        }
        y.push(label);
    }
    let names = vec!["a".into(), "b".into(), "c".into()];
    let ds = Dataset::new(
        DataFormat::Csv,
        None,
        SampleKind::Tabular { n_features: 4 },
        x,
        y,
        names,
        None,
    )
    .unwrap();
    let data = prepared(&ds);
    assert_eq!(data.positive(), None);
    let tmp = tempfile::tempdir().unwrap();
    let mut c = tiny_config(RemedyKind::CbFocal);
    c.epochs = 2;
    let s = train(&c, &data, tmp.path(), &NoProgress).unwrap();
    assert!(s.metrics.tuned.is_none() && !s.metrics.rules.contains_key(&DecisionRule::Tuned));
    assert_eq!(s.metrics.rules[&DecisionRule::Argmax].per_class.len(), 3);
    assert!(s.metrics.test_pr_auc.unwrap() > 0.5);
    let pr = std::fs::read_to_string(tmp.path().join("curves/pr.csv")).unwrap();
    assert!(
        pr.lines().skip(1).any(|l| l.starts_with("2,")),
        "every class one-vs-rest"
    );
    // A single alpha is for two classes.
    let mut bad = tiny_config(RemedyKind::Focal);
    bad.remedy = focal_train::Remedy::Focal {
        gamma: focal_train::Gamma::new(2.0).unwrap(),
        alpha: Some(focal_train::Alpha::Scalar(
            focal_train::PositiveWeight::new(0.25).unwrap(),
        )),
    };
    let e = train(&bad, &data, &tmp.path().join("bad"), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(e.contains("alpha") && e.contains("two classes"), "{e}");
}

#[test]
fn augmented_runs_repeat_byte_for_byte_and_resume_exactly() {
    // oversample-augment: over-sampled rare images, each copy flipped/shifted/rotated anew
    // every epoch. The small CNN on 8x8 images.
    let data = prepared(&images(160, 11));
    let tmp = tempfile::tempdir().unwrap();
    let mut c = tiny_config(RemedyKind::OversampleAugment);
    c.model = ModelKind::Cnn;
    assert_eq!(
        c.check().unwrap().augment(),
        Some(&Augmentation::default_for(AugmentScope::Minority))
    );
    let whole = train(&c, &data, &tmp.path().join("a"), &NoProgress).unwrap();
    train(&c, &data, &tmp.path().join("b"), &NoProgress).unwrap();
    let read = |d: &str, f: &str| std::fs::read(tmp.path().join(d).join(f)).unwrap();
    assert_eq!(read("a", "predictions.csv"), read("b", "predictions.csv"));
    assert_eq!(
        read_metrics(&tmp.path().join("a")).rules,
        read_metrics(&tmp.path().join("b")).rules
    );

    // The same run without augmentation (same order and initialisation: augmentation draws
    // from a stream of its own) trains on other images: another training loss.
    let mut plain = c.clone();
    plain.remedy = focal_train::Remedy::Oversample {};
    let p = train(&plain, &data, &tmp.path().join("plain"), &NoProgress).unwrap();
    assert_ne!(p.history[0].train_loss, whole.history[0].train_loss);

    // config.json records the augmentation (null without); the report shows it.
    let config: serde_json::Value = serde_json::from_slice(&read("a", "config.json")).unwrap();
    let a = &config["train"]["augment"];
    assert_eq!(a["scope"], "minority");
    assert_eq!(a["flip"], true);
    assert_eq!(a["shift"], 2);
    assert_eq!(a["rotate"], 10.0);
    let plain_config: serde_json::Value =
        serde_json::from_slice(&read("plain", "config.json")).unwrap();
    assert!(plain_config["train"]["augment"].is_null());

    // Killed at the first step of the last epoch, resumed: the uninterrupted run's numbers.
    let broken = tmp.path().join("broken");
    let crash = c.clone();
    let nan = focal_train::train::inject_nan_at(3, 1);
    train(&crash, &data, &broken, &NoProgress).unwrap_err();
    drop(nan);
    let resumed = focal_train::resume(&broken, &data, &NoProgress).unwrap();
    for (x, y) in whole.history.iter().zip(&resumed.history) {
        assert_eq!(x.train_loss, y.train_loss, "epoch {}", x.epoch);
        assert_eq!(x.val_pr_auc, y.val_pr_auc, "epoch {}", x.epoch);
    }
    assert_eq!(
        read("a", "predictions.csv"),
        std::fs::read(broken.join("predictions.csv")).unwrap()
    );

    // Validation and test are never augmented: re-evaluating the checkpoint on the plain
    // splits (validation recomputed for the threshold) gives metrics.json's numbers, which
    // reused the last epoch's validation predictions.
    let again = focal_train::evaluate_run(&tmp.path().join("a"), &data).unwrap();
    assert_eq!(again.rules, whole.metrics.rules);
    assert_eq!(again.tuned, whole.metrics.tuned);
}

#[test]
fn augmentation_transforms_a_copy_of_the_chosen_training_images() {
    let data = prepared(&images(100, 12));
    let device = focal_train::DeviceChoice::Cpu.resolve().unwrap();
    let (x, y) = data.training_set(focal_train::DataSide::None, 0).unwrap();
    let original = x.clone();
    let rows = |set: focal_train::DeviceSet| -> Vec<Vec<f32>> {
        let v = set.x().into_data().try_to_vec::<f32>().unwrap();
        v.chunks(64).map(<[f32]>::to_vec).collect()
    };
    let plain = rows(data.device_set(&x, &y, &device));
    let aug = |scope, seed| {
        let a = Augmentation::default_for(scope);
        rows(
            data.augmented_device_set(&x, &y, &a, seed, &device)
                .unwrap(),
        )
    };
    let minority = aug(AugmentScope::Minority, 1);
    assert_eq!(
        x, original,
        "the training images themselves are not changed"
    );
    let rare = data.minority();
    let changed = |a: &[Vec<f32>], i: usize| a[i] != plain[i];
    assert!(
        (0..y.len())
            .filter(|&i| y[i] != rare)
            .all(|i| !changed(&minority, i))
    );
    // Most rare images move (a draw of no flip, no shift and angle 0 leaves one alone).
    let rare_changed = (0..y.len()).filter(|&i| y[i] == rare && changed(&minority, i));
    assert!(rare_changed.count() * 2 > y.iter().filter(|&&l| l == rare).count());
    // The same seed repeats; another seed (another epoch) draws other transforms.
    assert_eq!(aug(AugmentScope::Minority, 1), minority);
    assert_ne!(aug(AugmentScope::Minority, 2), minority);
    let all = aug(AugmentScope::All, 1);
    assert!(
        (0..y.len())
            .filter(|&i| y[i] != rare)
            .any(|i| changed(&all, i))
    );
}

#[test]
fn augmentation_refuses_feature_rows_and_shifts_as_large_as_the_image() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = prepared(&tabular(100, 13));
    let mut c = tiny_config(RemedyKind::Ce);
    c.augment.scope = Some(AugmentChoice::On(AugmentScope::All));
    let e = train(&c, &rows, &tmp.path().join("rows"), &NoProgress).unwrap_err();
    assert!(matches!(e, TrainError::AugmentNeedsImages), "{e}");
    let e = train(
        &tiny_config(RemedyKind::OversampleAugment),
        &rows,
        &tmp.path().join("rows2"),
        &NoProgress,
    )
    .unwrap_err();
    assert!(e.to_string().contains("feature rows"), "{e}");

    let images = prepared(&images(100, 13));
    let mut c = tiny_config(RemedyKind::Ce);
    c.augment = AugmentSpec {
        scope: Some(AugmentChoice::On(AugmentScope::All)),
        shift: Some(8),
        ..AugmentSpec::default()
    };
    let e = train(&c, &images, &tmp.path().join("shift"), &NoProgress).unwrap_err();
    assert!(e.to_string().contains("below the image size (8x8)"), "{e}");
    // No transform at all, or a remedy that augments without augmentation: invalid configs.
    c.augment = AugmentSpec {
        scope: Some(AugmentChoice::On(AugmentScope::All)),
        flip: Some(false),
        shift: Some(0),
        rotate: Some(0.0),
    };
    assert!(matches!(c.check(), Err(TrainError::NoAugmentTransform)));
    let mut c = tiny_config(RemedyKind::OversampleAugment);
    c.augment.scope = Some(AugmentChoice::Off);
    assert!(matches!(c.check(), Err(TrainError::AugmentOff { .. })));
}

/// The records of every TFRecord in an events file (length, masked CRCs checked by framing).
fn tfrecords(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let len = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
        at += 12;
        out.push(bytes[at..at + len].to_vec());
        at += len + 4;
    }
    assert_eq!(at, bytes.len(), "{} ends inside a record", path.display());
    out
}

#[test]
fn log_dir_gets_tensorboard_events_and_one_jsonl_line_per_epoch_across_a_resume() {
    let data = prepared(&tabular(300, 3));
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    let mut c = tiny_config(RemedyKind::Focal);
    c.log_dir = Some(logs.clone());
    let run = tmp.path().join("run");
    // Killed (a NaN) in epoch 3: epochs 1 and 2 are logged, then the resume logs epoch 3.
    let crash = c.clone();
    let nan = focal_train::train::inject_nan_at(3, 1);
    train(&crash, &data, &run, &NoProgress).unwrap_err();
    drop(nan);
    let jsonl = std::fs::read_to_string(logs.join("metrics.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count(), 2, "{jsonl}");
    let resumed = focal_train::resume(&run, &data, &NoProgress).unwrap();
    let jsonl = std::fs::read_to_string(logs.join("metrics.jsonl")).unwrap();
    let epochs: Vec<EpochRecord> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(epochs, resumed.history);

    let mut files: Vec<_> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("tfevents"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "one events file per process: {files:?}");
    let contains = |records: &[Vec<u8>], what: &str| {
        records
            .iter()
            .any(|r| r.windows(what.len()).any(|w| w == what.as_bytes()))
    };
    let all: Vec<Vec<u8>> = files.iter().flat_map(|f| tfrecords(f)).collect();
    for tag in [
        "brain.Event:2",
        "train/loss_running",
        "train/loss",
        "val/pr_auc",
        "val/recall_",
        "test/pr_auc",
        "test/pr_curve",
        "pr_curves",
    ] {
        assert!(contains(&all, tag), "no {tag} in the events");
    }
    // The test PR curve is written once, by the process that finished the run.
    let first = tfrecords(&files[0]);
    assert!(!contains(&first, "test/pr_curve"));
}

/// RGB 6x5 images whose pixels are bytes over 255, as the loaders decode them.
fn byte_images(n: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x: Vec<f32> = (0..n * 3 * 6 * 5)
        .map(|_| f32::from(rng.random::<u8>()) / 255.0)
        .collect();
    let y = (0..n).map(|i| usize::from(i % 4 == 0)).collect();
    let kind = SampleKind::Image {
        channels: 3,
        height: 6,
        width: 5,
    };
    two_class(kind, x, y)
}

#[test]
fn decoded_pixels_stay_bytes_on_the_device_and_come_out_standardised_to_the_bit() {
    let device = focal_train::DeviceChoice::Cpu.resolve().unwrap();
    let ds = byte_images(40, 3);
    let data = prepared(&ds);
    let kind = ds.kind;
    let len = kind.len();
    // What the host computes: the sample standardised with the training split's statistics.
    let host = |i: usize| -> Vec<f32> {
        let mut v = ds.sample(i).to_vec();
        data.normalization.apply(&mut v, kind);
        v
    };
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    let set = data.device_set_of(&data.splits.val, &device);
    assert!(set.holds_bytes());
    let picks = [2usize, 0, 2, 1];
    let (x, y) = set.batch(&picks);
    assert_eq!(x.dims(), [4, 3, 6, 5]);
    let got = x.into_data().try_to_vec::<f32>().unwrap();
    let want: Vec<f32> = picks
        .iter()
        .flat_map(|&k| host(data.splits.val[k]))
        .collect();
    assert_eq!(bits(&got), bits(&want));
    let labels: Vec<i64> = y.into_data().iter::<i64>().collect();
    let want_labels: Vec<i64> = picks
        .iter()
        .map(|&k| ds.y[data.splits.val[k]] as i64)
        .collect();
    assert_eq!(labels, want_labels);
    let all = set.x().into_data().try_to_vec::<f32>().unwrap();
    let want_all: Vec<f32> = data.splits.val.iter().flat_map(|&i| host(i)).collect();
    assert_eq!(bits(&all), bits(&want_all));

    // One value that is not a byte over 255 (as SMOTE or resizing makes them) keeps the whole
    // set in f32, standardised the same way.
    let (mut tx, ty) = data.training_set(focal_train::DataSide::None, 0).unwrap();
    tx[7] = 0.123_456_7;
    let floats = data.device_set(&tx, &ty, &device);
    assert!(!floats.holds_bytes());
    let mut want = tx[..len].to_vec();
    data.normalization.apply(&mut want, kind);
    let got = floats
        .batch(&[0])
        .0
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(bits(&got), bits(&want));
    // The same images stored as bytes (as the loaders store them) give the same values.
    let stored = Dataset {
        x: focal_data::Values::Pixels(ds.x.iter().map(|v| (v * 255.0).round() as u8).collect()),
        ..ds.clone()
    };
    assert_eq!(stored.fingerprint(), ds.fingerprint());
    let from_bytes = prepared(&stored);
    assert_eq!(from_bytes.splits, data.splits);
    let again = from_bytes.device_set_of(&data.splits.val, &device);
    assert!(again.holds_bytes());
    let again = again.x().into_data().try_to_vec::<f32>().unwrap();
    assert_eq!(bits(&again), bits(&want_all));
    // The generated noise images of the other tests are not bytes either.
    let noise = prepared(&images(30, 1));
    assert!(
        !noise
            .device_set_of(&noise.splits.val, &device)
            .holds_bytes()
    );
}

#[test]
fn streamed_batches_train_the_same_models_as_batches_on_the_device() {
    let tmp = tempfile::tempdir().unwrap();
    let predictions = |dir: &Path| std::fs::read(dir.join("predictions.csv")).unwrap();
    let losses = |h: &[EpochRecord]| h.iter().map(|r| r.train_loss).collect::<Vec<_>>();
    // Bytes (pixels standardised on the device per batch) and f32 (standardised on the host),
    // with augmentation (a fresh augmented copy streamed each epoch) for the latter.
    let cases = [
        (
            "bytes",
            prepared(&byte_images(120, 5)),
            tiny_config(RemedyKind::Oversample),
        ),
        (
            "stored bytes",
            prepared(&Dataset {
                x: focal_data::Values::Pixels(
                    byte_images(120, 9)
                        .x
                        .iter()
                        .map(|v| (v * 255.0).round() as u8)
                        .collect(),
                ),
                ..byte_images(120, 9)
            }),
            tiny_config(RemedyKind::Ce),
        ),
        (
            "floats",
            prepared(&images(120, 6)),
            TrainSpec {
                augment: AugmentSpec {
                    scope: Some(AugmentChoice::On(AugmentScope::Minority)),
                    ..AugmentSpec::default()
                },
                ..tiny_config(RemedyKind::Focal)
            },
        ),
    ];
    for (name, data, config) in cases {
        let run = |stream, dir: &str| {
            let c = TrainSpec {
                stream,
                ..config.clone()
            };
            let dir = tmp.path().join(format!("{name}-{dir}"));
            let summary = train(&c, &data, &dir, &NoProgress).unwrap();
            (summary, dir)
        };
        let (device, d) = run(Streaming::Off, "device");
        let (streamed, s) = run(Streaming::On, "streamed");
        assert_eq!(losses(&device.history), losses(&streamed.history), "{name}");
        assert_eq!(predictions(&d), predictions(&s), "{name}");
        let recorded = std::fs::read_to_string(s.join("config.json")).unwrap();
        assert!(
            recorded.contains("\"stream\": \"on\""),
            "{name}: {recorded}"
        );
    }
    let host = prepared(&byte_images(10, 7));
    let (x, y) = host.training_set(focal_train::DataSide::None, 0).unwrap();
    let device = focal_train::DeviceChoice::Cpu.resolve().unwrap();
    let set = host.host_set(x, &y, &device);
    assert!(set.holds_bytes());
    assert_eq!(set.bytes(), (set.len() * 3 * 6 * 5) as u64);
}

#[test]
fn a_non_finite_loss_stops_a_streamed_run_at_its_step() {
    let tmp = tempfile::tempdir().unwrap();
    let data = prepared(&byte_images(200, 8));
    let mut c = tiny_config(RemedyKind::Ce);
    c.stream = Streaming::On;
    let _nan = focal_train::train::inject_nan_at(2, 1);
    let err = train(&c, &data, tmp.path(), &NoProgress).unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::NonFinite {
                epoch: 2,
                step: 1,
                last_good_epoch: 1,
                ..
            }
        ),
        "{err}"
    );
}
