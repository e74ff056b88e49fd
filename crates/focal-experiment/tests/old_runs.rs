//! Run folders written by an earlier version still load, re-evaluate to the metrics they
//! recorded, and rebuild their reports.
//!
//! `fixtures/compare-cf3ce54/` was written by focal at commit cf3ce54 (before remedies, decision
//! rules and stop reasons became typed), with `scripts/make_old_run_fixture.sh`:
//! `focal compare --data data.csv --remedies weighted-ce,focal,ldam-drw --alpha 0.25
//! --model mlp --epochs 2`, on the 300-row CSV beside it.

use std::path::{Path, PathBuf};

use focal_experiment::experiment::read_comparison;
use focal_experiment::pipeline::{Rebuilt, rebuild_report};
use focal_train::run::run_data;
use focal_train::run::{StopReason, read_config, read_metrics};
use focal_train::{Alpha, Beta, DecisionRule, Gamma, PositiveWeight, Remedy, evaluate_run};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compare-cf3ce54")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// `a` and `b` are the same JSON, numbers within 1e-12 relative (integers exactly).
fn assert_close(a: &serde_json::Value, b: &serde_json::Value, at: &str) {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-12 * x.abs().max(y.abs()).max(1.0),
                "{at}: {x} vs {y}"
            );
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}");
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                assert_close(x, y, &format!("{at}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(
                x.keys().collect::<Vec<_>>(),
                y.keys().collect::<Vec<_>>(),
                "{at}"
            );
            for (k, v) in x {
                assert_close(v, &y[k], &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

fn run_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut runs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("config.json").is_file())
        .collect();
    runs.sort();
    runs
}

#[test]
fn runs_from_cf3ce54_load_and_re_evaluate_to_their_metrics() {
    let dir = fixture();
    let data_path = dir.join("data.csv");
    let runs = run_dirs(&dir);
    assert_eq!(runs.len(), 3, "{runs:?}");
    let mut remedies = Vec::new();
    for run in &runs {
        let rc = read_config(run).unwrap();
        // The minority class, absent in cf3ce54's config.json, is filled in on reading.
        assert_eq!(rc.task.minority, Some(1));
        remedies.push(rc.train.remedy().clone());
        let recorded = read_metrics(run).unwrap();
        assert_eq!(recorded.stopped, StopReason::Completed);
        assert!(recorded.rules.contains_key(&DecisionRule::Tuned));
        let data = run_data(run, Some(&data_path)).unwrap();
        let mut again = evaluate_run(run, &data).unwrap();
        // Bootstrap intervals are new since cf3ce54: computed now, and absent from the record.
        assert!(again.intervals.take().is_some());
        // The same numbers; floats to 1e-12 relative, since this build's Burn kernels may
        // differ from the recording build's in the last bit.
        assert_close(
            &serde_json::to_value(&again).unwrap(),
            &serde_json::to_value(&recorded).unwrap(),
            &run.display().to_string(),
        );
    }
    let quarter = Alpha::Scalar(PositiveWeight::new(0.25).unwrap());
    assert!(remedies.contains(&Remedy::Focal {
        gamma: Gamma::new(2.0).unwrap(),
        alpha: Some(quarter.clone())
    }));
    assert!(remedies.contains(&Remedy::WeightedCe { alpha: quarter }));
    assert!(remedies.contains(&Remedy::LdamDrw {
        beta: Beta::new(0.9999).unwrap()
    }));
}

#[test]
fn records_from_cf3ce54_write_back_unchanged() {
    for run in run_dirs(&fixture()) {
        for file in ["metrics.json", "split.json"] {
            let text = std::fs::read_to_string(run.join(file)).unwrap();
            let old: serde_json::Value = serde_json::from_str(&text).unwrap();
            let new = match file {
                "metrics.json" => serde_json::to_value(read_metrics(&run).unwrap()).unwrap(),
                _ => serde_json::to_value(focal_train::read_split(&run).unwrap()).unwrap(),
            };
            assert_eq!(old, new, "{}/{file}", run.display());
        }
        // config.json gains the fields added since, at their defaults, and nothing else.
        let text = std::fs::read_to_string(run.join("config.json")).unwrap();
        let old: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut new = serde_json::to_value(read_config(&run).unwrap()).unwrap();
        for (section, field, default) in [
            ("task", "minority", serde_json::json!(1)),
            ("train", "checkpoint_every", serde_json::json!(1)),
            ("task", "image_size", serde_json::Value::Null),
            ("task", "label_column", serde_json::Value::Null),
            ("task", "long_tail", serde_json::Value::Null),
            (
                "task",
                "input_normalization",
                serde_json::json!("training-split"),
            ),
            ("train", "calibrate", serde_json::json!("none")),
        ] {
            let added = new[section].as_object_mut().unwrap().remove(field);
            assert_eq!(added, Some(default), "{section}.{field}");
        }
        let added = new.as_object_mut().unwrap().remove("preprocessing");
        assert_eq!(added, Some(serde_json::Value::Null), "preprocessing");
        assert_eq!(old, new, "{}/config.json", run.display());
    }
}

#[test]
fn reports_of_cf3ce54_folders_rebuild() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("compare");
    copy_dir(&fixture(), &dir);
    let cmp = read_comparison(&dir).unwrap();
    assert_eq!(cmp.entries.len(), 3);
    match rebuild_report(&dir).unwrap() {
        Rebuilt::Experiment(c) => assert_eq!(*c, cmp),
        other => panic!("an experiment folder without a plan: {other:?}"),
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("<svg") && html.ends_with("</html>\n"));
    for run in run_dirs(&dir) {
        assert_eq!(rebuild_report(&run).unwrap(), Rebuilt::Run);
        assert!(run.join("report.html").is_file());
    }
}
