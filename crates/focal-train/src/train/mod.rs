//! The training loop: our own, short, with per-class validation, checkpoints and resume.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::store::ModuleRecord;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::config::{OptimizerKind, TrainConfig};
use crate::data::PreparedData;
use crate::device::peak_memory_bytes;
use crate::error::TrainError;
use crate::evaluate::{Predictions, RuleMetrics, tune};
use crate::model::{Model, ModelKind};
use crate::progress::Progress;
use crate::remedy::DataSide;
use crate::run::{
    CALIBRATION_BINS, EpochRecord, FinalMetrics, RunConfig, SplitCounts, read_json, top_label,
    write_curves, write_history, write_json, write_predictions, write_report, write_split,
};

/// Samples per evaluation batch.
const EVAL_BATCH: usize = 256;

/// Runs in one process take turns: Burn's CPU random generator (initialisation, dropout) is
/// process-wide, and a run is reproducible only when no other run draws from it meanwhile.
static RUN_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn run_lock() -> std::sync::MutexGuard<'static, ()> {
    // A run that panicked leaves nothing behind that the next one depends on.
    RUN_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What a finished run returns (and wrote to its folder).
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// The run folder.
    pub run_dir: PathBuf,
    /// Test metrics at each decision rule, as in `metrics.json`.
    pub metrics: FinalMetrics,
    /// One record per epoch, as in `history.csv`.
    pub history: Vec<EpochRecord>,
}

impl RunSummary {
    /// Mean wall seconds per epoch.
    pub fn time_per_epoch_s(&self) -> f64 {
        self.metrics.time_per_epoch_s
    }
}

/// `checkpoint/*/state.json`: where the loop stands after an epoch.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainState {
    /// Epochs finished.
    pub epoch: usize,
    /// Best epoch so far by the validation metric.
    pub best_epoch: usize,
    /// Its validation metric.
    pub best_score: Option<f64>,
    /// Every finished epoch.
    pub history: Vec<EpochRecord>,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
}

/// The seed of epoch `epoch` (1-based) of a run seeded `seed` (SplitMix64 of both), so a
/// resumed run draws exactly what the uninterrupted one would have.
pub fn epoch_seed(seed: u64, epoch: usize) -> u64 {
    let mut z = seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Trains `config` on `data`, writing the run folder `out_dir` (created if needed; files in it
/// are replaced), and returns the final test metrics.
///
/// The same config, data and seed give the same bytes on the same backend. Calls from several
/// threads of one process run one after the other (Burn's CPU generator is process-wide).
///
/// # Errors
/// An invalid configuration, a device that is not there, a NaN/inf loss (the message names the
/// epoch and step; the last good checkpoint stays), or a file that cannot be written.
pub fn train(
    config: &TrainConfig,
    data: &PreparedData,
    out_dir: &Path,
    progress: &dyn Progress,
) -> Result<RunSummary, TrainError> {
    config.validate()?;
    check_model_fits(config.model, data)?;
    let _turn = run_lock();
    fs::create_dir_all(out_dir).map_err(|e| TrainError::io(out_dir, e))?;
    let device = config.device.resolve()?;
    let ad = device.clone().autodiff();
    let (tx, ty) = data.training_set(config.remedy.data_side(), epoch_seed(config.seed, 0))?;

    device.seed(config.seed);
    let mut model = Model::new(config.model, &data.dataset.kind, data.n_classes(), &ad)?;
    let mut pretrained = None;
    if let (Some(path), Model::ResNet(net)) = (&config.pretrained, &model) {
        let (net, report) = crate::model::pretrained::load_resnet(net.clone(), path)?;
        progress.message(&format!(
            "loaded {} tensors from {}{}{}",
            report.loaded,
            path.display(),
            if report.head_reinitialised {
                "; head re-initialised"
            } else {
                ""
            },
            if report.first_conv_summed {
                "; first convolution summed over colour channels"
            } else {
                ""
            }
        ));
        model = Model::ResNet(net);
        pretrained = Some(report);
    }
    if let (Some(pi), Some(pos)) = (config.prior_bias, data.positive) {
        model = model.with_prior_bias(pos, pi)?;
    } else if config.prior_bias.is_some() {
        return Err(TrainError::invalid(
            "--prior-bias needs a binary task (--positive CLASS)",
        ));
    }

    let counts_after = class_counts(&ty, data.n_classes());
    let run_config = RunConfig {
        focal_version: env!("CARGO_PKG_VERSION").to_string(),
        train: config.clone(),
        task: data.task.clone(),
        data_fingerprint: data.fingerprint.clone(),
        n_classes: data.n_classes(),
        class_names: data.dataset.class_names.clone(),
        positive: data.positive,
        class_counts: SplitCounts {
            train: data.dataset.class_counts_of(&data.splits.train),
            val: data.dataset.class_counts_of(&data.splits.val),
            test: data.dataset.class_counts_of(&data.splits.test),
        },
        train_counts_after_remedy: counts_after,
        pretrained,
    };
    write_json(&out_dir.join("config.json"), &run_config)?;
    write_split(out_dir, data)?;
    let optim = make_optimizer(config);
    let state = TrainState {
        epoch: 0,
        best_epoch: 0,
        best_score: None,
        history: Vec::new(),
        stopped_early: false,
    };
    run_loop(
        config,
        data,
        out_dir,
        progress,
        &ad,
        model,
        optim,
        state,
        (tx, ty),
    )
}

/// Checks that `data` is the data set the run was trained on (by fingerprint); `what` names the
/// run in the message.
fn same_data(rc: &RunConfig, data: &PreparedData, what: &str) -> Result<(), TrainError> {
    if rc.data_fingerprint == data.fingerprint {
        return Ok(());
    }
    Err(TrainError::invalid(format!(
        "{what}: the data differ from the run's (fingerprint {} vs {}); pass the run's --data",
        data.fingerprint, rc.data_fingerprint
    )))
}

/// Continues the run in `run_dir` from its last checkpoint, on the same data (checked by
/// fingerprint), and finishes it as the uninterrupted run would have.
///
/// A run killed before its first checkpoint starts again from the beginning (with the same
/// seed, that is the run it would have been).
pub fn resume(
    run_dir: &Path,
    data: &PreparedData,
    progress: &dyn Progress,
) -> Result<RunSummary, TrainError> {
    let rc: RunConfig = read_json(&run_dir.join("config.json"))?;
    if !checkpoint_dir(run_dir, "last").join("state.json").is_file()
        && rc.data_fingerprint == data.fingerprint
    {
        progress.message(&format!(
            "{}: no checkpoint yet; training from the start",
            run_dir.display()
        ));
        return train(&rc.train, data, run_dir, progress);
    }
    let _turn = run_lock();
    same_data(&rc, data, &format!("--resume {}", run_dir.display()))?;
    let config = rc.train;
    let device = config.device.resolve()?;
    let ad = device.clone().autodiff();
    let (tx, ty) = data.training_set(config.remedy.data_side(), epoch_seed(config.seed, 0))?;
    let ckpt = checkpoint_dir(run_dir, "last");
    let state: TrainState = read_json(&ckpt.join("state.json"))?;
    let model = Model::new(config.model, &data.dataset.kind, data.n_classes(), &ad)?;
    let model = load_model(model, &ckpt.join("model.bpk"))?;
    let optim_path = ckpt.join("optim.bpk");
    let optim = make_optimizer(&config)
        .load(&optim_path)
        .map_err(|e| TrainError::Checkpoint {
            path: optim_path.clone(),
            message: e.to_string(),
        })?;
    progress.message(&format!(
        "resuming {} after epoch {}",
        run_dir.display(),
        state.epoch
    ));
    run_loop(
        &config,
        data,
        run_dir,
        progress,
        &ad,
        model,
        optim,
        state,
        (tx, ty),
    )
}

fn check_model_fits(kind: ModelKind, data: &PreparedData) -> Result<(), TrainError> {
    if kind.needs_images() && !matches!(data.dataset.kind, focal_data::SampleKind::Image { .. }) {
        return Err(TrainError::ModelNeedsImages { model: kind.name() });
    }
    Ok(())
}

fn class_counts(y: &[usize], n: usize) -> Vec<usize> {
    let mut c = vec![0; n];
    for &l in y {
        c[l] += 1;
    }
    c
}

fn make_optimizer(config: &TrainConfig) -> ModuleOptimizer {
    let decay = (config.weight_decay > 0.0).then(|| WeightDecayConfig::new(config.weight_decay));
    let clip = config.clip_grad.map(GradientClippingConfig::Norm);
    match config.optimizer {
        OptimizerKind::Adam => AdamConfig::new()
            .with_weight_decay(decay)
            .with_grad_clipping(clip)
            .init(),
        OptimizerKind::Sgd => SgdConfig::new()
            .with_momentum(Some(MomentumConfig::new().with_momentum(0.9)))
            .with_weight_decay(decay)
            .with_gradient_clipping(clip)
            .init(),
    }
}

/// `checkpoint/<which>`, falling back to the previous copy when a crash hit between renames.
fn checkpoint_dir(run_dir: &Path, which: &str) -> PathBuf {
    let dir = run_dir.join("checkpoint").join(which);
    let old = run_dir.join("checkpoint").join(format!("{which}.old"));
    if !dir.exists() && old.exists() {
        old
    } else {
        dir
    }
}

fn load_model(model: Model, path: &Path) -> Result<Model, TrainError> {
    let record = ModuleRecord::load(path).map_err(|e| TrainError::Checkpoint {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    model
        .try_load_record(record)
        .map_err(|e| TrainError::Checkpoint {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// Writes `checkpoint/<which>/` as a whole: into `<which>.tmp`, then renamed over the old one.
fn save_checkpoint(
    run_dir: &Path,
    which: &str,
    model: &Model,
    optim: Option<&ModuleOptimizer>,
    state: &TrainState,
) -> Result<(), TrainError> {
    let base = run_dir.join("checkpoint");
    let tmp = base.join(format!("{which}.tmp"));
    let dir = base.join(which);
    let old = base.join(format!("{which}.old"));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
    }
    fs::create_dir_all(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
    let mp = tmp.join("model.bpk");
    model
        .clone()
        .into_record()
        .save(&mp)
        .map_err(|e| TrainError::Checkpoint {
            path: mp.clone(),
            message: e.to_string(),
        })?;
    if let Some(o) = optim {
        let op = tmp.join("optim.bpk");
        o.save(&op).map_err(|e| TrainError::Checkpoint {
            path: op.clone(),
            message: e.to_string(),
        })?;
    }
    write_json(&tmp.join("state.json"), state)?;
    if old.exists() {
        fs::remove_dir_all(&old).map_err(|e| TrainError::io(&old, e))?;
    }
    if dir.exists() {
        fs::rename(&dir, &old).map_err(|e| TrainError::io(&dir, e))?;
    }
    fs::rename(&tmp, &dir).map_err(|e| TrainError::io(&dir, e))?;
    if old.exists() {
        fs::remove_dir_all(&old).map_err(|e| TrainError::io(&old, e))?;
    }
    Ok(())
}

/// Softmax probabilities of `model` on samples `indices` of the task's data set.
pub fn predict(
    model: &Model,
    data: &PreparedData,
    indices: &[usize],
    device: &Device,
) -> Predictions {
    let model = model.valid();
    let device = device.clone().without_autodiff();
    let mut probs = Vec::with_capacity(indices.len() * data.n_classes());
    for chunk in indices.chunks(EVAL_BATCH) {
        let (x, _) = data.batch(&data.dataset.x, &data.dataset.y, chunk, &device);
        let p: Tensor<2> = softmax(model.forward(x), 1);
        probs.extend(p.into_data().try_into_vec_as::<f32>().unwrap_or_default());
    }
    Predictions {
        y_true: indices.iter().map(|&i| data.dataset.y[i]).collect(),
        probs,
        n_classes: data.n_classes(),
    }
}

#[allow(clippy::too_many_arguments)]
fn run_loop(
    config: &TrainConfig,
    data: &PreparedData,
    dir: &Path,
    progress: &dyn Progress,
    device: &Device,
    mut model: Model,
    mut optim: ModuleOptimizer,
    mut state: TrainState,
    (tx, ty): (Vec<f32>, Vec<usize>),
) -> Result<RunSummary, TrainError> {
    let n_classes = data.n_classes();
    let counts = class_counts(&ty, n_classes);
    let names = &data.dataset.class_names;
    let sampler = match config.remedy.data_side() {
        DataSide::BalancedSampler => Some(focal_data::sampling::WeightedRandomSampler::balanced(
            &ty,
            ty.len(),
        )?),
        _ => None,
    };
    let steps = ty.len().div_ceil(config.batch_size);
    let mut best_model = if state.best_epoch > 0 {
        Some(load_model(
            model.clone(),
            &checkpoint_dir(dir, "best").join("model.bpk"),
        )?)
    } else {
        None
    };
    while state.epoch < config.epochs && !state.stopped_early {
        let epoch = state.epoch + 1;
        let started = Instant::now();
        let es = epoch_seed(config.seed, epoch);
        device.seed(es);
        let order: Vec<usize> = match &sampler {
            Some(s) => s.epoch_indices(es),
            None => {
                let mut o: Vec<usize> = (0..ty.len()).collect();
                o.shuffle(&mut ChaCha8Rng::seed_from_u64(es));
                o
            }
        };
        let loss_fn = config.remedy.loss(&counts, epoch, config.epochs, device)?;
        progress.epoch_start(epoch, config.epochs, steps);
        let (mut sum, mut n, mut lr) = (0.0f64, 0usize, config.lr);
        for (step, chunk) in order.chunks(config.batch_size).enumerate() {
            let (x, y) = data.batch(&tx, &ty, chunk, device);
            let loss = loss_fn.forward(model.forward(x), y);
            let mut value = loss.clone().into_scalar::<f32>();
            if config.inject_nan_at == Some((epoch, step + 1)) {
                value = f32::NAN;
            }
            if !value.is_finite() {
                return Err(TrainError::NonFinite {
                    epoch,
                    step: step + 1,
                    value,
                    last_good_epoch: state.epoch,
                });
            }
            lr = config.lr_at(epoch, step, steps);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr, model, grads);
            sum += value as f64 * chunk.len() as f64;
            n += chunk.len();
            progress.step(step + 1, value);
        }
        let val = predict(&model, data, &data.splits.val, device);
        let pred = val.argmax();
        let m = RuleMetrics::new("argmax", &val.y_true, &pred, names, None, None)?;
        let record = EpochRecord {
            epoch,
            lr,
            train_loss: if n > 0 { sum / n as f64 } else { 0.0 },
            val_loss: val.cross_entropy(),
            val_accuracy: m.accuracy,
            val_balanced_accuracy: m.balanced_accuracy,
            val_pr_auc: val.pr_auc(data.positive),
            val_roc_auc: val.roc_auc(data.positive),
            val_per_class: m
                .per_class
                .iter()
                .map(|c| [c.precision, c.recall, c.f1])
                .collect(),
            time_s: started.elapsed().as_secs_f64(),
            peak_memory_mb: peak_memory_bytes().map(|b| b as f64 / (1024.0 * 1024.0)),
        };
        let score = record.val_pr_auc.unwrap_or(record.val_balanced_accuracy);
        state.history.push(record.clone());
        state.epoch = epoch;
        if state.best_score.is_none_or(|b| score > b) {
            state.best_score = Some(score);
            state.best_epoch = epoch;
            save_checkpoint(dir, "best", &model, None, &state)?;
            best_model = Some(model.clone());
        } else if let Some(patience) = config.early_stop
            && epoch - state.best_epoch >= patience
        {
            state.stopped_early = true;
            progress.message(&format!(
                "early stop after epoch {epoch}: validation PR-AUC has not improved for {patience} epochs (best: epoch {})",
                state.best_epoch
            ));
        }
        save_checkpoint(dir, "last", &model, Some(&optim), &state)?;
        write_history(dir, names, &state.history)?;
        progress.epoch_end(&record, config.epochs);
    }
    // With early stopping, the best validation epoch is evaluated; otherwise the last one.
    let (final_model, evaluated_epoch) = match (config.early_stop, best_model) {
        (Some(_), Some(b)) => (b, state.best_epoch),
        _ => (model, state.epoch),
    };
    let metrics = finish(
        config,
        data,
        dir,
        &final_model,
        device,
        &state,
        evaluated_epoch,
    )?;
    Ok(RunSummary {
        run_dir: dir.to_path_buf(),
        metrics,
        history: state.history,
    })
}

/// Evaluates on test at each decision rule and writes metrics.json, report.txt, curves and
/// predictions.csv.
fn finish(
    config: &TrainConfig,
    data: &PreparedData,
    dir: &Path,
    model: &Model,
    device: &Device,
    state: &TrainState,
    evaluated_epoch: usize,
) -> Result<FinalMetrics, TrainError> {
    let names = &data.dataset.class_names;
    let val = predict(model, data, &data.splits.val, device);
    let test = predict(model, data, &data.splits.test, device);
    let metrics = final_metrics(
        config,
        data.positive,
        names,
        &val,
        &test,
        state,
        evaluated_epoch,
    )?;
    write_predictions(dir, &test)?;
    write_curves(dir, &test, data.positive)?;
    write_json(&dir.join("metrics.json"), &metrics)?;
    write_report(dir, &metrics)?;
    // Last: report.html is drawn from the files written above (and the last checkpoint's history).
    crate::report::write_run_report(dir)?;
    Ok(metrics)
}

/// The final metrics from validation and test predictions (also used by `focal eval --run`).
pub fn final_metrics(
    config: &TrainConfig,
    positive: Option<usize>,
    names: &[String],
    val: &Predictions,
    test: &Predictions,
    state: &TrainState,
    evaluated_epoch: usize,
) -> Result<FinalMetrics, TrainError> {
    let mut rules = std::collections::BTreeMap::new();
    rules.insert(
        "argmax".to_string(),
        RuleMetrics::new("argmax", &test.y_true, &test.argmax(), names, None, None)?,
    );
    let tuned = match positive {
        Some(p) if val.y_true.contains(&p) => Some(tune(val, p, config.target_recall)?),
        _ => None,
    };
    if let (Some(t), Some(p)) = (&tuned, positive) {
        let pred = test.at_threshold(p, t.threshold);
        rules.insert(
            "tuned".to_string(),
            RuleMetrics::new(
                "tuned",
                &test.y_true,
                &pred,
                names,
                Some(t.threshold),
                Some(t.objective.clone()),
            )?,
        );
    }
    let (outcomes, conf) = top_label(test);
    let test_ece =
        focal_metrics::calibration::expected_calibration_error(&outcomes, &conf, CALIBRATION_BINS)
            .ok();
    let test_brier = positive.and_then(|p| {
        let y: Vec<bool> = test.y_true.iter().map(|&l| l == p).collect();
        focal_metrics::calibration::brier_score(&y, &test.scores(p)).ok()
    });
    let times: Vec<f64> = state.history.iter().map(|h| h.time_s).collect();
    Ok(FinalMetrics {
        positive,
        class_names: names.to_vec(),
        evaluated_epoch,
        epochs_run: state.epoch,
        stopped: if state.stopped_early {
            "early-stop".into()
        } else {
            "completed".into()
        },
        time_per_epoch_s: if times.is_empty() {
            0.0
        } else {
            times.iter().sum::<f64>() / times.len() as f64
        },
        test_pr_auc: test.pr_auc(positive),
        test_roc_auc: test.roc_auc(positive),
        test_ece,
        test_brier,
        tuned,
        rules,
    })
}

/// Re-evaluates a finished run on `data` (the run's data, checked by fingerprint): the model of
/// the evaluated epoch (best with early stopping, else last), both decision rules, without
/// writing anything. What `focal eval --run` prints.
pub fn evaluate_run(run_dir: &Path, data: &PreparedData) -> Result<FinalMetrics, TrainError> {
    let rc: RunConfig = read_json(&run_dir.join("config.json"))?;
    same_data(&rc, data, &run_dir.display().to_string())?;
    let config = rc.train;
    let device = config.device.resolve()?;
    let last: TrainState = read_json(&checkpoint_dir(run_dir, "last").join("state.json"))?;
    let which = if config.early_stop.is_some() && last.best_epoch > 0 {
        "best"
    } else {
        "last"
    };
    let model = Model::new(config.model, &data.dataset.kind, data.n_classes(), &device)?;
    let model = load_model(model, &checkpoint_dir(run_dir, which).join("model.bpk"))?;
    let evaluated = if which == "best" {
        last.best_epoch
    } else {
        last.epoch
    };
    let val = predict(&model, data, &data.splits.val, &device);
    let test = predict(&model, data, &data.splits.test, &device);
    final_metrics(
        &config,
        data.positive,
        &data.dataset.class_names,
        &val,
        &test,
        &last,
        evaluated,
    )
}

/// Reads a run's `config.json`.
pub fn read_run_config(run_dir: &Path) -> Result<RunConfig, TrainError> {
    read_json(&run_dir.join("config.json"))
}

/// Reads a run's `split.json`.
pub fn read_split(run_dir: &Path) -> Result<focal_data::Splits, TrainError> {
    read_json(&run_dir.join("split.json"))
}
