//! Benchmark: classification report, PR curve, average precision and ROC AUC on 10 million
//! binary predictions. `scripts/bench_metrics.py` runs this and scikit-learn on the same data.
//!
//! Data recipe (seeded, so every run sees the same predictions): SplitMix64 with seed 42; for
//! each sample draw `u1`, `u2` uniform in [0, 1) (top 53 bits / 2^53); the sample is positive
//! when `u1 < 0.02` (a 98:2 imbalance); its score is `(0.3 * y + 0.7 * u2)` rounded to f32 and
//! back (so that scores tie, as a float32 model's probabilities do); `y_pred = score >= 0.5`.
//!
//! Usage: `cargo bench -p focal-metrics --bench binary_10m -- [--n N] [--repeat R] [--write PATH]`
//! `--write` stores the data for the Python side: N label bytes (0/1), then N little-endian f64.

use std::hint::black_box;
use std::io::Write;
use std::time::Instant;

use focal_metrics::ranking::{self, BinaryCurve};
use focal_metrics::{ClassificationReport, ReportOptions};

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

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut n = 10_000_000usize;
    let mut repeat = 5usize;
    let mut write = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--n" => n = args.next().ok_or("--n needs a value")?.parse()?,
            "--repeat" => repeat = args.next().ok_or("--repeat needs a value")?.parse()?,
            "--write" => write = Some(args.next().ok_or("--write needs a path")?),
            // cargo bench passes --bench to harness = false binaries.
            _ => {}
        }
    }
    let mut rng = SplitMix64(42);
    let mut y_true = Vec::with_capacity(n);
    let mut scores = Vec::with_capacity(n);
    for _ in 0..n {
        let y = rng.next_f64() < 0.02;
        let u2 = rng.next_f64();
        y_true.push(y);
        scores.push((0.3 * f64::from(u8::from(y)) + 0.7 * u2) as f32 as f64);
    }
    let labels: Vec<usize> = y_true.iter().map(|&y| usize::from(y)).collect();
    let preds: Vec<usize> = scores.iter().map(|&s| usize::from(s >= 0.5)).collect();
    if let Some(path) = write {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
        f.write_all(&y_true.iter().map(|&y| u8::from(y)).collect::<Vec<_>>())?;
        for s in &scores {
            f.write_all(&s.to_le_bytes())?;
        }
        f.flush()?;
    }
    let opts = ReportOptions {
        digits: 4,
        ..Default::default()
    };

    let (mut shared, mut separate, mut sort_only) = (Vec::new(), Vec::new(), Vec::new());
    let (mut ap, mut auc) = (0.0, 0.0);
    let mut report_text = String::new();
    for _ in 0..repeat {
        // As a Rust caller would do it: one sort, every metric from it.
        let t = Instant::now();
        let report = ClassificationReport::new(&labels, &preds, 2, &opts)?;
        let curve = BinaryCurve::new(&y_true, &scores)?;
        let pr = curve.precision_recall_curve();
        ap = curve.average_precision()?;
        auc = curve.roc_auc()?;
        black_box(&pr);
        report_text = report.to_string();
        shared.push(t.elapsed().as_secs_f64());

        // As scikit-learn does it: each function sorts again.
        let t = Instant::now();
        let report = ClassificationReport::new(&labels, &preds, 2, &opts)?;
        let pr = ranking::precision_recall_curve(&y_true, &scores)?;
        let ap2 = ranking::average_precision(&y_true, &scores)?;
        let auc2 = ranking::roc_auc(&y_true, &scores)?;
        black_box((&report, &pr, ap2, auc2));
        separate.push(t.elapsed().as_secs_f64());

        let t = Instant::now();
        black_box(BinaryCurve::new(&y_true, &scores)?);
        sort_only.push(t.elapsed().as_secs_f64());
    }
    // One pass timed stage by stage, to show where the time goes.
    let t = Instant::now();
    black_box(ClassificationReport::new(&labels, &preds, 2, &opts)?);
    let t_report = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let curve = BinaryCurve::new(&y_true, &scores)?;
    let t_curve = t.elapsed().as_secs_f64();
    let t = Instant::now();
    black_box(curve.precision_recall_curve());
    let t_pr = t.elapsed().as_secs_f64();
    let t = Instant::now();
    black_box(curve.average_precision()?);
    let t_ap = t.elapsed().as_secs_f64();
    let t = Instant::now();
    black_box(curve.roc_auc()?);
    let t_auc = t.elapsed().as_secs_f64();
    println!(
        "stages_s report={t_report:.4} curve={t_curve:.4} pr_curve={t_pr:.4} ap={t_ap:.4} roc_auc={t_auc:.4}"
    );
    println!("n={n} positives={}", y_true.iter().filter(|&&y| y).count());
    println!("average_precision={ap:.17e}");
    println!("roc_auc={auc:.17e}");
    println!("rust_shared_median_s={:.6}", median(shared));
    println!("rust_separate_median_s={:.6}", median(separate));
    println!("rust_curve_only_median_s={:.6}", median(sort_only));
    print!("report_begin\n{report_text}report_end\n");
    Ok(())
}
