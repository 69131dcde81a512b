#include "d2l/models/densenet.h"

#include <torch/torch.h>

#include "d2l/models/lenet.h"
#include "spatial.h"

namespace d2l {
namespace nn = torch::nn;

d2l::Sequential conv_block(std::int64_t input_channels, std::int64_t num_channels) {
  return d2l::Sequential(nn::BatchNorm2d(input_channels), nn::ReLU(),
                         nn::Conv2d(nn::Conv2dOptions(input_channels, num_channels, 3).padding(1)));
}

DenseBlockImpl::DenseBlockImpl(std::int64_t num_convs_, std::int64_t input_channels_,
                               std::int64_t num_channels_)
    : num_convs(num_convs_), input_channels(input_channels_), num_channels(num_channels_) {
  reset();
}

void DenseBlockImpl::reset() {
  nn::Sequential layers;
  for (std::int64_t i = 0; i < num_convs; ++i)
    layers->push_back(conv_block(num_channels * i + input_channels, num_channels));
  net = register_module("net", layers);
}

at::Tensor DenseBlockImpl::forward(at::Tensor X) {
  for (auto& blk : *net) {
    auto Y = blk.forward(X);
    X = torch::cat({X, Y}, 1);  // every later conv_block sees all earlier outputs
  }
  return X;
}

d2l::Sequential transition_block(std::int64_t input_channels, std::int64_t num_channels) {
  return d2l::Sequential(nn::BatchNorm2d(input_channels), nn::ReLU(),
                         nn::Conv2d(nn::Conv2dOptions(input_channels, num_channels, 1)),
                         nn::AvgPool2d(nn::AvgPool2dOptions(2).stride(2)));
}

torch::nn::Sequential densenet(std::int64_t in_channels, std::int64_t num_classes,
                               std::int64_t image_size) {
  using detail::window_out;
  const std::int64_t growth_rate = 32;
  const std::int64_t convs_in_dense_blocks[] = {4, 4, 4, 4};
  const std::int64_t blocks = std::size(convs_in_dense_blocks);
  std::int64_t s = window_out(window_out(image_size, 7, 2, 3), 3, 2, 1);
  for (std::int64_t i = 0; i + 1 < blocks; ++i) s = window_out(s, 2, 2);
  detail::require_size("densenet", image_size, s);

  nn::Sequential net;  // b1, as ResNet's
  net->push_back(d2l::Sequential(
      nn::Conv2d(nn::Conv2dOptions(in_channels, 64, 7).stride(2).padding(3)), nn::BatchNorm2d(64),
      nn::ReLU(), nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1))));
  std::int64_t num_channels = 64;
  for (std::int64_t i = 0; i < blocks; ++i) {
    const std::int64_t num_convs = convs_in_dense_blocks[i];
    net->push_back(DenseBlock(num_convs, num_channels, growth_rate));
    num_channels += num_convs * growth_rate;
    if (i + 1 < blocks) {  // a transition halves the channels between dense blocks
      net->push_back(transition_block(num_channels, num_channels / 2));
      num_channels /= 2;
    }
  }
  net->push_back(nn::BatchNorm2d(num_channels));
  net->push_back(nn::ReLU());
  net->push_back(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1})));
  net->push_back(nn::Flatten());
  net->push_back(nn::Linear(num_channels, num_classes));
  xavier_init(*net);
  return net;
}

}  // namespace d2l
