//! Load time of a manifest against the same images as class folders (issue 29's target: a
//! manifest of 3,000 JPEGs loads as fast as the class folders).
//!
//! ```text
//! cargo run --release -p focal-data --no-default-features --example manifest_vs_folder -- \
//!     DIR [WIDTHxHEIGHT] [ROUNDS]
//! ```
//!
//! `DIR` is a folder of class folders (e.g. Br35H's `yes/` and `no/`, 1,500 JPEGs each); a
//! manifest of the same files (`image,label`, paths relative to `DIR`) is written to a
//! temporary folder. Both are loaded `ROUNDS` times (default 3), each first every other round,
//! at `WIDTHxHEIGHT` (default 64x64, the CNN's size; the images' own sizes differ), and the
//! best and median wall and CPU times (the loading thread's, from Linux's schedstat) of each
//! are printed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use focal_data::{LoadOptions, load};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first().map(PathBuf::from) else {
        return Err("usage: manifest_vs_folder DIR [WIDTHxHEIGHT] [ROUNDS]".into());
    };
    let size = match args.get(1) {
        Some(s) => {
            let (w, h) = s
                .split_once('x')
                .ok_or("size as WIDTHxHEIGHT, e.g. 64x64")?;
            (w.parse()?, h.parse()?)
        }
        None => (64, 64),
    };
    let rounds: usize = args.get(2).map(|r| r.parse()).transpose()?.unwrap_or(3);
    let tmp = std::env::temp_dir().join(format!("focal-manifest-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    let csv = tmp.join("labels.csv");
    let n = write_manifest(&dir, &csv)?;
    let folder_opts = LoadOptions {
        default_image_size: Some(size),
        ..LoadOptions::default()
    };
    let manifest_opts = LoadOptions {
        image_column: Some("image".into()),
        label_column: Some("label".into()),
        image_root: Some(dir.clone()),
        ..folder_opts.clone()
    };
    let (mut t_folder, mut t_manifest) = (Vec::new(), Vec::new());
    // CPU time of this thread (loading is single-threaded) where Linux gives it: on a machine
    // shared with other work it varies far less than wall time.
    let cpu = || -> Option<f64> {
        let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
        let ns: f64 = text.split_whitespace().next()?.parse().ok()?;
        Some(ns / 1e9)
    };
    let timed = |path: &Path, opts: &LoadOptions| -> Result<_, focal_data::DataError> {
        let (t, c) = (Instant::now(), cpu());
        let ds = load(path, opts)?;
        let spent = match (c, cpu()) {
            (Some(a), Some(b)) => (t.elapsed().as_secs_f64(), b - a),
            _ => (t.elapsed().as_secs_f64(), f64::NAN),
        };
        Ok((ds, spent))
    };
    for round in 0..rounds {
        // Each goes first every other round, so neither gains from the other's warm caches.
        let (a, b) = if round % 2 == 0 {
            let a = timed(&dir, &folder_opts)?;
            (a, timed(&csv, &manifest_opts)?)
        } else {
            let b = timed(&csv, &manifest_opts)?;
            (timed(&dir, &folder_opts)?, b)
        };
        t_folder.push(a.1);
        t_manifest.push(b.1);
        if (&a.0.x, &a.0.y, &a.0.class_names) != (&b.0.x, &b.0.y, &b.0.class_names) {
            return Err("the manifest and the folders loaded different data".into());
        }
    }
    std::fs::remove_dir_all(&tmp)?;
    let stats = |v: &[(f64, f64)], pick: fn(&(f64, f64)) -> f64| {
        let mut v: Vec<f64> = v.iter().map(pick).collect();
        v.sort_by(f64::total_cmp);
        (v[0], v[v.len() / 2])
    };
    println!("{n} images at {}x{}, {rounds} rounds each", size.0, size.1);
    for (what, pick) in [
        ("wall", (|t: &(f64, f64)| t.0) as fn(&(f64, f64)) -> f64),
        ("cpu ", |t: &(f64, f64)| t.1),
    ] {
        let (fb, fm) = stats(&t_folder, pick);
        let (mb, mm) = stats(&t_manifest, pick);
        println!(
            "{what}: class folders best {fb:.3} s, median {fm:.3} s; manifest best {mb:.3} s, \
             median {mm:.3} s ({:+.1}% on the best, {:+.1}% on the median)",
            (mb / fb - 1.0) * 100.0,
            (mm / fm - 1.0) * 100.0
        );
    }
    Ok(())
}

/// Writes `image,label` rows for every file of `dir`'s class folders; returns the row count.
fn write_manifest(dir: &Path, csv: &Path) -> Result<usize, Box<dyn std::error::Error>> {
    let mut text = String::from("image,label\n");
    let mut n = 0;
    let mut classes: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    classes.sort();
    for class in classes {
        let name = class
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&class)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for f in files {
            let file = f
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            text.push_str(&format!("{name}/{file},{name}\n"));
            n += 1;
        }
    }
    std::fs::write(csv, text)?;
    Ok(n)
}
