//! `focal train`: one model, one remedy, judged per class on a held-out test split.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, ValueEnum};
use focal_data::split::SplitFractions;
use focal_data::task::{ClassSelector, TaskSpec, parse_ratio};
use focal_data::{Dataset, LoadOptions};
use focal_train::run::{EpochRecord, render_report};
use focal_train::{
    Alpha, ModelKind, OptimizerKind, PreparedData, Progress, REMEDIES, RemedyKind, RemedyParams,
    ScheduleKind, TrainConfig,
};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::device::DeviceArg;

/// A remedy name, with the descriptions of focal-train's remedy table as help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemedyArg(pub RemedyKind);

const fn remedy_args() -> [RemedyArg; REMEDIES.len()] {
    let mut a = [RemedyArg(RemedyKind::Ce); REMEDIES.len()];
    let mut i = 0;
    while i < REMEDIES.len() {
        a[i] = RemedyArg(REMEDIES[i].kind);
        i += 1;
    }
    a
}
static REMEDY_ARGS: [RemedyArg; REMEDIES.len()] = remedy_args();

impl ValueEnum for RemedyArg {
    fn value_variants<'a>() -> &'a [Self] {
        &REMEDY_ARGS
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        let info = self.0.info();
        Some(PossibleValue::new(info.name).help(info.description))
    }
}

/// A model name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelArg(pub ModelKind);
static MODEL_ARGS: [ModelArg; 4] = [
    ModelArg(ModelKind::ALL[0]),
    ModelArg(ModelKind::ALL[1]),
    ModelArg(ModelKind::ALL[2]),
    ModelArg(ModelKind::ALL[3]),
];

impl ValueEnum for ModelArg {
    fn value_variants<'a>() -> &'a [Self] {
        &MODEL_ARGS
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self.0 {
            ModelKind::Mlp => "multi-layer perceptron (tabular rows, or images flattened)",
            ModelKind::Cnn => "small CNN for images around 28x28 (conv32-conv64-fc128)",
            ModelKind::Resnet18 => "torchvision ResNet-18",
            ModelKind::Resnet50 => "torchvision ResNet-50",
        };
        Some(PossibleValue::new(self.0.name()).help(help))
    }
}

/// A value of one of the library's named enums (optimizer, schedule): clap lists and checks
/// the names the library's own table gives, and the library parses them.
fn named<T>(all: &'static [T], name: fn(T) -> &'static str) -> impl TypedValueParser<Value = T>
where
    T: std::str::FromStr<Err = focal_train::TrainError> + Copy + Send + Sync + 'static,
{
    PossibleValuesParser::new(all.iter().map(|&v| name(v))).try_map(|s| s.parse::<T>())
}

/// The data and the task built from it, shared by `train`, `compare` and `sweep`.
#[derive(Debug, Args)]
pub struct TaskArgs {
    /// Data set: a folder of IDX files, a .npz, a CSV, or a folder of class folders of images.
    /// Default: the bundled Fashion-MNIST test split as a binary task, Shirt vs the rest at 98:2.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// The rare (positive) class, by name or index: the task becomes binary, label 1 = this
    /// class. Default with the bundled data: Shirt.
    #[arg(long, value_name = "NAME|INDEX")]
    pub positive: Option<String>,
    /// Imposed NEGATIVE:POSITIVE ratio, by subsampling (e.g. 98:2). Default with the bundled
    /// data: 98:2.
    #[arg(long, value_name = "N:P")]
    pub ratio: Option<String>,
}

impl TaskArgs {
    /// The task, from the flags (bundled data: Shirt at 98:2 unless told otherwise).
    pub fn spec(&self, seed: u64) -> anyhow::Result<TaskSpec> {
        let positive = match (&self.positive, &self.data) {
            (Some(p), _) => Some(p.parse::<ClassSelector>().context("--positive")?),
            (None, None) => Some(ClassSelector::Name(
                focal_train::DEFAULT_POSITIVE.to_string(),
            )),
            (None, Some(_)) => None,
        };
        let ratio = match (&self.ratio, &self.data) {
            (Some(r), _) => Some(parse_ratio(r).context("--ratio")?),
            (None, None) => Some(focal_train::DEFAULT_RATIO),
            (None, Some(_)) => None,
        };
        Ok(TaskSpec {
            positive,
            ratio,
            long_tail: None,
            seed,
        })
    }
}

/// Arguments of `focal train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The data and the task.
    #[command(flatten)]
    pub task: TaskArgs,
    /// The imbalance remedy.
    #[arg(long, value_enum, default_value = "ce")]
    pub remedy: RemedyArg,
    /// Focusing parameter of focal and cb-focal (default 2; 0 is cross-entropy).
    #[arg(long)]
    pub gamma: Option<f32>,
    /// Class weights of focal and weighted-ce: a number (two classes: weight on the POSITIVE
    /// class, 1 - a on the other, torchvision's reading: 0.25 down-weights the rare class), a
    /// comma-separated list (one per class), `auto` (inverse frequency) or cb:BETA (effective
    /// number).
    #[arg(long, allow_hyphen_values = true)]
    pub alpha: Option<String>,
    /// Effective-number beta of cb-focal (default 0.999) and ldam-drw (default 0.9999).
    #[arg(long)]
    pub beta: Option<f64>,
    /// Temperature of logit-adjust (default 1).
    #[arg(long)]
    pub tau: Option<f32>,
    /// Epsilon of poly (default 1).
    #[arg(long, allow_hyphen_values = true)]
    pub epsilon: Option<f32>,
    /// The model.
    #[arg(long, value_enum, default_value = "cnn")]
    pub model: ModelArg,
    /// torchvision ResNet weights (.pth or .safetensors) to start from; read without executing
    /// code. The head is re-initialised when the class count differs; greyscale input sums the
    /// first convolution over colour channels.
    #[arg(long, value_name = "FILE")]
    pub pretrained: Option<PathBuf>,
    /// RetinaNet prior-probability initialisation: the head's bias gives the positive class
    /// probability PI at the start (the paper uses 0.01).
    #[arg(long, value_name = "PI")]
    pub prior_bias: Option<f64>,
    /// Number of epochs.
    #[arg(long, default_value_t = TrainConfig::DEFAULT_EPOCHS)]
    pub epochs: usize,
    /// Samples per step.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// The optimizer: adam (beta 0.9, 0.999) or sgd (momentum 0.9).
    #[arg(long, default_value = "adam", value_parser = named(&OptimizerKind::ALL, OptimizerKind::name))]
    pub optimizer: OptimizerKind,
    /// L2 weight decay.
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f32,
    /// Learning-rate schedule: constant, step (x0.1 at half and again at three quarters of the
    /// epochs) or cosine (decay to 0).
    #[arg(long, default_value = "constant", value_parser = named(&ScheduleKind::ALL, ScheduleKind::name))]
    pub schedule: ScheduleKind,
    /// Linear learning-rate warm-up over this many epochs.
    #[arg(long, default_value_t = 0)]
    pub warmup_epochs: usize,
    /// Clip each parameter's gradient to this L2 norm (the tutorial's cure for NaN losses).
    #[arg(long, value_name = "NORM")]
    pub clip_grad: Option<f32>,
    /// Stop when validation PR-AUC has not improved for this many epochs (the best epoch's
    /// model is then evaluated).
    #[arg(long, value_name = "PATIENCE")]
    pub early_stop: Option<usize>,
    /// Tune the decision threshold on validation for this recall of the positive class
    /// (default: the best F1).
    #[arg(long, value_name = "R")]
    pub target_recall: Option<f64>,
    /// Where to train.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceArg,
    /// Worker threads of the CPU backend (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Write the resumable checkpoint (model and optimizer) every N epochs and at the end; a
    /// resumed run restarts from the last one. Large models spend seconds per checkpoint.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub checkpoint_every: usize,
    /// Seed of everything random (task, split, initialisation, sampling, shuffling, dropout).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Folder that receives the run folder.
    #[arg(long, default_value = "runs")]
    pub out: PathBuf,
    /// Name of the run folder (default: REMEDY-MODEL-seedSEED; -2, -3... when taken).
    #[arg(long)]
    pub name: Option<String>,
    /// Continue the interrupted run in this folder (its config.json gives every setting; --data
    /// overrides where the data are read from).
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
    /// No progress and no report on the terminal (the run folder is still written).
    #[arg(long, short)]
    pub quiet: bool,
}

impl TrainArgs {
    /// The training configuration, every flag checked (before any data is read).
    fn config(&self) -> anyhow::Result<TrainConfig> {
        let alpha = match &self.alpha {
            Some(a) => Some(a.parse::<Alpha>()?),
            None => None,
        };
        let params = RemedyParams {
            gamma: self.gamma,
            alpha,
            beta: self.beta,
            tau: self.tau,
            epsilon: self.epsilon,
        };
        let remedy = params.check(self.remedy.0)?;
        let config = TrainConfig {
            model: self.model.0,
            remedy,
            epochs: self.epochs,
            batch_size: self.batch_size,
            lr: self.lr,
            optimizer: self.optimizer,
            weight_decay: self.weight_decay,
            schedule: self.schedule,
            warmup_epochs: self.warmup_epochs,
            clip_grad: self.clip_grad,
            early_stop: self.early_stop,
            target_recall: self.target_recall,
            prior_bias: self.prior_bias,
            pretrained: self.pretrained.clone(),
            device: self.device.into(),
            checkpoint_every: self.checkpoint_every,
            seed: self.seed,
            inject_nan_at: None,
        };
        config.validate()?;
        // A missing GPU is reported now, not after minutes of loading data.
        config.device.resolve()?;
        if let Some(p) = &self.pretrained
            && !p.is_file()
        {
            bail!("--pretrained {}: no such file", p.display());
        }
        Ok(config)
    }
}

/// Loads `--data`, or the bundled data set.
pub fn load_source(data: Option<&Path>) -> anyhow::Result<Dataset> {
    match data {
        Some(p) => focal_data::load(p, &LoadOptions::default())
            .with_context(|| format!("--data {}", p.display())),
        None => focal_data::bundled().context("loading the bundled data set"),
    }
}

/// Rebuilds the data of a finished or interrupted run, from `data` or the run's own source.
pub fn run_data(run_dir: &Path, data: Option<&Path>) -> anyhow::Result<PreparedData> {
    focal_train::pipeline::run_data(run_dir, data).with_context(|| match data {
        Some(p) => format!(
            "rebuilding the task of {} from --data {}",
            run_dir.display(),
            p.display()
        ),
        None => format!("rebuilding the task of {}", run_dir.display()),
    })
}

/// Progress on stderr: bars on a terminal, one line per epoch otherwise, nothing with --quiet.
pub(crate) struct CliProgress {
    mode: Mode,
    /// The task's minority class, whose recall the epoch line shows.
    minority: usize,
}

enum Mode {
    Quiet,
    Lines,
    Bars {
        _multi: MultiProgress,
        epochs: ProgressBar,
        steps: ProgressBar,
    },
}

impl CliProgress {
    pub(crate) fn new(quiet: bool, epochs: usize, minority: usize) -> Self {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let style = |t: &str| {
                ProgressStyle::with_template(t).unwrap_or_else(|_| ProgressStyle::default_bar())
            };
            let e = multi.add(ProgressBar::new(epochs as u64));
            e.set_style(style(
                "epoch {pos}/{len} [{bar:30}] {elapsed_precise} ETA {eta} {msg}",
            ));
            let s = multi.add(ProgressBar::new(0));
            s.set_style(style("  step {pos}/{len} [{bar:30}] ETA {eta} loss {msg}"));
            e.enable_steady_tick(Duration::from_millis(500));
            Mode::Bars {
                _multi: multi,
                epochs: e,
                steps: s,
            }
        } else {
            Mode::Lines
        };
        CliProgress { mode, minority }
    }

    pub(crate) fn finish(&self) {
        if let Mode::Bars { epochs, steps, .. } = &self.mode {
            steps.finish_and_clear();
            epochs.finish_and_clear();
        }
    }
}

fn epoch_line(r: &EpochRecord, epochs: usize, minority: usize) -> String {
    format!(
        "epoch {}/{}  train loss {:.4}  val loss {:.4}  val PR-AUC {}  val minority recall {}  {:.1}s",
        r.epoch,
        epochs,
        r.train_loss,
        r.val_loss,
        r.val_pr_auc.map_or("n/a".into(), |v| format!("{v:.4}")),
        r.val_per_class
            .get(minority)
            .map_or("n/a".into(), |c| format!("{:.3}", c[1])),
        r.time_s
    )
}

impl Progress for CliProgress {
    fn epoch_start(&self, epoch: usize, _epochs: usize, steps: usize) {
        if let Mode::Bars {
            epochs, steps: s, ..
        } = &self.mode
        {
            epochs.set_position(epoch as u64 - 1);
            s.set_length(steps as u64);
            s.set_position(0);
            s.reset_eta();
        }
    }
    fn step(&self, step: usize, running_loss: f32) {
        if let Mode::Bars { steps, .. } = &self.mode {
            steps.set_position(step as u64);
            steps.set_message(format!("{running_loss:.4} (epoch mean so far)"));
        }
    }
    fn epoch_end(&self, record: &EpochRecord, n: usize) {
        match &self.mode {
            Mode::Quiet => {}
            Mode::Lines => eprintln!("{}", epoch_line(record, n, self.minority)),
            Mode::Bars { epochs, .. } => {
                epochs.set_position(record.epoch as u64);
                epochs.println(epoch_line(record, n, self.minority));
            }
        }
    }
    fn message(&self, text: &str) {
        match &self.mode {
            Mode::Quiet => {}
            Mode::Lines => eprintln!("{text}"),
            Mode::Bars { epochs, .. } => epochs.println(text),
        }
    }
}

/// Sets `--threads` (before any tensor work).
pub fn set_threads(threads: Option<usize>) -> anyhow::Result<()> {
    if let Some(t) = threads {
        focal_train::device::set_threads(t)?;
    }
    Ok(())
}

/// Runs `focal train`.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    set_threads(args.threads)?;
    let summary = if let Some(dir) = &args.resume {
        let data = run_data(dir, args.task.data.as_deref())?;
        let rc = focal_train::read_config(dir)?;
        let progress = CliProgress::new(args.quiet, rc.train.epochs, data.minority());
        let s = focal_train::resume(dir, &data, &progress)
            .with_context(|| format!("--resume {}", dir.display()));
        progress.finish();
        s?
    } else {
        let config = args.config()?;
        let spec = args.task.spec(args.seed)?;
        let source = load_source(args.task.data.as_deref())?;
        let data = PreparedData::new(&source, &spec, SplitFractions::default())
            .context("building the task")?;
        let name = args.name.clone().unwrap_or_else(|| {
            format!(
                "{}-{}-seed{}",
                config.remedy.kind(),
                config.model,
                config.seed
            )
        });
        let dir = focal_train::run::fresh_run_dir(&args.out, &name)?;
        let progress = CliProgress::new(args.quiet, config.epochs, data.minority());
        if !args.quiet {
            let c = |s: &[usize]| data.dataset.class_counts_of(s);
            progress.message(&format!(
                "task: {} classes {:?}; train {:?}, val {:?}, test {:?}; remedy {}; run folder {}",
                data.n_classes(),
                data.dataset.class_names,
                c(&data.splits.train),
                c(&data.splits.val),
                c(&data.splits.test),
                config.remedy.label(),
                dir.display()
            ));
        }
        let s = focal_train::train(&config, &data, &dir, &progress);
        progress.finish();
        s.with_context(|| format!("training into {}", dir.display()))?
    };
    if !args.quiet {
        print!("{}", render_report(&summary.metrics));
        println!(
            "time per epoch: {:.1} s over {} epochs ({}); run folder: {}",
            summary.time_per_epoch_s(),
            summary.metrics.epochs_run,
            summary.metrics.stopped,
            summary.run_dir.display()
        );
    }
    Ok(())
}
