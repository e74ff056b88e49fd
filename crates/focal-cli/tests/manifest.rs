//! Medical image sets as they ship: a CSV manifest of image paths, labels and patients, split
//! by patient, trained, and predicted on a manifest without labels.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use common::{focal, stderr};

/// 150 greyscale 8x8 PNGs in `dir/images/`, 3 per patient; one patient in five has the lesion
/// (a bright spot) on all their images. Returns the manifest's rows: (image as the manifest
/// names it, patient, label). Every other image is named without its extension.
fn write_images(dir: &Path) -> Vec<(String, String, String)> {
    let images = dir.join("images");
    fs::create_dir_all(&images).unwrap();
    let mut rows = Vec::new();
    for i in 0..150usize {
        let patient = i / 3;
        let lesion = patient % 5 == 0;
        let mut px = vec![0u8; 64];
        for (k, p) in px.iter_mut().enumerate() {
            *p = 60 + ((i * 31 + k * 17) % 50) as u8;
        }
        if lesion {
            for k in [18, 19, 26, 27] {
                px[(k + i % 3) % 64] = 220;
            }
        }
        let name = format!("scan_{i:03}");
        image::GrayImage::from_raw(8, 8, px)
            .unwrap()
            .save(images.join(format!("{name}.png")))
            .unwrap();
        let shown = if i % 2 == 0 {
            format!("images/{name}.png")
        } else {
            format!("images/{name}")
        };
        let label = if lesion { "lesion" } else { "normal" };
        rows.push((shown, format!("P{patient:02}"), label.to_string()));
    }
    rows
}

fn write_manifest(path: &Path, rows: &[(String, String, String)], labels: bool) {
    let mut s = String::from(if labels {
        "image,patient_id,target\n"
    } else {
        "image\n"
    });
    for (image, patient, label) in rows {
        if labels {
            s.push_str(&format!("{image},{patient},{label}\n"));
        } else {
            s.push_str(&format!("{image}\n"));
        }
    }
    fs::write(path, s).unwrap();
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_manifest_trains_split_by_patient_and_predicts_without_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = write_images(tmp.path());
    let manifest = tmp.path().join("train.csv");
    write_manifest(&manifest, &rows, true);
    let out = tmp.path().join("runs");
    let o = focal(&[
        "train",
        "--data",
        manifest.to_str().unwrap(),
        "--image-column",
        "image",
        "--label-column",
        "target",
        "--group-column",
        "patient_id",
        "--model",
        "cnn",
        "--epochs",
        "2",
        "--batch-size",
        "16",
        "--out",
        out.to_str().unwrap(),
        "--name",
        "m",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("positive class: lesion"), "{err}");
    assert!(err.contains("groups: train"), "{err}");
    let run = out.join("m");

    // No patient in two splits; split.json names each split's patients.
    let split = json(&run.join("split.json"));
    let groups = &split["groups"];
    let set = |k: &str| -> BTreeSet<String> {
        groups[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let (train, val, test) = (set("train"), set("val"), set("test"));
    assert!(!train.is_empty() && !val.is_empty() && !test.is_empty());
    assert!(train.is_disjoint(&val) && train.is_disjoint(&test) && val.is_disjoint(&test));
    assert_eq!(train.len() + val.len() + test.len(), 50);
    // Each split's samples are exactly its patients' images.
    let patient_of: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    for (k, want) in [("train", &train), ("val", &val), ("test", &test)] {
        let got: BTreeSet<String> = split[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| patient_of[i.as_u64().unwrap() as usize].to_string())
            .collect();
        assert_eq!(&got, want, "{k}");
    }
    let config = json(&run.join("config.json"));
    assert_eq!(config["task"]["image_column"], "image");
    assert_eq!(config["task"]["group_column"], "patient_id");
    assert_eq!(config["task"]["bit_depth"], 8);

    // The test images in a manifest without labels: predict gives the run's own probabilities,
    // each row named by the manifest's path.
    let test_rows: Vec<usize> = split["test"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let new: Vec<_> = test_rows.iter().map(|&i| rows[i].clone()).collect();
    let unlabelled = tmp.path().join("new.csv");
    write_manifest(&unlabelled, &new, false);
    let preds = tmp.path().join("p.csv");
    let o = focal(&[
        "predict",
        "--run",
        run.to_str().unwrap(),
        "--data",
        unlabelled.to_str().unwrap(),
        "--out",
        preds.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let own: BTreeMap<usize, Vec<String>> = fs::read_to_string(run.join("predictions.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<String> = l.split(',').map(str::to_string).collect();
            (c[0].parse().unwrap(), c[3..5].to_vec())
        })
        .collect();
    let lines: Vec<String> = fs::read_to_string(&preds)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines[0], "id,p_normal,p_lesion,prediction");
    assert_eq!(lines.len(), test_rows.len() + 1);
    for (line, &row) in lines[1..].iter().zip(&test_rows) {
        let c: Vec<&str> = line.split(',').collect();
        assert_eq!(c[0], rows[row].0, "the manifest's path names the row");
        assert_eq!(c[1..3], own[&row][..], "{line}");
    }
}

#[test]
fn a_broken_manifest_is_refused_naming_the_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rows = write_images(tmp.path());
    rows[7].0 = "images/missing_scan".to_string();
    let manifest = tmp.path().join("train.csv");
    write_manifest(&manifest, &rows, true);
    let out = tmp.path().join("runs");
    let base = [
        "train",
        "--data",
        manifest.to_str().unwrap(),
        "--label-column",
        "target",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    let args = |extra: &[&'static str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let run = |a: Vec<String>| focal(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let o = run(args(&["--image-column", "image"]));
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("line 9") && e.contains("`image`") && e.contains("missing_scan"),
        "{e}"
    );
    assert!(e.contains("--image-root"), "the fix names the flag: {e}");
    assert!(!out.exists(), "nothing written");
    // A column that is not there names the columns that are.
    let o = run(args(&["--image-column", "path"]));
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("`path`") && e.contains("image, patient_id, target"),
        "{e}"
    );
    assert!(e.contains("--image-column"), "{e}");
    // Splits of exact sizes draw images one by one: refused with groups.
    let o = run(args(&[
        "--image-column",
        "image",
        "--group-column",
        "patient_id",
        "--positive",
        "lesion",
        "--ratio",
        "9:1",
        "--train-size",
        "50",
        "--val-size",
        "20",
        "--test-size",
        "20",
    ]));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--train-size"), "{}", stderr(&o));
}

#[test]
fn a_frame_of_a_multi_frame_dicom_file_loads_and_inspect_describes_the_dicom() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/dicom/multi-frame");
    let o = focal(&[
        "data",
        "inspect",
        "--data",
        dir.to_str().unwrap(),
        "--dicom-frame",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("dicom:") && text.contains("3 frames"),
        "{text}"
    );
    assert!(text.contains("bits stored"), "{text}");
}
