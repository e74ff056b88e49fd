//! Manifests (a CSV of image paths and labels), groups, and 16-bit images.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use focal_data::{
    DataError, DataFormat, InputOptions, LoadOptions, Probe, SampleKind, SplitFractions, Values,
    load, load_inputs, probe_with,
};

/// A folder `root` of class folders `benign` (4 images) and `malignant` (2), 8x8 greyscale,
/// each image its own value.
fn class_folder(root: &Path) -> Vec<(String, &'static str)> {
    let mut rows = Vec::new();
    for (class, n) in [("benign", 4), ("malignant", 2)] {
        fs::create_dir_all(root.join(class)).unwrap();
        for i in 0..n {
            let name = format!("{class}/img_{i}.png");
            write_png_gray(&root.join(&name), 8, 8, (i * 40 + 10) as u8);
            rows.push((name, class));
        }
    }
    rows
}

fn manifest_opts(image: &str, label: &str) -> LoadOptions {
    LoadOptions {
        image_column: Some(image.into()),
        label_column: Some(label.into()),
        ..LoadOptions::default()
    }
}

#[test]
fn a_manifest_loads_the_same_values_as_the_class_folders() {
    let d = tempfile::tempdir().unwrap();
    let rows = class_folder(d.path());
    let mut csv = String::from("image,patient,diagnosis\n");
    for (i, (name, class)) in rows.iter().enumerate() {
        csv.push_str(&format!("{name},p{},{class}\n", i / 2));
    }
    fs::write(d.path().join("train.csv"), csv).unwrap();
    let folder = load(d.path(), &LoadOptions::default()).unwrap();
    let m = load(
        &d.path().join("train.csv"),
        &manifest_opts("image", "diagnosis"),
    )
    .unwrap();
    assert_eq!(m.format, DataFormat::Manifest);
    assert_eq!(m.format.name(), "manifest");
    assert_eq!(m.class_names, folder.class_names);
    assert_eq!((&m.x, &m.y, m.kind), (&folder.x, &folder.y, folder.kind));
    assert!(matches!(m.x, Values::Pixels(_)), "8-bit images stay bytes");
    assert_eq!(m.bit_depth(), Some(8));
    let ids = m.ids.clone().unwrap();
    assert_eq!(ids[0], "benign/img_0.png");
    assert!(m.groups.is_none());
    // Without an image column the same CSV is feature rows (and refused: text features).
    let rows_err = load(&d.path().join("train.csv"), &LoadOptions::default()).unwrap_err();
    assert!(
        matches!(rows_err, DataError::CsvNotNumeric { .. }),
        "{rows_err}"
    );
    // The default label column of a manifest: the last column beside image and group.
    let defaulted = load(
        &d.path().join("train.csv"),
        &LoadOptions {
            image_column: Some("image".into()),
            group_column: Some("patient".into()),
            ..LoadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(defaulted.class_names, ["benign", "malignant"]);
    assert_eq!(
        defaulted.groups.as_deref().unwrap(),
        ["p0", "p0", "p1", "p1", "p2", "p2"]
    );
    // A probe with the same options sees images.
    assert_eq!(
        probe_with(
            &d.path().join("train.csv"),
            &manifest_opts("image", "diagnosis")
        )
        .unwrap(),
        Probe::Images {
            width: 8,
            height: 8
        }
    );
}

#[test]
fn names_without_an_extension_are_found_and_paths_are_relative_to_the_root() {
    let d = tempfile::tempdir().unwrap();
    let images = d.path().join("jpeg");
    fs::create_dir_all(&images).unwrap();
    // ISIC's layout: `image_name` without extension, `target` 0/1, images elsewhere.
    for (i, v) in [20u8, 200, 90].iter().enumerate() {
        write_png_rgb(&images.join(format!("ISIC_{i}.png")), 6, 4, [*v, 10, 10]);
    }
    write_png_gray(&images.join("ISIC_9.PNG"), 6, 4, 7);
    fs::write(images.join("ISIC_5.jpg.png"), b"").unwrap();
    let csv = d.path().join("meta").join("train.csv");
    fs::create_dir_all(csv.parent().unwrap()).unwrap();
    fs::write(
        &csv,
        "image_name,patient_id,target\nISIC_0,IP_1,0\nISIC_1,IP_2,1\nISIC_2,IP_1,0\nISIC_9,IP_3,0\n",
    )
    .unwrap();
    let opts = LoadOptions {
        image_column: Some("image_name".into()),
        label_column: Some("target".into()),
        image_root: Some(images.clone()),
        ..LoadOptions::default()
    };
    let ds = load(&csv, &opts).unwrap();
    assert_eq!(ds.n_samples(), 4);
    assert_eq!(ds.class_names, ["0", "1"]);
    assert_eq!(ds.y, [0, 1, 0, 0]);
    assert_eq!(
        ds.kind,
        SampleKind::Image {
            channels: 3,
            height: 4,
            width: 6
        }
    );
    assert_eq!(ds.ids.as_deref().unwrap()[3], "ISIC_9");
    // With a suffix only that suffix is tried: ISIC_9 has none `.png`, in upper case.
    let e = load(
        &csv,
        &LoadOptions {
            image_suffix: Some(".png".into()),
            ..opts.clone()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("line 5") && e.contains("`image_name`") && e.contains("ISIC_9.png"),
        "{e}"
    );
    // Without the root, the paths are relative to the CSV's folder, and every extension is
    // tried and listed.
    let e = load(
        &csv,
        &LoadOptions {
            image_root: None,
            ..opts
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("line 2") && e.contains("no image `ISIC_0`") && e.contains("ISIC_0.jpg"),
        "{e}"
    );
    assert!(e.contains("image_root"), "the fix is named: {e}");
}

#[test]
fn bad_cells_name_the_file_line_and_column() {
    let d = tempfile::tempdir().unwrap();
    class_folder(d.path());
    fs::write(
        d.path().join("corrupt.png"),
        b"\x89PNG\r\n\x1a\n not really",
    )
    .unwrap();
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "path,y\nbenign/img_0.png,a\n",
            "image",
            &[
                "no column `image` for the image_column",
                "the columns are: path, y",
            ],
        ),
        (
            "image,y\nbenign/img_0.png,a\n,b\n",
            "image",
            &["line 3", "column `image`", "image path is empty"],
        ),
        (
            "image,y\nbenign/img_0.png,a\nbenign/img_1.png,\n",
            "image",
            &["line 3", "column `y`", "label is empty"],
        ),
        (
            "image,y\nbenign/img_0.png,a\nbenign/../benign/img_0.png,b\n",
            "image",
            &["lines 2 and 3", "img_0.png", "remove the duplicated row"],
        ),
        (
            "image,y\nbenign/img_0.png,a\ncorrupt.png,b\n",
            "image",
            &[
                "line 3",
                "column `image`",
                "corrupt.png",
                "cannot decode image",
            ],
        ),
        (
            "image,y\nbenign/img_0.png,a\nmissing.png,b\n",
            "image",
            &["line 3", "no image `missing.png`"],
        ),
        ("image,y\n", "image", &["no data rows"]),
    ];
    for (i, (text, column, expect)) in cases.iter().enumerate() {
        let csv = d.path().join(format!("m{i}.csv"));
        fs::write(&csv, text).unwrap();
        let e = load(&csv, &manifest_opts(column, "y"))
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("m{i}.csv")), "{e}");
        for want in *expect {
            assert!(e.contains(want), "case {i}: `{want}` not in: {e}");
        }
        assert!(!e.contains("--"), "library messages name no flag: {e}");
    }
    // A missing label or group column lists the columns too.
    let csv = d.path().join("ok.csv");
    fs::write(&csv, "image,y\nbenign/img_0.png,a\n").unwrap();
    let e = load(&csv, &manifest_opts("image", "label"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no column `label` for the label_column") && e.contains("image, y"),
        "{e}"
    );
    let e = load(
        &csv,
        &LoadOptions {
            group_column: Some("patient".into()),
            ..manifest_opts("image", "y")
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("no column `patient` for the group_column"),
        "{e}"
    );
    fs::write(&csv, "image,y,patient\nbenign/img_0.png,a,\n").unwrap();
    let e = load(
        &csv,
        &LoadOptions {
            group_column: Some("patient".into()),
            ..manifest_opts("image", "y")
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("line 2") && e.contains("group is empty"), "{e}");
}

#[test]
fn settings_that_do_not_apply_are_refused() {
    let d = tempfile::tempdir().unwrap();
    class_folder(d.path());
    let e = load(
        d.path(),
        &LoadOptions {
            group_column: Some("patient".into()),
            ..LoadOptions::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("group_column") && e.contains("image folder"),
        "{e}"
    );
    let e = load(
        d.path(),
        &LoadOptions {
            image_column: Some("image".into()),
            ..LoadOptions::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("image_column") && e.contains("CSV manifest"),
        "{e}"
    );
    let csv = d.path().join("m.csv");
    fs::write(&csv, "image,y\nbenign/img_0.png,a\n").unwrap();
    let e = load(
        &csv,
        &LoadOptions {
            groups_file: Some(d.path().join("groups.csv")),
            ..manifest_opts("image", "y")
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("name it with group_column"), "{e}");
}

#[test]
fn a_groups_file_groups_a_folder_and_the_split_keeps_groups_apart() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("set");
    // 30 patients of 2 to 4 images; a third of them malignant.
    let mut groups_csv = String::from("path,group\n");
    for p in 0..30 {
        let class = if p % 3 == 0 { "malignant" } else { "benign" };
        fs::create_dir_all(root.join(class)).unwrap();
        for k in 0..(2 + p % 3) {
            let name = format!("{class}/p{p}_{k}.png");
            write_png_gray(&root.join(&name), 4, 4, (p * 7 + k) as u8);
            groups_csv.push_str(&format!("./{name},patient{p}\n"));
        }
    }
    groups_csv.push_str("benign/not_here.png,patient99\n");
    let groups = d.path().join("groups.csv");
    fs::write(&groups, &groups_csv).unwrap();
    let ds = load(
        &root,
        &LoadOptions {
            groups_file: Some(groups.clone()),
            ..LoadOptions::default()
        },
    )
    .unwrap();
    let g = ds.groups.clone().unwrap();
    assert_eq!(g.len(), ds.n_samples());
    for seed in 0..5 {
        let s = ds.resolve_splits(SplitFractions::default(), seed).unwrap();
        let named = ds.split_groups(&s).unwrap();
        let [tr, va, te] = named.counts();
        assert_eq!(
            tr + va + te,
            30,
            "seed {seed}: every patient in exactly one split"
        );
        for name in &named.val {
            assert!(!named.train.contains(name) && !named.test.contains(name));
        }
        for name in &named.test {
            assert!(!named.train.contains(name));
        }
        for part in [&s.train, &s.val, &s.test] {
            assert!(
                part.iter().any(|&i| ds.y[i] == 1),
                "seed {seed}: a positive everywhere"
            );
        }
    }
    // The task keeps its samples' groups, and so its split is by group too.
    let spec = focal_data::task::TaskSpec {
        positive: Some(focal_data::task::ClassSelector::Name("malignant".into())),
        ..Default::default()
    };
    let task = focal_data::task::build_task(&ds, &spec).unwrap();
    assert_eq!(task.groups, ds.groups);
    // A folder image without a row is named.
    fs::write(
        &groups,
        groups_csv.replace("./benign/p1_0.png,patient1\n", ""),
    )
    .unwrap();
    let e = load(
        &root,
        &LoadOptions {
            groups_file: Some(groups),
            ..LoadOptions::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("no group for the image benign/p1_0.png"), "{e}");
}

#[test]
fn predict_inputs_from_a_manifest_without_labels_are_named_by_their_paths() {
    let d = tempfile::tempdir().unwrap();
    let rows = class_folder(d.path());
    let mut csv = String::from("image\n");
    for (name, _) in &rows {
        csv.push_str(&format!("{name}\n"));
    }
    fs::write(d.path().join("new.csv"), &csv).unwrap();
    let expected = SampleKind::Image {
        channels: 1,
        height: 8,
        width: 8,
    };
    let opts = InputOptions {
        image_column: Some("image".into()),
        // The run's label column, absent from an unlabelled manifest.
        label_column: Some("diagnosis".into()),
        ..InputOptions::default()
    };
    let inputs = load_inputs(&d.path().join("new.csv"), expected, &opts).unwrap();
    let ids: Vec<&str> = rows.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(inputs.ids, ids);
    assert!(inputs.labels.is_none());
    let folder = load(d.path(), &LoadOptions::default()).unwrap();
    assert_eq!(inputs.x, folder.x.clone().into_f32());
    // With the label column, the labels come along.
    let mut labelled = String::from("image,diagnosis\n");
    for (name, class) in &rows {
        labelled.push_str(&format!("{name},{class}\n"));
    }
    fs::write(d.path().join("test.csv"), labelled).unwrap();
    let inputs = load_inputs(&d.path().join("test.csv"), expected, &opts).unwrap();
    let labels = inputs.labels.unwrap();
    assert_eq!(labels.class_names, ["benign", "malignant"]);
    assert_eq!(labels.y, folder.y);
}

fn write_png16(path: &Path, w: u32, h: u32, f: impl Fn(u32, u32) -> u16) {
    image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_fn(w, h, |x, y| image::Luma([f(x, y)]))
        .save(path)
        .unwrap();
}

#[test]
fn sixteen_bit_images_keep_their_sixteen_bits() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("xray");
    fs::create_dir_all(root.join("a")).unwrap();
    fs::create_dir_all(root.join("b")).unwrap();
    // Values 8-bit truncation would merge (257 apart and less).
    let value = |x: u32, y: u32| (x * 1000 + y * 7 + 3) as u16;
    write_png16(&root.join("a/deep.png"), 5, 3, value);
    image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_fn(5, 3, |x, y| {
        image::Luma([value(x, y) + 1])
    })
    .save(root.join("b/deep.tif"))
    .unwrap();
    let ds = load(&root, &LoadOptions::default()).unwrap();
    assert_eq!(ds.bit_depth(), Some(16));
    let Values::Pixels16(v) = &ds.x else {
        panic!("16-bit images kept as u16, not {:?}", ds.x.bit_depth());
    };
    let png: Vec<u16> = (0..3)
        .flat_map(|y| (0..5).map(move |x| value(x, y)))
        .collect();
    assert_eq!(&v[..15], &png[..]);
    assert_eq!(
        v[15..]
            .iter()
            .zip(&png)
            .filter(|(t, p)| **t != **p + 1)
            .count(),
        0
    );
    assert_eq!(ds.x.get(1), 1003.0 / 65535.0);
    // An 8-bit image beside them is promoted without changing its values: b becomes b * 257.
    write_png_gray(&root.join("b/eight.png"), 5, 3, 200);
    let mixed = load(&root, &LoadOptions::default()).unwrap();
    let Values::Pixels16(v) = &mixed.x else {
        panic!("a mixed folder is 16-bit");
    };
    assert!(v[30..45].iter().all(|&p| p == 200 * 257));
    assert_eq!(mixed.x.get(30), focal_data::pixel(200));
    // Resized, still 16 bits (a 16-bit image resized keeps values between the bytes).
    let resized = load(
        &root,
        &LoadOptions {
            image_size: Some((4, 2)),
            ..LoadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(resized.bit_depth(), Some(16));
    // A folder of 8-bit images alone stays bytes.
    fs::remove_file(root.join("a/deep.png")).unwrap();
    fs::remove_file(root.join("b/deep.tif")).unwrap();
    write_png_gray(&root.join("a/eight.png"), 5, 3, 9);
    assert!(matches!(
        load(&root, &LoadOptions::default()).unwrap().x,
        Values::Pixels(_)
    ));
}

#[test]
fn sixteen_bit_inputs_keep_their_precision() {
    let d = tempfile::tempdir().unwrap();
    let png: PathBuf = d.path().join("deep.png");
    write_png16(&png, 4, 4, |x, y| (x * 300 + y) as u16);
    let expected = SampleKind::Image {
        channels: 1,
        height: 4,
        width: 4,
    };
    let inputs = load_inputs(&png, expected, &InputOptions::default()).unwrap();
    assert_eq!(inputs.x[1], 300.0 / 65535.0);
    assert_eq!(inputs.x[4], 1.0 / 65535.0);
}

#[test]
fn predict_reads_the_values_training_read_for_the_same_images() {
    // Mixed sizes, depths and colours, at a default size: what training holds for each image
    // is what predict reads for it from an unlabelled manifest (same decoders, same resize,
    // 8-bit values promoted without change).
    let d = tempfile::tempdir().unwrap();
    write_png16(&d.path().join("a.png"), 10, 6, |x, y| {
        (x * 5000 + y * 300) as u16
    });
    write_png_rgb(&d.path().join("b.png"), 7, 9, [200, 30, 90]);
    write_png_gray(&d.path().join("c.png"), 8, 8, 77);
    write_png16(&d.path().join("d.png"), 3, 3, |x, _| (x * 20000) as u16);
    fs::write(
        d.path().join("train.csv"),
        "image,target\na.png,0\nb.png,1\nc.png,0\nd.png,1\n",
    )
    .unwrap();
    fs::write(
        d.path().join("new.csv"),
        "image\nc.png\na.png\nd.png\nb.png\n",
    )
    .unwrap();
    let ds = load(
        &d.path().join("train.csv"),
        &LoadOptions {
            default_image_size: Some((8, 8)),
            ..manifest_opts("image", "target")
        },
    )
    .unwrap();
    assert_eq!(ds.bit_depth(), Some(16));
    let inputs = load_inputs(
        &d.path().join("new.csv"),
        ds.kind,
        &InputOptions {
            image_column: Some("image".into()),
            ..InputOptions::default()
        },
    )
    .unwrap();
    assert_eq!(inputs.ids, ["c.png", "a.png", "d.png", "b.png"]);
    let n = ds.sample_len();
    for (k, row) in [2, 0, 3, 1].into_iter().enumerate() {
        assert_eq!(
            &inputs.x[k * n..(k + 1) * n],
            &*ds.sample(row),
            "{}",
            inputs.ids[k]
        );
    }
}
