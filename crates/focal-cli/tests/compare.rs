//! `focal compare`, `focal sweep`, `focal report`: every file written, the table computed from
//! the per-seed numbers, the HTML well formed.

mod common;
use common::{focal, stderr, write_csv};

use serde_json::Value;

/// Parses `html` as XML (the report is written XHTML-compatible) and returns the number of
/// elements named `name`.
fn count_elements(html: &str, name: &str) -> usize {
    let mut reader = quick_xml::Reader::from_str(html);
    reader.config_mut().check_end_names = true;
    let mut n = 0;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) | Ok(quick_xml::events::Event::Empty(e)) => {
                if e.name().as_ref() == name.as_bytes() {
                    n += 1;
                }
            }
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!(
                "report.html does not parse at {}: {e}",
                reader.buffer_position()
            ),
        }
    }
    n
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

#[test]
fn compare_two_remedies_two_seeds_writes_everything_and_tabulates_the_seeds() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("blobs.csv");
    write_csv(&csv, 300);
    let out = tmp.path().join("cmp");
    let o = focal(&[
        "compare",
        "--data",
        csv.to_str().unwrap(),
        "--positive",
        "rare",
        "--model",
        "mlp",
        "--remedies",
        "ce,focal",
        "--seeds",
        "2",
        "--epochs",
        "2",
        "--batch-size",
        "16",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    for f in ["comparison.md", "comparison.json", "report.html"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    for run in ["ce-seed0", "ce-seed1", "focal-seed0", "focal-seed1"] {
        for f in [
            "config.json",
            "split.json",
            "history.csv",
            "metrics.json",
            "report.txt",
            "report.html",
            "predictions.csv",
            "curves/pr.csv",
            "curves/roc.csv",
            "curves/calibration.csv",
        ] {
            assert!(out.join(run).join(f).is_file(), "{run}/{f} missing");
        }
    }
    // Every run saw the same split.
    let split = |r: &str| std::fs::read_to_string(out.join(r).join("split.json")).unwrap();
    assert_eq!(split("ce-seed0"), split("focal-seed1"));

    // The cells are mean ± std of the per-seed numbers in comparison.json.
    let cmp: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("comparison.json")).unwrap())
            .unwrap();
    let md = std::fs::read_to_string(out.join("comparison.md")).unwrap();
    assert!(stdout.contains(md.lines().find(|l| l.starts_with("| ce")).unwrap()));
    for entry in cmp["entries"].as_array().unwrap() {
        let label = entry["label"].as_str().unwrap();
        let seeds = entry["seeds"].as_array().unwrap();
        assert_eq!(seeds.len(), 2);
        let recall: Vec<f64> = seeds
            .iter()
            .map(|s| s["rules"]["argmax"]["minority_recall"].as_f64().unwrap())
            .collect();
        let pr_auc: Vec<f64> = seeds
            .iter()
            .map(|s| s["pr_auc"].as_f64().unwrap())
            .collect();
        let row = md
            .lines()
            .find(|l| l.starts_with(&format!("| {label} |")))
            .unwrap_or_else(|| panic!("no row for {label} in\n{md}"));
        let cells: Vec<String> = row
            .split('|')
            .map(|c| c.trim().trim_matches('*').to_string())
            .collect();
        // cells: "", label, accuracy, recall, precision, F1, PR-AUC, ...
        let (m, s) = mean_std(&recall);
        assert_eq!(cells[3], format!("{m:.3} ± {s:.3}"), "{row}");
        let (m, s) = mean_std(&pr_auc);
        // PR-AUC carries the seeds' mean bootstrap interval after mean ± std.
        assert!(cells[6].starts_with(&format!("{m:.3} ± {s:.3} [")), "{row}");
    }

    // The HTML is well formed and holds both tables with every remedy.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(count_elements(&html, "table"), 2);
    assert!(count_elements(&html, "svg") >= 5);
    assert!(html.contains("<td>ce</td>") && html.contains("<td>focal</td>"));

    // `focal report` rebuilds the same report from the files; a run folder works too.
    std::fs::remove_file(out.join("report.html")).unwrap();
    let o = focal(&["report", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(out.join("report.html")).unwrap(),
        html
    );
    let o = focal(&["report", out.join("ce-seed0").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));

    // Checkpoints are the large part of a run folder: with them deleted the history comes from
    // history.csv, and the rebuilt comparison and report are the same.
    let json = std::fs::read_to_string(out.join("comparison.json")).unwrap();
    for run in ["ce-seed0", "ce-seed1", "focal-seed0", "focal-seed1"] {
        std::fs::remove_dir_all(out.join(run).join("checkpoint")).unwrap();
    }
    std::fs::remove_file(out.join("report.html")).unwrap();
    let o = focal(&["report", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(out.join("comparison.json")).unwrap(),
        json
    );
    assert_eq!(
        std::fs::read_to_string(out.join("report.html")).unwrap(),
        html
    );

    // An experiment folder is never overwritten.
    let o = focal(&[
        "compare",
        "--data",
        csv.to_str().unwrap(),
        "--positive",
        "rare",
        "--model",
        "mlp",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("already holds an experiment"),
        "{}",
        stderr(&o)
    );
}

/// `(ids, y_true, p_1)` of a run's predictions file.
fn read_p1(path: &std::path::Path) -> (Vec<String>, Vec<usize>, Vec<f64>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = (Vec::new(), Vec::new(), Vec::new());
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        out.0.push(f[0].to_string());
        out.1.push(f[1].parse().unwrap());
        out.2.push(f[4].parse::<f32>().unwrap() as f64);
    }
    out
}

/// scikit-learn's average precision, and the best-F1 threshold (predict `s >= t`), by brute
/// force over the distinct scores.
fn ap_and_best_threshold(y: &[usize], s: &[f64]) -> (f64, f64) {
    let mut t: Vec<f64> = s.to_vec();
    t.sort_by(|a, b| b.total_cmp(a));
    t.dedup();
    let pos = y.iter().filter(|&&c| c == 1).count() as f64;
    let (mut ap, mut last_recall, mut best) = (0.0, 0.0, (-1.0, 0.0));
    for &th in &t {
        let tp = (0..y.len()).filter(|&i| s[i] >= th && y[i] == 1).count() as f64;
        let fp = (0..y.len()).filter(|&i| s[i] >= th && y[i] == 0).count() as f64;
        let recall = tp / pos;
        ap += (recall - last_recall) * tp / (tp + fp);
        last_recall = recall;
        let f1 = 2.0 * tp / (tp + fp + pos);
        if f1 > best.0 {
            best = (f1, th);
        }
    }
    (ap, best.1)
}

#[test]
fn an_ensemble_is_the_average_of_its_seeds_probabilities_judged_as_one_model() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("blobs.csv");
    write_csv(&csv, 300);
    let out = tmp.path().join("cmp");
    let o = focal(&[
        "compare",
        "--data",
        csv.to_str().unwrap(),
        "--positive",
        "rare",
        "--model",
        "mlp",
        "--remedies",
        "ce",
        "--seeds",
        "2",
        "--ensemble",
        "2",
        "--epochs",
        "2",
        "--batch-size",
        "16",
        "--calibrate",
        "none",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let cmp: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("comparison.json")).unwrap())
            .unwrap();
    let entries = cmp["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1]["label"], "ce (ensemble of 2)");
    assert_eq!(entries[1]["ensemble_of"], 2);
    assert_eq!(entries[1]["seeds"].as_array().unwrap().len(), 1);
    let ens = &entries[1]["seeds"][0];
    assert_eq!(ens["run_dir"], "ce-seed0+ce-seed1");

    // The average of the two runs' probabilities, by hand.
    let average = |file: &str| {
        let (ids0, y0, p0) = read_p1(&out.join("ce-seed0").join(file));
        let (ids1, y1, p1) = read_p1(&out.join("ce-seed1").join(file));
        assert_eq!(
            (&ids0, &y0),
            (&ids1, &y1),
            "{file}: the seeds share one split"
        );
        assert_ne!(p0, p1, "{file}: two seeds, two models");
        let p: Vec<f64> = p0
            .iter()
            .zip(&p1)
            .map(|(a, b)| f64::from(((*a as f32) + (*b as f32)) / 2.0))
            .collect();
        (y0, p)
    };
    let (y_val, p_val) = average("val_predictions.csv");
    let (y_test, p_test) = average("predictions.csv");
    let (ap, _) = ap_and_best_threshold(&y_test, &p_test);
    assert!(
        (ens["pr_auc"].as_f64().unwrap() - ap).abs() < 1e-9,
        "{ens} against AP {ap}"
    );
    let (_, threshold) = ap_and_best_threshold(&y_val, &p_val);
    let tuned = &ens["rules"]["tuned"];
    assert!(
        (tuned["threshold"].as_f64().unwrap() - threshold).abs() < 1e-6,
        "{tuned} against {threshold}"
    );
    let tp = (0..y_test.len())
        .filter(|&i| p_test[i] >= threshold && y_test[i] == 1)
        .count() as f64;
    let predicted = p_test.iter().filter(|&&p| p >= threshold).count() as f64;
    let positives = y_test.iter().filter(|&&c| c == 1).count() as f64;
    let f1 = 2.0 * tp / (predicted + positives);
    assert!((tuned["minority_f1"].as_f64().unwrap() - f1).abs() < 1e-9);
    // Its time is both trainings'.
    let t: f64 = entries[0]["seeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["time_per_epoch_s"].as_f64().unwrap())
        .sum();
    assert!((ens["time_per_epoch_s"].as_f64().unwrap() - t).abs() < 1e-9);

    // A row of its own in the table, and the legend says what it is.
    let md = std::fs::read_to_string(out.join("comparison.md")).unwrap();
    assert!(md.contains("| ce (ensemble of 2) |"), "{md}");
    assert!(md.contains("An ensemble row averages"), "{md}");
    assert!(md.contains("one value, no ±"), "{md}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("ce (ensemble of 2)"));

    // `focal report` gathers the same comparison from the folders (plan.json keeps K).
    let before = std::fs::read_to_string(out.join("comparison.json")).unwrap();
    std::fs::remove_file(out.join("comparison.json")).unwrap();
    let o = focal(&["report", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(out.join("comparison.json")).unwrap(),
        before
    );
}

#[test]
fn sweep_gamma_then_alpha_chooses_on_validation() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("blobs.csv");
    write_csv(&csv, 250);
    let out = tmp.path().join("sweep");
    let o = focal(&[
        "sweep",
        "--data",
        csv.to_str().unwrap(),
        "--positive",
        "rare",
        "--model",
        "mlp",
        "--gamma",
        "0,2",
        "--then-alpha",
        "0.25,auto",
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let cmp: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("comparison.json")).unwrap())
            .unwrap();
    let entries = cmp["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 4, "two gammas, then two alphas");
    let stages = cmp["sweep"]["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 2);
    // The chosen gamma is the one with the best validation PR-AUC, and the alpha stage uses it.
    let val = |e: &Value| e["seeds"][0]["val_pr_auc"].as_f64().unwrap();
    let best = if val(&entries[1]) > val(&entries[0]) {
        1
    } else {
        0
    };
    let chosen = stages[0]["chosen"].as_str().unwrap();
    assert_eq!(chosen, entries[best]["label"].as_str().unwrap());
    assert!(
        entries[2]["label"].as_str().unwrap().starts_with(chosen),
        "{cmp}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(count_elements(&html, "table") >= 1);
}

#[test]
fn bad_experiment_flags_fail_before_reading_data() {
    for (args, needle) in [
        (vec!["--remedies", "ce,nope"], "nope"),
        (vec!["--remedies", "ce,ce"], "twice"),
        (vec!["--seeds", "0"], "--seeds"),
        (vec!["--seeds", "2", "--ensemble", "3"], "--ensemble 3"),
        (vec!["--seeds", "2", "--ensemble", "1"], "--ensemble 1"),
        (
            vec!["--seeds", "3", "--ensemble", "2"],
            "a multiple of K (it is 3)",
        ),
        (vec!["--train-size", "10"], "--val-size"),
    ] {
        let mut all = vec!["compare", "--data", "/nonexistent/data.csv"];
        all.extend(args.iter().copied());
        let o = focal(&all);
        assert!(!o.status.success(), "{args:?} succeeded");
        let e = stderr(&o);
        assert!(e.contains(needle), "{args:?}: {e}");
        assert!(!e.contains("panicked"), "{args:?}: {e}");
    }
    let o = focal(&["sweep", "--gamma", "1,-2", "--data", "/nonexistent.csv"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--gamma"), "{}", stderr(&o));
    let o = focal(&["report", "/nonexistent/dir"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("neither a run folder"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn exact_split_sizes_are_drawn_at_the_ratio_and_the_runs_can_be_re_evaluated() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("blobs.csv");
    write_csv(&csv, 400);
    let out = tmp.path().join("sizes");
    let o = focal(&[
        "compare",
        "--data",
        csv.to_str().unwrap(),
        "--positive",
        "rare",
        "--ratio",
        "4:1",
        "--train-size",
        "200",
        "--val-size",
        "100",
        "--test-size",
        "100",
        "--model",
        "mlp",
        "--remedies",
        "ce",
        "--epochs",
        "1",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let cmp: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("comparison.json")).unwrap())
            .unwrap();
    // 4:1 of 200 / 100 / 100: exactly 160:40, 80:20, 80:20 (the whole pool).
    assert_eq!(
        cmp["task"]["counts"],
        serde_json::json!([[160, 40], [80, 20], [80, 20]])
    );
    let run = out.join("ce-seed0");
    let o = focal(&[
        "eval",
        "--run",
        run.to_str().unwrap(),
        "--data",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("decision: argmax"), "{text}");
    assert!(text.contains("decision: tuned"), "{text}");
    // More than the pool holds is an error naming the counts.
    let o = focal(&[
        "compare",
        "--data",
        csv.to_str().unwrap(),
        "--positive",
        "rare",
        "--ratio",
        "1:1",
        "--train-size",
        "300",
        "--val-size",
        "100",
        "--test-size",
        "100",
        "--model",
        "mlp",
        "--out",
        tmp.path().join("too-big").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("the pool has 80"), "{}", stderr(&o));
}
