//! The ops of one training step of each model, with their shapes.

use serde_json::json;
use std::collections::BTreeSet;

/// One op to time, with everything the PyTorch side needs to rebuild it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    /// 2-D convolution, no bias.
    Conv {
        n: usize,
        cin: usize,
        h: usize,
        cout: usize,
        k: usize,
        stride: usize,
        pad: usize,
    },
    /// Batch normalisation in training mode (batch statistics, running statistics updated).
    BatchNorm { n: usize, c: usize, h: usize },
    /// A block's end: `relu(batch_norm(x) + residual)` (one fused op on focal's side).
    BnAddRelu { n: usize, c: usize, h: usize },
    /// The residual add alone.
    Add { n: usize, c: usize, h: usize },
    /// Adaptive average pooling to 1x1.
    AvgPool { n: usize, c: usize, h: usize },
    /// ReLU.
    Relu { n: usize, c: usize, h: usize },
    /// Max pooling.
    MaxPool {
        n: usize,
        c: usize,
        h: usize,
        k: usize,
        stride: usize,
        pad: usize,
    },
    /// Fully connected layer with bias.
    Linear { n: usize, fin: usize, fout: usize },
    /// Softmax cross-entropy, or focal loss with gamma 2.
    Loss { n: usize, c: usize, focal: bool },
    /// One optimizer step over a model's parameters (gradients given): `adam` (epsilon 1e-8, as
    /// focal trains), `adamw` (weight decay 1e-2) or `sgd` (momentum 0.9).
    Optim {
        kind: &'static str,
        model: &'static str,
        params: usize,
    },
    /// A whole training step: forward, focal loss, backward, Adam.
    Step {
        model: &'static str,
        n: usize,
        c: usize,
        h: usize,
    },
}

impl Op {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Op::Conv { .. } => "conv2d",
            Op::BatchNorm { .. } => "batch_norm",
            Op::BnAddRelu { .. } => "bn_add_relu",
            Op::Add { .. } => "add",
            Op::AvgPool { .. } => "avg_pool",
            Op::Relu { .. } => "relu",
            Op::MaxPool { .. } => "max_pool2d",
            Op::Linear { .. } => "linear",
            Op::Loss { focal: false, .. } => "cross_entropy",
            Op::Loss { focal: true, .. } => "focal_loss",
            Op::Optim { kind, .. } => kind,
            Op::Step { .. } => "step",
        }
    }

    pub(crate) fn shape(&self) -> String {
        match self {
            Op::Conv {
                n,
                cin,
                h,
                cout,
                k,
                stride,
                pad,
            } => format!("{n}x{cin}x{h}x{h} -> {cout}, {k}x{k} s{stride} p{pad}"),
            Op::BatchNorm { n, c, h }
            | Op::Relu { n, c, h }
            | Op::BnAddRelu { n, c, h }
            | Op::Add { n, c, h }
            | Op::AvgPool { n, c, h } => format!("{n}x{c}x{h}x{h}"),
            Op::MaxPool {
                n,
                c,
                h,
                k,
                stride,
                pad,
            } => format!("{n}x{c}x{h}x{h}, {k}x{k} s{stride} p{pad}"),
            Op::Linear { n, fin, fout } => format!("{n}x{fin} -> {fout}"),
            Op::Loss { n, c, .. } => format!("{n}x{c}"),
            Op::Optim { model, params, .. } => format!("{model}, {params} parameters"),
            Op::Step { model, n, c, h } => format!("{model}, batch {n}x{c}x{h}x{h}"),
        }
    }

    pub(crate) fn params(&self) -> serde_json::Value {
        match self {
            Op::Conv {
                n,
                cin,
                h,
                cout,
                k,
                stride,
                pad,
            } => {
                json!({"n": n, "cin": cin, "h": h, "cout": cout, "k": k, "stride": stride, "pad": pad})
            }
            Op::BatchNorm { n, c, h }
            | Op::Relu { n, c, h }
            | Op::BnAddRelu { n, c, h }
            | Op::Add { n, c, h }
            | Op::AvgPool { n, c, h } => json!({"n": n, "c": c, "h": h}),
            Op::MaxPool {
                n,
                c,
                h,
                k,
                stride,
                pad,
            } => json!({"n": n, "c": c, "h": h, "k": k, "stride": stride, "pad": pad}),
            Op::Linear { n, fin, fout } => json!({"n": n, "fin": fin, "fout": fout}),
            Op::Loss { n, c, focal } => json!({"n": n, "c": c, "focal": focal}),
            Op::Optim {
                kind,
                model,
                params,
            } => json!({"kind": kind, "model": model, "params": params}),
            Op::Step { model, n, c, h } => json!({"model": model, "n": n, "c": c, "h": h}),
        }
    }
}

/// The ops of the small CNN (`--model cnn`) at batch `n` on 1x28x28.
pub(crate) fn cnn_ops(n: usize) -> Vec<Op> {
    vec![
        Op::Conv {
            n,
            cin: 1,
            h: 28,
            cout: 32,
            k: 3,
            stride: 1,
            pad: 1,
        },
        Op::Relu { n, c: 32, h: 28 },
        Op::MaxPool {
            n,
            c: 32,
            h: 28,
            k: 2,
            stride: 2,
            pad: 0,
        },
        Op::Conv {
            n,
            cin: 32,
            h: 14,
            cout: 64,
            k: 3,
            stride: 1,
            pad: 1,
        },
        Op::Relu { n, c: 64, h: 14 },
        Op::MaxPool {
            n,
            c: 64,
            h: 14,
            k: 2,
            stride: 2,
            pad: 0,
        },
        Op::Linear {
            n,
            fin: 64 * 7 * 7,
            fout: 128,
        },
        Op::Linear {
            n,
            fin: 128,
            fout: 2,
        },
    ]
}

/// The distinct ops of a torchvision ResNet (18: basic blocks, 50: bottlenecks) at batch `n` on
/// 3x`s`x`s`, in network order.
pub(crate) fn resnet_ops(bottleneck: bool, n: usize, s: usize) -> Vec<Op> {
    let mut ops = Vec::new();
    let mut seen = BTreeSet::new();
    let mut push = |op: Op, ops: &mut Vec<Op>| {
        if seen.insert(format!("{op:?}")) {
            ops.push(op);
        }
    };
    let out = |h: usize, k: usize, stride: usize, pad: usize| (h + 2 * pad - k) / stride + 1;
    let conv = |cin, h, cout, k, stride| Op::Conv {
        n,
        cin,
        h,
        cout,
        k,
        stride,
        pad: k / 2,
    };
    push(conv(3, s, 64, 7, 2), &mut ops);
    let mut h = out(s, 7, 2, 3);
    push(Op::BatchNorm { n, c: 64, h }, &mut ops);
    push(Op::Relu { n, c: 64, h }, &mut ops);
    push(
        Op::MaxPool {
            n,
            c: 64,
            h,
            k: 3,
            stride: 2,
            pad: 1,
        },
        &mut ops,
    );
    h = out(h, 3, 2, 1);
    let (blocks, expansion) = if bottleneck {
        ([3, 4, 6, 3], 4)
    } else {
        ([2, 2, 2, 2], 1)
    };
    let mut inplanes = 64;
    for (stage, &count) in blocks.iter().enumerate() {
        let planes = 64 << stage;
        for b in 0..count {
            let stride = if stage > 0 && b == 0 { 2 } else { 1 };
            let ho = out(h, 3, stride, 1);
            let width = planes * expansion;
            if stride != 1 || inplanes != width {
                push(conv(inplanes, h, width, 1, stride), &mut ops);
                push(Op::BatchNorm { n, c: width, h: ho }, &mut ops);
            }
            if bottleneck {
                push(conv(inplanes, h, planes, 1, 1), &mut ops);
                push(Op::BatchNorm { n, c: planes, h }, &mut ops);
                push(Op::Relu { n, c: planes, h }, &mut ops);
                push(conv(planes, h, planes, 3, stride), &mut ops);
                push(
                    Op::BatchNorm {
                        n,
                        c: planes,
                        h: ho,
                    },
                    &mut ops,
                );
                push(conv(planes, ho, width, 1, 1), &mut ops);
                push(Op::BatchNorm { n, c: width, h: ho }, &mut ops);
                push(Op::Add { n, c: width, h: ho }, &mut ops);
                push(Op::Relu { n, c: width, h: ho }, &mut ops);
                push(Op::BnAddRelu { n, c: width, h: ho }, &mut ops);
            } else {
                push(conv(inplanes, h, planes, 3, stride), &mut ops);
                push(
                    Op::BatchNorm {
                        n,
                        c: planes,
                        h: ho,
                    },
                    &mut ops,
                );
                push(
                    Op::Relu {
                        n,
                        c: planes,
                        h: ho,
                    },
                    &mut ops,
                );
                push(conv(planes, ho, planes, 3, 1), &mut ops);
                push(Op::Add { n, c: width, h: ho }, &mut ops);
                push(Op::BnAddRelu { n, c: width, h: ho }, &mut ops);
            }
            inplanes = width;
            h = ho;
        }
    }
    push(Op::AvgPool { n, c: inplanes, h }, &mut ops);
    push(
        Op::Linear {
            n,
            fin: inplanes,
            fout: 2,
        },
        &mut ops,
    );
    ops
}
