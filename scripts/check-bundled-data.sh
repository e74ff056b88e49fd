#!/usr/bin/env bash
# Checks the bundled Fashion-MNIST test split against the checksums in its PROVENANCE.md, and,
# when Debian's dataset-fashion-mnist package is installed, against the package's own files.
# Usage: bash scripts/check-bundled-data.sh   (from the repository root)
set -euo pipefail
dir=data/fashion-mnist-test
cd "$(dirname "$0")/.."
sha256sum -c <<SUMS
cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa  $dir/t10k-images-idx3-ubyte.gz
8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05  $dir/t10k-labels-idx1-ubyte.gz
SUMS
deb=/usr/share/datasets/fashion-mnist
if [ -d "$deb" ]; then
  for f in t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
    cmp "$dir/$f" "$deb/$f" && echo "$f: identical to $deb/$f"
  done
else
  echo "skipped: $deb absent (apt-get install -y dataset-fashion-mnist to compare)"
fi
