#pragma once
/// \file d2l/models/lenet.h
/// LeNet-5 exactly as the book defines it (LibTorch).
#include <torch/nn/modules/container/sequential.h>

#include <cstdint>

namespace d2l {

/// Conv2d(in,6,5,pad 2), Sigmoid, AvgPool(2,2), Conv2d(6,16,5), Sigmoid, AvgPool(2,2), Flatten,
/// Linear(16*5*5 for 28x28 inputs, 120), Sigmoid, Linear(120,84), Sigmoid, Linear(84,classes).
/// `image_size` (28 for Fashion-MNIST, 32 for CIFAR-10) sets the first Linear's inputs.
/// Weights get the book's Xavier initialisation.
torch::nn::Sequential lenet(std::int64_t in_channels = 1, std::int64_t num_classes = 10,
                            std::int64_t image_size = 28);

/// The book's `init_cnn`/`train_ch6` initialisation: Xavier-uniform weights of every Linear
/// and Conv2d in `net`; biases are left as they are.
void xavier_init(torch::nn::Module& net);

}  // namespace d2l
