// One epoch of Fashion-MNIST training data through d2l's DataLoader, images/sec.
//   loader_bench [--resize N] [--batch-size B] [--prefetch] [--epochs E]
// Prints one JSON object (the same fields as bench/reference/book_train.py --loader-only).
#include <torch/torch.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "d2l/core/timer.h"
#include "d2l/data/loader.h"

int main(int argc, char** argv) {
  std::int64_t resize = 0, batch = 256, epochs = 3;
  bool prefetch = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--resize" && i + 1 < argc)
      resize = std::stoll(argv[++i]);
    else if (a == "--batch-size" && i + 1 < argc)
      batch = std::stoll(argv[++i]);
    else if (a == "--epochs" && i + 1 < argc)
      epochs = std::stoll(argv[++i]);
    else if (a == "--prefetch")
      prefetch = true;
    else {
      std::fprintf(stderr,
                   "usage: loader_bench [--resize N] [--batch-size B] [--epochs E] [--prefetch]\n");
      return 2;
    }
  }
  d2l::data::DataOptions o;
  o.prefetch = prefetch;
  o.download = false;
  auto [train, test] = d2l::data::load_data_fashion_mnist(batch, resize, o);
  const double first_batch = d2l::seconds_since_process_start();
  double best = 0;
  std::int64_t n = 0;
  for (std::int64_t e = 0; e < epochs; ++e) {  // best of `epochs` epochs
    d2l::Timer t;
    n = 0;
    double checksum = 0;
    for (const auto& b : train) {
      n += b.X.size(0);
      checksum += b.X.data_ptr<float>()[0];
    }
    const double s = t.stop();
    best = std::max(best, static_cast<double>(n) / s);
    if (checksum < 0) std::puts("");
  }
  std::printf(
      "{\"side\": \"d2l-cpp\", \"bench\": \"loader\", \"resize\": %lld, \"images\": %lld, "
      "\"images_per_sec\": %.1f, \"threads\": %d, \"prefetch\": %s, \"first_batch_seconds\": "
      "%.3f}\n",
      static_cast<long long>(resize ? resize : 28), static_cast<long long>(n), best,
      torch::get_num_threads(), prefetch ? "true" : "false", first_batch);
  return 0;
}
