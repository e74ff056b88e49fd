//! The flags `train`, `compare` and `sweep` share ([`TrainingArgs`], one set for all three),
//! and the parsers of flag values. Each command turns them into the libraries' specs here
//! ([`TrainingArgs::data_spec`], [`TrainingArgs::train_spec`],
//! [`TrainingArgs::remedy_params`]); every default and check is the libraries'.

use std::path::PathBuf;

use clap::Args;
use clap::builder::{BoolishValueParser, PossibleValuesParser, TypedValueParser};
use focal_data::DicomWindow;
use focal_data::task::{ClassSelector, parse_ratio};
use focal_train::finetune::{FeatureCache, Finetune, HeadKind};
use focal_train::{
    Alpha, AugmentChoice, AugmentScope, AugmentSpec, Beta, Calibration, DEFAULT_AUGMENT_FLIP,
    DEFAULT_AUGMENT_ROTATE, DEFAULT_AUGMENT_SHIFT, DataSpec, DeviceChoice, Gamma,
    MAX_AUGMENT_ROTATE, ModelKind, Named, OptimizerKind, PolyEpsilon, Reading, Remedy, RemedyKind,
    RemedyParams, ScheduleKind, Streaming, Tau, TrainSpec,
};

/// A value of one of the libraries' named choices: clap lists and checks the names the
/// library gives, and the library parses them.
pub fn named<T: Named + Send + Sync>() -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(T::all().into_iter().map(|v| {
        let p = clap::builder::PossibleValue::new(v.name());
        match v.help() {
            Some(h) => p.help(h),
            None => p,
        }
    }))
    .try_map(|s| T::parse_name(&s).map_err(|e| e.to_string()))
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
    let side = |v: &str, what: &str| {
        v.trim()
            .parse::<u32>()
            .map_err(|_| format!("`{s}`: {what} is not a whole number"))
    };
    let (w, h) = (side(w, "width")?, side(h, "height")?);
    if w == 0 || h == 0 {
        return Err(format!("`{s}`: width and height must be at least 1"));
    }
    Ok((w, h))
}

/// `--max-memory`: a size such as 512MB, 2GB or 4GiB.
pub fn parse_memory(s: &str) -> Result<u64, String> {
    focal_data::memory::parse_size(s)
}

/// `--positive`: a class name or index.
fn parse_class(s: &str) -> Result<ClassSelector, String> {
    s.parse::<ClassSelector>().map_err(|e| e.to_string())
}

/// `--ratio`: NEGATIVE:POSITIVE.
fn parse_ratio_arg(s: &str) -> Result<(u32, u32), String> {
    parse_ratio(s).map_err(|e| e.to_string())
}

/// The help of `--image-size`, shared by every command that reads images (the default sizes
/// from the library's constants).
pub fn image_size_help() -> String {
    let (sw, sh) = focal_train::SCRATCH_RESNET_SIZE;
    let (pw, ph) = focal_train::PRETRAINED_SIZE;
    let (cw, ch) = focal_train::default_image_size(focal_train::ModelKind::Cnn, false);
    format!(
        "Load images at WIDTHxHEIGHT (image folders and manifests while decoding, IDX and NPZ \
         after; bilinear). Default for image folders and manifests: a folder whose images all \
         share one size no larger than the model's size keeps it; any other folder (mixed \
         sizes, or larger images) is resized to the model's size: {sw}x{sh} for resnet18 and \
         resnet50 trained from scratch (measured, not ImageNet's 224x224: on real MRI and X-ray \
         sets as good as 128x128 and better than 224x224 in a fraction of the time, steadier \
         over seeds than 32x32; EXPERIMENTS.md), {cw}x{ch} for cnn and mlp. IDX, NPZ \
         and the bundled set keep their size. With --pretrained every image is resized, by \
         default to {pw}x{ph} (the size torchvision's weights were trained at). Loading fails, \
         naming the memory needed, when the images would take more than a quarter of physical \
         memory as f32."
    )
}

/// The help of `--max-memory`, shared by every command that loads data.
pub const MAX_MEMORY_HELP: &str = "The most memory the loaded data set may take (its values as \
f32), e.g. 512MB, 2GB, 4GiB. Every file's declared size is checked against it before anything \
is read or decoded, and loading stops with the amount needed when it is exceeded. Default: a \
quarter of physical memory (training holds about three copies of the set).";

/// The remedies that augment, comma-separated (for help texts).
fn augmenting_remedies() -> String {
    RemedyKind::ALL
        .iter()
        .filter(|k| k.augments())
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which training images `--augment` transforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AugmentArg {
    /// No augmentation.
    None,
    /// The images of the minority class (over-sampled copies each on their own).
    Minority,
    /// Every training image.
    All,
}

/// How a manifest, DICOM files or a groups file are read (`data inspect`, `train`, `compare`,
/// `sweep`, and `predict` for new data).
#[derive(Debug, Args)]
pub struct ReadingArgs {
    /// A CSV manifest: the column of image paths (relative to the CSV's folder unless
    /// --image-root; a name without an extension is found by the extensions focal reads, or
    /// by --image-suffix). With it the CSV is a manifest, one image per row, its labels in
    /// --label-column (default `label`, else the last other column).
    #[arg(long, value_name = "COL")]
    pub image_column: Option<String>,
    /// Manifests: the folder the image paths are relative to (default: the CSV's folder).
    #[arg(long, value_name = "DIR", requires = "image_column")]
    pub image_root: Option<PathBuf>,
    /// Manifests: what to append to image names that are not found as written, e.g. `.jpg`
    /// for ISIC's `ISIC_2637011`.
    #[arg(long, value_name = "SUFFIX", requires = "image_column")]
    pub image_suffix: Option<String>,
    /// Manifests: the column of each image's group (e.g. `patient_id`): the split keeps every
    /// group within one split (train, validation or test), each split's class ratio as close to
    /// the whole's as the groups allow (scikit-learn's StratifiedGroupKFold rule).
    #[arg(long, value_name = "COL", requires = "image_column")]
    pub group_column: Option<String>,
    /// Image folders: a CSV `path,group` (paths relative to the folder, e.g. yes/img_01.png)
    /// giving each image's group, split as --group-column does.
    #[arg(long, value_name = "FILE.csv", conflicts_with = "group_column")]
    pub groups: Option<PathBuf>,
    /// DICOM: the VOI window that maps values to grey levels: file (the file's own window,
    /// else min-max; the default), minmax, or CENTER,WIDTH (e.g. 40,400).
    #[arg(long, value_name = "file|minmax|C,W", value_parser = |s: &str| s.parse::<DicomWindow>().map_err(|e| e.to_string()))]
    pub dicom_window: Option<DicomWindow>,
    /// DICOM: the frame (from 0) read from multi-frame files (refused without it).
    #[arg(long, value_name = "N")]
    pub dicom_frame: Option<u32>,
}

impl ReadingArgs {
    /// How the source is read.
    pub fn reading(&self) -> Reading {
        Reading {
            image_column: self.image_column.clone(),
            image_root: self.image_root.clone(),
            image_suffix: self.image_suffix.clone(),
            group_column: self.group_column.clone(),
            groups: self.groups.clone(),
            dicom_window: self.dicom_window,
            dicom_frame: self.dicom_frame,
        }
    }
}

/// Where the data are and how they are read.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// CSV only: the label column (default: `label` if present, else the last column).
    #[arg(long, value_name = "NAME")]
    pub label_column: Option<String>,
    #[arg(long, value_name = "WxH", value_parser = parse_size, help = image_size_help())]
    pub image_size: Option<(u32, u32)>,
    #[arg(long, value_name = "SIZE", value_parser = parse_memory, help = MAX_MEMORY_HELP)]
    pub max_memory: Option<u64>,
    /// How a manifest, DICOM files or a groups file are read.
    #[command(flatten)]
    pub reading: ReadingArgs,
}

/// The task built from the data.
#[derive(Debug, Args)]
pub struct TaskArgs {
    /// The rare (positive) class, by name or index: the task becomes binary, label 1 = this
    /// class. Default: Shirt with the bundled data; for two-class data, the class with the
    /// fewest training samples (whatever its label in the file); none (a multi-class task)
    /// otherwise. The first line of output names it.
    #[arg(long, value_name = "NAME|INDEX", value_parser = parse_class)]
    pub positive: Option<ClassSelector>,
    /// Imposed NEGATIVE:POSITIVE ratio, by subsampling (e.g. 98:2). Default with the bundled
    /// data: 98:2.
    #[arg(long, value_name = "N:P", value_parser = parse_ratio_arg)]
    pub ratio: Option<(u32, u32)>,
    /// Accept a positive class that outnumbers the negatives (by --ratio, or by its count):
    /// refused by default, since every minority figure, the tuned threshold and PR-AUC read
    /// the positive class as the rare one.
    #[arg(long)]
    pub allow_majority_positive: bool,
    /// A long-tailed multi-class task with this imbalance factor (n_max / n_min), every class
    /// kept (instead of --positive and --ratio).
    #[arg(long, value_name = "IF", conflicts_with_all = ["positive", "ratio"])]
    pub long_tail: Option<f64>,
}

/// Splits of exact sizes instead of stratified fractions.
#[derive(Debug, Args)]
pub struct SplitArgs {
    /// Pool every sample of the data (its own splits ignored) and draw a training split of
    /// exactly this many samples at --ratio (with --val-size and --test-size; needs --positive
    /// and --ratio). The tutorial's protocol: 19600 / 10000 / 10000 at 98:2.
    #[arg(long, value_name = "N", requires_all = ["val_size", "test_size", "positive", "ratio"])]
    pub train_size: Option<usize>,
    /// Validation samples, with --train-size.
    #[arg(long, value_name = "N", requires = "train_size")]
    pub val_size: Option<usize>,
    /// Test samples, with --train-size.
    #[arg(long, value_name = "N", requires = "train_size")]
    pub test_size: Option<usize>,
}

/// The flags of `train`, `compare` and `sweep`.
#[derive(Debug, Args)]
pub struct TrainingArgs {
    /// Data set: a folder of IDX files, a .npz, a CSV, or a folder of class folders of images.
    /// Default: the bundled Fashion-MNIST test split as a binary task, Shirt vs the rest at 98:2.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// Where the data are and how they are read.
    #[command(flatten)]
    pub source: SourceArgs,
    /// The task.
    #[command(flatten)]
    pub task: TaskArgs,
    /// Splits of exact sizes.
    #[command(flatten)]
    pub sizes: SplitArgs,
    /// Everything a run's configuration records.
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Worker threads of the CPU backend (default: one per core).
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub threads: Option<usize>,
    /// No progress on stderr (train: and no report on the terminal; compare and sweep still
    /// print the table). The run folders are written as always.
    #[arg(long, short)]
    pub quiet: bool,
}

/// The settings of a run (its `config.json`): model, remedy parameters, budget, optimizer,
/// schedule, augmentation, device, seed.
#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// The model. Default: chosen from the data (said on the first line of output): mlp for
    /// feature rows (CSV), cnn for images up to 64x64 (the bundled set, MNIST, MedMNIST at 28 or
    /// 64), resnet18 for larger images.
    #[arg(long, value_parser = named::<ModelKind>())]
    pub model: Option<ModelKind>,
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
    /// What trains of the --pretrained network: all (every layer, as torchvision's fine-tuning
    /// tutorial; the default, the recipe ported from PyTorch), head (the backbone frozen: its
    /// features computed once per data set and weights, cached, shared by every run, remedy and
    /// seed, so each run trains only the head in seconds; resampling then acts on feature rows,
    /// SMOTE in feature space; with --augment the backbone runs every step), or last:N (the last
    /// N of the four residual stages, layer4 first, and the head). Frozen layers keep their
    /// batch-norm statistics.
    #[arg(long, value_name = "WHAT", default_value_t = Finetune::All)]
    pub finetune: Finetune,
    /// The head of a ResNet: linear (torchvision's fc) or mlp:HIDDEN (Linear, ReLU, Linear;
    /// exported as fc.0 and fc.2 of an nn.Sequential).
    #[arg(long, value_name = "HEAD", default_value_t = HeadKind::Linear)]
    pub head: HeadKind,
    /// Where --finetune head keeps the backbone's features: auto (features/ in the experiment
    /// folder, or in the run folder), off (computed in every step), or a folder to share.
    #[arg(long, value_name = "WHERE", default_value_t = FeatureCache::Auto)]
    pub feature_cache: FeatureCache,
    /// RetinaNet prior-probability initialisation: the head's bias gives the positive class
    /// probability PI at the start (the paper uses 0.01).
    #[arg(long, value_name = "PI")]
    pub prior_bias: Option<f64>,
    /// Number of epochs (default: 10 for train; 4 per run for compare and sweep, which keeps
    /// `focal compare` on the bundled data under 5 minutes on two CPU cores).
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub epochs: Option<usize>,
    /// Samples per step.
    #[arg(long, default_value_t = TrainSpec::default().batch_size, value_parser = parse_count)]
    pub batch_size: usize,
    /// Learning rate.
    #[arg(long, default_value_t = TrainSpec::default().lr)]
    pub lr: f64,
    /// The optimizer: adam (PyTorch's defaults: betas 0.9 and 0.999, epsilon 1e-8) or sgd
    /// (momentum 0.9).
    #[arg(long, default_value_t = TrainSpec::default().optimizer, value_parser = named::<OptimizerKind>())]
    pub optimizer: OptimizerKind,
    /// L2 weight decay.
    #[arg(long, default_value_t = TrainSpec::default().weight_decay)]
    pub weight_decay: f32,
    /// Learning-rate schedule: constant, step (x0.1 at half and again at three quarters of the
    /// epochs) or cosine (decay to 0).
    #[arg(long, default_value_t = TrainSpec::default().schedule, value_parser = named::<ScheduleKind>())]
    pub schedule: ScheduleKind,
    /// Linear learning-rate warm-up over this many epochs.
    #[arg(long, default_value_t = TrainSpec::default().warmup_epochs, value_parser = parse_count)]
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
    #[arg(long, default_value_t = TrainSpec::default().calibrate, value_parser = named::<Calibration>())]
    pub calibrate: Calibration,
    #[arg(long, value_enum, value_name = "none|minority|all", help = format!(
        "Augment training images, anew every epoch (as a torchvision transform in a training \
         DataLoader; never validation, test or new data), seeded by --seed: none; minority (the \
         task's minority class: the positive class, or the rarest class of a multi-class task; \
         each over-sampled copy transformed on its own); all. Given without --augment-*, the \
         transforms are: horizontal flip, shift up to {DEFAULT_AUGMENT_SHIFT} px (meant for 28x28; \
         scale it with the image), rotation up to {DEFAULT_AUGMENT_ROTATE} degrees. Images only \
         (refused for CSV data). Default: none, except for remedy {} (minority). On centred \
         images minority alone can teach that off-centre means rare (see the README)",
        augmenting_remedies()
    ))]
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
    /// Where to train: cpu (Burn's flex backend) or gpu (the first GPU of a backend compiled
    /// in: build with `--features vulkan`).
    #[arg(long, default_value_t = TrainSpec::default().device, value_parser = named::<DeviceChoice>())]
    pub device: DeviceChoice,
    /// Where the training samples stay while the model trains: `off` keeps them on the device;
    /// `on` streams them from the host, a thread of their own building the next batches while
    /// the current one trains (for data sets larger than the device's memory); `auto` streams
    /// when they would take more than a quarter of physical memory on the CPU, and keeps them
    /// on a GPU. Every batch holds the same values either way, and so do the results.
    #[arg(long, value_name = "auto|on|off", default_value_t = TrainSpec::default().stream, value_parser = named::<Streaming>())]
    pub stream: Streaming,
    /// Write the resumable checkpoint (model and optimizer) every N epochs and at the end; a
    /// resumed run restarts from the last one. Large models spend seconds per checkpoint.
    #[arg(long, value_name = "N", default_value_t = TrainSpec::default().checkpoint_every, value_parser = parse_count)]
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
    #[arg(long, default_value_t = TrainSpec::default().seed)]
    pub seed: u64,
}

impl TrainingArgs {
    /// The data and task.
    pub fn data_spec(&self) -> DataSpec {
        let (t, d, z) = (&self.task, &self.source, &self.sizes);
        DataSpec {
            data: self.data.clone(),
            positive: t.positive.clone(),
            ratio: t.ratio,
            long_tail: t.long_tail,
            allow_majority_positive: t.allow_majority_positive,
            label_column: d.label_column.clone(),
            image_size: d.image_size,
            max_memory: d.max_memory,
            split_sizes: match (z.train_size, z.val_size, z.test_size) {
                (Some(t), Some(v), Some(s)) => Some([t, v, s]),
                _ => None,
            },
            reading: d.reading.reading(),
            seed: self.settings.seed,
        }
    }

    /// The remedy parameters given; `one_gamma`: `--gamma` is one number (train, compare), not
    /// the sweep's list.
    pub fn remedy_params(&self, one_gamma: bool) -> anyhow::Result<RemedyParams> {
        let gamma = match (&self.settings.gamma, one_gamma) {
            (Some(g), true) => Some(Gamma::new(g.trim().parse::<f32>().map_err(|_| {
                anyhow::anyhow!(
                    "--gamma {g}: give one number (a list of gammas is for `focal sweep`)"
                )
            })?)?),
            _ => None,
        };
        Ok(RemedyParams {
            gamma,
            alpha: self
                .settings
                .alpha
                .as_deref()
                .map(str::parse::<Alpha>)
                .transpose()?,
            beta: self.settings.beta.map(Beta::new).transpose()?,
            tau: self.settings.tau.map(Tau::new).transpose()?,
            epsilon: self.settings.epsilon.map(PolyEpsilon::new).transpose()?,
        })
    }

    /// The training settings, for `model` and `remedy`; `default_epochs` when --epochs is
    /// absent.
    pub fn train_spec(&self, model: ModelKind, remedy: Remedy, default_epochs: usize) -> TrainSpec {
        TrainSpec {
            model,
            remedy,
            epochs: self.settings.epochs.unwrap_or(default_epochs),
            batch_size: self.settings.batch_size,
            lr: self.settings.lr,
            optimizer: self.settings.optimizer,
            weight_decay: self.settings.weight_decay,
            schedule: self.settings.schedule,
            warmup_epochs: self.settings.warmup_epochs,
            clip_grad: self.settings.clip_grad,
            early_stop: self.settings.early_stop,
            target_recall: self.settings.target_recall,
            prior_bias: self.settings.prior_bias,
            pretrained: self.settings.pretrained.clone(),
            device: self.settings.device,
            stream: self.settings.stream,
            checkpoint_every: self.settings.checkpoint_every,
            seed: self.settings.seed,
            calibrate: self.settings.calibrate,
            augment: AugmentSpec {
                scope: self.settings.augment.map(|a| match a {
                    AugmentArg::None => AugmentChoice::Off,
                    AugmentArg::Minority => AugmentChoice::On(AugmentScope::Minority),
                    AugmentArg::All => AugmentChoice::On(AugmentScope::All),
                }),
                flip: self.settings.augment_flip,
                shift: self.settings.augment_shift,
                rotate: self.settings.augment_rotate,
            },
            log_dir: self.settings.log_dir.clone(),
            finetune: self.settings.finetune,
            head: self.settings.head,
            feature_cache: self.settings.feature_cache.clone(),
        }
    }
}

/// The first lines of output of a run or experiment on `data`: the task, the model (and why),
/// and the warnings of a test split with few positives.
pub fn first_lines(
    spec: &DataSpec,
    data: &focal_train::PreparedData,
    model: &focal_train::ModelChoice,
) -> impl Iterator<Item = String> {
    let names = |s| crate::flags::flag(s).to_string();
    [
        spec.task_line(data).render(&names),
        model.line().render(&names),
    ]
    .into_iter()
    .chain(
        spec.image_size_line(data, model.model)
            .map(|l| l.render(&names)),
    )
    .chain(focal_train::few_positives_warnings(data))
}

/// Sets `--threads` (before any tensor work).
pub fn set_threads(threads: Option<usize>) -> anyhow::Result<()> {
    if let Some(t) = threads {
        focal_train::device::set_threads(t)?;
    }
    Ok(())
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
