#pragma once
/// \file d2l/models/resnet.h
/// ResNet and its residual block as the book's chapter 8.6 defines them, and the d2l library's
/// ResNet-18 for CIFAR-10 (LibTorch).
#include <ATen/core/Tensor.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

#include "d2l/models/sequential.h"

namespace d2l {

/// The residual block: Y = ReLU(bn2(conv2(ReLU(bn1(conv1(X))))) + shortcut(X)), conv1 3 x 3
/// (pad 1, stride `strides`), conv2 3 x 3 (pad 1); the shortcut is X itself, or with
/// `use_1x1conv` a 1 x 1 convolution conv3 (stride `strides`) that matches the channels and
/// size.
class ResidualImpl : public torch::nn::Cloneable<ResidualImpl> {
 public:
  ResidualImpl(std::int64_t input_channels, std::int64_t num_channels, bool use_1x1conv = false,
               std::int64_t strides = 1);
  void reset() override;
  /// [N, input_channels, H, W] -> [N, num_channels, ceil(H / strides), ceil(W / strides)].
  at::Tensor forward(const at::Tensor& X);

  std::int64_t input_channels, num_channels, strides;
  bool use_1x1conv;
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};  ///< conv3 only with 1x1
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
};
TORCH_MODULE(Residual);

/// `num_residuals` Residual blocks; the first halves the height and width and changes the
/// channels (1 x 1 shortcut) unless `first_block` (the book's `resnet_block`).
d2l::Sequential resnet_block(std::int64_t input_channels, std::int64_t num_channels,
                             std::int64_t num_residuals, bool first_block = false);

/// The book's ResNet-18 for Fashion-MNIST (chapter 8.6): b1 = Conv2d(in,64,7,stride 2,pad 3),
/// BatchNorm2d(64), ReLU, MaxPool(3,2,pad 1); b2..b5 = resnet_block to 64 (first block), 128,
/// 256, 512 channels, two residuals each; AdaptiveAvgPool2d(1), Flatten, Linear(512,classes).
/// 11,178,378 parameters for 1 channel and 10 classes. Xavier initialisation. Works for any
/// image size (global average pooling); the book trains it at 96.
torch::nn::Sequential resnet(std::int64_t in_channels = 1, std::int64_t num_classes = 10);

/// The d2l library's `resnet18(num_classes, in_channels)` (chapters 13-14, CIFAR-10): a 3 x 3
/// stem, Conv2d(in,64,3,pad 1), BatchNorm2d(64), ReLU, and no max-pooling, then the four
/// resnet blocks, AdaptiveAvgPool2d(1), Flatten, Linear(512,classes). 11,175,818 parameters for
/// 10 classes and 1 channel. LibTorch's default initialisation, as the book leaves it.
torch::nn::Sequential resnet18(std::int64_t num_classes, std::int64_t in_channels = 1);

}  // namespace d2l
