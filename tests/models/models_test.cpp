#include <gtest/gtest.h>
#include <torch/torch.h>

#include "d2l/core/error.h"
#include "d2l/models/layers.h"
#include "d2l/models/lenet.h"
#include "d2l/models/linear.h"
#include "d2l/models/mlp.h"
#include "d2l/models/registry.h"

namespace {
std::int64_t count_params(torch::nn::Sequential& net) {
  std::int64_t n = 0;
  for (const auto& p : net->parameters()) n += p.numel();
  return n;
}
}  // namespace

TEST(LeNet, BookShapesAndParameterCount) {
  auto net = d2l::lenet();
  auto out = net->forward(torch::rand({2, 1, 28, 28}));
  EXPECT_EQ(out.sizes(), (std::vector<std::int64_t>{2, 10}));
  // conv1 156 + conv2 2416 + fc1 48120 + fc2 10164 + fc3 850, as the book's layer sizes give.
  EXPECT_EQ(count_params(net), 61706);
  // Sigmoid activations and average pooling, as the book defines LeNet.
  int sigmoids = 0, avgpools = 0;
  for (const auto& m : net->children()) {
    sigmoids += m->as<torch::nn::Sigmoid>() != nullptr;
    avgpools += m->as<d2l::AvgPool2d>() != nullptr;
  }
  EXPECT_EQ(sigmoids, 4);
  EXPECT_EQ(avgpools, 2);
}

TEST(LeNet, CifarShapes) {
  auto net = d2l::make_model("lenet", 3, 32, 10);
  EXPECT_EQ(net->forward(torch::rand({1, 3, 32, 32})).sizes(), (std::vector<std::int64_t>{1, 10}));
}

TEST(LeNet, XavierInitBoundsWeights) {
  torch::manual_seed(0);
  auto net = d2l::lenet();
  // Xavier-uniform bound for fc1 (400 -> 120): sqrt(6 / 520).
  auto* fc1 = net[7]->as<torch::nn::Linear>();
  ASSERT_NE(fc1, nullptr);
  const double bound = std::sqrt(6.0 / 520.0);
  EXPECT_LE(fc1->weight.abs().max().item<double>(), bound);
  EXPECT_GT(fc1->weight.abs().max().item<double>(), 0.9 * bound);
}

TEST(Mlp, ShapesParamsAndInit) {
  auto net = d2l::mlp();
  EXPECT_EQ(net->forward(torch::rand({3, 1, 28, 28})).sizes(), (std::vector<std::int64_t>{3, 10}));
  EXPECT_EQ(count_params(net), 784 * 256 + 256 + 256 * 10 + 10);
  auto* l1 = net[1]->as<torch::nn::Linear>();
  EXPECT_NEAR(l1->weight.std().item<double>(), 0.01, 0.001);
}

TEST(Softmax, Shapes) {
  auto net = d2l::softmax_regression();
  EXPECT_EQ(net->forward(torch::rand({4, 1, 28, 28})).sizes(), (std::vector<std::int64_t>{4, 10}));
}

TEST(Registry, UnknownModelListsNames) {
  try {
    d2l::model_spec("transformer");
    FAIL();
  } catch (const d2l::Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("linreg, softmax, mlp, lenet"), std::string::npos);
  }
  EXPECT_EQ(d2l::model_spec("lenet").lr, 0.9);
  EXPECT_THROW(d2l::make_model("linreg"), d2l::Error);
}

TEST(Linreg, SgdFitsSyntheticData) {
  torch::manual_seed(1);
  auto X = torch::randn({200, 2});
  auto y = torch::matmul(X, torch::tensor({2.0f, -3.4f})).reshape({-1, 1}) + 4.2;
  auto w = torch::zeros({2, 1}).requires_grad_(true);
  auto b = torch::zeros({1}).requires_grad_(true);
  for (int epoch = 0; epoch < 30; ++epoch)
    for (int i = 0; i < 200; i += 10) {
      auto Xb = X.slice(0, i, i + 10), yb = y.slice(0, i, i + 10);
      d2l::squared_loss(d2l::linreg(Xb, w, b), yb).sum().backward();
      d2l::sgd({w, b}, 0.03, 10);
    }
  EXPECT_NEAR(w[0].item<double>(), 2.0, 1e-2);
  EXPECT_NEAR(w[1].item<double>(), -3.4, 1e-2);
  EXPECT_NEAR(b.item<double>(), 4.2, 1e-2);
  EXPECT_EQ(w.grad().abs().sum().item<double>(), 0.0);  // sgd zeroes the gradients
}

TEST(AvgPool2d, MatchesLibTorchForwardAndBackward) {
  torch::manual_seed(0);
  for (auto sizes :
       std::vector<std::vector<std::int64_t>>{{4, 6, 28, 28}, {2, 3, 7, 9}, {5, 10, 10}}) {
    auto x = torch::randn(sizes, torch::requires_grad());
    auto x2 = x.detach().clone().requires_grad_(true);
    d2l::AvgPool2d pool(torch::nn::AvgPool2dOptions(2).stride(2));
    auto y = pool->forward(x);
    auto ref = torch::avg_pool2d(x2, {2, 2}, {2, 2});
    ASSERT_EQ(y.sizes(), ref.sizes());
    EXPECT_TRUE(torch::allclose(y, ref, 1e-6, 1e-6));
    auto g = torch::randn(y.sizes());
    y.backward(g);
    ref.backward(g);
    EXPECT_TRUE(torch::allclose(x.grad(), x2.grad(), 1e-6, 1e-6));
  }
  // Other options go to LibTorch's own pooling.
  d2l::AvgPool2d p3(torch::nn::AvgPool2dOptions(3).stride(1).padding(1));
  auto x = torch::randn({1, 2, 5, 5});
  EXPECT_TRUE(torch::allclose(p3->forward(x), torch::avg_pool2d(x, {3, 3}, {1, 1}, {1, 1})));
}
