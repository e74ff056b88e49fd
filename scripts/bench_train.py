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
Needs torch (pip install torch). Prints one JSON line per side and the ratio.
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


def torch_epochs(epochs, n_train=6406, n_val=1372, batch=32, seed=0):
    torch.manual_seed(seed)
    x = torch.rand(n_train, 1, 28, 28)
    y = (torch.rand(n_train) < 0.02).long()
    xv = torch.rand(n_val, 1, 28, 28)
    model = Cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(n_train)
        for i in range(0, n_train, batch):
            idx = perm[i : i + batch]
            opt.zero_grad()
            loss = focal_loss(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            for i in range(0, n_val, 256):
                F.softmax(model(xv[i : i + 256]), dim=1)
        times.append(time.perf_counter() - t0)
    return times


def focal_epochs(binary, epochs):
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [binary, "train", "--remedy", "focal", "--epochs", str(epochs), "--quiet",
             "--out", out, "--name", "bench"],
            check=True,
        )
        with open(os.path.join(out, "bench", "history.csv")) as f:
            return [float(r["time_s"]) for r in csv.DictReader(f)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--focal", default="target/release/focal")
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    threads = os.cpu_count()
    torch.set_num_threads(threads)
    f = focal_epochs(args.focal, args.epochs)
    t = torch_epochs(args.epochs)
    # The first epoch carries start-up costs on both sides; the median is robust to it.
    fm, tm = statistics.median(f), statistics.median(t)
    print(json.dumps({"side": "focal", "epoch_s": f, "median_s": fm}))
    print(json.dumps({"side": "pytorch", "version": torch.__version__, "threads": threads,
                      "epoch_s": t, "median_s": tm}))
    print(f"machine: {platform.machine()}, {threads} cores; median seconds per epoch: "
          f"focal {fm:.2f}, PyTorch {tm:.2f}; PyTorch/focal = {tm / fm:.2f}x")


if __name__ == "__main__":
    main()
