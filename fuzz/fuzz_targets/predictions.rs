//! Predictions CSV (`y_true,y_pred[,p_0,...]`), as `focal eval --predictions` reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::scratch().join("predictions.csv");
    std::fs::write(&path, data).unwrap();
    let _ = focal_data::predictions::PredictionsFile::read(&path);
});
