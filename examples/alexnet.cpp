// Section 8.1 of Dive into Deep Learning: deep convolutional neural networks (AlexNet).
// Usage: example_alexnet [NUM_EPOCHS] [NUM_EXAMPLES]
#include <d2l/d2l.h>
#include <torch/torch.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

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

namespace {

// argv[i] as a count >= `min`, or `fallback` when it is not given; -1 when it is not such a count.
int64_t count_arg(int argc, char* argv[], int i, int64_t fallback, int64_t min) {
  if (argc <= i) return fallback;
  char* end = nullptr;
  const long long v = std::strtoll(argv[i], &end, 10);
  return (*argv[i] != '\0' && *end == '\0' && v >= min) ? v : -1;
}

// The first `n` examples of a data set (all of them when n is 0): a quick run on few images.
d2l::data::DataLoader first(const d2l::data::DataLoader& all, int64_t n) {
  if (n == 0 || n >= all.num_examples()) return all;
  return {all.images().narrow(0, 0, n), all.labels().narrow(0, 0, n), all.options()};
}

// Each top-level layer's output for one 1 x 1 x size x size image, as the book prints it
// ("Sequential output shape:\t(1, 64, 24, 24)").
void print_shapes(torch::nn::Sequential net, int64_t size) {
  for (const auto& layer : d2l::summary(net, {1, 1, size, size}).layers)
    std::cout << layer.name << " output shape:\t" << d2l::format_shape(layer.output_shape) << "\n";
}

}  // namespace

int main(int argc, char* argv[]) try {
  const int64_t num_epochs = count_arg(argc, argv, 1, kNumEpochs, 1);
  const int64_t num_examples = count_arg(argc, argv, 2, 0, 0);
  if (num_epochs < 1 || num_examples < 0) {
    std::cerr << "usage: " << argv[0] << " [NUM_EPOCHS >= 1] [NUM_EXAMPLES >= 0 (0: all)]\n";
    return 2;
  }
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
