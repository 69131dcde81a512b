#pragma once
/// \file d2l/models/alexnet.h
/// AlexNet as the book's chapter 8.1 defines it for Fashion-MNIST (LibTorch).
#include <torch/nn/modules/container/sequential.h>

#include <cstdint>

namespace d2l {

/// Conv2d(in,96,11,stride 4,pad 1), ReLU, MaxPool(3,2), Conv2d(96,256,5,pad 2), ReLU,
/// MaxPool(3,2), three Conv2d(3,pad 1) to 384, 384, 256 channels with ReLU, MaxPool(3,2),
/// Flatten, Linear(6400 for 224 x 224 inputs, 4096), ReLU, Dropout(0.5), Linear(4096,4096),
/// ReLU, Dropout(0.5), Linear(4096,classes). `image_size` (the book resizes Fashion-MNIST to
/// 224) sets the first Linear's inputs. Weights get the book's Xavier initialisation.
/// Throws d2l::Error (BadInput) when the images are too small (under 65 pixels).
torch::nn::Sequential alexnet(std::int64_t in_channels = 1, std::int64_t num_classes = 10,
                              std::int64_t image_size = 224);

}  // namespace d2l
