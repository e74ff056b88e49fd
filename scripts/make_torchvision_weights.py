#!/usr/bin/env python3
"""Writes a torchvision ResNet's state dict with `torch.save`, for transfer-learning tests and
benchmarks (issue 30): ImageNet weights cannot be downloaded on the project's machines, so the
mechanics (loading, freezing, the feature cache) and the speed are measured on torchvision's
own architecture and initialisation (`--init random`, seeded) or on constant weights
(`--init fixed`: every convolution and linear weight a seeded normal draw scaled by 0.01,
batch norms at torchvision's defaults). Users take torchvision's real weights from
`torchvision.models.resnet50(weights="IMAGENET1K_V2").state_dict()` (or the `.pth` files
torchvision downloads to ~/.cache/torch/hub/checkpoints/).

    python scripts/make_torchvision_weights.py --model resnet50 --out /tmp/resnet50.pth [--seed 0]

Versions: torch 2.15.0, torchvision 0.29.2 (pip install torch torchvision).
"""
import argparse

import torch
import torchvision


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=["resnet18", "resnet50"], required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--init", choices=["random", "fixed"], default="random")
    a = p.parse_args()
    torch.manual_seed(a.seed)
    model = getattr(torchvision.models, a.model)(weights=None)
    if a.init == "fixed":
        with torch.no_grad():
            for name, t in model.state_dict().items():
                if name.endswith("weight") and t.dim() > 1:
                    t.copy_(torch.randn_like(t) * 0.01)
    torch.save(model.state_dict(), a.out)
    n = sum(t.numel() for t in model.state_dict().values())
    print(f"wrote {a.out}: {a.model}, {n} values, init {a.init}, seed {a.seed}")


if __name__ == "__main__":
    main()
