//! The hostile DICOM corpus (tests/corpus/dicom, written by scripts/make_dicom_corpus.py): each
//! case is an image folder whose class `b` holds one broken DICOM file; loading it must fail
//! with one clear error naming the file and what is wrong, never panic, and write nothing.

use std::path::{Path, PathBuf};

use focal_data::{DicomWindow, LoadOptions, load, read_dicom};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/dicom")
}

/// (case, file in `b`, substrings the message must hold)
const CASES: &[(&str, &str, &[&str])] = &[
    ("no-pixel-data", "empty.dcm", &["no pixel data (7FE0,0010)"]),
    (
        "truncated-pixel-data",
        "cut.dcm",
        &["cannot read the DICOM image", "complete DICOM file"],
    ),
    (
        "short-pixel-data",
        "short.dcm",
        &["declares 128 bytes", "holds 40"],
    ),
    (
        "huge-declared",
        "huge.dcm",
        &["65535x65535x1", "above the memory budget"],
    ),
    (
        "multi-frame",
        "cine.dcm",
        &["multi-frame DICOM file of 3 frames", "0 to 2"],
    ),
    (
        "unsupported-transfer-syntax",
        "jpegls.dcm",
        &[
            "1.2.840.10008.1.2.4.80",
            "JPEG-LS Lossless",
            "convert the file",
        ],
    ),
    (
        "not-an-image",
        "report.dcm",
        &["no Rows (0028,0010)", "holds no image"],
    ),
    (
        "text-named-dcm",
        "notes.dcm",
        &["cannot read the DICOM image"],
    ),
];

#[test]
fn every_hostile_dicom_file_gets_one_clear_error() {
    let opts = LoadOptions {
        memory_budget: Some(256_000_000),
        ..LoadOptions::default()
    };
    let mut failures = Vec::new();
    for (case, file, expect) in CASES {
        let dir = corpus().join(case);
        let before: Vec<_> = walk(&dir);
        let message = match load(&dir, &opts) {
            Ok(_) => {
                failures.push(format!("{case}: loaded"));
                continue;
            }
            Err(e) => e.to_string(),
        };
        println!("{case}: {message}");
        for want in std::iter::once(file).chain(expect.iter()) {
            if !message.contains(want) {
                failures.push(format!("{case}: `{want}` not in: {message}"));
            }
        }
        if message.contains("--") {
            failures.push(format!("{case}: a library message names a flag: {message}"));
        }
        assert_eq!(walk(&dir), before, "{case}: nothing written");
        // The file alone is refused the same way.
        let alone = read_dicom(
            &dir.join("b").join(file),
            DicomWindow::File,
            None,
            Some(256_000_000),
        );
        assert!(alone.is_err(), "{case}: read alone");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_frame_choice_reads_the_multi_frame_file() {
    let dir = corpus().join("multi-frame");
    let ds = load(
        &dir,
        &LoadOptions {
            dicom_frame: Some(2),
            ..LoadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(ds.n_samples(), 3);
    assert_eq!(ds.bit_depth(), Some(16));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}
