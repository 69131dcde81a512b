#pragma once
/// \file d2l/models/googlenet.h
/// GoogLeNet and its Inception block as the book's chapter 8.4 defines them (LibTorch).
#include <ATen/core/Tensor.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/pooling.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <utility>

namespace d2l {

/// The Inception block: four parallel paths whose outputs are concatenated on the channel
/// axis: (1) Conv 1 x 1 to c1; (2) Conv 1 x 1 to c2.first, Conv 3 x 3 (pad 1) to c2.second;
/// (3) Conv 1 x 1 to c3.first, Conv 5 x 5 (pad 2) to c3.second; (4) MaxPool 3 x 3 (stride 1,
/// pad 1), Conv 1 x 1 to c4. Each convolution is followed by a ReLU. Height and width are
/// kept; the output has c1 + c2.second + c3.second + c4 channels.
class InceptionImpl : public torch::nn::Cloneable<InceptionImpl> {
 public:
  using Pair = std::pair<std::int64_t, std::int64_t>;
  InceptionImpl(std::int64_t in_channels, std::int64_t c1, Pair c2, Pair c3, std::int64_t c4);
  void reset() override;
  /// [N, in_channels, H, W] -> [N, c1 + c2.second + c3.second + c4, H, W].
  at::Tensor forward(const at::Tensor& x);

  std::int64_t in_channels, c1, c4;
  Pair c2, c3;
  torch::nn::Conv2d p1_1{nullptr}, p2_1{nullptr}, p2_2{nullptr}, p3_1{nullptr}, p3_2{nullptr},
      p4_2{nullptr};
  torch::nn::MaxPool2d p4_1{nullptr};
};
/// The module holder of InceptionImpl, as TORCH_MODULE(Inception) makes it, and also
/// constructible with braces as the book writes it: `Inception(192, 64, {96, 128}, {16, 32}, 32)`.
class Inception : public torch::nn::ModuleHolder<InceptionImpl> {
 public:
  using torch::nn::ModuleHolder<InceptionImpl>::ModuleHolder;
  using torch::nn::ModuleHolder<InceptionImpl>::get;
  Inception(std::int64_t in_channels, std::int64_t c1, InceptionImpl::Pair c2,
            InceptionImpl::Pair c3, std::int64_t c4);
};

/// b1: Conv2d(in,64,7,stride 2,pad 3), ReLU, MaxPool(3,2,pad 1); b2: Conv2d(64,64,1), ReLU,
/// Conv2d(64,192,3,pad 1), ReLU, MaxPool(3,2,1); b3: two Inception blocks (to 256, 480
/// channels), MaxPool(3,2,1); b4: five Inception blocks (512, 512, 512, 528, 832), MaxPool;
/// b5: two Inception blocks (832, 1024), AdaptiveAvgPool2d(1), Flatten; then
/// Linear(1024,classes). The book trains it on Fashion-MNIST resized to 96. Xavier
/// initialisation. `image_size` is not needed for the layer sizes (global average pooling);
/// any size of 1 pixel or more works.
torch::nn::Sequential googlenet(std::int64_t in_channels = 1, std::int64_t num_classes = 10);

}  // namespace d2l
