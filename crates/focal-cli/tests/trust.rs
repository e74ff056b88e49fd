//! Numbers a user can trust: the positive class is the rare one unless said otherwise, and
//! mistakes in flags and paths get messages that name the flag and what to give.

mod common;
use std::fs;

use common::{focal, stderr, write_csv};

/// Two classes, 4 features; `malignant` (label 0 in sorted order) one row in five.
fn write_rare_first(path: &std::path::Path, n: usize) {
    let csv = fs::read_to_string({
        write_csv(path, n);
        path
    })
    .unwrap()
    .replace(",rare\n", ",malignant\n")
    .replace(",common\n", ",normal\n");
    fs::write(path, csv).unwrap();
}

#[test]
fn the_rarer_class_is_the_positive_by_default_and_a_majority_positive_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("d.csv");
    write_rare_first(&csv, 150);
    let out_dir = tmp.path().join("runs");
    let args = |extra: &[&str]| {
        let mut a = vec![
            "train",
            "--data",
            csv.to_str().unwrap(),
            "--model",
            "mlp",
            "--epochs",
            "1",
            "--out",
            out_dir.to_str().unwrap(),
        ];
        a.extend_from_slice(extra);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        focal(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let out = run(&["--name", "default"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.lines()
            .next()
            .unwrap()
            .starts_with("positive class: malignant (the default"),
        "{err}"
    );
    let config: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out_dir.join("default/config.json")).unwrap())
            .unwrap();
    assert_eq!(
        config["class_names"],
        serde_json::json!(["normal", "malignant"])
    );
    assert_eq!(config["positive"], 1);
    // The epoch line follows the positive class by name.
    assert!(err.contains("val malignant: P "), "{err}");

    // The common class as the positive: refused, with the flag that allows it.
    let out = run(&["--name", "majority", "--positive", "normal"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("--positive `normal`") && err.contains("--allow-majority-positive"),
        "{err}"
    );
    assert!(!out_dir.join("majority").exists());
    let out = run(&[
        "--name",
        "majority",
        "--positive",
        "normal",
        "--allow-majority-positive",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    // data inspect previews the same task: a ratio on two classes makes the rarer the positive.
    let out = focal(&[
        "data",
        "inspect",
        "--data",
        csv.to_str().unwrap(),
        "--ratio",
        "9:1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("1  malignant")),
        "{text}"
    );

    // A ratio read backwards is refused before any data is read.
    let out = run(&["--ratio", "2:98"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("--ratio `2:98`") && err.contains("98:2"),
        "{err}"
    );
}

#[test]
fn flags_and_paths_given_wrong_are_named_with_what_to_give() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    fs::write(&file, "x").unwrap();
    let f = file.to_str().unwrap();
    let d = tmp.path().to_str().unwrap();
    let cases: Vec<(Vec<&str>, &[&str])> = vec![
        (
            vec!["train", "--lr", "-1"],
            &["--lr -1", "learning rate must be finite and > 0"],
        ),
        (
            vec!["train", "--gamma", "-1", "--remedy", "focal"],
            &["--gamma -1"],
        ),
        (vec!["train", "--epochs", "-1"], &["--epochs", "negative"]),
        (vec!["compare", "--epochs", "-1"], &["--epochs", "negative"]),
        (
            vec!["train", "--out", f],
            &["--out", "a file is there; give a folder"],
        ),
        (
            vec!["compare", "--out", f],
            &["--out", "a file is there; give a folder"],
        ),
        (
            vec!["eval", "--predictions", d],
            &["--predictions", "a folder; give a CSV file"],
        ),
        (vec!["eval", "--run", d], &["--run", "not a run folder"]),
        (
            vec!["train", "--resume", d],
            &["--resume", "not a run folder"],
        ),
        (
            vec!["train", "--resume", "/no/such/run"],
            &["--resume /no/such/run: no such folder"],
        ),
    ];
    for (args, want) in cases {
        let out = focal(&args);
        assert!(!out.status.success(), "{args:?}");
        let err = stderr(&out);
        for w in want {
            assert!(err.contains(w), "{args:?}: {err}");
        }
        assert!(!err.contains("os error"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // An experiment folder given as a run names one of its runs.
    let exp = tmp.path().join("exp");
    fs::create_dir_all(exp.join("ce-seed0")).unwrap();
    fs::write(exp.join("plan.json"), "{}").unwrap();
    fs::write(exp.join("ce-seed0/config.json"), "{}").unwrap();
    let out = focal(&["eval", "--run", exp.to_str().unwrap()]);
    let err = stderr(&out);
    assert!(
        err.contains("an experiment folder") && err.contains("ce-seed0"),
        "{err}"
    );
}

/// `focal eval --predictions` on each run's predictions.csv gives the run's own metrics.json
/// figures (PR-AUC, ROC-AUC, the argmax confusion matrix, balanced accuracy, MCC) to 1e-9, for
/// every remedy that reads feature rows: the file holds each probability exactly.
#[test]
fn eval_on_every_remedys_predictions_reproduces_its_metrics() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("d.csv");
    write_csv(&csv, 200);
    let remedies: Vec<&str> = focal_train::RemedyKind::ALL
        .iter()
        .filter(|k| !k.augments())
        .map(|k| k.name())
        .collect();
    let cmp = tmp.path().join("cmp");
    let out = focal(&[
        "compare",
        "--data",
        csv.to_str().unwrap(),
        "--model",
        "mlp",
        "--epochs",
        "2",
        "--remedies",
        &remedies.join(","),
        "--jobs",
        "1",
        "--quiet",
        "--out",
        cmp.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let close = |a: &serde_json::Value, b: &serde_json::Value, what: &str, run: &str| {
        let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
        assert!(
            (a - b).abs() <= 1e-9,
            "{run}: {what} {a} vs metrics.json {b}"
        );
    };
    for name in &remedies {
        let run = cmp.join(format!("{name}-seed0"));
        let metrics: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
        let out = focal(&[
            "eval",
            "--predictions",
            run.join("predictions.csv").to_str().unwrap(),
            "--json",
        ]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let eval: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        close(
            &eval["average_precision"],
            &metrics["test_pr_auc"],
            "PR-AUC",
            name,
        );
        close(&eval["roc_auc"], &metrics["test_roc_auc"], "ROC-AUC", name);
        let argmax = &metrics["rules"]["argmax"];
        close(
            &eval["balanced_accuracy"],
            &argmax["balanced_accuracy"],
            "balanced accuracy",
            name,
        );
        close(&eval["mcc"], &argmax["mcc"], "MCC", name);
        assert_eq!(
            eval["confusion_matrix"], argmax["confusion_matrix"],
            "{name}: confusion matrix"
        );
        // --threshold with the run's tuned threshold gives the tuned rule's decisions.
        let tuned = &metrics["rules"]["tuned"];
        let threshold = tuned["threshold"].as_f64().unwrap().to_string();
        let out = focal(&[
            "eval",
            "--predictions",
            run.join("predictions.csv").to_str().unwrap(),
            "--threshold",
            &threshold,
            "--class-names",
            "common,rare",
            "--json",
        ]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let eval: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            eval["confusion_matrix"], tuned["confusion_matrix"],
            "{name}: confusion matrix at the tuned threshold {threshold}"
        );
        close(
            &eval["mcc"],
            &tuned["mcc"],
            "MCC at the tuned threshold",
            name,
        );
    }
}

/// `eval --run` and `eval --predictions` print one JSON schema (the same keys at the top level
/// and in each decision) and, on the same run, the same figures: the run's argmax decision is
/// the file's argmax, its tuned decision the file judged at `--threshold`.
#[test]
fn eval_run_and_eval_predictions_share_one_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("d.csv");
    write_csv(&csv, 200);
    let out_dir = tmp.path().join("runs");
    let out = focal(&[
        "train",
        "--data",
        csv.to_str().unwrap(),
        "--epochs",
        "2",
        "--quiet",
        "--out",
        out_dir.to_str().unwrap(),
        "--name",
        "r",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let run = out_dir.join("r");
    let json = |args: &[&str]| -> serde_json::Value {
        let out = focal(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let by_run = json(&["eval", "--run", run.to_str().unwrap(), "--json"]);
    let predictions = run.join("predictions.csv");
    let by_file = json(&[
        "eval",
        "--predictions",
        predictions.to_str().unwrap(),
        "--class-names",
        "common,rare",
        "--json",
    ]);
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&by_run), keys(&by_file));
    assert_eq!(
        keys(&by_run["decisions"][0]),
        keys(&by_file["decisions"][0])
    );
    assert_eq!(by_run["source"], "run");
    assert_eq!(by_file["source"], "predictions");
    assert_eq!(by_run["classes"], by_file["classes"]);
    assert_eq!(by_run["positive"], by_file["positive"]);
    for key in ["average_precision", "roc_auc"] {
        let (a, b) = (
            by_run[key].as_f64().unwrap(),
            by_file[key].as_f64().unwrap(),
        );
        assert!((a - b).abs() <= 1e-9, "{key}: {a} vs {b}");
    }
    let decisions = by_run["decisions"].as_array().unwrap();
    assert_eq!(decisions[0]["rule"], "argmax");
    assert_eq!(
        decisions[0]["confusion_matrix"],
        by_file["confusion_matrix"]
    );
    let tuned = decisions.iter().find(|d| d["rule"] == "tuned").unwrap();
    let t = tuned["threshold"].as_f64().unwrap().to_string();
    let at_t = json(&[
        "eval",
        "--predictions",
        predictions.to_str().unwrap(),
        "--threshold",
        &t,
        "--json",
    ]);
    assert_eq!(at_t["rule"], "threshold");
    assert_eq!(at_t["confusion_matrix"], tuned["confusion_matrix"]);
    // The text has one block per decision, each named, then the source.
    let out = focal(&["eval", "--run", run.to_str().unwrap(), "--digits", "3"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("decision: argmax") && text.contains("decision: tuned"),
        "{text}"
    );
    assert!(text.contains("source: run "), "{text}");
    // The first line of output names the model the data chose: feature rows, an MLP.
    let out = focal(&[
        "train",
        "--data",
        csv.to_str().unwrap(),
        "--epochs",
        "1",
        "--out",
        out_dir.to_str().unwrap(),
        "--name",
        "m",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("model: mlp (the default for feature rows"),
        "{}",
        stderr(&out)
    );
}

/// Labels given as names and a single score column read as scikit-learn users write them.
#[test]
fn eval_reads_string_labels_and_a_single_score() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("p.csv");
    fs::write(
        &f,
        "y_true,score\nbenign,0.1\nmalignant,0.8\nbenign,0.6\nmalignant,0.4\nbenign,0.2\n",
    )
    .unwrap();
    let out = focal(&["eval", "--predictions", f.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["classes"], serde_json::json!(["benign", "malignant"]));
    assert_eq!(v["positive_name"], "malignant");
    assert_eq!(v["rule"], "argmax");
    // Decided at >= 0.5: one hit, one miss, one false alarm.
    assert_eq!(v["confusion_matrix"], serde_json::json!([[2, 1], [1, 1]]));
    // scikit-learn: average_precision_score([0,1,0,1,0], [.1,.8,.6,.4,.2]) = 0.8333...
    assert!((v["average_precision"].as_f64().unwrap() - 5.0 / 6.0).abs() < 1e-12);
    assert!((v["roc_auc"].as_f64().unwrap() - 5.0 / 6.0).abs() < 1e-12);
}
