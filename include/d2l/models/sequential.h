#pragma once
/// \file d2l/models/sequential.h
/// A Sequential that can sit inside another Sequential, as the book nests nn.Sequential blocks
/// (LibTorch).
#include <ATen/core/Tensor.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <memory>

namespace d2l {

/// torch::nn::SequentialImpl with a plain Tensor -> Tensor forward. LibTorch cannot store its
/// own Sequential in a Sequential (its forward is a template); the book's blocks (`vgg_block`,
/// `nin_block`, `resnet_block`, GoogLeNet's b1..b5, ...) are this type so the networks nest
/// them as the book does. Everything else is torch::nn::SequentialImpl's.
class SequentialImpl : public torch::nn::SequentialImpl {
 public:
  using torch::nn::SequentialImpl::SequentialImpl;
  /// Runs the layers in order.
  at::Tensor forward(const at::Tensor& input);
  /// A deep copy that keeps this type and the layers' names.
  std::shared_ptr<torch::nn::Module> clone(
      const c10::optional<c10::Device>& device = c10::nullopt) const override;
};
TORCH_MODULE(Sequential);

}  // namespace d2l
