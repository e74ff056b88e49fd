#!/usr/bin/env bash
# One device call (16-core machine, run from the repository root after gpu_epochs.sh, or with
# .bin/focal.xz): the CNN epoch against PyTorch at 16 and 2 threads, then `focal compare
# --epochs 2` with --jobs 1 and with the default --jobs auto, and whether their comparison.json
# files agree. Used for BENCHMARKS.md, 2026-12-04.
set -u
T0=$(date +%s)
log() { echo "[$(( $(date +%s) - T0 ))s] $*" | tee -a $OUT/cpu_log.txt; }
if [ ! -x /tmp/b/focal ]; then mkdir -p /tmp/b && xz -dc .bin/focal.xz > /tmp/b/focal && chmod +x /tmp/b/focal; fi
F=/tmp/b/focal
{ date -u; lscpu | grep -E "Model name|^CPU\(s\)|Thread|Core"; python3 -c 'import torch; print("torch", torch.__version__)'; } | tee -a $OUT/cpu_log.txt
for t in 16 2; do
  log "cnn epoch, $t threads"
  timeout 90 python3 scripts/bench_train.py --focal $F --epochs 2 --threads $t 2>&1 | tee -a $OUT/cpu_log.txt
done
W=/tmp/c; rm -rf $W; mkdir -p $W
for j in 1 default; do
  if [ $j = 1 ]; then extra="--jobs 1"; else extra=""; fi
  log "compare --epochs 2 $extra"
  t0=$(date +%s.%N)
  timeout 200 $F compare --epochs 2 --quiet --out $W/$j $extra > $W/$j.out 2>&1
  echo "rc $? wall $(python3 -c "import time; print(round(time.time() - $t0, 1))") s" >> $W/$j.out; tail -14 $W/$j.out | tee -a $OUT/cpu_log.txt
  cp $W/$j/comparison.json $OUT/comparison_$j.json 2>/dev/null
done
cmp $OUT/comparison_1.json $OUT/comparison_default.json && log "comparison.json identical" || log "comparison.json differs"
log done
