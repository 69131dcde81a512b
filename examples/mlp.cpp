// Section 5.2 of Dive into Deep Learning: concise implementation of multilayer perceptrons.
// Usage: example_mlp [NUM_EPOCHS]
#include <d2l/d2l.h>
#include <torch/torch.h>

#include <cstdlib>
#include <iostream>

// The mini-batch size.
const int64_t kBatchSize = 256;
// 784 inputs (28 x 28 pixels), one hidden layer of 256 ReLU units, 10 outputs (classes).
const int64_t kNumInputs = 784;
const int64_t kNumHiddens = 256;
const int64_t kNumOutputs = 10;
// The learning rate of SGD.
const double kLearningRate = 0.1;
// The number of passes over the training data (argv[1] overrides it).
const int64_t kNumEpochs = 10;
// The seed of LibTorch's random number generator (initial weights).
const uint64_t kSeed = 0;

int main(int argc, char* argv[]) try {
  const int64_t num_epochs = argc > 1 ? std::atoll(argv[1]) : kNumEpochs;
  if (num_epochs < 1) {
    std::cerr << "usage: " << argv[0] << " [NUM_EPOCHS >= 1]\n";
    return 2;
  }
  torch::manual_seed(kSeed);

  auto net = d2l::mlp(kNumInputs, kNumHiddens, kNumOutputs);
  auto [train_iter, test_iter] = d2l::load_data_fashion_mnist(kBatchSize);
  torch::optim::SGD trainer(net->parameters(), torch::optim::SGDOptions(kLearningRate));
  d2l::train_ch3(net, train_iter, test_iter, num_epochs, trainer);
  return 0;
} catch (const std::exception& e) {
  std::cerr << argv[0] << ": " << e.what() << "\n";
  return 1;
}
