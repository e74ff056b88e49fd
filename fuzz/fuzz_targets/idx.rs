//! IDX (raw and gzip): the input is split into a labels file (its first two bytes give that
//! file's length) and an images file, probed (headers only), then loaded as an MNIST folder.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let n = usize::from(u16::from_le_bytes([data[0], data[1]])).min(data.len() - 2);
    let (labels, images) = data[2..].split_at(n);
    let dir = common::scratch().join("idx");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte"), labels).unwrap();
    std::fs::write(dir.join("train-images-idx3-ubyte"), images).unwrap();
    let _ = focal_data::probe(&dir);
    let _ = focal_data::load(&dir, &common::options());
});
