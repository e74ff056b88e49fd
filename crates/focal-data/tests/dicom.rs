//! DICOM decoding against pydicom: the fixtures (tests/fixtures/dicom, written by
//! scripts/gen_dicom_fixtures.py) hold real DICOM test files from pydicom's wheel and the grey
//! levels pydicom's `pixel_array`, `apply_modality_lut` and `apply_voi_lut` give for them;
//! focal's decoded values must match within one grey level of the windowed range (each case's
//! `tolerance`, in output units; 1 where the windowed range has at least as many levels as
//! the output).

use std::path::{Path, PathBuf};

use focal_data::{
    DataError, DataFormat, DicomWindow, LoadOptions, SampleKind, Values, dicom_info, load,
    read_dicom,
};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dicom")
}

fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["cases"].as_array().unwrap().clone()
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect()
}

/// The stored integer of every value (bytes, or 16-bit values).
fn levels(x: &Values) -> Vec<i64> {
    match x {
        Values::Pixels(b) => b.iter().map(|&v| i64::from(v)).collect(),
        Values::Pixels16(w) => w.iter().map(|&v| i64::from(v)).collect(),
        Values::F32(_) => panic!("a DICOM image is stored as pixels"),
    }
}

/// Fixtures dicom-rs's pure-Rust decoders cannot decode (with the reason): focal must refuse
/// them naming the file and the transfer syntax. jpeg-decoder reads 8-bit JPEG only, and
/// JPGExtended.dcm is 12-bit JPEG Extended (process 4).
const UNDECODABLE: &[(&str, &str)] = &[("JPGExtended.dcm", "SamplePrecision(12)")];

/// Extra grey levels allowed where the JPEG decoders themselves differ (see the test), for at
/// most 5% of the values.
const DECODER_SLACK: &[(&str, i64)] = &[("SC_rgb_dcmtk_+eb+cy+np.dcm", 1)];

#[test]
fn every_fixture_matches_pydicom_within_one_grey_level() {
    let mut report = Vec::new();
    for case in cases() {
        let file = case["file"].as_str().unwrap();
        if let Some((_, why)) = UNDECODABLE.iter().find(|(f, _)| *f == file) {
            let e = read_dicom(&fixtures().join(file), DicomWindow::File, None, None)
                .expect_err("an undecodable fixture decoded: move it out of UNDECODABLE")
                .to_string();
            let ts = case["transfer_syntax"].as_str().unwrap();
            assert!(e.contains(file) && e.contains(ts) && e.contains(why), "{e}");
            report.push(format!("{file}: refused ({why})"));
            continue;
        }
        let window = match case.get("window") {
            Some(w) => DicomWindow::Explicit {
                center: w["center"].as_f64().unwrap(),
                width: w["width"].as_f64().unwrap(),
            },
            None => DicomWindow::File,
        };
        let frame = case["frame"].as_u64().map(|f| f as u32);
        let img = read_dicom(&fixtures().join(file), window, frame, None)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let spp = case["samples_per_pixel"].as_u64().unwrap() as usize;
        let (rows, cols) = (
            case["rows"].as_u64().unwrap() as usize,
            case["columns"].as_u64().unwrap() as usize,
        );
        assert_eq!(
            img.kind,
            SampleKind::Image {
                channels: spp,
                height: rows,
                width: cols
            },
            "{file}"
        );
        assert_eq!(
            img.x.bit_depth(),
            Some(case["output_bits"].as_u64().unwrap() as u8),
            "{file}"
        );
        let ours = levels(&img.x);
        let plane = rows * cols;
        let stride = case["stride"].as_u64().unwrap() as usize;
        let tol = case["tolerance"].as_i64().unwrap();
        let expected = ints(&case["expected"]);
        let mut worst = 0;
        let mut off = 0;
        for (s, &want) in expected.iter().enumerate() {
            // Fixtures are row-major with colour interleaved; focal is channel-first.
            let i = s * stride;
            let (p, c) = (i / spp, i % spp);
            let got = ours[c * plane + p];
            worst = worst.max((got - want).abs());
            off += usize::from((got - want).abs() > tol);
        }
        let variant = case.get("variant").and_then(Value::as_str).unwrap_or("");
        report.push(format!(
            "{file} {variant}: max |focal - pydicom| = {worst} (tolerance {tol}; {off} of {} \
             values beyond it)",
            expected.len()
        ));
        // Lossy colour JPEG with subsampled chroma: libjpeg (pydicom's decoder) and
        // jpeg-decoder upsample the chroma planes differently, so a few pixels differ by one
        // level more. That is the JPEG decoders' difference, not the windowing's.
        let slack = DECODER_SLACK
            .iter()
            .find(|(f, _)| *f == file)
            .map_or(0, |(_, s)| *s);
        if slack > 0 {
            assert!(
                off * 20 <= expected.len(),
                "{file}: {off} of {} values beyond one grey level",
                expected.len()
            );
        }
        let tol = tol + slack;
        assert!(
            worst <= tol,
            "{file} {variant}: focal differs from pydicom by {worst} grey levels (tolerance {tol})"
        );
        // The mean over the whole image, not only the sampled pixels.
        let mean = ours.iter().sum::<i64>() as f64 / ours.len() as f64;
        let want_mean = case["expected_mean"].as_f64().unwrap();
        assert!(
            (mean - want_mean).abs() <= tol as f64,
            "{file} {variant}: mean {mean} vs pydicom's {want_mean}"
        );
    }
    println!("{}", report.join("\n"));
}

#[test]
fn the_header_says_modality_bits_window_and_transfer_syntax() {
    let mr = dicom_info(&fixtures().join("MR_small_RLE.dcm")).unwrap();
    assert_eq!(mr.modality.as_deref(), Some("MR"));
    assert_eq!((mr.rows, mr.columns), (64, 64));
    assert_eq!(
        (mr.bits_allocated, mr.bits_stored, mr.signed),
        (16, 16, true)
    );
    assert_eq!(mr.windows, vec![(600.0, 1600.0)]);
    assert_eq!(mr.transfer_syntax, "1.2.840.10008.1.2.5");
    assert_eq!(mr.transfer_syntax_name.as_deref(), Some("RLE Lossless"));
    assert!(mr.decodable);
    assert_eq!(mr.frames, 1);
    let ct = dicom_info(&fixtures().join("CT_small.dcm")).unwrap();
    assert_eq!((ct.rescale_slope, ct.rescale_intercept), (1.0, -1024.0));
    assert!(ct.windows.is_empty());
    let two = dicom_info(&fixtures().join("SC_rgb_rle_2frame.dcm")).unwrap();
    assert_eq!((two.frames, two.samples_per_pixel), (2, 3));
}

#[test]
fn multi_frame_files_need_a_frame_and_name_the_count() {
    let path = fixtures().join("SC_rgb_rle_2frame.dcm");
    let e = read_dicom(&path, DicomWindow::File, None, None).unwrap_err();
    assert!(matches!(e, DataError::MultiFrame { frames: 2, .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("SC_rgb_rle_2frame.dcm")
            && text.contains("2 frames")
            && text.contains("0 to 1"),
        "{text}"
    );
    let e = read_dicom(&path, DicomWindow::File, Some(2), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("frame 2") && e.contains("2 frames"), "{e}");
    let first = read_dicom(&path, DicomWindow::File, Some(0), None).unwrap();
    let second = read_dicom(&path, DicomWindow::File, Some(1), None).unwrap();
    assert_ne!(first.x, second.x, "the two frames differ");
}

#[test]
fn the_malformed_jpeg_of_pydicom_is_refused_or_decoded_without_panicking() {
    // pydicom's own decoders refuse this file's scan header; focal must not panic on it.
    let path = fixtures().join("JPEG-lossy.dcm");
    match read_dicom(&path, DicomWindow::File, None, None) {
        Ok(img) => assert_eq!(img.kind.len(), img.x.len()),
        Err(e) => assert!(e.to_string().contains("JPEG-lossy.dcm"), "{e}"),
    }
}

#[test]
fn a_window_the_file_does_not_have_and_min_max_change_the_grey_levels() {
    let path = fixtures().join("MR_small.dcm");
    let file = read_dicom(&path, DicomWindow::File, None, None).unwrap();
    let minmax = read_dicom(&path, DicomWindow::MinMax, None, None).unwrap();
    let levels16 = |x: &Values| levels(x);
    let mm = levels16(&minmax.x);
    assert_eq!(mm.iter().min(), Some(&0));
    assert_eq!(mm.iter().max(), Some(&65535));
    assert_ne!(levels16(&file.x), mm);
    // MONOCHROME1 is MONOCHROME2 inverted, grey level for grey level.
    let inverted = read_dicom(
        &fixtures().join("MR_small_monochrome1.dcm"),
        DicomWindow::File,
        None,
        None,
    )
    .unwrap();
    for (a, b) in levels16(&file.x).iter().zip(levels16(&inverted.x)) {
        assert!((a + b - 65535).abs() <= 1, "{a} + {b}");
    }
}

#[test]
fn dicom_files_load_as_a_folder_and_as_a_manifest_at_16_bits() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("set");
    for (class, files) in [
        ("a", ["MR_small.dcm", "MR_small_RLE.dcm"]),
        ("b", ["MR_small_bigendian.dcm", "MR_small_monochrome1.dcm"]),
    ] {
        std::fs::create_dir_all(root.join(class)).unwrap();
        for f in files {
            std::fs::copy(fixtures().join(f), root.join(class).join(f)).unwrap();
        }
    }
    // A DICOM file named by its UID, without an extension, is found by its contents.
    std::fs::copy(
        fixtures().join("MR_small_jp2klossless.dcm"),
        root.join("b/1.2.840.113619.2.5"),
    )
    .unwrap();
    let folder = load(&root, &LoadOptions::default()).unwrap();
    assert_eq!(folder.format, DataFormat::ImageFolder);
    assert_eq!(folder.n_samples(), 5);
    assert_eq!(folder.bit_depth(), Some(16));
    assert_eq!(
        folder.kind,
        SampleKind::Image {
            channels: 1,
            height: 64,
            width: 64
        }
    );
    let direct = read_dicom(
        &fixtures().join("MR_small.dcm"),
        DicomWindow::File,
        None,
        None,
    )
    .unwrap();
    assert_eq!(folder.sample(0), direct.x.slice(0..4096));
    // The same images as a manifest (one without an extension, found by trying `.dcm`).
    let csv = root.join("labels.csv");
    std::fs::write(
        &csv,
        "file,finding\na/MR_small,a\na/MR_small_RLE.dcm,a\nb/MR_small_bigendian.dcm,b\n\
         b/1.2.840.113619.2.5,b\nb/MR_small_monochrome1.dcm,b\n",
    )
    .unwrap();
    let opts = LoadOptions {
        image_column: Some("file".into()),
        label_column: Some("finding".into()),
        ..LoadOptions::default()
    };
    let manifest = load(&csv, &opts).unwrap();
    assert_eq!(manifest.format, DataFormat::Manifest);
    assert_eq!(manifest.bit_depth(), Some(16));
    assert_eq!(manifest.class_names, ["a", "b"]);
    assert_eq!(manifest.y, [0, 0, 1, 1, 1]);
    assert_eq!(manifest.sample(0), folder.sample(0));
    assert_eq!(
        manifest.ids.as_deref().unwrap()[0],
        "a/MR_small",
        "the id is the manifest's path as written"
    );
    // The window is an option of the load, as for a single file.
    let mm = load(
        &csv,
        &LoadOptions {
            dicom_window: DicomWindow::MinMax,
            ..opts.clone()
        },
    )
    .unwrap();
    let direct = read_dicom(
        &fixtures().join("MR_small.dcm"),
        DicomWindow::MinMax,
        None,
        None,
    )
    .unwrap();
    assert_eq!(mm.sample(0), direct.x.slice(0..4096));
}
