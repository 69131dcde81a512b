#include <torch/torch.h>

#include "d2l/data/synthetic.h"

namespace d2l::data {

std::pair<at::Tensor, at::Tensor> synthetic_data(const at::Tensor& w, double b, std::int64_t n) {
  auto X = torch::normal(0, 1, {n, w.numel()});
  auto y = torch::matmul(X, w.reshape({-1})) + b;
  y += torch::normal(0, 0.01, y.sizes());
  return {X, y.reshape({-1, 1})};
}

std::vector<std::pair<at::Tensor, at::Tensor>> data_iter(std::int64_t batch_size,
                                                         const at::Tensor& features,
                                                         const at::Tensor& labels) {
  const std::int64_t n = features.size(0);
  auto idx = torch::randperm(n, torch::kLong);
  std::vector<std::pair<at::Tensor, at::Tensor>> out;
  for (std::int64_t i = 0; i < n; i += batch_size) {
    auto j = idx.slice(0, i, std::min(i + batch_size, n));
    out.emplace_back(features.index_select(0, j), labels.index_select(0, j));
  }
  return out;
}

}  // namespace d2l::data
