#!/usr/bin/env bash
# GPU check for d2l autostop's NVML signal (issue 5). Run on the GPU machine from the repository
# root with the built d2l in build/bin. Prints our GPU utilisation next to nvidia-smi's, while idle
# and while a GPU load runs, and the autostop verdict in both cases.
set -uo pipefail
D2L=${D2L:-build/bin/d2l}
export D2L_CONFIG_DIR=$(mktemp -d)
trap 'rm -rf "$D2L_CONFIG_DIR"; [ -n "${LOAD:-}" ] && kill $LOAD 2>/dev/null' EXIT
echo "== idle GPU"
nvidia-smi --query-gpu=index,name,utilization.gpu --format=csv,noheader
"$D2L" autostop status --signals gpu
"$D2L" autostop check --signals gpu --dry-run --json | grep -E '"verdict"|GPU'
echo "== GPU under load (PyTorch matmul loop, 40 s)"
python3 - <<'PY' &
import time, torch
x = torch.randn(8192, 8192, device="cuda")
end = time.time() + 40
while time.time() < end:
    y = x @ x
torch.cuda.synchronize()
PY
LOAD=$!
sleep 15
nvidia-smi --query-gpu=index,name,utilization.gpu --format=csv,noheader
"$D2L" autostop status --signals gpu
"$D2L" autostop check --signals gpu --dry-run --json | grep -E '"verdict"|GPU'
wait $LOAD
LOAD=
echo "== expected: idle -> verdict active/dry-run-act with 0-5%; under load -> verdict busy, ~100% in both columns"
