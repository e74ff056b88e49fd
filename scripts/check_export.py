#!/usr/bin/env python3
"""Checks that a ResNet exported by `focal export --format safetensors` gives, in
torchvision, the logits focal gives on the same inputs (issue 12, item 2).

1. Reads the export's sidecar (<FILE>.json): the architecture, the input size, channels and
   normalisation.
2. Writes the inputs as PNG files at exactly that size (so that neither side resizes): the
   images of --images (resized here with PIL, then saved), or --n seeded random images.
3. Runs `focal predict --run RUN --data <pngs> --logits` for focal's logits.
4. Loads the export into torchvision.models.resnet18/50(num_classes=C) with
   load_state_dict(strict=True), eval mode, feeds each PNG as ToTensor() + Normalize(mean,
   std), and compares the logits.

Prints the largest |focal - torch| logit difference and exits 1 when it exceeds --tol (1e-4).

    python scripts/check_export.py --run runs/r --export runs/r/model.safetensors \
        --focal target/release/focal [--images DIR] [--n 16]

Versions: torch 2.15.0, torchvision 0.29.2, safetensors, numpy, pillow.
"""
import argparse
import csv
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision
from PIL import Image
from safetensors.torch import load_file
from torchvision import transforms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=pathlib.Path, required=True)
    ap.add_argument("--export", type=pathlib.Path, required=True, help="the .safetensors file")
    ap.add_argument("--focal", default="focal", help="the focal binary")
    ap.add_argument("--images", type=pathlib.Path, help="a folder of images to use as inputs")
    ap.add_argument("--n", type=int, default=16, help="random inputs when --images is absent")
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args()

    side = json.loads(pathlib.Path(str(args.export) + ".json").read_text())
    if side["format"] != "safetensors" or side["model"] not in ("resnet18", "resnet50"):
        sys.exit(f"{args.export}: a safetensors export of resnet18 or resnet50 is needed, found {side['format']} {side['model']}")
    sample = side["input"]["sample"]
    c, h, w = sample["channels"], sample["height"], sample["width"]
    mode = "RGB" if c == 3 else "L"

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="check_export_"))
    pngs = tmp / "inputs"
    pngs.mkdir()
    if args.images:
        files = sorted(p for p in args.images.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp"))
        if not files:
            sys.exit(f"--images {args.images}: no image files")
        for k, f in enumerate(files):
            Image.open(f).convert(mode).resize((w, h), Image.BILINEAR).save(pngs / f"{k:04d}.png")
    else:
        rng = np.random.default_rng(0)
        for k in range(args.n):
            px = rng.integers(0, 256, size=(h, w, c) if c == 3 else (h, w), dtype=np.uint8)
            Image.fromarray(px, mode).save(pngs / f"{k:04d}.png")

    out = tmp / "focal.csv"
    subprocess.run([args.focal, "predict", "--run", str(args.run), "--data", str(pngs), "--out", str(out),
                    "--logits", "--quiet", "--rule", "argmax"], check=True)
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    names = side["class_names"]

    model = getattr(torchvision.models, side["model"])(num_classes=side["n_classes"])
    model.load_state_dict(load_file(str(args.export)), strict=True)
    model.eval()
    recipe = transforms.Compose([transforms.ToTensor(), transforms.Normalize(side["input"]["mean"], side["input"]["std"])])
    worst = 0.0
    with torch.no_grad():
        for row in rows:
            x = recipe(Image.open(row["id"]).convert(mode)).unsqueeze(0)
            mine = model(x)[0].double()
            theirs = torch.tensor([float(row[f"logit_{n}"]) for n in names], dtype=torch.float64)
            worst = max(worst, (mine - theirs).abs().max().item())
    ok = worst <= args.tol
    print(f"{side['model']} export of {args.run}: {len(rows)} inputs {w}x{h}x{c}, "
          f"max |logit focal - torchvision| = {worst:.3g} ({'ok' if ok else 'FAIL'}, tolerance {args.tol:g})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
