//! Loaders on small fixtures written by the tests, on corrupt inputs, and on the MedMNIST files
//! in `shared/data/medmnist` when present.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use focal_data::{DataError, DataFormat, LoadOptions, SampleKind, load};

fn opts() -> LoadOptions {
    LoadOptions::default()
}

fn write_idx_dir(dir: &Path, n_train: usize, n_test: usize, gzip: bool) {
    for (prefix, n) in [("train", n_train), ("t10k", n_test)] {
        let (im, lb) = images_labels(n, 2, 3, 3);
        let mut ib = idx_bytes(0x803, &[n as u32, 2, 3], &im);
        let mut lbb = idx_bytes(0x801, &[n as u32], &lb);
        let ext = if gzip { ".gz" } else { "" };
        if gzip {
            ib = gz(&ib);
            lbb = gz(&lbb);
        }
        fs::write(dir.join(format!("{prefix}-images-idx3-ubyte{ext}")), ib).unwrap();
        fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte{ext}")), lbb).unwrap();
    }
}

#[test]
fn idx_folder_raw_and_gz_give_the_same_data_with_train_and_test_splits() {
    let raw = tempfile::tempdir().unwrap();
    let gzd = tempfile::tempdir().unwrap();
    write_idx_dir(raw.path(), 6, 3, false);
    write_idx_dir(gzd.path(), 6, 3, true);
    let a = load(raw.path(), &opts()).unwrap();
    let b = load(gzd.path(), &opts()).unwrap();
    assert_eq!(a.format, DataFormat::Idx);
    assert_eq!(a.n_samples(), 9);
    assert_eq!(
        a.kind,
        SampleKind::Image {
            channels: 1,
            height: 2,
            width: 3
        }
    );
    assert_eq!(a.x, b.x);
    assert_eq!(a.y, b.y);
    let s = a.splits.as_ref().unwrap();
    assert_eq!(s.train, (0..6).collect::<Vec<_>>());
    assert!(s.val.is_empty());
    assert_eq!(s.test, vec![6, 7, 8]);
    // Pixel (sample 1, index 4) = (1 * 7 + 4) / 255.
    assert!((a.sample(1)[4] - 11.0 / 255.0).abs() < 1e-7);
    assert_eq!(a.class_names, vec!["0", "1", "2"]);
}

#[test]
fn a_single_idx_images_file_finds_its_labels() {
    let d = tempfile::tempdir().unwrap();
    write_idx_dir(d.path(), 4, 2, true);
    let ds = load(&d.path().join("t10k-images-idx3-ubyte.gz"), &opts()).unwrap();
    assert_eq!(ds.n_samples(), 2);
    assert!(ds.splits.is_none());
}

#[test]
fn idx_class_names_come_from_classes_txt() {
    let d = tempfile::tempdir().unwrap();
    write_idx_dir(d.path(), 3, 3, false);
    fs::write(d.path().join("classes.txt"), "cat\ndog\nbird\n").unwrap();
    let ds = load(d.path(), &opts()).unwrap();
    assert_eq!(ds.class_names, vec!["cat", "dog", "bird"]);
}

#[test]
fn npz_medmnist_layout_keeps_splits_and_accepts_n1_labels() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("tiny.npz");
    let (tr_i, _) = images_labels(4, 2, 2, 2);
    let (va_i, _) = images_labels(2, 2, 2, 2);
    let labels_i64: Vec<u8> = [0i64, 1, 1, 0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    write_npz(
        &p,
        &[
            ("train_images", npy("|u1", &[4, 2, 2], &tr_i)),
            ("train_labels", npy("<i8", &[4, 1], &labels_i64)),
            ("val_images", npy("|u1", &[2, 2, 2], &va_i)),
            ("val_labels", npy("|u1", &[2], &[1, 1])),
        ],
    );
    let ds = load(&p, &opts()).unwrap();
    assert_eq!(ds.format, DataFormat::Npz);
    assert_eq!(ds.y, vec![0, 1, 1, 0, 1, 1]);
    let s = ds.splits.unwrap();
    assert_eq!((s.train.len(), s.val.len(), s.test.len()), (4, 2, 0));
    assert_eq!(s.val, vec![4, 5]);
}

#[test]
fn npz_rgb_images_become_channel_first() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("rgb.npz");
    // One 1x2 image, HWC: pixel 0 = (10, 20, 30), pixel 1 = (40, 50, 60).
    let data = [10u8, 20, 30, 40, 50, 60];
    write_npz(
        &p,
        &[
            ("images", npy("|u1", &[1, 1, 2, 3], &data)),
            ("labels", npy("|u1", &[1], &[0])),
        ],
    );
    let ds = load(&p, &opts()).unwrap();
    assert_eq!(
        ds.kind,
        SampleKind::Image {
            channels: 3,
            height: 1,
            width: 2
        }
    );
    let got: Vec<u8> = ds.x.iter().map(|v| (v * 255.0).round() as u8).collect();
    assert_eq!(got, vec![10, 40, 20, 50, 30, 60]);
    assert!(ds.splits.is_none());
}

#[test]
fn image_folder_sorted_classes_resized_grey_or_rgb() {
    let d = tempfile::tempdir().unwrap();
    for (class, value) in [("zebra", 200u8), ("ant", 100)] {
        fs::create_dir(d.path().join(class)).unwrap();
        write_png_gray(&d.path().join(class).join("a.png"), 4, 4, value);
        write_png_gray(&d.path().join(class).join("b.png"), 8, 8, value);
    }
    fs::write(d.path().join("ant").join("notes.txt"), "ignored").unwrap();
    let ds = load(d.path(), &opts()).unwrap();
    assert_eq!(ds.format, DataFormat::ImageFolder);
    assert_eq!(ds.class_names, vec!["ant", "zebra"]);
    assert_eq!(ds.class_counts(), vec![2, 2]);
    assert_eq!(
        ds.kind,
        SampleKind::Image {
            channels: 1,
            height: 4,
            width: 4
        }
    );
    // A uniform image stays uniform when resized (tolerance: one grey level).
    assert!(
        ds.sample(1)
            .iter()
            .all(|v| (v - 100.0 / 255.0).abs() < 1.0 / 255.0 + 1e-6)
    );
    let o = LoadOptions {
        image_size: Some((3, 2)),
        grayscale: Some(false),
        ..opts()
    };
    let rgb = load(d.path(), &o).unwrap();
    assert_eq!(
        rgb.kind,
        SampleKind::Image {
            channels: 3,
            height: 2,
            width: 3
        }
    );

    write_png_rgb(&d.path().join("ant").join("c.png"), 4, 4, [255, 0, 0]);
    let auto = load(d.path(), &opts()).unwrap();
    assert_eq!(
        auto.kind,
        SampleKind::Image {
            channels: 3,
            height: 4,
            width: 4
        }
    );
    // The red image: channel 0 all 1.0, channels 1 and 2 all 0.
    let red = auto.sample(2);
    assert!(red[..16].iter().all(|&v| v == 1.0) && red[16..].iter().all(|&v| v == 0.0));
}

#[test]
fn csv_label_column_default_named_and_last() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("t.csv");
    fs::write(&p, "a,label,b\n1,10,2\n3,2,4\n5,10,6\n").unwrap();
    let ds = load(&p, &opts()).unwrap();
    assert_eq!(ds.format, DataFormat::Csv);
    assert_eq!(ds.kind, SampleKind::Tabular { n_features: 2 });
    // Numeric labels sort numerically: "2" before "10".
    assert_eq!(ds.class_names, vec!["2", "10"]);
    assert_eq!(ds.y, vec![1, 0, 1]);
    assert_eq!(&*ds.sample(0), &[1.0, 2.0]);

    let p2 = d.path().join("u.csv");
    fs::write(&p2, "x,y,species\n1,2,setosa\n3,4,versicolor\n").unwrap();
    let ds2 = load(&p2, &opts()).unwrap();
    assert_eq!(ds2.class_names, vec!["setosa", "versicolor"]);
    let o = LoadOptions {
        label_column: Some("x".into()),
        ..opts()
    };
    let err = load(&p2, &o).unwrap_err();
    // With x as label, "setosa" is a non-numeric feature at line 2, column 3.
    assert!(
        matches!(
            err,
            DataError::CsvNotNumeric {
                line: 2,
                column: 3,
                ..
            }
        ),
        "{err}"
    );
}

// ---------- corrupt inputs ----------

#[test]
fn truncated_gz_is_reported_with_the_file() {
    let d = tempfile::tempdir().unwrap();
    write_idx_dir(d.path(), 50, 3, true);
    let p = d.path().join("train-images-idx3-ubyte.gz");
    let bytes = fs::read(&p).unwrap();
    fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    let err = load(d.path(), &opts()).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Corrupt { .. } | DataError::DeclaredSize { .. }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("train-images-idx3-ubyte.gz"),
        "{err}"
    );
}

#[test]
fn bad_magic_is_reported() {
    let d = tempfile::tempdir().unwrap();
    write_idx_dir(d.path(), 3, 3, false);
    // Swap: a labels file where images are expected.
    fs::copy(
        d.path().join("train-labels-idx1-ubyte"),
        d.path().join("train-images-idx3-ubyte"),
    )
    .unwrap();
    let err = load(d.path(), &opts()).unwrap_err();
    assert!(
        matches!(err, DataError::BadMagic { found: 0x801, .. }),
        "{err}"
    );
}

#[test]
fn image_and_label_count_mismatch_is_reported() {
    let d = tempfile::tempdir().unwrap();
    write_idx_dir(d.path(), 3, 3, false);
    fs::write(
        d.path().join("train-labels-idx1-ubyte"),
        idx_bytes(0x801, &[2], &[0, 1]),
    )
    .unwrap();
    let err = load(d.path(), &opts()).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::CountMismatch {
                n_images: 3,
                n_labels: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn huge_declared_sizes_are_refused_for_idx_gz_and_npz() {
    let d = tempfile::tempdir().unwrap();
    write_idx_dir(d.path(), 3, 3, true);
    let hostile = gz(&idx_bytes(
        0x803,
        &[4_000_000_000, 60_000, 60_000],
        &[0; 16],
    ));
    fs::write(d.path().join("train-images-idx3-ubyte.gz"), hostile).unwrap();
    let err = load(d.path(), &opts()).unwrap_err();
    assert!(matches!(err, DataError::DeclaredSize { .. }), "{err}");

    let p = d.path().join("hostile.npz");
    write_npz(
        &p,
        &[
            ("images", npy("|u1", &[1_000_000_000, 1000, 1000], &[0; 8])),
            ("labels", npy("|u1", &[1], &[0])),
        ],
    );
    let err = load(&p, &opts()).unwrap_err();
    assert!(matches!(err, DataError::DeclaredSize { .. }), "{err}");
    assert!(err.to_string().contains("images.npy"), "{err}");
}

#[test]
fn npz_count_mismatch_names_both_entries() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("m.npz");
    write_npz(
        &p,
        &[
            ("train_images", npy("|u1", &[2, 1, 1], &[0, 1])),
            ("train_labels", npy("|u1", &[3], &[0, 1, 0])),
        ],
    );
    let err = load(&p, &opts()).unwrap_err().to_string();
    assert!(
        err.contains("train_images.npy") && err.contains("train_labels.npy"),
        "{err}"
    );
}

#[test]
fn csv_errors_name_line_column_and_label_column() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("bad.csv");
    fs::write(&p, "f1,f2,label\n1,2,a\n3,oops,b\n").unwrap();
    let err = load(&p, &opts()).unwrap_err();
    assert!(
        matches!(&err, DataError::CsvNotNumeric { line: 3, column: 2, value, .. } if value == "oops"),
        "{err}"
    );
    let o = LoadOptions {
        label_column: Some("target".into()),
        ..opts()
    };
    let err = load(&p, &o).unwrap_err();
    assert!(matches!(err, DataError::MissingLabelColumn { .. }), "{err}");
    assert!(err.to_string().contains("f1, f2, label"), "{err}");
}

#[test]
fn empty_class_folder_and_unreadable_image_are_reported() {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir(d.path().join("a")).unwrap();
    fs::create_dir(d.path().join("b")).unwrap();
    write_png_gray(&d.path().join("a").join("x.png"), 2, 2, 0);
    let err = load(d.path(), &opts()).unwrap_err();
    assert!(
        matches!(&err, DataError::EmptyClassFolder { path } if path.ends_with("b")),
        "{err}"
    );
    fs::write(d.path().join("b").join("broken.png"), b"not a png").unwrap();
    let err = load(d.path(), &opts()).unwrap_err();
    assert!(
        matches!(&err, DataError::UnreadableImage { path, .. } if path.ends_with("broken.png")),
        "{err}"
    );
}

#[test]
fn missing_path_and_unknown_format_are_errors() {
    let d = tempfile::tempdir().unwrap();
    let err = load(&d.path().join("nope"), &opts()).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }), "{err}");
    let p = d.path().join("x.bin");
    fs::write(&p, b"hello").unwrap();
    assert!(matches!(
        load(&p, &opts()).unwrap_err(),
        DataError::UnknownFormat { .. }
    ));
}

// ---------- real MedMNIST files, when present ----------

fn medmnist(name: &str) -> Option<std::path::PathBuf> {
    let p = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/medmnist"
    ))
    .join(name);
    if p.is_file() {
        Some(p)
    } else {
        println!("skipped: {} is absent", p.display());
        None
    }
}

#[test]
fn pneumoniamnist_when_present() {
    let Some(p) = medmnist("pneumoniamnist.npz") else {
        return;
    };
    let ds = load(&p, &opts()).unwrap();
    assert_eq!(ds.n_samples(), 5030);
    assert_eq!(ds.class_names, vec!["normal", "pneumonia"]);
    assert_eq!(
        ds.kind,
        SampleKind::Image {
            channels: 1,
            height: 28,
            width: 28
        }
    );
    let s = ds.splits.as_ref().unwrap();
    // shared/data/README.md: train 388/3494 (normals undersampled), val 135/389, test 234/390.
    assert_eq!(ds.class_counts_of(&s.train), vec![388, 3494]);
    assert_eq!(ds.class_counts_of(&s.val), vec![135, 389]);
    assert_eq!(ds.class_counts_of(&s.test), vec![234, 390]);
}

#[test]
fn breastmnist_when_present() {
    let Some(p) = medmnist("breastmnist.npz") else {
        return;
    };
    let ds = load(&p, &opts()).unwrap();
    let s = ds.splits.as_ref().unwrap();
    // shared/data/README.md: train 147/399, val 21/57, test 42/114.
    assert_eq!(ds.class_counts_of(&s.train), vec![147, 399]);
    assert_eq!(ds.class_counts_of(&s.val), vec![21, 57]);
    assert_eq!(ds.class_counts_of(&s.test), vec![42, 114]);
    assert_eq!(ds.class_names, vec!["malignant", "normal, benign"]);
}

// ---------- image sizes and the memory budget ----------

/// Two classes of greyscale PNGs in three sizes.
fn mixed_size_folder(root: &Path) {
    for (class, value) in [("normal", 60u8), ("tumour", 180)] {
        fs::create_dir(root.join(class)).unwrap();
        for (i, (w, h)) in [(300u32, 280u32), (630, 630), (120, 90)].iter().enumerate() {
            write_png_gray(&root.join(class).join(format!("{i}.png")), *w, *h, value);
        }
    }
}

#[test]
fn a_mixed_size_folder_loads_at_the_default_or_the_explicit_size() {
    let d = tempfile::tempdir().unwrap();
    mixed_size_folder(d.path());
    let o = LoadOptions {
        default_image_size: Some((64, 64)),
        ..opts()
    };
    let ds = load(d.path(), &o).unwrap();
    let kind = |c, h, w| SampleKind::Image {
        channels: c,
        height: h,
        width: w,
    };
    assert_eq!(ds.kind, kind(1, 64, 64));
    assert_eq!(ds.n_samples(), 6);
    assert_eq!(ds.x.len(), 6 * 64 * 64);
    // Uniform images stay uniform through the resize.
    assert!(
        ds.sample(4)
            .iter()
            .all(|v| (v - 180.0 / 255.0).abs() < 1.0 / 255.0 + 1e-6)
    );
    let o = LoadOptions {
        image_size: Some((40, 30)),
        default_image_size: Some((64, 64)),
        ..opts()
    };
    assert_eq!(load(d.path(), &o).unwrap().kind, kind(1, 30, 40));
    // One shared size within the default is kept; a larger shared size takes the default.
    let same = tempfile::tempdir().unwrap();
    for (class, value) in [("a", 10u8), ("b", 200)] {
        fs::create_dir(same.path().join(class)).unwrap();
        write_png_gray(&same.path().join(class).join("x.png"), 20, 10, value);
    }
    let o = LoadOptions {
        default_image_size: Some((64, 64)),
        ..opts()
    };
    assert_eq!(load(same.path(), &o).unwrap().kind, kind(1, 10, 20));
    let o = LoadOptions {
        default_image_size: Some((16, 16)),
        ..opts()
    };
    assert_eq!(load(same.path(), &o).unwrap().kind, kind(1, 16, 16));
}

#[test]
fn the_memory_budget_fails_before_decoding_and_names_the_need() {
    let d = tempfile::tempdir().unwrap();
    mixed_size_folder(d.path());
    // The first image's size (the rule without a default) is 300x280: 6 x 84,000 x 4 bytes.
    let o = LoadOptions {
        memory_budget: Some(1_000_000),
        ..opts()
    };
    let e = load(d.path(), &o).unwrap_err();
    match &e {
        DataError::TooLarge {
            n_samples,
            shape,
            needed,
            budget,
            ..
        } => {
            assert_eq!(*n_samples, 6);
            assert_eq!(shape, &vec![1, 280, 300]);
            assert_eq!(*needed, 6 * 280 * 300 * 4);
            assert_eq!(*budget, 1_000_000);
        }
        other => panic!("expected TooLarge, got {other}"),
    }
    let msg = e.to_string();
    assert!(msg.contains("2.0 MB") && msg.contains("1.0 MB"), "{msg}");
    assert!(msg.contains("image_size"), "{msg}");
    // At a size that fits, the same budget loads.
    let o = LoadOptions {
        image_size: Some((64, 64)),
        memory_budget: Some(1_000_000),
        ..opts()
    };
    assert!(load(d.path(), &o).is_ok());
    // IDX and NPZ images are checked before they are resized.
    let n = tempfile::tempdir().unwrap();
    write_idx_dir(n.path(), 6, 3, false);
    let o = LoadOptions {
        image_size: Some((100, 100)),
        memory_budget: Some(100_000),
        ..opts()
    };
    assert!(matches!(
        load(n.path(), &o),
        Err(DataError::TooLarge { .. })
    ));
    let o = LoadOptions {
        image_size: Some((5, 4)),
        ..opts()
    };
    let resized = load(n.path(), &o).unwrap();
    assert_eq!(
        resized.kind,
        SampleKind::Image {
            channels: 1,
            height: 4,
            width: 5
        }
    );
    assert_eq!(resized.n_samples(), 9);
}
