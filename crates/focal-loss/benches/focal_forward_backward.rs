//! Baseline timings of the unfused focal losses, forward + backward, for the fused-kernel work.
//!
//! `cargo bench -p focal-loss --profile dev` (the dev profile builds Burn at opt-level 3 already;
//! a plain `cargo bench` rebuilds Burn for the release profile). Prints the median over 15 runs
//! after 3 warm-up runs; no assertions (timings depend on the machine).

use std::time::{Duration, Instant};

use burn::tensor::{Device, Distribution, Int, Tensor};
use focal_loss::{FocalLossConfig, SigmoidFocalLossConfig};

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn time(name: &str, mut step: impl FnMut()) {
    for _ in 0..3 {
        step();
    }
    let runs = (0..15)
        .map(|_| {
            let start = Instant::now();
            step();
            start.elapsed()
        })
        .collect();
    println!("{name:<48} {:>10.3} ms", median(runs).as_secs_f64() * 1e3);
}

fn main() {
    let device = Device::default().autodiff();
    for (n, c) in [(4096, 10), (65536, 2), (1024, 1000)] {
        let logits = Tensor::<2>::random([n, c], Distribution::Normal(0.0, 3.0), &device);
        let targets: Tensor<1, Int> =
            Tensor::<1>::random([n], Distribution::Uniform(0.0, c as f64), &device)
                .int()
                .clamp(0, c as i64 - 1);
        for (label, config) in [
            ("ce (gamma 0)", FocalLossConfig::new().with_gamma(0.0)),
            ("focal gamma 2", FocalLossConfig::new()),
            (
                "focal gamma 0.5, alpha, smoothing 0.1",
                FocalLossConfig::new()
                    .with_gamma(0.5)
                    .with_alpha(Some(vec![1.0; c]))
                    .with_label_smoothing(Some(0.1)),
            ),
        ] {
            let loss = config.init(&device);
            time(&format!("[{n}x{c}] {label}"), || {
                let x = logits.clone().detach().require_grad();
                let value = loss.forward(x.clone(), targets.clone());
                let grads = value.backward();
                let _ = x.grad(&grads).map(|g| g.into_data());
            });
        }
        let sig = SigmoidFocalLossConfig::new().init(&device);
        let multi = Tensor::<2>::random([n, c], Distribution::Bernoulli(0.1), &device);
        time(&format!("[{n}x{c}] sigmoid focal gamma 2"), || {
            let x = logits.clone().detach().require_grad();
            let grads = sig.forward(x.clone(), multi.clone()).backward();
            let _ = x.grad(&grads).map(|g| g.into_data());
        });
    }
}
