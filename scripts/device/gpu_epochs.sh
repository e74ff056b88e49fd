#!/usr/bin/env bash
# One device call (GPU machine, run from the repository root): the bundled CNN and ResNet-50 at
# 224x224 (1,400 synthetic PNGs, 980 training) trained by focal (Vulkan) and by PyTorch CUDA in the
# same call, each under a time limit, history.csv and nvidia-smi peaks copied to $OUT. Expects
# .bin/focal.xz (`cargo build --release -p focal-cli --features vulkan`, stripped, xz) and the
# Vulkan loader .debs in .gl/ (see the device README). Used for BENCHMARKS.md, 2026-12-04.
set -u
T0=$(date +%s)
log() { echo "[$(( $(date +%s) - T0 ))s] $*" | tee -a $OUT/log.txt; }
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
mkdir -p /tmp/b && xz -dc .bin/focal.xz > /tmp/b/focal && chmod +x /tmp/b/focal
F=/tmp/b/focal
{ date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; lscpu | grep "Model name"; nproc;
  python3 -c 'import torch, torchvision; print("torch", torch.__version__, "torchvision", torchvision.__version__, torch.cuda.get_device_name(0))';
  $F info; } > $OUT/machine.txt 2>&1
cat $OUT/machine.txt | tee -a $OUT/log.txt
W=/tmp/w; mkdir -p $W
log "images"; python3 scripts/make_image_folder.py $W/images --n 1400 --size 224 >> $OUT/log.txt 2>&1
smi() { nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > $1 & echo $!; }
base=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1)
echo "base_mib $base" >> $OUT/log.txt
# 1. ResNet-50, focal, 3 epochs (first: autotune, balanced, cold cache)
log "r50 focal"; p=$(smi $W/r50.smi)
timeout 220 $F train --remedy focal --epochs 3 --quiet --out $W/r50 --name r50 --model resnet50 \
  --batch-size 32 --device gpu --data $W/images --positive 1 --checkpoint-every 3 --image-size 224x224 > $W/r50.out 2>&1; echo "rc $?" >> $W/r50.out
kill $p; echo "peak_mib $(sort -n $W/r50.smi | tail -1)" >> $W/r50.out
cp $W/r50/r50/history.csv $OUT/r50_history.csv 2>/dev/null; tail -25 $W/r50.out | tee -a $OUT/log.txt
# 2. ResNet-50, PyTorch CUDA, 3 epochs
log "r50 torch"; timeout 90 python3 scripts/bench_train.py --device cuda --side pytorch --model resnet50 \
  --data $W/images --epochs 3 2>&1 | tee -a $OUT/log.txt
# 3. CNN, focal, 3 epochs (autotune of the CNN shapes, cold), then again (persisted cache)
for k in cold warm; do
  if [ $k = cold ]; then tl=110; else tl=40; fi
  log "cnn focal $k"; p=$(smi $W/cnn_$k.smi)
  timeout $tl $F train --remedy focal --epochs 3 --quiet --out $W/cnn_$k --name c --device gpu > $W/cnn_$k.out 2>&1; echo "rc $?" >> $W/cnn_$k.out
  kill $p; echo "peak_mib $(sort -n $W/cnn_$k.smi | tail -1)" >> $W/cnn_$k.out
  cp $W/cnn_$k/c/history.csv $OUT/cnn_${k}_history.csv 2>/dev/null; tail -5 $W/cnn_$k.out | tee -a $OUT/log.txt
  cat $OUT/cnn_${k}_history.csv >> $OUT/log.txt 2>/dev/null
done
log "cnn torch"; timeout 60 python3 scripts/bench_train.py --device cuda --side pytorch --epochs 3 2>&1 | tee -a $OUT/log.txt
cat $OUT/r50_history.csv >> $OUT/log.txt 2>/dev/null
du -sh target/environment ~/.cache/cubecl 2>&1 | tee -a $OUT/log.txt
log done
