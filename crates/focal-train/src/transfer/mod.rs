//! Transfer learning from pretrained ResNet weights: what a run trains (`finetune`: every
//! layer, the last stages and the head, or the head alone), the head (linear or a small MLP),
//! and, when the backbone is frozen and the images are not augmented, the backbone's features
//! computed once and shared by every run on the same data ([`features`]).
//!
//! Frozen layers are Burn-frozen ([`Module::freeze`]): no gradient, batch norm in evaluation
//! mode (its running statistics kept), so the optimizer never sees them and their weights stay
//! the pretrained file's to the bit. A run's checkpoints then hold only what it trains; the
//! frozen part is read again from the weights file, whose SHA-256 the run records and checks.

pub mod features;

use std::borrow::Cow;
use std::path::Path;

use burn::module::{Module, ModuleVisitor, Param, ParamGroup};
use burn::store::ModuleRecord;
use burn::tensor::{Device, Tensor};
use focal_data::SampleKind;
use sha2::{Digest, Sha256};

use crate::config::TrainConfig;
use crate::data::PreparedData;
use crate::error::TrainError;
use crate::finetune::{FeatureCache, FeatureUse, Finetune, HeadKind, TransferRecord};
use crate::model::pretrained::{PretrainedReport, load_resnet};
use crate::model::{Block, Model, ResNet};
use crate::progress::Progress;
use crate::run::checkpoint::{self, Which};
use crate::run::record::RunConfig;
use features::FeatureKey;

/// The SHA-256 of the file at `path`, in hex.
pub fn file_sha256(path: &Path) -> Result<String, TrainError> {
    let mut file = std::fs::File::open(path).map_err(|e| TrainError::io(path, e))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| TrainError::io(path, e))?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// The modules `finetune` trains, by torchvision's names, in the network's order.
pub fn trained_modules(finetune: Finetune, head: HeadKind) -> Vec<String> {
    let mut names: Vec<String> = match finetune {
        Finetune::All => ["conv1", "bn1", "layer1", "layer2", "layer3", "layer4"]
            .map(String::from)
            .to_vec(),
        Finetune::Head => Vec::new(),
        Finetune::Last(n) => (5 - n..=4).map(|s| format!("layer{s}")).collect(),
    };
    if let HeadKind::Mlp { .. } = head {
        names.push("hidden".into());
    }
    names.push("fc".into());
    names
}

/// The parameters a checkpoint of a `finetune` run holds: those it trains, by their paths in
/// [`Model`] (`ResNet.layer4.…`, `ResNet.fc.…`).
fn trained_group(finetune: Finetune, head: HeadKind) -> ParamGroup {
    let names = trained_modules(finetune, head).join("|");
    ParamGroup::from_regex(format!(r"^ResNet\.({names})\."))
        .expect("module names make a valid pattern")
}

/// `net` with every layer `finetune` does not train frozen: no gradients, batch norm in
/// evaluation mode.
pub fn freeze(net: ResNet, finetune: Finetune) -> ResNet {
    if finetune == Finetune::All {
        return net;
    }
    let stages = finetune.trained_stages();
    // Stage `i` (1-based) is frozen unless it is one of the last `stages`.
    let stage = |i: usize, layer: Vec<Block>| {
        if i <= 4 - stages {
            layer.freeze()
        } else {
            layer
        }
    };
    ResNet {
        conv1: net.conv1.freeze(),
        bn1: net.bn1.freeze(),
        layer1: stage(1, net.layer1),
        layer2: stage(2, net.layer2),
        layer3: stage(3, net.layer3),
        layer4: stage(4, net.layer4),
        ..net
    }
}

/// Initialises every parameter of `net` still waiting for its first use (Burn initialises a
/// parameter lazily, from the random numbers of that moment): the head the weights file does not
/// hold is drawn now, from the run's seed, whatever the run computes first.
fn materialise(net: &ResNet) {
    struct Touch;
    impl ModuleVisitor for Touch {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let _ = param.val();
        }
    }
    net.visit(&mut Touch);
}

/// The number of parameters (batch norms' running statistics aside) of `net` that `finetune`
/// trains with `head`, and of those it freezes.
fn parameter_counts(net: &ResNet, finetune: Finetune, head: HeadKind) -> (usize, usize) {
    struct Count {
        path: Vec<String>,
        trained: Vec<String>,
        counts: (usize, usize),
    }
    impl ModuleVisitor for Count {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let last = self.path.last().map(String::as_str);
            if matches!(last, Some("running_mean" | "running_var")) {
                return;
            }
            let n = param.lazy_shape().num_elements();
            match self.path.first() {
                Some(top) if self.trained.contains(top) => self.counts.0 += n,
                _ => self.counts.1 += n,
            }
        }
    }
    let mut count = Count {
        path: Vec::new(),
        trained: trained_modules(finetune, head),
        counts: (0, 0),
    };
    net.visit(&mut count);
    count.counts
}

/// The network of a run that freezes part of its pretrained weights, and what it trains on.
pub(crate) struct Transfer {
    finetune: Finetune,
    head: HeadKind,
    /// The whole network: pretrained, its head initialised as the run's (prior bias included),
    /// the untrained layers frozen.
    full: ResNet,
    /// Whether the head trains on features computed once (a frozen backbone, no
    /// augmentation).
    on_features: bool,
    /// What loading the weights did.
    pub report: PretrainedReport,
    /// For `config.json`.
    pub record: TransferRecord,
}

impl Transfer {
    /// The transfer set-up of `config` on `data` for the run folder `run_dir`, with the task's
    /// features when the head trains on cached ones; `None` when the run trains every layer.
    /// `net` is the run's freshly initialised network (seeded, its head as the run's), into
    /// which the weights are loaded.
    pub fn open(
        config: &TrainConfig,
        data: &PreparedData,
        run_dir: &Path,
        net: ResNet,
        progress: &dyn Progress,
    ) -> Result<Option<(Transfer, Option<PreparedData>)>, TrainError> {
        let finetune = config.finetune();
        let Some(weights) = config.pretrained().filter(|_| finetune != Finetune::All) else {
            return Ok(None);
        };
        let (net, report) = load_resnet(net, weights)?;
        progress.message(&report.describe(weights));
        materialise(&net);
        let net = match (config.prior_bias(), data.positive()) {
            (Some(pi), Some(pos)) => match Model::ResNet(net).with_prior_bias(pos, pi)? {
                Model::ResNet(n) => n,
                _ => unreachable!("with_prior_bias keeps the architecture"),
            },
            _ => net,
        };
        let sha = file_sha256(weights)?;
        let full = freeze(net, finetune);
        let (trained_parameters, frozen_parameters) =
            parameter_counts(&full, finetune, config.head());
        progress.message(&format!(
            "training {} ({trained_parameters} parameters); {frozen_parameters} parameters \
             frozen",
            trained_modules(finetune, config.head()).join(", "),
        ));
        // Why the backbone must run in every step, if it must.
        let uncached = match (config.augment(), config.feature_cache()) {
            (Some(_), _) => Some("the training images are augmented anew every epoch"),
            (None, FeatureCache::Off) => Some("the feature cache is off"),
            _ => None,
        };
        let (feature_data, features) = match (finetune, uncached) {
            (Finetune::Last(_), _) => (None, FeatureUse::Trained),
            (_, None) => {
                let key = FeatureKey::new(config.model(), &sha, data);
                let dir = features::cache_dir(config.feature_cache(), run_dir);
                let cached = features::load_or_compute(&dir, &key, &full, data, progress)?;
                let found = cached.found.clone();
                (Some(cached.into_data(data)), found)
            }
            (_, Some(reason)) => {
                progress.message(&format!(
                    "the backbone's features are computed in every step, not cached: {reason}"
                ));
                let reason = reason.to_string();
                (None, FeatureUse::PerEpoch { reason })
            }
        };
        let record = TransferRecord {
            finetune,
            head: config.head(),
            // Absolute: predict and export read the file again from wherever they run.
            weights: std::path::absolute(weights).unwrap_or_else(|_| weights.to_path_buf()),
            weights_sha256: sha,
            trained: trained_modules(finetune, config.head()),
            trained_parameters,
            frozen_parameters,
            features,
        };
        let transfer = Transfer {
            finetune,
            head: config.head(),
            full,
            on_features: feature_data.is_some(),
            report,
            record,
        };
        Ok(Some((transfer, feature_data)))
    }

    /// Whether the run trains the head on cached features (its model is [`Model::Head`]).
    pub fn on_features(&self) -> bool {
        self.on_features
    }

    /// The model the run starts from: the head alone on cached features, else the whole
    /// network with its frozen layers.
    pub fn initial_model(&self) -> Model {
        if self.on_features() {
            Model::Head(self.full.head())
        } else {
            Model::ResNet(self.full.clone())
        }
    }

    /// The checkpoint record of `model` (the run's): the parameters it trains, by their paths
    /// in the whole network.
    pub fn record_of(&self, model: &Model) -> ModuleRecord {
        let whole = match model {
            Model::Head(h) => Model::ResNet(self.full.clone().with_head(h.clone())),
            other => other.clone(),
        };
        whole.into_record_group(trained_group(self.finetune, self.head))
    }

    /// The run's model with the trained parameters of `record` (a checkpoint's).
    pub fn load(&self, record: ModuleRecord, path: &Path) -> Result<Model, TrainError> {
        let whole = assemble(self.full.clone(), self.finetune, record, path)?;
        Ok(if self.on_features() {
            Model::Head(whole.head())
        } else {
            Model::ResNet(whole)
        })
    }
}

/// `net` (the pretrained network) with the trained parameters of the checkpoint `record`
/// read from `path`, its untrained layers frozen.
fn assemble(
    net: ResNet,
    finetune: Finetune,
    record: ModuleRecord,
    path: &Path,
) -> Result<ResNet, TrainError> {
    let loaded = Model::ResNet(net)
        .try_load_record(record.allow_partial(true))
        .map_err(|e| TrainError::Checkpoint {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    match loaded {
        Model::ResNet(n) => Ok(freeze(n, finetune)),
        _ => unreachable!("a record keeps the architecture"),
    }
}

/// Checks that the weights file a run's frozen layers came from is still the file it was
/// (by its SHA-256).
pub fn check_weights(record: &TransferRecord) -> Result<(), TrainError> {
    let sha = file_sha256(&record.weights).map_err(|e| {
        TrainError::invalid(focal_data::msg![format!(
            "the run's frozen layers come from {}, which cannot be read ({e}); put the file \
             back (sha256 {})",
            record.weights.display(),
            record.weights_sha256
        )])
    })?;
    if sha != record.weights_sha256 {
        return Err(TrainError::invalid(focal_data::msg![format!(
            "{} changed since the run (sha256 {sha}, the run recorded {}): the run's frozen \
             layers came from the file as it was; restore it",
            record.weights.display(),
            record.weights_sha256
        )]));
    }
    Ok(())
}

/// The model of checkpoint `which` of the run in `run_dir` (`rc`: its `config.json`) on
/// `device`, for samples of `sample`: the checkpoint's whole record, or, for a run that froze
/// part of its pretrained weights, the weights file (checked by its SHA-256) with the trained
/// parameters the checkpoint holds. Always the whole network (what `predict` and `export`
/// give).
pub fn run_model(
    rc: &RunConfig,
    sample: &SampleKind,
    run_dir: &Path,
    which: Which,
    device: &Device,
) -> Result<Model, TrainError> {
    let train = &rc.train;
    let model = Model::with_head_kind(train.model(), train.head(), sample, rc.n_classes, device)?;
    match (&rc.transfer, model) {
        (Some(record), Model::ResNet(net)) => {
            check_weights(record)?;
            let (net, _) = load_resnet(net, &record.weights)?;
            let path = checkpoint::model_path(run_dir, which);
            let net = assemble(net, record.finetune, checkpoint::read_record(&path)?, &path)?;
            Ok(Model::ResNet(net))
        }
        (_, model) => checkpoint::load_model(model, run_dir, which),
    }
}

/// What a finished run's model is evaluated on, as the run evaluated it: `model` (from
/// [`run_model`]) on `data`, or, when its head trained on cached features, the head on the
/// features (read from the cache, or computed again when it is gone).
pub fn evaluation_inputs<'d>(
    rc: &RunConfig,
    model: Model,
    data: &'d PreparedData,
    run_dir: &Path,
    progress: &dyn Progress,
) -> Result<(Model, Cow<'d, PreparedData>), TrainError> {
    match (&rc.transfer, model) {
        (Some(record), Model::ResNet(net))
            if matches!(record.features, FeatureUse::Cached { .. }) =>
        {
            let key = FeatureKey::new(rc.train.model(), &record.weights_sha256, data);
            let dir = features::cache_dir(rc.train.feature_cache(), run_dir);
            let cached = features::load_or_compute(&dir, &key, &net, data, progress)?;
            Ok((Model::Head(net.head()), Cow::Owned(cached.into_data(data))))
        }
        (_, model) => Ok((model, Cow::Borrowed(data))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BlockKind;
    use burn::tensor::Distribution;

    #[test]
    fn frozen_backbone_gives_the_features_of_evaluation_mode() {
        let device = Device::flex().autodiff();
        device.seed(1);
        let net = ResNet::with_width(BlockKind::Basic, [2, 2, 2, 2], 3, 2, 4, &device);
        let frozen = freeze(net, Finetune::Head);
        let x = Tensor::<4>::random([5, 3, 32, 32], Distribution::Default, &device);
        let a = frozen.features(x.clone()).into_data();
        let b = frozen.valid().features(x.inner()).into_data();
        a.assert_eq(&b, true);
    }
}
