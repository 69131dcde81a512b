#include "d2l/data/loader.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "d2l/core/error.h"
#include "d2l/data/synthetic.h"
#include "support/fixtures.h"

using d2l::data::DataLoader;
using d2l::data::LoaderOptions;

namespace {
std::pair<at::Tensor, at::Tensor> toy(std::int64_t n) {
  auto x =
      torch::arange(n * 4, torch::kLong).remainder(256).to(torch::kUInt8).reshape({n, 1, 2, 2});
  auto y = torch::arange(n, torch::kLong);
  return {x, y};
}
// One pass over `l`: a new epoch each call, as the book's `for X, y in train_iter`.
std::vector<std::int64_t> labels_of_epoch(DataLoader& l) {
  std::vector<std::int64_t> out;
  for (const auto& b : l)
    for (std::int64_t i = 0; i < b.y.size(0); ++i) out.push_back(b.y[i].item<std::int64_t>());
  return out;
}
}  // namespace

TEST(DataLoader, BatchesCoverEveryExampleOncePerEpoch) {
  auto [x, y] = toy(10);
  LoaderOptions o;
  o.batch_size = 4;
  o.shuffle = true;
  DataLoader l(x, y, o);
  EXPECT_EQ(l.size(), 3);
  std::vector<std::int64_t> sizes;
  for (const auto& b : l) {
    sizes.push_back(b.X.size(0));
    EXPECT_EQ(b.X.scalar_type(), torch::kFloat);
    EXPECT_EQ(b.y.scalar_type(), torch::kLong);
    EXPECT_GE(b.X.min().item<float>(), 0.0f);
    EXPECT_LE(b.X.max().item<float>(), 1.0f);
  }
  EXPECT_EQ(sizes, (std::vector<std::int64_t>{4, 4, 2}));
  auto seen = labels_of_epoch(l);
  EXPECT_EQ(std::set<std::int64_t>(seen.begin(), seen.end()).size(), 10u);
}

TEST(DataLoader, PixelsAreScaledBytesOfTheRightImage) {
  auto [x, y] = toy(6);
  LoaderOptions o;
  o.batch_size = 3;
  o.shuffle = true;
  DataLoader l(x, y, o);
  for (const auto& b : l)
    for (std::int64_t i = 0; i < b.y.size(0); ++i) {
      auto expect = x[b.y[i].item<std::int64_t>()].to(torch::kFloat) / 255;
      EXPECT_TRUE(torch::allclose(b.X[i], expect));
    }
}

TEST(DataLoader, ReshufflesEachEpochDeterministicallyFromSeed) {
  auto [x, y] = toy(50);
  LoaderOptions o;
  o.batch_size = 8;
  o.shuffle = true;
  o.seed = 7;
  DataLoader a(x, y, o), b(x, y, o);
  auto a0 = labels_of_epoch(a), a1 = labels_of_epoch(a);
  EXPECT_NE(a0, a1);
  EXPECT_EQ(a0, labels_of_epoch(b));
  EXPECT_EQ(a1, labels_of_epoch(b));
  o.seed = 8;
  DataLoader c(x, y, o);
  EXPECT_NE(a0, labels_of_epoch(c));
  // Resuming: epoch 1 started at batch 2 yields the tail of epoch 1.
  LoaderOptions od;
  od.batch_size = 8;
  od.shuffle = true;
  od.seed = 7;
  DataLoader d(x, y, od);
  d.set_epoch(1);
  std::vector<std::int64_t> tail;
  for (auto it = d.start_epoch(2); it != d.end(); ++it)
    for (std::int64_t i = 0; i < it->y.size(0); ++i) tail.push_back(it->y[i].item<std::int64_t>());
  EXPECT_EQ(tail, std::vector<std::int64_t>(a1.begin() + 16, a1.end()));
}

TEST(DataLoader, EpochsArePureFunctionsAndAConstLoaderDoesNotAdvance) {
  auto [x, y] = toy(40);
  LoaderOptions o;
  o.batch_size = 8;
  o.shuffle = true;
  o.seed = 11;
  DataLoader a(x, y, o);
  const auto e0 = labels_of_epoch(a), e1 = labels_of_epoch(a);
  ASSERT_NE(e0, e1);
  const DataLoader& view = a;  // a const loader iterates the set epoch, again and again
  auto pass = [](const DataLoader& l) {
    std::vector<std::int64_t> out;
    for (const auto& b : l)
      for (std::int64_t i = 0; i < b.y.size(0); ++i) out.push_back(b.y[i].item<std::int64_t>());
    return out;
  };
  a.set_epoch(1);
  EXPECT_EQ(pass(view), e1);
  EXPECT_EQ(pass(view), e1);
  EXPECT_EQ(a.epoch(), 1);
  // epoch_begin(e) is epoch e whatever the loader's own count.
  std::vector<std::int64_t> again;
  for (auto it = view.epoch_begin(0); it != view.end(); ++it)
    for (std::int64_t i = 0; i < it->y.size(0); ++i) again.push_back(it->y[i].item<std::int64_t>());
  EXPECT_EQ(again, e0);
  EXPECT_EQ(a.epoch(), 1);
}

TEST(DataLoader, TestOrderIsStable) {
  auto [x, y] = toy(9);
  LoaderOptions o;
  o.batch_size = 4;
  DataLoader l(x, y, o);
  auto e0 = labels_of_epoch(l);
  EXPECT_EQ(e0, (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(e0, labels_of_epoch(l));
}

TEST(DataLoader, ResizesWholeBatches) {
  auto [x, y] = toy(5);
  LoaderOptions o;
  o.batch_size = 5;
  o.resize = 6;
  DataLoader l(x, y, o);
  const auto b = *l.begin();
  EXPECT_EQ(b.X.sizes(), (std::vector<std::int64_t>{5, 1, 6, 6}));
  // Bilinear interpolation stays within the range of the source pixels.
  EXPECT_LE(b.X.max().item<float>(), x.max().item<std::uint8_t>() / 255.0f + 1e-6f);
}

TEST(DataLoader, ResizeMatchesLibTorchsBilinearInterpolation) {
  torch::manual_seed(0);
  auto x = torch::randint(0, 256, {7, 1, 28, 28}, torch::kLong).to(torch::kUInt8);
  auto y = torch::zeros({7}, torch::kLong);
  for (std::int64_t size : {96, 224, 14}) {
    LoaderOptions o;
    o.batch_size = 7;
    o.resize = size;
    DataLoader l(x, y, o);
    namespace F = torch::nn::functional;
    auto expect =
        F::interpolate(x.to(torch::kFloat) / 255, F::InterpolateFuncOptions()
                                                      .size(std::vector<std::int64_t>{size, size})
                                                      .mode(torch::kBilinear)
                                                      .align_corners(false));
    auto got = (*l.begin()).X;
    ASSERT_EQ(got.sizes(), expect.sizes());
    EXPECT_LT((got - expect).abs().max().item<float>(), 1e-5) << size;
  }
}

TEST(DataLoader, PrefetchYieldsTheSameBatches) {
  auto [x, y] = toy(37);
  LoaderOptions o;
  o.batch_size = 5;
  o.shuffle = true;
  o.seed = 3;
  DataLoader plain(x, y, o);
  o.prefetch = true;
  DataLoader pre(x, y, o);
  EXPECT_EQ(labels_of_epoch(plain), labels_of_epoch(pre));
}

TEST(DataLoader, RejectsBadShapesAndSizes) {
  auto [x, y] = toy(4);
  LoaderOptions o;
  o.batch_size = 0;
  EXPECT_THROW(DataLoader(x, y, o), d2l::Error);
  o.batch_size = 2;
  EXPECT_THROW(DataLoader(x, y.narrow(0, 0, 3), o), d2l::Error);
}

TEST(LoadData, ReadsAFashionMnistFolder) {
  d2l::test::TempDir dir;
  d2l::test::write_fake_mnist(dir.str(), 30, 10, true);
  d2l::data::DataOptions o;
  o.data_dir = dir.str();
  o.download = false;
  auto [train, test] = d2l::data::load_data_fashion_mnist(8, 0, o);
  EXPECT_EQ(train.num_examples(), 30);
  EXPECT_EQ(test.num_examples(), 10);
  EXPECT_EQ(train.size(), 4);
  auto [tr96, te96] = d2l::data::load_data_fashion_mnist(8, 96, o);
  EXPECT_EQ((*te96.begin()).X.sizes(), (std::vector<std::int64_t>{8, 1, 96, 96}));
}

TEST(Synthetic, MatchesTheLinearModel) {
  torch::manual_seed(0);
  auto w = torch::tensor({2.0, -3.4});
  auto [X, y] = d2l::data::synthetic_data(w, 4.2, 1000);
  EXPECT_EQ(X.sizes(), (std::vector<std::int64_t>{1000, 2}));
  EXPECT_EQ(y.sizes(), (std::vector<std::int64_t>{1000, 1}));
  auto resid = y.reshape({-1}) - (torch::matmul(X, w.to(X.dtype())) + 4.2);
  EXPECT_LT(resid.std().item<double>(), 0.02);
  auto batches = d2l::data::data_iter(64, X, y);
  EXPECT_EQ(batches.size(), 16u);
}
