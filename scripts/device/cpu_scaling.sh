#!/usr/bin/env bash
# One device call (16-core machine, run from the repository root after gpu_epochs.sh, or with
# .bin/focal.xz): the CNN epoch against PyTorch at 16 and 2 threads, then `focal compare
# --epochs 2` with --jobs 1 and with the default --jobs auto, and whether their comparison.json
# files agree; then three seeds with the default --jobs, and scripts/estimate_jobs_speedup.py on
# the same cores. Used for BENCHMARKS.md, 2026-12-04 (the first part).
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
# Three seeds (18 runs) with the default --jobs, for the estimate's second line; and the estimate
# itself on this machine, to set it against the measurements above.
log "compare --epochs 2 --seeds 3"
t0=$(date +%s.%N)
timeout 200 $F compare --epochs 2 --seeds 3 --quiet --out $W/seeds3 > $W/seeds3.out 2>&1
echo "rc $? wall $(python3 -c "import time; print(round(time.time() - $t0, 1))") s" | tee -a $OUT/cpu_log.txt
log "estimate from 1 and 2 threads"
timeout 240 python3 scripts/estimate_jobs_speedup.py --focal $F --cores "$(nproc)" --seeds 1 3 2>&1 | tee -a $OUT/cpu_log.txt
log done
