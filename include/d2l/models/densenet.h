#pragma once
/// \file d2l/models/densenet.h
/// DenseNet and its blocks as the book's chapter 8.7 defines them (LibTorch).
#include <ATen/core/Tensor.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

#include "d2l/models/sequential.h"

namespace d2l {

/// BatchNorm2d(input_channels), ReLU, Conv2d(input_channels, num_channels, 3, pad 1): the
/// book's pre-activation `conv_block` of DenseNet.
d2l::Sequential conv_block(std::int64_t input_channels, std::int64_t num_channels);

/// The dense block: `num_convs` conv_blocks, each fed the concatenation (on the channel axis)
/// of the block's input and every earlier conv_block's output; the output has input_channels +
/// num_convs * num_channels channels (num_channels is the growth rate).
class DenseBlockImpl : public torch::nn::Cloneable<DenseBlockImpl> {
 public:
  DenseBlockImpl(std::int64_t num_convs, std::int64_t input_channels, std::int64_t num_channels);
  void reset() override;
  /// [N, input_channels, H, W] -> [N, input_channels + num_convs * num_channels, H, W].
  at::Tensor forward(at::Tensor X);

  std::int64_t num_convs, input_channels, num_channels;
  torch::nn::Sequential net{nullptr};  ///< the conv_blocks
};
TORCH_MODULE(DenseBlock);

/// BatchNorm2d(input_channels), ReLU, Conv2d(input_channels, num_channels, 1),
/// AvgPool2d(2, stride 2): shrinks the channels and halves the height and width.
d2l::Sequential transition_block(std::int64_t input_channels, std::int64_t num_channels);

/// b1 as ResNet's (Conv2d(in,64,7,2,3), BatchNorm2d, ReLU, MaxPool(3,2,1)), then four
/// DenseBlocks of 4 convolutions with growth rate 32, a transition_block halving the channels
/// between them (64 -> 192 -> 96 -> 224 -> 112 -> 240 -> 120 -> 248), BatchNorm2d(248), ReLU,
/// AdaptiveAvgPool2d(1), Flatten, Linear(248,classes). Xavier initialisation. The transitions
/// pool three times after b1's factor 4, so `image_size` must be 29 or more (the book trains
/// at 96; Fashion-MNIST's own 28 is too small); throws d2l::Error (BadInput) otherwise.
torch::nn::Sequential densenet(std::int64_t in_channels = 1, std::int64_t num_classes = 10,
                               std::int64_t image_size = 96);

}  // namespace d2l
