// Section 7.6 of Dive into Deep Learning: convolutional neural networks (LeNet).
// Usage: example_lenet [NUM_EPOCHS]
#include <d2l/d2l.h>
#include <torch/torch.h>

#include <cstdlib>
#include <iostream>
#include <string>

// The mini-batch size.
const int64_t kBatchSize = 256;
// The learning rate of SGD (sigmoid activations train slowly: the book uses 0.9).
const double kLearningRate = 0.9;
// The number of passes over the training data (argv[1] overrides it).
const int64_t kNumEpochs = 10;
// The seed of LibTorch's random number generator (Xavier initialisation).
const uint64_t kSeed = 0;

int main(int argc, char* argv[]) try {
  const int64_t num_epochs = argc > 1 ? std::atoll(argv[1]) : kNumEpochs;
  if (num_epochs < 1) {
    std::cerr << "usage: " << argv[0] << " [NUM_EPOCHS >= 1]\n";
    return 2;
  }
  torch::manual_seed(kSeed);

  auto net = d2l::lenet();
  // The shape of the output of each layer for one 28 x 28 image, as the book prints it.
  auto X = torch::rand({1, 1, 28, 28});
  for (auto& layer : *net) {
    X = layer.forward(X);
    std::string name = layer.ptr()->name();  // e.g. "torch::nn::Conv2dImpl"
    name = name.substr(name.rfind(':') + 1);
    name = name.substr(0, name.size() - 4);  // drop "Impl"
    std::cout << name << " output shape:\t" << X.sizes() << "\n";
  }

  auto [train_iter, test_iter] = d2l::load_data_fashion_mnist(kBatchSize);
  d2l::train_ch6(net, train_iter, test_iter, num_epochs, kLearningRate, d2l::try_gpu());
  return 0;
} catch (const std::exception& e) {
  std::cerr << argv[0] << ": " << e.what() << "\n";
  return 1;
}
