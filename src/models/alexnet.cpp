#include "d2l/models/alexnet.h"

#include <torch/torch.h>

#include "d2l/models/lenet.h"
#include "spatial.h"

namespace d2l {

torch::nn::Sequential alexnet(std::int64_t in_channels, std::int64_t num_classes,
                              std::int64_t image_size) {
  namespace nn = torch::nn;
  using detail::window_out;
  // 224 -> conv 54 -> pool 26 -> (conv 5 pad 2, three conv 3 pad 1 keep it) pool 12 -> pool 5
  const std::int64_t conv1 = window_out(image_size, 11, 4, 1);
  const std::int64_t s = window_out(window_out(window_out(conv1, 3, 2), 3, 2), 3, 2);
  detail::require_size("alexnet", image_size, s);
  nn::Sequential net(nn::Conv2d(nn::Conv2dOptions(in_channels, 96, 11).stride(4).padding(1)),
                     nn::ReLU(), nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2)),
                     nn::Conv2d(nn::Conv2dOptions(96, 256, 5).padding(2)), nn::ReLU(),
                     nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2)),
                     nn::Conv2d(nn::Conv2dOptions(256, 384, 3).padding(1)), nn::ReLU(),
                     nn::Conv2d(nn::Conv2dOptions(384, 384, 3).padding(1)), nn::ReLU(),
                     nn::Conv2d(nn::Conv2dOptions(384, 256, 3).padding(1)), nn::ReLU(),
                     nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2)), nn::Flatten(),
                     nn::Linear(256 * s * s, 4096), nn::ReLU(), nn::Dropout(0.5),
                     nn::Linear(4096, 4096), nn::ReLU(), nn::Dropout(0.5),
                     nn::Linear(4096, num_classes));
  xavier_init(*net);
  return net;
}

}  // namespace d2l
