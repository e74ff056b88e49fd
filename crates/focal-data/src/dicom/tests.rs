use super::*;

fn mono(bits_stored: u16, signed: bool) -> DicomInfo {
    DicomInfo {
        modality: None,
        rows: 1,
        columns: 4,
        samples_per_pixel: 1,
        bits_allocated: 16,
        bits_stored,
        signed,
        photometric_interpretation: "MONOCHROME2".into(),
        planar_configuration: 0,
        frames: 1,
        rescale_slope: 1.0,
        rescale_intercept: 0.0,
        windows: vec![],
        voi_lut_function: "LINEAR".into(),
        has_voi_lut: false,
        has_modality_lut: false,
        transfer_syntax: "1.2.840.10008.1.2.1".into(),
        transfer_syntax_name: Some("Explicit VR Little Endian".into()),
        decodable: true,
    }
}

#[test]
fn windows_parse_from_text() {
    assert_eq!("file".parse::<DicomWindow>().unwrap(), DicomWindow::File);
    assert_eq!(
        "MinMax".parse::<DicomWindow>().unwrap(),
        DicomWindow::MinMax
    );
    assert_eq!(
        " 40, 400".parse::<DicomWindow>().unwrap(),
        DicomWindow::Explicit {
            center: 40.0,
            width: 400.0
        }
    );
    for bad in ["40", "a,400", "40,0.5", "40,inf", ""] {
        let e = bad.parse::<DicomWindow>().unwrap_err().to_string();
        assert!(e.contains("dicom_window"), "{bad}: {e}");
    }
    let w = DicomWindow::Explicit {
        center: -600.0,
        width: 1500.0,
    };
    assert_eq!(w.to_string().parse::<DicomWindow>().unwrap(), w);
}

#[test]
fn samples_keep_stored_bits_and_sign() {
    // 12 bits stored in 16: the top nibble (an overlay, say) is dropped; signed extends.
    let raw = [0xFF, 0xFF, 0x00, 0x08, 0x01, 0xF0];
    assert_eq!(samples(&raw, &mono(12, false)), vec![4095.0, 2048.0, 1.0]);
    assert_eq!(samples(&raw, &mono(12, true)), vec![-1.0, -2048.0, 1.0]);
    assert_eq!(samples(&raw, &mono(16, true)), vec![-1.0, 2048.0, -4095.0]);
}

#[test]
fn the_linear_window_follows_dicom() {
    // c = 50, w = 11 (LINEAR): c' = 49.5, w' = 10; 44.5 and below black, above 54.5 white.
    let info = DicomInfo {
        windows: vec![(50.0, 11.0)],
        ..mono(16, false)
    };
    let t = grey_levels(vec![44.5, 49.5, 54.5, 54.6], &info, DicomWindow::File, None).unwrap();
    assert_eq!(t, vec![0.0, 0.5, 1.0, 1.0]);
    // MONOCHROME1 inverts after the window; the explicit window ignores the file's.
    let info1 = DicomInfo {
        photometric_interpretation: "MONOCHROME1".into(),
        ..info.clone()
    };
    let t = grey_levels(vec![44.5, 49.5, 60.0], &info1, DicomWindow::File, None).unwrap();
    assert_eq!(t, vec![1.0, 0.5, 0.0]);
    let e = DicomWindow::Explicit {
        center: 0.5,
        width: 2.0,
    };
    // c = 0.5, w = 2: c' = 0, w' = 1.
    assert_eq!(
        grey_levels(vec![-1.0, 0.0, 0.25, 1.0], &info, e, None).unwrap(),
        vec![0.0, 0.5, 0.75, 1.0]
    );
    // Rescale first: stored 1024 with intercept -1024 is 0 HU.
    let ct = DicomInfo {
        rescale_intercept: -1024.0,
        ..mono(16, false)
    };
    let e = DicomWindow::Explicit {
        center: 0.5,
        width: 2.0,
    };
    assert_eq!(grey_levels(vec![1024.0], &ct, e, None).unwrap(), vec![0.5]);
}

#[test]
fn exact_sigmoid_lut_and_min_max() {
    let exact = DicomInfo {
        windows: vec![(10.0, 4.0)],
        voi_lut_function: "LINEAR_EXACT".into(),
        ..mono(16, false)
    };
    let t = grey_levels(vec![8.0, 10.0, 12.0, 13.0], &exact, DicomWindow::File, None).unwrap();
    assert_eq!(t, vec![0.0, 0.5, 1.0, 1.0]);
    let sigmoid = DicomInfo {
        voi_lut_function: "SIGMOID".into(),
        ..exact.clone()
    };
    let t = grey_levels(vec![10.0], &sigmoid, DicomWindow::File, None).unwrap();
    assert_eq!(t, vec![0.5]);
    let lut = VoiLut {
        first: 2.0,
        data: vec![0, 100, 255],
        bits: 8,
    };
    let t = grey_levels(vec![0.0, 3.0, 9.0], &exact, DicomWindow::File, Some(&lut)).unwrap();
    assert_eq!(t, vec![0.0, 100.0 / 255.0, 1.0]);
    // Min-max stretches the image's own range; a flat image is black.
    let t = grey_levels(
        vec![-5.0, 0.0, 5.0],
        &mono(16, true),
        DicomWindow::File,
        None,
    )
    .unwrap();
    assert_eq!(t, vec![0.0, 0.5, 1.0]);
    let mut flat = [3.0, 3.0];
    min_max(&mut flat);
    assert_eq!(flat, [0.0, 0.0]);
    let bad = DicomInfo {
        windows: vec![(10.0, 0.5)],
        ..mono(16, false)
    };
    let e = grey_levels(vec![1.0], &bad, DicomWindow::File, None).unwrap_err();
    assert!(e.contains("below 1"), "{e}");
}

#[test]
fn colour_planes_interleave_and_ybr_converts() {
    assert_eq!(
        interleaved(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], true),
        vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0]
    );
    // Grey in YBR (Cb = Cr = 128) is grey in RGB.
    let mut v = vec![90.0, 128.0, 128.0];
    ybr_to_rgb(&mut v, 255.0);
    assert_eq!(v, vec![90.0, 90.0, 90.0]);
}
