// The book's chapters in examples/ run as programs and print the book's results.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/fixtures.h"

using d2l::test::bin;
using d2l::test::run;
using d2l::test::TempDir;

namespace {

const char kDebianFashionMnist[] = "/usr/share/datasets/fashion-mnist";

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The captures of the last line matching `re`, or {} when none does.
std::smatch last_match(const std::vector<std::string>& lines, const std::regex& re) {
  std::smatch found;
  for (const auto& line : lines) {
    std::smatch m;
    if (std::regex_match(line, m, re)) found = m;
  }
  return found;
}

}  // namespace

// The examples are an option of the build (D2L_BUILD_EXAMPLES, on by default).
#define SKIP_UNLESS_BUILT(name)            \
  if (!std::filesystem::exists(bin(name))) \
  GTEST_SKIP() << name << " is not built (configured with D2L_BUILD_EXAMPLES=OFF)"

TEST(Examples, LinearRegressionScratchRecoversTheParameters) {
  SKIP_UNLESS_BUILT("example_linear_regression_scratch");
  const auto r = run(bin("example_linear_regression_scratch"));
  ASSERT_EQ(r.code, 0) << r.output;
  const auto lines = lines_of(r.output);
  EXPECT_NE(r.output.find("features: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("label: "), std::string::npos) << r.output;

  // "epoch 1, loss ..." to "epoch 3, loss ...", falling to the noise level (std 0.01).
  const std::regex epoch_re(R"(epoch (\d+), loss ([0-9.e+-]+))");
  std::vector<double> losses;
  for (const auto& line : lines) {
    std::smatch m;
    if (std::regex_match(line, m, epoch_re)) {
      EXPECT_EQ(std::stoi(m[1]), static_cast<int>(losses.size()) + 1) << line;
      losses.push_back(std::stod(m[2]));
    }
  }
  ASSERT_EQ(losses.size(), 3u) << r.output;
  EXPECT_LT(losses.back(), 1e-3) << r.output;
  EXPECT_LE(losses.back(), losses.front()) << r.output;

  // The errors in w and b are small.
  const auto w =
      last_match(lines, std::regex(R"(error in estimating w: \[([0-9.e+-]+), ([0-9.e+-]+)\])"));
  ASSERT_FALSE(w.empty()) << r.output;
  EXPECT_LT(std::fabs(std::stod(w[1])), 0.05) << r.output;
  EXPECT_LT(std::fabs(std::stod(w[2])), 0.05) << r.output;
  const auto b = last_match(lines, std::regex(R"(error in estimating b: ([0-9.e+-]+))"));
  ASSERT_FALSE(b.empty()) << r.output;
  EXPECT_LT(std::fabs(std::stod(b[1])), 0.05) << r.output;
}

TEST(Examples, RejectsABadEpochCount) {
  SKIP_UNLESS_BUILT("example_softmax_regression");
  const auto r = run(bin("example_softmax_regression") + " 0");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("usage"), std::string::npos) << r.output;
}

TEST(Examples, SoftmaxRegressionOneEpochOnFashionMnist) {
  SKIP_UNLESS_BUILT("example_softmax_regression");
  if (!std::filesystem::exists(std::string(kDebianFashionMnist) + "/t10k-labels-idx1-ubyte.gz"))
    GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed (scripts/setup installs it)";
  // No cache, no downloads: the data comes from Debian's folder.
  TempDir home;
  const auto r = run("env HOME=" + home.str() + " XDG_CACHE_HOME= D2L_DATA_DIR= D2L_OFFLINE=1 " +
                     bin("example_softmax_regression") + " 1");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto lines = lines_of(r.output);
  const auto acc =
      last_match(lines, std::regex(R"(loss ([0-9.]+), train acc ([0-9.]+), test acc ([0-9.]+))"));
  ASSERT_FALSE(acc.empty()) << r.output;
  const double loss = std::stod(acc[1]), train_acc = std::stod(acc[2]),
               test_acc = std::stod(acc[3]);
  EXPECT_GT(loss, 0.0) << r.output;
  EXPECT_LT(loss, 1.0) << r.output;
  EXPECT_GE(train_acc, 0.7) << r.output;
  EXPECT_LE(train_acc, 1.0) << r.output;
  EXPECT_GE(test_acc, 0.7) << r.output;
  EXPECT_LE(test_acc, 1.0) << r.output;
  const auto speed = last_match(lines, std::regex(R"(([0-9.]+) examples/sec on (\S+))"));
  ASSERT_FALSE(speed.empty()) << r.output;
  EXPECT_GT(std::stod(speed[1]), 0.0) << r.output;
  EXPECT_EQ(speed[2], "cpu") << r.output;
}

// Chapter 8's networks, one program per family, each on 16 generated 28 x 28 images for one
// epoch (the images resized as the book does): the book's layer shapes, then train_ch6's lines.
struct ModernExample {
  const char* name;
  std::vector<std::string> shapes;  // lines the program must print, in order
};

class ModernExamples : public ::testing::TestWithParam<ModernExample> {};

TEST_P(ModernExamples, PrintTheBooksShapesAndTrainOnTinyData) {
  const auto& ex = GetParam();
  const std::string program = std::string("example_") + ex.name;
  SKIP_UNLESS_BUILT(program);
  TempDir data;
  d2l::test::write_fake_mnist(data.str(), 16, 16);
  TempDir home;
  const auto r =
      run("env HOME=" + home.str() + " XDG_CACHE_HOME= D2L_OFFLINE=1 D2L_DATA_DIR=" + data.str() +
          " " + bin(program) + " 1 16");
  ASSERT_EQ(r.code, 0) << r.output;
  std::size_t at = 0;
  for (const auto& line : ex.shapes) {
    const auto found = r.output.find(line, at);
    ASSERT_NE(found, std::string::npos) << "missing, or out of order: " << line << "\n" << r.output;
    at = found + line.size();
  }
  const auto lines = lines_of(r.output);
  const auto acc =
      last_match(lines, std::regex(R"(loss ([0-9.]+), train acc ([0-9.]+), test acc ([0-9.]+))"));
  ASSERT_FALSE(acc.empty()) << r.output;
  EXPECT_GE(std::stod(acc[2]), 0.0) << r.output;
  EXPECT_LE(std::stod(acc[3]), 1.0) << r.output;
  EXPECT_FALSE(last_match(lines, std::regex(R"(([0-9.]+) examples/sec on (\S+))")).empty())
      << r.output;

  // A bad count is a usage error.
  const auto bad = run(bin(program) + " 1 -3");
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("usage"), std::string::npos) << bad.output;
}

INSTANTIATE_TEST_SUITE_P(
    Chapter8, ModernExamples,
    ::testing::Values(
        ModernExample{
            "alexnet",
            {"Conv2d output shape:\t(1, 96, 54, 54)", "MaxPool2d output shape:\t(1, 96, 26, 26)",
             "Flatten output shape:\t(1, 6400)", "Linear output shape:\t(1, 10)"}},
        ModernExample{"vgg",
                      {"Sequential output shape:\t(1, 16, 112, 112)",
                       "Sequential output shape:\t(1, 128, 7, 7)",
                       "Flatten output shape:\t(1, 6272)", "Linear output shape:\t(1, 10)"}},
        ModernExample{
            "nin",
            {"Sequential output shape:\t(1, 96, 54, 54)", "Sequential output shape:\t(1, 10, 5, 5)",
             "AdaptiveAvgPool2d output shape:\t(1, 10, 1, 1)", "Flatten output shape:\t(1, 10)"}},
        ModernExample{
            "googlenet",
            {"Inception(192, 64, (96, 128), (16, 32), 32) output channels: 256",
             "Sequential output shape:\t(1, 64, 24, 24)",
             "Sequential output shape:\t(1, 192, 12, 12)",
             "Sequential output shape:\t(1, 480, 6, 6)", "Sequential output shape:\t(1, 832, 3, 3)",
             "Sequential output shape:\t(1, 1024)", "Linear output shape:\t(1, 10)"}},
        ModernExample{"batch_norm",
                      {"batch_norm: mean ", "BatchNorm output shape:\t(1, 6, 24, 24)",
                       "Linear output shape:\t(1, 10)"}},
        ModernExample{
            "resnet",
            {"Residual(3, 3) on (4, 3, 6, 6):\t(4, 3, 6, 6)",
             "Residual(3, 6, use_1x1conv, strides 2):\t(4, 6, 3, 3)",
             "Sequential output shape:\t(1, 64, 24, 24)",
             "Sequential output shape:\t(1, 64, 24, 24)",
             "Sequential output shape:\t(1, 128, 12, 12)",
             "Sequential output shape:\t(1, 256, 6, 6)", "Sequential output shape:\t(1, 512, 3, 3)",
             "AdaptiveAvgPool2d output shape:\t(1, 512, 1, 1)", "Linear output shape:\t(1, 10)"}},
        ModernExample{
            "densenet",
            {"DenseBlock(2, 3, 10) on (4, 3, 8, 8):\t(4, 23, 8, 8)",
             "Sequential output shape:\t(1, 64, 24, 24)",
             "DenseBlock output shape:\t(1, 192, 24, 24)",
             "Sequential output shape:\t(1, 96, 12, 12)",
             "DenseBlock output shape:\t(1, 248, 3, 3)", "Linear output shape:\t(1, 10)"}}),
    [](const ::testing::TestParamInfo<ModernExample>& info) {
      return std::string(info.param.name);
    });
