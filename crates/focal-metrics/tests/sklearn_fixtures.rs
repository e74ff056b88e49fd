//! Golden values from scikit-learn 1.9.1 and imbalanced-learn 0.14.2, produced by
//! `scripts/gen_metrics_fixtures.py` into `tests/fixtures/*.json`.
//!
//! Text is compared byte for byte; numbers to an absolute 1e-12 (`TOL`); JSON `null` in a
//! fixture stands for NaN.

use focal_metrics::calibration::{
    brier_score, brier_score_multiclass, expected_calibration_error, reliability_diagram, top_label,
};
use focal_metrics::ranking::{self, BinaryCurve};
use focal_metrics::threshold::{Objective, tune_threshold};
use focal_metrics::{
    ClassificationReport, ConfusionMatrix, ImbalancedReport, ReportOptions, ZeroDivision,
    balanced_accuracy, cohen_kappa, matthews_corrcoef,
};
use serde_json::Value;

const TOL: f64 = 1e-12;

/// `cases`, after checking that the fixture holds at least `min` of them (a loop over an
/// empty or truncated fixture would pass without testing anything).
fn at_least<T>(min: usize, cases: &[T]) -> &[T] {
    assert!(
        cases.len() >= min,
        "the fixture holds {} cases, expected at least {min}",
        cases.len()
    );
    cases
}

fn fixture(name: &str) -> Vec<Value> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"));
    match &v["cases"] {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    }
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Null => f64::NAN,
        Value::String(s) if s == "inf" => f64::INFINITY,
        _ => v.as_f64().unwrap_or_else(|| panic!("not a number: {v}")),
    }
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(num)
        .collect()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

fn bools(v: &Value) -> Vec<bool> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_bool().unwrap())
        .collect()
}

#[track_caller]
fn close(actual: f64, expected: f64, what: &str) {
    let ok = (actual.is_nan() && expected.is_nan())
        || actual == expected
        || (actual - expected).abs() <= TOL;
    assert!(ok, "{what}: got {actual:?}, scikit-learn {expected:?}");
}

#[track_caller]
fn close_all(actual: &[f64], expected: &[f64], what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths differ");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        close(*a, *e, &format!("{what}[{i}]"));
    }
}

/// Compares two JSON values, numbers to `TOL`.
#[track_caller]
fn json_close(actual: &Value, expected: &Value, path: &str) {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            let ak: Vec<_> = a.keys().collect();
            let ek: Vec<_> = e.keys().collect();
            assert_eq!(ak, ek, "{path}: keys (order included) differ");
            for (k, v) in e {
                json_close(&a[k], v, &format!("{path}.{k}"));
            }
        }
        (a, e) => close(num(a), num(e), path),
    }
}

fn options(case: &Value) -> ReportOptions {
    ReportOptions {
        labels: case["labels"].as_array().map(|_| usizes(&case["labels"])),
        target_names: case["target_names"]
            .as_array()
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect()),
        digits: case["digits"].as_u64().unwrap() as usize,
        zero_division: match case["zero_division"].as_str().unwrap() {
            "zero" => ZeroDivision::Zero,
            "one" => ZeroDivision::One,
            _ => ZeroDivision::Nan,
        },
    }
}

#[test]
fn classification_report_matches_sklearn() {
    let cases = fixture("report_cases.json");
    assert!(cases.len() >= 20);
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let (y_true, y_pred) = (usizes(&case["y_true"]), usizes(&case["y_pred"]));
        let n = case["n_classes"].as_u64().unwrap() as usize;
        let opts = options(case);
        let report = ClassificationReport::new(&y_true, &y_pred, n, &opts).unwrap();
        assert_eq!(
            report.to_string(),
            case["text"].as_str().unwrap(),
            "{name}: text"
        );
        let dict = serde_json::to_value(&report).unwrap();
        json_close(&dict, &case["dict"], name);
        // Key order as scikit-learn's dict (serde_json's Value sorts keys, so the fixture lists
        // them and the serialized text is checked directly).
        let text = serde_json::to_string(&report).unwrap();
        let mut last = 0;
        for key in case["dict_keys"].as_array().unwrap() {
            let key = key.as_str().unwrap();
            let pos = text.find(&format!("\"{key}\":")).unwrap();
            assert!(pos >= last, "{name}: key {key} out of order in {text}");
            last = pos;
        }

        let cm = ConfusionMatrix::new(&y_true, &y_pred, n).unwrap();
        let rows: Vec<Vec<u64>> = case["confusion_matrix"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_u64().unwrap())
                    .collect()
            })
            .collect();
        assert_eq!(cm.rows(), rows, "{name}: confusion matrix");
        close(
            balanced_accuracy(&cm),
            num(&case["balanced_accuracy"]),
            &format!("{name}: bal acc"),
        );
        close(
            matthews_corrcoef(&cm),
            num(&case["mcc"]),
            &format!("{name}: mcc"),
        );
        close(
            cohen_kappa(&cm),
            num(&case["cohen_kappa"]),
            &format!("{name}: kappa"),
        );

        if let Some(text) = case["imbalanced_text"].as_str() {
            let imb = ImbalancedReport::new(&y_true, &y_pred, n, &opts).unwrap();
            assert_eq!(imb.to_string(), text, "{name}: imbalanced text");
            let d = &case["imbalanced"];
            for row in &imb.classes {
                let e = &d[&row.name];
                close(
                    row.precision,
                    num(&e["pre"]),
                    &format!("{name}/{}: pre", row.name),
                );
                close(
                    row.recall,
                    num(&e["rec"]),
                    &format!("{name}/{}: rec", row.name),
                );
                close(
                    row.specificity,
                    num(&e["spe"]),
                    &format!("{name}/{}: spe", row.name),
                );
                close(row.f1, num(&e["f1"]), &format!("{name}/{}: f1", row.name));
                close(
                    row.geometric_mean,
                    num(&e["geo"]),
                    &format!("{name}/{}: geo", row.name),
                );
                close(
                    row.iba,
                    num(&e["iba"]),
                    &format!("{name}/{}: iba", row.name),
                );
                close(
                    row.support as f64,
                    num(&e["sup"]),
                    &format!("{name}/{}: sup", row.name),
                );
            }
            let a = &imb.average;
            close(a.precision, num(&d["avg_pre"]), &format!("{name}: avg pre"));
            close(
                a.specificity,
                num(&d["avg_spe"]),
                &format!("{name}: avg spe"),
            );
            close(
                a.geometric_mean,
                num(&d["avg_geo"]),
                &format!("{name}: avg geo"),
            );
            close(a.iba, num(&d["avg_iba"]), &format!("{name}: avg iba"));
            close(
                a.support as f64,
                num(&d["total_support"]),
                &format!("{name}: total support"),
            );
        }
    }
}

#[test]
fn ranking_matches_sklearn() {
    let all = fixture("ranking_cases.json");
    let binary = all[0]["binary"].as_array().unwrap();
    assert!(binary.len() >= 8);
    for case in binary {
        let name = case["name"].as_str().unwrap();
        let (y, s) = (bools(&case["y_true"]), nums(&case["scores"]));
        let curve = BinaryCurve::new(&y, &s).unwrap();
        if !case["average_precision"].is_null() {
            let pr = curve.precision_recall_curve();
            close_all(
                &pr.precision,
                &nums(&case["pr_precision"]),
                &format!("{name}: precision"),
            );
            close_all(
                &pr.recall,
                &nums(&case["pr_recall"]),
                &format!("{name}: recall"),
            );
            close_all(
                &pr.thresholds,
                &nums(&case["pr_thresholds"]),
                &format!("{name}: pr thr"),
            );
            let ap = ranking::average_precision(&y, &s).unwrap();
            close(ap, num(&case["average_precision"]), &format!("{name}: AP"));
        }
        if case["roc_auc"].is_null() {
            assert!(curve.roc_auc().is_err(), "{name}: AUC must be an error");
            continue;
        }
        let roc = curve.roc_curve().unwrap();
        close_all(&roc.fpr, &nums(&case["roc_fpr"]), &format!("{name}: fpr"));
        close_all(&roc.tpr, &nums(&case["roc_tpr"]), &format!("{name}: tpr"));
        close_all(
            &roc.thresholds,
            &nums(&case["roc_thresholds"]),
            &format!("{name}: roc thr"),
        );
        close(
            ranking::roc_auc(&y, &s).unwrap(),
            num(&case["roc_auc"]),
            &format!("{name}: AUC"),
        );
    }
    for case in at_least(2, all[0]["multiclass"].as_array().unwrap()) {
        let name = case["name"].as_str().unwrap();
        let (y, p) = (usizes(&case["y_true"]), nums(&case["probs"]));
        let c = case["n_classes"].as_u64().unwrap() as usize;
        let ap = ranking::macro_average_precision_ovr(&y, &p, c).unwrap();
        close(ap, num(&case["macro_ap"]), &format!("{name}: macro AP"));
        let auc = ranking::macro_roc_auc_ovr(&y, &p, c).unwrap();
        close(auc, num(&case["macro_auc"]), &format!("{name}: macro AUC"));
    }
}

fn check_calibration(case: &Value, outcomes: &[bool], probs: &[f64]) {
    let name = case["name"].as_str().unwrap();
    let n_bins = case["n_bins"].as_u64().unwrap() as usize;
    let bins = reliability_diagram(outcomes, probs, n_bins).unwrap();
    let acc: Vec<f64> = bins.iter().map(|b| b.accuracy).collect();
    let conf: Vec<f64> = bins.iter().map(|b| b.mean_confidence).collect();
    let counts: Vec<f64> = bins.iter().map(|b| b.count as f64).collect();
    close_all(
        &acc,
        &nums(&case["prob_true"]),
        &format!("{name}: prob_true"),
    );
    close_all(
        &conf,
        &nums(&case["prob_pred"]),
        &format!("{name}: prob_pred"),
    );
    close_all(&counts, &nums(&case["counts"]), &format!("{name}: counts"));
    let lower: Vec<f64> = bins.iter().map(|b| b.lower).collect();
    let upper: Vec<f64> = bins.iter().map(|b| b.upper).collect();
    close_all(&lower, &nums(&case["lower"]), &format!("{name}: lower"));
    close_all(&upper, &nums(&case["upper"]), &format!("{name}: upper"));
    let ece = expected_calibration_error(outcomes, probs, n_bins).unwrap();
    close(ece, num(&case["ece"]), &format!("{name}: ECE"));
    close(
        brier_score(outcomes, probs).unwrap(),
        num(&case["brier"]),
        &format!("{name}: brier"),
    );
}

#[test]
fn calibration_matches_sklearn() {
    let all = fixture("calibration_cases.json");
    for case in at_least(3, all[0]["binary"].as_array().unwrap()) {
        check_calibration(case, &bools(&case["outcomes"]), &nums(&case["probs"]));
    }
    let top = &all[0]["top_label"];
    let (y, p) = (usizes(&top["y_true"]), nums(&top["matrix"]));
    let (correct, confidence) = top_label(&y, &p, 3).unwrap();
    assert_eq!(correct, bools(&top["outcomes"]));
    close_all(&confidence, &nums(&top["probs"]), "top-label confidence");
    check_calibration(top, &correct, &confidence);
    let brier = brier_score_multiclass(&y, &p, 3).unwrap();
    close(brier, num(&top["brier_multiclass"]), "multi-class brier");
}

#[test]
fn threshold_tuning_matches_brute_force() {
    for case in at_least(6, &fixture("threshold_cases.json")) {
        let (y, s) = (bools(&case["y_true"]), nums(&case["scores"]));
        let param = case["param"].as_f64();
        let objective = match (case["objective"].as_str().unwrap(), param) {
            ("f1", _) => Objective::F1,
            ("fbeta", Some(b)) => Objective::FBeta(b),
            ("target_recall", Some(r)) => Objective::TargetRecall(r),
            _ => Objective::YoudenJ,
        };
        let got = serde_json::to_value(tune_threshold(&y, &s, objective).unwrap()).unwrap();
        json_close(&got, &case["expected"], &format!("{objective:?}"));
    }
}

/// Temperature scaling against PyTorch (float64 L-BFGS on log T,
/// `scripts/gen_calibration_fixture.py`): the same temperature and NLL.
#[test]
fn fitted_temperature_matches_pytorch() {
    use focal_metrics::calibration::{fit_temperature, nll_at_temperature};
    for case in at_least(4, &fixture("temperature.json")) {
        let name = case["name"].as_str().unwrap();
        let (y, logits) = (usizes(&case["y"]), nums(&case["logits"]));
        let c = case["n_classes"].as_u64().unwrap() as usize;
        let t = fit_temperature(&y, &logits, c).unwrap();
        let want = num(&case["temperature"]);
        assert!(
            ((t - want) / want).abs() < 1e-6,
            "{name}: T {t} vs PyTorch {want}"
        );
        close(
            nll_at_temperature(&y, &logits, c, t),
            num(&case["nll"]),
            name,
        );
    }
}
