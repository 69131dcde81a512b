#pragma once
/// \file d2l/sys/bench_torch.h
/// The appendix's matrix-product benchmark as a library call (in d2l::d2l).
#include <torch/torch.h>

#include <string>

#include "d2l/sys/bench.h"

namespace d2l::sys {

/// The tensor type for "fp32", "fp16", "bf16" or "fp64"; throws d2l::Error (BadInput) otherwise.
torch::ScalarType matmul_dtype(const std::string& name);

/// Times torch::mm of two random n x n matrices of `dtype` on `device` (synchronising CUDA after
/// each run) with run_bench(). Errors of LibTorch (a type the device does not support) pass
/// through as c10::Error.
BenchStats bench_matmul(const torch::Device& device, const std::string& dtype, std::size_t n,
                        const BenchOptions& options);

}  // namespace d2l::sys
