// d2l::summary (the book's layer printout with parameters and multiply-adds) and the
// `d2l summary` command through the real binaries.
#include "d2l/models/summary.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "d2l/core/error.h"
#include "d2l/models/lenet.h"
#include "d2l/models/registry.h"
#include "d2l/models/resnet.h"
#include "support/fixtures.h"

namespace {

using Shape = std::vector<std::int64_t>;

// The book's chapter 7.6 printout of LeNet on one 28 x 28 image.
const std::vector<std::pair<std::string, Shape>> kBookLeNet = {
    {"Conv2d", {1, 6, 28, 28}},  {"Sigmoid", {1, 6, 28, 28}},  {"AvgPool2d", {1, 6, 14, 14}},
    {"Conv2d", {1, 16, 10, 10}}, {"Sigmoid", {1, 16, 10, 10}}, {"AvgPool2d", {1, 16, 5, 5}},
    {"Flatten", {1, 400}},       {"Linear", {1, 120}},         {"Sigmoid", {1, 120}},
    {"Linear", {1, 84}},         {"Sigmoid", {1, 84}},         {"Linear", {1, 10}}};

// LeNet's multiply-adds by hand: conv1 6x28x28 outputs x 1x5x5, conv2 16x10x10 x 6x5x5, then
// 400x120, 120x84, 84x10.
constexpr std::int64_t kLeNetConv1 = 6 * 28 * 28 * 25, kLeNetConv2 = 16 * 10 * 10 * 6 * 25;
constexpr std::int64_t kLeNetMultAdds =
    kLeNetConv1 + kLeNetConv2 + 400 * 120 + 120 * 84 + 84 * 10;  // 416,520

}  // namespace

TEST(Summary, LeNetAsTheBookPrintsIt) {
  auto net = d2l::lenet();
  const auto s = d2l::summary(net, {1, 1, 28, 28});
  ASSERT_EQ(s.layers.size(), kBookLeNet.size());
  for (std::size_t i = 0; i < s.layers.size(); ++i) {
    EXPECT_EQ(s.layers[i].name, kBookLeNet[i].first) << i;
    EXPECT_EQ(s.layers[i].output_shape, kBookLeNet[i].second) << i;
  }
  EXPECT_EQ(d2l::format_shape(s.layers[0].output_shape), "(1, 6, 28, 28)");
  EXPECT_EQ(s.layers[0].params, 6 * 25 + 6);
  EXPECT_EQ(s.layers[0].mult_adds, kLeNetConv1);
  EXPECT_EQ(s.layers[1].mult_adds, 0);  // sigmoid
  EXPECT_EQ(s.layers[3].mult_adds, kLeNetConv2);
  EXPECT_EQ(s.layers[7].mult_adds, 400 * 120);
  EXPECT_EQ(s.total_mult_adds, kLeNetMultAdds);
  EXPECT_EQ(s.total_params, 61706);
  EXPECT_EQ(s.trainable_params, 61706);
  EXPECT_EQ(s.output_shape, (Shape{1, 10}));
}

TEST(Summary, BatchScalesShapesAndMultAddsNotParameters) {
  auto net = d2l::lenet();
  const auto s = d2l::summary(net, {3, 1, 28, 28});
  EXPECT_EQ(s.layers[0].output_shape, (Shape{3, 6, 28, 28}));
  EXPECT_EQ(s.total_mult_adds, 3 * kLeNetMultAdds);
  EXPECT_EQ(s.total_params, 61706);
}

TEST(Summary, ResNetCountsNestedBlocks) {
  auto net = d2l::resnet();
  const auto s = d2l::summary(net, {1, 1, 96, 96});
  ASSERT_EQ(s.layers.size(), 8u);
  EXPECT_EQ(s.layers[1].name, "Sequential");
  EXPECT_EQ(d2l::format_shape(s.layers[4].output_shape), "(1, 512, 3, 3)");
  EXPECT_EQ(s.total_params, 11178378);
  EXPECT_EQ(d2l::format_count(s.total_params), "11,178,378");
  // b1's 7x7 convolution: 64 x 48 x 48 outputs x 1 x 7 x 7.
  EXPECT_EQ(s.layers[0].mult_adds, 64 * 48 * 48 * 49);
  // b2: four 3x3 convolutions 64 -> 64 on 24 x 24, inside two Residual blocks.
  EXPECT_EQ(s.layers[1].mult_adds, 4 * (64 * 24 * 24 * 64 * 9));
  std::int64_t sum = 0;
  for (const auto& l : s.layers) sum += l.mult_adds;
  EXPECT_EQ(sum, s.total_mult_adds);
}

TEST(Summary, AnyOtherModuleGetsTotals) {
  d2l::Residual block(3, 6, /*use_1x1conv=*/true, /*strides=*/2);
  block->train();
  const auto s = d2l::summary(torch::nn::AnyModule(block), {1, 3, 6, 6});
  EXPECT_TRUE(s.layers.empty());
  EXPECT_EQ(s.output_shape, (Shape{1, 6, 3, 3}));
  // conv1 3->6 (3x3, stride 2), conv2 6->6 (3x3), conv3 3->6 (1x1, stride 2), all on 3 x 3.
  EXPECT_EQ(s.total_mult_adds, 6 * 9 * (3 * 9) + 6 * 9 * (6 * 9) + 6 * 9 * 3);
  EXPECT_EQ(s.total_params, (3 * 6 * 9 + 6) + (6 * 6 * 9 + 6) + (3 * 6 + 6) + 2 * 2 * 6);
  EXPECT_TRUE(block->is_training());  // the mode is restored
}

TEST(Summary, RestoresEvalAndTrainMode) {
  auto net = d2l::make_model("bn-lenet", 1, 28, 10);
  net->train();
  d2l::summary(net, {1, 1, 28, 28});  // batch 1 works: batch norm runs in eval mode
  EXPECT_TRUE(net->is_training());
  net->eval();
  d2l::summary(net, {1, 1, 28, 28});
  EXPECT_FALSE(net->is_training());
}

TEST(Summary, InputTooSmallNamesTheLayer) {
  auto net = d2l::lenet();
  try {
    d2l::summary(net, {1, 1, 8, 8});
    FAIL();
  } catch (const d2l::Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    const std::string what = e.what();
    EXPECT_NE(what.find("layer 3 (Conv2d)"), std::string::npos) << what;
    EXPECT_NE(what.find("(1, 6, 4, 4)"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
  EXPECT_THROW(d2l::summary(net, {0, 1, 28, 28}), d2l::Error);
}

TEST(Summary, Formatting) {
  EXPECT_EQ(d2l::format_count(0), "0");
  EXPECT_EQ(d2l::format_count(999), "999");
  EXPECT_EQ(d2l::format_count(1000), "1,000");
  EXPECT_EQ(d2l::format_count(11178378), "11,178,378");
  EXPECT_EQ(d2l::format_count(-1234567), "-1,234,567");
  EXPECT_EQ(d2l::format_shape({1, 64, 24, 24}), "(1, 64, 24, 24)");
  EXPECT_EQ(d2l::format_shape({7}), "(7,)");
  auto net = d2l::lenet();
  const auto table = d2l::summary_table(d2l::summary(net, {1, 1, 28, 28}));
  EXPECT_NE(table.find("(1, 16, 5, 5)"), std::string::npos) << table;
  EXPECT_NE(table.find("61,706"), std::string::npos) << table;
  EXPECT_NE(table.find("416,520"), std::string::npos) << table;
}

// ---- the command, through the real `d2l` (which hands it to `d2l-torch`) ---------------------

TEST(SummaryCommand, LeNetJsonAsTheBook) {
  const auto r = d2l::test::run(d2l::test::bin("d2l") + " summary lenet --json",
                                d2l::test::Capture::StdoutOnly);
  ASSERT_EQ(r.code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  ASSERT_EQ(j["layers"].size(), kBookLeNet.size());
  for (std::size_t i = 0; i < kBookLeNet.size(); ++i) {
    EXPECT_EQ(j["layers"][i]["name"], kBookLeNet[i].first);
    EXPECT_EQ(j["layers"][i]["output_shape"].get<Shape>(), kBookLeNet[i].second);
  }
  EXPECT_EQ(j["input_shape"].get<Shape>(), (Shape{1, 1, 28, 28}));
  EXPECT_EQ(j["total_params"].get<std::int64_t>(), 61706);
  EXPECT_EQ(j["total_mult_adds"].get<std::int64_t>(), kLeNetMultAdds);
}

TEST(SummaryCommand, ResNetTextTableAtTheBooksResize) {
  const auto r = d2l::test::run(d2l::test::bin("d2l") + " summary resnet");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("(1, 1, 96, 96)"), std::string::npos) << r.output;  // resize 96
  EXPECT_NE(r.output.find("(1, 512, 3, 3)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("total params:     11,178,378"), std::string::npos) << r.output;
}

TEST(SummaryCommand, ResizeBatchAndBadInput) {
  auto r = d2l::test::run(d2l::test::bin("d2l") + " summary resnet18 --resize 16 --batch 2 --json",
                          d2l::test::Capture::StdoutOnly);
  ASSERT_EQ(r.code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["input_shape"].get<Shape>(), (Shape{2, 3, 16, 16}));          // cifar10: 3 channels
  EXPECT_EQ(j["total_params"].get<std::int64_t>(), 11175818 + 2 * 64 * 9);  // 3-channel stem

  r = d2l::test::run(d2l::test::bin("d2l") + " summary densenet --resize 28");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("densenet: images of 28 x 28 pixels are too small"), std::string::npos)
      << r.output;
  EXPECT_EQ(d2l::test::count_lines(r.output), 1) << r.output;
  r = d2l::test::run(d2l::test::bin("d2l") + " summary nosuchnet");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("unknown model 'nosuchnet'"), std::string::npos) << r.output;
  r = d2l::test::run(d2l::test::bin("d2l") + " summary linreg");
  EXPECT_EQ(r.code, 2) << r.output;
  r = d2l::test::run(d2l::test::bin("d2l") + " summary lenet --batch 0");
  EXPECT_EQ(r.code, 2) << r.output;
}
