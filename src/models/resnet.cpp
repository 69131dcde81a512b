#include "d2l/models/resnet.h"

#include <torch/torch.h>

#include "d2l/models/lenet.h"

namespace d2l {
namespace nn = torch::nn;

ResidualImpl::ResidualImpl(std::int64_t input_channels_, std::int64_t num_channels_,
                           bool use_1x1conv_, std::int64_t strides_)
    : input_channels(input_channels_),
      num_channels(num_channels_),
      strides(strides_),
      use_1x1conv(use_1x1conv_) {
  reset();
}

void ResidualImpl::reset() {
  conv1 = register_module(
      "conv1",
      nn::Conv2d(nn::Conv2dOptions(input_channels, num_channels, 3).padding(1).stride(strides)));
  conv2 = register_module("conv2",
                          nn::Conv2d(nn::Conv2dOptions(num_channels, num_channels, 3).padding(1)));
  if (use_1x1conv)
    conv3 = register_module(
        "conv3", nn::Conv2d(nn::Conv2dOptions(input_channels, num_channels, 1).stride(strides)));
  bn1 = register_module("bn1", nn::BatchNorm2d(num_channels));
  bn2 = register_module("bn2", nn::BatchNorm2d(num_channels));
}

at::Tensor ResidualImpl::forward(const at::Tensor& X) {
  auto Y = torch::relu(bn1(conv1(X)));
  Y = bn2(conv2(Y));
  return torch::relu(Y + (conv3 ? conv3(X) : X));
}

d2l::Sequential resnet_block(std::int64_t input_channels, std::int64_t num_channels,
                             std::int64_t num_residuals, bool first_block) {
  d2l::Sequential block;
  for (std::int64_t i = 0; i < num_residuals; ++i) {
    if (i == 0 && !first_block)
      block->push_back(Residual(input_channels, num_channels, /*use_1x1conv=*/true, 2));
    else
      block->push_back(Residual(num_channels, num_channels));
  }
  return block;
}

torch::nn::Sequential resnet(std::int64_t in_channels, std::int64_t num_classes) {
  d2l::Sequential b1(nn::Conv2d(nn::Conv2dOptions(in_channels, 64, 7).stride(2).padding(3)),
                     nn::BatchNorm2d(64), nn::ReLU(),
                     nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)));
  nn::Sequential net(b1, resnet_block(64, 64, 2, /*first_block=*/true), resnet_block(64, 128, 2),
                     resnet_block(128, 256, 2), resnet_block(256, 512, 2),
                     nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1})), nn::Flatten(),
                     nn::Linear(512, num_classes));
  xavier_init(*net);
  return net;
}

torch::nn::Sequential resnet18(std::int64_t num_classes, std::int64_t in_channels) {
  // The d2l library's layout: the stem's three layers, then named blocks.
  nn::Sequential net;
  net->push_back("0", nn::Conv2d(nn::Conv2dOptions(in_channels, 64, 3).stride(1).padding(1)));
  net->push_back("1", nn::BatchNorm2d(64));
  net->push_back("2", nn::ReLU());
  net->push_back("resnet_block1", resnet_block(64, 64, 2, /*first_block=*/true));
  net->push_back("resnet_block2", resnet_block(64, 128, 2));
  net->push_back("resnet_block3", resnet_block(128, 256, 2));
  net->push_back("resnet_block4", resnet_block(256, 512, 2));
  net->push_back("global_avg_pool", nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1})));
  net->push_back("fc", d2l::Sequential(nn::Flatten(), nn::Linear(512, num_classes)));
  return net;
}

}  // namespace d2l
