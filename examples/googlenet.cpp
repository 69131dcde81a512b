// Section 8.4 of Dive into Deep Learning: networks with parallel concatenations (GoogLeNet).
// Usage: example_googlenet [NUM_EPOCHS] [NUM_EXAMPLES]
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
// The book resizes the images to 96 x 96 (224 would be slow).
const int64_t kResize = 96;
// The seed of LibTorch's random number generator (initialisation, dropout).
const uint64_t kSeed = 0;

int main(int argc, char* argv[]) try {
  int64_t num_epochs = 0, num_examples = 0;
  if (!read_args(argc, argv, kNumEpochs, num_epochs, num_examples)) return 2;
  torch::manual_seed(kSeed);

  // One Inception block, as the book shows it: four parallel paths (1 x 1; 1 x 1 then 3 x 3;
  // 1 x 1 then 5 x 5; 3 x 3 max-pool then 1 x 1) concatenated on the channel axis.
  d2l::Inception inception(/*in_channels=*/192, /*c1=*/64, /*c2=*/{96, 128}, /*c3=*/{16, 32},
                           /*c4=*/32);
  std::cout << "Inception(192, 64, (96, 128), (16, 32), 32) output channels: "
            << inception->forward(torch::zeros({1, 192, 12, 12})).size(1) << "\n";
  // b1..b5: a 7 x 7 stem, a 1 x 1 and 3 x 3 pair, then 2, 5 and 2 Inception blocks, global
  // average pooling and one dense layer (d2l::googlenet).
  auto net = d2l::googlenet(/*in_channels=*/1, /*num_classes=*/10);
  print_shapes(net, kResize);

  auto [train_all, test_all] = d2l::load_data_fashion_mnist(kBatchSize, kResize);
  auto train_iter = first(train_all, num_examples), test_iter = first(test_all, num_examples);
  d2l::train_ch6(net, train_iter, test_iter, num_epochs, kLearningRate, d2l::try_gpu());
  return 0;
} catch (const std::exception& e) {
  std::cerr << argv[0] << ": " << e.what() << "\n";
  return 1;
}
