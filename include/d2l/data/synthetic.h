#pragma once
/// \file d2l/data/synthetic.h
/// The book's synthetic regression data (LibTorch).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <utility>

namespace d2l::data {

/// y = Xw + b + noise (std 0.01), X ~ N(0, 1) of shape [n, len(w)], y of shape [n, 1]
/// (the book's `synthetic_data(w, b, num_examples)`).
std::pair<at::Tensor, at::Tensor> synthetic_data(const at::Tensor& w, double b, std::int64_t n);

/// Yields shuffled (X, y) mini-batches of an in-memory data set (the book's `data_iter`).
std::vector<std::pair<at::Tensor, at::Tensor>> data_iter(std::int64_t batch_size,
                                                         const at::Tensor& features,
                                                         const at::Tensor& labels);

}  // namespace d2l::data

namespace d2l {
// The book's names: `d2l.synthetic_data`, and chapter 3.2's `data_iter`.
using data::data_iter;
using data::synthetic_data;
}  // namespace d2l
