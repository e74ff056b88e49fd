"""The state-dict keys, shapes and dtypes of torchvision's ResNet-18 and ResNet-50 (2
classes), which `focal export --format safetensors` must reproduce exactly (issue 12, item 2).

Writes crates/focal-train/tests/fixtures/torchvision_resnet_keys.json:
  {"resnet18": [[key, shape, dtype], ...], "resnet50": [...]}, in state-dict order,
  dtype as safetensors names it (F32, I64).

Run: /work/venv-bench/bin/python scripts/gen_export_fixture.py
Versions: torch 2.15.0, torchvision 0.29.2.
"""
import json
import os

import torch
import torchvision

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "focal-train", "tests", "fixtures",
                   "torchvision_resnet_keys.json")
DTYPES = {torch.float32: "F32", torch.int64: "I64"}


def main():
    keys = {}
    for name in ("resnet18", "resnet50"):
        sd = getattr(torchvision.models, name)(num_classes=2).state_dict()
        keys[name] = [[k, list(v.shape), DTYPES[v.dtype]] for k, v in sd.items()]
    with open(OUT, "w") as f:
        json.dump(keys, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
