#!/usr/bin/env python3
"""Summarises the op tables that `scripts/bench_ops.py --out TABLE.md` writes (focal and PyTorch
side by side): per model, the whole training step, the distinct ops summed by family (each
distinct shape once, not weighted by how often the network uses it), and the rows where focal
loses the most milliseconds to PyTorch. Prints Markdown.

    python3 scripts/summarize_ops.py TABLE.md [TABLE2.md ...] [--top 8] [--full]

With several tables (the same build timed more than once, each run of bench_ops followed by
its bench_ops.py), each side's time of a row is its minimum over the tables: on a shared machine
other work only ever slows a run down, so the minimum is the least disturbed figure. --full
also prints every row so merged.
"""
import argparse
import sys
from collections import defaultdict


def family(op, variant):
    if op == "conv2d":
        return f"conv2d {variant}"
    if op in ("batch_norm", "bn_add_relu"):
        return f"{op} {variant}"
    if op in ("adam", "adamw", "sgd"):
        return f"optimizer step ({op})"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tables", nargs="+")
    ap.add_argument("--top", type=int, default=8)
    ap.add_argument("--full", action="store_true", help="also print every (merged) row")
    args = ap.parse_args()
    merged = {}
    for table in args.tables:
        found = 0
        for line in open(table):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) != 7 or cells[0] in ("model", "---"):
                continue
            try:
                f, t = float(cells[4]), float(cells[5])
            except ValueError:
                continue
            found += 1
            key = tuple(cells[:4])
            old = merged.get(key, (f, t))
            merged[key] = (min(old[0], f), min(old[1], t))
        if not found:
            sys.exit(f"{table}: no rows of bench_ops.py's table (model | op | shape | variant | "
                     f"focal ms | PyTorch ms | ratio)")
    rows = [(*k, f, t) for k, (f, t) in merged.items()]
    models = list(dict.fromkeys(r[0] for r in rows))
    print("| model | work | focal ms | PyTorch ms | PyTorch/focal |")
    print("|---|---|---:|---:|---:|")
    for m in models:
        sums = defaultdict(lambda: [0.0, 0.0, 0])
        for model, op, shape, variant, f, t in rows:
            if model != m:
                continue
            if op == "step":
                print(f"| {m} | **step ({variant})** | **{f:.1f}** | **{t:.1f}** | **{t / f:.2f}** |")
                continue
            fam = family(op, variant)
            if fam:
                s = sums[fam]
                s[0] += f
                s[1] += t
                s[2] += 1
        for fam, (f, t, n) in sorted(sums.items()):
            print(f"| {m} | {fam}, {n} distinct | {f:.1f} | {t:.1f} | {t / f:.2f} |")
    print()
    print(f"Rows where focal loses the most time (focal ms - PyTorch ms), top {args.top} per model:")
    print()
    print("| model | op | shape | variant | focal ms | PyTorch ms | gap ms |")
    print("|---|---|---|---|---:|---:|---:|")
    for m in models:
        mine = sorted((r for r in rows if r[0] == m and r[1] != "step"),
                      key=lambda r: r[5] - r[4])[: args.top]
        for model, op, shape, variant, f, t in mine:
            if f > t:
                print(f"| {model} | {op} | {shape} | {variant} | {f:.2f} | {t:.2f} | {f - t:+.2f} |")


    if args.full:
        print()
        print("| model | op | shape | variant | focal ms | PyTorch ms | PyTorch/focal |")
        print("|---|---|---|---|---:|---:|---:|")
        for model, op, shape, variant, f, t in rows:
            print(f"| {model} | {op} | {shape} | {variant} | {f:.3f} | {t:.3f} | {t / f:.2f} |")


if __name__ == "__main__":
    main()
