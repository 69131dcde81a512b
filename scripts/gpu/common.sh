# What every run on the GPU machine does first; sourced by core.sh and speed.sh from the
# repository root. Sets OUT (default /tmp/d2l-gpu: the log and raw JSON), PY, section(), and
# sends all output to $OUT/log.txt as well; the steps below are functions the scripts call.
OUT=${OUT:-/tmp/d2l-gpu}
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
section() { printf '\n==== %s (t=%ss) ====\n' "$*" "$SECONDS"; }
PY=${PYTHON:-python3}

# The GPU, PyTorch's CUDA build, the cores.
gpu_machine() {
  section "machine"
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv
  $PY -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "bf16", torch.cuda.is_bf16_supported())'
  nproc
}

# Fashion-MNIST from .gpu/fashion-mnist (prepare.sh) unpacked into /tmp/fm.
gpu_data() {
  section "data"
  mkdir -p /tmp/fm
  $PY - <<'PYEOF'
import gzip, shutil, glob, os
for f in glob.glob(".gpu/fashion-mnist/*.gz"):
    with gzip.open(f) as i, open("/tmp/fm/" + os.path.basename(f)[:-3], "wb") as o:
        shutil.copyfileobj(i, o)
print(sorted(os.listdir("/tmp/fm")))
PYEOF
}

# Configures build-gpu against PyTorch's LibTorch and builds TARGETS within SECONDS:
#   gpu_build SECONDS "EXTRA CMAKE FLAGS" TARGET...
# Leaves the build's exit status in GPU_BUILD_RC and its output in $OUT/build.txt.
gpu_build() {
  local limit=$1 extra=$2
  shift 2
  section "build against PyTorch's LibTorch"
  local prefix
  prefix=$($PY -c 'import torch; print(torch.utils.cmake_prefix_path)')
  # shellcheck disable=SC2086  # EXTRA is a list of flags
  timeout 120 cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
    -DD2L_THIRD_PARTY_INCLUDE="$PWD/.gpu/include" -DD2L_BUILD_TESTS=OFF -DD2L_BUILD_EXAMPLES=OFF \
    -DD2L_WERROR=OFF $extra > "$OUT/cmake.txt" 2>&1
  echo "cmake exit $?"; grep -E "d2l 0|cuda=|CUDA|Error|error" "$OUT/cmake.txt" | head -20
  timeout "$limit" cmake --build build-gpu -j "$(nproc)" --target "$@" > "$OUT/build.txt" 2>&1
  GPU_BUILD_RC=$?
  echo "build exit $GPU_BUILD_RC"
}
