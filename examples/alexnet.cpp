// Section 8.1 of Dive into Deep Learning: deep convolutional neural networks (AlexNet).
// Usage: example_alexnet [NUM_EPOCHS] [NUM_EXAMPLES]
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

int main(int argc, char* argv[]) try {
  int64_t num_epochs = 0, num_examples = 0;
  if (!read_args(argc, argv, kNumEpochs, num_epochs, num_examples)) return 2;
  torch::manual_seed(kSeed);

  // Five convolutions with ReLU (11 x 11 with stride 4 first, as ImageNet's images are large),
  // three max-pools, then two 4096-wide dense layers with dropout 0.5 (d2l::alexnet).
  auto net = d2l::alexnet(/*in_channels=*/1, /*num_classes=*/10, kResize);
  print_shapes(net, kResize);

  auto [train_all, test_all] = d2l::load_data_fashion_mnist(kBatchSize, kResize);
  auto train_iter = first(train_all, num_examples), test_iter = first(test_all, num_examples);
  d2l::train_ch6(net, train_iter, test_iter, num_epochs, kLearningRate, d2l::try_gpu());
  return 0;
} catch (const std::exception& e) {
  std::cerr << argv[0] << ": " << e.what() << "\n";
  return 1;
}
