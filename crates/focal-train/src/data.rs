//! The data of a run: the task's data set and its train/val/test split, shared by every remedy
//! of a comparison, plus the batching of samples into tensors.

use burn::tensor::Device;
use focal_data::batcher::Normalization;
use focal_data::sampling::{
    RandomOverSampler, RandomUnderSampler, Resampler, SamplingStrategy, Smote,
};
use focal_data::split::SplitFractions;
use focal_data::task::{
    ClassSelector, TaskSpec, build_task, build_task_rows, build_task_rows_owned,
};
use focal_data::{Dataset, SampleKind, Splits, Values, class_counts};

use std::borrow::Cow;

use crate::augmentation::{AugmentScope, Augmentation};
use crate::error::{SplitName, TrainError};
use crate::model::ModelKind;
use crate::remedy::DataSide;
use crate::setting::Setting;

/// The size (width, height) the ResNets read an image folder at when trained from scratch and
/// no size is asked for. Chosen by measurement, not from ImageNet (EXPERIMENTS.md, "The default
/// image size"): ResNet-18 from scratch on the Br35H brain MRIs at 90:10 reached the same test
/// PR-AUC at 32, 64 and 128 pixels and far less at 224x224 in more time; 64x64 is the smallest
/// size whose results stayed steady over seeds and task draws (32x32 is cheaper per minute but
/// its spread over seeds was two to three times larger, and 16x16 fell off).
pub const SCRATCH_RESNET_SIZE: (u32, u32) = (64, 64);

/// The size (width, height) pretrained ResNets read images at when no size is asked for: the
/// size torchvision's weights were trained at.
pub const PRETRAINED_SIZE: (u32, u32) = (224, 224);

/// The size (width, height) at which `model` reads an image folder when none is asked for: a
/// folder whose images share one size no larger than this keeps it, any other folder (mixed
/// sizes, or larger images) is resized to it. With `pretrained` weights
/// [`PRETRAINED_SIZE`] (every image resized to it); the ResNets from scratch
/// [`SCRATCH_RESNET_SIZE`] (measured, not ImageNet's); 64x64 for the CNN and the MLP.
pub fn default_image_size(model: ModelKind, pretrained: bool) -> (u32, u32) {
    match model {
        ModelKind::Resnet18 | ModelKind::Resnet50 if pretrained => PRETRAINED_SIZE,
        ModelKind::Resnet18 | ModelKind::Resnet50 => SCRATCH_RESNET_SIZE,
        ModelKind::Cnn | ModelKind::Mlp => (64, 64),
    }
}

/// What a task is: binary with its positive (rare) class, or multi-class with its minority.
///
/// Every minority figure, the tuned threshold, PR-AUC and the calibration read it: of a binary
/// task, the positive class (label 1 of a task focal built); of a multi-class one, the class
/// with the fewest training samples (the first of them on a tie).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    /// Two classes, one of them the positive (rare) class.
    Binary {
        /// The positive class.
        positive: usize,
    },
    /// Three or more classes (or two with no positive named), none of them positive.
    MultiClass {
        /// The class with the fewest training samples.
        minority: usize,
    },
}

impl TaskKind {
    /// The task with positive class `positive` (`None`: multi-class) and these training class
    /// counts, as records store it.
    pub fn new(positive: Option<usize>, train_counts: &[usize]) -> Self {
        match positive {
            Some(positive) => TaskKind::Binary { positive },
            None => TaskKind::MultiClass {
                minority: (0..train_counts.len())
                    .min_by_key(|&c| train_counts[c])
                    .unwrap_or(0),
            },
        }
    }

    /// The positive class of a binary task.
    pub fn positive(self) -> Option<usize> {
        match self {
            TaskKind::Binary { positive } => Some(positive),
            TaskKind::MultiClass { .. } => None,
        }
    }

    /// The negative class of a binary task (the other of its two classes).
    pub fn negative(self) -> Option<usize> {
        self.positive().map(|p| usize::from(p == 0))
    }

    /// The minority class: the positive class of a binary task, else the rarest class.
    pub fn minority(self) -> usize {
        match self {
            TaskKind::Binary { positive } => positive,
            TaskKind::MultiClass { minority } => minority,
        }
    }
}

/// The minority class of a task ([`TaskKind::minority`]): the positive class of a binary task,
/// else the class with the fewest training samples. The one definition; reports, tables and the
/// CLI read it from [`TaskRecord::minority`].
pub fn minority_class(positive: Option<usize>, train_counts: &[usize]) -> usize {
    TaskKind::new(positive, train_counts).minority()
}

/// A task's data set with its resolved splits: build it once and train every remedy and seed on
/// it, so that they all see the same split.
#[derive(Debug, Clone)]
pub struct PreparedData {
    /// The task's data set (binary tasks: label 1 is the positive, rare class).
    pub dataset: Dataset,
    /// Indices of the train, validation and test samples.
    pub splits: Splits,
    /// What the task is: binary with its positive class (always label 1 of a task focal
    /// builds), or multi-class with its minority.
    pub kind: TaskKind,
    /// Mean and standard deviation of the training split, per feature for tabular data and per
    /// colour channel for images (focal-data's [`Normalization`], the one zero-variance rule of
    /// the project: a constant feature keeps its values minus the mean). Every batch, for
    /// training and prediction, is standardised with it.
    pub normalization: Normalization,
    /// The fingerprint of `dataset` (see [`Dataset::fingerprint`]).
    pub fingerprint: String,
    /// How the task was built, for `config.json`: positive class name, ratio, seed.
    pub task: TaskRecord,
    /// The row of the source data set (as loaded) each sample of `dataset` came from: the
    /// sample's identifier in `predictions.csv`, and the row number `focal predict` gives the
    /// same sample when it reads the source.
    pub source_rows: Vec<usize>,
}

/// The image size (width, height) of a data set of images.
fn image_size_of(ds: &Dataset) -> Option<(u32, u32)> {
    match ds.kind {
        SampleKind::Image { height, width, .. } => Some((width as u32, height as u32)),
        SampleKind::Tabular { .. } => None,
    }
}

impl PreparedData {
    /// Builds the task `spec` from `source`, splits it (predefined splits kept, missing ones
    /// carved out stratified) and computes the standardisation of tabular features.
    ///
    /// A two-class data set with no positive class given gets the class with the fewest
    /// training samples as its positive ([`focal_data::task::default_positive`]): label 1 of
    /// the task, the class every minority figure, the tuned threshold and PR-AUC read.
    pub fn new(
        source: &Dataset,
        spec: &TaskSpec,
        fractions: SplitFractions,
    ) -> Result<Self, TrainError> {
        Self::build(Cow::Borrowed(source), spec, fractions, true)
    }

    /// [`PreparedData::new`] of a data set given up to it: the task keeps the source's values
    /// (all of them, or the subset taken before the source is dropped) instead of copying
    /// them, so a large image set is never held twice over.
    pub fn from_source(
        source: Dataset,
        spec: &TaskSpec,
        fractions: SplitFractions,
    ) -> Result<Self, TrainError> {
        Self::build(Cow::Owned(source), spec, fractions, true)
    }

    /// [`PreparedData::new`]; `default_positive`: whether a two-class source without a given
    /// positive class gets its rarest class as the positive.
    fn build(
        source: Cow<'_, Dataset>,
        spec: &TaskSpec,
        fractions: SplitFractions,
        default_positive: bool,
    ) -> Result<Self, TrainError> {
        let defaulted;
        let spec = match focal_data::task::default_positive(&source) {
            Some(p) if default_positive && spec.positive.is_none() && spec.long_tail.is_none() => {
                defaulted = TaskSpec {
                    positive: Some(ClassSelector::Index(p)),
                    ..spec.clone()
                };
                &defaulted
            }
            _ => spec,
        };
        let present = source.class_counts().iter().filter(|&&c| c > 0).count();
        if present < 2 {
            return Err(TrainError::Data(focal_data::DataError::InvalidDataset {
                reason: format!(
                    "the data hold one class only ({}); a classifier needs samples of at least \
                     two classes",
                    source.class_names.join(", ")
                ),
            }));
        }
        let positive_name = match &spec.positive {
            Some(sel) => Some(source.class_names[sel.resolve(&source.class_names)?].clone()),
            None => None,
        };
        let origin = DataSource::of(&source);
        let image_size = image_size_of(&source);
        let bit_depth = source.bit_depth();
        let (dataset, source_rows) =
            if spec.positive.is_some() || spec.ratio.is_some() || spec.long_tail.is_some() {
                match source {
                    Cow::Borrowed(source) => build_task_rows(source, spec)?,
                    Cow::Owned(source) => build_task_rows_owned(source, spec)?,
                }
            } else {
                let n = source.n_samples();
                (source.into_owned(), (0..n).collect())
            };
        let splits = dataset.resolve_splits(fractions, spec.seed)?;
        let task = TaskRecord {
            source: origin,
            positive_name,
            ratio: spec.ratio,
            fractions,
            seed: spec.seed,
            class_names: dataset.class_names.clone(),
            split_sizes: None,
            minority: None,
            image_size,
            label_column: None,
            long_tail: spec.long_tail,
            input_normalization: InputNormalization::TrainingSplit,
            reading: Reading::default(),
            bit_depth,
        };
        Ok(Self::from_parts(dataset, splits, task)?.with_source_rows(source_rows))
    }

    /// The tutorial's protocol: pool every sample of `source` (its predefined splits ignored),
    /// make `positive` the rare class, and draw disjoint train/validation/test splits of exactly
    /// `sizes` samples, each at `ratio` (`negative:positive`), deterministically from `seed`.
    ///
    /// Fails, naming the counts, when the pool holds too few samples of a class.
    pub fn with_split_sizes(
        source: &Dataset,
        positive: &ClassSelector,
        ratio: (u32, u32),
        sizes: [usize; 3],
        seed: u64,
    ) -> Result<Self, TrainError> {
        use rand::SeedableRng;
        use rand::seq::SliceRandom;
        let (neg, pos) = ratio;
        if neg == 0 || pos == 0 {
            return Err(TrainError::out_of_range(
                Setting::Data(focal_data::DataSetting::Ratio),
                format!("{neg}:{pos}"),
                "both parts must be positive",
            ));
        }
        let mut pooled = source.clone();
        pooled.splits = None;
        let spec = TaskSpec {
            positive: Some(positive.clone()),
            ratio: None,
            long_tail: None,
            // The ratio, imposed below, decides; it was checked where it was given.
            allow_majority_positive: true,
            seed,
        };
        let positive_name = source.class_names[positive.resolve(&source.class_names)?].clone();
        let dataset = build_task(&pooled, &spec)?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); 2];
        for (i, &y) in dataset.y.iter().enumerate() {
            by_class[y].push(i);
        }
        for c in &mut by_class {
            c.shuffle(&mut rng);
        }
        let share = f64::from(pos) / f64::from(neg + pos);
        let want: Vec<[usize; 2]> = sizes
            .iter()
            .map(|&n| {
                let p = ((n as f64) * share).round() as usize;
                [n - p.min(n), p.min(n)]
            })
            .collect();
        for c in 0..2 {
            let need: usize = want.iter().map(|w| w[c]).sum();
            if need > by_class[c].len() {
                return Err(TrainError::PoolTooSmall {
                    sizes,
                    ratio_negative: neg,
                    ratio_positive: pos,
                    class: dataset.class_names[c].clone(),
                    need,
                    have: by_class[c].len(),
                });
            }
        }
        let mut taken = [0usize; 2];
        let mut parts: Vec<Vec<usize>> = Vec::with_capacity(3);
        for w in &want {
            let mut part = Vec::with_capacity(w[0] + w[1]);
            for c in 0..2 {
                part.extend_from_slice(&by_class[c][taken[c]..taken[c] + w[c]]);
                taken[c] += w[c];
            }
            part.sort_unstable();
            parts.push(part);
        }
        let test = parts.pop().unwrap_or_default();
        let val = parts.pop().unwrap_or_default();
        let train = parts.pop().unwrap_or_default();
        let task = TaskRecord {
            source: DataSource::of(source),
            positive_name: Some(positive_name),
            ratio: Some(ratio),
            fractions: SplitFractions::default(),
            seed,
            class_names: dataset.class_names.clone(),
            split_sizes: Some(sizes),
            minority: None,
            image_size: image_size_of(source),
            label_column: None,
            long_tail: None,
            input_normalization: InputNormalization::TrainingSplit,
            reading: Reading::default(),
            bit_depth: source.bit_depth(),
        };
        Self::from_parts(dataset, Splits { train, val, test }, task)
    }

    /// Names the source row of each sample (see [`PreparedData::source_rows`]): `rows` from
    /// [`build_task_rows`], one per sample.
    fn with_source_rows(mut self, rows: Vec<usize>) -> Self {
        self.source_rows = rows;
        self
    }

    /// The source rows of the samples `indices` of the task (e.g. the test split).
    pub fn source_rows_of(&self, indices: &[usize]) -> Vec<usize> {
        indices.iter().map(|&i| self.source_rows[i]).collect()
    }

    /// A prepared set from a data set and splits given as they are (tests, resume); each
    /// sample's source row is its own index.
    pub fn from_parts(
        dataset: Dataset,
        splits: Splits,
        mut task: TaskRecord,
    ) -> Result<Self, TrainError> {
        let samples = dataset.n_samples();
        for (split, part) in [
            (SplitName::Train, &splits.train),
            (SplitName::Validation, &splits.val),
            (SplitName::Test, &splits.test),
        ] {
            if part.is_empty() {
                return Err(TrainError::EmptySplit { split, samples });
            }
            if let Some(&index) = part.iter().find(|&&i| i >= samples) {
                return Err(TrainError::SplitIndexBeyondData {
                    split,
                    index,
                    samples,
                });
            }
        }
        let counts = dataset.class_counts_of(&splits.train);
        if let Some(class) = counts.iter().position(|&n| n == 0) {
            return Err(TrainError::NoTrainingSample {
                class,
                name: dataset.class_names[class].clone(),
            });
        }
        // Two passes over every value, each sequential (the hash and the sums keep their order,
        // so fingerprints and statistics stay those recorded): run side by side.
        let (normalization, fingerprint) = rayon::join(
            || Normalization::fit(&dataset, &splits.train),
            || dataset.fingerprint(),
        );
        let normalization = normalization?;
        let kind = TaskKind::new((dataset.n_classes() == 2).then_some(1), &counts);
        task.minority = Some(kind.minority());
        let source_rows = (0..samples).collect();
        Ok(PreparedData {
            source_rows,
            dataset,
            splits,
            kind,
            normalization,
            fingerprint,
            task,
        })
    }

    /// The task in one line: `task: 2 classes ["no", "yes"]; train [..], val [..], test [..]`
    /// (class counts per split).
    pub fn split_line(&self) -> String {
        let c = |s: &[usize]| self.dataset.class_counts_of(s);
        format!(
            "task: {} classes {:?}; train {:?}, val {:?}, test {:?}",
            self.n_classes(),
            self.dataset.class_names,
            c(&self.splits.train),
            c(&self.splits.val),
            c(&self.splits.test)
        )
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.dataset.n_classes()
    }

    /// The task's inputs normalised as `norm` says: for [`InputNormalization::Imagenet`], the
    /// images made RGB and normalised with ImageNet's mean and standard deviation (what
    /// torchvision's pretrained weights expect); the training split's standardisation (fitted
    /// by every constructor) otherwise.
    ///
    /// # Errors
    /// ImageNet normalisation of feature rows, or of images that are neither greyscale nor RGB.
    pub fn with_input_normalization(self, norm: InputNormalization) -> Result<Self, TrainError> {
        if norm == self.task.input_normalization {
            return Ok(self);
        }
        let mut task = self.task;
        task.input_normalization = norm;
        // Only greyscale images made RGB change the values (and so the fingerprint); hashing
        // a large set again costs seconds.
        let values_change = norm == InputNormalization::Imagenet
            && !matches!(self.dataset.kind, SampleKind::Image { channels: 3, .. });
        let (dataset, normalization) = match norm {
            InputNormalization::Imagenet => {
                if !matches!(self.dataset.kind, SampleKind::Image { .. }) {
                    return Err(TrainError::ModelNeedsImages {
                        model: "resnet18 or resnet50 with pretrained weights",
                    });
                }
                (self.dataset.to_rgb()?, Normalization::imagenet())
            }
            InputNormalization::TrainingSplit => {
                let n = Normalization::fit(&self.dataset, &self.splits.train)?;
                (self.dataset, n)
            }
        };
        let fingerprint = if values_change {
            dataset.fingerprint()
        } else {
            self.fingerprint
        };
        Ok(PreparedData {
            fingerprint,
            dataset,
            normalization,
            task,
            ..self
        })
    }

    /// Records the CSV label column the source was read with, so that the run reads it again
    /// the same way.
    pub fn with_label_column(mut self, label_column: Option<String>) -> Self {
        self.task.label_column = label_column;
        self
    }

    /// Records how the source was read beyond its path (a manifest, DICOM, a groups file), for
    /// `resume`, `eval --run` and `predict` to read it again the same way.
    pub fn with_reading(mut self, reading: Reading) -> Self {
        self.task.reading = reading;
        self
    }

    /// The minority class of the task ([`TaskKind::minority`]).
    pub fn minority(&self) -> usize {
        self.kind.minority()
    }

    /// The positive class of a binary task.
    pub fn positive(&self) -> Option<usize> {
        self.kind.positive()
    }

    /// Class counts of the training split.
    pub fn train_counts(&self) -> Vec<usize> {
        self.dataset.class_counts_of(&self.splits.train)
    }

    /// Rebuilds the task a run recorded (`task`) from its `source` data set, as the run built
    /// it: the same classes, ratio, split sizes or fractions, and seed.
    pub fn rebuild(source: &Dataset, task: &TaskRecord) -> Result<Self, TrainError> {
        let rebuilt = match (task.split_sizes, &task.positive_name, task.ratio) {
            (Some(sizes), Some(positive), Some(ratio)) => Self::with_split_sizes(
                source,
                &ClassSelector::Name(positive.clone()),
                ratio,
                sizes,
                task.seed,
            ),
            _ => {
                let spec = TaskSpec {
                    positive: task.positive_name.clone().map(ClassSelector::Name),
                    ratio: task.ratio,
                    long_tail: task.long_tail,
                    // The run was accepted once; rebuild it as it was.
                    allow_majority_positive: true,
                    seed: task.seed,
                };
                // Runs that recorded no positive class (before the rarest class became the
                // default) kept the source's labels: no default is applied to them.
                Self::build(Cow::Borrowed(source), &spec, task.fractions, false)
            }
        }?;
        rebuilt
            .with_label_column(task.label_column.clone())
            .with_reading(task.reading.clone())
            .with_input_normalization(task.input_normalization)
    }

    /// The training samples after the remedy's data side, as flat values and labels.
    pub fn training_set(
        &self,
        side: DataSide,
        seed: u64,
    ) -> Result<(Vec<f32>, Vec<usize>), TrainError> {
        let sub = self.dataset.subset(&self.splits.train);
        let x = sub.x.into_f32();
        let len = self.dataset.sample_len();
        Ok(match side {
            DataSide::None | DataSide::BalancedSampler => (x, sub.y),
            DataSide::Oversample => RandomOverSampler {
                strategy: SamplingStrategy::Auto,
            }
            .fit_resample(&x, &sub.y, len, seed)?,
            DataSide::Undersample => RandomUnderSampler {
                strategy: SamplingStrategy::Auto,
            }
            .fit_resample(&x, &sub.y, len, seed)?,
            DataSide::Smote => {
                let min = class_counts(&sub.y, sub.class_names.len())
                    .into_iter()
                    .min()
                    .unwrap_or(0);
                if min < 2 {
                    return Err(TrainError::SmoteTooFewSamples { found: min });
                }
                let smote = Smote {
                    k_neighbors: 5.min(min - 1),
                    strategy: SamplingStrategy::Auto,
                };
                smote.fit_resample(&x, &sub.y, len, seed)?
            }
        })
    }

    /// The tensor shape of one sample: `[C, H, W]`, or `[F, 1, 1]` for rows.
    pub fn sample_dims(&self) -> [usize; 3] {
        self.dataset.kind.tensor_dims()
    }

    /// The samples `x` (flat, as [`training_set`](Self::training_set) gives them) and labels
    /// `y` on `device`: what a training loop selects its batches from, with no copy through the
    /// host per step. Decoded images (every value a byte over 255, as the loaders store pixels)
    /// stay bytes on a device that [`keeps_bytes`] (the CPU), a quarter of their `f32` size, and
    /// each batch is converted and standardised there ([`DeviceSet::batch`]); other values
    /// (SMOTE's synthetic samples, augmented or resized images, feature rows), and every value
    /// on a GPU, are standardised once and kept as `f32`.
    pub fn device_set(&self, x: &[f32], y: &[usize], device: &Device) -> DeviceSet {
        self.host_set(x.to_vec(), y, device).into_device_set(device)
    }

    /// [`device_set`](Self::device_set) of a copy of `x` with `augmentation` applied, drawn
    /// from `seed`: the images of the task's minority class ([`PreparedData::minority`]) or
    /// all of them, each transformed on its own (over-sampled copies too). `x` itself is left
    /// as it is, so each epoch transforms the original images, never the last epoch's.
    pub fn augmented_device_set(
        &self,
        x: &[f32],
        y: &[usize],
        augmentation: &Augmentation,
        seed: u64,
        device: &Device,
    ) -> Result<DeviceSet, TrainError> {
        let x = self.augmented(x, y, augmentation, seed)?;
        Ok(self.host_set(x, y, device).into_device_set(device))
    }

    /// A copy of `x` with `augmentation` applied, drawn from `seed` (see
    /// [`augmented_device_set`](Self::augmented_device_set)).
    pub fn augmented(
        &self,
        x: &[f32],
        y: &[usize],
        augmentation: &Augmentation,
        seed: u64,
    ) -> Result<Vec<f32>, TrainError> {
        let mut x = x.to_vec();
        let transforms = augmentation.transforms();
        let kind = self.dataset.kind;
        match augmentation.scope {
            AugmentScope::All => transforms.apply_batch(&mut x, kind, seed)?,
            AugmentScope::Minority => {
                transforms.apply_to_classes(&mut x, y, kind, &[self.minority()], seed)?
            }
        }
        Ok(x)
    }

    /// The samples `x` (flat, as [`training_set`](Self::training_set) gives them) and labels
    /// `y` kept on the host, to be streamed to `device` batch by batch ([`HostSet::batch`]):
    /// as bytes when [`device_set`](Self::device_set) would keep them as bytes, else as `f32`
    /// (standardised per batch on the host, as `device_set` standardises them).
    pub fn host_set(&self, x: Vec<f32>, y: &[usize], device: &Device) -> HostSet {
        let len = self.dataset.sample_len().max(1);
        let samples = match self.bytes_for(device, x.chunks(len), x.len()) {
            Some(b) => HostSamples::Bytes(b),
            None => HostSamples::Floats(x),
        };
        self.host_set_with(samples, y.iter().map(|&l| l as i64).collect())
    }

    /// The samples `indices` of the task's data set on `device`, stored as
    /// [`device_set`](Self::device_set) stores them (for prediction: validation, test).
    pub fn device_set_of(&self, indices: &[usize], device: &Device) -> DeviceSet {
        self.host_set_of_rows(indices, device)
            .into_device_set(device)
    }

    /// The samples `indices` of the task's data set kept on the host as
    /// [`host_set`](Self::host_set) keeps them, gathered straight into that form (decoded
    /// pixels stay bytes all the way).
    pub fn host_set_of_rows(&self, indices: &[usize], device: &Device) -> HostSet {
        let y: Vec<usize> = indices.iter().map(|&i| self.dataset.y[i]).collect();
        match self.dataset.x.gather(indices, self.dataset.sample_len()) {
            Values::Pixels(b) if keeps_bytes(device) => {
                self.host_set_with(HostSamples::Bytes(b), y.iter().map(|&l| l as i64).collect())
            }
            values => self.host_set(values.into_f32(), &y, device),
        }
    }

    /// The values of `rows` as bytes ([`pixel_bytes`]) when `device` keeps pixels as bytes
    /// ([`keeps_bytes`]).
    fn bytes_for<'a>(
        &self,
        device: &Device,
        rows: impl Iterator<Item = &'a [f32]>,
        total: usize,
    ) -> Option<Vec<u8>> {
        if keeps_bytes(device) {
            pixel_bytes(rows, total)
        } else {
            None
        }
    }

    fn host_set_with(&self, samples: HostSamples, y: Vec<i64>) -> HostSet {
        HostSet {
            samples,
            y,
            dims: self.sample_dims(),
            kind: self.dataset.kind,
            normalization: self.normalization.clone(),
        }
    }
}

mod sets;

pub use sets::{DeviceSet, HostBatch, HostSet, Statistics};
use sets::{HostSamples, keeps_bytes, pixel_bytes};
mod record;

pub use record::{DataSource, InputNormalization, Reading, TaskRecord};
