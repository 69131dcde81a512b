#pragma once
/// \file d2l/train/evaluate.h
/// The book's accuracy helpers (LibTorch).
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <torch/nn/modules/container/sequential.h>

#include <cstdint>
#include <optional>

#include "d2l/data/loader.h"

namespace d2l {

/// The number of correct predictions (the book's `accuracy`): y_hat [B, classes] or [B].
double accuracy(const at::Tensor& y_hat, const at::Tensor& y);

/// The accuracy of `net` on `data` computed on `device`, in eval mode without gradients
/// (the book's `evaluate_accuracy_gpu`). The net's train/eval mode is restored afterwards.
/// `max_batches` (> 0) stops after that many batches (smoke runs; the default reads them all).
double evaluate_accuracy(torch::nn::Sequential& net, const data::DataLoader& data,
                         c10::Device device = c10::Device(c10::kCPU),
                         std::optional<std::int64_t> max_batches = std::nullopt);

}  // namespace d2l
