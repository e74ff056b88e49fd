//! Predictions of a model on a split, and the final metrics of a run from them.

use std::collections::BTreeMap;

use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor};

use crate::config::TrainConfig;
use crate::data::{DeviceSet, PreparedData};
use crate::error::TrainError;
use crate::evaluate::{DecisionRule, Predictions, RuleMetrics, tune};
use crate::model::Model;
use crate::run::checkpoint::TrainState;
use crate::run::curves::{CALIBRATION_BINS, top_label};
use crate::run::record::{FinalMetrics, StopReason};

/// Samples per evaluation batch.
const EVAL_BATCH: usize = 256;

/// Softmax probabilities of `model` on samples `indices` of the task's data set.
pub fn predict(
    model: &Model,
    data: &PreparedData,
    indices: &[usize],
    device: &Device,
) -> Result<Predictions, TrainError> {
    let device = device.clone().without_autodiff();
    let set = data.device_set_of(indices, &device);
    let y_true = indices.iter().map(|&i| data.dataset.y[i]).collect();
    predict_set(model, &set, y_true, data.n_classes())
}

/// Softmax probabilities of `model` on every sample of `set` (already on the device, in
/// batches of 256), read back in one transfer; `y_true` are the samples' labels.
pub fn predict_set(
    model: &Model,
    set: &DeviceSet,
    y_true: Vec<usize>,
    n_classes: usize,
) -> Result<Predictions, TrainError> {
    let model = model.valid();
    let all: Vec<usize> = (0..set.len).collect();
    let parts: Vec<Tensor<2>> = all
        .chunks(EVAL_BATCH)
        .map(|chunk| softmax(model.forward(set.batch(chunk).0), 1))
        .collect();
    let probs = if parts.is_empty() {
        Vec::new()
    } else {
        Tensor::cat(parts, 0)
            .into_data()
            .try_into_vec_as::<f32>()
            .map_err(|e| TrainError::Device {
                message: format!("reading probabilities back from the device: {e:?}"),
            })?
    };
    Ok(Predictions {
        y_true,
        probs,
        n_classes,
    })
}

/// The logits (before the softmax) of `model` on every sample of `set`, row-major
/// `[set.len, n_classes]`, in batches of 256, read back in one transfer.
pub fn logits_set(model: &Model, set: &DeviceSet) -> Result<Vec<f32>, TrainError> {
    let model = model.valid();
    let all: Vec<usize> = (0..set.len).collect();
    let parts: Vec<Tensor<2>> = all
        .chunks(EVAL_BATCH)
        .map(|chunk| model.forward(set.batch(chunk).0))
        .collect();
    if parts.is_empty() {
        return Ok(Vec::new());
    }
    Tensor::cat(parts, 0)
        .into_data()
        .try_into_vec_as::<f32>()
        .map_err(|e| TrainError::Device {
            message: format!("reading logits back from the device: {e:?}"),
        })
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
    let mut rules = BTreeMap::new();
    rules.insert(
        DecisionRule::Argmax,
        RuleMetrics::new(
            DecisionRule::Argmax,
            &test.y_true,
            &test.argmax(),
            names,
            None,
            None,
        )?,
    );
    let tuned = match positive {
        Some(p) if val.y_true.contains(&p) => Some(tune(val, p, config.target_recall)?),
        _ => None,
    };
    if let (Some(t), Some(p)) = (&tuned, positive) {
        let pred = test.at_threshold(p, t.threshold);
        rules.insert(
            DecisionRule::Tuned,
            RuleMetrics::new(
                DecisionRule::Tuned,
                &test.y_true,
                &pred,
                names,
                Some(t.threshold),
                Some(t.objective),
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
            StopReason::EarlyStop
        } else {
            StopReason::Completed
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
