// Section 8.3 of Dive into Deep Learning: network in network (NiN).
// Usage: example_nin [NUM_EPOCHS] [NUM_EXAMPLES]
#include <d2l/d2l.h>
#include <torch/torch.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

#include "chapter8.h"

// The mini-batch size.
const int64_t kBatchSize = 128;
// The learning rate of SGD.
const double kLearningRate = 0.05;
// The number of passes over the training data (argv[1] overrides it).
const int64_t kNumEpochs = 10;
// The book resizes Fashion-MNIST's 28 x 28 images to this height and width.
const int64_t kResize = 224;
// The seed of LibTorch's random number generator (initialisation, dropout).
const uint64_t kSeed = 0;

int main(int argc, char* argv[]) try {
  int64_t num_epochs = 0, num_examples = 0;
  if (!read_args(argc, argv, kNumEpochs, num_epochs, num_examples)) return 2;
  torch::manual_seed(kSeed);

  // nin_blocks (a convolution, then two 1 x 1 convolutions: per-pixel dense layers) and
  // max-pools; the last block has one channel per class, averaged over the image (no dense layer).
  namespace nn = torch::nn;
  torch::nn::Sequential net(
      d2l::nin_block(1, 96, /*kernel_size=*/11, /*strides=*/4, /*padding=*/0),
      nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2)), d2l::nin_block(96, 256, 5, 1, 2),
      nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2)), d2l::nin_block(256, 384, 3, 1, 1),
      nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2)), nn::Dropout(0.5),
      // There are 10 label classes.
      d2l::nin_block(384, 10, 3, 1, 1), nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1)),
      // Transform the four-dimensional output into two-dimensional output of shape (batch, 10).
      nn::Flatten());
  print_shapes(net, kResize);

  auto [train_all, test_all] = d2l::load_data_fashion_mnist(kBatchSize, kResize);
  auto train_iter = first(train_all, num_examples), test_iter = first(test_all, num_examples);
  d2l::train_ch6(net, train_iter, test_iter, num_epochs, kLearningRate, d2l::try_gpu());
  return 0;
} catch (const std::exception& e) {
  std::cerr << argv[0] << ": " << e.what() << "\n";
  return 1;
}
