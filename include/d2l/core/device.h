#pragma once
/// \file d2l/core/device.h
/// The book's device helpers (LibTorch).
#include <c10/core/Device.h>

#include <string>
#include <vector>

namespace d2l {

/// The number of CUDA GPUs LibTorch sees (0 in a CPU-only build).
int num_gpus();
/// GPU `i` if it exists, else the CPU (the book's `try_gpu`).
c10::Device try_gpu(int i = 0);
/// All GPUs, or {CPU} when there is none (the book's `try_all_gpus`).
std::vector<c10::Device> try_all_gpus();
/// Parses `auto` (first GPU, else CPU), `cpu`, `cuda`, `cuda:N`, `gpu`. Throws d2l::Error
/// (BadInput) for another name or a GPU that is absent.
c10::Device parse_device(const std::string& name);

}  // namespace d2l
