#pragma once
/// \file d2l/models/mlp.h
/// The book's multilayer perceptron (LibTorch).
#include <torch/nn/modules/container/sequential.h>

#include <cstdint>

namespace d2l {

/// Flatten, Linear(num_inputs, num_hiddens), ReLU, Linear(num_hiddens, num_outputs), weights
/// ~ N(0, 0.01), as the book's concise MLP (784-256-10).
torch::nn::Sequential mlp(std::int64_t num_inputs = 784, std::int64_t num_hiddens = 256,
                          std::int64_t num_outputs = 10);

}  // namespace d2l
