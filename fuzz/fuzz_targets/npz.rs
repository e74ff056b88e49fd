//! NPZ archives (zip of .npy arrays): the header-only `probe`, then `load`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::scratch().join("x.npz");
    std::fs::write(&path, data).unwrap();
    let _ = focal_data::probe(&path);
    let _ = focal_data::load(&path, &common::options());
});
