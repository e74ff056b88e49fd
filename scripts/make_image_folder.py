"""Writes a synthetic folder of class folders of RGB PNG images, for speed benchmarks.

    python scripts/make_image_folder.py OUT [--n 1400] [--size 224] [--rare 0.1] [--seed 0]

Classes `normal` and `tumour` (the rare one, share --rare). Each image is a smooth random
colour field plus noise, with a bright disc for `tumour`: learnable, and cheap to decode. Speed
does not depend on the pixel values.
"""
import argparse
import os

import numpy as np
from PIL import Image


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=1400)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--rare", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    s = args.size
    yy, xx = np.mgrid[0:s, 0:s] / s
    n_rare = round(args.n * args.rare)
    for name in ("normal", "tumour"):
        os.makedirs(os.path.join(args.out, name), exist_ok=True)
    for i in range(args.n):
        rare = i < n_rare
        a, b, c = rng.uniform(0, 1, 3)
        base = np.stack([a * xx + (1 - a) * yy, b * yy, c * xx], axis=-1)
        img = base + rng.normal(0, 0.05, (s, s, 3))
        if rare:
            cy, cx = rng.uniform(0.3, 0.7, 2)
            img[((yy - cy) ** 2 + (xx - cx) ** 2) < 0.01] += 0.5
        arr = (np.clip(img, 0, 1) * 255).astype(np.uint8)
        name = "tumour" if rare else "normal"
        Image.fromarray(arr).save(os.path.join(args.out, name, f"{i:05d}.png"))


if __name__ == "__main__":
    main()
