#pragma once
/// \file d2l/core/device.h
/// The book's device helpers (LibTorch).
#include <ATen/core/Tensor.h>
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

/// `t` on `device` without making the host wait: a CPU tensor bound for a GPU goes through
/// pinned memory and a non-blocking copy (a plain copy from pageable memory waits until the
/// GPU's queue has drained, a host round trip per batch). Other moves are ordinary `to`.
at::Tensor to_device_async(const at::Tensor& t, c10::Device device);

}  // namespace d2l
