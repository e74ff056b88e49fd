#!/usr/bin/env python3
"""Golden values and input gradients for the focal-loss crate, from PyTorch and torchvision.

Writes crates/focal-loss/tests/fixtures/losses.json. Run from the repository root:

    python3 scripts/gen_loss_fixtures.py

Environment used for the committed fixtures (pip, PyPI):
    Python 3.11.7; torch==2.15.0 (the PyPI wheel, reports 2.15.0+cu132; run on the CPU),
    torchvision==0.29.2, numpy==2.4.6

Everything is computed in float64 on inputs first rounded to float32, so the Rust side (f32)
sees exactly the same inputs. For each case the file holds the inputs, the loss (a list: one
number for mean/sum, one per sample or element for none) and d(loss)/d(logits); for reduction
"none" the gradient is that of the sum of the losses.

References:
- softmax focal: written from Lin et al. 2017 (arXiv:1708.02002) in PyTorch; with gamma = 0 the
  script asserts equality with torch.nn.functional.cross_entropy (weight, ignore_index,
  label_smoothing) wherever the semantics coincide.
- sigmoid focal: torchvision.ops.sigmoid_focal_loss itself.
- Poly-1: Leng et al. 2022 (arXiv:2204.12511), the paper's code with softmax probabilities.
- LDAM: the authors' LDAMLoss (github.com/kaidic/LDAM-DRW, losses.py).
- logit adjustment: Menon et al. 2021, F.cross_entropy(logits + tau * log(priors)).
- asymmetric loss: the authors' AsymmetricLoss (github.com/Alibaba-MIIL/ASL, losses.py), eps 1e-8,
  gradients through the focusing weights (disable_torch_grad_focal_loss=False).
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "focal-loss", "tests", "fixtures", "losses.json")
RANGES = {"low": (0.0, 0.2), "high": (0.8, 1.0), "full": (0.0, 1.0)}
GAMMAS = [0.0, 0.5, 2.0, 5.0]
REDUCTIONS = ["mean", "sum", "none"]
gen = torch.Generator().manual_seed(20260127)


def f32(t):
    """Round to float32 and back, so the Rust side sees the same inputs."""
    return t.to(torch.float32).to(torch.float64)


def logits_from(rng, shape):
    lo, hi = RANGES[rng]
    p = lo + (hi - lo) * torch.rand(shape, generator=gen)
    p = p.clamp(1e-4, 1 - 1e-4)
    return f32(torch.logit(p))


def class_targets(kind, n, c):
    if kind == "zeros":
        return torch.zeros(n, dtype=torch.long)
    if kind == "ones":
        return torch.ones(n, dtype=torch.long)
    return torch.randint(0, c, (n,), generator=gen)


def reduce(loss, reduction, denominator=None):
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / denominator if denominator is not None else loss.mean()
    return loss


def value_and_grad(fn, x):
    x = x.clone().requires_grad_(True)
    loss = fn(x)
    (g,) = torch.autograd.grad(loss.sum(), x)
    return loss.detach(), g


def num(t):
    return [float("%.12g" % v) for v in t.reshape(-1).tolist()]


def mat(t):
    return [num(row) for row in t]


# ---------------------------------------------------------------- softmax focal


def focal_ref(x, t, gamma, alpha, ignore_index, ls, reduction, normalize):
    n, c = x.shape
    keep = torch.ones(n, dtype=torch.bool) if ignore_index is None else t != ignore_index
    tt = torch.where(keep, t, torch.zeros_like(t))
    lsm = F.log_softmax(x, 1)
    one_minus_p = -torch.expm1(lsm)  # exact 1 - p in float64
    if ls is None:
        lp = lsm.gather(1, tt[:, None])[:, 0]
        loss = -lp if gamma == 0 else -(one_minus_p.gather(1, tt[:, None])[:, 0] ** gamma) * lp
        if alpha is not None:
            loss = loss * alpha[tt]
    else:
        q = (1 - ls) * F.one_hot(tt, c) + ls / c
        terms = -q * lsm if gamma == 0 else -q * one_minus_p**gamma * lsm
        if alpha is not None:
            terms = terms * alpha[None, :]
        loss = terms.sum(1)
    loss = torch.where(keep, loss, torch.zeros_like(loss))
    den = None
    if reduction == "mean":
        w = keep.to(x.dtype) if (alpha is None or not normalize) else alpha[tt] * keep
        den = w.sum() if w.sum() > 0 else torch.tensor(1.0)
    return reduce(loss, reduction, den)


def check_against_cross_entropy(case, x, t):
    """gamma = 0: the reference must be PyTorch's own cross_entropy where semantics coincide."""
    if case["gamma"] != 0.0:
        return
    alpha = None if case["alpha"] is None else torch.tensor(case["alpha"])
    red = case["reduction"]
    if red == "mean" and alpha is not None and not case["normalize_by_weights"]:
        return
    ii = case["ignore_index"]
    if ii is not None and (t != ii).sum() == 0:
        return
    ce = F.cross_entropy(
        x,
        t,
        weight=alpha,
        ignore_index=-100 if ii is None else ii,
        label_smoothing=case["label_smoothing"] or 0.0,
        reduction=red,
    )
    ours = focal_ref(x, t, 0.0, alpha, ii, case["label_smoothing"], red, case["normalize_by_weights"])
    assert torch.allclose(ce, ours, rtol=1e-12, atol=1e-12), (case, ce, ours)


def focal_case(name, x, t, gamma, alpha, reduction, ignore_index=None, ls=None, normalize=False):
    case = {
        "name": name,
        "gamma": gamma,
        "alpha": None if alpha is None else num(f32(torch.tensor(alpha))),
        "ignore_index": ignore_index,
        "label_smoothing": ls,
        "reduction": reduction,
        "normalize_by_weights": normalize,
    }
    a = None if alpha is None else torch.tensor(case["alpha"])
    value, grad = value_and_grad(lambda z: focal_ref(z, t, gamma, a, ignore_index, ls, reduction, normalize), x)
    check_against_cross_entropy(case, x, t)
    case.update({"logits": mat(x), "targets": t.tolist(), "value": num(value), "grad": mat(grad)})
    return case


def focal_cases():
    cases = []
    k = 0
    # Binary grid as torchvision's test: ranges x targets x alpha (off, 0, 0.58, 1) x gamma.
    for rng in RANGES:
        for tk in ["zeros", "ones", "random"]:
            for a in [None, 0.0, 0.58, 1.0]:
                for gamma in GAMMAS:
                    x = logits_from(rng, (6, 2))
                    t = class_targets(tk, 6, 2)
                    alpha = None if a is None else [1.0 - a, a]
                    red = REDUCTIONS[k % 3]
                    k += 1
                    cases.append(focal_case(f"binary/{rng}/{tk}/a{a}/g{gamma}/{red}", x, t, gamma, alpha, red))
    # Per-class alpha vectors for 3..10 classes.
    for c in [3, 5, 10]:
        for rng in RANGES:
            for tk in ["zeros", "ones", "random"]:
                for gamma in GAMMAS:
                    x = logits_from(rng, (5, c))
                    t = class_targets(tk, 5, c)
                    variant = k % 3
                    alpha = None
                    if variant >= 1:
                        alpha = (0.1 + torch.rand(c, generator=gen)).tolist()
                    if variant == 2:
                        alpha[0] = 0.0
                    red = REDUCTIONS[k % 3] if k % 2 else REDUCTIONS[(k // 2) % 3]
                    k += 1
                    cases.append(focal_case(f"multi/c{c}/{rng}/{tk}/g{gamma}/{red}", x, t, gamma, alpha, red))
    # Ignore index, label smoothing, weight-normalised mean.
    for c in [2, 4, 7]:
        for gamma in GAMMAS:
            for red in REDUCTIONS:
                x = logits_from("full", (6, c))
                t = class_targets("random", 6, c)
                ii = 255 if gamma in (0.0, 2.0) else c - 1
                t[1] = ii
                t[4] = ii
                alpha = (0.2 + torch.rand(c, generator=gen)).tolist()
                cases.append(focal_case(f"ignore/c{c}/g{gamma}/{red}", x, t, gamma, alpha if c != 2 else None, red, ignore_index=ii))
                x = logits_from("full", (6, c))
                t = class_targets("random", 6, c)
                ls = 0.1 if red != "sum" else 0.35
                cases.append(focal_case(f"smooth/c{c}/g{gamma}/{red}", x, t, gamma, alpha, red, ls=ls))
                if red == "mean":
                    x = logits_from("full", (6, c))
                    t = class_targets("random", 6, c)
                    cases.append(focal_case(f"normalize/c{c}/g{gamma}", x, t, gamma, alpha, red, ignore_index=c - 1, ls=ls if c == 4 else None, normalize=True))
    # All samples ignored: 0 (PyTorch's cross_entropy gives NaN here; see the crate docs).
    x = logits_from("full", (3, 3))
    t = torch.tensor([1, 1, 1])
    cases.append(focal_case("ignore/all", x, t, 2.0, None, "mean", ignore_index=1))
    return cases


# ---------------------------------------------------------------- sigmoid focal


def sigmoid_cases():
    cases = []
    k = 0
    for rng in RANGES:
        for tk in ["zeros", "ones", "random", "soft"]:
            for a in [None, 0.0, 0.58, 1.0]:
                for gamma in GAMMAS:
                    if tk == "soft" and a not in (None, 0.58):
                        continue
                    x = logits_from(rng, (4, 3))
                    if tk == "zeros":
                        t = torch.zeros(4, 3)
                    elif tk == "ones":
                        t = torch.ones(4, 3)
                    elif tk == "random":
                        t = torch.randint(0, 2, (4, 3), generator=gen).to(torch.float64)
                    else:
                        t = f32(torch.rand(4, 3, generator=gen))
                    red = REDUCTIONS[k % 3]
                    k += 1
                    alpha = -1.0 if a is None else a
                    value, grad = value_and_grad(
                        lambda z: torchvision.ops.sigmoid_focal_loss(z, t, alpha=alpha, gamma=gamma, reduction=red), x
                    )
                    cases.append({
                        "name": f"sigmoid/{rng}/{tk}/a{a}/g{gamma}/{red}",
                        "gamma": gamma, "alpha": a, "reduction": red,
                        "logits": mat(x), "targets": mat(t), "value": num(value), "grad": mat(grad),
                    })
    return cases


# ---------------------------------------------------------------- Poly-1


def poly1_ref(x, t, eps, gamma, alpha, red):
    lsm = F.log_softmax(x, 1)
    lp = lsm.gather(1, t[:, None])[:, 0]
    one_minus_pt = -torch.expm1(lp)
    if gamma == 0.0 and alpha is None:
        # The paper's Poly-1 CE: CE + epsilon * (1 - pt).
        loss = F.cross_entropy(x, t, reduction="none") + eps * one_minus_pt
    else:
        fl = -(one_minus_pt**gamma) * lp
        if alpha is not None:
            fl = fl * alpha[t]
        loss = fl + eps * one_minus_pt ** (gamma + 1)
    return reduce(loss, red)


def poly_cases():
    cases = []
    k = 0
    for c in [2, 4, 10]:
        for eps in [-1.0, 1.0, 2.0]:
            for gamma in [0.0, 0.5, 2.0]:
                x = logits_from(list(RANGES)[k % 3], (5, c))
                t = class_targets("random", 5, c)
                alpha = (0.1 + torch.rand(c, generator=gen)).tolist() if k % 4 == 3 else None
                alpha = None if alpha is None else num(f32(torch.tensor(alpha)))
                red = REDUCTIONS[k % 3]
                k += 1
                a = None if alpha is None else torch.tensor(alpha)
                value, grad = value_and_grad(lambda z: poly1_ref(z, t, eps, gamma, a, red), x)
                cases.append({
                    "name": f"poly1/c{c}/e{eps}/g{gamma}/{red}", "epsilon": eps, "gamma": gamma,
                    "alpha": alpha, "reduction": red,
                    "logits": mat(x), "targets": t.tolist(), "value": num(value), "grad": mat(grad),
                })
    return cases


# ---------------------------------------------------------------- LDAM (authors' code)


class LDAMLoss(torch.nn.Module):
    def __init__(self, cls_num_list, max_m=0.5, weight=None, s=30, reduction="mean"):
        super().__init__()
        m_list = 1.0 / np.sqrt(np.sqrt(cls_num_list))
        m_list = m_list * (max_m / np.max(m_list))
        self.m_list = torch.tensor(m_list, dtype=torch.float64)
        self.s = s
        self.weight = weight
        self.reduction = reduction

    def forward(self, x, target):
        index = torch.zeros_like(x, dtype=torch.uint8)
        index.scatter_(1, target.data.view(-1, 1), 1)
        index_float = index.type(torch.float64)
        batch_m = torch.matmul(self.m_list[None, :], index_float.transpose(0, 1))
        batch_m = batch_m.view((-1, 1))
        x_m = x - batch_m
        output = torch.where(index.bool(), x_m, x)
        return F.cross_entropy(self.s * output, target, weight=self.weight, reduction=self.reduction)


def ldam_cases():
    cases = []
    k = 0
    for counts in [[500, 50], [1000, 300, 40, 5], [5000, 2000, 800, 300, 120, 50, 20, 8, 3, 1]]:
        c = len(counts)
        for max_m, s in [(0.5, 30.0), (0.3, 10.0)]:
            for weighted in [False, True]:
                x = f32(torch.randn(6, c, generator=gen) * 0.5)
                t = class_targets("random", 6, c)
                w = None
                if weighted:
                    beta = 0.999
                    eff = (1 - beta) / (1 - np.power(beta, counts))
                    w = num(f32(torch.tensor(eff / eff.sum() * c)))
                red = REDUCTIONS[k % 3]
                k += 1
                wt = None if w is None else torch.tensor(w)
                # The margins as the Rust side computes them (rounded to f32).
                loss_fn = LDAMLoss(counts, max_m=max_m, weight=wt, s=s, reduction=red)
                loss_fn.m_list = f32(loss_fn.m_list)
                value, grad = value_and_grad(lambda z: loss_fn(z, t), x)
                cases.append({
                    "name": f"ldam/c{c}/m{max_m}/s{s}/w{weighted}/{red}", "class_counts": counts,
                    "max_m": max_m, "s": s, "weights": w, "reduction": red,
                    "margins": num(loss_fn.m_list),
                    "logits": mat(x), "targets": t.tolist(), "value": num(value), "grad": mat(grad),
                })
    return cases


# ---------------------------------------------------------------- logit adjustment


def logit_adjust_cases():
    cases = []
    k = 0
    for counts in [[900, 100], [600, 250, 100, 40, 10], [3000, 1000, 400, 150, 60, 25, 10, 4]]:
        c = len(counts)
        for tau in [0.5, 1.0, 2.0]:
            priors = num(f32(torch.tensor(counts, dtype=torch.float64) / sum(counts)))
            x = logits_from(list(RANGES)[k % 3], (5, c))
            t = class_targets("random", 5, c)
            red = REDUCTIONS[k % 3]
            k += 1
            offsets = f32(tau * torch.log(f32(torch.tensor(priors))))
            value, grad = value_and_grad(lambda z: F.cross_entropy(z + offsets, t, reduction=red), x)
            cases.append({
                "name": f"logit_adjust/c{c}/tau{tau}/{red}", "priors": priors, "tau": tau,
                "reduction": red, "logits": mat(x), "targets": t.tolist(),
                "value": num(value), "grad": mat(grad),
            })
    return cases


# ---------------------------------------------------------------- asymmetric loss (authors' code)


class AsymmetricLoss(torch.nn.Module):
    def __init__(self, gamma_neg=4, gamma_pos=1, clip=0.05, eps=1e-8, disable_torch_grad_focal_loss=False):
        super().__init__()
        self.gamma_neg = gamma_neg
        self.gamma_pos = gamma_pos
        self.clip = clip
        self.disable_torch_grad_focal_loss = disable_torch_grad_focal_loss
        self.eps = eps

    def forward(self, x, y):
        x_sigmoid = torch.sigmoid(x)
        xs_pos = x_sigmoid
        xs_neg = 1 - x_sigmoid
        if self.clip is not None and self.clip > 0:
            xs_neg = (xs_neg + self.clip).clamp(max=1)
        los_pos = y * torch.log(xs_pos.clamp(min=self.eps))
        los_neg = (1 - y) * torch.log(xs_neg.clamp(min=self.eps))
        loss = los_pos + los_neg
        if self.gamma_neg > 0 or self.gamma_pos > 0:
            pt0 = xs_pos * y
            pt1 = xs_neg * (1 - y)
            pt = pt0 + pt1
            one_sided_gamma = self.gamma_pos * y + self.gamma_neg * (1 - y)
            one_sided_w = torch.pow(1 - pt, one_sided_gamma)
            loss *= one_sided_w
        return -loss  # elementwise; the reduction is applied outside


def asymmetric_cases():
    cases = []
    k = 0
    for gp, gn, clip in [(1.0, 4.0, 0.05), (0.0, 4.0, 0.05), (0.0, 2.0, 0.0), (1.0, 1.0, 0.2), (0.0, 0.0, 0.0)]:
        for rng in RANGES:
            for tk in ["zeros", "ones", "random"]:
                x = logits_from(rng, (4, 5))
                if tk == "zeros":
                    y = torch.zeros(4, 5)
                elif tk == "ones":
                    y = torch.ones(4, 5)
                else:
                    y = torch.randint(0, 2, (4, 5), generator=gen).to(torch.float64)
                red = REDUCTIONS[k % 3]
                k += 1
                fn = AsymmetricLoss(gamma_neg=gn, gamma_pos=gp, clip=clip)
                value, grad = value_and_grad(lambda z: reduce(fn(z, y), red), x)
                cases.append({
                    "name": f"asl/gp{gp}/gn{gn}/m{clip}/{rng}/{tk}/{red}", "gamma_pos": gp,
                    "gamma_neg": gn, "clip": clip, "reduction": red,
                    "logits": mat(x), "targets": mat(y), "value": num(value), "grad": mat(grad),
                })
    return cases


def main():
    data = {
        "generator": "scripts/gen_loss_fixtures.py",
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "focal": focal_cases(),
        "sigmoid_focal": sigmoid_cases(),
        "poly1": poly_cases(),
        "ldam": ldam_cases(),
        "logit_adjust": logit_adjust_cases(),
        "asymmetric": asymmetric_cases(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
    sizes = {k: len(v) for k, v in data.items() if isinstance(v, list)}
    print(f"wrote {os.path.normpath(OUT)}: {os.path.getsize(OUT)} bytes, cases {sizes}")


if __name__ == "__main__":
    main()
