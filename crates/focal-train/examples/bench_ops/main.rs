//! Op-level benchmark: every op of a CNN step and of a ResNet-18/50 step, timed alone, then the
//! whole steps; `scripts/bench_ops.py` times the same list in PyTorch and prints the ratios.
//!
//! ```text
//! cargo run --release -p focal-train --example bench_ops -- [--device cpu|gpu] [--threads N]
//!     [--batch 32] [--image-size 64] [--models cnn,resnet18,resnet50@224,losses] [--reps 5]
//!     [--json FILE] [--ops conv2d,focal_loss,...] [--burn-kernels]
//! ```
//!
//! `model@size` times a ResNet at its own image size (`--models resnet18@224,resnet18@64,
//! resnet50@64,resnet50@224`: the four of issue 28 in one command). The ResNet rows are every
//! distinct convolution (stem, 3x3, 1x1, strided, downsample), batch norm in training mode
//! (batch statistics and the running statistics' update), ReLU, the residual add, the block's
//! end `relu(bn(x) + residual)`, max pooling, adaptive average pooling, the linear head, the
//! losses, and one step of Adam (epsilon 1e-8), AdamW (decay 1e-2) and SGD (momentum 0.9) over
//! all the parameters.
//!
//! Convolution, max pooling, batch norm (and the fused block end) and the optimizers go through
//! focal-kernels, as in focal's models and training loop; `--burn-kernels` times Burn's own
//! instead (burn-nn's `BatchNorm`, burn-optim's `Adam`, `AdamW`, `Sgd`).
//!
//! Each row is the median wall time of `--reps` runs after one warm-up; a GPU timing ends with a
//! device sync. Convolutions are timed three ways: forward alone (no autodiff), forward and
//! backward with only the input tracked (the gradient of the input), and with only the weight
//! tracked (the gradient of the weight); the backward rows include their forward, as PyTorch's
//! side does. `--json` writes one object per row with the op's parameters, which the PyTorch
//! script reads so that both sides time exactly the same list.

use std::collections::BTreeSet;
use std::time::Instant;

use burn::module::Module;
use burn::nn::BatchNormConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::ops::{ConvOptions, MaxPoolOptions};
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use focal_data::SampleKind;
use focal_kernels::{FusedAdamConfig, FusedSgdConfig};
use focal_loss::FocalLossConfig;
use focal_train::{DeviceChoice, Model, ModelKind};
use serde_json::json;

mod ops;

use ops::{Op, cnn_ops, resnet_ops};

struct Args {
    device: DeviceChoice,
    threads: Option<usize>,
    batch: usize,
    image_size: usize,
    models: Vec<String>,
    reps: usize,
    json: Option<std::path::PathBuf>,
    /// Only the ops of these names (`--ops`), every op when empty.
    ops: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        device: DeviceChoice::Cpu,
        threads: None,
        batch: 32,
        image_size: 64,
        models: vec!["cnn".into(), "resnet18".into(), "resnet50".into()],
        reps: 5,
        json: None,
        ops: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |v: String| v.parse::<usize>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--device" => a.device = value()?.parse().map_err(|e| format!("{e}"))?,
            "--threads" => a.threads = Some(num(value()?)?),
            "--batch" => a.batch = num(value()?)?,
            "--image-size" => a.image_size = num(value()?)?,
            "--reps" => a.reps = num(value()?)?.max(1),
            "--models" => a.models = value()?.split(',').map(str::to_string).collect(),
            "--json" => a.json = Some(value()?.into()),
            "--ops" => a.ops = value()?.split(',').map(str::to_string).collect(),
            "--burn-kernels" => BURN_KERNELS.store(true, std::sync::atomic::Ordering::Relaxed),
            _ => return Err(format!("unknown flag {flag}; see the example's doc")),
        }
    }
    Ok(a)
}

/// Median of `reps` timed runs of `f` (after one warm-up), in milliseconds; each run ends with a
/// device sync.
fn time_ms(device: &Device, reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let _ = device.sync();
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            f();
            let _ = device.sync();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn random<const D: usize>(shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
}

/// Consumes a tensor's gradient-bearing result: its sum, backward.
fn backward<const D: usize>(y: Tensor<D>) {
    let _ = y.sum().backward();
}

/// `--burn-kernels`: time Burn's own conv2d / max_pool2d instead of focal-kernels' (which the
/// models use).
static BURN_KERNELS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn conv2d(x: Tensor<4>, w: Tensor<4>, b: Option<Tensor<1>>, o: ConvOptions<2>) -> Tensor<4> {
    if BURN_KERNELS.load(std::sync::atomic::Ordering::Relaxed) {
        burn::tensor::module::conv2d(x, w, b, o)
    } else {
        focal_kernels::conv2d(x, w, b, o)
    }
}

fn batch_norm(bn: &burn::nn::BatchNorm, x: Tensor<4>) -> Tensor<4> {
    if BURN_KERNELS.load(std::sync::atomic::Ordering::Relaxed) {
        bn.forward(x)
    } else {
        focal_kernels::batch_norm_layer(bn, x)
    }
}

fn bn_add_relu(bn: &burn::nn::BatchNorm, x: Tensor<4>, r: Tensor<4>) -> Tensor<4> {
    if BURN_KERNELS.load(std::sync::atomic::Ordering::Relaxed) {
        burn::tensor::activation::relu(bn.forward(x) + r)
    } else {
        focal_kernels::batch_norm_add_relu_layer(bn, x, r)
    }
}

fn max_pool2d(x: Tensor<4>, o: MaxPoolOptions<2>) -> Tensor<4> {
    if BURN_KERNELS.load(std::sync::atomic::Ordering::Relaxed) {
        burn::tensor::module::max_pool2d(x, o)
    } else {
        focal_kernels::max_pool2d(x, o)
    }
}

/// Time rows of one op: `(variant, ms)`.
fn time_op(op: &Op, device: &Device, reps: usize) -> Vec<(&'static str, f64)> {
    let plain = device.clone().without_autodiff();
    let ad = device.clone().autodiff();
    match *op {
        Op::Conv {
            n,
            cin,
            h,
            cout,
            k,
            stride,
            pad,
        } => {
            let opts = || ConvOptions::new([stride, stride], [pad, pad], [1, 1], 1);
            let x = random([n, cin, h, h], &plain);
            let w = random([cout, cin, k, k], &plain);
            let fwd = time_ms(device, reps, || {
                let _ = conv2d(x.clone(), w.clone(), None, opts());
            });
            let xa = random([n, cin, h, h], &ad);
            let wa = random([cout, cin, k, k], &ad);
            let gin = time_ms(device, reps, || {
                backward(conv2d(xa.clone().require_grad(), wa.clone(), None, opts()))
            });
            let gw = time_ms(device, reps, || {
                backward(conv2d(xa.clone(), wa.clone().require_grad(), None, opts()))
            });
            vec![
                ("fwd", fwd),
                ("fwd+grad input", gin),
                ("fwd+grad weight", gw),
            ]
        }
        Op::BatchNorm { n, c, h } => {
            let bn = BatchNormConfig::new(c).init(&ad);
            let x = random([n, c, h, h], &ad);
            let fwd = time_ms(device, reps, || {
                let _ = batch_norm(&bn, x.clone());
            });
            let both = time_ms(device, reps, || {
                backward(batch_norm(&bn, x.clone().require_grad()))
            });
            vec![("fwd", fwd), ("fwd+bwd", both)]
        }
        Op::BnAddRelu { n, c, h } => {
            let bn = BatchNormConfig::new(c).init(&ad);
            let x = random([n, c, h, h], &ad);
            let r = random([n, c, h, h], &ad);
            let fwd = time_ms(device, reps, || {
                let _ = bn_add_relu(&bn, x.clone(), r.clone());
            });
            let both = time_ms(device, reps, || {
                backward(bn_add_relu(
                    &bn,
                    x.clone().require_grad(),
                    r.clone().require_grad(),
                ))
            });
            vec![("fwd", fwd), ("fwd+bwd", both)]
        }
        Op::Add { n, c, h } => {
            let x = random([n, c, h, h], &ad);
            let r = random([n, c, h, h], &ad);
            let fwd = time_ms(device, reps, || {
                let _ = x.clone() + r.clone();
            });
            let both = time_ms(device, reps, || {
                backward(x.clone().require_grad() + r.clone().require_grad())
            });
            vec![("fwd", fwd), ("fwd+bwd", both)]
        }
        Op::AvgPool { n, c, h } => {
            let pool = burn::nn::pool::AdaptiveAvgPool2dConfig::new([1, 1]).init();
            let x = random([n, c, h, h], &ad);
            let fwd = time_ms(device, reps, || {
                let _ = pool.forward(x.clone());
            });
            let both = time_ms(device, reps, || {
                backward(pool.forward(x.clone().require_grad()))
            });
            vec![("fwd", fwd), ("fwd+bwd", both)]
        }
        Op::Relu { n, c, h } => {
            let x = random([n, c, h, h], &ad);
            let fwd = time_ms(device, reps, || {
                let _ = burn::tensor::activation::relu(x.clone());
            });
            let both = time_ms(device, reps, || {
                backward(burn::tensor::activation::relu(x.clone().require_grad()))
            });
            vec![("fwd", fwd), ("fwd+bwd", both)]
        }
        Op::MaxPool {
            n,
            c,
            h,
            k,
            stride,
            pad,
        } => {
            let opts = || {
                MaxPoolOptions::new([k, k])
                    .with_stride([stride, stride])
                    .with_padding([pad, pad])
            };
            let x = random([n, c, h, h], &ad);
            let fwd = time_ms(device, reps, || {
                let _ = max_pool2d(x.clone(), opts());
            });
            let both = time_ms(device, reps, || {
                backward(max_pool2d(x.clone().require_grad(), opts()))
            });
            vec![("fwd", fwd), ("fwd+bwd", both)]
        }
        Op::Linear { n, fin, fout } => {
            let lin = burn::nn::LinearConfig::new(fin, fout).init(&ad);
            let x = random([n, fin], &ad);
            let fwd = time_ms(device, reps, || {
                let _ = lin.forward(x.clone());
            });
            let both = time_ms(device, reps, || {
                backward(lin.forward(x.clone().require_grad()))
            });
            vec![("fwd", fwd), ("fwd+bwd", both)]
        }
        Op::Loss { n, c, focal } => {
            let z = random([n, c], &ad);
            let t: Vec<i64> = (0..n).map(|i| (i * 7 % c) as i64).collect();
            let y = Tensor::<1, Int>::from_data(TensorData::new(t, [n]), &ad);
            let f = FocalLossConfig::new()
                .with_gamma(if focal { 2.0 } else { 0.0 })
                .init(&ad);
            let ce = burn::nn::loss::CrossEntropyLossConfig::new().init(&ad);
            let both = time_ms(device, reps, || {
                let l = if focal {
                    f.forward(z.clone().require_grad(), y.clone())
                } else {
                    ce.forward(z.clone().require_grad(), y.clone())
                };
                backward(l)
            });
            vec![("fwd+bwd", both)]
        }
        Op::Optim {
            kind: optimizer,
            model,
            ..
        } => {
            let (m, kind) = model_for(model, &ad);
            let mut optim = optimizer_for(optimizer);
            let x = random(input_shape(kind, 8, 64), &ad);
            let mut m = Some(m);
            // Gradients are made anew (untimed) before each timed step: they are consumed.
            let mut times: Vec<f64> = (0..=reps)
                .map(|_| {
                    let model = m.take().expect("the model is put back after each step");
                    let grads = model.forward(x.clone()).sum().backward();
                    let grads = GradientsParams::from_grads(grads, &model);
                    let _ = device.sync();
                    let start = Instant::now();
                    m = Some(optim.step(1e-3, model, grads));
                    let _ = device.sync();
                    start.elapsed().as_secs_f64() * 1e3
                })
                .skip(1)
                .collect();
            times.sort_by(f64::total_cmp);
            vec![("step", times[times.len() / 2])]
        }
        Op::Step { model, n, c, h } => {
            let (m, _) = model_for(model, &ad);
            let mut optim = optimizer_for("adam");
            let x = random([n, c, h, h], &ad);
            let t: Vec<i64> = (0..n).map(|i| i64::from(i % 8 == 0)).collect();
            let y = Tensor::<1, Int>::from_data(TensorData::new(t, [n]), &ad);
            let loss = FocalLossConfig::new().init(&ad);
            let mut m = Some(m);
            let ms = time_ms(device, reps, || {
                let model = m.take().expect("the model is put back after each step");
                let l = loss.forward(model.forward(x.clone()), y.clone());
                let grads = GradientsParams::from_grads(l.backward(), &model);
                m = Some(optim.step(1e-3, model, grads));
            });
            // The same step with the loss the `ce` remedy trains with (Burn's cross-entropy):
            // the focal loss's overhead over plain cross-entropy inside a step.
            let ce = burn::nn::loss::CrossEntropyLossConfig::new().init(&ad);
            let ms_ce = time_ms(device, reps, || {
                let model = m.take().expect("the model is put back after each step");
                let l = ce.forward(model.forward(x.clone()), y.clone());
                let grads = GradientsParams::from_grads(l.backward(), &model);
                m = Some(optim.step(1e-3, model, grads));
            });
            vec![("fwd+bwd+adam", ms), ("fwd+bwd+adam, ce", ms_ce)]
        }
    }
}

/// The optimizer of an `Op::Optim` row: focal's fused steps (as `focal train` builds them), or
/// burn-optim's with `--burn-kernels`.
fn optimizer_for(kind: &str) -> ModuleOptimizer {
    let burn = BURN_KERNELS.load(std::sync::atomic::Ordering::Relaxed);
    let momentum = Some(MomentumConfig::new().with_momentum(0.9));
    match (kind, burn) {
        ("adamw", false) => FusedAdamConfig::new()
            .with_epsilon(1e-8)
            .with_weight_decay(Some(WeightDecayConfig::new(1e-2)))
            .init_adamw(),
        ("adamw", true) => AdamWConfig::new()
            .with_epsilon(1e-8)
            .with_weight_decay(1e-2)
            .init(),
        ("sgd", false) => FusedSgdConfig::new().with_momentum(momentum).init(),
        ("sgd", true) => SgdConfig::new().with_momentum(momentum).init(),
        (_, false) => FusedAdamConfig::new().with_epsilon(1e-8).init(),
        (_, true) => AdamConfig::new().with_epsilon(1e-8).init(),
    }
}

fn model_for(name: &str, device: &Device) -> (Model, ModelKind) {
    let kind = match name {
        "resnet18" => ModelKind::Resnet18,
        "resnet50" => ModelKind::Resnet50,
        _ => ModelKind::Cnn,
    };
    let sample = match kind {
        ModelKind::Cnn => SampleKind::Image {
            channels: 1,
            height: 28,
            width: 28,
        },
        _ => SampleKind::Image {
            channels: 3,
            height: 64,
            width: 64,
        },
    };
    let model = Model::new(kind, &sample, 2, device).expect("the bench's models are valid");
    (model, kind)
}

fn input_shape(kind: ModelKind, n: usize, s: usize) -> [usize; 4] {
    match kind {
        ModelKind::Cnn => [n, 1, 28, 28],
        _ => [n, 3, s, s],
    }
}

fn main() {
    // The allocator settings of the `focal` binary, so that each op is timed as focal runs it.
    focal_kernels::allocator::keep_step_buffers();
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    if let Some(t) = args.threads
        && let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
    {
        eprintln!("error: --threads {t}: {e}");
        std::process::exit(2);
    }
    let device = match args.device.resolve() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let n = args.batch;
    let mut ops: Vec<(String, Op)> = Vec::new();
    // The optimizer rows depend on the model, not on the image size: once per model.
    let mut optimized = BTreeSet::new();
    for entry in &args.models {
        // `resnet18@224`: a model at its own image size; plain `resnet18` at --image-size.
        let (m, s) = match entry.split_once('@') {
            Some((m, size)) => match size.parse::<usize>() {
                Ok(size) => (m.to_string(), size),
                Err(e) => {
                    eprintln!("error: --models {entry}: {e}");
                    std::process::exit(2);
                }
            },
            None => (entry.clone(), args.image_size),
        };
        let m = &m;
        if m == "losses" {
            // The loss alone at the issue's shapes: [65536, 2], [4096, 1000], [256, 10].
            for (rows, classes) in [(65536, 2), (4096, 1000), (256, 10)] {
                for focal in [false, true] {
                    ops.push((
                        m.clone(),
                        Op::Loss {
                            n: rows,
                            c: classes,
                            focal,
                        },
                    ));
                }
            }
            continue;
        }
        let (list, step) = match m.as_str() {
            "cnn" => (
                cnn_ops(n),
                Op::Step {
                    model: "cnn",
                    n,
                    c: 1,
                    h: 28,
                },
            ),
            "resnet18" => (
                resnet_ops(false, n, s),
                Op::Step {
                    model: "resnet18",
                    n,
                    c: 3,
                    h: s,
                },
            ),
            "resnet50" => (
                resnet_ops(true, n, s),
                Op::Step {
                    model: "resnet50",
                    n,
                    c: 3,
                    h: s,
                },
            ),
            other => {
                eprintln!(
                    "error: --models: unknown model {other}; give cnn, resnet18, resnet50, losses"
                );
                std::process::exit(2);
            }
        };
        let label = entry.clone();
        ops.extend(list.into_iter().map(|o| (label.clone(), o)));
        ops.push((
            label.clone(),
            Op::Loss {
                n,
                c: 2,
                focal: false,
            },
        ));
        ops.push((
            label.clone(),
            Op::Loss {
                n,
                c: 2,
                focal: true,
            },
        ));
        let (model, _) = model_for(m, &device.clone().autodiff());
        for kind in ["adam", "adamw", "sgd"] {
            if !optimized.insert((m.clone(), kind)) {
                continue;
            }
            ops.push((
                label.clone(),
                Op::Optim {
                    kind,
                    model: match m.as_str() {
                        "resnet18" => "resnet18",
                        "resnet50" => "resnet50",
                        _ => "cnn",
                    },
                    params: model.num_params(),
                },
            ));
        }
        ops.push((label, step));
    }
    if !args.ops.is_empty() {
        ops.retain(|(_, op)| args.ops.iter().any(|name| name == op.name()));
    }
    let threads = rayon::current_num_threads();
    println!(
        "focal op benchmark: device {:?}, {threads} rayon threads, batch {n}, ResNet images {}px unless the model says (model@size), median of {} runs{}",
        args.device,
        args.image_size,
        args.reps,
        if BURN_KERNELS.load(std::sync::atomic::Ordering::Relaxed) {
            "; Burn's own kernels and optimizers"
        } else {
            ""
        }
    );
    println!("| model | op | shape | variant | focal ms |");
    println!("|---|---|---|---|---:|");
    let mut rows = Vec::new();
    for (model, op) in &ops {
        for (variant, ms) in time_op(op, &device, args.reps) {
            println!(
                "| {model} | {} | {} | {variant} | {ms:.3} |",
                op.name(),
                op.shape()
            );
            rows.push(json!({
                "model": model, "op": op.name(), "shape": op.shape(), "variant": variant,
                "params": op.params(), "focal_ms": ms,
            }));
        }
        // Written after every op, so that a run stopped by a time limit (a GPU's autotune can
        // take minutes) still leaves the rows it timed.
        write_json(&args, threads, n, args.image_size, &rows);
    }
}

/// Writes the rows timed so far to `--json`, when given.
fn write_json(args: &Args, threads: usize, n: usize, s: usize, rows: &[serde_json::Value]) {
    if let Some(path) = &args.json {
        let doc = json!({
            "device": format!("{:?}", args.device), "threads": threads, "batch": n,
            "image_size": s, "reps": args.reps, "rows": rows,
        });
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: --json {}: {e}", path.display());
            std::process::exit(1);
        }
    }
}
