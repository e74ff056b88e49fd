//! Helpers shared by the CLI test binaries.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::Path;
use std::process::{Command, Output};

/// Runs the `focal` binary with `args`.
pub fn focal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_focal"))
        .args(args)
        .output()
        .unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Two blobs, 4 features, one row in five `rare`.
pub fn write_csv(path: &Path, n: usize) {
    let mut s = String::from("f0,f1,f2,f3,label\n");
    for i in 0..n {
        let rare = i % 5 == 0;
        let shift = if rare { 1.5 } else { 0.0 };
        let v = |k: usize| ((i * 37 + k * 11) % 17) as f64 / 17.0 + shift;
        s.push_str(&format!(
            "{},{},{},{},{}\n",
            v(0),
            v(1),
            v(2),
            v(3),
            if rare { "rare" } else { "common" }
        ));
    }
    std::fs::write(path, s).unwrap();
}
