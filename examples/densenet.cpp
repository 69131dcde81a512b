// Section 8.7 of Dive into Deep Learning: densely connected networks (DenseNet).
// Usage: example_densenet [NUM_EPOCHS] [NUM_EXAMPLES]
#include <d2l/d2l.h>
#include <torch/torch.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <iterator>
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
// The channels (growth rate) each convolution of a dense block adds.
const int64_t kGrowthRate = 32;
// The number of convolutions in each of the four dense blocks.
const int64_t kNumConvsInDenseBlocks[] = {4, 4, 4, 4};

int main(int argc, char* argv[]) try {
  int64_t num_epochs = 0, num_examples = 0;
  if (!read_args(argc, argv, kNumEpochs, num_epochs, num_examples)) return 2;
  torch::manual_seed(kSeed);

  // A dense block concatenates its input and each convolution's output on the channel axis.
  d2l::DenseBlock blk(2, 3, 10);
  std::cout << "DenseBlock(2, 3, 10) on (4, 3, 8, 8):\t"
            << d2l::format_shape(blk->forward(torch::rand({4, 3, 8, 8})).sizes().vec()) << "\n";
  // b1 as ResNet's, then dense blocks with a transition block halving the channels (and the
  // height and width) between them.
  namespace nn = torch::nn;
  torch::nn::Sequential net(d2l::Sequential(
      nn::Conv2d(nn::Conv2dOptions(1, 64, 7).stride(2).padding(3)), nn::BatchNorm2d(64), nn::ReLU(),
      nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1))));
  int64_t num_channels = 64;
  const int64_t num_blocks = std::size(kNumConvsInDenseBlocks);
  for (int64_t i = 0; i < num_blocks; ++i) {
    const int64_t num_convs = kNumConvsInDenseBlocks[i];
    net->push_back(d2l::DenseBlock(num_convs, num_channels, kGrowthRate));
    // The number of output channels of the dense block.
    num_channels += num_convs * kGrowthRate;
    // A transition layer that halves the number of channels between the dense blocks.
    if (i != num_blocks - 1) {
      net->push_back(d2l::transition_block(num_channels, num_channels / 2));
      num_channels /= 2;
    }
  }
  net->push_back(nn::BatchNorm2d(num_channels));
  net->push_back(nn::ReLU());
  net->push_back(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1)));
  net->push_back(nn::Flatten());
  net->push_back(nn::Linear(num_channels, 10));
  print_shapes(net, kResize);

  auto [train_all, test_all] = d2l::load_data_fashion_mnist(kBatchSize, kResize);
  auto train_iter = first(train_all, num_examples), test_iter = first(test_all, num_examples);
  d2l::train_ch6(net, train_iter, test_iter, num_epochs, kLearningRate, d2l::try_gpu());
  return 0;
} catch (const std::exception& e) {
  std::cerr << argv[0] << ": " << e.what() << "\n";
  return 1;
}
