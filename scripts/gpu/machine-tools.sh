#!/usr/bin/env bash
# The machine tools on a GPU machine, side by side with nvidia-smi. Prints what goes in the note
# of issue 4; keeps the raw outputs in $OUT (default /tmp/machine-tools).
#   scripts/gpu/machine-tools.sh            # uses build/bin/d2l (and build/bin/d2l-torch)
#   D2L_BIN=/path/to/bin scripts/gpu/machine-tools.sh
# Takes about a minute or two; each step has its own time limit, and a failing step does not stop
# the others.
set -u
BIN=${D2L_BIN:-build/bin}
D2L="$BIN/d2l"
OUT=${OUT:-/tmp/machine-tools}
mkdir -p "$OUT"
section() { printf '\n==== %s ====\n' "$*"; }
ms() { date +%s%N; }

section "machine"
uname -a
nproc
"$D2L" --version || true

section "nvidia-smi"
timeout 30 nvidia-smi | head -n 12
timeout 30 nvidia-smi --format=csv \
  --query-gpu=index,name,driver_version,memory.total,memory.used,utilization.gpu,temperature.gpu,power.draw,power.limit,clocks.sm,clocks.mem,clocks.max.sm,compute_cap,mig.mode.current \
  | tee "$OUT/nvidia-smi.csv"

section "d2l doctor (exit code and time)"
s=$(ms)
timeout 180 "$D2L" doctor
rc=$?
e=$(ms)
echo "exit $rc, $(( (e - s) / 1000000 )) ms"
timeout 180 "$D2L" doctor --json > "$OUT/doctor.json"
timeout 60 "$D2L" doctor --no-torch > /dev/null
s=$(ms); timeout 60 "$D2L" doctor --no-torch > /dev/null; e=$(ms)
echo "d2l doctor --no-torch: $(( (e - s) / 1000000 )) ms"

section "d2l monitor --once --json (idle GPU)"
timeout 30 "$D2L" monitor --once --json | tee "$OUT/monitor-idle.json"
for i in 1 2 3 4 5; do
  s=$(ms); timeout 30 "$D2L" monitor --once > /dev/null; e=$(ms)
  printf '%s ms  ' "$(( (e - s) / 1000000 ))"
done
echo "(d2l monitor --once wall time, 5 runs)"
/usr/bin/time -v "$D2L" monitor --once 2>&1 >/dev/null | grep -E "Maximum resident|Elapsed" || true
s=$(ms); timeout 30 nvidia-smi > /dev/null; e=$(ms)
echo "nvidia-smi: $(( (e - s) / 1000000 )) ms"

section "under load: d2l bench matmul on cuda:0 in the background, then monitor and nvidia-smi"
timeout 120 "$D2L" bench matmul --device cuda:0 --dtype fp32 --size 8192 --repeats 400 \
  --max-seconds 20 > /dev/null 2>&1 &
load_pid=$!
sleep 6
timeout 30 "$D2L" monitor --once --json > "$OUT/monitor-load.json"
timeout 30 nvidia-smi --format=csv \
  --query-gpu=index,memory.used,utilization.gpu,temperature.gpu,power.draw,clocks.sm,clocks.mem \
  | tee "$OUT/nvidia-smi-load.csv"
timeout 30 nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv
if command -v python3 > /dev/null; then
  python3 - "$OUT/monitor-load.json" << 'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print("d2l monitor under load (same moment as the nvidia-smi lines above, within a second):")
for g in m["gpus"]:
    print("  gpu%d %s util %s%% mem %.0f/%.0f MiB temp %s C power %s W sm %s MHz mem %s MHz MIG %s" % (
        g["index"], g["name"], g["utilization_percent"], (g["memory_used_bytes"] or 0) / 2**20,
        (g["memory_total_bytes"] or 0) / 2**20, g["temperature_c"], g["power_w"],
        g["clock_sm_mhz"], g["clock_memory_mhz"], g["mig_enabled"]))
for p in m["gpu_processes"]:
    print("  process pid %s %s gpu%s %.0f MiB" % (p["pid"], p["name"], p.get("gpu"),
                                               (p.get("gpu_memory_bytes") or 0) / 2**20))
PY
fi
wait "$load_pid"

section "d2l bench matmul (default: size 5000, CPU fp32, each GPU fp32/fp16/bf16)"
timeout 300 "$D2L" bench matmul --max-seconds 15
timeout 300 "$D2L" bench matmul --json --max-seconds 15 > "$OUT/bench-matmul.json" 2>/dev/null
echo
echo "raw outputs in $OUT"
