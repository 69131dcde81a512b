#!/usr/bin/env bash
# The GPU checks of issues 2, 4 and 5 in one run, for a machine with a CUDA GPU and PyTorch
# (pip wheel) but none of Debian's packages. From the repository root:
#   scripts/gpu/core.sh            # QUICK=1: build, LeNet and the bench commands only
# Needs: .gpu/include (copies of /usr/include/CLI and /usr/include/nlohmann) and
# .gpu/fashion-mnist (the four .gz files), both prepared on the build machine. Writes a log and
# the raw JSON to $OUT (default /tmp/d2l-gpu). Each step has a time limit; a failing step does not
# stop the others.
set -u
source "$(dirname "$0")/common.sh"

gpu_machine
$PY -c 'import torchvision; print("torchvision", torchvision.__version__)'
gpu_data
gpu_build 360 "" d2l_cli d2l_torch_cli loader_bench
grep -E "error|FAILED" -A3 "$OUT/build.txt" | head -30
B=build-gpu/bin
$B/d2l --version

section "d2l train lenet --device cuda (10 epochs, the book's settings)"
timeout 200 $B/d2l train lenet --device cuda --data-dir /tmp/fm --no-chart --out "$OUT/lenet-cuda" \
  --json > "$OUT/lenet-cuda.json"; echo "exit $?"
$PY -c "import json;d=json.load(open('$OUT/lenet-cuda.json'));print({k:d[k] for k in ['loss','train_acc','test_acc','examples_per_sec','seconds','first_batch_seconds','device']})"

section "d2l bench train lenet / mlp on cuda, d2l bench loader"
timeout 60 $B/d2l bench train lenet --device cuda --data-dir /tmp/fm --repeats 50
timeout 60 $B/d2l bench train mlp --device cuda --data-dir /tmp/fm --repeats 50
timeout 60 $B/d2l bench loader --data-dir /tmp/fm --resize 96
if [ "${QUICK:-0}" = 1 ]; then section "done (QUICK)"; exit 0; fi

section "Python reference lenet on cuda (book's procedure, 4 workers, 10 epochs)"
timeout 240 $PY bench/reference/book_train.py --model lenet --epochs 10 --device cuda --data-dir /tmp/fm \
  | tail -3

for m in mlp softmax; do
  section "$m on cuda, 3 epochs: d2l then Python"
  timeout 100 $B/d2l train $m --epochs 3 --device cuda --data-dir /tmp/fm --no-chart --json \
    --out "$OUT/$m-cuda" > "$OUT/$m-cuda.json"
  $PY -c "import json;d=json.load(open('$OUT/$m-cuda.json'));print({k:d[k] for k in ['test_acc','examples_per_sec','first_batch_seconds']})"
  timeout 120 $PY bench/reference/book_train.py --model $m --epochs 3 --device cuda --data-dir /tmp/fm | tail -1
done

section "d2l doctor"
timeout 60 $B/d2l doctor; echo "exit $?"
timeout 60 $B/d2l doctor --json > "$OUT/doctor.json"

section "d2l monitor --once --json vs nvidia-smi (idle)"
timeout 20 $B/d2l monitor --once --json > "$OUT/monitor-idle.json"; echo "exit $?"
nvidia-smi --format=csv --query-gpu=index,name,memory.total,memory.used,utilization.gpu,temperature.gpu,power.draw,clocks.sm,clocks.mem,compute_cap,mig.mode.current
$PY - "$OUT/monitor-idle.json" <<'PYEOF'
import json, sys
m = json.load(open(sys.argv[1]))
for g in m.get("gpus", []):
    print("d2l monitor:", {k: g.get(k) for k in ["index","name","memory_total_bytes","memory_used_bytes","utilization_percent","temperature_c","power_w","clock_sm_mhz","clock_memory_mhz","compute_capability","mig_enabled"]})
PYEOF

section "d2l bench matmul (CPU and GPU), then monitor and autostop under its load"
timeout 90 $B/d2l bench matmul --device cuda:0 --dtype fp32 --size 8192 --repeats 300 --max-seconds 15 > /dev/null 2>&1 &
LOAD=$!
sleep 5
timeout 20 $B/d2l monitor --once --json > "$OUT/monitor-load.json"
nvidia-smi --format=csv --query-gpu=utilization.gpu,memory.used,power.draw,clocks.sm
nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv
$PY - "$OUT/monitor-load.json" <<'PYEOF'
import json, sys
m = json.load(open(sys.argv[1]))
for g in m.get("gpus", []):
    print("d2l monitor (load):", {k: g.get(k) for k in ["utilization_percent","memory_used_bytes","power_w","clock_sm_mhz"]})
print("d2l monitor gpu processes:", m.get("gpu_processes"))
PYEOF
D2L_CONFIG_DIR=$(mktemp -d) timeout 20 $B/d2l autostop status --signals gpu
wait $LOAD
timeout 150 $B/d2l bench matmul --max-seconds 8
D2L_CONFIG_DIR=$(mktemp -d) timeout 20 $B/d2l autostop status --signals gpu
section "done"
