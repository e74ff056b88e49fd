//! Predictions of a model on a split, and the final metrics of a run from them.

use std::collections::BTreeMap;

use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor};

use crate::config::{Calibration, TrainConfig};
use crate::data::{DeviceSet, PreparedData};
use crate::error::TrainError;
use crate::evaluate::{DecisionRule, Predictions, RuleMetrics, tune};
use crate::model::Model;
use crate::run::checkpoint::TrainState;
use crate::run::curves::{CALIBRATION_BINS, top_label};
use crate::run::record::TestIntervals;
use crate::run::record::{CalibrationRecord, FinalMetrics, StopReason};

/// Samples per evaluation batch.
const EVAL_BATCH: usize = 256;

/// Softmax probabilities of `model` on samples `indices` of the task's data set, at
/// `temperature` (see [`predict_set`]).
pub fn predict(
    model: &Model,
    data: &PreparedData,
    indices: &[usize],
    device: &Device,
    temperature: Option<f64>,
) -> Result<Predictions, TrainError> {
    let device = device.clone().without_autodiff();
    let set = data.device_set_of(indices, &device);
    let y_true = indices.iter().map(|&i| data.dataset.y[i]).collect();
    predict_set(model, &set, y_true, data.n_classes(), temperature)
}

/// Probabilities of `model` on every sample of `set` (already on the device, in batches of
/// 256): `softmax(logits)`, or `softmax(logits / T)` with a `temperature`; read back in one
/// transfer; `y_true` are the samples' labels.
pub fn predict_set(
    model: &Model,
    set: &DeviceSet,
    y_true: Vec<usize>,
    n_classes: usize,
    temperature: Option<f64>,
) -> Result<Predictions, TrainError> {
    let model = model.valid();
    let all: Vec<usize> = (0..set.len).collect();
    let parts: Vec<Tensor<2>> = all
        .chunks(EVAL_BATCH)
        .map(|chunk| {
            let logits = model.forward(set.batch(chunk).0);
            let logits = match temperature {
                Some(t) => logits.div_scalar(t as f32),
                None => logits,
            };
            softmax(logits, 1)
        })
        .collect();
    let probs = if parts.is_empty() {
        Vec::new()
    } else {
        Tensor::cat(parts, 0)
            .into_data()
            .try_into_vec_as::<f32>()
            .map_err(|e| {
                TrainError::device(format!("reading probabilities back from the device: {e:?}"))
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
        .map_err(|e| TrainError::device(format!("reading logits back from the device: {e:?}")))
}

/// Test ECE (top-label) and the positive class's Brier score (binary tasks) of `test`.
fn ece_and_brier(test: &Predictions, positive: Option<usize>) -> (Option<f64>, Option<f64>) {
    let (outcomes, conf) = top_label(test);
    let ece =
        focal_metrics::calibration::expected_calibration_error(&outcomes, &conf, CALIBRATION_BINS)
            .ok();
    let brier = positive.and_then(|p| {
        let y: Vec<bool> = test.y_true.iter().map(|&l| l == p).collect();
        focal_metrics::calibration::brier_score(&y, &test.scores(p)).ok()
    });
    (ece, brier)
}

/// Top-label ECE of `softmax(logits / t)` (row-major `[n, n_classes]`) against `y`.
fn ece_at(y: &[usize], logits: &[f64], n_classes: usize, t: f64) -> Result<f64, TrainError> {
    let mut probs = Vec::with_capacity(logits.len());
    for row in logits.chunks(n_classes) {
        let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v / t));
        let e: Vec<f64> = row.iter().map(|&v| (v / t - max).exp()).collect();
        let sum: f64 = e.iter().sum();
        probs.extend(e.iter().map(|v| v / sum));
    }
    let (outcomes, conf) = focal_metrics::calibration::top_label(y, &probs, n_classes)?;
    Ok(focal_metrics::calibration::expected_calibration_error(
        &outcomes,
        &conf,
        CALIBRATION_BINS,
    )?)
}

/// The temperature fitted on validation and the `calibration` rule's decision to apply it:
/// `(T, applied, val ECE at 1, val ECE at T)`; `None` when the rule fits none (`none`, or
/// `auto` on a multi-class task).
fn fit_calibration(
    calibration: Calibration,
    positive: Option<usize>,
    model: &Model,
    val_set: &DeviceSet,
    val_y: &[usize],
    n_classes: usize,
) -> Result<Option<(f64, bool, f64, f64)>, TrainError> {
    let fit = match calibration {
        Calibration::None => false,
        Calibration::Auto => positive.is_some(),
        Calibration::Temperature => true,
    };
    if !fit {
        return Ok(None);
    }
    let logits: Vec<f64> = logits_set(model, val_set)?
        .into_iter()
        .map(f64::from)
        .collect();
    let t = focal_metrics::calibration::fit_temperature(val_y, &logits, n_classes)?;
    let (before, after) = (
        ece_at(val_y, &logits, n_classes, 1.0)?,
        ece_at(val_y, &logits, n_classes, t)?,
    );
    // `auto` keeps a temperature that lowers the validation ECE and lies inside the search
    // range: a fit at its end (separable validation data, whose NLL falls without bound as
    // T -> 0) is no estimate.
    let (low, high) = focal_metrics::calibration::TEMPERATURE_RANGE;
    let interior = t > low * 1.01 && t < high / 1.01;
    let applied = match calibration {
        Calibration::Auto => after < before && interior,
        _ => true,
    };
    Ok(Some((t, applied, before, after)))
}

/// What evaluating a model on its task gives: the final metrics, the test predictions the run
/// keeps (calibrated when the run applied a temperature), and the uncalibrated ones when they
/// differ.
pub struct Evaluated {
    /// metrics.json's contents.
    pub metrics: FinalMetrics,
    /// The test predictions (predictions.csv, curves).
    pub test: Predictions,
    /// The validation predictions the threshold was tuned on (calibrated when the test's
    /// are): val_predictions.csv.
    pub val: Predictions,
    /// The test predictions at T = 1, when a temperature was applied.
    pub test_uncalibrated: Option<Predictions>,
}

/// Evaluates `model` on `data` as a finished run does: fits the calibration the config asks
/// for on validation, applies it (before the threshold is tuned on validation), and computes
/// the test metrics at each decision rule, with ECE and Brier before and after calibration.
/// `val` are the model's validation predictions at T = 1 when already computed.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_model(
    config: &TrainConfig,
    data: &PreparedData,
    model: &Model,
    device: &Device,
    val: Option<Predictions>,
    state: &TrainState,
    evaluated_epoch: usize,
) -> Result<Evaluated, TrainError> {
    let device = device.clone().without_autodiff();
    let n = data.n_classes();
    let val_set = data.device_set_of(&data.splits.val, &device);
    let val_y: Vec<usize> = data.splits.val.iter().map(|&i| data.dataset.y[i]).collect();
    let fitted = fit_calibration(
        config.calibrate(),
        data.positive(),
        model,
        &val_set,
        &val_y,
        n,
    )?;
    let applied = fitted.filter(|f| f.1).map(|f| f.0);
    let val = match (val, applied) {
        (Some(v), None) => v,
        (_, t) => predict_set(model, &val_set, val_y, n, t)?,
    };
    let test_raw = predict(model, data, &data.splits.test, &device, None)?;
    let test_at_t = match fitted {
        Some((t, ..)) => Some(predict(model, data, &data.splits.test, &device, Some(t))?),
        None => None,
    };
    let calibration = match (&fitted, &test_at_t) {
        (Some((t, applied, vb, va)), Some(after)) => {
            let (eb, bb) = ece_and_brier(&test_raw, data.positive());
            let (ea, ba) = ece_and_brier(after, data.positive());
            Some(CalibrationRecord {
                temperature: *t,
                applied: *applied,
                val_ece_before: *vb,
                val_ece_after: *va,
                test_ece_before: eb,
                test_ece_after: ea,
                test_brier_before: bb,
                test_brier_after: ba,
            })
        }
        _ => None,
    };
    let (test, test_uncalibrated) = match (applied, test_at_t) {
        (Some(_), Some(t)) => (t, Some(test_raw)),
        _ => (test_raw, None),
    };
    let mut metrics = final_metrics(
        config,
        data.positive(),
        &data.dataset.class_names,
        &val,
        &test,
        state,
        evaluated_epoch,
    )?;
    metrics.calibration = calibration;
    Ok(Evaluated {
        metrics,
        test,
        val,
        test_uncalibrated,
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
        Some(p) if val.y_true.contains(&p) => Some(tune(val, p, config.target_recall())?),
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
    let (test_ece, test_brier) = ece_and_brier(test, positive);
    let intervals = positive.and_then(|p| test_intervals(test, p, &rules, config.seed()));
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
        calibration: None,
        intervals,
        rules,
    })
}

/// Bootstrap intervals of the test PR-AUC of class `p` and of its F1 at each rule in `rules`
/// (the decisions re-derived from `test` as the rules made them); `None` when the test split
/// lacks a class or every resample missed the positives.
fn test_intervals(
    test: &Predictions,
    p: usize,
    rules: &BTreeMap<DecisionRule, RuleMetrics>,
    seed: u64,
) -> Option<TestIntervals> {
    use focal_metrics::bootstrap::{Bootstrap, DEFAULT_RESAMPLES};
    let y: Vec<bool> = test.y_true.iter().map(|&t| t == p).collect();
    let scores: Vec<f64> = (0..test.len()).map(|i| f64::from(test.row(i)[p])).collect();
    let mut f1 = BTreeMap::new();
    let mut pr_auc = None;
    for (&rule, m) in rules {
        let pred = match (rule, m.threshold) {
            (DecisionRule::Tuned, Some(t)) => test.at_threshold(p, t),
            _ => test.argmax(),
        };
        let pred: Vec<bool> = pred.iter().map(|&c| c == p).collect();
        let b = Bootstrap::new(&y, &scores, &pred).ok()?;
        let found = b.intervals(DEFAULT_RESAMPLES, seed).ok()?;
        f1.insert(rule, found.f1);
        pr_auc.get_or_insert(found.average_precision);
    }
    Some(TestIntervals {
        resamples: DEFAULT_RESAMPLES,
        seed,
        pr_auc: pr_auc?,
        f1,
    })
}
