//! Benchmark: 95% bootstrap intervals for F1 and average precision (`binary_intervals`).
//!
//! Data recipe as `binary_10m` (SplitMix64 seed 42; positive when `u1 < 0.02`; score
//! `0.3 * y + 0.7 * u2` rounded to f32 so that scores tie; `y_pred = score >= 0.5`), at 10,000
//! samples by default, with the default 1000 resamples.
//!
//! Usage: `cargo bench -p focal-metrics --bench bootstrap -- [--n N] [--resamples R] [--repeat K]`

use std::hint::black_box;
use std::time::Instant;

use focal_metrics::bootstrap::{self, DEFAULT_RESAMPLES};

struct SplitMix64(u64);

impl SplitMix64 {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut n, mut resamples, mut repeat) = (10_000usize, DEFAULT_RESAMPLES, 5usize);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--n" => n = args.next().ok_or("--n needs a value")?.parse()?,
            "--resamples" => resamples = args.next().ok_or("--resamples needs a value")?.parse()?,
            "--repeat" => repeat = args.next().ok_or("--repeat needs a value")?.parse()?,
            _ => {} // cargo bench passes --bench
        }
    }
    let mut rng = SplitMix64(42);
    let mut y_true = Vec::with_capacity(n);
    let mut scores = Vec::with_capacity(n);
    for _ in 0..n {
        let (u1, u2) = (rng.next_f64(), rng.next_f64());
        let y = u1 < 0.02;
        y_true.push(y);
        scores.push(f64::from((0.3 * f64::from(u8::from(y)) + 0.7 * u2) as f32));
    }
    let y_pred: Vec<bool> = scores.iter().map(|&s| s >= 0.5).collect();

    let mut times = Vec::with_capacity(repeat);
    let mut last = None;
    for _ in 0..repeat {
        let start = Instant::now();
        let ci = bootstrap::binary_intervals(&y_true, &scores, &y_pred, resamples, 7)?;
        times.push(start.elapsed().as_secs_f64());
        last = Some(black_box(ci));
    }
    times.sort_by(f64::total_cmp);
    let ci = last.ok_or("--repeat must be at least 1")?;
    println!(
        "n = {n}, resamples = {resamples}: median {:.1} ms (min {:.1}, max {:.1}) over {repeat} runs",
        times[times.len() / 2] * 1e3,
        times[0] * 1e3,
        times[times.len() - 1] * 1e3
    );
    println!("{}", serde_json::to_string(&ci)?);
    Ok(())
}
