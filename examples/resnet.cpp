// Section 8.6 of Dive into Deep Learning: residual networks (ResNet).
// Usage: example_resnet [NUM_EPOCHS] [NUM_EXAMPLES]
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
const double kLearningRate = 0.01;
// The number of passes over the training data (argv[1] overrides it).
const int64_t kNumEpochs = 10;
// The book resizes the images to 96 x 96.
const int64_t kResize = 96;
// The seed of LibTorch's random number generator (initialisation, dropout).
const uint64_t kSeed = 0;

int main(int argc, char* argv[]) try {
  int64_t num_epochs = 0, num_examples = 0;
  if (!read_args(argc, argv, kNumEpochs, num_epochs, num_examples)) return 2;
  torch::manual_seed(kSeed);

  // A residual block keeps the shape, or halves the height and width with a 1 x 1 shortcut.
  auto blk = d2l::Residual(3, 3);
  std::cout << "Residual(3, 3) on (4, 3, 6, 6):\t"
            << d2l::format_shape(blk->forward(torch::rand({4, 3, 6, 6})).sizes().vec()) << "\n";
  blk = d2l::Residual(3, 6, /*use_1x1conv=*/true, /*strides=*/2);
  std::cout << "Residual(3, 6, use_1x1conv, strides 2):\t"
            << d2l::format_shape(blk->forward(torch::rand({4, 3, 6, 6})).sizes().vec()) << "\n";
  // b1: a 7 x 7 convolution, batch norm and a max-pool; b2..b5: two residual blocks each.
  namespace nn = torch::nn;
  d2l::Sequential b1(nn::Conv2d(nn::Conv2dOptions(1, 64, 7).stride(2).padding(3)),
                     nn::BatchNorm2d(64), nn::ReLU(),
                     nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)));
  torch::nn::Sequential net(
      b1, d2l::resnet_block(64, 64, 2, /*first_block=*/true), d2l::resnet_block(64, 128, 2),
      d2l::resnet_block(128, 256, 2), d2l::resnet_block(256, 512, 2),
      nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1)), nn::Flatten(), nn::Linear(512, 10));
  print_shapes(net, kResize);

  auto [train_all, test_all] = d2l::load_data_fashion_mnist(kBatchSize, kResize);
  auto train_iter = first(train_all, num_examples), test_iter = first(test_all, num_examples);
  d2l::train_ch6(net, train_iter, test_iter, num_epochs, kLearningRate, d2l::try_gpu());
  return 0;
} catch (const std::exception& e) {
  std::cerr << argv[0] << ": " << e.what() << "\n";
  return 1;
}
