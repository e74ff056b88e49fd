//! A finished run applied to new data: the model it evaluated, the preprocessing it trained
//! with (sample shape, image size, standardisation) and its decision rule, read from the run
//! folder alone; the predictions written as a CSV.

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Int, Tensor, TensorData};
use focal_data::{InputLabels, InputOptions, Inputs};

use crate::data::DeviceSet;
use crate::data::{Reading, TaskKind};
use crate::device::DeviceChoice;
use crate::error::TrainError;
use crate::evaluate::{DecisionRule, Predictions};
use crate::model::Model;
use crate::run::checkpoint::{self, Which};
use crate::run::files::{csv_bytes, write_atomic};
use crate::run::rebuild::run_data;
use crate::run::record::{Preprocessing, RunConfig, read_config, read_metrics};
use crate::setting::Setting;
use crate::train::{evaluated_checkpoint, logits_set, predict_set};

/// A finished run, ready to predict.
pub struct Predictor {
    /// The run folder.
    pub run_dir: PathBuf,
    /// The run's `config.json`.
    pub config: RunConfig,
    /// How a sample enters the model.
    pub preprocessing: Preprocessing,
    /// The threshold the run tuned on validation (binary runs).
    pub tuned_threshold: Option<f64>,
    /// The temperature of the run's probabilities, when it calibrated (`softmax(logits / T)`).
    pub temperature: Option<f64>,
    /// The epoch whose model predicts.
    pub epoch: usize,
    model: Model,
    device: Device,
}

impl std::fmt::Debug for Predictor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Predictor")
            .field("run_dir", &self.run_dir)
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

impl Predictor {
    /// Opens the finished run in `run_dir` on `device`: the model of the epoch it evaluated
    /// (the best validation epoch's with early stopping, else the last one's: the model
    /// behind its `predictions.csv`), its preprocessing (from `config.json`; runs written before
    /// it was recorded rebuild it from their data), and its tuned threshold (`metrics.json`).
    pub fn open(run_dir: &Path, device: DeviceChoice) -> Result<Self, TrainError> {
        let config = read_config(run_dir)?;
        let metrics = read_metrics(run_dir)?;
        let preprocessing = match &config.preprocessing {
            Some(p) => p.clone(),
            None => {
                let data = run_data(run_dir, None)?;
                Preprocessing {
                    sample: data.dataset.kind,
                    normalization: data.normalization,
                    input_normalization: data.task.input_normalization,
                }
            }
        };
        let last = checkpoint::read_state(run_dir, Which::Last)?;
        let (which, epoch) = evaluated_checkpoint(&config.train, &last);
        let device = device.resolve()?;
        let model =
            crate::transfer::run_model(&config, &preprocessing.sample, run_dir, which, &device)?;
        Ok(Predictor {
            run_dir: run_dir.to_path_buf(),
            temperature: metrics.temperature(),
            tuned_threshold: metrics.tuned.map(|t| t.threshold),
            config,
            preprocessing,
            epoch,
            model,
            device,
        })
    }

    /// The model that predicts.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The run's class names, indexed by label.
    pub fn class_names(&self) -> &[String] {
        &self.config.class_names
    }

    /// The rule used when none is asked for: the tuned threshold of a binary run, else argmax.
    pub fn default_rule(&self) -> DecisionRule {
        match (self.config.positive, self.tuned_threshold) {
            (Some(_), Some(_)) => DecisionRule::Tuned,
            _ => DecisionRule::Argmax,
        }
    }

    /// Reads the samples at `path` (see [`focal_data::load_inputs`]) at the run's sample
    /// shape; a CSV's label column defaults to the one the run was trained with.
    pub fn read(
        &self,
        path: &Path,
        label_column: Option<String>,
        reading: &Reading,
    ) -> Result<Inputs, TrainError> {
        // What is not given is read as the run read its own data (a CSV is a manifest with the
        // run's image column only when it has that column: new data may come as a folder).
        let run = &self.config.task.reading;
        let is_manifest_with_runs_column = || {
            run.image_column.as_ref().is_some_and(|c| {
                csv::Reader::from_path(path)
                    .ok()
                    .and_then(|mut r| r.headers().ok().map(|h| h.iter().any(|x| x == c)))
                    .unwrap_or(false)
            })
        };
        let image_column = reading.image_column.clone().or_else(|| {
            is_manifest_with_runs_column()
                .then(|| run.image_column.clone())
                .flatten()
        });
        let opts = InputOptions {
            label_column: label_column.or_else(|| self.config.task.label_column.clone()),
            memory_budget: None,
            image_root: reading.image_root.clone(),
            image_suffix: reading
                .image_suffix
                .clone()
                .or_else(|| run.image_suffix.clone()),
            dicom_window: reading
                .dicom_window
                .or(run.dicom_window)
                .unwrap_or_default(),
            dicom_frame: reading.dicom_frame.or(run.dicom_frame),
            image_column,
        };
        Ok(focal_data::load_inputs(
            path,
            self.preprocessing.sample,
            &opts,
        )?)
    }

    /// Probabilities of every sample of `inputs`, row-major `[n, n_classes]`: the samples
    /// standardised as in training, moved to the device `batch_size` at a time; the softmax of
    /// the logits, divided by the run's temperature when it calibrated.
    pub fn probabilities(
        &self,
        inputs: &Inputs,
        batch_size: usize,
    ) -> Result<Vec<f32>, TrainError> {
        let n_classes = self.config.n_classes;
        let mut probs = Vec::with_capacity(inputs.len() * n_classes);
        self.for_each_batch(inputs, batch_size, |set| {
            let n = set.len;
            probs.extend(
                predict_set(&self.model, set, vec![0; n], n_classes, self.temperature)?.probs,
            );
            Ok(())
        })?;
        Ok(probs)
    }

    /// The model's logits (before the softmax) on every sample of `inputs`, row-major
    /// `[n, n_classes]`, prepared as [`probabilities`](Self::probabilities) prepares them.
    pub fn logits(&self, inputs: &Inputs, batch_size: usize) -> Result<Vec<f32>, TrainError> {
        let mut out = Vec::with_capacity(inputs.len() * self.config.n_classes);
        self.for_each_batch(inputs, batch_size, |set| {
            out.extend(logits_set(&self.model, set)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `f` with the samples of `inputs`, standardised, on the device, `batch_size` at a
    /// time.
    fn for_each_batch(
        &self,
        inputs: &Inputs,
        batch_size: usize,
        mut f: impl FnMut(&DeviceSet) -> Result<(), TrainError>,
    ) -> Result<(), TrainError> {
        if batch_size == 0 {
            return Err(TrainError::out_of_range(
                Setting::BatchSize,
                0,
                "must be at least 1",
            ));
        }
        let kind = self.preprocessing.sample;
        if inputs.kind != kind {
            return Err(TrainError::Data(focal_data::DataError::InvalidDataset {
                reason: format!(
                    "samples of shape {:?} for a model of shape {:?}",
                    inputs.kind.shape(),
                    kind.shape()
                ),
            }));
        }
        let device = self.device.clone().without_autodiff();
        let len = kind.len();
        let dims = kind.tensor_dims();
        for chunk in inputs.x.chunks(batch_size * len) {
            let n = chunk.len() / len;
            let mut flat = chunk.to_vec();
            for sample in flat.chunks_mut(len) {
                self.preprocessing.normalization.apply(sample, kind);
            }
            let set = DeviceSet::standardised(
                Tensor::<4>::from_data(
                    TensorData::new(flat, [n, dims[0], dims[1], dims[2]]),
                    &device,
                ),
                Tensor::<1, Int>::from_data(TensorData::new(vec![0i64; n], [n]), &device),
            );
            f(&set)?;
        }
        Ok(())
    }

    /// The class of each sample under `rule`, from `probs` (`[n, n_classes]`).
    pub fn decide(&self, probs: &[f32], rule: DecisionRule) -> Result<Vec<usize>, TrainError> {
        let n_classes = self.config.n_classes;
        let p = Predictions {
            y_true: vec![0; probs.len() / n_classes],
            probs: probs.to_vec(),
            n_classes,
        };
        let threshold = match rule {
            DecisionRule::Argmax => return Ok(p.argmax()),
            DecisionRule::Tuned => self.tuned_threshold.ok_or_else(|| {
                TrainError::out_of_range(
                    Setting::Rule,
                    "tuned",
                    "the run has no tuned threshold (it is not a binary run): use argmax",
                )
            })?,
            DecisionRule::Threshold(t) => t.get(),
        };
        match self.config.kind().positive() {
            Some(positive) => Ok(p.at_threshold(positive, threshold)),
            None => Err(TrainError::out_of_range(
                Setting::Rule,
                rule,
                "a threshold needs a binary run (two classes): use argmax",
            )),
        }
    }

    /// The labels of judged inputs in the run's classes: a binary run's positive class is
    /// label 1 and every other class of the source label 0 (as the task was built); a
    /// multi-class run's classes are matched by name.
    pub fn task_labels(&self, path: &Path, labels: &InputLabels) -> Result<Vec<usize>, TrainError> {
        let run_names = self.class_names();
        let index: Vec<usize> = if labels.class_names.as_slice() == run_names {
            (0..run_names.len()).collect()
        } else if let (TaskKind::Binary { positive }, Some(name)) =
            (self.config.kind(), &self.config.task.positive_name)
        {
            let negative = usize::from(positive == 0);
            labels
                .class_names
                .iter()
                .map(|c| if c == name { positive } else { negative })
                .collect()
        } else {
            labels
                .class_names
                .iter()
                .map(|c| {
                    run_names
                        .iter()
                        .position(|r| r == c)
                        .ok_or_else(|| TrainError::UnknownLabel {
                            path: path.to_path_buf(),
                            class: c.clone(),
                            expected: run_names.join(", "),
                        })
                })
                .collect::<Result<_, _>>()?
        };
        Ok(labels.y.iter().map(|&l| index[l]).collect())
    }
}

/// Writes predictions as a CSV, atomically: a header `id,p_<class>...[,logit_<class>...],
/// prediction`, then one row per sample: its id, the probability of each class (the shortest
/// decimal that reads back to the same `f32`, as in `predictions.csv`), the logits when given
/// (row-major `[n, n_classes]`, as exactly), and the name of the class chosen.
pub fn write_predictions(
    path: &Path,
    ids: &[String],
    class_names: &[String],
    probs: &[f32],
    logits: Option<&[f32]>,
    prediction: &[usize],
) -> Result<(), TrainError> {
    let n_classes = class_names.len();
    let mut header = vec!["id".to_string()];
    header.extend(class_names.iter().map(|c| format!("p_{c}")));
    if logits.is_some() {
        header.extend(class_names.iter().map(|c| format!("logit_{c}")));
    }
    header.push("prediction".to_string());
    let row_of = |values: &[f32], i: usize| -> Vec<String> {
        values[i * n_classes..(i + 1) * n_classes]
            .iter()
            .map(|p| p.to_string())
            .collect()
    };
    let rows: Vec<Vec<String>> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let mut row = vec![id.clone()];
            row.extend(row_of(probs, i));
            if let Some(l) = logits {
                row.extend(row_of(l, i));
            }
            row.push(class_names[prediction[i]].clone());
            row
        })
        .collect();
    write_atomic(path, &csv_bytes(path, &header, &rows)?)
}
