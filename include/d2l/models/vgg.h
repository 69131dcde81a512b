#pragma once
/// \file d2l/models/vgg.h
/// VGG as the book's chapter 8.2 defines it (LibTorch).
#include <torch/nn/modules/container/sequential.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "d2l/models/sequential.h"

namespace d2l {

/// A VGG architecture: one (number of convolutions, output channels) pair per block.
using VggArch = std::vector<std::pair<std::int64_t, std::int64_t>>;

/// VGG-11's architecture ((1,64),(1,128),(2,256),(2,512),(2,512)) with every channel count
/// divided by `ratio`; the book trains ratio 4 on Fashion-MNIST:
/// ((1,16),(1,32),(2,64),(2,128),(2,128)).
VggArch vgg11_arch(std::int64_t ratio = 1);

/// `num_convs` times Conv2d(3 x 3, pad 1) and ReLU, then MaxPool(2, stride 2): halves the
/// height and width (the book's `vgg_block`).
d2l::Sequential vgg_block(std::int64_t num_convs, std::int64_t in_channels,
                          std::int64_t out_channels);

/// One vgg_block per entry of `arch`, Flatten, Linear(channels x (size/2^blocks)^2, 4096),
/// ReLU, Dropout(0.5), Linear(4096,4096), ReLU, Dropout(0.5), Linear(4096,classes), with the
/// book's Xavier initialisation. Throws d2l::Error (BadInput) for an empty architecture, or
/// when `image_size` is below 2^blocks.
torch::nn::Sequential vgg(const VggArch& arch, std::int64_t in_channels = 1,
                          std::int64_t num_classes = 10, std::int64_t image_size = 224);

}  // namespace d2l
