#pragma once
/// \file d2l/models/nin.h
/// Network in network as the book's chapter 8.3 defines it (LibTorch).
#include <torch/nn/modules/container/sequential.h>

#include <cstdint>

#include "d2l/models/sequential.h"

namespace d2l {

/// Conv2d(in,out,kernel,stride,padding), ReLU, then twice Conv2d(out,out,1) and ReLU (the
/// book's `nin_block`: 1 x 1 convolutions as per-pixel fully connected layers).
d2l::Sequential nin_block(std::int64_t in_channels, std::int64_t out_channels,
                          std::int64_t kernel_size, std::int64_t stride, std::int64_t padding);

/// nin_block(in,96,11,4,0), MaxPool(3,2), nin_block(96,256,5,1,2), MaxPool(3,2),
/// nin_block(256,384,3,1,1), MaxPool(3,2), Dropout(0.5), nin_block(384,classes,3,1,1),
/// AdaptiveAvgPool2d(1), Flatten: no fully connected layer. Xavier initialisation.
/// `image_size` only checks that the images are large enough (67 pixels or more); throws
/// d2l::Error (BadInput) otherwise.
torch::nn::Sequential nin(std::int64_t in_channels = 1, std::int64_t num_classes = 10,
                          std::int64_t image_size = 224);

}  // namespace d2l
