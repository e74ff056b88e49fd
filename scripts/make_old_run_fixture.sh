#!/usr/bin/env bash
# Writes crates/focal-experiment/tests/fixtures/compare-cf3ce54/: an experiment folder written by an
# earlier focal, which tests/old_runs.rs loads to check that old run folders still read.
#
#   scripts/make_old_run_fixture.sh PATH/TO/OLD/focal
#
# The binary must be built from the commit the fixture is named after (cf3ce54); the data is a
# small generated CSV (300 rows, 4 features, 1 in 6 "tumour"), written beside the runs.
set -euo pipefail
focal=${1:?usage: $0 PATH/TO/focal (built at cf3ce54)}
out=crates/focal-experiment/tests/fixtures/compare-cf3ce54
rm -rf "$out" && mkdir -p "$out"
python3 - "$out/data.csv" <<'PY'
import random, sys
random.seed(7)
rows = ["f1,f2,f3,f4,label"]
for i in range(300):
    lab = "tumour" if i % 6 == 0 else "healthy"
    shift = 1.2 if lab == "tumour" else 0.0
    rows.append(",".join(f"{random.gauss(shift, 1):.4f}" for _ in range(4)) + "," + lab)
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
PY
tmp=$(mktemp -d)
"$focal" compare --data "$out/data.csv" --remedies weighted-ce,focal,ldam-drw --alpha 0.25 \
  --model mlp --epochs 2 --quiet --out "$tmp/compare"
cp -r "$tmp/compare/." "$out/"
rm -rf "$tmp"
# The HTML reports are rebuilt by the test; they are not part of the format under test.
find "$out" -name report.html -delete
