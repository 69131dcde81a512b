#pragma once
/// \file d2l/models/layers.h
/// Layers the book's networks use, where d2l has a faster implementation of the same arithmetic
/// (LibTorch).
#include <torch/nn/cloneable.h>
#include <torch/nn/module.h>
#include <torch/nn/options/pooling.h>
#include <torch/nn/pimpl.h>

namespace d2l {

/// Average pooling, as torch::nn::AvgPool2d with the same options. The book's LeNet pools 2 x 2
/// with stride 2: for float CPU tensors in the default (NCHW) layout that case runs a kernel of
/// our own (forward and backward, 4x faster than LibTorch 1.13's on this CPU); every other case
/// calls torch::avg_pool2d.
class AvgPool2dImpl : public torch::nn::Cloneable<AvgPool2dImpl> {
 public:
  explicit AvgPool2dImpl(const torch::nn::AvgPool2dOptions& options);
  void reset() override {}
  /// Pools an [N, C, H, W] (or [C, H, W]) tensor.
  at::Tensor forward(const at::Tensor& input);
  torch::nn::AvgPool2dOptions options;
};
TORCH_MODULE(AvgPool2d);

/// 2 x 2 average pooling with stride 2 of a contiguous float [..., H, W] CPU tensor, as an
/// autograd function (H and W may be odd: the last row or column is dropped, as LibTorch does).
at::Tensor avg_pool_2x2(const at::Tensor& input);

}  // namespace d2l
