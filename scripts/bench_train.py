"""Training speed, focal against PyTorch, same work in the same run.

The work: the bundled task's shapes (Fashion-MNIST test split, Shirt vs the rest at 98:2, which gives
6,406 training and 1,372 validation images of 1x28x28), the same CNN as focal's `--model cnn`
(conv3x3 32 -> relu -> maxpool2 -> conv3x3 64 -> relu -> maxpool2 -> dropout 0.25 -> fc 128 -> relu ->
dropout 0.25 -> fc 2), softmax focal loss gamma 2, Adam lr 1e-3, batch 32, shuffled; each epoch
trains on every training image, then predicts the validation images (batch 256).

focal side: `focal train --remedy focal --epochs E --quiet` on the bundled data; its
history.csv gives wall seconds per epoch (training + validation + the per-epoch checkpoint).
PyTorch side: the same loop written the usual way (torch.set_num_threads = number of cores).
PyTorch gets random images of the same shape: speed does not depend on pixel values.

Usage: python scripts/bench_train.py --focal target/release/focal --epochs 3
       [--threads N] [--device cpu|cuda] [--model cnn|resnet18|resnet50 --data IMAGE_FOLDER]
Needs torch (pip install torch; torchvision and pillow for --data). Prints one JSON line per side
and the ratio. With --data, both sides train on the folder's images (focal: the images of its
70% training split; PyTorch: as many) and focal checkpoints only at the end (history.csv's
time_s never includes the checkpoint write).
"""
import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Cnn(nn.Module):
    def __init__(self, n_classes=2):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc = nn.Linear(64 * 7 * 7, 128)
        self.head = nn.Linear(128, n_classes)
        self.drop = nn.Dropout(0.25)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc(self.drop(x.flatten(1))))
        return self.head(self.drop(x))


def focal_loss(logits, targets, gamma=2.0):
    logp = F.log_softmax(logits, dim=1).gather(1, targets[:, None]).squeeze(1)
    return (-(1 - logp.exp()) ** gamma * logp).mean()


def load_folder(path, limit=None):
    """A folder of class folders of images, as focal reads it: RGB values in [0, 1]."""
    import numpy as np
    from PIL import Image

    classes = sorted(d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d)))
    xs, ys = [], []
    for c, name in enumerate(classes):
        for f in sorted(os.listdir(os.path.join(path, name))):
            img = Image.open(os.path.join(path, name, f)).convert("RGB")
            xs.append(np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0)
            ys.append(c)
    return torch.from_numpy(np.stack(xs)), torch.tensor(ys)


def torch_model(name):
    if name == "cnn":
        return Cnn()
    import torchvision

    return getattr(torchvision.models, name)(num_classes=2)


def torch_epochs(epochs, model_name="cnn", data=None, batch=32, device="cpu", seed=0):
    """The same loop as focal's: data in memory (on the device), standardised per channel once,
    shuffled each epoch; train on 70%, predict 15% (focal's default split fractions)."""
    torch.manual_seed(seed)
    if data is None:
        n_train, n_val = 6406, 1372
        x = torch.rand(n_train + n_val, 1, 28, 28)
        y = (torch.rand(n_train + n_val) < 0.02).long()
    else:
        x, y = load_folder(data)
        n_train, n_val = round(0.7 * len(y)), round(0.15 * len(y))
    mean = x[:n_train].mean(dim=(0, 2, 3), keepdim=True)
    std = x[:n_train].std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
    x = ((x - mean) / std).to(device)
    y = y.to(device)
    xt, yt, xv = x[:n_train], y[:n_train], x[n_train : n_train + n_val]
    model = torch_model(model_name).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    if device == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(epochs):
        sync()
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(n_train, device=device)
        for i in range(0, n_train, batch):
            idx = perm[i : i + batch]
            opt.zero_grad(set_to_none=True)
            loss = focal_loss(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            for i in range(0, n_val, 256):
                F.softmax(model(xv[i : i + 256]), dim=1).cpu()
        sync()
        times.append(time.perf_counter() - t0)
    peak = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None
    return times, peak


def focal_epochs(binary, epochs, extra):
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [binary, "train", "--remedy", "focal", "--epochs", str(epochs), "--quiet",
             "--out", out, "--name", "bench", *extra],
            check=True,
        )
        with open(os.path.join(out, "bench", "history.csv")) as f:
            return [float(r["time_s"]) for r in csv.DictReader(f)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--focal", default="target/release/focal")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int, help="CPU threads on both sides (default: all cores)")
    ap.add_argument("--model", default="cnn", help="cnn, resnet18 or resnet50")
    ap.add_argument("--data", help="folder of class folders of images (default: the bundled task)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--side", default="both", choices=["both", "focal", "pytorch"])
    args = ap.parse_args()
    threads = args.threads or os.cpu_count()
    torch.set_num_threads(threads)
    extra = ["--model", args.model, "--batch-size", str(args.batch_size)]
    if args.threads:
        extra += ["--threads", str(args.threads)]
    if args.device == "cuda":
        extra += ["--device", "gpu"]
    if args.data:
        # Both sides at the folder's own size (the PyTorch side reads images as they are; focal's
        # default would resize a folder of large images for a ResNet from scratch to 64x64).
        from PIL import Image

        first_class = sorted(d for d in os.listdir(args.data)
                             if os.path.isdir(os.path.join(args.data, d)))[0]
        first = sorted(os.listdir(os.path.join(args.data, first_class)))[0]
        w, h = Image.open(os.path.join(args.data, first_class, first)).size
        extra += ["--data", args.data, "--positive", "1", "--checkpoint-every", str(args.epochs),
                  "--image-size", f"{w}x{h}"]
    f = focal_epochs(args.focal, args.epochs, extra) if args.side != "pytorch" else None
    t, peak = (
        torch_epochs(args.epochs, args.model, args.data, args.batch_size, args.device)
        if args.side != "focal"
        else (None, None)
    )
    # The first epoch carries start-up costs on both sides; the median is robust to it.
    what = f"{args.model}, {args.device}, {threads} threads, batch {args.batch_size}"
    if f:
        print(json.dumps({"side": "focal", "work": what, "epoch_s": f,
                          "median_s": statistics.median(f)}))
    if t:
        print(json.dumps({"side": "pytorch", "work": what, "version": torch.__version__,
                          "epoch_s": t, "median_s": statistics.median(t),
                          "peak_gpu_mib": peak}))
    if f and t:
        fm, tm = statistics.median(f), statistics.median(t)
        print(f"{what}: median seconds per epoch: focal {fm:.2f}, PyTorch {tm:.2f}; "
              f"PyTorch/focal = {tm / fm:.2f}x ({platform.machine()}, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
