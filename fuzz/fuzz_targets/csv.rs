//! CSV data sets (a header, numeric features, a label column).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::scratch().join("x.csv");
    std::fs::write(&path, data).unwrap();
    let _ = focal_data::load(&path, &common::options());
});
