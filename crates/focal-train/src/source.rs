//! Where a run's data come from and how its task is built, as a user gives it
//! ([`DataSpec`]), and the choices made from it that the first lines of output explain: the
//! model ([`ModelChoice`]) and the positive class.

use std::path::PathBuf;

use focal_data::split::SplitFractions;
use focal_data::task::{ClassSelector, TaskSpec};
use focal_data::{DataSetting as D, Dataset, LoadOptions, msg};

use crate::data::{InputNormalization, PreparedData, Reading, default_image_size};
use crate::error::TrainError;
use crate::model::ModelKind;
use crate::setting::{Message, Setting};

/// The default positive (rare) class of the bundled Fashion-MNIST task: Shirt, the hard one
/// (confused with T-shirt, Pullover and Coat), as in the tutorial's harder experiment.
pub const DEFAULT_POSITIVE: &str = "Shirt";

/// The default `negative:positive` ratio of the bundled task.
pub const DEFAULT_RATIO: (u32, u32) = (98, 2);

/// The largest image side the CNN is the default model for; larger images get ResNet-18.
pub const CNN_MAX_SIDE: u32 = 64;

/// Positives (of the positive class, or of the rarest class of a multi-class task) that a
/// validation or test split needs before its precision, recall and PR-AUC mean much.
pub const FEW_POSITIVES: usize = 20;

/// The data and the task, as a user gives them: every field optional, the bundled task (Shirt
/// vs the rest at 98:2) by [`Default`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataSpec {
    /// The data set's path (`None`: the bundled Fashion-MNIST test split).
    pub data: Option<PathBuf>,
    /// The rare (positive) class, by name or index (the bundled data: Shirt; two classes: the
    /// rarer one; otherwise none, a multi-class task).
    pub positive: Option<ClassSelector>,
    /// The imposed `negative:positive` ratio (the bundled data: 98:2).
    pub ratio: Option<(u32, u32)>,
    /// A long-tailed multi-class task with this imbalance factor.
    pub long_tail: Option<f64>,
    /// Accept a positive class that outnumbers the negatives.
    pub allow_majority_positive: bool,
    /// CSV only: the label column.
    pub label_column: Option<String>,
    /// The size images are loaded at (default: the model's rule, see [`LoadOptions`]).
    pub image_size: Option<(u32, u32)>,
    /// The most memory the loaded data may take (default: a quarter of physical memory).
    pub max_memory: Option<u64>,
    /// Pool every sample and draw splits of exactly these train/validation/test sizes at the
    /// ratio (needs a positive class and a ratio; not with groups); `None`: stratified
    /// fractions (by group when the data have groups).
    pub split_sizes: Option<[usize; 3]>,
    /// How a manifest, DICOM files or a groups file are read.
    pub reading: Reading,
    /// The seed of task building and splitting.
    pub seed: u64,
}

/// Why the task's positive class is the one it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PositiveWhy {
    Asked,
    Bundled,
    Rarer,
}

impl DataSpec {
    /// Whether this is the bundled task with its defaults (no data, no long tail).
    fn bundled_default(&self) -> bool {
        self.data.is_none() && self.long_tail.is_none()
    }

    /// The task to build, the bundled task's defaults filled in, checked as far as it can be
    /// before any data is read ([`TaskSpec::check`]).
    pub fn task(&self) -> Result<TaskSpec, TrainError> {
        let bundled = self.bundled_default();
        let spec = TaskSpec {
            positive: self
                .positive
                .clone()
                .or_else(|| bundled.then(|| ClassSelector::Name(DEFAULT_POSITIVE.to_string()))),
            ratio: self.ratio.or(bundled.then_some(DEFAULT_RATIO)),
            long_tail: self.long_tail,
            allow_majority_positive: self.allow_majority_positive,
            seed: self.seed,
        };
        spec.check()?;
        if self.split_sizes.is_some()
            && (self.reading.group_column.is_some() || self.reading.groups.is_some())
        {
            return Err(TrainError::invalid(msg![
                Setting::Data(D::SplitSizes),
                " draws samples one by one; with groups the splits keep each group whole: \
                 leave one of them out"
            ]));
        }
        if self.split_sizes.is_some() && (spec.positive.is_none() || spec.ratio.is_none()) {
            return Err(TrainError::invalid(msg![
                Setting::Data(D::SplitSizes),
                " needs ",
                Setting::Data(D::Positive),
                " and ",
                Setting::Data(D::Ratio)
            ]));
        }
        Ok(spec)
    }

    /// The model when none is asked for, and why: mlp for feature rows, cnn for images up to
    /// [`CNN_MAX_SIDE`] pixels a side (the bundled set too), resnet18 for larger ones. Reads
    /// headers only ([`focal_data::probe`]).
    pub fn model(&self, asked: Option<ModelKind>) -> Result<ModelChoice, TrainError> {
        if let Some(model) = asked {
            return Ok(ModelChoice {
                model,
                why: ModelWhy::Asked,
            });
        }
        let Some(path) = &self.data else {
            return Ok(ModelChoice {
                model: ModelKind::Cnn,
                why: ModelWhy::Bundled,
            });
        };
        Ok(
            match focal_data::probe_with(path, &self.load_options(ModelKind::Cnn, false))? {
                focal_data::Probe::Table => ModelChoice {
                    model: ModelKind::Mlp,
                    why: ModelWhy::FeatureRows,
                },
                focal_data::Probe::Images { width, height } => ModelChoice {
                    model: if width.max(height) <= CNN_MAX_SIDE {
                        ModelKind::Cnn
                    } else {
                        ModelKind::Resnet18
                    },
                    why: ModelWhy::Images { width, height },
                },
            },
        )
    }

    /// Loads the data as `model` reads images by default, or the bundled data set. With
    /// `pretrained` weights every image is resized to the image size, by default 224x224
    /// (torchvision's); see [`default_image_size`].
    pub fn load(&self, model: ModelKind, pretrained: bool) -> Result<Dataset, TrainError> {
        let opts = self.load_options(model, pretrained);
        match &self.data {
            Some(p) => Ok(focal_data::load(p, &opts)?),
            None => {
                if self.label_column.is_some() {
                    return Err(TrainError::invalid(msg![
                        Setting::Data(D::LabelColumn),
                        ": the bundled data set is not a CSV; give ",
                        Setting::Data(D::Data),
                        " FILE.csv"
                    ]));
                }
                if let (Some((w, h)), false) = (self.image_size, pretrained) {
                    return Err(TrainError::invalid(msg![
                        Setting::Data(D::ImageSize),
                        format!(
                            " {w}x{h}: the bundled data set keeps its 28x28 images (only \
                             pretrained weights resize them); give "
                        ),
                        Setting::Data(D::Data)
                    ]));
                }
                Ok(focal_data::load_bundled(&opts)?)
            }
        }
    }

    /// The options that load the data as `model` reads images by default.
    fn load_options(&self, model: ModelKind, pretrained: bool) -> LoadOptions {
        let r = &self.reading;
        LoadOptions {
            label_column: self.label_column.clone(),
            image_size: self
                .image_size
                .or(pretrained.then(|| default_image_size(model, true))),
            default_image_size: Some(default_image_size(model, pretrained)),
            memory_budget: self.max_memory,
            image_column: r.image_column.clone(),
            image_root: r.image_root.clone(),
            image_suffix: r.image_suffix.clone(),
            group_column: r.group_column.clone(),
            groups_file: r.groups.clone(),
            dicom_window: r.dicom_window.unwrap_or_default(),
            dicom_frame: r.dicom_frame,
            ..LoadOptions::default()
        }
    }

    /// Loads the data and builds the task and split every run of it shares: `model` decides
    /// the image size (see [`load`](Self::load)), `pretrained` weights ImageNet's
    /// normalisation.
    pub fn prepare(&self, model: ModelKind, pretrained: bool) -> Result<PreparedData, TrainError> {
        let spec = self.task()?;
        let source = self.load(model, pretrained)?;
        let data = match (self.split_sizes, &spec.positive, spec.ratio) {
            (Some(sizes), Some(positive), Some(ratio)) => {
                PreparedData::with_split_sizes(&source, positive, ratio, sizes, self.seed)?
            }
            _ => PreparedData::from_source(source, &spec, SplitFractions::default())?,
        };
        Ok(data
            .with_input_normalization(InputNormalization::for_pretrained(pretrained))?
            .with_label_column(self.label_column.clone())
            .with_reading(self.reading.clone()))
    }

    /// The data set as `data inspect` describes it: loaded at the image size `model` reads
    /// (the model the data would train by default when none is given), and, with a positive
    /// class, a ratio or a long tail, the task built from it (a ratio on two classes makes the
    /// rarer one the positive, as training does). No bundled defaults: the bundled data set is
    /// described as it is.
    pub fn inspect(&self, model: Option<ModelKind>) -> Result<Dataset, TrainError> {
        let model = match model {
            Some(m) => m,
            None if self.data.as_ref().is_some_and(|p| p.is_dir()) => {
                // A probe that fails leaves the loader to name the problem.
                self.model(None).map_or(ModelKind::Cnn, |m| m.model)
            }
            None => ModelKind::Cnn,
        };
        let ds = match &self.data {
            Some(_) => self.load(model, false)?,
            None => focal_data::bundled()?,
        };
        let positive = match &self.positive {
            Some(p) => Some(p.clone()),
            None if self.ratio.is_some() => {
                focal_data::task::default_positive(&ds).map(ClassSelector::Index)
            }
            None => None,
        };
        let spec = TaskSpec {
            positive,
            ratio: self.ratio,
            long_tail: self.long_tail,
            allow_majority_positive: self.allow_majority_positive,
            seed: self.seed,
        };
        if spec.positive.is_some() || spec.ratio.is_some() || spec.long_tail.is_some() {
            Ok(focal_data::task::build_task(&ds, &spec)?)
        } else {
            Ok(ds)
        }
    }

    /// The header of the data's first DICOM file, when it holds DICOM images (what `data
    /// inspect` shows of them: modality, bits, window).
    pub fn dicom_info(&self, ds: &Dataset) -> Option<focal_data::DicomInfo> {
        let path = self.data.as_ref()?;
        let first =
            focal_data::first_dicom(path, ds.ids.as_deref(), self.reading.image_root.as_deref())?;
        focal_data::dicom_info(&first).ok()
    }

    fn positive_why(&self) -> PositiveWhy {
        if self.positive.is_some() {
            PositiveWhy::Asked
        } else if self.bundled_default() {
            PositiveWhy::Bundled
        } else {
            PositiveWhy::Rarer
        }
    }

    /// The line that says at which size the images of an image folder or manifest were read
    /// when no size was asked for, and why (`None` for other data, or a size asked for).
    pub fn image_size_line(&self, data: &PreparedData, model: ModelKind) -> Option<Message> {
        use focal_data::{DataFormat, SampleKind};
        let SampleKind::Image { width, height, .. } = data.dataset.kind else {
            return None;
        };
        let folder = matches!(
            data.dataset.format,
            DataFormat::ImageFolder | DataFormat::Manifest
        );
        if self.image_size.is_some() || !folder {
            return None;
        }
        let pretrained = data.task.input_normalization == InputNormalization::Imagenet;
        let size = default_image_size(model, pretrained);
        let name = model.name();
        let why = if pretrained {
            "the size the pretrained weights were trained at".to_string()
        } else if matches!(model, ModelKind::Resnet18 | ModelKind::Resnet50) {
            format!(
                "the default for {name} trained from scratch, measured on real MRI and X-ray \
                 sets: as good as 128x128 and better than 224x224 in a fraction of the time, \
                 steadier over seeds than 32x32 (EXPERIMENTS.md)"
            )
        } else {
            format!("the default for {name}")
        };
        let (w, h) = size;
        let read = if pretrained {
            format!("images: every one resized to {w}x{h} ({why}; ")
        } else if (width as u32, height as u32) == size {
            format!("images: read at {w}x{h} ({why}; larger or mixed sizes are resized to it; ")
        } else {
            format!(
                "images: read at their own {width}x{height} (no larger than {name}'s {w}x{h}, \
                 {why}; "
            )
        };
        Some(msg![read, Setting::Data(D::ImageSize), " to change)"])
    }

    /// The first line of output of a run or experiment on `data`: which class is the positive
    /// one and why, with its counts per split.
    pub fn task_line(&self, data: &PreparedData) -> Message {
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
        let groups = data
            .dataset
            .split_groups(&data.splits)
            .map(|g| {
                let [t, v, s] = g.counts();
                format!("; groups: train {t}, validation {v}, test {s} (no group in two splits)")
            })
            .unwrap_or_default();
        let counts = format!("{counts}{groups}");
        match data.positive() {
            Some(_) => {
                let why = match self.positive_why() {
                    PositiveWhy::Asked => msg!["as ", Setting::Data(D::Positive), " says"],
                    PositiveWhy::Bundled => msg!["the bundled task's default"],
                    PositiveWhy::Rarer => msg![
                        "the default: the rarer of the two classes; ",
                        Setting::Data(D::Positive),
                        " picks another"
                    ],
                };
                let mut line = msg![format!("positive class: {name} (")];
                line.0.extend(why.0);
                line.0.push(format!("); {counts}").into());
                line
            }
            None => msg![format!(
                "a multi-class task of {} classes, no positive class; the rarest, {name}: {counts}",
                data.n_classes()
            )],
        }
    }
}

/// A warning for each of validation and test that holds fewer than [`FEW_POSITIVES`]
/// samples of the positive (or rarest) class.
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

/// Why a model was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelWhy {
    /// As asked.
    Asked,
    /// The default for the bundled 28x28 images.
    Bundled,
    /// The default for feature rows.
    FeatureRows,
    /// The default for images of this size.
    Images {
        /// Width of the probed images.
        width: u32,
        /// Height of the probed images.
        height: u32,
    },
}

/// The model a run trains, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelChoice {
    /// The model.
    pub model: ModelKind,
    /// Why.
    pub why: ModelWhy,
}

impl ModelChoice {
    /// The line that says which model trains and why (printed first by train, compare and
    /// sweep).
    pub fn line(&self) -> Message {
        let name = self.model.name();
        let default = |what: String| {
            msg![
                format!("model: {name} (the default for {what}; "),
                Setting::Model,
                " to change)"
            ]
        };
        match self.why {
            ModelWhy::Asked => msg![format!("model: {name} (as "), Setting::Model, " says)"],
            ModelWhy::Bundled => default("the bundled 28x28 images".to_string()),
            ModelWhy::FeatureRows => default("feature rows".to_string()),
            ModelWhy::Images { width, height } if width.max(height) <= CNN_MAX_SIDE => default(
                format!("images up to {CNN_MAX_SIDE}x{CNN_MAX_SIDE}; these are {width}x{height}"),
            ),
            ModelWhy::Images { width, height } => default(format!(
                "images larger than {CNN_MAX_SIDE}x{CNN_MAX_SIDE}; these are {width}x{height}"
            )),
        }
    }
}
