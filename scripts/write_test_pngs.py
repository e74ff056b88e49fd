#!/usr/bin/env python3
"""Writes the first N test images of a trained run as PNG files named `<id>.png`.

The id is the first column of the run's predictions.csv: the image's row in the source data
set. `focal predict --run RUN --data OUT` on the folder must then give, for every file, the
probabilities predictions.csv holds for that id (issue 12's "done when"); with --check PREDS
this script compares the two files and prints the result.

Sources read: the bundled Fashion-MNIST (config.json's source "bundled"), one IDX images file
(.gz or not) and MedMNIST-style .npz files (rows numbered as focal loads them: train, val,
test), at their stored size (a run trained with --image-size is not reproduced here).

    python scripts/write_test_pngs.py --run runs/r --out pngs --n 20
    focal predict --run runs/r --data pngs --out preds.csv
    python scripts/write_test_pngs.py --run runs/r --out pngs --check preds.csv
"""
import argparse
import csv
import gzip
import json
import pathlib
import sys

import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "data" / "fashion-mnist-test" / "t10k-images-idx3-ubyte.gz"


def read_idx(path: pathlib.Path) -> np.ndarray:
    raw = (gzip.open if path.name.endswith(".gz") else open)(path, "rb").read()
    if raw[:4] != b"\x00\x00\x08\x03":
        sys.exit(f"{path}: not an IDX images file (magic {raw[:4].hex()})")
    n, h, w = (int.from_bytes(raw[4 + 4 * k:8 + 4 * k], "big") for k in range(3))
    return np.frombuffer(raw[16:16 + n * h * w], dtype=np.uint8).reshape(n, h, w)


def read_npz(path: pathlib.Path) -> np.ndarray:
    z = np.load(path)
    if "images" in z:
        return z["images"]
    return np.concatenate([z[f"{s}_images"] for s in ("train", "val", "test") if f"{s}_images" in z])


def source_images(run: pathlib.Path) -> np.ndarray:
    source = json.loads((run / "config.json").read_text())["task"]["source"]
    if source == "bundled":
        return read_idx(BUNDLED)
    path = pathlib.Path(source)
    if path.suffix == ".npz":
        return read_npz(path)
    if "idx3-ubyte" in path.name:
        return read_idx(path)
    sys.exit(f"{source}: this script reads the bundled set, IDX and NPZ sources")


def read_predictions(path: pathlib.Path) -> tuple:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=pathlib.Path, required=True)
    ap.add_argument("--out", type=pathlib.Path, required=True)
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--check", type=pathlib.Path, help="focal predict's CSV to compare")
    args = ap.parse_args()
    header, own = read_predictions(args.run / "predictions.csv")
    if header[0] != "id":
        sys.exit(f"{args.run}/predictions.csv has no id column (written before ids were recorded)")
    if args.check is None:
        images = source_images(args.run)
        args.out.mkdir(parents=True, exist_ok=True)
        for row in own[: args.n]:
            i = int(row[0])
            img = images[i]
            if img.ndim == 3 and img.shape[-1] == 1:
                img = img[..., 0]
            Image.fromarray(img).save(args.out / f"{i}.png")
        print(f"wrote {min(args.n, len(own))} PNG files to {args.out}")
        return
    by_id = {r[0]: r[3:] for r in own}
    p_header, preds = read_predictions(args.check)
    n_classes = len(header) - 3
    equal, worst = 0, 0.0
    for row in preds:
        i = pathlib.Path(row[0]).stem
        mine, theirs = row[1:1 + n_classes], by_id[i]
        equal += mine == theirs
        worst = max(worst, max(abs(float(a) - float(b)) for a, b in zip(mine, theirs)))
    print(f"{equal} of {len(preds)} images: probabilities identical to predictions.csv; max |dp| = {worst:g}")
    sys.exit(0 if equal == len(preds) else 1)


if __name__ == "__main__":
    main()
