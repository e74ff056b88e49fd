//! One training run as named steps: set-up (shared by a fresh start and a resume), a training
//! epoch, validation, the best/early-stop decision, checkpoints, and the final evaluation.

use std::borrow::Cow;
use std::cell::RefCell;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::store::ModuleRecord;
use burn::tensor::Device;
use focal_data::sampling::WeightedRandomSampler;
use focal_kernels::{FusedAdamConfig, FusedSgdConfig};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::faults;
use super::loss_total::LossTotal;
use crate::augmentation::Augmentation;
use crate::config::{ADAM_EPSILON, OptimizerKind, TrainConfig};
use crate::data::{DeviceSet, HostSet, PreparedData};
use crate::device::peak_memory_bytes;
use crate::error::TrainError;
use crate::evaluate::{Predictions, epoch_scores};
use crate::model::pretrained::PretrainedReport;
use crate::model::{Model, ModelKind};
use crate::progress::Progress;
use crate::remedy::{DataSide, Loss};
use crate::run::checkpoint::{self, TrainState, Which};
use crate::run::curves::{write_curves, write_uncalibrated_curve};
use crate::run::files::write_json;
use crate::run::history::write_history;
use crate::run::predictions;
use crate::run::record::{
    EpochRecord, FinalMetrics, Preprocessing, RunConfig, SplitCounts, write_config,
};
use crate::run::text_report::write_report;
use crate::run::tracking::Tracker;
use crate::setting::Setting;
use crate::train::evaluation::{evaluate_model, predict_set};
use crate::transfer::Transfer;

/// Training steps between two reads of the loss back to the host (for the progress display and
/// the NaN guard). Each read waits for the device, so reading every step would idle a GPU; the
/// guard still names the exact step, from the values of the steps read together.
const LOSS_READ_EVERY: usize = 25;

/// Runs in one process take turns: Burn's CPU random generator (initialisation, dropout) is
/// process-wide, and a run is reproducible only when no other run draws from it meanwhile.
static RUN_LOCK: Mutex<()> = Mutex::new(());

fn run_lock() -> MutexGuard<'static, ()> {
    // A run that panicked leaves nothing behind that the next one depends on.
    RUN_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The seed of epoch `epoch` (1-based) of a run seeded `seed` (SplitMix64 of both), so a
/// resumed run draws exactly what the uninterrupted one would have.
pub fn epoch_seed(seed: u64, epoch: usize) -> u64 {
    let mut z = seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Mixed into the run's seed for the augmentation stream ("augment" in ASCII), so that
/// augmenting draws from a generator of its own and changes no other draw of the run.
const AUGMENT_STREAM: u64 = 0x0061_7567_6d65_6e74;

/// The seed of the augmentation of epoch `epoch` (1-based) of a run seeded `seed`: like
/// [`epoch_seed`], a function of both alone, so a resumed run augments as the uninterrupted one.
pub fn augment_seed(seed: u64, epoch: usize) -> u64 {
    epoch_seed(seed ^ AUGMENT_STREAM, epoch)
}

/// The training samples as the loop reads them.
enum TrainSamples {
    /// On the device: every epoch selects its batches from the same set.
    Fixed(Box<DeviceSet>),
    /// On the host: every epoch streams its batches to the device, built ahead by a thread of
    /// their own ([`TrainConfig::stream`]).
    Streamed(Box<HostSet>),
    /// On the host, before standardisation: every epoch augments a fresh copy and puts that on
    /// the device, or streams it (the previous epoch's copy is dropped first).
    Augmented {
        /// The training samples after the remedy's data side, flat.
        x: Vec<f32>,
        /// The transforms.
        augmentation: Augmentation,
        /// Whether the augmented copy is streamed rather than put on the device.
        stream: bool,
    },
}

/// Where an epoch takes its batches from.
enum BatchSource<'s> {
    Device(&'s DeviceSet),
    Host(&'s HostSet),
}

/// Batches a streaming epoch builds ahead of the step that trains on them.
const PREFETCH_BATCHES: usize = 2;

/// What a finished run returns (and wrote to its folder).
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// The run folder.
    pub run_dir: std::path::PathBuf,
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

/// The model and its optimizer, which every step updates together.
pub(crate) struct Learner {
    /// The model (on the autodiff device).
    pub model: Model,
    /// The optimizer and its state.
    pub optim: ModuleOptimizer,
}

/// What one training epoch measured.
struct EpochStats {
    /// Mean training loss over the epoch's samples.
    mean_loss: f64,
    /// Learning rate at the last step.
    lr: f64,
}

/// What the loop does after an epoch, from its validation score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// A new best: keep this model as the best.
    Improved,
    /// Not better; go on.
    Continue,
    /// Not better for `patience` epochs: stop.
    Stop,
}

/// The early-stopping rule: a strictly better score is a new best; otherwise stop once the
/// best is `patience` epochs old.
pub(crate) fn decide(
    best_score: Option<f64>,
    best_epoch: usize,
    score: f64,
    epoch: usize,
    patience: Option<usize>,
) -> Decision {
    if best_score.is_none_or(|b| score > b) {
        Decision::Improved
    } else if patience.is_some_and(|p| epoch - best_epoch >= p) {
        Decision::Stop
    } else {
        Decision::Continue
    }
}

/// Everything a run needs besides its learner, set up once, the same way for a fresh run and a
/// resumed one.
pub(crate) struct Session<'a> {
    config: &'a TrainConfig,
    /// The task: as given, or with the frozen backbone's features in place of its images when
    /// the head trains on them.
    data: Cow<'a, PreparedData>,
    /// The task as given (what `config.json` records a sample as).
    source: &'a PreparedData,
    /// The pretrained network of a run that freezes part of it.
    transfer: Option<Transfer>,
    dir: &'a Path,
    progress: &'a dyn Progress,
    /// The autodiff device.
    device: Device,
    /// The training samples after the remedy's data side (on the device, or on the host to be
    /// augmented each epoch), and their labels.
    train_samples: TrainSamples,
    train_y: Vec<usize>,
    /// The validation samples on the device (predicted after every epoch).
    val_set: DeviceSet,
    /// Class counts of `train_y`.
    counts: Vec<usize>,
    sampler: Option<WeightedRandomSampler>,
    /// `--log-dir`'s writer, opened when the loop starts (it needs the epochs already done).
    tracker: RefCell<Option<Tracker>>,
    _turn: MutexGuard<'static, ()>,
}

impl<'a> Session<'a> {
    /// Checks the configuration against the data, takes the process's run turn, finds the
    /// device and builds the training set (the remedy's resampling, seeded).
    pub fn open(
        config: &'a TrainConfig,
        data: &'a PreparedData,
        dir: &'a Path,
        progress: &'a dyn Progress,
    ) -> Result<Self, TrainError> {
        check_model_fits(config.model(), data)?;
        config.check_samples(&data.dataset.kind)?;
        if config.prior_bias().is_some() && data.positive().is_none() {
            return Err(TrainError::NeedsBinaryTask {
                setting: Setting::PriorBias,
            });
        }
        let turn = run_lock();
        let device = config.device().resolve()?.autodiff();
        let (transfer, train_data) = match open_transfer(config, data, dir, &device, progress)? {
            Some((t, Some(features))) => (Some(t), Cow::Owned(features)),
            Some((t, None)) => (Some(t), Cow::Borrowed(data)),
            None => (None, Cow::Borrowed(data)),
        };
        let source = data;
        let data = &*train_data;
        // Without resampling or augmentation, the training split is taken from the data set
        // straight into the form it trains in (bytes for pixels), with no f32 copy on the way.
        let side = config.remedy().data_side();
        let (train_x, train_y) = match (config.augment(), side) {
            (None, DataSide::None | DataSide::BalancedSampler) => {
                let y = data.splits.train.iter().map(|&i| data.dataset.y[i]);
                (None, y.collect())
            }
            _ => {
                let (x, y) = data.training_set(side, epoch_seed(config.seed(), 0))?;
                (Some(x), y)
            }
        };
        let counts = class_counts(&train_y, data.n_classes());
        let sampler = match side {
            DataSide::BalancedSampler => {
                Some(WeightedRandomSampler::balanced(&train_y, train_y.len())?)
            }
            _ => None,
        };
        let train_samples = match (config.augment(), train_x) {
            (Some(augmentation), Some(x)) => {
                let bytes = (x.len() * std::mem::size_of::<f32>()) as u64;
                TrainSamples::Augmented {
                    x,
                    augmentation: *augmentation,
                    stream: config.stream().streams(bytes, config.device()),
                }
            }
            // Augmentation always has its f32 copy (the first match), so this is the rest.
            (_, x) => {
                let host = match x {
                    Some(x) => data.host_set(x, &train_y, &device),
                    None => data.host_set_of_rows(&data.splits.train, &device),
                };
                if config.stream().streams(host.bytes(), config.device()) {
                    progress.message(&format!(
                        "streaming the training samples from the host ({}), {PREFETCH_BATCHES} batches ahead",
                        focal_data::memory::human_bytes(host.bytes())
                    ));
                    TrainSamples::Streamed(Box::new(host))
                } else {
                    TrainSamples::Fixed(Box::new(host.into_device_set(&device)))
                }
            }
        };
        let val_set = data.device_set_of(&data.splits.val, &device.clone().without_autodiff());
        Ok(Session {
            config,
            data: train_data,
            source,
            transfer,
            dir,
            progress,
            device,
            train_samples,
            train_y,
            val_set,
            counts,
            sampler,
            tracker: RefCell::new(None),
            _turn: turn,
        })
    }

    /// A new model, seeded: initialised, with pretrained weights and the prior bias if asked.
    pub fn new_model(&self) -> Result<(Model, Option<PretrainedReport>), TrainError> {
        let config = self.config;
        if let Some(t) = &self.transfer {
            return Ok((t.initial_model(), Some(t.report.clone())));
        }
        self.device.seed(config.seed());
        let mut model = self.empty_model()?;
        let mut pretrained = None;
        if let (Some(path), Model::ResNet(net)) = (&config.pretrained(), &model) {
            let (net, report) = crate::model::pretrained::load_resnet(net.clone(), path)?;
            self.progress.message(&report.describe(path));
            model = Model::ResNet(net);
            pretrained = Some(report);
        }
        if let (Some(pi), Some(pos)) = (config.prior_bias(), self.data.positive()) {
            model = model.with_prior_bias(pos, pi)?;
        }
        Ok((model, pretrained))
    }

    /// The architecture of this run, freshly initialised (weights to be loaded into).
    fn empty_model(&self) -> Result<Model, TrainError> {
        Model::with_head_kind(
            self.config.model(),
            self.config.head(),
            &self.data.dataset.kind,
            self.data.n_classes(),
            &self.device,
        )
    }

    /// The model of checkpoint `which`: its whole record, or, for a run that freezes part of
    /// its weights, the pretrained network with the trained parameters it holds.
    pub fn load_checkpoint(&self, which: Which) -> Result<Model, TrainError> {
        match &self.transfer {
            Some(t) => {
                let path = checkpoint::model_path(self.dir, which);
                t.load(checkpoint::read_record(&path)?, &path)
            }
            None => checkpoint::load_model(self.empty_model()?, self.dir, which),
        }
    }

    /// What a checkpoint keeps of `model`: every parameter, or those the run trains.
    fn record_of(&self, model: &Model) -> ModuleRecord {
        match &self.transfer {
            Some(t) => t.record_of(model),
            None => model.clone().into_record(),
        }
    }

    /// What `config.json` records of the frozen layers and the features.
    pub fn transfer_record(&self) -> Option<&crate::finetune::TransferRecord> {
        self.transfer.as_ref().map(|t| &t.record)
    }

    /// The optimizer of the configuration, without state: Adam with PyTorch's defaults
    /// (betas 0.9 and 0.999, epsilon [`ADAM_EPSILON`]), or SGD with momentum 0.9. focal-kernels'
    /// fused steps: burn-optim's `Adam` / `Sgd` to the bit, in one pass per parameter, with the
    /// same checkpoint records.
    pub fn new_optimizer(&self) -> ModuleOptimizer {
        let config = self.config;
        let decay =
            (config.weight_decay() > 0.0).then(|| WeightDecayConfig::new(config.weight_decay()));
        let clip = config.clip_grad().map(GradientClippingConfig::Norm);
        match config.optimizer() {
            OptimizerKind::Adam => FusedAdamConfig::new()
                .with_epsilon(ADAM_EPSILON)
                .with_weight_decay(decay)
                .with_grad_clipping(clip)
                .init(),
            OptimizerKind::Sgd => FusedSgdConfig::new()
                .with_momentum(Some(MomentumConfig::new().with_momentum(0.9)))
                .with_weight_decay(decay)
                .with_gradient_clipping(clip)
                .init(),
        }
    }

    /// Writes `config.json` and `split.json` of a fresh run.
    pub fn write_run_files(&self, pretrained: Option<PretrainedReport>) -> Result<(), TrainError> {
        let data = &*self.data;
        let run_config = RunConfig {
            focal_version: env!("CARGO_PKG_VERSION").to_string(),
            train: self.config.clone(),
            task: data.task.clone(),
            data_fingerprint: data.fingerprint.clone(),
            n_classes: data.n_classes(),
            class_names: data.dataset.class_names.clone(),
            positive: data.positive(),
            class_counts: SplitCounts {
                train: data.dataset.class_counts_of(&data.splits.train),
                val: data.dataset.class_counts_of(&data.splits.val),
                test: data.dataset.class_counts_of(&data.splits.test),
            },
            train_counts_after_remedy: self.counts.clone(),
            pretrained,
            transfer: self.transfer_record().cloned(),
            preprocessing: Some(Preprocessing {
                sample: self.source.dataset.kind,
                normalization: self.source.normalization.clone(),
                input_normalization: self.source.task.input_normalization,
            }),
        };
        // split.json first: config.json marks a run as started (resumable), and a resume reads
        // both, so a kill between the two writes must not leave config.json alone.
        crate::run::record::write_split(self.dir, data)?;
        write_config(self.dir, &run_config)
    }

    /// The loop: epochs from `state` to the end (or an early stop), then the final evaluation.
    pub fn run(
        self,
        mut learner: Learner,
        mut state: TrainState,
    ) -> Result<RunSummary, TrainError> {
        let config = self.config;
        if let Some(dir) = &config.log_dir() {
            let tracker = Tracker::open(dir, &self.data.dataset.class_names, state.epoch)?;
            self.progress.message(&format!(
                "logging to {} (TensorBoard: tensorboard --logdir {})",
                dir.display(),
                dir.parent().unwrap_or(dir).display()
            ));
            *self.tracker.borrow_mut() = Some(tracker);
        }
        let mut best_model = if state.best_epoch > 0 {
            Some(self.load_checkpoint(Which::Best)?)
        } else {
            None
        };
        let mut loss = None;
        // The last validation predictions, reused by the final evaluation of the same model.
        let mut last_val: Option<(usize, Predictions)> = None;
        // The epoch of the last checkpoint on disk, where a crash would resume from.
        let mut saved_epoch = state.epoch;
        while state.epoch < config.epochs() && !state.stopped_early {
            let epoch = state.epoch + 1;
            let started = Instant::now();
            // The loss is built once per stage (only ldam-drw has two).
            let stage = config.remedy().loss_stage(epoch, config.epochs());
            let loss_fn = match loss.take() {
                Some((s, l)) if s == stage => l,
                _ => config
                    .remedy()
                    .loss(&self.counts, epoch, config.epochs(), &self.device)?,
            };
            let (next, stats) = self.train_epoch(learner, &loss_fn, epoch, saved_epoch)?;
            learner = next;
            loss = Some((stage, loss_fn));
            let (record, val) = self.validate(&learner.model, epoch, &stats, started)?;
            last_val = Some((epoch, val));
            if self.after_epoch(&mut state, record, &learner, &mut best_model)? {
                saved_epoch = epoch;
            }
        }
        // With early stopping, the best validation epoch is evaluated; otherwise the last one.
        let (final_model, evaluated_epoch) = match (config.early_stop(), best_model) {
            (Some(_), Some(b)) => (b, state.best_epoch),
            _ => (learner.model, state.epoch),
        };
        let val = last_val.and_then(|(e, v)| (e == evaluated_epoch).then_some(v));
        let metrics = self.finish(&final_model, val, &state, evaluated_epoch)?;
        Ok(RunSummary {
            run_dir: self.dir.to_path_buf(),
            metrics,
            history: state.history,
        })
    }

    /// The sample order of `epoch`: the balanced sampler's draw, or a seeded shuffle.
    fn epoch_order(&self, seed: u64) -> Vec<usize> {
        match &self.sampler {
            Some(s) => s.epoch_indices(seed),
            None => {
                let mut o: Vec<usize> = (0..self.train_y.len()).collect();
                o.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
                o
            }
        }
    }

    /// One pass over the training set. A NaN or infinite loss stops the run (the message names
    /// the epoch and step; `last_good_epoch`'s checkpoint stays).
    fn train_epoch(
        &self,
        mut learner: Learner,
        loss_fn: &Loss,
        epoch: usize,
        last_good_epoch: usize,
    ) -> Result<(Learner, EpochStats), TrainError> {
        let config = self.config;
        let es = epoch_seed(config.seed(), epoch);
        self.device.seed(es);
        let order = self.epoch_order(es);
        // Augmented: this epoch's transforms of the training images (training batches only).
        let (augmented_device, augmented_host);
        let source = match &self.train_samples {
            TrainSamples::Fixed(set) => BatchSource::Device(set),
            TrainSamples::Streamed(set) => BatchSource::Host(set),
            TrainSamples::Augmented {
                x,
                augmentation,
                stream,
            } => {
                let x = self.data.augmented(
                    x,
                    &self.train_y,
                    augmentation,
                    augment_seed(config.seed(), epoch),
                )?;
                let host = self.data.host_set(x, &self.train_y, &self.device);
                if *stream {
                    augmented_host = host;
                    BatchSource::Host(&augmented_host)
                } else {
                    augmented_device = host.into_device_set(&self.device);
                    BatchSource::Device(&augmented_device)
                }
            }
        };
        let steps = self.train_y.len().div_ceil(config.batch_size());
        self.progress.epoch_start(epoch, config.epochs(), steps);
        if let Some(t) = self.tracker.borrow_mut().as_mut() {
            t.epoch_start(epoch, steps);
        }
        let mut total = LossTotal {
            epoch,
            last_good_epoch,
            inject_nan_at: faults::nan_at(),
            sum: 0.0,
            n: 0,
            pending: Vec::with_capacity(LOSS_READ_EVERY),
        };
        let mut lr = config.lr();
        let chunks = order.chunks(config.batch_size());
        std::thread::scope(|scope| -> Result<(Learner, EpochStats), TrainError> {
            let batches: Box<dyn Iterator<Item = _>> = match source {
                BatchSource::Device(set) => Box::new(chunks.clone().map(|c| set.batch(c))),
                BatchSource::Host(set) => {
                    let (tx, rx) = std::sync::mpsc::sync_channel(PREFETCH_BATCHES);
                    let ahead = chunks.clone();
                    // Stops at the first send the loop no longer receives (an error ended it).
                    scope.spawn(move || {
                        for c in ahead {
                            if tx.send(set.batch(c)).is_err() {
                                break;
                            }
                        }
                    });
                    let stats = set.statistics(&self.device);
                    let device = self.device.clone();
                    Box::new(rx.into_iter().map(move |b| b.to_device(&device, &stats)))
                }
            };
            let mut done = 0;
            for ((step, chunk), (x, y)) in chunks.enumerate().zip(batches) {
                let loss = loss_fn.forward(learner.model.forward(x), y);
                total
                    .pending
                    .push((step + 1, chunk.len(), loss.clone().detach()));
                lr = config.lr_at(epoch, step, steps);
                let grads = GradientsParams::from_grads(loss.backward(), &learner.model);
                learner.model = learner.optim.step(lr, learner.model, grads);
                if total.pending.len() == LOSS_READ_EVERY || step + 1 == steps {
                    total.read()?;
                    self.progress.step(step + 1, total.mean() as f32);
                    if let Some(t) = self.tracker.borrow_mut().as_mut() {
                        t.step(step + 1, total.mean() as f32)?;
                    }
                }
                done += 1;
            }
            if done < steps {
                return Err(TrainError::device(format!(
                    "the thread streaming the training batches stopped after {done} of {steps} steps of epoch {epoch}"
                )));
            }
            let mean_loss = total.mean();
            Ok((learner, EpochStats { mean_loss, lr }))
        })
    }

    /// Validation metrics of `model` after `epoch`, and its validation predictions.
    fn validate(
        &self,
        model: &Model,
        epoch: usize,
        stats: &EpochStats,
        started: Instant,
    ) -> Result<(EpochRecord, Predictions), TrainError> {
        let data = &*self.data;
        let val = self.predict_val(model)?;
        let scores = epoch_scores(&val.y_true, &val.argmax(), data.n_classes())?;
        let record = EpochRecord {
            epoch,
            lr: stats.lr,
            train_loss: stats.mean_loss,
            val_loss: val.cross_entropy(),
            val_accuracy: scores.accuracy,
            val_balanced_accuracy: scores.balanced_accuracy,
            val_pr_auc: val.pr_auc(data.positive()),
            val_roc_auc: val.roc_auc(data.positive()),
            val_per_class: scores.per_class,
            time_s: started.elapsed().as_secs_f64(),
            peak_memory_mb: peak_memory_bytes().map(|b| b as f64 / (1024.0 * 1024.0)),
        };
        Ok((record, val))
    }

    /// Probabilities of `model` on the validation split.
    fn predict_val(&self, model: &Model) -> Result<Predictions, TrainError> {
        let data = &*self.data;
        let y = data.splits.val.iter().map(|&i| data.dataset.y[i]).collect();
        predict_set(model, &self.val_set, y, data.n_classes(), None)
    }

    /// Records the epoch, keeps the best model, decides on early stopping and writes the
    /// checkpoints and `history.csv`; returns whether the last checkpoint was written.
    fn after_epoch(
        &self,
        state: &mut TrainState,
        record: EpochRecord,
        learner: &Learner,
        best_model: &mut Option<Model>,
    ) -> Result<bool, TrainError> {
        let config = self.config;
        let epoch = record.epoch;
        // Early stopping watches validation PR-AUC (balanced accuracy when it is undefined).
        let score = record.val_pr_auc.unwrap_or(record.val_balanced_accuracy);
        state.history.push(record.clone());
        state.epoch = epoch;
        match decide(
            state.best_score,
            state.best_epoch,
            score,
            epoch,
            config.early_stop(),
        ) {
            Decision::Improved => {
                state.best_score = Some(score);
                state.best_epoch = epoch;
                let record = self.record_of(&learner.model);
                checkpoint::save(self.dir, Which::Best, record, None, state)?;
                *best_model = Some(learner.model.clone());
            }
            Decision::Stop => {
                state.stopped_early = true;
                self.progress.message(&format!(
                    "early stop after epoch {epoch}: validation PR-AUC has not improved for {} epochs (best: epoch {})",
                    epoch - state.best_epoch,
                    state.best_epoch
                ));
            }
            Decision::Continue => {}
        }
        // The last checkpoint every `checkpoint_every` epochs, and always at the end.
        let last_epoch = epoch == config.epochs() || state.stopped_early;
        let save = epoch.is_multiple_of(config.checkpoint_every().max(1)) || last_epoch;
        if save {
            let record = self.record_of(&learner.model);
            checkpoint::save(self.dir, Which::Last, record, Some(&learner.optim), state)?;
        }
        write_history(self.dir, &self.data.dataset.class_names, &state.history)?;
        self.progress.epoch_end(&record, config.epochs());
        if let Some(t) = self.tracker.borrow_mut().as_mut() {
            t.epoch_end(&record)?;
        }
        Ok(save)
    }

    /// Evaluates on test at each decision rule and writes metrics.json, report.txt, curves,
    /// predictions.csv and val_predictions.csv (metrics.json last: it marks the run complete).
    fn finish(
        &self,
        model: &Model,
        val: Option<Predictions>,
        state: &TrainState,
        evaluated_epoch: usize,
    ) -> Result<FinalMetrics, TrainError> {
        let data = &*self.data;
        self.progress.message(&format!(
            "evaluating epoch {evaluated_epoch}'s model on test ({} samples){}",
            data.splits.test.len(),
            if data.positive().is_some() {
                ", with the threshold tuned on validation"
            } else {
                ""
            }
        ));
        let evaluated = evaluate_model(
            self.config,
            data,
            model,
            &self.device,
            val,
            state,
            evaluated_epoch,
        )?;
        let (metrics, test) = (evaluated.metrics, evaluated.test);
        predictions::write(self.dir, &data.source_rows_of(&data.splits.test), &test)?;
        predictions::write_val(
            self.dir,
            &data.source_rows_of(&data.splits.val),
            &evaluated.val,
        )?;
        write_curves(self.dir, &test, data.positive())?;
        write_uncalibrated_curve(self.dir, evaluated.test_uncalibrated.as_ref())?;
        write_json(&self.dir.join(crate::run::folder::METRICS_FILE), &metrics)?;
        write_report(self.dir, &metrics)?;
        if let Some(t) = self.tracker.borrow_mut().as_mut() {
            t.finish(&metrics, &test, data.positive())?;
        }
        Ok(metrics)
    }
}

/// The transfer set-up of a run that freezes part of its pretrained weights (see
/// [`Transfer::open`]): its network initialised from the run's seed, as a fresh run's model.
fn open_transfer(
    config: &TrainConfig,
    data: &PreparedData,
    dir: &Path,
    device: &Device,
    progress: &dyn Progress,
) -> Result<Option<(Transfer, Option<PreparedData>)>, TrainError> {
    if config.finetune().is_all() || config.pretrained().is_none() {
        return Ok(None);
    }
    device.seed(config.seed());
    let kind = &data.dataset.kind;
    let model = Model::with_head_kind(
        config.model(),
        config.head(),
        kind,
        data.n_classes(),
        device,
    )?;
    match model {
        Model::ResNet(net) => Transfer::open(config, data, dir, net, progress),
        _ => Ok(None),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_stopping_waits_patience_epochs_after_the_best() {
        assert_eq!(decide(None, 0, 0.1, 1, Some(2)), Decision::Improved);
        assert_eq!(decide(Some(0.5), 1, 0.6, 2, Some(2)), Decision::Improved);
        assert_eq!(decide(Some(0.5), 1, 0.5, 2, Some(2)), Decision::Continue);
        assert_eq!(decide(Some(0.5), 1, 0.4, 3, Some(2)), Decision::Stop);
        assert_eq!(decide(Some(0.5), 1, 0.4, 30, None), Decision::Continue);
    }
}
