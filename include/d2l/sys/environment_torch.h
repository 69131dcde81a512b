#pragma once
/// \file d2l/sys/environment_torch.h
/// The LibTorch half of `d2l doctor` (in d2l::d2l): LibTorch's version and configuration, the
/// BLAS it calls, and a matrix product on every device checked against the CPU.
#include <string>

namespace d2l::sys {

/// Probes LibTorch in this process and returns one JSON object, schema "d2l.doctor-torch/1"
/// (docs/machine-tools.md): torch_version, compiler, config (at::show_config()), parallel_info,
/// cuda_built, cuda_available, device_count, cuda_runtime_version, cudnn_version, mkldnn, mkl,
/// openmp, threads, interop_threads, blas {sgemm_provider, mapped, openblas_core,
/// openblas_config}, matmul [{device, size, ok, max_rel_err, seconds} or {device, error}].
/// A probe that fails gives null or an "error" entry; this function does not throw for them.
std::string torch_probe_json(int indent = 2);

}  // namespace d2l::sys
