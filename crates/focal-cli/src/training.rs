//! The flags `train`, `compare` and `sweep` share ([`TrainingArgs`]): the data and task, the
//! model, the budget, the optimizer and schedule, clipping, early stopping, pretrained weights,
//! the prior bias, the threshold objective, the remedies' parameters, the device and threads.
//! Each command reads all of them or refuses, by name, the ones that make no sense for it.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::builder::{BoolishValueParser, PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, ValueEnum};
use focal_data::task::{ClassSelector, TaskSpec, parse_ratio};
use focal_data::{Dataset, LoadOptions};
use focal_train::{
    Alpha, AugmentScope, Augmentation, Calibration, DEFAULT_AUGMENT_FLIP, DEFAULT_AUGMENT_ROTATE,
    DEFAULT_AUGMENT_SHIFT, InputNormalization, MAX_AUGMENT_ROTATE, ModelKind, OptimizerKind,
    PreparedData, REMEDIES, Remedy, RemedyKind, RemedyParams, ScheduleKind, TrainConfig,
    default_image_size,
};

use crate::device::{DeviceArg, StreamArg};

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

/// A count (epochs, batch size, threads, ...): a whole number; a negative or fractional one is
/// named as such (clap's own message says "invalid digit").
pub fn parse_count(s: &str) -> Result<usize, String> {
    s.trim()
        .parse::<usize>()
        .map_err(|_| match s.trim().parse::<f64>() {
            Ok(v) if v < 0.0 => format!("`{s}` is negative; expected a whole number >= 0"),
            Ok(_) => format!("`{s}` is not a whole number; expected e.g. 10"),
            Err(_) => format!("`{s}` is not a number; expected a whole number, e.g. 10"),
        })
}

/// `WIDTHxHEIGHT`, e.g. `224x224`.
pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("`{s}`: expected WIDTHxHEIGHT, e.g. 64x64"))?;
    let w: u32 = w
        .trim()
        .parse()
        .map_err(|_| format!("`{s}`: width is not a whole number"))?;
    let h: u32 = h
        .trim()
        .parse()
        .map_err(|_| format!("`{s}`: height is not a whole number"))?;
    if w == 0 || h == 0 {
        return Err(format!("`{s}`: width and height must be at least 1"));
    }
    Ok((w, h))
}

/// The help of `--image-size`, shared by every command that reads images.
pub const IMAGE_SIZE_HELP: &str = "Load images at WIDTHxHEIGHT (image folders while decoding, \
IDX and NPZ after; bilinear). Default for image folders: a folder whose images all share one \
size no larger than the model's size keeps it; any other folder (mixed sizes, or larger \
images) is resized to the model's size: 224x224 for resnet18 and resnet50, 64x64 for cnn and \
mlp. IDX, NPZ and the bundled set keep their size. With --pretrained every image is resized, by \
default to 224x224. Loading fails, naming the memory needed, when the images \
would take more than a quarter of physical memory as f32.";

/// `--max-memory`: a size such as 512MB, 2GB or 4GiB.
pub fn parse_memory(s: &str) -> Result<u64, String> {
    focal_data::memory::parse_size(s)
}

/// The help of `--max-memory`, shared by every command that loads data.
pub const MAX_MEMORY_HELP: &str = "The most memory the loaded data set may take (its values as \
f32), e.g. 512MB, 2GB, 4GiB. Every file's declared size is checked against it before anything \
is read or decoded, and loading stops with the amount needed when it is exceeded. Default: a \
quarter of physical memory (training holds about three copies of the set).";

/// Which training images `--augment` transforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AugmentArg {
    /// No augmentation.
    None,
    /// The images of the minority class (over-sampled copies each on their own).
    Minority,
    /// Every training image.
    All,
}

/// The remedies that augment, comma-separated (for messages).
fn augmenting_remedies() -> String {
    REMEDIES
        .iter()
        .filter(|r| r.augments)
        .map(|r| r.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The help of `--augment`, with the transforms' defaults.
fn augment_help() -> String {
    format!(
        "Augment training images, anew every epoch (as a torchvision transform in a training \
         DataLoader; never validation, test or new data), seeded by --seed: none; minority (the \
         task's minority class: the positive class, or the rarest class of a multi-class task; \
         each over-sampled copy transformed on its own); all. Given without --augment-*, the \
         transforms are: horizontal flip, shift up to {DEFAULT_AUGMENT_SHIFT} px (meant for 28x28; \
         scale it with the image), rotation up to {DEFAULT_AUGMENT_ROTATE} degrees. Images only \
         (refused for CSV data). Default: none, except for remedy {} (minority). On centred \
         images minority alone can teach that off-centre means rare (see the README)",
        augmenting_remedies()
    )
}

/// The data and the task built from it.
#[derive(Debug, Args)]
pub struct TaskArgs {
    /// Data set: a folder of IDX files, a .npz, a CSV, or a folder of class folders of images.
    /// Default: the bundled Fashion-MNIST test split as a binary task, Shirt vs the rest at 98:2.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// The rare (positive) class, by name or index: the task becomes binary, label 1 = this
    /// class. Default: Shirt with the bundled data; for two-class data, the class with the
    /// fewest training samples (whatever its label in the file); none (a multi-class task)
    /// otherwise. The first line of output names it.
    #[arg(long, value_name = "NAME|INDEX")]
    pub positive: Option<String>,
    /// Imposed NEGATIVE:POSITIVE ratio, by subsampling (e.g. 98:2). Default with the bundled
    /// data: 98:2.
    #[arg(long, value_name = "N:P")]
    pub ratio: Option<String>,
    /// Accept a positive class that outnumbers the negatives (by --ratio, or by its count):
    /// refused by default, since every minority figure, the tuned threshold and PR-AUC read
    /// the positive class as the rare one.
    #[arg(long)]
    pub allow_majority_positive: bool,
    /// A long-tailed multi-class task with this imbalance factor (n_max / n_min), every class
    /// kept (instead of --positive and --ratio).
    #[arg(long, value_name = "IF", conflicts_with_all = ["positive", "ratio"])]
    pub long_tail: Option<f64>,
    /// CSV only: the label column (default: `label` if present, else the last column).
    #[arg(long, value_name = "NAME")]
    pub label_column: Option<String>,
    #[arg(long, value_name = "WxH", value_parser = parse_size, help = IMAGE_SIZE_HELP)]
    pub image_size: Option<(u32, u32)>,
    #[arg(long, value_name = "SIZE", value_parser = parse_memory, help = MAX_MEMORY_HELP)]
    pub max_memory: Option<u64>,
}

impl TaskArgs {
    /// The task, from the flags (bundled data: Shirt at 98:2 unless told otherwise).
    pub fn spec(&self, seed: u64) -> anyhow::Result<TaskSpec> {
        let bundled_default = self.data.is_none() && self.long_tail.is_none();
        let positive = match &self.positive {
            Some(p) => Some(p.parse::<ClassSelector>().context("--positive")?),
            None if bundled_default => Some(ClassSelector::Name(
                focal_train::DEFAULT_POSITIVE.to_string(),
            )),
            None => None,
        };
        let ratio = match &self.ratio {
            Some(r) => Some(parse_ratio(r).context("--ratio")?),
            None if bundled_default => Some(focal_train::DEFAULT_RATIO),
            None => None,
        };
        if let (Some((n, p)), false) = (ratio, self.allow_majority_positive)
            && p > n
        {
            bail!(
                "--ratio {n}:{p}: the ratio is NEGATIVE:POSITIVE, so this makes the positive class \
                 the majority ({p} in every {}); the positive class is meant to be the rare one \
                 (did you mean {p}:{n}?), or pass --allow-majority-positive",
                n + p
            );
        }
        if let Some(f) = self.long_tail
            && !(f.is_finite() && f >= 1.0)
        {
            bail!("--long-tail {f}: the imbalance factor must be a number >= 1");
        }
        Ok(TaskSpec {
            positive,
            ratio,
            long_tail: self.long_tail,
            allow_majority_positive: self.allow_majority_positive,
            seed,
        })
    }

    /// Loads `--data` (as `model` reads images by default), or the bundled data set. With
    /// `pretrained` weights every image is resized to `--image-size`, by default the model's
    /// size (224x224 for the ResNets, torchvision's).
    pub fn load(&self, model: ModelKind, pretrained: bool) -> anyhow::Result<Dataset> {
        let image_size = self
            .image_size
            .or(pretrained.then(|| default_image_size(model)));
        let opts = LoadOptions {
            label_column: self.label_column.clone(),
            image_size,
            default_image_size: Some(default_image_size(model)),
            memory_budget: self.max_memory,
            ..LoadOptions::default()
        };
        match &self.data {
            Some(p) => {
                focal_data::load(p, &opts).with_context(|| format!("--data {}", p.display()))
            }
            None => {
                if self.label_column.is_some() {
                    bail!(
                        "--label-column: the bundled data set is not a CSV; give --data FILE.csv"
                    );
                }
                if let (Some((w, h)), false) = (self.image_size, pretrained) {
                    bail!(
                        "--image-size {w}x{h}: the bundled data set keeps its 28x28 images (only \
                         --pretrained resizes them); give --data"
                    );
                }
                focal_data::load_bundled(&opts).context("loading the bundled data set")
            }
        }
    }
}

/// The flags of `train`, `compare` and `sweep`.
#[derive(Debug, Args)]
pub struct TrainingArgs {
    /// The data and the task.
    #[command(flatten)]
    pub task: TaskArgs,
    /// The model. Default: chosen from the data (said on the first line of output): mlp for
    /// feature rows (CSV), cnn for images up to 64x64 (the bundled set, MNIST, MedMNIST at 28 or
    /// 64), resnet18 for larger images.
    #[arg(long, value_enum)]
    pub model: Option<ModelArg>,
    /// The model `--model` or the data chose, and why (probed once).
    #[arg(skip)]
    resolved_model: std::sync::OnceLock<(ModelKind, String)>,
    /// Focusing parameter of focal, cb-focal and focal-drw (default 2; 0 is cross-entropy).
    /// `focal sweep`: the gammas to try, comma-separated (default 0,0.5,1,2,3,5).
    #[arg(long, value_name = "GAMMA")]
    pub gamma: Option<String>,
    /// Class weights of focal and weighted-ce: a number (two classes: weight on the POSITIVE
    /// class, 1 - a on the other, torchvision's reading: 0.25 down-weights the rare class), a
    /// comma-separated list (one per class), `auto` (inverse frequency) or cb:BETA (effective
    /// number). Default: focal none, weighted-ce auto. `focal sweep`: the alpha used while
    /// gamma is swept.
    #[arg(long, allow_hyphen_values = true)]
    pub alpha: Option<String>,
    /// Effective-number beta of cb-focal (default 0.999), and of the deferred weights of
    /// ldam-drw, ce-drw and focal-drw (default 0.9999).
    #[arg(long)]
    pub beta: Option<f64>,
    /// Temperature of logit-adjust (default 1).
    #[arg(long)]
    pub tau: Option<f32>,
    /// Epsilon of poly (default 1).
    #[arg(long, allow_hyphen_values = true)]
    pub epsilon: Option<f32>,
    /// torchvision ResNet weights (.pth or .safetensors) to start from; read without executing
    /// code. The head is re-initialised when the class count differs. Inputs are then prepared
    /// as torchvision's weights expect: resized to --image-size (default 224x224), made RGB
    /// (grey repeated), normalised with ImageNet's mean and standard deviation.
    #[arg(long, value_name = "FILE")]
    pub pretrained: Option<PathBuf>,
    /// RetinaNet prior-probability initialisation: the head's bias gives the positive class
    /// probability PI at the start (the paper uses 0.01).
    #[arg(long, value_name = "PI")]
    pub prior_bias: Option<f64>,
    /// Number of epochs (default: 10 for train; 4 per run for compare and sweep, which keeps
    /// `focal compare` on the bundled data under 5 minutes on two CPU cores).
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub epochs: Option<usize>,
    /// Samples per step.
    #[arg(long, default_value_t = 32, value_parser = parse_count)]
    pub batch_size: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// The optimizer: adam (PyTorch's defaults: betas 0.9 and 0.999, epsilon 1e-8) or sgd
    /// (momentum 0.9).
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
    #[arg(long, default_value_t = 0, value_parser = parse_count)]
    pub warmup_epochs: usize,
    /// Clip each parameter's gradient to this L2 norm (the tutorial's cure for NaN losses).
    #[arg(long, value_name = "NORM")]
    pub clip_grad: Option<f32>,
    /// Stop when validation PR-AUC has not improved for this many epochs (the best epoch's
    /// model is then evaluated).
    #[arg(long, value_name = "PATIENCE", value_parser = parse_count)]
    pub early_stop: Option<usize>,
    /// Tune the decision threshold on validation for this recall of the positive class
    /// (default: the best F1).
    #[arg(long, value_name = "R")]
    pub target_recall: Option<f64>,
    /// Calibrate the probabilities after training by temperature scaling (Guo et al. 2017):
    /// T fitted on validation by NLL, softmax(logits / T), applied before the threshold is
    /// tuned; metrics.json and the report give ECE and Brier before and after on test, and
    /// predict and export use T. auto: binary runs, kept only when it lowers the validation
    /// ECE (and T is inside [0.01, 100]); temperature: always; none: never.
    #[arg(long, default_value = "auto", value_parser = named(&Calibration::ALL, Calibration::name))]
    pub calibrate: Calibration,
    #[arg(long, value_enum, value_name = "none|minority|all", help = augment_help())]
    pub augment: Option<AugmentArg>,
    #[arg(long, value_name = "on|off", num_args = 0..=1, default_missing_value = "on",
          value_parser = BoolishValueParser::new(), hide_possible_values = true, help = format!(
        "Augmentation: mirror left-right with probability 1/2 (torchvision's \
         RandomHorizontalFlip); `--augment-flip` alone is on, `--augment-flip off` turns it off \
         (digits, text). Default: {}. Needs --augment minority|all or remedy {}",
        if DEFAULT_AUGMENT_FLIP { "on" } else { "off" },
        augmenting_remedies()
    ))]
    pub augment_flip: Option<bool>,
    #[arg(long, value_name = "PX", help = format!(
        "Augmentation: shift by up to PX whole pixels per axis (0: no shift; pixels moved in are \
         black). Default: {DEFAULT_AUGMENT_SHIFT}. Needs --augment minority|all or remedy {}",
        augmenting_remedies()
    ))]
    pub augment_shift: Option<usize>,
    #[arg(long, value_name = "DEG", help = format!(
        "Augmentation: rotate about the centre by up to DEG degrees either way, bilinear (0 to \
         {MAX_AUGMENT_ROTATE}; 0: no rotation). Default: {DEFAULT_AUGMENT_ROTATE}. Needs --augment \
         minority|all or remedy {}",
        augmenting_remedies()
    ))]
    pub augment_rotate: Option<f32>,
    /// Where to train.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceArg,
    /// Worker threads of the CPU backend (default: one per core).
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub threads: Option<usize>,
    /// Where the training samples stay while the model trains: `off` keeps them on the device;
    /// `on` streams them from the host, a thread of their own building the next batches while
    /// the current one trains (for data sets larger than the device's memory); `auto` streams
    /// when they would take more than a quarter of physical memory on the CPU, and keeps them
    /// on a GPU. Every batch holds the same values either way, and so do the results.
    #[arg(long, value_enum, value_name = "auto|on|off", default_value = "auto")]
    pub stream: StreamArg,
    /// Write the resumable checkpoint (model and optimizer) every N epochs and at the end; a
    /// resumed run restarts from the last one. Large models spend seconds per checkpoint.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = parse_count)]
    pub checkpoint_every: usize,
    /// Log for experiment trackers into DIR/<run name>/: TensorBoard event files (the running
    /// loss every few steps; per epoch the losses, validation PR-AUC, ROC-AUC and each class's
    /// precision, recall and F1; test PR-AUC and the test PR curve at the end) and
    /// metrics.jsonl (one JSON object per epoch). View with `tensorboard --logdir DIR`.
    #[arg(long, value_name = "DIR")]
    pub log_dir: Option<PathBuf>,
    /// Seed of everything random (task, split, initialisation, sampling, shuffling, dropout);
    /// compare and sweep: the first training seed, which also fixes the task and the split
    /// every entry and seed share.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// No progress on stderr (train: and no report on the terminal; compare and sweep still
    /// print the table). The run folders are written as always.
    #[arg(long, short)]
    pub quiet: bool,
}

impl TrainingArgs {
    /// `--gamma` as one number (train, compare).
    pub fn one_gamma(&self) -> anyhow::Result<Option<f32>> {
        match &self.gamma {
            None => Ok(None),
            Some(g) => g.trim().parse::<f32>().map(Some).map_err(|_| {
                anyhow::anyhow!(
                    "--gamma {g}: give one number (a list of gammas is for `focal sweep`)"
                )
            }),
        }
    }

    /// `--alpha`, parsed.
    pub fn alpha(&self) -> anyhow::Result<Option<Alpha>> {
        match &self.alpha {
            Some(a) => Ok(Some(a.parse::<Alpha>()?)),
            None => Ok(None),
        }
    }

    /// The remedy parameters given (one gamma).
    pub fn remedy_params(&self) -> anyhow::Result<RemedyParams> {
        Ok(RemedyParams {
            gamma: self.one_gamma()?,
            alpha: self.alpha()?,
            beta: self.beta,
            tau: self.tau,
            epsilon: self.epsilon,
        })
    }

    /// The `--augment-*` flags given, by name.
    fn augment_flags_given(&self) -> Vec<&'static str> {
        [
            ("--augment-flip", self.augment_flip.is_some()),
            ("--augment-shift", self.augment_shift.is_some()),
            ("--augment-rotate", self.augment_rotate.is_some()),
        ]
        .into_iter()
        .filter_map(|(f, given)| given.then_some(f))
        .collect()
    }

    /// The augmentation of the runs of remedy `kind`: `--augment`'s scope, or the remedy's own
    /// (oversample-augment: the minority class), with the `--augment-*` transforms or their
    /// defaults; `None` when the run does not augment. Checked by [`TrainConfig::validate`].
    pub fn augmentation(&self, kind: RemedyKind) -> anyhow::Result<Option<Augmentation>> {
        let scope = match self.augment {
            Some(AugmentArg::None) => {
                if kind.augments() {
                    bail!(
                        "--augment none: remedy {kind} augments the minority class's images; use \
                         remedy oversample for over-sampling alone"
                    );
                }
                if let Some(flag) = self.augment_flags_given().first() {
                    bail!(
                        "{flag} sets a transform but --augment none turns augmentation off; drop \
                         one of them"
                    );
                }
                return Ok(None);
            }
            Some(AugmentArg::Minority) => AugmentScope::Minority,
            Some(AugmentArg::All) => AugmentScope::All,
            None if kind.augments() => AugmentScope::Minority,
            None => return Ok(None),
        };
        let d = Augmentation::default_for(scope);
        Ok(Some(Augmentation {
            scope,
            flip: self.augment_flip.unwrap_or(d.flip),
            shift: self.augment_shift.unwrap_or(d.shift),
            rotate: self.augment_rotate.unwrap_or(d.rotate),
        }))
    }

    /// Refuses `--augment-*` flags that no run of the remedies `kinds` would read: without
    /// --augment they set the transforms of a remedy that augments, and nothing else (which
    /// images to transform is not guessed).
    pub fn check_augment_flags(&self, kinds: &[RemedyKind]) -> anyhow::Result<()> {
        if self.augment.is_some() || kinds.iter().any(|k| k.augments()) {
            return Ok(());
        }
        if let Some(flag) = self.augment_flags_given().first() {
            bail!(
                "{flag} needs --augment minority or --augment all (which training images to \
                 transform), or remedy {}",
                augmenting_remedies()
            );
        }
        Ok(())
    }

    /// The training configuration of `remedy`, every flag checked (before any data is read);
    /// `default_epochs` when --epochs is absent.
    pub fn config(&self, remedy: Remedy, default_epochs: usize) -> anyhow::Result<TrainConfig> {
        let augment = self.augmentation(remedy.kind())?;
        let config = TrainConfig {
            // Flags are checked before the data is read: when the data cannot be probed, a
            // placeholder model stands in, and loading reports the data's problem next.
            model: self
                .model_and_why()
                .map_or(ModelKind::Cnn, |(model, _)| model),
            remedy,
            epochs: self.epochs.unwrap_or(default_epochs),
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
            stream: self.stream.into(),
            checkpoint_every: self.checkpoint_every,
            seed: self.seed,
            calibrate: self.calibrate,
            augment,
            log_dir: match &self.log_dir {
                Some(d) => Some(
                    std::path::absolute(d).with_context(|| format!("--log-dir {}", d.display()))?,
                ),
                None => None,
            },
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

    /// Loads the data as the model reads it (see [`TaskArgs::load`]).
    pub fn load(&self) -> anyhow::Result<Dataset> {
        let pretrained = self.pretrained.is_some();
        match self.model_and_why() {
            Ok((model, _)) => self.task.load(model, pretrained),
            // The loader names a broken file more precisely than the header probe did.
            Err(probe) => {
                self.task.load(ModelKind::Cnn, pretrained)?;
                Err(probe)
            }
        }
    }

    /// The line that says which model trains and why (printed first by train, compare and
    /// sweep).
    pub fn model_line(&self) -> anyhow::Result<String> {
        let (model, why) = self.model_and_why()?;
        Ok(format!("model: {} ({why})", model.name()))
    }

    fn model_and_why(&self) -> anyhow::Result<(ModelKind, String)> {
        if let Some(found) = self.resolved_model.get() {
            return Ok(found.clone());
        }
        let resolved = match self.model {
            Some(m) => (m.0, "as --model says".to_string()),
            None => default_model(self.task.data.as_deref())?,
        };
        Ok(self.resolved_model.get_or_init(|| resolved).clone())
    }

    /// How the inputs are normalised: ImageNet's with `--pretrained`, else the training
    /// split's.
    pub fn input_normalization(&self) -> InputNormalization {
        InputNormalization::for_pretrained(self.pretrained.is_some())
    }
}

/// The largest image side `--model cnn` is the default for; larger images get resnet18.
pub const CNN_MAX_SIDE: u32 = 64;

/// The model for `data` when `--model` is absent, and why: mlp for feature rows, cnn for
/// images up to [`CNN_MAX_SIDE`] pixels a side (the bundled set too), resnet18 for larger ones.
/// Reads headers only ([`focal_data::probe`]).
pub fn default_model(data: Option<&std::path::Path>) -> anyhow::Result<(ModelKind, String)> {
    let why = |what: String| format!("the default for {what}; --model to change");
    let Some(path) = data else {
        return Ok((ModelKind::Cnn, why("the bundled 28x28 images".to_string())));
    };
    let probe = focal_data::probe(path).with_context(|| format!("--data {}", path.display()))?;
    Ok(match probe {
        focal_data::Probe::Table => (ModelKind::Mlp, why("feature rows".to_string())),
        focal_data::Probe::Images { width, height } if width.max(height) <= CNN_MAX_SIDE => (
            ModelKind::Cnn,
            why(format!(
                "images up to {CNN_MAX_SIDE}x{CNN_MAX_SIDE}; these are {width}x{height}"
            )),
        ),
        focal_data::Probe::Images { width, height } => (
            ModelKind::Resnet18,
            why(format!(
                "images larger than {CNN_MAX_SIDE}x{CNN_MAX_SIDE}; these are {width}x{height}"
            )),
        ),
    })
}

/// Sets `--threads` (before any tensor work).
pub fn set_threads(threads: Option<usize>) -> anyhow::Result<()> {
    if let Some(t) = threads {
        focal_train::device::set_threads(t)?;
    }
    Ok(())
}

/// Positives (of the positive class, or of the rarest class of a multi-class task) that a
/// validation or test split needs before its precision, recall and PR-AUC mean much.
pub const FEW_POSITIVES: usize = 20;

/// The first line of output of train, compare and sweep: which class is the positive one and
/// why (the flag, the bundled task, or the default rule), with its counts per split.
pub fn task_line(task: &TaskArgs, data: &PreparedData) -> String {
    let c = |s: &[usize]| data.dataset.class_counts_of(s);
    let (train, val, test) = (
        c(&data.splits.train),
        c(&data.splits.val),
        c(&data.splits.test),
    );
    let m = data.minority();
    let name = &data.dataset.class_names[m];
    let counts = format!(
        "train {}, validation {}, test {} of {} / {} / {}",
        train[m],
        val[m],
        test[m],
        train.iter().sum::<usize>(),
        val.iter().sum::<usize>(),
        test.iter().sum::<usize>()
    );
    match data.positive {
        Some(_) => {
            let why = if task.positive.is_some() {
                "as --positive says".to_string()
            } else if task.data.is_none() && task.long_tail.is_none() {
                "the bundled task's default".to_string()
            } else {
                "the default: the rarer of the two classes; --positive picks another".to_string()
            };
            format!("positive class: {name} ({why}); {counts}")
        }
        None => format!(
            "a multi-class task of {} classes, no positive class; the rarest, {name}: {counts}",
            data.n_classes()
        ),
    }
}

/// A warning for each of validation and test that holds fewer than [`FEW_POSITIVES`] samples of
/// the positive (or rarest) class.
pub fn few_positives_warnings(data: &PreparedData) -> Vec<String> {
    let m = data.minority();
    let name = &data.dataset.class_names[m];
    [
        ("validation", &data.splits.val),
        ("test", &data.splits.test),
    ]
    .into_iter()
    .filter_map(|(split, idx)| {
        let n = data.dataset.class_counts_of(idx)[m];
        (n < FEW_POSITIVES).then(|| {
            format!(
                "warning: the {split} split holds {n} samples of {name} (fewer than \
                     {FEW_POSITIVES}): its precision, recall, F1 and PR-AUC move by a whole \
                     sample's worth; read them with their bootstrap intervals, and prefer more \
                     data or several seeds"
            )
        })
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_or_say_why_not() {
        assert_eq!(parse_size("224x224"), Ok((224, 224)));
        assert_eq!(parse_size("64X32"), Ok((64, 32)));
        assert!(parse_size("64").unwrap_err().contains("WIDTHxHEIGHT"));
        assert!(parse_size("0x5").unwrap_err().contains("at least 1"));
        assert!(parse_size("ax5").unwrap_err().contains("width"));
        assert_eq!(parse_memory("256MB"), Ok(256_000_000));
        assert!(parse_memory("many").is_err());
    }
}
