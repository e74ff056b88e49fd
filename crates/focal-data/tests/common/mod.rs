//! Fixture writers shared by the integration tests: tiny IDX, NPZ, image-folder and CSV files.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

/// IDX bytes: magic, big-endian dims, data.
pub fn idx_bytes(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut v = magic.to_be_bytes().to_vec();
    for d in dims {
        v.extend(d.to_be_bytes());
    }
    v.extend(data);
    v
}

/// Gzip-compresses `bytes`.
pub fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// `n` images of `h x w` whose pixel values are `(sample * 7 + pixel) % 256`, and labels
/// `sample % n_classes`.
pub fn images_labels(n: usize, h: usize, w: usize, n_classes: usize) -> (Vec<u8>, Vec<u8>) {
    let images = (0..n * h * w)
        .map(|i| ((i / (h * w)) * 7 + i % (h * w)) as u8)
        .collect();
    let labels = (0..n).map(|i| (i % n_classes) as u8).collect();
    (images, labels)
}

/// An `.npy` (version 1.0) array.
pub fn npy(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let shape_txt = match shape {
        [n] => format!("({n},)"),
        s => format!(
            "({})",
            s.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_txt}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend((header.len() as u16).to_le_bytes());
    v.extend(header.as_bytes());
    v.extend(data);
    v
}

/// Writes an `.npz` with the given entries (`name` without `.npy`).
pub fn write_npz(path: &Path, entries: &[(&str, Vec<u8>)]) {
    let f = std::fs::File::create(path).unwrap();
    let mut z = zip::ZipWriter::new(f);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        z.start_file(format!("{name}.npy"), opts).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
}

/// Writes a greyscale PNG of `w x h` filled with `value`.
pub fn write_png_gray(path: &Path, w: u32, h: u32, value: u8) {
    image::GrayImage::from_pixel(w, h, image::Luma([value]))
        .save(path)
        .unwrap();
}

/// Writes an RGB PNG of `w x h` filled with `rgb`.
pub fn write_png_rgb(path: &Path, w: u32, h: u32, rgb: [u8; 3]) {
    image::RgbImage::from_pixel(w, h, image::Rgb(rgb))
        .save(path)
        .unwrap();
}
