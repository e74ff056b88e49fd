"""Transfer learning on a frozen backbone, PyTorch as people write it, for the side-by-side of
`focal compare --pretrained FILE --finetune head` (BENCHMARKS.md).

The work, as torchvision's tutorial "ConvNet as fixed feature extractor" does it: every image of a
class-folder set read with PIL, resized to SIZE x SIZE, made RGB, normalised with ImageNet's mean
and std; the frozen ResNet's pooled features computed once (eval mode, no_grad, batch 64); then
RUNS head runs (a fresh nn.Linear(F, C), Adam lr 1e-3, batch 32, shuffled, cross-entropy) of EPOCHS
epochs each over a 70% training split, each epoch predicting the 15% validation split.

Usage: python scripts/bench_transfer.py --data FOLDER --weights resnet50.pth --model resnet50
       [--size 224] [--runs 18] [--epochs 10] [--threads 2]
Prints one JSON line: seconds to read the images, for the feature pass, for all head runs.
Needs torch, torchvision and pillow.
"""
import argparse
import json
import os
import platform
import time

import numpy as np
import torch
import torch.nn as nn
import torchvision
from PIL import Image

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def read_folder(folder, size):
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)
    xs, ys = [], []
    classes = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))
    for label, c in enumerate(classes):
        d = os.path.join(folder, c)
        for name in sorted(os.listdir(d)):
            if not name.lower().endswith(EXTENSIONS):
                continue
            img = Image.open(os.path.join(d, name)).convert("RGB").resize((size, size))
            a = (np.asarray(img, dtype=np.float32) / 255.0 - mean) / std
            xs.append(a.transpose(2, 0, 1))
            ys.append(label)
    return torch.from_numpy(np.stack(xs)), torch.tensor(ys), len(classes)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--model", default="resnet50", choices=["resnet18", "resnet50"])
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--runs", type=int, default=18)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    t0 = time.perf_counter()
    x, y, n_classes = read_folder(args.data, args.size)
    t_read = time.perf_counter() - t0

    net = getattr(torchvision.models, args.model)()
    net.load_state_dict(torch.load(args.weights, weights_only=True))
    net.fc = nn.Identity()
    net.eval()
    t0 = time.perf_counter()
    with torch.no_grad():
        feats = torch.cat([net(x[i : i + 64]) for i in range(0, len(x), 64)])
    t_features = time.perf_counter() - t0

    g = torch.Generator().manual_seed(0)
    order = torch.randperm(len(y), generator=g)
    n_train, n_val = int(0.7 * len(y)), int(0.15 * len(y))
    tr, va = order[:n_train], order[n_train : n_train + n_val]
    t0 = time.perf_counter()
    for run in range(args.runs):
        torch.manual_seed(run)
        head = nn.Linear(feats.shape[1], n_classes)
        opt = torch.optim.Adam(head.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
        for _ in range(args.epochs):
            head.train()
            perm = tr[torch.randperm(len(tr))]
            for i in range(0, len(perm), 32):
                b = perm[i : i + 32]
                opt.zero_grad()
                loss = loss_fn(head(feats[b]), y[b])
                loss.backward()
                opt.step()
            head.eval()
            with torch.no_grad():
                torch.softmax(head(feats[va]), dim=1)
    t_heads = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "side": "pytorch",
                "torch": torch.__version__,
                "cpu": cpu_model(),
                "threads": args.threads,
                "model": args.model,
                "images": len(y),
                "size": args.size,
                "read_s": round(t_read, 2),
                "features_s": round(t_features, 2),
                "runs": args.runs,
                "epochs": args.epochs,
                "heads_s": round(t_heads, 2),
                "total_s": round(t_read + t_features + t_heads, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
