//! `load_inputs`: new samples for a trained model, brought to its shape or refused.

mod common;

use std::fs;

use common::*;
use focal_data::{DataError, InputOptions, SampleKind, load_inputs};

const GREY_8: SampleKind = SampleKind::Image {
    channels: 1,
    height: 8,
    width: 8,
};

#[test]
fn image_files_are_resized_and_named_by_path() {
    let d = tempfile::tempdir().unwrap();
    write_png_gray(&d.path().join("b.png"), 16, 12, 90);
    write_png_gray(&d.path().join("a.png"), 8, 8, 30);
    fs::write(d.path().join("notes.txt"), "ignored").unwrap();
    let inputs = load_inputs(d.path(), GREY_8, &InputOptions::default()).unwrap();
    assert_eq!(inputs.len(), 2);
    assert!(inputs.ids[0].ends_with("a.png") && inputs.ids[1].ends_with("b.png"));
    assert_eq!(inputs.x.len(), 2 * 64);
    assert!(inputs.labels.is_none());
    assert!(
        inputs.x[64..]
            .iter()
            .all(|v| (v - 90.0 / 255.0).abs() < 1e-2)
    );
    // One file alone; grey stored as RGB counts as grey; a colour image does not.
    let one = d.path().join("a.png");
    assert_eq!(
        load_inputs(&one, GREY_8, &InputOptions::default())
            .unwrap()
            .ids,
        vec![one.display().to_string()]
    );
    let greyish = d.path().join("g.png");
    write_png_rgb(&greyish, 8, 8, [70, 70, 70]);
    assert!(load_inputs(&greyish, GREY_8, &InputOptions::default()).is_ok());
    let red = d.path().join("red.png");
    write_png_rgb(&red, 8, 8, [255, 0, 0]);
    let e = load_inputs(&red, GREY_8, &InputOptions::default()).unwrap_err();
    assert!(matches!(e, DataError::ShapeMismatch { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("red.png") && msg.contains("greyscale"),
        "{msg}"
    );
    // An RGB model takes grey images as three equal planes.
    let rgb = SampleKind::Image {
        channels: 3,
        height: 8,
        width: 8,
    };
    let i = load_inputs(&one, rgb, &InputOptions::default()).unwrap();
    assert_eq!(i.x.len(), 3 * 64);
    assert_eq!(i.x[..64], i.x[64..128]);
}

#[test]
fn csv_rows_with_or_without_labels_and_wrong_counts() {
    let d = tempfile::tempdir().unwrap();
    let four = SampleKind::Tabular { n_features: 4 };
    let bare = d.path().join("bare.csv");
    fs::write(&bare, "a,b,c,d\n1,2,3,4\n5,6,7,8\n").unwrap();
    let i = load_inputs(&bare, four, &InputOptions::default()).unwrap();
    assert_eq!(i.ids, vec!["0", "1"]);
    assert_eq!(i.x, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    assert!(i.labels.is_none());
    let labelled = d.path().join("labelled.csv");
    fs::write(&labelled, "a,b,c,d,label\n1,2,3,4,x\n5,6,7,8,y\n").unwrap();
    let i = load_inputs(&labelled, four, &InputOptions::default()).unwrap();
    let labels = i.labels.unwrap();
    assert_eq!(labels.y, vec![0, 1]);
    assert_eq!(labels.class_names, vec!["x", "y"]);
    let three = d.path().join("three.csv");
    fs::write(&three, "a,b,c\n1,2,3\n").unwrap();
    let e = load_inputs(&three, four, &InputOptions::default()).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("three.csv") && msg.contains("3 columns") && msg.contains("4 features"),
        "{msg}"
    );
    // Rows for an image model, images for a row model.
    assert!(matches!(
        load_inputs(&bare, GREY_8, &InputOptions::default()),
        Err(DataError::ShapeMismatch { .. })
    ));
    let png = d.path().join("p.png");
    write_png_gray(&png, 8, 8, 1);
    assert!(matches!(
        load_inputs(&png, four, &InputOptions::default()),
        Err(DataError::ShapeMismatch { .. })
    ));
}

#[test]
fn class_folders_keep_their_labels() {
    let d = tempfile::tempdir().unwrap();
    for (class, v) in [("cat", 10u8), ("dog", 200)] {
        fs::create_dir(d.path().join(class)).unwrap();
        write_png_gray(&d.path().join(class).join("1.png"), 20, 20, v);
    }
    let i = load_inputs(d.path(), GREY_8, &InputOptions::default()).unwrap();
    assert_eq!(i.ids, vec!["0", "1"]);
    assert_eq!(i.x.len(), 2 * 64);
    assert_eq!(i.labels.unwrap().class_names, vec!["cat", "dog"]);
}
