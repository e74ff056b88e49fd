#!/usr/bin/env bash
# The experiments behind EXPERIMENTS.md. Reads data from where it is installed; writes under
# runs/experiments/. Usage: scripts/experiments.sh [path/to/focal]
#   Fashion-MNIST: apt-get install dataset-fashion-mnist (files in /usr/share/datasets/fashion-mnist)
#   MedMNIST: ../shared/data/medmnist/{breastmnist,pneumoniamnist}.npz
set -euo pipefail
FOCAL=${1:-target/release/focal}
OUT=runs/experiments
FMNIST=${FMNIST:-/usr/share/datasets/fashion-mnist}
MEDMNIST=${MEDMNIST:-../shared/data/medmnist}
mkdir -p "$OUT"
run() { local name=$1; shift; echo "== $name: focal compare $*" | tee "$OUT/$name.log"; \
  /usr/bin/time -v "$FOCAL" compare "$@" --out "$OUT/$name" --quiet >>"$OUT/$name.log" 2>"$OUT/$name.time"; }
# The tutorial's protocol: pooled train+test, 19,600 / 10,000 / 10,000 at 98:2, batch 32, Adam 1e-3.
run fmnist-bag   --data "$FMNIST" --positive Bag   --ratio 98:2 --train-size 19600 --val-size 10000 --test-size 10000 --epochs 3 --seeds 1
run fmnist-shirt --data "$FMNIST" --positive Shirt --ratio 98:2 --train-size 19600 --val-size 10000 --test-size 10000 --epochs 3 --seeds 1
# MedMNIST with their official splits and natural imbalance; the rare class is positive.
run breastmnist    --data "$MEDMNIST/breastmnist.npz"    --positive malignant --epochs 10 --seeds 3
run pneumoniamnist --data "$MEDMNIST/pneumoniamnist.npz" --positive normal    --epochs 5  --seeds 2
