//! What every target shares: a scratch folder of this process, and the options every load uses.

use std::path::PathBuf;

/// A folder of this fuzzing process (libFuzzer runs one input at a time per process).
pub fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("focal-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A budget of 64 MB, so that a declared size the loaders accept cannot exhaust the fuzzer's
/// memory limit (libFuzzer's -rss_limit_mb, 2 GB by default) either. (`predictions` reads no
/// data set and so does not use it.)
#[allow(dead_code)]
pub fn options() -> focal_data::LoadOptions {
    focal_data::LoadOptions {
        memory_budget: Some(64_000_000),
        ..focal_data::LoadOptions::default()
    }
}
