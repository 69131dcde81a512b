// Section 8.2 of Dive into Deep Learning: networks using blocks (VGG).
// Usage: example_vgg [NUM_EPOCHS] [NUM_EXAMPLES]
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
// The book resizes Fashion-MNIST's 28 x 28 images to this height and width.
const int64_t kResize = 224;
// The seed of LibTorch's random number generator (initialisation, dropout).
const uint64_t kSeed = 0;
// VGG-11's blocks: (number of 3 x 3 convolutions, output channels) ...
const d2l::VggArch kConvArch = {{1, 64}, {1, 128}, {2, 256}, {2, 512}, {2, 512}};
// ... with a quarter of the channels, as the book trains it on Fashion-MNIST.
const int64_t kRatio = 4;

int main(int argc, char* argv[]) try {
  int64_t num_epochs = 0, num_examples = 0;
  if (!read_args(argc, argv, kNumEpochs, num_epochs, num_examples)) return 2;
  torch::manual_seed(kSeed);

  // The book's small_conv_arch: every channel count divided by kRatio.
  d2l::VggArch small_conv_arch;
  for (const auto& [num_convs, out_channels] : kConvArch)
    small_conv_arch.push_back({num_convs, out_channels / kRatio});
  // One vgg_block per pair (each halves the height and width), then three dense layers.
  auto net = d2l::vgg(small_conv_arch, /*in_channels=*/1, /*num_classes=*/10, kResize);
  print_shapes(net, kResize);

  auto [train_all, test_all] = d2l::load_data_fashion_mnist(kBatchSize, kResize);
  auto train_iter = first(train_all, num_examples), test_iter = first(test_all, num_examples);
  d2l::train_ch6(net, train_iter, test_iter, num_epochs, kLearningRate, d2l::try_gpu());
  return 0;
} catch (const std::exception& e) {
  std::cerr << argv[0] << ": " << e.what() << "\n";
  return 1;
}
