//! `focal export`: a finished run's model as a weight file other tools load, with a JSON
//! sidecar saying how to feed it.
//!
//! - `safetensors`: PyTorch's names and layout. The ResNets use torchvision's state-dict keys
//!   exactly (`conv1.weight`, `bn1.running_mean`, `layer1.0.downsample.0.weight`, `fc.weight`,
//!   ...; `num_batches_tracked` included), so `torchvision.models.resnet18(num_classes=C)
//!   .load_state_dict(...)` takes the file as it is, and focal's `--pretrained` reads it back.
//!   The MLP and the CNN use their field names with PyTorch's layout (a linear weight is
//!   `[out, in]`), the forward pass described in the sidecar's `layout`.
//! - `burn`: Burn's own record (burnpack), Burn's names and layout, for `Model::load_from`.
//!
//! The sidecar (`<file>.json`) holds the input shape and preprocessing, the class names, the
//! positive class and tuned threshold, the temperature when the run calibrated, and every
//! tensor's name, shape and dtype.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::store::{BurnToPyTorchAdapter, BurnpackStore, ModuleSnapshot, ModuleStore};
use burn::tensor::{DType, TensorData};

use crate::data::InputNormalization;
use crate::device::DeviceChoice;
use crate::error::TrainError;
use crate::finetune::HeadKind;
use crate::model::{Model, ModelKind};
use crate::predict::Predictor;
use crate::run::files::{write_atomic, write_json};

crate::named::named_choice! {
    /// The weight-file formats of an export.
    pub enum ExportFormat ("export format") {
        /// safetensors, PyTorch's names and layout (torchvision's for the ResNets).
        Safetensors,
        /// Burn's record format (burnpack).
        Burn,
    }
}

impl ExportFormat {
    /// The name.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The file extension (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Safetensors => "safetensors",
            ExportFormat::Burn => "bpk",
        }
    }
}

/// One tensor of an export: its name, shape and dtype as written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TensorInfo {
    /// The key in the file.
    pub name: String,
    /// The shape.
    pub shape: Vec<usize>,
    /// safetensors' dtype name (`F32`, `I64`).
    pub dtype: String,
}

/// How a sample must be prepared before the exported model sees it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InputSpec {
    /// The shape of one sample (channels, height and width of an image, or the feature count).
    pub sample: focal_data::SampleKind,
    /// Where `mean`/`std` come from: `imagenet` (pretrained weights) or `training-split`.
    pub normalization: InputNormalization,
    /// Per channel (images) or feature (rows): the model sees `(value - mean) / std`.
    pub mean: Vec<f32>,
    /// See `mean`.
    pub std: Vec<f32>,
    /// How values are read before normalising.
    pub values: String,
}

/// The JSON sidecar of an export.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sidecar {
    /// The focal version that exported.
    pub focal_version: String,
    /// The run folder exported.
    pub run: PathBuf,
    /// The epoch whose model was exported (the one the run evaluated).
    pub epoch: usize,
    /// The weight file's format.
    pub format: ExportFormat,
    /// The weight file's name (beside this sidecar).
    pub weights: String,
    /// The architecture.
    pub model: ModelKind,
    /// The torchvision constructor that takes the safetensors file (ResNets).
    pub torchvision: Option<String>,
    /// The forward pass in PyTorch terms, for the MLP and the CNN.
    pub layout: Option<String>,
    /// Number of classes (logits per sample).
    pub n_classes: usize,
    /// Class names, indexed by logit.
    pub class_names: Vec<String>,
    /// The positive class of a binary run.
    pub positive: Option<usize>,
    /// The decision threshold tuned on validation, on the positive class's probability.
    pub threshold: Option<f64>,
    /// The temperature the probabilities are computed with (`softmax(logits / T)`), when the
    /// run calibrated.
    pub temperature: Option<f64>,
    /// How to prepare a sample.
    pub input: InputSpec,
    /// Every tensor of the weight file.
    pub tensors: Vec<TensorInfo>,
}

/// What [`export_run`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    /// The weight file.
    pub weights: PathBuf,
    /// The sidecar.
    pub sidecar: PathBuf,
    /// Its contents.
    pub info: Sidecar,
}

const MLP_LAYOUT: &str = "x: the sample flattened to [N, F] (images in C, H, W order), \
normalised; fc1 = Linear(F, 128); fc2 = Linear(128, 128); head = Linear(128, n_classes); \
logits = head(relu(fc2(relu(fc1(x))))). Linear weights are [out, in] (PyTorch's layout).";

const CNN_LAYOUT: &str = "x: [N, C, H, W], normalised; conv1 = Conv2d(C, 32, 3, padding=1); \
conv2 = Conv2d(32, 64, 3, padding=1); pool = MaxPool2d(2, 2); fc = Linear(64 * (H // 4) * \
(W // 4), 128); head = Linear(128, n_classes); h = pool(relu(conv2(pool(relu(conv1(x)))))); \
logits = head(relu(fc(flatten(h, 1)))). Weights in PyTorch's layout (conv [out, in, kh, kw], \
linear [out, in]).";

/// The model's tensors in PyTorch's names and layout (torchvision's for the ResNets), sorted
/// by name, with `num_batches_tracked = steps` for every batch norm.
pub fn state_dict(model: &Model, steps: i64) -> Result<Vec<(String, TensorData)>, TrainError> {
    let mut out = BTreeMap::new();
    let mlp_head = matches!(model, Model::ResNet(n) if n.hidden.is_some());
    for t in model.collect(None, Some(Box::new(BurnToPyTorchAdapter)), true) {
        let name = torchvision_name(&t.name, mlp_head);
        let data = burn::store::bridge::into_data(t)
            .map_err(|e| TrainError::device(format!("reading {name} for export: {e}")))?;
        let data = data.convert::<f32>();
        if let Some(prefix) = name.strip_suffix(".running_mean") {
            out.insert(
                format!("{prefix}.num_batches_tracked"),
                TensorData::new(vec![steps], Vec::<usize>::new()),
            );
        }
        out.insert(name, data);
    }
    Ok(out.into_iter().collect())
}

/// A ResNet key in torchvision's spelling: the shortcut's `downsample.conv`/`downsample.bn`
/// are `downsample.0`/`downsample.1` there (the inverse of the import's remapping); an MLP
/// head's `hidden` and `fc` are `fc.0` and `fc.2` of `nn.Sequential(Linear, ReLU, Linear)`.
fn torchvision_name(name: &str, mlp_head: bool) -> String {
    let name = name
        .replace(".downsample.conv.", ".downsample.0.")
        .replace(".downsample.bn.", ".downsample.1.");
    match (
        mlp_head,
        name.strip_prefix("fc."),
        name.strip_prefix("hidden."),
    ) {
        (true, Some(rest), _) => format!("fc.2.{rest}"),
        (true, _, Some(rest)) => format!("fc.0.{rest}"),
        _ => name,
    }
}

fn dtype_of(dtype: DType) -> Result<safetensors::Dtype, TrainError> {
    match dtype {
        DType::F32 => Ok(safetensors::Dtype::F32),
        DType::I64 => Ok(safetensors::Dtype::I64),
        other => Err(TrainError::device(format!(
            "cannot export a tensor of dtype {other:?}"
        ))),
    }
}

/// The dtype's name in the sidecar, as safetensors names it.
fn dtype_name(dtype: DType) -> Result<&'static str, TrainError> {
    Ok(match dtype_of(dtype)? {
        safetensors::Dtype::I64 => "I64",
        _ => "F32",
    })
}

/// The safetensors encoding of `tensors` with `metadata`, by the `safetensors` crate (the
/// format's reference implementation: its header, offsets and alignment).
pub fn safetensors_bytes(
    tensors: &[(String, TensorData)],
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>, TrainError> {
    let encode = |e: safetensors::SafeTensorError| {
        TrainError::device(format!("encoding the safetensors file: {e}"))
    };
    let views = tensors
        .iter()
        .map(|(name, t)| {
            let view = safetensors::tensor::TensorView::new(
                dtype_of(t.dtype())?,
                t.shape().to_vec(),
                t.as_bytes(),
            )
            .map_err(encode)?;
            Ok((name.as_str(), view))
        })
        .collect::<Result<Vec<_>, TrainError>>()?;
    let metadata = (!metadata.is_empty()).then(|| {
        metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    });
    safetensors::serialize(views, metadata).map_err(encode)
}

/// The Burn record (burnpack) of `model`.
pub fn burnpack_bytes(model: &Model) -> Result<Vec<u8>, TrainError> {
    let mut store = BurnpackStore::from_bytes(None);
    store
        .collect_from(model)
        .map_err(|e| TrainError::device(format!("encoding the Burn record: {e}")))?;
    store
        .get_bytes()
        .map(|b| b.to_vec())
        .map_err(|e| TrainError::device(format!("encoding the Burn record: {e}")))
}

/// The sidecar's path for the weight file `weights`: `<weights>.json`.
pub fn sidecar_path(weights: &Path) -> PathBuf {
    let mut name = weights.as_os_str().to_os_string();
    name.push(".json");
    PathBuf::from(name)
}

/// Exports the finished run in `run_dir`: its evaluated model as `format` to `out` (default
/// `<run_dir>/model.<ext>`) and the sidecar beside it, both written atomically.
pub fn export_run(
    run_dir: &Path,
    format: ExportFormat,
    out: Option<&Path>,
) -> Result<Exported, TrainError> {
    let predictor = Predictor::open(run_dir, DeviceChoice::Cpu)?;
    let weights = match out {
        Some(p) => p.to_path_buf(),
        None => run_dir.join(format!("model.{}", format.extension())),
    };
    let model = predictor.model();
    let config = &predictor.config;
    let steps_per_epoch = config
        .train_counts_after_remedy
        .iter()
        .sum::<usize>()
        .div_ceil(config.train.batch_size().max(1));
    let steps = (predictor.epoch * steps_per_epoch) as i64;
    let tensors = state_dict(model, steps)?;
    let bytes = match format {
        ExportFormat::Safetensors => {
            let mut meta = BTreeMap::new();
            meta.insert("format".to_string(), "pt".to_string());
            meta.insert(
                "focal_model".to_string(),
                config.train.model().name().to_string(),
            );
            safetensors_bytes(&tensors, &meta)?
        }
        ExportFormat::Burn => burnpack_bytes(model)?,
    };
    let tensor_info = match format {
        ExportFormat::Safetensors => tensors
            .iter()
            .map(|(name, t)| {
                Ok(TensorInfo {
                    name: name.clone(),
                    shape: t.shape().to_vec(),
                    dtype: dtype_name(t.dtype())?.to_string(),
                })
            })
            .collect::<Result<Vec<_>, TrainError>>()?,
        ExportFormat::Burn => model
            .collect(None, None, false)
            .into_iter()
            .map(|t| {
                Ok(TensorInfo {
                    shape: t.shape.to_vec(),
                    dtype: dtype_name(t.dtype)?.to_string(),
                    name: t.name,
                })
            })
            .collect::<Result<Vec<_>, TrainError>>()?,
    };
    let kind = config.train.model();
    let (torchvision, layout) = match kind {
        ModelKind::Resnet18 | ModelKind::Resnet50 => match config.train.head() {
            HeadKind::Linear => (
                Some(format!(
                    "torchvision.models.{}(num_classes={})",
                    kind.name(),
                    config.n_classes
                )),
                None,
            ),
            HeadKind::Mlp { hidden } => {
                let width = match model {
                    Model::ResNet(n) => n.feature_width(),
                    _ => 0,
                };
                (
                    Some(format!(
                        "m = torchvision.models.{}(); m.fc = torch.nn.Sequential(\
                         torch.nn.Linear({width}, {hidden}), torch.nn.ReLU(), \
                         torch.nn.Linear({hidden}, {}))",
                        kind.name(),
                        config.n_classes
                    )),
                    None,
                )
            }
        },
        ModelKind::Mlp => (None, Some(MLP_LAYOUT.to_string())),
        ModelKind::Cnn => (None, Some(CNN_LAYOUT.to_string())),
    };
    let pre = &predictor.preprocessing;
    let info = Sidecar {
        focal_version: env!("CARGO_PKG_VERSION").to_string(),
        run: run_dir.to_path_buf(),
        epoch: predictor.epoch,
        format,
        weights: weights
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        model: kind,
        torchvision,
        layout,
        n_classes: config.n_classes,
        class_names: config.class_names.clone(),
        positive: config.positive,
        threshold: predictor.tuned_threshold,
        temperature: predictor.temperature,
        input: InputSpec {
            sample: pre.sample,
            normalization: pre.input_normalization,
            mean: pre.normalization.mean.clone(),
            std: pre.normalization.std.clone(),
            values: match pre.sample {
                focal_data::SampleKind::Image { .. } => {
                    "pixels / 255 (in [0, 1]), channel-first; images resized (bilinear) to the \
                     sample's height and width"
                        .to_string()
                }
                focal_data::SampleKind::Tabular { .. } => "the CSV's feature columns".to_string(),
            },
        },
        tensors: tensor_info,
    };
    if let Some(dir) = weights.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, e))?;
    }
    write_atomic(&weights, &bytes)?;
    let sidecar = sidecar_path(&weights);
    write_json(&sidecar, &info)?;
    Ok(Exported {
        weights,
        sidecar,
        info,
    })
}
