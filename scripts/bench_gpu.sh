#!/usr/bin/env bash
# GPU speed, focal (Burn, Vulkan) against PyTorch CUDA, same machine, same run:
#   - the bundled CNN task (6,406 training images of 1x28x28), batch 32, 3 epochs;
#   - ResNet-50 on a synthetic folder of 1,400 RGB PNGs of 224x224 (980 training, 210
#     validation images), batch 32, 2 epochs;
# then prints one table: seconds per epoch (median; the first epoch, with shader compilation,
# listed too), PyTorch/focal, peak GPU memory.
#
#   scripts/bench_gpu.sh FOCAL_BINARY [OUT_DIR]
#
# FOCAL_BINARY: built with `cargo build --release -p focal-cli --features vulkan`. Needs python3
# with torch, torchvision, numpy and pillow, an NVIDIA driver, and a Vulkan loader that can load
# NVIDIA's ICD: libvulkan1 AND libglvnd0 (libGLX_nvidia.so.0 needs libGLdispatch; without it the
# loader reports "Could not get 'vkCreateInstance'" and focal finds no GPU), with
# VK_DRIVER_FILES pointing at nvidia_icd.json. The first epoch of each model includes Burn's
# autotune (99 s for the CNN on an H200, measured 2026-11-27), so the run takes longer than the
# issue's 6 minutes on a machine whose CubeCL autotune cache is cold.
set -euo pipefail
focal=$(readlink -f "${1:?usage: $0 FOCAL_BINARY [OUT_DIR]}")
out=${2:-$(mktemp -d)}
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/make_image_folder.py" "$out/images" --n 1400 --size 224
# Peak GPU memory of a command, sampled by nvidia-smi every 0.2 s, in MiB.
peak_of() {
  local log=$1; shift
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 >"$log" &
  local smi=$!
  "$@"
  kill "$smi" 2>/dev/null || true
  sort -n "$log" | tail -1
}
run() {
  local name=$1; shift
  local base
  base=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1)
  local peak
  peak=$(peak_of "$out/$name.smi" python3 "$here/bench_train.py" --focal "$focal" --device cuda \
    --side focal "$@" >"$out/$name.focal.json" || true)
  echo "{\"side\": \"focal\", \"peak_gpu_mib_nvidia_smi\": $((peak - base))}" >>"$out/$name.focal.json"
  python3 "$here/bench_train.py" --device cuda --side pytorch "$@" >"$out/$name.torch.json" || true
}
run cnn --epochs 3
run resnet50 --epochs 2 --model resnet50 --data "$out/images"
python3 - "$out" <<'PY'
import json, sys, statistics
out = sys.argv[1]
print("| work | focal s/epoch (all) | PyTorch s/epoch (all) | PyTorch/focal | peak GPU MiB focal / PyTorch |")
print("|---|---|---|---:|---|")
for name in ("cnn", "resnet50"):
    f = [json.loads(l) for l in open(f"{out}/{name}.focal.json")]
    f = [d for d in f if "epoch_s" in d] + [d for d in f if "epoch_s" not in d]
    try:
        t = json.loads(open(f"{out}/{name}.torch.json").read().splitlines()[0])
    except (OSError, IndexError):
        t = None
    if not f or "epoch_s" not in f[0] or t is None:
        print(f"| {name} | failed (see the output above) | | | |")
        continue
    fe, te = f[0]["epoch_s"], t["epoch_s"]
    fm, tm = statistics.median(fe), statistics.median(te)
    print(f"| {f[0]['work']} | {', '.join(f'{v:.2f}' for v in fe)} | "
          f"{', '.join(f'{v:.2f}' for v in te)} | {tm / fm:.3f} | "
          f"{f[1]['peak_gpu_mib_nvidia_smi']} / {t['peak_gpu_mib']:.0f} (allocated) |")
PY
