#include "d2l/data/augment.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "d2l/core/error.h"
#include "d2l/data/loader.h"
#include "support/fixtures.h"

namespace data = d2l::data;

namespace {

// A random batch of `b` images of `c` x `h` x `w` in [0, 1].
at::Tensor batch(std::int64_t b, std::int64_t c, std::int64_t h, std::int64_t w,
                 std::uint64_t seed = 7) {
  auto gen = data::make_generator(seed);
  return torch::rand({b, c, h, w}, gen);
}

bool same(const at::Tensor& a, const at::Tensor& b) {
  return a.sizes() == b.sizes() && torch::equal(a, b);
}

}  // namespace

TEST(Augment, FlipIsExactlyTheReversedColumns) {
  const auto X = batch(16, 3, 4, 5);
  auto gen = data::make_generator(1);
  const auto Y = data::random_horizontal_flip(X, 0.5, gen);
  int flipped = 0;
  for (std::int64_t i = 0; i < X.size(0); ++i) {
    // Column k of a flipped image is column W-1-k of the original.
    auto reversed = X[i].index_select(2, torch::arange(4, -1, -1, torch::kLong));
    if (same(Y[i], reversed)) {
      ++flipped;
    } else {
      EXPECT_TRUE(same(Y[i], X[i])) << "image " << i << " is neither itself nor flipped";
    }
  }
  EXPECT_GT(flipped, 0);
  EXPECT_LT(flipped, 16);
  auto g0 = data::make_generator(1), g1 = data::make_generator(1);
  EXPECT_TRUE(same(data::random_horizontal_flip(X, 0, g0), X));
  EXPECT_TRUE(same(data::random_horizontal_flip(X, 1, g1), X.flip({3})));
}

TEST(Augment, FullCropWithRatioOneIsThePlainResize) {
  const auto X = batch(3, 2, 10, 10);
  auto gen = data::make_generator(3);
  const auto Y = data::random_resized_crop(X, 6, {1.0, 1.0}, {1.0, 1.0}, gen);
  ASSERT_EQ(Y.sizes(), (at::IntArrayRef{3, 2, 6, 6}));
  const auto m = data::bilinear_matrix(10, 6);  // the loader's resize
  const auto expect = torch::matmul(torch::matmul(m, X), m.t());
  EXPECT_TRUE(torch::allclose(Y, expect, 1e-5, 1e-6));
  // Same size: the identity.
  auto g2 = data::make_generator(3);
  EXPECT_TRUE(
      torch::allclose(data::random_resized_crop(X, 10, {1.0, 1.0}, {1.0, 1.0}, g2), X, 1e-6, 1e-6));
}

TEST(Augment, CropKeepsPixelsFromInsideTheImage) {
  // An image constant within each column, to size: every output column is one of the inputs'
  // values or a blend of two neighbours; and a constant image stays constant.
  const auto X = torch::full({4, 1, 12, 12}, 0.25);
  auto gen = data::make_generator(5);
  const auto Y = data::random_resized_crop(X, 7, {0.08, 1.0}, {0.75, 4.0 / 3.0}, gen);
  ASSERT_EQ(Y.sizes(), (at::IntArrayRef{4, 1, 7, 7}));
  EXPECT_TRUE(torch::allclose(Y, torch::full_like(Y, 0.25), 1e-5, 1e-6));
  // Crops differ between images (the draws are per image).
  const auto Z = batch(4, 1, 12, 12);
  auto g2 = data::make_generator(5);
  const auto W = data::random_resized_crop(Z, 7, {0.08, 1.0}, {0.75, 4.0 / 3.0}, g2);
  EXPECT_FALSE(torch::allclose(W[0], W[1]));
  EXPECT_THROW(data::random_resized_crop(Z, 0, {0.1, 1}, {1, 1}, g2), d2l::Error);
}

TEST(Augment, NormalizeGivesMeanZeroStdOne) {
  // Channel c is constant per image: value c+1 in image 0, -(c+1) in image 1 -> mean 0, std c+1.
  auto X = torch::empty({2, 3, 4, 4});
  for (int c = 0; c < 3; ++c) {
    X[0][c].fill_(c + 1.0);
    X[1][c].fill_(-(c + 1.0));
  }
  const auto Y = data::normalize(X, {0, 0, 0}, {1, 2, 3});
  for (int c = 0; c < 3; ++c) {
    const auto ch = Y.select(1, c);
    EXPECT_NEAR(ch.mean().item<double>(), 0.0, 1e-6);
    EXPECT_NEAR(ch.std(/*unbiased=*/false).item<double>(), 1.0, 1e-6);
  }
  EXPECT_TRUE(torch::allclose(data::normalize(X, {0.5}, {2}), (X - 0.5) / 2));
  EXPECT_THROW(data::normalize(X, {0, 0}, {1, 1}), d2l::Error);
  EXPECT_THROW(data::normalize(X, {0}, {0}), d2l::Error);
}

TEST(Augment, ColourAdjustmentsAgreeWithTheirDefinitions) {
  const auto X = batch(2, 3, 5, 5);
  const auto one = torch::ones({2}, torch::kDouble);
  EXPECT_TRUE(same(data::adjust_brightness(X, one), X));  // factor 1: the identity
  EXPECT_TRUE(torch::allclose(data::adjust_contrast(X, one), X));
  EXPECT_TRUE(torch::allclose(data::adjust_saturation(X, one), X));
  EXPECT_TRUE(
      torch::allclose(data::adjust_hue(X, torch::zeros({2}, torch::kDouble)), X, 1e-5, 1e-5));
  // Brightness 0.5 halves every pixel; 0 gives black.
  const auto half = torch::full({2}, 0.5, torch::kDouble);
  EXPECT_TRUE(torch::allclose(data::adjust_brightness(X, half), X * 0.5));
  // Contrast 0: every pixel is the image's grey mean.
  const auto flat = data::adjust_contrast(X, torch::zeros({2}, torch::kDouble));
  const auto grey = X.select(1, 0) * 0.2989 + X.select(1, 1) * 0.587 + X.select(1, 2) * 0.114;
  EXPECT_NEAR(flat[0].max().item<double>(), grey[0].mean().item<double>(), 1e-5);
  EXPECT_NEAR(flat[0].min().item<double>(), grey[0].mean().item<double>(), 1e-5);
  // Saturation 0: the grey image in every channel.
  const auto g = data::adjust_saturation(X, torch::zeros({2}, torch::kDouble));
  for (int c = 0; c < 3; ++c) EXPECT_TRUE(torch::allclose(g.select(1, c), grey, 1e-5, 1e-6));
  // Hue: a third of a turn sends pure red to pure green; a full turn is the identity.
  auto red = torch::zeros({1, 3, 1, 1});
  red[0][0] = 1.0;
  const auto green = data::adjust_hue(red, torch::full({1}, 1.0 / 3, torch::kDouble));
  EXPECT_TRUE(torch::allclose(green.flatten(), torch::tensor({0.0f, 1.0f, 0.0f}), 1e-5, 1e-5));
  EXPECT_TRUE(
      torch::allclose(data::adjust_hue(X, torch::full({2}, 0.5, torch::kDouble)),
                      data::adjust_hue(data::adjust_hue(X, torch::full({2}, 0.25, torch::kDouble)),
                                       torch::full({2}, 0.25, torch::kDouble)),
                      1e-4, 1e-4));
  // One channel: saturation and hue leave it alone.
  const auto G = batch(2, 1, 3, 3);
  EXPECT_TRUE(same(data::adjust_saturation(G, half), G));
  EXPECT_TRUE(same(data::adjust_hue(G, half), G));
}

TEST(Augment, JitterStaysInRangeAndChangesImages) {
  const auto X = batch(8, 3, 6, 6);
  auto gen = data::make_generator(11);
  data::ColorJitter j{0.5, 0.5, 0.5, 0.1};
  const auto Y = data::color_jitter(X, j, gen);
  EXPECT_EQ(Y.sizes(), X.sizes());
  EXPECT_GE(Y.min().item<float>(), 0.0f);
  EXPECT_LE(Y.max().item<float>(), 1.0f);
  EXPECT_FALSE(torch::allclose(Y, X));
  auto g2 = data::make_generator(11);
  EXPECT_TRUE(same(data::color_jitter(X, data::ColorJitter{}, g2), X));
}

TEST(Augment, JitterAppliesEachFactorOnceAsDrawn) {
  // Brightness alone: image i is X[i] times (1 - b) + u[i] (2 b), u the generator's first draws.
  const auto X = batch(6, 3, 4, 4) * 0.5;  // no clamping: factors stay below 2
  auto gen = data::make_generator(21);
  const auto Y = data::color_jitter(X, data::ColorJitter{0.4, 0, 0, 0}, gen);
  auto same_draws = data::make_generator(21);
  const auto u = torch::rand({6, 4}, same_draws, torch::TensorOptions().dtype(torch::kDouble));
  const auto f = (0.6 + u.select(1, 0) * 0.8).to(torch::kFloat).view({-1, 1, 1, 1});
  EXPECT_TRUE(torch::allclose(Y, X * f, 1e-5, 1e-6));
  // All four on: each image is changed, the input is left alone.
  const auto before = X.clone();
  auto g2 = data::make_generator(22);
  data::color_jitter(X, data::ColorJitter{0.5, 0.5, 0.5, 0.2}, g2);
  EXPECT_TRUE(same(X, before));
}

TEST(Augment, SameSeedSameBatchOtherSeedOther) {
  const auto X = batch(8, 3, 12, 12);
  const auto a = data::parse_augment("crop,flip,jitter,hue=0.1,normalize");
  data::Augment an = a;
  an.mean = {0.5};
  an.std = {0.25};
  auto g1 = data::make_generator(data::batch_seed(42, 0, 3));
  auto g2 = data::make_generator(data::batch_seed(42, 0, 3));
  auto g3 = data::make_generator(data::batch_seed(42, 1, 3));
  const auto y1 = data::augment_batch(X, an, 10, g1);
  EXPECT_EQ(y1.sizes(), (at::IntArrayRef{8, 3, 10, 10}));
  EXPECT_TRUE(same(y1, data::augment_batch(X, an, 10, g2)));
  EXPECT_FALSE(torch::allclose(y1, data::augment_batch(X, an, 10, g3)));
  EXPECT_NE(data::batch_seed(42, 0, 3), data::batch_seed(42, 0, 4));
  EXPECT_NE(data::batch_seed(42, 0, 3), data::batch_seed(42, 0, 3, 1));
}

TEST(Augment, ParsesTheFlag) {
  EXPECT_FALSE(data::parse_augment("").any());
  EXPECT_FALSE(data::parse_augment("none").any());
  const auto a = data::parse_augment("flip,crop=0.64-1,jitter=0.4-0.3-0.2,hue=0.05,normalize");
  EXPECT_TRUE(a.flip);
  EXPECT_DOUBLE_EQ(a.flip_p, 0.5);
  EXPECT_TRUE(a.crop);
  EXPECT_DOUBLE_EQ(a.crop_scale[0], 0.64);
  EXPECT_DOUBLE_EQ(a.jitter.brightness, 0.4);
  EXPECT_DOUBLE_EQ(a.jitter.contrast, 0.3);
  EXPECT_DOUBLE_EQ(a.jitter.saturation, 0.2);
  EXPECT_DOUBLE_EQ(a.jitter.hue, 0.05);
  EXPECT_TRUE(a.normalize);
  EXPECT_EQ(data::parse_augment(a.to_string()).to_string(), a.to_string());
  EXPECT_EQ(data::parse_augment("flip").to_string(), "flip");
  const auto t = a.for_test();
  EXPECT_FALSE(t.random());
  EXPECT_TRUE(t.normalize);
  for (const char* bad : {"spin", "flip=2", "crop=0.5", "crop=0-1", "jitter=-1-0-0", "hue=0.7",
                          "flip,,crop", "flip=x", "normalize=1"}) {
    try {
      data::parse_augment(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const d2l::Error& e) {
      EXPECT_EQ(e.kind(), d2l::Error::Kind::BadInput) << bad;
      EXPECT_NE(std::string(e.what()).find("--augment"), std::string::npos) << e.what();
    }
  }
}

TEST(Augment, LoaderAugmentsTrainingBatchesReproduciblyAndNeverTheTestSet) {
  d2l::test::TempDir dir;
  d2l::test::write_fake_mnist(dir.str(), 64, 32);
  data::DataOptions o;
  o.data_dir = dir.str();
  o.download = false;
  o.seed = 5;
  o.augment = data::parse_augment("flip,crop,jitter,normalize");
  auto [train, test] = data::load_data("fashion-mnist", 16, 20, o);
  data::DataOptions plain_o = o;
  plain_o.augment = {};
  auto [ptrain, ptest] = data::load_data("fashion-mnist", 16, 20, plain_o);

  // Epoch 0 twice (as a resumed run would): the same batches; epoch 1: others.
  auto first = *train.begin();
  EXPECT_EQ(first.X.sizes(), (at::IntArrayRef{16, 1, 20, 20}));
  train.set_epoch(0);
  auto again = *train.begin();
  EXPECT_TRUE(same(first.X, again.X));
  EXPECT_TRUE(same(first.y, again.y));
  auto next_epoch = *train.begin();
  EXPECT_FALSE(torch::allclose(first.X, next_epoch.X));
  // Resuming at batch 2 of epoch 0 gives the batch an uninterrupted epoch gives.
  train.set_epoch(0);
  auto it = train.begin();
  ++it;
  ++it;
  train.set_epoch(0);
  EXPECT_TRUE(same(train.start_epoch(2)->X, it->X));
  // Augmented batches differ from the plain ones (same order: same seed).
  auto plain_first = *ptrain.begin();
  EXPECT_TRUE(same(first.y, plain_first.y));
  EXPECT_FALSE(torch::allclose(first.X, (plain_first.X - 0.2860) / 0.3530));

  // The test set: only normalised with Fashion-MNIST's mean and std, in order, every epoch.
  EXPECT_FALSE(test.options().augment.random());
  for (int epoch = 0; epoch < 2; ++epoch) {
    auto p = ptest.begin();
    for (auto t = test.begin(); t != test.end(); ++t, ++p)
      EXPECT_TRUE(torch::allclose(t->X, (p->X - 0.2860) / 0.3530, 1e-5, 1e-5));
  }
}

TEST(Augment, PrefetchGivesTheSameBatches) {
  d2l::test::TempDir dir;
  d2l::test::write_fake_mnist(dir.str(), 48, 8);
  data::DataOptions o;
  o.data_dir = dir.str();
  o.download = false;
  o.augment = data::parse_augment("flip,crop");
  auto [a, ta] = data::load_data("mnist", 16, 0, o);
  o.prefetch = true;
  auto [b, tb] = data::load_data("mnist", 16, 0, o);
  auto ib = b.begin();
  for (auto ia = a.begin(); ia != a.end(); ++ia, ++ib) EXPECT_TRUE(same(ia->X, ib->X));
}
