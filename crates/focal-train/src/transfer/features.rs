//! The pooled penultimate features of a frozen backbone, computed once per weights file,
//! preprocessing and data set, and kept in a feature file that every run on them shares.
//!
//! A feature file is `<cache>/<model>-<key>.safetensors`: one `F32` tensor `features`
//! `[samples, width]` (row `i` is sample `i` of the task's data set) and, in its metadata, the
//! full key and what it was made from. The key is the SHA-256 of the weights file's SHA-256,
//! the model, the sample shape, the input normalisation and the data set's fingerprint (and the
//! focal version: features are only as exact as the kernels that computed them). A file whose
//! metadata or shape does not match its key is computed again, never used. The cache folder's
//! lock makes the first process compute the file while the others wait for it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use burn::module::Module;
use focal_data::batcher::Normalization;
use focal_data::{Dataset, SampleKind, Values};
use sha2::{Digest, Sha256};

use crate::data::PreparedData;
use crate::error::TrainError;
use crate::finetune::{FeatureCache, FeatureUse};
use crate::model::{ModelKind, ResNet};
use crate::progress::Progress;
use crate::run::files::write_atomic;
use crate::run::folder::PLAN_FILE;
use crate::run::lock::{self, Acquired, RunLock};

/// Samples per batch of the feature pass.
const FEATURE_BATCH: usize = 64;

/// How many folders above a run folder its experiment folder may be.
const EXPERIMENT_DEPTH: usize = 3;

/// What a feature file is keyed by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureKey {
    model: ModelKind,
    /// SHA-256 of the key's description (hex).
    pub hash: String,
    /// The weights file's SHA-256.
    pub weights_sha256: String,
    /// The data set's fingerprint.
    pub data_fingerprint: String,
}

impl FeatureKey {
    /// The key of `model`'s features with the weights whose SHA-256 is `weights_sha256` on the
    /// task `data` (its samples as the run's preprocessing gives them).
    pub fn new(model: ModelKind, weights_sha256: &str, data: &PreparedData) -> Self {
        let described = serde_json::json!({
            "format": 1,
            "focal": env!("CARGO_PKG_VERSION"),
            "model": model.name(),
            "weights_sha256": weights_sha256,
            "sample": data.dataset.kind,
            "input_normalization": data.task.input_normalization,
            "normalization": data.normalization,
            "data": data.fingerprint,
        });
        let hash = format!("{:x}", Sha256::digest(described.to_string().as_bytes()));
        FeatureKey {
            model,
            hash,
            weights_sha256: weights_sha256.to_string(),
            data_fingerprint: data.fingerprint.clone(),
        }
    }

    /// The feature file's name.
    pub fn file_name(&self) -> String {
        format!("{}-{}.safetensors", self.model.name(), &self.hash[..16])
    }
}

/// The folder the features of a run in `run_dir` are kept in: the one `cache` names, else
/// `features/` in the experiment folder holding the run (a `plan.json` at most
/// [`EXPERIMENT_DEPTH`] folders up), else `features/` in the run folder.
pub fn cache_dir(cache: &FeatureCache, run_dir: &Path) -> PathBuf {
    if let FeatureCache::Dir(d) = cache {
        return d.clone();
    }
    let experiment = run_dir
        .ancestors()
        .skip(1)
        .take(EXPERIMENT_DEPTH)
        .find(|d| d.join(PLAN_FILE).is_file());
    experiment.unwrap_or(run_dir).join("features")
}

/// A feature file read or computed, with its rows.
#[derive(Debug, Clone)]
pub struct CachedFeatures {
    /// Row-major `[samples, width]`.
    pub values: Vec<f32>,
    /// Features per sample.
    pub width: usize,
    /// What a run records of it.
    pub found: FeatureUse,
}

impl CachedFeatures {
    /// The task `data` with the features in place of its samples: the same labels, splits,
    /// class names, fingerprint and source rows; feature rows kept as they are (identity
    /// standardisation), as the head sees them inside the whole network.
    pub fn into_data(self, data: &PreparedData) -> PreparedData {
        let source = &data.dataset;
        let dataset = Dataset {
            format: source.format,
            source: source.source.clone(),
            kind: SampleKind::Tabular {
                n_features: self.width,
            },
            x: Values::F32(self.values),
            y: source.y.clone(),
            class_names: source.class_names.clone(),
            splits: source.splits.clone(),
            ids: source.ids.clone(),
            groups: source.groups.clone(),
        };
        PreparedData {
            dataset,
            splits: data.splits.clone(),
            kind: data.kind,
            normalization: Normalization {
                mean: vec![0.0; self.width],
                std: vec![1.0; self.width],
            },
            fingerprint: data.fingerprint.clone(),
            task: data.task.clone(),
            source_rows: data.source_rows.clone(),
        }
    }
}

/// Takes the lock of the cache folder `dir`, waiting while another process holds it (it is
/// computing a feature file).
fn wait_for(dir: &Path, progress: &dyn Progress) -> Result<RunLock, TrainError> {
    let mut told = false;
    loop {
        match lock::try_acquire(dir)? {
            Acquired::Locked(l) => return Ok(l),
            Acquired::Busy(pid) => {
                if !told {
                    progress.message(&format!(
                        "waiting for {} to finish computing the features in {}",
                        pid.map_or("another process".into(), |p| format!("process {p}")),
                        dir.display()
                    ));
                    told = true;
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        }
    }
}

/// The features of `key` for every sample of `data` from `dir`, or computed by `net` (frozen,
/// in evaluation mode) and written there: the lock of `dir` held meanwhile, so that every other
/// run waits and then reads the file instead of computing it again.
pub fn load_or_compute(
    dir: &Path,
    key: &FeatureKey,
    net: &ResNet,
    data: &PreparedData,
    progress: &dyn Progress,
) -> Result<CachedFeatures, TrainError> {
    let _lock = wait_for(dir, progress)?;
    let path = dir.join(key.file_name());
    let samples = data.dataset.n_samples();
    let width = net.feature_width();
    let found = |computed: bool, bytes: u64| FeatureUse::Cached {
        file: path.clone(),
        key: key.hash.clone(),
        bytes,
        samples,
        width,
        computed,
    };
    if path.is_file() {
        match read(&path, key, samples, width) {
            Ok(values) => {
                let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
                progress.message(&format!(
                    "features of {samples} samples read from {} ({})",
                    path.display(),
                    focal_data::memory::human_bytes(bytes)
                ));
                return Ok(CachedFeatures {
                    values,
                    width,
                    found: found(false, bytes),
                });
            }
            Err(why) => progress.message(&format!(
                "{}: {why}; computing the features again",
                path.display()
            )),
        }
    }
    let values = compute(net, data, progress)?;
    let mut meta = BTreeMap::new();
    meta.insert("key".to_string(), key.hash.clone());
    meta.insert("model".to_string(), key.model.name().to_string());
    meta.insert("weights_sha256".to_string(), key.weights_sha256.clone());
    meta.insert("data_fingerprint".to_string(), key.data_fingerprint.clone());
    meta.insert(
        "focal_version".to_string(),
        env!("CARGO_PKG_VERSION").into(),
    );
    let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![samples, width], &raw)
            .map_err(|e| TrainError::device(format!("encoding the features: {e}")))?;
    let meta: std::collections::HashMap<String, String> = meta.into_iter().collect();
    let bytes = safetensors::serialize([("features", view)], Some(meta))
        .map_err(|e| TrainError::device(format!("encoding the features: {e}")))?;
    write_atomic(&path, &bytes)?;
    progress.message(&format!(
        "features of {samples} samples ({width} each) written to {} ({})",
        path.display(),
        focal_data::memory::human_bytes(bytes.len() as u64)
    ));
    Ok(CachedFeatures {
        values,
        width,
        found: found(true, bytes.len() as u64),
    })
}

/// The rows of the feature file at `path`, if it holds `key`'s features of `samples` samples
/// of `width`; else why not.
fn read(path: &Path, key: &FeatureKey, samples: usize, width: usize) -> Result<Vec<f32>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot be read ({e})"))?;
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| format!("not a feature file ({e})"))?;
    let recorded = meta
        .metadata()
        .as_ref()
        .and_then(|m| m.get("key").cloned())
        .unwrap_or_default();
    if recorded != key.hash {
        return Err(format!(
            "holds features of other weights or data (key {}, expected {})",
            if recorded.is_empty() {
                "none"
            } else {
                &recorded
            },
            key.hash
        ));
    }
    let st = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| format!("not a feature file ({e})"))?;
    let t = st
        .tensor("features")
        .map_err(|e| format!("holds no features tensor ({e})"))?;
    if t.dtype() != safetensors::Dtype::F32 || t.shape() != [samples, width] {
        return Err(format!(
            "holds {:?} {:?} features, expected F32 [{samples}, {width}]",
            t.dtype(),
            t.shape()
        ));
    }
    let values: Vec<f32> = t
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(format!("holds a non-finite value (row {})", i / width));
    }
    Ok(values)
}

/// The features of every sample of `data` through `net` in evaluation mode (no autodiff), in
/// batches of [`FEATURE_BATCH`], with progress.
fn compute(
    net: &ResNet,
    data: &PreparedData,
    progress: &dyn Progress,
) -> Result<Vec<f32>, TrainError> {
    let net = net.valid();
    let device = net.fc.weight.val().device();
    let rows: Vec<usize> = (0..data.dataset.n_samples()).collect();
    let batches = rows.len().div_ceil(FEATURE_BATCH);
    progress.message(&format!(
        "computing the frozen backbone's features of {} samples once ({batches} batches)",
        rows.len()
    ));
    let mut values = Vec::with_capacity(rows.len() * net.feature_width());
    for (i, chunk) in rows.chunks(FEATURE_BATCH).enumerate() {
        let set = data.device_set_of(chunk, &device);
        let all: Vec<usize> = (0..chunk.len()).collect();
        let features = net.features(set.batch(&all).0);
        let part = features
            .into_data()
            .try_into_vec_as::<f32>()
            .map_err(|e| TrainError::device(format!("reading features back: {e:?}")))?;
        values.extend(part);
        progress.work("features", i + 1, batches);
    }
    Ok(values)
}
