// What the chapter-8 programs (examples/alexnet.cpp ... densenet.cpp) share: their command line
// ([NUM_EPOCHS] [NUM_EXAMPLES]), a quick run on the first few images, and the book's printout
// of each layer's output shape.
#pragma once
#include <d2l/d2l.h>
#include <torch/torch.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>

// argv[i] as a count >= `min`, or `fallback` when it is not given; -1 when it is not such a count.
inline int64_t count_arg(int argc, char* argv[], int i, int64_t fallback, int64_t min) {
  if (argc <= i) return fallback;
  char* end = nullptr;
  const long long v = std::strtoll(argv[i], &end, 10);
  return (*argv[i] != '\0' && *end == '\0' && v >= min) ? v : -1;
}

// Reads [NUM_EPOCHS] (default `default_epochs`) and [NUM_EXAMPLES] (default 0: all); prints the
// usage and returns false when they are not counts.
inline bool read_args(int argc, char* argv[], int64_t default_epochs, int64_t& num_epochs,
                      int64_t& num_examples) {
  num_epochs = count_arg(argc, argv, 1, default_epochs, 1);
  num_examples = count_arg(argc, argv, 2, 0, 0);
  if (num_epochs >= 1 && num_examples >= 0) return true;
  std::cerr << "usage: " << argv[0] << " [NUM_EPOCHS >= 1] [NUM_EXAMPLES >= 0 (0: all)]\n";
  return false;
}

// The first `n` examples of a data set (all of them when n is 0): a quick run on few images.
inline d2l::data::DataLoader first(const d2l::data::DataLoader& all, int64_t n) {
  if (n == 0 || n >= all.num_examples()) return all;
  return {all.images().narrow(0, 0, n), all.labels().narrow(0, 0, n), all.options()};
}

// Each top-level layer's output for one 1 x 1 x size x size image, as the book prints it
// ("Sequential output shape:\t(1, 64, 24, 24)").
inline void print_shapes(torch::nn::Sequential net, int64_t size) {
  for (const auto& layer : d2l::summary(net, {1, 1, size, size}).layers)
    std::cout << layer.name << " output shape:\t" << d2l::format_shape(layer.output_shape) << "\n";
}
