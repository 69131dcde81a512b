#include "d2l/models/vgg.h"

#include <torch/torch.h>

#include "d2l/core/error.h"
#include "d2l/models/lenet.h"
#include "d2l/models/sequential.h"
#include "spatial.h"

namespace d2l {

VggArch vgg11_arch(std::int64_t ratio) {
  if (ratio < 1 || 64 % ratio != 0)
    throw bad_input("vgg11_arch: ratio " + std::to_string(ratio) + " must divide 64");
  return {{1, 64 / ratio}, {1, 128 / ratio}, {2, 256 / ratio}, {2, 512 / ratio}, {2, 512 / ratio}};
}

d2l::Sequential vgg_block(std::int64_t num_convs, std::int64_t in_channels,
                          std::int64_t out_channels) {
  namespace nn = torch::nn;
  if (num_convs < 1)
    throw bad_input("vgg_block: " + std::to_string(num_convs) + " convolutions (need 1 or more)");
  d2l::Sequential block;
  for (std::int64_t i = 0; i < num_convs; ++i) {
    block->push_back(nn::Conv2d(nn::Conv2dOptions(in_channels, out_channels, 3).padding(1)));
    block->push_back(nn::ReLU());
    in_channels = out_channels;
  }
  block->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
  return block;
}

torch::nn::Sequential vgg(const VggArch& arch, std::int64_t in_channels, std::int64_t num_classes,
                          std::int64_t image_size) {
  namespace nn = torch::nn;
  if (arch.empty()) throw bad_input("vgg: the architecture has no blocks");
  nn::Sequential net;
  std::int64_t s = image_size;
  for (const auto& [num_convs, out_channels] : arch) {
    net->push_back(vgg_block(num_convs, in_channels, out_channels));
    in_channels = out_channels;
    s = detail::window_out(s, 2, 2);
  }
  detail::require_size("vgg", image_size, s);
  net->push_back(nn::Flatten());
  net->push_back(nn::Linear(in_channels * s * s, 4096));
  net->push_back(nn::ReLU());
  net->push_back(nn::Dropout(0.5));
  net->push_back(nn::Linear(4096, 4096));
  net->push_back(nn::ReLU());
  net->push_back(nn::Dropout(0.5));
  net->push_back(nn::Linear(4096, num_classes));
  xavier_init(*net);
  return net;
}

}  // namespace d2l
