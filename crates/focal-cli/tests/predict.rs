//! `focal predict`: a trained run on new images gives the probabilities of its own
//! predictions.csv; wrong inputs are refused naming the file and what the run expects.

mod common;
use std::fs;
use std::path::{Path, PathBuf};

use common::{focal, stderr, write_csv};

/// A two-class folder of greyscale PNGs in two sizes: `common` (40, darker, a gradient) and
/// `rare` (12, brighter). File names carry the class, so that copies keep it.
fn write_folder(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for (class, n, base) in [("common", 40u32, 40u8), ("rare", 12, 150)] {
        let dir = root.join(class);
        fs::create_dir_all(&dir).unwrap();
        for i in 0..n {
            let (w, h) = if i % 2 == 0 { (20, 20) } else { (24, 18) };
            let img = image::GrayImage::from_fn(w, h, |x, y| {
                image::Luma([base.wrapping_add(((x * 3 + y * 5 + i * 7) % 60) as u8)])
            });
            let path = dir.join(format!("{class}_{i:03}.png"));
            img.save(&path).unwrap();
            files.push(path);
        }
    }
    // The loader's order: class folders by name, files by name.
    files.sort();
    files
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    (header, rows)
}

#[test]
fn predict_on_new_images_matches_the_runs_own_test_predictions() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("scans");
    let files = write_folder(&data);
    let out = tmp.path().join("runs");
    let o = focal(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--model",
        "mlp",
        "--image-size",
        "12x10",
        "--epochs",
        "2",
        "--batch-size",
        "8",
        "--out",
        out.to_str().unwrap(),
        "--name",
        "r",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let run = out.join("r");
    let config: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["task"]["image_size"], serde_json::json!([12, 10]));
    assert_eq!(
        config["preprocessing"]["sample"],
        serde_json::json!({"type": "image", "channels": 1, "height": 10, "width": 12})
    );

    // The test split's images, copied into a flat folder (no class folders).
    let split: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(run.join("split.json")).unwrap()).unwrap();
    let test: Vec<usize> = split["test"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    assert!(test.len() >= 5, "{test:?}");
    let new = tmp.path().join("new");
    fs::create_dir(&new).unwrap();
    for &i in &test {
        fs::copy(&files[i], new.join(files[i].file_name().unwrap())).unwrap();
    }
    let preds = tmp.path().join("preds.csv");
    let o = focal(&[
        "predict",
        "--run",
        run.to_str().unwrap(),
        "--data",
        new.to_str().unwrap(),
        "--out",
        preds.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("rule tuned threshold"),
        "{}",
        stderr(&o)
    );
    let (header, rows) = read_csv(&preds);
    assert_eq!(header, vec!["id", "p_common", "p_rare", "prediction"]);
    assert_eq!(rows.len(), test.len());
    let (own_header, own) = read_csv(&run.join("predictions.csv"));
    assert_eq!(own_header, vec!["id", "y_true", "y_pred", "p_0", "p_1"]);
    let metrics: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    let threshold = metrics["tuned"]["threshold"].as_f64().unwrap();
    for row in &rows {
        let name = Path::new(&row[0]).file_name().unwrap();
        let i = test
            .iter()
            .copied()
            .find(|&i| files[i].file_name().unwrap() == name)
            .unwrap_or_else(|| panic!("{} is not a test image", row[0]));
        // predictions.csv names the sample by its row in the folder (the loader's order).
        let theirs = own
            .iter()
            .find(|r| r[0] == i.to_string())
            .unwrap_or_else(|| panic!("sample {i} is not in predictions.csv"));
        // Both files write the f32 exactly: equal text is equal probability.
        assert_eq!(row[1..3], theirs[3..5], "{}", row[0]);
        let p_rare: f64 = row[2].parse().unwrap();
        let expected = if p_rare >= threshold {
            "rare"
        } else {
            "common"
        };
        assert_eq!(row[3], expected, "{row:?} at threshold {threshold}");
    }

    // One file alone, at a given threshold and batch size.
    let one = new.join(files[test[0]].file_name().unwrap());
    let single = tmp.path().join("single.csv");
    let o = focal(&[
        "predict",
        "--run",
        run.to_str().unwrap(),
        "--data",
        one.to_str().unwrap(),
        "--out",
        single.to_str().unwrap(),
        "--rule",
        "0",
        "--batch-size",
        "1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (_, rows1) = read_csv(&single);
    assert_eq!(rows1.len(), 1);
    assert_eq!(rows1[0][0], one.display().to_string());
    assert_eq!(rows1[0][3], "rare", "threshold 0 takes the positive class");

    // The labelled class folder, judged.
    let o = focal(&[
        "predict",
        "--run",
        run.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--out",
        tmp.path().join("all.csv").to_str().unwrap(),
        "--rule",
        "argmax",
        "--eval",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("precision") && stdout.contains("rare") && stdout.contains("support"),
        "{stdout}"
    );
    assert_eq!(read_csv(&tmp.path().join("all.csv")).1.len(), files.len());

    // Wrong inputs: a clear error naming the file and what the run expects; no panic.
    let csv = tmp.path().join("rows.csv");
    write_csv(&csv, 10);
    let red = tmp.path().join("red.png");
    image::RgbImage::from_pixel(5, 5, image::Rgb([255, 0, 0]))
        .save(&red)
        .unwrap();
    let cases: [(Vec<&str>, &[&str]); 4] = [
        (
            vec!["--data", csv.to_str().unwrap()],
            &["rows.csv", "the run expects greyscale images of 12x10"],
        ),
        (
            vec!["--data", red.to_str().unwrap()],
            &["red.png", "colour", "greyscale"],
        ),
        (
            vec!["--data", new.to_str().unwrap(), "--eval"],
            &["--eval", "no labels"],
        ),
        (
            vec!["--data", new.to_str().unwrap(), "--rule", "1.5"],
            &["--rule 1.5"],
        ),
    ];
    for (extra, needles) in cases {
        let mut args = vec!["predict", "--run", run.to_str().unwrap(), "--out"];
        let bad = tmp.path().join("bad.csv");
        args.push(bad.to_str().unwrap());
        args.extend(extra.iter().copied());
        let o = focal(&args);
        assert!(!o.status.success(), "{args:?} succeeded");
        let e = stderr(&o);
        assert!(!e.contains("panicked"), "{e}");
        for n in needles {
            assert!(e.contains(n), "{args:?}: {e}");
        }
        assert!(!bad.exists(), "{args:?} wrote its output");
    }
}

#[test]
fn predict_on_a_csv_run_takes_rows_with_or_without_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("blobs.csv");
    write_csv(&csv, 200);
    let out = tmp.path().join("runs");
    let o = focal(&[
        "train",
        "--data",
        csv.to_str().unwrap(),
        "--positive",
        "rare",
        "--model",
        "mlp",
        "--epochs",
        "1",
        "--calibrate",
        "none",
        "--out",
        out.to_str().unwrap(),
        "--name",
        "r",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let run = out.join("r");
    // Without the label column.
    let text = fs::read_to_string(&csv).unwrap();
    let bare: String = text
        .lines()
        .take(6)
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect();
    let bare_path = tmp.path().join("bare.csv");
    fs::write(&bare_path, bare).unwrap();
    let preds = tmp.path().join("p.csv");
    let o = focal(&[
        "predict",
        "--run",
        run.to_str().unwrap(),
        "--data",
        bare_path.to_str().unwrap(),
        "--out",
        preds.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (header, rows) = read_csv(&preds);
    // Two source classes: the task's negative class keeps its name.
    assert_eq!(header, vec!["id", "p_common", "p_rare", "prediction"]);
    assert_eq!(
        rows.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(),
        ["0", "1", "2", "3", "4"]
    );
    // With it, judged: the source's classes map onto the run's binary task.
    let o = focal(&[
        "predict",
        "--run",
        run.to_str().unwrap(),
        "--data",
        csv.to_str().unwrap(),
        "--out",
        preds.to_str().unwrap(),
        "--eval",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("common") && stdout.contains("support"),
        "{stdout}"
    );
    // A wrong feature count names the file and the count the run expects.
    let three = tmp.path().join("three.csv");
    fs::write(&three, "a,b,c\n1,2,3\n").unwrap();
    let o = focal(&[
        "predict",
        "--run",
        run.to_str().unwrap(),
        "--data",
        three.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("three.csv") && e.contains("4 features"), "{e}");

    // --logits: the logits beside the probabilities, which are their softmax.
    let o = focal(&[
        "predict",
        "--run",
        run.to_str().unwrap(),
        "--data",
        bare_path.to_str().unwrap(),
        "--out",
        preds.to_str().unwrap(),
        "--logits",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (header, rows) = read_csv(&preds);
    assert_eq!(
        header,
        [
            "id",
            "p_common",
            "p_rare",
            "logit_common",
            "logit_rare",
            "prediction"
        ]
    );
    for row in &rows {
        let v: Vec<f64> = row[1..5].iter().map(|c| c.parse().unwrap()).collect();
        let p_rare = 1.0 / (1.0 + (v[2] - v[3]).exp());
        assert!((p_rare - v[1]).abs() < 1e-6, "{row:?}");
    }

    // Export: safetensors in PyTorch's layout with its sidecar, and Burn's record.
    let file = tmp.path().join("out").join("mlp.safetensors");
    let o = focal(&[
        "export",
        "--run",
        run.to_str().unwrap(),
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let side: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(tmp.path().join("out").join("mlp.safetensors.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(side["model"], "mlp");
    assert_eq!(side["class_names"], serde_json::json!(["common", "rare"]));
    assert_eq!(side["input"]["sample"]["n_features"], 4);
    assert_eq!(side["input"]["normalization"], "training-split");
    assert!(side["layout"].as_str().unwrap().contains("[out, in]"));
    let metrics: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(side["threshold"], metrics["tuned"]["threshold"]);
    let fc1 = side["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "fc1.weight")
        .unwrap();
    assert_eq!(
        fc1["shape"],
        serde_json::json!([128, 4]),
        "PyTorch's [out, in]"
    );
    let bytes = fs::read(&file).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let head: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    assert_eq!(head["fc1.weight"]["shape"], serde_json::json!([128, 4]));
    let o = focal(&["export", "--run", run.to_str().unwrap(), "--format", "burn"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(run.join("model.bpk").is_file() && run.join("model.bpk.json").is_file());
    // A format it does not write, and a folder that is no run: refused by name.
    let o = focal(&["export", "--run", run.to_str().unwrap(), "--format", "onnx"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--format"), "{}", stderr(&o));
    let o = focal(&["export", "--run", tmp.path().to_str().unwrap()]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("--run") && !e.contains("panicked"), "{e}");
}

/// Writes `n` greyscale `side`x`side` images of three classes as an IDX pair
/// (`toy-images-idx3-ubyte`, `toy-labels-idx1-ubyte`) in `dir`; returns the images' path and
/// the pixels of each image.
fn write_idx(dir: &Path, n: usize, side: usize) -> (PathBuf, Vec<Vec<u8>>) {
    let mut images = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let label = (i % 3) as u8;
        let px: Vec<u8> = (0..side * side)
            .map(|k| {
                let base = 30 + 70 * u32::from(label);
                (base + ((k * 13 + i * 29) % 61) as u32) as u8
            })
            .collect();
        images.push(px);
        labels.push(label);
    }
    let mut img_bytes = vec![0, 0, 8, 3];
    for d in [n, side, side] {
        img_bytes.extend_from_slice(&(d as u32).to_be_bytes());
    }
    img_bytes.extend(images.iter().flatten());
    let mut label_bytes = vec![0, 0, 8, 1];
    label_bytes.extend_from_slice(&(n as u32).to_be_bytes());
    label_bytes.extend(&labels);
    let path = dir.join("toy-images-idx3-ubyte");
    fs::write(&path, img_bytes).unwrap();
    fs::write(dir.join("toy-labels-idx1-ubyte"), label_bytes).unwrap();
    (path, images)
}

/// The issue's "done when": 20 test images of a trained task, written as PNG files named by
/// their id in predictions.csv (the row of the source), give the very same probabilities
/// under `focal predict`. The task subsamples the source (a ratio), so ids are source rows,
/// not positions in the task.
#[test]
fn twenty_test_images_as_png_files_predict_exactly_as_predictions_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let (idx, images) = write_idx(tmp.path(), 300, 12);
    let out = tmp.path().join("runs");
    let o = focal(&[
        "train",
        "--data",
        idx.to_str().unwrap(),
        "--positive",
        "2",
        "--ratio",
        "4:1",
        "--model",
        "mlp",
        "--epochs",
        "1",
        "--calibrate",
        "temperature",
        "--out",
        out.to_str().unwrap(),
        "--name",
        "r",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let run = out.join("r");
    let (_, own) = read_csv(&run.join("predictions.csv"));
    assert!(own.len() >= 20, "{} test samples", own.len());
    // Temperature scaling was fitted, applied, and reported before and after.
    let metrics: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    let cal = &metrics["calibration"];
    let t = cal["temperature"].as_f64().unwrap();
    assert!(t > 0.0 && t.is_finite() && (t - 1.0).abs() > 1e-3, "{cal}");
    assert_eq!(cal["applied"], true);
    for k in [
        "val_ece_before",
        "val_ece_after",
        "test_ece_before",
        "test_ece_after",
        "test_brier_before",
        "test_brier_after",
    ] {
        assert!(cal[k].as_f64().is_some(), "{k}: {cal}");
    }
    assert_eq!(metrics["test_brier"], cal["test_brier_after"]);
    assert!(run.join("curves/calibration_uncalibrated.csv").is_file());
    let html = fs::read_to_string(run.join("report.html")).unwrap();
    assert!(
        html.contains("reliability diagram") && html.contains("before calibration"),
        "report.html has no reliability diagram"
    );
    assert!(
        fs::read_to_string(run.join("report.txt"))
            .unwrap()
            .contains("calibration: temperature")
    );
    let pngs = tmp.path().join("pngs");
    fs::create_dir(&pngs).unwrap();
    for row in &own[..20] {
        let id: usize = row[0].parse().unwrap();
        image::GrayImage::from_raw(12, 12, images[id].clone())
            .unwrap()
            .save(pngs.join(format!("{id}.png")))
            .unwrap();
    }
    // The source's own labels agree with the ids: label 1 (the positive) only for class 2.
    for row in &own {
        let id: usize = row[0].parse().unwrap();
        assert_eq!(row[1] == "1", id % 3 == 2, "{row:?}");
    }
    let preds = tmp.path().join("p.csv");
    let o = focal(&[
        "predict",
        "--run",
        run.to_str().unwrap(),
        "--data",
        pngs.to_str().unwrap(),
        "--out",
        preds.to_str().unwrap(),
        "--batch-size",
        "7",
        "--logits",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (_, rows) = read_csv(&preds);
    assert_eq!(rows.len(), 20);
    for row in &rows {
        let id = Path::new(&row[0]).file_stem().unwrap().to_str().unwrap();
        let theirs = own.iter().find(|r| r[0] == id).unwrap();
        assert_eq!(row[1..3], theirs[3..5], "image {id}");
        // The probabilities are softmax(logits / T).
        let v: Vec<f64> = row[1..5].iter().map(|c| c.parse().unwrap()).collect();
        let p1 = 1.0 / (1.0 + ((v[2] - v[3]) / t).exp());
        assert!((p1 - v[1]).abs() < 1e-5, "image {id}: {v:?} at T {t}");
    }
    // The export's sidecar carries the temperature.
    let o = focal(&["export", "--run", run.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let side: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(run.join("model.safetensors.json")).unwrap())
            .unwrap();
    assert_eq!(side["temperature"].as_f64(), Some(t));
}
