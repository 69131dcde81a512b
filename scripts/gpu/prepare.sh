#!/usr/bin/env bash
# Fills .gpu/ (ignored by git) with what the GPU machine cannot install and the device tool must
# carry: the header-only libraries (CLI11, nlohmann/json) and the real Fashion-MNIST files.
# Run on the Debian build machine, then pass carry [".gpu"] to the device tool's run.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .gpu/include .gpu/fashion-mnist
for h in CLI nlohmann; do
  [ -d "/usr/include/$h" ] || { echo "prepare: /usr/include/$h missing (scripts/setup installs it)" >&2; exit 1; }
  rm -rf ".gpu/include/$h" && cp -r "/usr/include/$h" .gpu/include/
done
src=${D2L_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
n=0
for f in "$src"/*-ubyte.gz; do
  [ -e "$f" ] || continue
  cp "$f" .gpu/fashion-mnist/ && n=$((n + 1))
done
[ "$n" = 4 ] || { echo "prepare: expected the 4 Fashion-MNIST .gz files in $src, found $n" >&2; exit 1; }
du -sh .gpu
