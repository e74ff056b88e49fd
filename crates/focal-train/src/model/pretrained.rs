//! Loading torchvision ResNet weights from `.pth` (PyTorch pickle) or `.safetensors` files.
//!
//! Burn's store reads both formats without executing any code: its pickle reader understands the
//! opcodes of a state dict and refuses anything else. Keys follow torchvision's names (our
//! [`ResNet`] uses the same field names), except the shortcut, remapped
//! `downsample.0` -> `downsample.conv` and `downsample.1` -> `downsample.bn`. Linear weights are
//! transposed and batch-norm `weight`/`bias` renamed `gamma`/`beta` by Burn's PyTorch adapter.
//!
//! Two adaptations, reported in [`PretrainedReport`]:
//! - the head `fc` is left freshly initialised when the file's class count differs;
//! - greyscale input with a 3-channel file: the first convolution's weights are summed over the
//!   colour channels (a grey image `g` seen as RGB `(g, g, g)` gives the same activations).

use std::path::Path;

use burn::module::Param;
use burn::store::{
    ModuleSnapshot, ModuleStore, PyTorchToBurnAdapter, PytorchStore, SafetensorsStore,
};
use burn::tensor::{Tensor, TensorData};

use super::ResNet;
use crate::error::TrainError;
use crate::setting::Setting;

/// What loading a pretrained file did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PretrainedReport {
    /// Number of tensors loaded from the file.
    pub loaded: usize,
    /// Whether the head was re-initialised (class count differs from the file's).
    pub head_reinitialised: bool,
    /// Whether the first convolution was summed over colour channels (greyscale input).
    pub first_conv_summed: bool,
}

impl PretrainedReport {
    /// What loading `path` did, for the run's log: "loaded 100 tensors from r18.pth; head
    /// re-initialised".
    pub fn describe(&self, path: &std::path::Path) -> String {
        format!(
            "loaded {} tensors from {}{}{}",
            self.loaded,
            path.display(),
            if self.head_reinitialised {
                "; head re-initialised"
            } else {
                ""
            },
            if self.first_conv_summed {
                "; first convolution summed over colour channels"
            } else {
                ""
            }
        )
    }
}

fn not_fc(path: &str, _container: &str) -> bool {
    !path.starts_with("fc.")
}
fn not_conv1(path: &str, _container: &str) -> bool {
    path != "conv1.weight"
}
fn not_fc_nor_conv1(path: &str, container: &str) -> bool {
    not_fc(path, container) && not_conv1(path, container)
}

/// Loads torchvision weights from `path` into `model` (a ResNet of the file's depth).
///
/// # Errors
/// The file cannot be read, is neither `.pth`/`.pt` nor `.safetensors`, holds no `conv1.weight`
/// (not a torchvision ResNet), a tensor's shape does not fit (another depth), or the channel
/// counts cannot be reconciled (only 3 -> 1 is).
pub fn load_resnet(
    mut model: ResNet,
    path: &Path,
) -> Result<(ResNet, PretrainedReport), TrainError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if !path.is_file() {
        return Err(TrainError::Pretrained {
            path: path.to_path_buf(),
            message: "no such file".into(),
        });
    }
    match ext.as_str() {
        "pth" | "pt" => {
            let store = PytorchStore::from_file(path)
                .with_key_remapping(r"downsample\.0\.", "downsample.conv.")
                .with_key_remapping(r"downsample\.1\.", "downsample.bn.");
            load_with(&mut model, store, path)
        }
        "safetensors" => {
            let store = SafetensorsStore::from_file(path)
                .with_from_adapter(PyTorchToBurnAdapter)
                .with_key_remapping(r"downsample\.0\.", "downsample.conv.")
                .with_key_remapping(r"downsample\.1\.", "downsample.bn.");
            load_with(&mut model, store, path)
        }
        _ => Err(TrainError::Pretrained {
            path: path.to_path_buf(),
            message: format!("unknown extension {ext:?}; use a .pth, .pt or .safetensors file"),
        }),
    }
    .map(|report| (model, report))
}

/// The store-generic part: `S` must be configurable with a predicate, hence the trait below.
fn load_with<S>(
    model: &mut ResNet,
    mut store: S,
    path: &Path,
) -> Result<PretrainedReport, TrainError>
where
    S: ModuleStore + Filterable,
{
    let err = |message: String| TrainError::Pretrained {
        path: path.to_path_buf(),
        message,
    };
    let shape_of = |store: &mut S, key: &str| -> Result<Option<TensorData>, TrainError> {
        match store
            .get_tensor(key)
            .map_err(|e| err(format!("reading {key}: {e}")))?
        {
            None => Ok(None),
            Some(t) => burn::store::bridge::to_data(t)
                .map(Some)
                .map_err(|e| err(format!("reading {key}: {e}"))),
        }
    };
    let conv1 = shape_of(&mut store, "conv1.weight")?
        .ok_or_else(|| err("no conv1.weight: not a torchvision ResNet state dict".into()))?;
    // ResNet-50's blocks have a third convolution; ResNet-18's do not.
    let file_bottleneck = shape_of(&mut store, "layer1.0.conv3.weight")?.is_some();
    let model_bottleneck = model.layer1[0].conv3.is_some();
    if file_bottleneck != model_bottleneck {
        let name = |b: bool| if b { "resnet50" } else { "resnet18" };
        return Err(TrainError::invalid(focal_data::msg![
            Setting::Pretrained,
            format!(
                " {}: holds a {} (its blocks {} a third convolution), and ",
                path.display(),
                name(file_bottleneck),
                if file_bottleneck { "have" } else { "have no" }
            ),
            Setting::Model,
            format!(" is {}; use ", name(model_bottleneck)),
            Setting::Model,
            format!(
                " {}, or weights of a {}",
                name(file_bottleneck),
                name(model_bottleneck)
            )
        ]));
    }
    let fc = shape_of(&mut store, "fc.weight")?;

    let want_conv1 = model.conv1.weight.val().dims();
    let want_fc = model.fc.weight.val().dims(); // Burn: [in, out]
    let conv1_shape: Vec<usize> = conv1.shape().iter().copied().collect();
    let file_channels = conv1_shape[1];
    let first_conv_summed = file_channels != want_conv1[1];
    if first_conv_summed && !(file_channels == 3 && want_conv1[1] == 1) {
        return Err(err(format!(
            "the file's first convolution takes {file_channels} channels and the data has {}; \
             only 3 -> 1 (greyscale) is adapted",
            want_conv1[1]
        )));
    }
    let head_reinitialised = match &fc {
        Some(fc) => {
            let s: Vec<usize> = fc.shape().iter().copied().collect();
            s != [want_fc[1], want_fc[0]]
        }
        None => true,
    };
    let predicate: Option<fn(&str, &str) -> bool> = match (head_reinitialised, first_conv_summed) {
        (true, true) => Some(not_fc_nor_conv1),
        (true, false) => Some(not_fc),
        (false, true) => Some(not_conv1),
        (false, false) => None,
    };
    let mut store = store.allow_partial_load();
    if let Some(p) = predicate {
        store = store.only(p);
    }
    let result = model
        .load_from(&mut store)
        .map_err(|e| err(format!("{e}")))?;
    if !result.errors.is_empty() {
        let msgs: Vec<String> = result
            .errors
            .iter()
            .take(3)
            .map(|e| format!("{e:?}"))
            .collect();
        return Err(err(format!(
            "{} tensor(s) do not fit this model (another ResNet depth?): {}",
            result.errors.len(),
            msgs.join("; ")
        )));
    }
    let missing: Vec<&str> = result
        .missing
        .iter()
        .map(|(p, _)| p.as_str())
        .filter(|p| {
            !((head_reinitialised && (p.starts_with("fc.") || p.starts_with("hidden.")))
                || (first_conv_summed && *p == "conv1.weight"))
        })
        .collect();
    if !missing.is_empty() {
        return Err(err(format!(
            "{} parameter(s) missing from the file (another ResNet depth?), e.g. {}",
            missing.len(),
            missing
                .iter()
                .take(3)
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if first_conv_summed {
        let device = model.conv1.weight.val().device();
        let w = Tensor::<4>::from_data(conv1.convert::<f32>(), &device);
        let summed: Tensor<4> = w.sum_dim(1);
        model.conv1.weight = Param::from_tensor(summed);
    }
    Ok(PretrainedReport {
        loaded: result.applied.len() + usize::from(first_conv_summed),
        head_reinitialised,
        first_conv_summed,
    })
}

/// The two builder methods `load_with` needs, common to both stores.
trait Filterable: Sized {
    fn allow_partial_load(self) -> Self;
    fn only(self, predicate: fn(&str, &str) -> bool) -> Self;
}

impl Filterable for PytorchStore {
    fn allow_partial_load(self) -> Self {
        self.allow_partial(true)
    }
    fn only(self, predicate: fn(&str, &str) -> bool) -> Self {
        self.with_predicate(predicate)
    }
}

impl Filterable for SafetensorsStore {
    fn allow_partial_load(self) -> Self {
        self.allow_partial(true)
    }
    fn only(self, predicate: fn(&str, &str) -> bool) -> Self {
        self.with_predicate(predicate)
    }
}
