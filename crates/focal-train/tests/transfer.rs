//! Transfer learning from a pretrained ResNet-18 on small generated images: the head trained on
//! cached features trains as the frozen network does step by step, frozen weights stay the
//! file's to the bit, checkpoints hold only what a run trains, and bad set-ups are refused.
//!
//! The "pretrained" file is a seeded ResNet-18 with non-trivial batch-norm statistics, written
//! in torchvision's layout (what `torch.save(resnet18().state_dict())` holds), so nothing here
//! needs the 45 MB download.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::{Device, TensorData};
use focal_data::split::SplitFractions;
use focal_data::task::TaskSpec;
use focal_data::{DataFormat, Dataset, SampleKind};
use focal_train::finetune::{FeatureCache, FeatureUse, Finetune, HeadKind};
use focal_train::{
    InputNormalization, Model, ModelKind, NoProgress, PreparedData, RemedyKind, RunSummary,
    TrainError, TrainSpec,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SIDE: usize = 32;

/// Burn's random numbers are the process's: a test that seeds them and initialises a network
/// must not interleave with another's (the tests of this file take turns).
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

/// RGB images: noise, plus a bright square in the top-left corner for the rare class.
fn images(n: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for i in 0..n {
        let label = usize::from(i % 4 == 0);
        for _ in 0..3 {
            for r in 0..SIDE {
                for c in 0..SIDE {
                    let base = if label == 1 && r < 12 && c < 12 {
                        0.7
                    } else {
                        0.2
                    };
                    // Whole bytes, as decoded images are.
                    let v = base + 0.3 * rng.random::<f32>();
                    x.push((v * 255.0).round() / 255.0);
                }
            }
        }
        y.push(label);
    }
    let kind = SampleKind::Image {
        channels: 3,
        height: SIDE,
        width: SIDE,
    };
    Dataset::new(
        DataFormat::ImageFolder,
        None,
        kind,
        x,
        y,
        vec!["common".into(), "rare".into()],
        None,
    )
    .unwrap()
}

fn prepared(n: usize) -> PreparedData {
    let spec = TaskSpec {
        seed: 0,
        ..Default::default()
    };
    PreparedData::new(&images(n, 3), &spec, SplitFractions::default())
        .unwrap()
        .with_input_normalization(InputNormalization::Imagenet)
        .unwrap()
}

/// A seeded ResNet-18 with ten classes (so the run's two-class head is initialised anew, as
/// with ImageNet's thousand) and running statistics away from 0 and 1, written to `dir` as
/// torchvision names it.
fn weights_file(dir: &Path) -> PathBuf {
    let device = Device::flex();
    device.seed(11);
    let kind = SampleKind::Image {
        channels: 3,
        height: SIDE,
        width: SIDE,
    };
    let model = Model::new(ModelKind::Resnet18, &kind, 10, &device).unwrap();
    let mut tensors = focal_train::export::state_dict(&model, 0).unwrap();
    for (name, t) in &mut tensors {
        let n = t.num_elements();
        let shape = t.shape().to_vec();
        if name.ends_with("running_mean") {
            let v: Vec<f32> = (0..n).map(|i| 0.05 * (i as f32).sin()).collect();
            *t = TensorData::new(v, shape);
        } else if name.ends_with("running_var") {
            let v: Vec<f32> = (0..n).map(|i| 0.5 + (i as f32).cos().powi(2)).collect();
            *t = TensorData::new(v, shape);
        }
    }
    let bytes = focal_train::export::safetensors_bytes(&tensors, &BTreeMap::new()).unwrap();
    let path = dir.join("resnet18.safetensors");
    std::fs::write(&path, bytes).unwrap();
    path
}

fn spec(weights: &Path, finetune: Finetune, cache: FeatureCache) -> TrainSpec {
    TrainSpec {
        model: ModelKind::Resnet18,
        epochs: 2,
        batch_size: 16,
        lr: 3e-3,
        pretrained: Some(weights.to_path_buf()),
        finetune,
        feature_cache: cache,
        ..TrainSpec::for_remedy(RemedyKind::Focal)
    }
}

fn train(spec: &TrainSpec, data: &PreparedData, dir: &Path) -> Result<RunSummary, TrainError> {
    focal_train::train(&spec.check()?, data, dir, &NoProgress)
}

/// The losses of every epoch, to the bit (times and memory aside).
fn losses(s: &RunSummary) -> Vec<(u64, u64)> {
    let h = s.history.iter();
    h.map(|e| (e.train_loss.to_bits(), e.val_loss.to_bits()))
        .collect()
}

fn probabilities(dir: &Path) -> Vec<f64> {
    let mut rdr = csv::Reader::from_path(dir.join("predictions.csv")).unwrap();
    rdr.records()
        .map(|r| r.unwrap()[4].parse().unwrap())
        .collect()
}

fn assert_close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-4 * (1.0 + a.abs()),
        "{what}: {a} vs {b}"
    );
}

#[test]
fn head_on_cached_features_trains_as_the_frozen_network_does_step_by_step() {
    let _turn = turn();
    let tmp = tempfile::tempdir().unwrap();
    let weights = weights_file(tmp.path());
    let data = prepared(64);
    let cached = tmp.path().join("cached");
    let per_step = tmp.path().join("per-step");
    let a = train(
        &spec(&weights, Finetune::Head, FeatureCache::Auto),
        &data,
        &cached,
    )
    .unwrap();
    let b = train(
        &spec(&weights, Finetune::Head, FeatureCache::Off),
        &data,
        &per_step,
    )
    .unwrap();
    for (x, y) in a.history.iter().zip(&b.history) {
        assert_close(x.train_loss, y.train_loss, "train loss");
        assert_close(x.val_loss, y.val_loss, "validation loss");
    }
    for (p, q) in probabilities(&cached).iter().zip(probabilities(&per_step)) {
        assert_close(*p, q, "test probability");
    }
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cached.join("config.json")).unwrap())
            .unwrap();
    // The run records its samples as the images they are (predict reads them so).
    assert_eq!(config["preprocessing"]["sample"]["type"], "image");
    assert_eq!(config["transfer"]["features"]["mode"], "cached");
    assert_eq!(config["transfer"]["trained"], serde_json::json!(["fc"]));
    let file = PathBuf::from(config["transfer"]["features"]["file"].as_str().unwrap());
    assert!(file.starts_with(cached.join("features")), "{file:?}");
    // The checkpoint holds the head alone: 512 x 2 weights and 2 biases, a few kB.
    let bytes = std::fs::metadata(cached.join("checkpoint/best/model.bpk"))
        .unwrap()
        .len();
    assert!(bytes < 20_000, "checkpoint of {bytes} bytes");
}

#[test]
fn a_second_run_reads_the_features_and_a_damaged_file_is_computed_again() {
    let _turn = turn();
    let tmp = tempfile::tempdir().unwrap();
    let weights = weights_file(tmp.path());
    let data = prepared(48);
    let shared = tmp.path().join("features");
    let s = spec(&weights, Finetune::Head, FeatureCache::Dir(shared.clone()));
    let first = train(&s, &data, &tmp.path().join("a")).unwrap();
    let record = |dir: &str| -> FeatureUse {
        let rc = focal_train::read_config(&tmp.path().join(dir)).unwrap();
        rc.transfer.unwrap().features
    };
    let FeatureUse::Cached { file, computed, .. } = record("a") else {
        panic!("not cached: {:?}", record("a"));
    };
    assert!(computed);
    let second = train(&s, &data, &tmp.path().join("b")).unwrap();
    assert!(matches!(
        record("b"),
        FeatureUse::Cached {
            computed: false,
            ..
        }
    ));
    assert_eq!(losses(&first), losses(&second));
    // Truncated: refused as a feature file, computed again, and the run the same.
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    let third = train(&s, &data, &tmp.path().join("c")).unwrap();
    assert!(matches!(
        record("c"),
        FeatureUse::Cached { computed: true, .. }
    ));
    assert_eq!(losses(&first), losses(&third));
    // The same features (the header's metadata may list its keys in another order).
    let features = |bytes: &[u8]| {
        let st = safetensors::SafeTensors::deserialize(bytes).unwrap();
        st.tensor("features").unwrap().data().to_vec()
    };
    assert!(features(&std::fs::read(&file).unwrap()) == features(&bytes));
}

/// Every tensor of torchvision's state dict of the run's whole model, by name.
fn state_of(model: &Model) -> BTreeMap<String, TensorData> {
    focal_train::export::state_dict(model, 0)
        .unwrap()
        .into_iter()
        .collect()
}

#[test]
fn frozen_layers_stay_the_files_to_the_bit_and_the_last_stage_trains() {
    let _turn = turn();
    let tmp = tempfile::tempdir().unwrap();
    let weights = weights_file(tmp.path());
    let data = prepared(48);
    let dir = tmp.path().join("last1");
    let mut s = spec(&weights, Finetune::Last(1), FeatureCache::Auto);
    s.head = HeadKind::Mlp { hidden: 16 };
    train(&s, &data, &dir).unwrap();
    let rc = focal_train::read_config(&dir).unwrap();
    let transfer = rc.transfer.clone().unwrap();
    assert_eq!(transfer.trained, ["layer4", "hidden", "fc"]);
    assert!(matches!(transfer.features, FeatureUse::Trained));
    let predictor = focal_train::predict::Predictor::open(&dir, Default::default()).unwrap();
    let trained = state_of(predictor.model());
    let file: BTreeMap<String, TensorData> = {
        let bytes = std::fs::read(&weights).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        st.tensors()
            .into_iter()
            .map(|(name, v)| {
                let data = TensorData::from_bytes_vec(v.data().to_vec(), v.shape().to_vec(), {
                    match v.dtype() {
                        safetensors::Dtype::I64 => burn::tensor::DType::I64,
                        _ => burn::tensor::DType::F32,
                    }
                });
                (name, data)
            })
            .collect()
    };
    let mut changed = Vec::new();
    for (name, want) in &file {
        if name.starts_with("fc.") || name.ends_with("num_batches_tracked") {
            continue;
        }
        let got = &trained[name];
        if name.starts_with("layer4.") {
            if got.as_bytes() != want.as_bytes() {
                changed.push(name.clone());
            }
        } else {
            assert_eq!(got.as_bytes(), want.as_bytes(), "{name} moved");
        }
    }
    // layer4 trains: its weights and its batch norms' running statistics move.
    assert!(
        changed.iter().any(|n| n.ends_with("conv1.weight")),
        "{changed:?}"
    );
    assert!(
        changed.iter().any(|n| n.ends_with("running_mean")),
        "{changed:?}"
    );
    // The MLP head exports as PyTorch's nn.Sequential(Linear, ReLU, Linear).
    assert_eq!(trained["fc.0.weight"].shape().to_vec(), [16, 512]);
    assert_eq!(trained["fc.2.weight"].shape().to_vec(), [2, 16]);
    assert!(!trained.contains_key("hidden.weight"));
    // The checkpoint holds layer4 and the head (and layer4's running statistics), not the 2.7M
    // parameters before them.
    let bytes = std::fs::metadata(dir.join("checkpoint/best/model.bpk"))
        .unwrap()
        .len();
    let trained = 4 * transfer.trained_parameters as u64;
    assert!(
        trained < bytes && bytes < trained + 100_000,
        "checkpoint of {bytes} bytes, {trained} bytes trained"
    );
    // ResNet-18: 11,176,512 parameters without its head; layer4 holds 8,393,728 of them.
    assert_eq!(
        transfer.trained_parameters,
        8_393_728 + 512 * 16 + 16 + 16 * 2 + 2
    );
    assert_eq!(transfer.frozen_parameters, 11_176_512 - 8_393_728);
}

#[test]
fn a_changed_weights_file_is_refused_where_the_run_is_read_again() {
    let _turn = turn();
    let tmp = tempfile::tempdir().unwrap();
    let weights = weights_file(tmp.path());
    let data = prepared(48);
    let dir = tmp.path().join("run");
    let mut s = spec(&weights, Finetune::Head, FeatureCache::Auto);
    s.epochs = 1;
    train(&s, &data, &dir).unwrap();
    let mut bytes = std::fs::read(&weights).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&weights, bytes).unwrap();
    let Err(err) = focal_train::predict::Predictor::open(&dir, Default::default()) else {
        panic!("a changed weights file is refused");
    };
    let err = err.to_string();
    assert!(
        err.contains("changed since the run") && err.contains("restore"),
        "{err}"
    );
    std::fs::remove_file(&weights).unwrap();
    let Err(err) = focal_train::predict::Predictor::open(&dir, Default::default()) else {
        panic!("a missing weights file is refused");
    };
    let err = err.to_string();
    assert!(
        err.contains("cannot be read") && err.contains("sha256"),
        "{err}"
    );
}

#[test]
fn partial_finetuning_without_weights_or_on_a_cnn_is_refused() {
    let _turn = turn();
    let tmp = tempfile::tempdir().unwrap();
    let weights = weights_file(tmp.path());
    let mut s = spec(&weights, Finetune::Head, FeatureCache::Auto);
    s.pretrained = None;
    let err = s.check().err().unwrap().to_string();
    assert!(
        err.contains("finetune head") && err.contains("pretrained"),
        "{err}"
    );
    let mut s = spec(&weights, Finetune::All, FeatureCache::Auto);
    s.head = HeadKind::Mlp { hidden: 8 };
    s.model = ModelKind::Cnn;
    s.pretrained = None;
    let err = s.check().err().unwrap().to_string();
    assert!(
        err.contains("head mlp:8") && err.contains("model cnn"),
        "{err}"
    );
}
