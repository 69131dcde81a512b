// Uses the installed d2l: the core helpers and the book's LeNet on a random batch.
#include <d2l/d2l.h>
#include <torch/torch.h>

#include <cstdio>

int main() try {
  d2l::Timer timer;
  d2l::Accumulator metric(2);
  metric.add({1.0, 2.0});
  metric.add({0.5, 1.0});

  torch::manual_seed(0);
  auto net = d2l::lenet();
  const auto X = torch::rand({2, 1, 28, 28});
  const auto y = net->forward(X);
  // The book's names, as the book spells them: d2l.synthetic_data, d2l.get_fashion_mnist_labels.
  const auto [features, labels] = d2l::synthetic_data(torch::tensor({2.0, -3.4}), 4.2, 10);
  const auto names = d2l::get_fashion_mnist_labels({0, 9});
  if (features.size(0) != 10 || labels.size(0) != 10 || names.at(1) != "ankle boot") {
    std::fprintf(stderr, "consumer: book names: wrong results\n");
    return 1;
  }
  const double seconds = timer.stop();

  std::printf("d2l package ok: lenet output [%lld, %lld], accumulator %.1f %.1f, %s, timer %s\n",
              static_cast<long long>(y.size(0)), static_cast<long long>(y.size(1)), metric[0],
              metric[1], y.isfinite().all().item<bool>() ? "finite" : "NOT FINITE",
              seconds >= 0 ? "ok" : "negative");
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "consumer: %s\n", e.what());
  return 1;
}
