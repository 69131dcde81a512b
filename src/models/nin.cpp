#include "d2l/models/nin.h"

#include <torch/torch.h>

#include "d2l/models/lenet.h"
#include "spatial.h"

namespace d2l {

d2l::Sequential nin_block(std::int64_t in_channels, std::int64_t out_channels,
                          std::int64_t kernel_size, std::int64_t stride, std::int64_t padding) {
  namespace nn = torch::nn;
  return d2l::Sequential(nn::Conv2d(nn::Conv2dOptions(in_channels, out_channels, kernel_size)
                                        .stride(stride)
                                        .padding(padding)),
                         nn::ReLU(), nn::Conv2d(nn::Conv2dOptions(out_channels, out_channels, 1)),
                         nn::ReLU(), nn::Conv2d(nn::Conv2dOptions(out_channels, out_channels, 1)),
                         nn::ReLU());
}

torch::nn::Sequential nin(std::int64_t in_channels, std::int64_t num_classes,
                          std::int64_t image_size) {
  namespace nn = torch::nn;
  using detail::window_out;
  // 224 -> 54 -> pool 26 -> pool 12 -> pool 5; the 5 x 5 and 3 x 3 blocks keep the size.
  const std::int64_t b1 = window_out(image_size, 11, 4);
  const std::int64_t s = window_out(window_out(window_out(b1, 3, 2), 3, 2), 3, 2);
  detail::require_size("nin", image_size, s);
  nn::Sequential net(nin_block(in_channels, 96, 11, 4, 0),
                     nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2)), nin_block(96, 256, 5, 1, 2),
                     nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2)), nin_block(256, 384, 3, 1, 1),
                     nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2)), nn::Dropout(0.5),
                     nin_block(384, num_classes, 3, 1, 1),
                     nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1})), nn::Flatten());
  xavier_init(*net);
  return net;
}

}  // namespace d2l
