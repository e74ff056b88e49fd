#!/usr/bin/env bash
# Writes crates/focal-train/tests/fixtures/train-c3246bb/: two run folders written by focal at
# commit c3246bb (before focal-train was split and its settings became checked types), which
# tests/old_runs.rs evaluates, resumes, predicts with and exports.
#
#   PYTHON=/path/to/python-with-numpy-and-pillow scripts/make_old_train_fixture.sh PATH/TO/OLD/focal
#
# The binary must be built from c3246bb. The data is a small generated folder of 8x8 greyscale
# PNGs (400 images, 1 in 8 "lesion", a bright spot), written beside the runs:
# - complete/: `focal train --data images --model cnn --epochs 4`, finished;
# - interrupted/: the same command, killed (SIGKILL) once its first epochs are written, so it
#   holds a checkpoint and history but no metrics.json. Resumed, it must finish with the
#   metrics of complete/ (the same seed and settings; resume is exact).
set -euo pipefail
focal=${1:?usage: $0 PATH/TO/focal (built at c3246bb)}
python=${PYTHON:-python3}
out=crates/focal-train/tests/fixtures/train-c3246bb
rm -rf "$out" && mkdir -p "$out"
"$python" - "$out/images" <<'PY'
import os, sys
import numpy as np
from PIL import Image
root = sys.argv[1]
rng = np.random.default_rng(3)
for name in ("normal", "lesion"):
    os.makedirs(os.path.join(root, name), exist_ok=True)
for i in range(400):
    lesion = i % 8 == 0
    img = rng.normal(90, 25, (8, 8))
    if lesion:
        y, x = rng.integers(1, 7, 2)
        img[y - 1:y + 1, x - 1:x + 1] += 110
    arr = np.clip(img, 0, 255).astype(np.uint8)
    name = "lesion" if lesion else "normal"
    Image.fromarray(arr, mode="L").save(os.path.join(root, name, f"{i:03d}.png"))
PY
flags=(train --data "$out/images" --model cnn --epochs 4 --quiet --out "$out")
"$focal" "${flags[@]}" --name complete
# The interrupted run: killed as soon as history.csv holds a first epoch (the fixture records
# wherever the kill landed; retried if the run finished first).
for attempt in 1 2 3 4 5; do
  rm -rf "$out/interrupted"
  "$focal" "${flags[@]}" --name interrupted &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [ -f "$out/interrupted/history.csv" ] && [ "$(wc -l <"$out/interrupted/history.csv")" -ge 2 ]; then
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
  done
  wait "$pid" 2>/dev/null || true
  if [ ! -f "$out/interrupted/metrics.json" ]; then
    break
  fi
  echo "attempt $attempt: the run finished before the kill; again" >&2
done
test ! -f "$out/interrupted/metrics.json"
# What an interrupted write leaves behind is not part of the format under test.
find "$out" -name '*.tmp' -prune -exec rm -rf {} +
rm -f "$out"/*/.lock
# The HTML report is rebuilt by the tests; it is not part of the format under test.
find "$out" -name report.html -delete
echo "wrote $out: complete/ ($(wc -l <"$out/complete/history.csv") history lines), interrupted/ ($(wc -l <"$out/interrupted/history.csv") history lines)"
