// Section 8.5 of Dive into Deep Learning: batch normalization (LeNet with BatchNorm).
// Usage: example_batch_norm [NUM_EPOCHS] [NUM_EXAMPLES]
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
const double kLearningRate = 0.1;
// The number of passes over the training data (argv[1] overrides it).
const int64_t kNumEpochs = 10;
// Fashion-MNIST's own size: no resizing.
const int64_t kResize = 28;
// The seed of LibTorch's random number generator (initialisation, dropout).
const uint64_t kSeed = 0;

int main(int argc, char* argv[]) try {
  int64_t num_epochs = 0, num_examples = 0;
  if (!read_args(argc, argv, kNumEpochs, num_epochs, num_examples)) return 2;
  torch::manual_seed(kSeed);

  // The batch_norm function of the chapter on a small batch: in training mode each channel of
  // the output has mean 0 and variance 1 (gamma 1, beta 0).
  auto X = torch::randn({4, 2, 3, 3}) * 5 + 3;
  auto out = d2l::batch_norm(X, torch::ones({1, 2, 1, 1}), torch::zeros({1, 2, 1, 1}),
                             torch::zeros({1, 2, 1, 1}), torch::ones({1, 2, 1, 1}),
                             /*eps=*/1e-5, /*momentum=*/0.9, /*training=*/true);
  std::cout << "batch_norm: mean " << out.Y.mean().item<double>() << ", variance "
            << out.Y.var(/*unbiased=*/false).item<double>() << "\n";
  // LeNet with the chapter's own BatchNorm layer after every convolution and hidden dense layer.
  auto net = d2l::bn_lenet_scratch(/*in_channels=*/1, /*num_classes=*/10, kResize);
  print_shapes(net, kResize);

  auto [train_all, test_all] = d2l::load_data_fashion_mnist(kBatchSize, kResize);
  auto train_iter = first(train_all, num_examples), test_iter = first(test_all, num_examples);
  d2l::train_ch6(net, train_iter, test_iter, num_epochs, kLearningRate, d2l::try_gpu());
  return 0;
} catch (const std::exception& e) {
  std::cerr << argv[0] << ": " << e.what() << "\n";
  return 1;
}
