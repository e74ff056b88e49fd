//! `focal eval --predictions`: output against scikit-learn (fixtures written by
//! `scripts/gen_metrics_fixtures.py` into focal-metrics' fixtures), and CSV errors.
//!
//! Text is compared byte for byte; numbers to an absolute 1e-12.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

const TOL: f64 = 1e-12;

fn focal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_focal"))
        .args(args)
        .output()
        .expect("running focal")
}

fn cases() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../focal-metrics/tests/fixtures/cli_cases.json"
    );
    let text = std::fs::read_to_string(path).expect("reading cli_cases.json");
    let v: Value = serde_json::from_str(&text).expect("parsing cli_cases.json");
    let cases = v["cases"].as_array().expect("cases").clone();
    // A loop over an empty or truncated fixture would pass without testing anything.
    assert!(
        cases.len() >= 4,
        "cli_cases.json holds {} cases",
        cases.len()
    );
    cases
}

fn write_csv(dir: &tempfile::TempDir, name: &str, content: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, content).expect("writing csv");
    path
}

#[track_caller]
fn json_close(actual: &Value, expected: &Value, path: &str) {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            assert_eq!(
                a.keys().collect::<Vec<_>>(),
                e.keys().collect::<Vec<_>>(),
                "{path}"
            );
            for (k, v) in e {
                json_close(&a[k], v, &format!("{path}.{k}"));
            }
        }
        (Value::Array(a), Value::Array(e)) => {
            assert_eq!(a.len(), e.len(), "{path}");
            for (i, (x, y)) in a.iter().zip(e).enumerate() {
                json_close(x, y, &format!("{path}[{i}]"));
            }
        }
        (a, e) => {
            let (a, e) = (a.as_f64().unwrap(), e.as_f64().unwrap());
            assert!((a - e).abs() <= TOL, "{path}: focal {a}, scikit-learn {e}");
        }
    }
}

#[test]
fn text_starts_with_sklearn_report() {
    let dir = tempfile::tempdir().unwrap();
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let csv = write_csv(&dir, &format!("{name}.csv"), case["csv"].as_str().unwrap());
        let digits = case["digits"].as_u64().unwrap().to_string();
        let out = focal(&[
            "eval",
            "--predictions",
            csv.to_str().unwrap(),
            "--digits",
            &digits,
        ]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let expected = case["text"].as_str().unwrap();
        assert!(
            stdout.starts_with(expected),
            "{name}:\n{stdout}\nexpected to start with\n{expected}"
        );
        assert!(stdout.contains("confusion matrix (rows = true label, columns = predicted label)"));
        assert!(stdout.contains("balanced accuracy"));
        if case.get("roc_auc").is_some() {
            assert!(stdout.contains("ROC AUC"), "{name}");
        }
    }
}

#[test]
fn json_matches_sklearn() {
    let dir = tempfile::tempdir().unwrap();
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let csv = write_csv(&dir, &format!("{name}.csv"), case["csv"].as_str().unwrap());
        let out = focal(&["eval", "--predictions", csv.to_str().unwrap(), "--json"]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON object");
        json_close(&got["report"], &case["report"], &format!("{name}.report"));
        json_close(&got["confusion_matrix"], &case["confusion_matrix"], name);
        for key in ["balanced_accuracy", "mcc", "average_precision", "roc_auc"] {
            match case.get(key) {
                Some(expected) => json_close(&got[key], expected, &format!("{name}.{key}")),
                None => assert!(got.get(key).is_none(), "{name}: {key} must be absent"),
            }
        }
    }
}

/// Runs `focal eval` on `content` and returns stderr, asserting a non-zero exit.
fn fails_with(content: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let csv = write_csv(&dir, "preds.csv", content);
    let out = focal(&["eval", "--predictions", csv.to_str().unwrap()]);
    assert!(!out.status.success(), "expected failure for {content:?}");
    (
        String::from_utf8(out.stderr).unwrap(),
        csv.display().to_string(),
    )
}

#[test]
fn malformed_csv_names_file_line_and_column() {
    let cases = [
        ("y_true\n0\n", "line 1, column 2: missing column `y_pred`"),
        (
            "y_true,ypred\n0,0\n",
            "line 1, column 2: expected header `y_pred`, a probability column `p_<class>` or `score`, found `ypred`",
        ),
        (
            // A lone `p_1` is a score column (valid); `score` beside others is not.
            "y_true,y_pred,score,p_1\n0,0,0.5,0.5\n",
            "line 1, column 3: `score` must be the only probability column",
        ),
        (
            "y_true,y_pred,p_0,p_1\n0,0,0.9,0.1\n1,1,0.2\n",
            "line 3, column 4: missing column `p_1`",
        ),
        (
            "y_true,y_pred\n0,0\n1,1,1\n",
            "line 3, column 3: unexpected extra column",
        ),
        (
            // Labels may be names, but then among the probability columns' classes.
            "y_true,y_pred,p_0,p_1\n0,0,0.5,0.5\nabc,1,0.5,0.5\n",
            "line 3, column 1: `abc` in y_true is not one of the classes 0, 1",
        ),
        (
            "y_true,y_pred,p_0,p_1\n0,-1,0.5,0.5\n",
            "line 2, column 2: `-1` in y_pred is not one of the classes 0, 1",
        ),
        (
            "y_true,y_pred,p_0,p_1\n2,0,0.5,0.5\n",
            "line 2, column 1: label 2 in y_true is out of range",
        ),
        (
            "y_true,y_pred,p_0,p_1\n0,0,0.5,x\n",
            "line 2, column 4: `x` in p_1 is not a number",
        ),
        (
            "y_true,y_pred,p_0,p_1\n0,0,0.5,0.6\n",
            "line 2, column 3: probabilities p_0..p_1 sum to",
        ),
        (
            "y_true,y_pred,p_0,p_1\n0,0,1.5,-0.5\n",
            "line 2, column 3: probability 1.5 in p_0 is outside [0, 1]",
        ),
    ];
    for (content, message) in cases {
        let (stderr, path) = fails_with(content);
        assert!(stderr.contains(&path), "{content:?}: {stderr}");
        assert!(
            stderr.contains(message),
            "{content:?}: expected {message:?} in {stderr}"
        );
    }
}

#[test]
fn empty_inputs_fail() {
    let (stderr, path) = fails_with("");
    assert!(stderr.contains(&format!("{path}: empty file")), "{stderr}");
    let (stderr, _) = fails_with("y_true,y_pred\n");
    assert!(
        stderr.contains("no predictions after the header"),
        "{stderr}"
    );
}

#[test]
fn probabilities_within_tolerance_are_accepted() {
    // Rows summing to 1 +- 1e-3 pass: 0.3334 * 3 = 1.0002.
    let dir = tempfile::tempdir().unwrap();
    let csv = write_csv(
        &dir,
        "ok.csv",
        "y_true,y_pred,p_0,p_1,p_2\n0,0,0.3334,0.3334,0.3334\n1,1,0.1,0.8,0.1\n2,2,0,0,1\n",
    );
    let out = focal(&["eval", "--predictions", csv.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(got.get("roc_auc").is_some());
}

#[test]
fn missing_file_and_missing_input_fail() {
    let out = focal(&["eval", "--predictions", "/nonexistent/preds.csv"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/preds.csv"));
    let out = focal(&["eval"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--predictions"));
}
