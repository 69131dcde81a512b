// d2l doctor's table of known failures and their fixes.
#include "d2l/sys/environment.h"

namespace d2l::sys {

const std::vector<Hint>& doctor_hints() {
  static const std::vector<Hint> kHints = {
      {"nvml-mismatch", "NVML: Driver/library version mismatch",
       "The NVIDIA kernel module and the user-space driver differ (usually after a driver upgrade "
       "without a reboot): reboot, or reload the module (sudo rmmod nvidia_uvm nvidia_drm "
       "nvidia_modeset nvidia && sudo modprobe nvidia)."},
      {"nvml-stub", "Only the stub libnvidia-ml.so was found",
       "The CUDA toolkit's stubs/ folder is for linking only: install the NVIDIA driver (it "
       "provides libnvidia-ml.so.1) and take .../stubs out of LD_LIBRARY_PATH."},
      {"nvml-failed", "NVML is present but does not initialise",
       "Check that the driver is loaded (lsmod | grep nvidia; nvidia-smi) and that /dev/nvidia* "
       "is visible (in a container: --gpus all)."},
      {"no-gpu-visible", "The NVIDIA driver is loaded but no GPU is visible",
       "Check CUDA_VISIBLE_DEVICES, that the container was started with --gpus all, and "
       "nvidia-smi."},
      {"cuda-not-in-build", "A GPU is present but LibTorch was built without CUDA",
       "Use a CUDA build of LibTorch (pytorch.org, LibTorch C++, CUDA 12.x) and configure with "
       "-DCMAKE_PREFIX_PATH=/path/to/libtorch."},
      {"cuda-driver-too-old", "LibTorch's CUDA is newer than the driver supports",
       "Update the NVIDIA driver, or use a LibTorch built for a CUDA version the driver supports "
       "(the driver's CUDA version is the highest it runs)."},
      {"cuda-unavailable", "LibTorch has CUDA and the driver sees GPUs, but CUDA is unavailable",
       "Check that the CUDA runtime libraries LibTorch needs are found (ldd on libtorch_cuda.so), "
       "and CUDA_VISIBLE_DEVICES."},
      {"torch-missing", "The LibTorch helper d2l-torch was not found",
       "Build with -DD2L_WITH_TORCH=ON (it installs d2l-torch beside d2l or in libexec/d2l), or "
       "set D2L_TORCH_EXE to its path."},
      {"torch-failed", "The LibTorch helper d2l-torch failed",
       "Run 'd2l-torch doctor-torch --json' by hand to see its error; check that LibTorch's "
       "libraries are found (ldd d2l-torch)."},
      {"reference-blas", "The reference BLAS (netlib) is loaded",
       "It makes training several times slower. Install OpenBLAS and select it: sudo apt install "
       "libopenblas0-pthread && sudo update-alternatives --config libblas.so.3-x86_64-linux-gnu "
       "(and liblapack.so.3-x86_64-linux-gnu)."},
      {"openblas-core", "OpenBLAS chose kernels for an older CPU than this one",
       "OpenBLAS 0.3.21 takes this CPU for an old one and runs generic kernels: set "
       "OPENBLAS_CORETYPE (the value shown, e.g. export OPENBLAS_CORETYPE=SkylakeX) before "
       "running, or use a newer OpenBLAS."},
      {"dataset-missing", "A data set was not found, or its folder lacks files",
       "sudo apt install dataset-fashion-mnist (Debian puts it in /usr/share/datasets), or set "
       "D2L_DATA_DIR (or pass --data-dir) to the folder holding the files, its parent, or the "
       "downloaded archive; `d2l show --help` lists the search order. d2l train downloads a "
       "missing data set into ~/.cache/d2l."},
      {"few-threads", "LibTorch uses fewer threads than the CPU has cores",
       "Set OMP_NUM_THREADS to the number of cores (the value shown) before running, or call "
       "torch::set_num_threads()."},
      {"low-disk", "Little free disk where data and checkpoints go",
       "Free space or point D2L_DATA_DIR and the checkpoint folder at a larger disk."},
      {"low-memory", "Little memory (or a low container limit)",
       "Use smaller batches; in a container, raise its memory limit."},
      {"no-avx2", "The CPU has no AVX2",
       "LibTorch's and OpenBLAS's fast kernels need AVX2: expect slow CPU training."},
      {"compute-mismatch", "A device's matrix product differs from the CPU's",
       "Check the driver and the GPU's health (nvidia-smi -q -d ECC,TEMPERATURE); try another "
       "device."},
      {"hot-gpu", "A GPU runs hot", "Check the cooling; the GPU may throttle its clocks."},
  };
  return kHints;
}

const Hint* find_hint(const std::string& id) {
  for (const auto& h : doctor_hints())
    if (h.id == id) return &h;
  return nullptr;
}
}  // namespace d2l::sys
