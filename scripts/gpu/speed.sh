#!/usr/bin/env bash
# The GPU checks of issue 9 (training at the GPU's pace), then the GPU figures of issues 10 and
# 12 if time is left, in one run on a machine with a CUDA GPU and PyTorch (pip wheel) but none of
# Debian's packages. From the repository root, after scripts/gpu/prepare.sh on the build
# machine (it fills .gpu/, which the device tool must carry):
#   scripts/gpu/speed.sh                 # everything, about 9 minutes after the build
#   QUICK=1 scripts/gpu/speed.sh         # build, LeNet and the step benchmarks only
# Writes a log and the raw JSON to $OUT (default /tmp/d2l-gpu). Each step has a time limit; a
# failing step does not stop the others. Budget: the device tool gives a session about 15
# minutes in all, the machine's start and this build included.
set -u
source "$(dirname "$0")/common.sh"
# One field list for every `d2l train --json` we print.
show() {
  $PY - "$1" <<'PYEOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:  # a failed run leaves no JSON: say so and go on
    print("no result:", e); sys.exit(0)
h = d.get("history", [])
last3 = [e["test_acc"] for e in h[-3:]]
print({k: d.get(k) for k in ["model", "precision", "loss", "train_acc", "test_acc", "examples_per_sec", "seconds", "device"]},
      "mean test acc of the last 3 epochs:", round(sum(last3) / len(last3), 4) if last3 else None)
PYEOF
}

gpu_machine
gpu_data
gpu_build 420 "-DD2L_BUILD_BENCH=OFF" d2l_cli d2l_torch_cli
rc=$GPU_BUILD_RC
# The CUDA-only code (graphs, events, streams) is compiled only here: show its errors in full.
grep -E "error|FAILED" -A6 "$OUT/build.txt" | head -80
[ $rc = 0 ] || { section "build failed: stop"; exit 1; }
B=build-gpu/bin
$B/d2l --version
T="--device cuda --data-dir /tmp/fm --no-chart -q --json"

section "issue 9: the step alone: d2l bench train (graphs vs eager, GPU busy share)"
for m in lenet; do
  timeout 60 $B/d2l bench train $m --device cuda --data-dir /tmp/fm --repeats 100 --json > "$OUT/bench-$m-graphs.json"; echo "exit $?"
  timeout 60 $B/d2l bench train $m --device cuda --data-dir /tmp/fm --repeats 100 --no-cuda-graphs --json > "$OUT/bench-$m-eager.json"; echo "exit $?"
done
for m in resnet alexnet; do
  for p in fp32 bf16; do
    timeout 90 $B/d2l bench train $m --device cuda --data-dir /tmp/fm --batch-size 128 --precision $p --repeats 30 --json > "$OUT/bench-$m-$p.json"; echo "$m $p exit $?"
  done
done
$PY - "$OUT" <<'PYEOF'
import glob, json, os, sys
for f in sorted(glob.glob(os.path.join(sys.argv[1], "bench-*.json"))):
    try:
        d = json.load(open(f))
    except Exception as e:
        print(os.path.basename(f), "no result:", e); continue
    print(os.path.basename(f), {k: d.get(k) for k in ["precision", "cuda_graphs", "steps_per_sec", "examples_per_sec", "sustained_examples_per_sec", "gpu_seconds_per_step", "gpu_busy"]})
PYEOF

section "issue 9: LeNet, the book's settings, 10 epochs, CUDA graphs (default)"
timeout 120 $B/d2l train lenet $T --out "$OUT/lenet-graphs" > "$OUT/lenet-graphs.json"; echo "exit $?"
show "$OUT/lenet-graphs.json"
section "issue 9: LeNet, 3 epochs, --no-cuda-graphs (the eager loop)"
timeout 120 $B/d2l train lenet $T --epochs 3 --no-cuda-graphs --out "$OUT/lenet-eager" > "$OUT/lenet-eager.json"; echo "exit $?"
show "$OUT/lenet-eager.json"
section "issue 9: LeNet, 3 epochs, --precision fp16 (loss scaling)"
timeout 120 $B/d2l train lenet $T --epochs 3 --precision fp16 --out "$OUT/lenet-fp16" > "$OUT/lenet-fp16.json"; echo "exit $?"
show "$OUT/lenet-fp16.json"
section "issue 9: the book's Python, LeNet, 3 epochs on cuda"
timeout 150 $PY bench/reference/book_train.py --model lenet --epochs 3 --device cuda --data-dir /tmp/fm | tail -1
if [ "${QUICK:-0}" = 1 ]; then section "done (QUICK)"; exit 0; fi

for m in resnet alexnet; do
  for p in fp32 bf16; do
    section "issue 9: $m (batch 128, the book's resize), 4 epochs, --precision $p"
    timeout 150 $B/d2l train $m $T --epochs 4 --precision $p --out "$OUT/$m-$p" > "$OUT/$m-$p.json"; echo "exit $?"
    show "$OUT/$m-$p.json"
  done
  section "issue 9: the book's Python, $m fp32, 1 epoch of 150 batches (speed)"
  timeout 150 $PY bench/reference/book_train.py --model $m --epochs 1 --batch-size 128 --max-batches 150 --device cuda --data-dir /tmp/fm | tail -1
done

section "issue 10: one process on CUDA through the distributed path (NCCL where built)"
# Worked end to end when the last line says "(1 process, nccl: ...)" and metrics.json has
# "distributed": {"backend": "nccl", ...} ("gloo" means nccl.h was not found: CUDA via Gloo).
timeout 90 $B/d2l train lenet --nproc 1 --device cuda --data-dir /tmp/fm --epochs 1 --max-steps 50 -q --no-chart --out "$OUT/nccl1" 2>&1 | tail -2; echo "exit $?"
$PY -c "import json;print(json.load(open('$OUT/nccl1/metrics.json')).get('distributed'))"

section "issue 12: d2l fit predicted vs measured on the GPU"
# Compare memory.here.predicted_bytes with memory.measured_peak_bytes, peak_tensor_bytes with
# measured_tensor_peak_bytes, predicted_epoch_seconds with measured_epoch_seconds_from_step and
# with the real epoch times of the resnet/alexnet fp32 runs above.
for args in "resnet --batch-size 128" "resnet --batch-size 256" "alexnet --batch-size 128"; do
  f="$OUT/fit-${args// /_}.json"
  timeout 90 $B/d2l fit $args --device cuda --measure --json > "$f"; echo "fit $args exit $?"
  $PY - "$f" "$args" <<'PYEOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print(sys.argv[2], "no result:", e); sys.exit(0)
m = d.get("memory", {}); h = m.get("here", {})
print(sys.argv[2], {"predicted": h.get("predicted_bytes"), "measured_peak": m.get("measured_peak_bytes"),
      "predicted_tensor_peak": h.get("peak_tensor_bytes"), "measured_tensor_peak": m.get("measured_tensor_peak_bytes"),
      "predicted_epoch_s": d.get("predicted_epoch_seconds"), "measured_epoch_s_from_step": d.get("measured_epoch_seconds_from_step")})
PYEOF
done
section "issue 12: a run that cannot fit is refused in one line (exit 2)"
timeout 60 $B/d2l train resnet --batch-size 1000000 --device cuda --data-dir /tmp/fm -q --no-chart --out "$OUT/nofit"; echo "exit $? (2 expected)"
section "done"
