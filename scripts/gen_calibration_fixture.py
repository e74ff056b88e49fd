"""Golden temperatures for focal-metrics' `fit_temperature` (issue 12, item 5): temperature
scaling (Guo et al. 2017) fitted in PyTorch, float64, by L-BFGS (strong-Wolfe line search) on
log T minimising F.cross_entropy(logits / T, y), as Guo et al.'s reference code does (on T).

Cases: seeded random logits, binary and 3-class, made over-confident (T > 1) or
under-confident (T < 1) by scaling logits drawn from a calibrated model.

Writes crates/focal-metrics/tests/fixtures/temperature.json:
  {"meta": {...}, "cases": [{"name", "n_classes", "y", "logits" (row-major), "temperature", "nll"}]}

Run: /work/venv-bench/bin/python scripts/gen_calibration_fixture.py
Versions: torch 2.15.0.
"""
import json
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "focal-metrics", "tests", "fixtures",
                   "temperature.json")


def fit(logits, y):
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=1.0, max_iter=500, tolerance_grad=1e-14,
                            tolerance_change=1e-16, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(logits / log_t.exp(), y)
        loss.backward()
        return loss

    for _ in range(5):
        opt.step(closure)
    t = log_t.exp().item()
    return t, F.cross_entropy(logits / t, y).item()


def main():
    g = torch.Generator().manual_seed(12)
    cases = []
    for name, n, c, scale in [("binary-overconfident", 300, 2, 2.5), ("binary-underconfident", 200, 2, 0.4),
                              ("three-class-overconfident", 250, 3, 3.0), ("binary-imbalanced", 400, 2, 1.7)]:
        # A calibrated model: labels drawn from softmax(z); then the logits scaled.
        z = torch.randn(n, c, generator=g, dtype=torch.float64) * 1.5
        if name == "binary-imbalanced":
            z[:, 1] -= 2.5
        y = torch.multinomial(F.softmax(z, dim=1), 1, generator=g).squeeze(1)
        logits = z * scale
        t, nll = fit(logits, y)
        cases.append({"name": name, "n_classes": c, "y": y.tolist(), "logits": logits.flatten().tolist(),
                      "temperature": t, "nll": nll})
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"meta": {"torch": torch.__version__, "script": "scripts/gen_calibration_fixture.py"},
                   "cases": cases}, f)
        f.write("\n")
    for case in cases:
        print(case["name"], case["temperature"], case["nll"])


if __name__ == "__main__":
    main()
