// Section 3.4 of Dive into Deep Learning: linear regression implemented from scratch.
// Usage: example_linear_regression_scratch [NUM_EPOCHS]
#include <d2l/d2l.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

// The true parameters the synthetic data is drawn from.
const std::vector<float> kTrueW = {2.0f, -3.4f};
const double kTrueB = 4.2;
// The number of synthetic examples.
const int64_t kNumExamples = 1000;
// The mini-batch size.
const int64_t kBatchSize = 10;
// The learning rate of minibatch SGD.
const double kLearningRate = 0.03;
// The number of passes over the data (argv[1] overrides it).
const int64_t kNumEpochs = 3;
// The seed of LibTorch's random number generator.
const uint64_t kSeed = 42;

int main(int argc, char* argv[]) {
  const int64_t num_epochs = argc > 1 ? std::atoll(argv[1]) : kNumEpochs;
  if (num_epochs < 1) {
    std::cerr << "usage: " << argv[0] << " [NUM_EPOCHS >= 1]\n";
    return 2;
  }
  torch::manual_seed(kSeed);

  auto true_w = torch::tensor(kTrueW);
  auto [features, labels] = d2l::synthetic_data(true_w, kTrueB, kNumExamples);
  std::cout << "features: " << features[0] << "\nlabel: " << labels[0] << "\n";

  for (auto& [X, y] : d2l::data_iter(kBatchSize, features, labels)) {
    std::cout << X << "\n" << y << "\n";
    break;
  }

  auto w = torch::normal(0, 0.01, {2, 1}).requires_grad_(true);
  auto b = torch::zeros({1}, torch::requires_grad());

  auto net = d2l::linreg;
  auto loss = d2l::squared_loss;
  for (int64_t epoch = 0; epoch < num_epochs; ++epoch) {
    for (auto& [X, y] : d2l::data_iter(kBatchSize, features, labels)) {
      auto l = loss(net(X, w, b), y);  // minibatch loss of X and y
      l.sum().backward();              // gradient of l with respect to [w, b]
      d2l::sgd({w, b}, kLearningRate, kBatchSize);
    }
    torch::NoGradGuard no_grad;
    auto train_l = loss(net(features, w, b), labels);
    std::printf("epoch %lld, loss %f\n", static_cast<long long>(epoch + 1),
                train_l.mean().item<double>());
  }

  torch::NoGradGuard no_grad;
  auto w_error = true_w - w.reshape(true_w.sizes());
  std::printf("error in estimating w: [%f, %f]\n", w_error[0].item<double>(),
              w_error[1].item<double>());
  std::printf("error in estimating b: %f\n", kTrueB - b.item<double>());
  return 0;
}
