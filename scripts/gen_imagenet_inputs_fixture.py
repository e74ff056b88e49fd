"""Golden values for focal's pretrained-input path (issue 12, item 3): torchvision's recipe
for pretrained weights applied to real images, and the tiny torchvision-format ResNet's
logits on them.

The first 4 images of the bundled Fashion-MNIST set (data/fashion-mnist-test), each as
torchvision users feed greyscale images to ImageNet weights:
    PIL 'L' image -> .convert("RGB") -> transforms.ToTensor() -> transforms.Normalize(
        mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
then crates/focal-train/tests/fixtures/resnet_basic.pth (written by gen_pretrained_fixture.py,
the same architecture) in eval mode.

Writes crates/focal-train/tests/fixtures/imagenet_inputs_golden.json:
  rows: the data-set rows used; shape: [4, 3, 28, 28]
  channel_sums: per image and channel, the sum of the normalised values
  probes: [image, channel, row, col, value] at fixed positions
  logits: [4, 10]

Run: /work/venv-bench/bin/python scripts/gen_imagenet_inputs_fixture.py
Versions: torch 2.15.0, torchvision 0.29.2, numpy, pillow.
"""

import gzip
import json
import os
import sys

import numpy as np
import torch
from PIL import Image
from torchvision import transforms

sys.path.insert(0, os.path.dirname(__file__))
from gen_pretrained_fixture import BasicBlock, ResNet  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")
FIXTURES = os.path.join(ROOT, "crates", "focal-train", "tests", "fixtures")
IMAGES = os.path.join(ROOT, "data", "fashion-mnist-test", "t10k-images-idx3-ubyte.gz")
ROWS = [0, 1, 2, 3]
PROBES = [(0, 0, 0, 0), (0, 1, 14, 14), (1, 2, 10, 20), (2, 0, 27, 27), (3, 1, 5, 9), (3, 2, 20, 3)]


def main():
    raw = gzip.open(IMAGES, "rb").read()
    n, h, w = (int.from_bytes(raw[4 + 4 * k:8 + 4 * k], "big") for k in range(3))
    pixels = np.frombuffer(raw[16:16 + n * h * w], dtype=np.uint8).reshape(n, h, w)
    recipe = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ])
    x = torch.stack([recipe(Image.fromarray(pixels[r], mode="L").convert("RGB")) for r in ROWS])
    model = ResNet(BasicBlock, [1, 1, 1, 1])
    model.load_state_dict(torch.load(os.path.join(FIXTURES, "resnet_basic.pth")))
    model.eval()
    with torch.no_grad():
        logits = model(x)
    golden = {
        "rows": ROWS,
        "shape": list(x.shape),
        "channel_sums": x.sum(dim=(2, 3)).tolist(),
        "probes": [[i, c, r, q, x[i, c, r, q].item()] for i, c, r, q in PROBES],
        "logits": logits.tolist(),
    }
    with open(os.path.join(FIXTURES, "imagenet_inputs_golden.json"), "w") as f:
        json.dump(golden, f, indent=1)


if __name__ == "__main__":
    main()
