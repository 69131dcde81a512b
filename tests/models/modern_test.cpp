// The modern networks of the book's chapter 8 and the d2l library's ResNet-18: the shapes the
// book prints after each block, parameter counts, one SGD step, train/eval behaviour, and the
// scratch BatchNorm against LibTorch's.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "d2l/core/error.h"
#include "d2l/models/alexnet.h"
#include "d2l/models/batch_norm.h"
#include "d2l/models/densenet.h"
#include "d2l/models/googlenet.h"
#include "d2l/models/nin.h"
#include "d2l/models/registry.h"
#include "d2l/models/resnet.h"
#include "d2l/models/sequential.h"
#include "d2l/models/vgg.h"

namespace {

using Shape = std::vector<std::int64_t>;
using Shapes = std::vector<Shape>;

// The output shape after each top-level layer of `net` for `x`, in eval mode, as the book's
// `for layer in net: X = layer(X); print(layer.__class__.__name__, X.shape)` prints them.
Shapes layer_shapes(torch::nn::Sequential& net, torch::Tensor x) {
  torch::NoGradGuard no_grad;
  net->eval();
  Shapes shapes;
  for (auto& layer : *net) {
    x = layer.forward(x);
    shapes.push_back(x.sizes().vec());
  }
  return shapes;
}

std::int64_t count_params(const torch::nn::Module& net) {
  std::int64_t n = 0;
  for (const auto& p : net.parameters()) n += p.numel();
  return n;
}

// Parameters of a Conv2d / Linear with bias, and of a BatchNorm (gamma, beta).
constexpr std::int64_t conv(std::int64_t in, std::int64_t out, std::int64_t k) {
  return in * out * k * k + out;
}
constexpr std::int64_t linear(std::int64_t in, std::int64_t out) { return in * out + out; }
constexpr std::int64_t bn(std::int64_t c) { return 2 * c; }

}  // namespace

TEST(AlexNet, BookShapesAt224) {
  auto net = d2l::alexnet();
  const Shapes expected = {{1, 96, 54, 54},  {1, 96, 54, 54},  {1, 96, 26, 26},  {1, 256, 26, 26},
                           {1, 256, 26, 26}, {1, 256, 12, 12}, {1, 384, 12, 12}, {1, 384, 12, 12},
                           {1, 384, 12, 12}, {1, 384, 12, 12}, {1, 256, 12, 12}, {1, 256, 12, 12},
                           {1, 256, 5, 5},   {1, 6400},        {1, 4096},        {1, 4096},
                           {1, 4096},        {1, 4096},        {1, 4096},        {1, 4096},
                           {1, 10}};
  EXPECT_EQ(layer_shapes(net, torch::randn({1, 1, 224, 224})), expected);
  EXPECT_EQ(count_params(*net), conv(1, 96, 11) + conv(96, 256, 5) + conv(256, 384, 3) +
                                    conv(384, 384, 3) + conv(384, 256, 3) + linear(6400, 4096) +
                                    linear(4096, 4096) + linear(4096, 10));
}

TEST(AlexNet, XavierInitialisation) {
  torch::manual_seed(0);
  auto net = d2l::alexnet(1, 10, 65);  // the smallest: the same conv1, a faster build
  auto* conv1 = net[0]->as<torch::nn::Conv2d>();
  ASSERT_NE(conv1, nullptr);
  // fan_in = 1 * 11 * 11, fan_out = 96 * 11 * 11
  const double bound = std::sqrt(6.0 / (121.0 + 96.0 * 121.0));
  EXPECT_LE(conv1->weight.abs().max().item<double>(), bound);
  EXPECT_GT(conv1->weight.abs().max().item<double>(), 0.9 * bound);
}

TEST(Vgg, BookShapesAt224) {
  // The book prints VGG-11's full channels; it trains a quarter of them.
  auto net = d2l::vgg(d2l::vgg11_arch());
  const Shapes expected = {
      {1, 64, 112, 112}, {1, 128, 56, 56}, {1, 256, 28, 28}, {1, 512, 14, 14}, {1, 512, 7, 7},
      {1, 25088},        {1, 4096},        {1, 4096},        {1, 4096},        {1, 4096},
      {1, 4096},         {1, 4096},        {1, 10}};
  EXPECT_EQ(layer_shapes(net, torch::randn({1, 1, 224, 224})), expected);
  EXPECT_EQ(d2l::vgg11_arch(4), (d2l::VggArch{{1, 16}, {1, 32}, {2, 64}, {2, 128}, {2, 128}}));
  EXPECT_THROW(d2l::vgg11_arch(5), d2l::Error);
  EXPECT_THROW(d2l::vgg({}), d2l::Error);
}

TEST(Vgg, BlockLayers) {
  auto block = d2l::vgg_block(2, 3, 8);
  ASSERT_EQ(block->size(), 5u);  // conv, relu, conv, relu, pool
  EXPECT_NE(block[2]->as<torch::nn::Conv2d>(), nullptr);
  EXPECT_EQ(block[2]->as<torch::nn::Conv2d>()->options.in_channels(), 8);
  EXPECT_EQ(block->forward(torch::randn({2, 3, 10, 10})).sizes(), (Shape{2, 8, 5, 5}));
  // The small VGG the book trains, as the registry builds it.
  auto small = d2l::make_model("vgg", 1, 224, 10);
  EXPECT_EQ(count_params(*small), conv(1, 16, 3) + conv(16, 32, 3) + conv(32, 64, 3) +
                                      conv(64, 64, 3) + conv(64, 128, 3) + 3 * conv(128, 128, 3) +
                                      linear(128 * 7 * 7, 4096) + linear(4096, 4096) +
                                      linear(4096, 10));
}

TEST(Nin, BookShapesAt224) {
  auto net = d2l::nin();
  const Shapes expected = {{1, 96, 54, 54},  {1, 96, 26, 26}, {1, 256, 26, 26}, {1, 256, 12, 12},
                           {1, 384, 12, 12}, {1, 384, 5, 5},  {1, 384, 5, 5},   {1, 10, 5, 5},
                           {1, 10, 1, 1},    {1, 10}};
  EXPECT_EQ(layer_shapes(net, torch::randn({1, 1, 224, 224})), expected);
  // No fully connected layer: every parameter sits in a convolution.
  for (const auto& m : net->modules(false)) EXPECT_EQ(m->as<torch::nn::Linear>(), nullptr);
}

TEST(GoogLeNet, BookShapesAt96) {
  auto net = d2l::googlenet();
  const Shapes expected = {{1, 64, 24, 24}, {1, 192, 12, 12}, {1, 480, 6, 6},
                           {1, 832, 3, 3},  {1, 1024},        {1, 10}};
  EXPECT_EQ(layer_shapes(net, torch::randn({1, 1, 96, 96})), expected);
}

TEST(GoogLeNet, InceptionConcatenatesItsFourPaths) {
  d2l::Inception block(192, 64, {96, 128}, {16, 32}, 32);
  auto y = block->forward(torch::randn({2, 192, 7, 7}));
  EXPECT_EQ(y.sizes(), (Shape{2, 256, 7, 7}));
  EXPECT_GE(y.min().item<double>(), 0.0);  // every path ends in a ReLU
  EXPECT_EQ(count_params(*block), conv(192, 64, 1) + conv(192, 96, 1) + conv(96, 128, 3) +
                                      conv(192, 16, 1) + conv(16, 32, 5) + conv(192, 32, 1));
  // Path 1 alone is the first 64 channels.
  torch::NoGradGuard no_grad;
  auto x = torch::randn({1, 192, 4, 4});
  EXPECT_TRUE(
      torch::allclose(block->forward(x).slice(1, 0, 64), torch::relu(block->p1_1->forward(x))));
}

TEST(BnLeNet, ShapesAt28) {
  const Shapes expected = {{1, 6, 24, 24}, {1, 6, 24, 24}, {1, 6, 24, 24}, {1, 6, 12, 12},
                           {1, 16, 8, 8},  {1, 16, 8, 8},  {1, 16, 8, 8},  {1, 16, 4, 4},
                           {1, 256},       {1, 120},       {1, 120},       {1, 120},
                           {1, 84},        {1, 84},        {1, 84},        {1, 10}};
  auto scratch = d2l::bn_lenet_scratch();
  auto concise = d2l::bn_lenet();
  EXPECT_EQ(layer_shapes(scratch, torch::randn({1, 1, 28, 28})), expected);
  EXPECT_EQ(layer_shapes(concise, torch::randn({1, 1, 28, 28})), expected);
  // Same parameters: the scratch gamma/beta are BatchNorm2d/1d's weight/bias.
  const auto n = conv(1, 6, 5) + bn(6) + conv(6, 16, 5) + bn(16) + linear(256, 120) + bn(120) +
                 linear(120, 84) + bn(84) + linear(84, 10);
  EXPECT_EQ(count_params(*scratch), n);
  EXPECT_EQ(count_params(*concise), n);
  EXPECT_NE(scratch[1]->as<d2l::BatchNorm>(), nullptr);
  EXPECT_NE(concise[1]->as<torch::nn::BatchNorm2d>(), nullptr);
  EXPECT_NE(concise[10]->as<torch::nn::BatchNorm1d>(), nullptr);
}

TEST(BnLeNet, ScratchAndConciseAgreeWithTheSameWeights) {
  torch::manual_seed(5);
  auto scratch = d2l::bn_lenet_scratch();
  auto concise = d2l::bn_lenet();
  {
    torch::NoGradGuard no_grad;
    auto from = concise->parameters(), to = scratch->parameters();
    ASSERT_EQ(from.size(), to.size());
    for (std::size_t i = 0; i < from.size(); ++i) {
      from[i].normal_(0.0, 0.3);  // gamma/beta away from 1/0, so they matter
      to[i].copy_(from[i].reshape(to[i].sizes()));
    }
  }
  auto x = torch::rand({8, 1, 28, 28});
  scratch->train();
  concise->train();
  EXPECT_TRUE(torch::allclose(scratch->forward(x), concise->forward(x), 1e-4, 1e-5));
}

TEST(ResNet, ResidualShapesAsTheBookChecks) {
  auto X = torch::randn({4, 3, 6, 6});
  d2l::Residual same(3, 3);
  EXPECT_EQ(same->forward(X).sizes(), (Shape{4, 3, 6, 6}));
  EXPECT_FALSE(same->conv3);
  d2l::Residual down(3, 6, /*use_1x1conv=*/true, /*strides=*/2);
  EXPECT_EQ(down->forward(X).sizes(), (Shape{4, 6, 3, 3}));
  EXPECT_TRUE(down->conv3);
  // Identity shortcut: with conv2's output zeroed, Y = ReLU(bn2(0) + X) = ReLU(X) in eval mode.
  // (A fresh block: the forward above moved bn2's running statistics.)
  d2l::Residual fresh(3, 3);
  torch::NoGradGuard no_grad;
  fresh->eval();
  fresh->conv2->weight.zero_();
  fresh->conv2->bias.zero_();
  EXPECT_TRUE(torch::allclose(fresh->forward(X), torch::relu(X), 1e-5, 1e-5));
}

TEST(ResNet, BookShapesAndParameterCount) {
  auto net = d2l::resnet();
  const Shapes at224 = {{1, 64, 56, 56}, {1, 64, 56, 56}, {1, 128, 28, 28}, {1, 256, 14, 14},
                        {1, 512, 7, 7},  {1, 512, 1, 1},  {1, 512},         {1, 10}};
  EXPECT_EQ(layer_shapes(net, torch::randn({1, 1, 224, 224})), at224);
  const Shapes at96 = {{1, 64, 24, 24}, {1, 64, 24, 24}, {1, 128, 12, 12}, {1, 256, 6, 6},
                       {1, 512, 3, 3},  {1, 512, 1, 1},  {1, 512},         {1, 10}};
  EXPECT_EQ(layer_shapes(net, torch::randn({1, 1, 96, 96})), at96);
  EXPECT_EQ(count_params(*net), 11178378);  // LibTorch's (and PyTorch's) count for the book's
}

TEST(ResNet, ResNet18ForCifar) {
  auto net = d2l::resnet18(10, 1);
  EXPECT_EQ(count_params(*net), 11175818);
  auto net3 = d2l::resnet18(10, 3);
  const Shapes expected = {{1, 64, 32, 32}, {1, 64, 32, 32},  {1, 64, 32, 32},
                           {1, 64, 32, 32}, {1, 128, 16, 16}, {1, 256, 8, 8},
                           {1, 512, 4, 4},  {1, 512, 1, 1},   {1, 10}};
  EXPECT_EQ(layer_shapes(net3, torch::randn({1, 3, 32, 32})), expected);
  // The d2l library's names for its blocks.
  std::vector<std::string> names;
  for (const auto& item : net3->named_children()) names.push_back(item.key());
  EXPECT_EQ(names,
            (std::vector<std::string>{"0", "1", "2", "resnet_block1", "resnet_block2",
                                      "resnet_block3", "resnet_block4", "global_avg_pool", "fc"}));
}

TEST(DenseNet, BlocksAsTheBookChecks) {
  d2l::DenseBlock blk(2, 3, 10);
  auto Y = blk->forward(torch::randn({4, 3, 8, 8}));
  EXPECT_EQ(Y.sizes(), (Shape{4, 23, 8, 8}));
  auto tr = d2l::transition_block(23, 10);
  EXPECT_EQ(tr->forward(Y).sizes(), (Shape{4, 10, 4, 4}));
}

TEST(DenseNet, ShapesAt96) {
  auto net = d2l::densenet();
  const Shapes expected = {{1, 64, 24, 24}, {1, 192, 24, 24}, {1, 96, 12, 12}, {1, 224, 12, 12},
                           {1, 112, 6, 6},  {1, 240, 6, 6},   {1, 120, 3, 3},  {1, 248, 3, 3},
                           {1, 248, 3, 3},  {1, 248, 3, 3},   {1, 248, 1, 1},  {1, 248},
                           {1, 10}};
  EXPECT_EQ(layer_shapes(net, torch::randn({1, 1, 96, 96})), expected);
}

TEST(Sequential, NestsAndClonesWithItsNames) {
  d2l::Sequential inner(torch::nn::Linear(3, 4), torch::nn::ReLU());
  torch::nn::Sequential outer(inner, torch::nn::Linear(4, 2));
  EXPECT_EQ(outer->forward(torch::randn({5, 3})).sizes(), (Shape{5, 2}));
  auto copy = std::dynamic_pointer_cast<d2l::SequentialImpl>(inner->clone());
  ASSERT_NE(copy, nullptr);
  ASSERT_EQ(copy->size(), 2u);
  // A deep copy: changing the copy leaves the original alone.
  torch::NoGradGuard no_grad;
  copy->ptr(0)->as<torch::nn::Linear>()->weight.fill_(7);
  EXPECT_NE(inner[0]->as<torch::nn::Linear>()->weight.max().item<float>(), 7.0f);
  auto nested = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(outer->clone());
  ASSERT_NE(nested, nullptr);
  EXPECT_NE(nested->ptr(0)->as<d2l::SequentialImpl>(), nullptr);
}

// --- the scratch BatchNorm against LibTorch's ---

namespace {

// Trains both layers for three steps on the same inputs, then compares the outputs, the
// gradients, the moving statistics, and the eval-mode outputs.
template <typename Reference>
void compare_batch_norm(std::int64_t features, const Shape& input_shape) {
  torch::manual_seed(3);
  const int num_dims = static_cast<int>(input_shape.size());
  d2l::BatchNorm ours(features, num_dims);
  Reference theirs(features);  // eps 1e-5, momentum 0.1 = the book's 0.9
  {
    torch::NoGradGuard no_grad;
    auto g = torch::rand({features}) + 0.5, b = torch::randn({features});
    ours->gamma.copy_(g.reshape(ours->gamma.sizes()));
    ours->beta.copy_(b.reshape(ours->beta.sizes()));
    theirs->weight.copy_(g);
    theirs->bias.copy_(b);
  }
  std::int64_t per_channel = 1;  // values per feature in one batch
  for (std::size_t d = 0; d < input_shape.size(); ++d)
    if (d != 1) per_channel *= input_shape[d];
  const double n = static_cast<double>(per_channel);

  auto expected_var = torch::ones({features}), expected_libtorch_var = torch::ones({features});
  for (int step = 0; step < 3; ++step) {
    auto x = (torch::randn(input_shape) * 3 + 2).requires_grad_(true);
    auto x2 = x.detach().clone().requires_grad_(true);
    auto y = ours->forward(x);
    auto y2 = theirs->forward(x2);
    ASSERT_TRUE(torch::allclose(y, y2, 1e-5, 1e-5)) << "step " << step;
    auto w = torch::randn(y.sizes());
    (y * w).sum().backward();
    (y2 * w).sum().backward();
    EXPECT_TRUE(torch::allclose(x.grad(), x2.grad(), 1e-5, 1e-5));
    EXPECT_TRUE(torch::allclose(ours->gamma.grad().flatten(), theirs->weight.grad(), 1e-4, 1e-5));
    EXPECT_TRUE(torch::allclose(ours->beta.grad().flatten(), theirs->bias.grad(), 1e-4, 1e-5));
    ours->gamma.mutable_grad().zero_();
    ours->beta.mutable_grad().zero_();
    theirs->weight.mutable_grad().zero_();
    theirs->bias.mutable_grad().zero_();
    // The moving means agree; the moving variances differ only in the batch variance used:
    // biased (the book) where LibTorch uses the unbiased one.
    EXPECT_TRUE(torch::allclose(ours->moving_mean.flatten(), theirs->running_mean, 1e-5, 1e-5));
    std::vector<std::int64_t> dims;
    for (std::int64_t d = 0; d < num_dims; ++d)
      if (d != 1) dims.push_back(d);
    auto biased = x.detach().var(dims, /*unbiased=*/false);
    expected_var = 0.9 * expected_var + 0.1 * biased;
    EXPECT_TRUE(torch::allclose(ours->moving_var.flatten(), expected_var, 1e-5, 1e-5));
    EXPECT_FALSE(torch::allclose(ours->moving_var.flatten(), theirs->running_var, 1e-5, 1e-5));
    expected_libtorch_var = 0.9 * expected_libtorch_var + 0.1 * biased * n / (n - 1);
    EXPECT_TRUE(torch::allclose(theirs->running_var, expected_libtorch_var, 1e-5, 1e-5));
  }
  // Eval mode with the same moving statistics: the same output, and no update.
  ours->eval();
  theirs->eval();
  {
    torch::NoGradGuard no_grad;
    theirs->running_var.copy_(ours->moving_var.flatten());
  }
  auto before = ours->moving_mean.clone();
  auto x = torch::randn(input_shape) * 3 + 2;
  EXPECT_TRUE(torch::allclose(ours->forward(x), theirs->forward(x), 1e-5, 1e-5));
  EXPECT_TRUE(torch::equal(ours->moving_mean, before));
}

}  // namespace

TEST(BatchNorm, AgreesWithBatchNorm2d) {
  compare_batch_norm<torch::nn::BatchNorm2d>(6, {8, 6, 5, 5});
}

TEST(BatchNorm, AgreesWithBatchNorm1d) { compare_batch_norm<torch::nn::BatchNorm1d>(10, {16, 10}); }

TEST(BatchNorm, FunctionUsesTheMovingStatisticsWhenNotTraining) {
  auto X = torch::randn({4, 3});
  auto gamma = torch::full({1, 3}, 2.0), beta = torch::full({1, 3}, 0.5);
  auto mean = torch::full({1, 3}, 1.0), var = torch::full({1, 3}, 4.0);
  auto out = d2l::batch_norm(X, gamma, beta, mean, var, 0.0, 0.9, /*training=*/false);
  EXPECT_TRUE(torch::allclose(out.Y, 2.0 * (X - 1.0) / 2.0 + 0.5));
  EXPECT_TRUE(torch::equal(out.moving_mean, mean));
  auto trained = d2l::batch_norm(X, gamma, beta, mean, var, 0.0, 0.9, /*training=*/true);
  EXPECT_TRUE(torch::allclose(trained.moving_mean, 0.9 * mean + 0.1 * X.mean(0)));
  // Normalised per feature: mean beta, (biased) standard deviation gamma.
  EXPECT_TRUE(torch::allclose(trained.Y.mean(0), torch::full({3}, 0.5), 1e-5, 1e-5));
  EXPECT_TRUE(
      torch::allclose(trained.Y.var(0, /*unbiased=*/false), torch::full({3}, 4.0), 1e-4, 1e-4));
}

TEST(BatchNorm, RejectsBadShapes) {
  EXPECT_THROW(d2l::BatchNorm(6, 3), d2l::Error);
  EXPECT_THROW(d2l::BatchNorm(0, 4), d2l::Error);
  d2l::BatchNorm layer(6, 4);
  try {
    layer->forward(torch::randn({2, 6}));
    FAIL();
  } catch (const d2l::Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("BatchNorm(6"), std::string::npos);
  }
  auto g = torch::ones({1, 3, 1});
  EXPECT_THROW(d2l::batch_norm(torch::randn({2, 3, 4}), g, g, g, g, 1e-5, 0.9, true), d2l::Error);
}

// --- train and eval mode ---

TEST(Modes, DropoutOnlyInTrainMode) {
  torch::manual_seed(0);
  auto net = d2l::alexnet(1, 10, 65);  // the smallest AlexNet: fast, same dropout layers
  auto x = torch::randn({2, 1, 65, 65});
  torch::NoGradGuard no_grad;
  net->train();
  EXPECT_FALSE(torch::allclose(net->forward(x), net->forward(x)));
  net->eval();
  EXPECT_TRUE(torch::equal(net->forward(x), net->forward(x)));
}

TEST(Modes, BatchNormUsesBatchStatisticsOnlyInTrainMode) {
  for (const std::string name : {"bn-lenet-scratch", "bn-lenet"}) {
    SCOPED_TRACE(name);
    torch::manual_seed(0);
    auto net = d2l::make_model(name, 1, 28, 10);
    auto a = torch::randn({4, 1, 28, 28});
    auto b = torch::cat({a.slice(0, 0, 1), torch::randn({3, 1, 28, 28}) * 2 + 1});
    // Train mode: the first example's output depends on the rest of its batch, and the
    // moving statistics move.
    auto stats = [&] {
      std::vector<torch::Tensor> s;
      for (const auto& buf : net->buffers()) s.push_back(buf.clone());
      return s;
    };
    auto before = stats();
    net->train();
    EXPECT_FALSE(torch::allclose(net->forward(a)[0], net->forward(b)[0], 1e-4, 1e-4));
    auto after = stats();
    EXPECT_FALSE(torch::equal(before[0], after[0]));
    // Eval mode: it does not, and they stay.
    net->eval();
    EXPECT_TRUE(torch::allclose(net->forward(a)[0], net->forward(b)[0], 1e-5, 1e-5));
    auto frozen = stats();
    for (std::size_t i = 0; i < after.size(); ++i) EXPECT_TRUE(torch::equal(after[i], frozen[i]));
  }
}

// --- the registry ---

TEST(Registry, BookDefaults) {
  struct Book {
    const char* name;
    double lr;
    std::int64_t resize;
  };
  for (const Book& b :
       {Book{"alexnet", 0.01, 224}, Book{"vgg", 0.01, 224}, Book{"nin", 0.05, 224},
        Book{"googlenet", 0.01, 96}, Book{"bn-lenet-scratch", 0.1, 0}, Book{"bn-lenet", 0.1, 0},
        Book{"resnet", 0.01, 96}, Book{"densenet", 0.01, 96}}) {
    const auto& spec = d2l::model_spec(b.name);
    EXPECT_EQ(spec.lr, b.lr) << b.name;
    EXPECT_EQ(spec.resize, b.resize) << b.name;
    EXPECT_EQ(spec.epochs, 10) << b.name;
    EXPECT_EQ(spec.batch_size, 128) << b.name;
    EXPECT_EQ(spec.dataset, "fashion-mnist") << b.name;
  }
  EXPECT_EQ(d2l::model_spec("resnet18").dataset, "cifar10");
  EXPECT_EQ(d2l::model_spec("lenet").resize, 0);
}

TEST(Registry, MakeModelBuildsEveryImageModel) {
  for (const auto& spec : d2l::model_specs()) {
    if (spec.name == "linreg") continue;
    SCOPED_TRACE(spec.name);
    const std::int64_t channels = spec.dataset == "cifar10" ? 3 : 1;
    const std::int64_t size = spec.resize ? spec.resize : (spec.dataset == "cifar10" ? 32 : 28);
    auto net = d2l::make_model(spec.name, channels, size, 7);
    net->eval();
    torch::NoGradGuard no_grad;
    EXPECT_EQ(net->forward(torch::randn({2, channels, size, size})).sizes(), (Shape{2, 7}));
  }
  // Other channel counts and sizes than the book's.
  torch::NoGradGuard no_grad;
  auto alex = d2l::make_model("alexnet", 3, 96, 10);
  alex->eval();
  EXPECT_EQ(alex->forward(torch::randn({1, 3, 96, 96})).sizes(), (Shape{1, 10}));
  auto r18 = d2l::make_model("resnet18", 1, 28, 10);
  r18->eval();
  EXPECT_EQ(r18->forward(torch::randn({1, 1, 28, 28})).sizes(), (Shape{1, 10}));
}

TEST(Registry, SmallestImagesEachNetworkTakes) {
  // The size checks agree with LibTorch: the smallest valid size runs, one pixel less is a
  // d2l::Error (exit 2) that names the model.
  struct Limit {
    const char* name;
    std::int64_t smallest;
  };
  torch::NoGradGuard no_grad;
  for (const Limit& l :
       {Limit{"alexnet", 65}, Limit{"vgg", 32}, Limit{"nin", 67}, Limit{"densenet", 29},
        Limit{"bn-lenet", 16}, Limit{"bn-lenet-scratch", 16}}) {
    SCOPED_TRACE(l.name);
    auto net = d2l::make_model(l.name, 1, l.smallest, 10);
    net->eval();
    EXPECT_EQ(net->forward(torch::randn({1, 1, l.smallest, l.smallest})).sizes(), (Shape{1, 10}));
    try {
      d2l::make_model(l.name, 1, l.smallest - 1, 10);
      FAIL();
    } catch (const d2l::Error& e) {
      EXPECT_EQ(e.exit_code(), 2);
      EXPECT_NE(std::string(e.what()).find(l.name), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("too small"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(d2l::make_model("resnet", 0, 96, 10), d2l::Error);
  EXPECT_THROW(d2l::make_model("googlenet", 1, 96, 0), d2l::Error);
}

// --- one SGD step ---

TEST(Training, OneSgdStepLowersTheLossOnAFixedBatch) {
  for (const auto& spec : d2l::model_specs()) {
    if (spec.name == "linreg") continue;
    SCOPED_TRACE(spec.name);
    torch::manual_seed(1);
    const std::int64_t channels = spec.dataset == "cifar10" ? 3 : 1;
    // The book's sizes, except AlexNet/VGG/NiN at 96 instead of 224 (the same layers; a
    // 2-core CPU runs these steps in well under a second each).
    std::int64_t size = spec.resize ? std::min<std::int64_t>(spec.resize, 96)
                                    : (spec.dataset == "cifar10" ? 32 : 28);
    auto net = d2l::make_model(spec.name, channels, size, 10);
    net->train();
    auto x = torch::rand({4, channels, size, size});
    auto y = torch::tensor({0, 3, 5, 9}, torch::kLong);
    torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(spec.lr));
    auto loss_at = [&] {
      torch::manual_seed(7);  // the same dropout masks for both evaluations
      return torch::nn::functional::cross_entropy(net->forward(x), y);
    };
    auto loss0 = loss_at();
    sgd.zero_grad();
    loss0.backward();
    sgd.step();
    // Train mode again: the loss the step descended (batch statistics, same dropout masks).
    double loss1;
    {
      torch::NoGradGuard no_grad;
      loss1 = loss_at().item<double>();
    }
    EXPECT_LT(loss1, loss0.item<double>());
  }
}
