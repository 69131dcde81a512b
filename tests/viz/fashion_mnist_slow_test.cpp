// The figure layer on the real Fashion-MNIST (/usr/share/datasets/fashion-mnist): a grid of the
// test images, and the book's softmax regression trained in plain C++ (no LibTorch) drawn by the
// Animator, its predictions and its confusion matrix. With D2L_DOCS_IMAGES=DIR set, the pictures
// are also written to DIR at 2x (that is how docs/images/ was made; see docs/viz.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <random>

#include "d2l/core/accumulator.h"
#include "d2l/viz/animator.h"
#include "d2l/viz/images.h"
#include "support/fashion_mnist.h"
#include "support/images.h"

using d2l::test::TempDir;

namespace {

constexpr int kPixels = 784, kClasses = 10;

struct Data {
  std::vector<std::vector<uint8_t>> images;
  std::vector<int> labels;
};

bool load(const std::string& split, std::size_t n, Data* d) {
  return d2l::test::read_fashion(split, n, &d->images, &d->labels);
}

std::string docs_dir() {
  const char* d = std::getenv("D2L_DOCS_IMAGES");
  return d ? d : "";
}

// Softmax regression, as the book's chapter 3: W 784x10, b, minibatch SGD on cross-entropy.
struct Softmax {
  std::vector<float> w = std::vector<float>(kPixels * kClasses);
  std::vector<float> b = std::vector<float>(kClasses, 0.f);
  Softmax() {
    std::mt19937 rng(0);
    std::normal_distribution<float> n(0.f, 0.01f);
    for (auto& v : w) v = n(rng);
  }
  // Probabilities of one image into p; returns the arg max.
  int forward(const std::vector<uint8_t>& img, float* p) const {
    for (int k = 0; k < kClasses; ++k) p[k] = b[k];
    for (int i = 0; i < kPixels; ++i) {
      const float x = img[i] / 255.f;
      if (x == 0.f) continue;
      const float* row = &w[static_cast<std::size_t>(i) * kClasses];
      for (int k = 0; k < kClasses; ++k) p[k] += x * row[k];
    }
    const float m = *std::max_element(p, p + kClasses);
    float s = 0;
    for (int k = 0; k < kClasses; ++k) s += (p[k] = std::exp(p[k] - m));
    for (int k = 0; k < kClasses; ++k) p[k] /= s;
    return static_cast<int>(std::max_element(p, p + kClasses) - p);
  }
};

double accuracy(const Softmax& net, const Data& d, std::vector<int>* preds = nullptr) {
  float p[kClasses];
  long right = 0;
  for (std::size_t i = 0; i < d.images.size(); ++i) {
    const int y = net.forward(d.images[i], p);
    if (preds) preds->push_back(y);
    right += y == d.labels[i];
  }
  return static_cast<double>(right) / d.images.size();
}

}  // namespace

TEST(FashionMnist, ShowImagesOfTheRealTestSet) {
  D2L_NEED_CAIRO();
  Data test;
  if (!load("t10k", 18, &test)) GTEST_SKIP() << "no Fashion-MNIST in " << d2l::test::kFashionDir;
  std::vector<d2l::Image> imgs;
  std::vector<std::string> titles;
  for (std::size_t i = 0; i < test.images.size(); ++i) {
    imgs.emplace_back(test.images[i], 28, 28);
    titles.push_back(d2l::test::kFashionLabels[test.labels[i]]);
  }
  TempDir dir;
  d2l::show_images(imgs, 2, 9, titles, 1.5, (dir / "fm.png"));
  const auto img = d2l::viz::read_png(dir / "fm.png");
  ASSERT_EQ(img.width, 1350);
  ASSERT_EQ(img.height, 300);
  // Every cell holds a picture: black background and bright cloth around its centre.
  for (int k = 0; k < 18; ++k) {
    int dark = 0, bright = 0;
    const int cx = (k % 9) * 150 + 75, cy = (k / 9) * 150 + 80;
    for (int y = cy - 50; y < cy + 50; ++y)
      for (int x = cx - 50; x < cx + 50; ++x) {
        const int v = img.rgb[(static_cast<std::size_t>(y) * img.width + x) * 3];
        dark += v < 20;
        bright += v > 120;
      }
    EXPECT_GT(dark, 200) << "cell " << k;
    EXPECT_GT(bright, 200) << "cell " << k;
  }
  d2l::show_images(imgs, 2, 9, titles, 1.5, (dir / "fm.svg"));
  const std::string desc = d2l::test::svg_desc(d2l::read_file(dir / "fm.svg"));
  for (const auto& t : titles) EXPECT_NE(desc.find(t), std::string::npos) << t;
  if (!docs_dir().empty())
    d2l::show_images(imgs, 2, 9, titles, 1.5, docs_dir() + "/fashion-mnist.png");
}

TEST(FashionMnist, SoftmaxRegressionChartPredictionsAndConfusion) {
  D2L_NEED_CAIRO();
  Data train, test;
  if (!load("train", 60000, &train) || !load("t10k", 10000, &test))
    GTEST_SKIP() << "no Fashion-MNIST in " << d2l::test::kFashionDir;
  const bool docs = !docs_dir().empty();
  const int epochs = docs ? 10 : 3;
  constexpr int kBatch = 256;
  constexpr float kLr = 0.1f;
  TempDir dir;
  d2l::AnimatorOptions o;
  o.xlabel = "epoch";
  o.legend = {"train loss", "train acc", "test acc"};
  o.xlim = d2l::viz::Range{1, static_cast<double>(epochs)};
  o.path = dir / "training.png";
  d2l::Animator animator(o);

  Softmax net;
  std::vector<std::size_t> order(train.images.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 rng(1);
  const std::size_t num_batches = (order.size() + kBatch - 1) / kBatch;
  double test_acc = 0;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    d2l::Accumulator metric(3);  // loss sum, correct, examples
    std::vector<float> gw(net.w.size()), gb(kClasses);
    for (std::size_t batch = 0; batch < num_batches; ++batch) {
      std::fill(gw.begin(), gw.end(), 0.f);
      std::fill(gb.begin(), gb.end(), 0.f);
      const std::size_t lo = batch * kBatch, hi = std::min(order.size(), lo + kBatch);
      double loss = 0, right = 0;
      for (std::size_t j = lo; j < hi; ++j) {
        const auto& img = train.images[order[j]];
        const int y = train.labels[order[j]];
        float p[kClasses];
        right += net.forward(img, p) == y;
        loss -= std::log(std::max(p[y], 1e-12f));
        p[y] -= 1.f;  // d loss / d logits
        for (int i = 0; i < kPixels; ++i) {
          const float x = img[i] / 255.f;
          if (x == 0.f) continue;
          float* row = &gw[static_cast<std::size_t>(i) * kClasses];
          for (int k = 0; k < kClasses; ++k) row[k] += x * p[k];
        }
        for (int k = 0; k < kClasses; ++k) gb[k] += p[k];
      }
      const float step = kLr / static_cast<float>(hi - lo);
      for (std::size_t i = 0; i < net.w.size(); ++i) net.w[i] -= step * gw[i];
      for (int k = 0; k < kClasses; ++k) net.b[k] -= step * gb[k];
      metric.add({loss, right, static_cast<double>(hi - lo)});
      if ((batch + 1) % (num_batches / 5) == 0 || batch == num_batches - 1)
        animator.add(epoch + (batch + 1) / static_cast<double>(num_batches),
                     {metric[0] / metric[2], metric[1] / metric[2], std::nullopt});
    }
    test_acc = accuracy(net, test);
    animator.add(epoch + 1.0, {std::nullopt, std::nullopt, test_acc});
  }
  EXPECT_EQ(animator.last_error(), "");
  EXPECT_GT(test_acc, 0.75);  // the book reports about 0.83 after 10 epochs
  const auto series = animator.series();
  EXPECT_EQ(series[2].x.size(), static_cast<std::size_t>(epochs));
  EXPECT_EQ(d2l::test::png_header_size(d2l::read_file(o.path)), (std::pair<long, long>{350, 250}));

  // Confusion matrix of the test set: the diagonal is the accuracy.
  std::vector<int> preds;
  accuracy(net, test, &preds);
  const auto counts = d2l::confusion_matrix(test.labels, preds, kClasses);
  long total = 0, diag = 0;
  for (int t = 0; t < kClasses; ++t)
    for (int p = 0; p < kClasses; ++p) total += counts[t][p], diag += t == p ? counts[t][p] : 0;
  EXPECT_EQ(total, 10000);
  EXPECT_NEAR(static_cast<double>(diag) / total, test_acc, 1e-12);
  d2l::plot_confusion_matrix(counts, d2l::test::kFashionLabels, (dir / "confusion.svg"));
  const std::string desc = "\n" + d2l::test::svg_desc(d2l::read_file(dir / "confusion.svg"));
  for (int t = 0; t < kClasses; ++t)
    EXPECT_NE(desc.find("\n" + std::to_string(counts[t][t]) + "\n"), std::string::npos);

  if (docs) {
    const std::string d = docs_dir();
    animator.figure();  // the Animator's own 1x file is in the temp dir; docs get 2x
    auto fig = animator.figure();
    fig.scale = 2;
    d2l::viz::save_figure(fig, d + "/training.png");
    d2l::viz::save_figure(animator.figure(), d + "/training.svg");
    auto conf = d2l::make_confusion_figure(counts, d2l::test::kFashionLabels,
                                           "softmax regression, Fashion-MNIST test set");
    conf.scale = 1.5;
    d2l::viz::save_figure(conf, d + "/confusion.png");
    // predict_ch3: the first test images, true label over the predicted one.
    std::vector<d2l::Image> imgs;
    std::vector<std::string> titles;
    for (int i = 0; i < 8; ++i) {
      imgs.emplace_back(test.images[i], 28, 28);
      titles.push_back(d2l::test::kFashionLabels[test.labels[i]] + "\n" +
                       d2l::test::kFashionLabels[preds[i]]);
    }
    auto pred = d2l::make_images_figure(imgs, 1, 8, titles, 1.5);
    pred.scale = 1.5;
    d2l::viz::save_figure(pred, d + "/predictions.png");
    // A heatmap: cosine similarity of the ten class-mean training images.
    std::vector<std::vector<double>> mean(kClasses, std::vector<double>(kPixels, 0));
    std::vector<long> n(kClasses, 0);
    for (std::size_t i = 0; i < train.images.size(); ++i) {
      ++n[train.labels[i]];
      for (int j = 0; j < kPixels; ++j) mean[train.labels[i]][j] += train.images[i][j];
    }
    d2l::Matrix sim{kClasses, kClasses, {}};
    for (int a = 0; a < kClasses; ++a)
      for (int c = 0; c < kClasses; ++c) {
        double dot = 0, na = 0, nc = 0;
        for (int j = 0; j < kPixels; ++j)
          dot += mean[a][j] * mean[c][j], na += mean[a][j] * mean[a][j],
              nc += mean[c][j] * mean[c][j];
        sim.values.push_back(dot / std::sqrt(na * nc));
      }
    auto heat = d2l::make_heatmaps_figure({{sim}}, "", "", {"cosine similarity of class means"},
                                          {4.2, 3.6});
    heat.axes[0].xtick_labels = heat.axes[0].ytick_labels = d2l::test::kFashionLabels;
    heat.axes[0].xtick_rotation = 45;
    heat.font_size = 8;
    heat.scale = 2;
    d2l::viz::save_figure(heat, d + "/heatmap.png");
  }
}
