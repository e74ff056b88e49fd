"""Op-level benchmark, PyTorch side: times the ops that focal's `bench_ops` example timed (read
from its --json file), on the same shapes, device and thread count, and prints one table:
model, op, shape, variant, focal ms, PyTorch ms, PyTorch/focal (above 1: focal is faster).

    cargo run --release -p focal-train --example bench_ops -- --threads 2 --json /tmp/ops.json
    python scripts/bench_ops.py /tmp/ops.json [--device cpu|cuda] [--out table.md]

Each PyTorch timing is the median of the same number of runs after one warm-up, as focal's;
on CUDA each run ends with torch.cuda.synchronize(), and cudnn.benchmark is on. The optimizer
rows are torch.optim.Adam (eps 1e-8), AdamW (eps 1e-8, weight decay 1e-2) and SGD (momentum 0.9)
with their default (for-loop, on the CPU) implementation; "bn_add_relu" is relu(bn(x) + r),
three ops here and one fused op on focal's side. Convolutions:
forward under no_grad; forward + backward of y.sum() with only the input, or only the weight,
requiring grad (the rows focal calls "fwd+grad input" / "fwd+grad weight"). A "step" is a whole
training step: forward, focal loss (gamma 2), backward, Adam, on the same network
(torchvision's ResNets with 2 classes; the CNN of `--model cnn`); the variant "fwd+bwd+adam, ce"
is the same step with cross-entropy (the `ce` remedy's loss), so the two step rows give the focal
loss's overhead over cross-entropy on each side.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_train import Cnn, focal_loss  # noqa: E402  # the same network and loss as the epoch benchmark


def model_for(name):
    if name == "cnn":
        return Cnn()
    import torchvision

    return getattr(torchvision.models, name)(num_classes=2)


def timer(device, reps):
    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def run(f):
        f()
        sync()
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            f()
            sync()
            times.append((time.perf_counter() - start) * 1e3)
        return statistics.median(times)

    return run


def time_row(row, device, reps):
    op, p, variant = row["op"], row["params"], row["variant"]
    run = timer(device, reps)
    rnd = lambda *s: torch.randn(*s, device=device)
    if op == "conv2d":
        x = rnd(p["n"], p["cin"], p["h"], p["h"])
        w = rnd(p["cout"], p["cin"], p["k"], p["k"])
        conv = lambda x, w: F.conv2d(x, w, None, p["stride"], p["pad"])
        if variant == "fwd":
            def f():
                with torch.no_grad():
                    conv(x, w)
            return run(f)
        track_x = variant == "fwd+grad input"
        xs, ws = x.clone().requires_grad_(track_x), w.clone().requires_grad_(not track_x)
        return run(lambda: conv(xs, ws).sum().backward())
    if op in ("bn_add_relu", "add"):
        x, r = rnd(p["n"], p["c"], p["h"], p["h"]), rnd(p["n"], p["c"], p["h"], p["h"])
        if op == "add":
            f = lambda x, r: x + r
        else:
            m = nn.BatchNorm2d(p["c"]).to(device).train()
            f = lambda x, r: F.relu(m(x) + r)
        if variant == "fwd":
            def g():
                with torch.no_grad():
                    f(x, r)
            return run(g)
        xs, rs = x.clone().requires_grad_(True), r.clone().requires_grad_(True)
        return run(lambda: f(xs, rs).sum().backward())
    if op == "avg_pool":
        x = rnd(p["n"], p["c"], p["h"], p["h"])
        f = lambda x: F.adaptive_avg_pool2d(x, (1, 1))
        if variant == "fwd":
            def g():
                with torch.no_grad():
                    f(x)
            return run(g)
        xs = x.clone().requires_grad_(True)
        return run(lambda: f(xs).sum().backward())
    if op in ("batch_norm", "relu", "max_pool2d"):
        x = rnd(p["n"], p["c"], p["h"], p["h"])
        if op == "batch_norm":
            m = nn.BatchNorm2d(p["c"]).to(device).train()
            f = m
        elif op == "relu":
            f = F.relu
        else:
            f = lambda x: F.max_pool2d(x, p["k"], p["stride"], p["pad"])
        if variant == "fwd":
            def g():
                with torch.no_grad():
                    f(x)
            return run(g)
        xs = x.clone().requires_grad_(True)
        return run(lambda: f(xs).sum().backward())
    if op == "linear":
        m = nn.Linear(p["fin"], p["fout"]).to(device)
        x = rnd(p["n"], p["fin"])
        if variant == "fwd":
            def g():
                with torch.no_grad():
                    m(x)
            return run(g)
        xs = x.clone().requires_grad_(True)
        return run(lambda: m(xs).sum().backward())
    if op in ("cross_entropy", "focal_loss"):
        z = rnd(p["n"], p["c"]).requires_grad_(True)
        t = torch.tensor([(i * 7) % p["c"] for i in range(p["n"])], device=device)
        loss = focal_loss if op == "focal_loss" else F.cross_entropy
        return run(lambda: loss(z, t).backward())
    if op in ("adam", "adamw", "sgd"):
        m = model_for(p["model"]).to(device)
        if op == "adam":
            opt = torch.optim.Adam(m.parameters(), lr=1e-3, eps=1e-8)
        elif op == "adamw":
            opt = torch.optim.AdamW(m.parameters(), lr=1e-3, eps=1e-8, weight_decay=1e-2)
        else:
            opt = torch.optim.SGD(m.parameters(), lr=1e-3, momentum=0.9)
        shape = (8, 1, 28, 28) if p["model"] == "cnn" else (8, 3, 64, 64)
        m(rnd(*shape)).sum().backward()
        return run(opt.step)
    if op == "step":
        m = model_for(p["model"]).to(device).train()
        opt = torch.optim.Adam(m.parameters(), lr=1e-3)
        x = rnd(p["n"], p["c"], p["h"], p["h"])
        t = torch.tensor([int(i % 8 == 0) for i in range(p["n"])], device=device)

        loss = F.cross_entropy if variant == "fwd+bwd+adam, ce" else focal_loss

        def step():
            opt.zero_grad(set_to_none=True)
            loss(m(x), t).backward()
            opt.step()

        return run(step)
    raise ValueError(f"unknown op {op}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("focal_json")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", help="also write the table (Markdown) here")
    args = ap.parse_args()
    doc = json.load(open(args.focal_json))
    device = torch.device(args.device)
    if device.type == "cpu":
        torch.set_num_threads(doc["threads"])
    else:
        torch.backends.cudnn.benchmark = True
    lines = [
        f"focal: {doc['device']}, {doc['threads']} threads, batch {doc['batch']}, "
        f"ResNet images {doc['image_size']} (or the model's @size); PyTorch {torch.__version__} on {args.device}"
        f" ({torch.get_num_threads()} threads; {platform.processor() or platform.machine()})",
        "",
        "| model | op | shape | variant | focal ms | PyTorch ms | PyTorch/focal |",
        "|---|---|---|---|---:|---:|---:|",
    ]
    print("\n".join(lines), flush=True)
    for row in doc["rows"]:
        ms = time_row(row, device, doc["reps"])
        line = (
            f"| {row['model']} | {row['op']} | {row['shape']} | {row['variant']} | "
            f"{row['focal_ms']:.3f} | {ms:.3f} | {ms / row['focal_ms']:.2f} |"
        )
        print(line, flush=True)
        lines.append(line)
    if args.out:
        open(args.out, "w").write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
