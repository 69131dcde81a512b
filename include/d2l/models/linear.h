#pragma once
/// \file d2l/models/linear.h
/// Linear regression from scratch and softmax regression (LibTorch), as the book defines them.
#include <ATen/core/Tensor.h>
#include <torch/nn/modules/container/sequential.h>

#include <cstdint>
#include <vector>

namespace d2l {

/// The linear regression model: X w + b (the book's `linreg`).
at::Tensor linreg(const at::Tensor& X, const at::Tensor& w, const at::Tensor& b);
/// (y_hat - y)^2 / 2, elementwise (the book's `squared_loss`).
at::Tensor squared_loss(const at::Tensor& y_hat, const at::Tensor& y);
/// Minibatch stochastic gradient descent: p -= lr * p.grad / batch_size, then zero the grads
/// (the book's `sgd`).
void sgd(std::vector<at::Tensor> params, double lr, std::int64_t batch_size);

/// Softmax regression: Flatten, Linear(num_inputs, num_outputs), weights ~ N(0, 0.01), the
/// book's concise implementation (the softmax sits in the cross-entropy loss).
torch::nn::Sequential softmax_regression(std::int64_t num_inputs = 784,
                                         std::int64_t num_outputs = 10);

}  // namespace d2l
