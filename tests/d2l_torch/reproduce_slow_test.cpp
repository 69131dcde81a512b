// d2l reproduce end to end on the CPU: every network of chapter 8 on the real Fashion-MNIST,
// cut to two steps of eight images each (--max-steps), as a user's smoke run of a new machine.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/fixtures.h"

using d2l::test::bin;
using d2l::test::run;
using d2l::test::TempDir;

namespace {
const char* kFashionMnist = "/usr/share/datasets/fashion-mnist";
}

TEST(Reproduce, EveryBookNetworkRunsEndToEndAndLandsInOneTable) {
  if (!std::filesystem::exists(kFashionMnist))
    GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed (scripts/setup installs it)";
  TempDir dir;
  const auto r =
      run("env HOME=" + dir.str() + " D2L_OFFLINE=1 " + bin("d2l") +
          " reproduce --max-steps 2 --batch-size 8 --threads 2 --json --out " + dir / "rep");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto rows = nlohmann::json::parse(std::ifstream(dir / "rep/reproduce.json"));
  const std::vector<std::string> models = {"alexnet",  "vgg",    "nin",     "googlenet",
                                           "bn-lenet", "resnet", "densenet"};
  ASSERT_EQ(rows.size(), models.size());
  for (std::size_t i = 0; i < models.size(); ++i) {
    const auto& row = rows[i];
    EXPECT_EQ(row["model"], models[i]);
    EXPECT_EQ(row["status"], "ok") << models[i];
    EXPECT_EQ(row["epochs"], 1) << models[i];
    EXPECT_TRUE(row["book_test_acc"].is_number()) << models[i];
    EXPECT_GE(row["test_acc"].get<double>(), 0.0);
    EXPECT_LE(row["test_acc"].get<double>(), 1.0);
    const auto m =
        nlohmann::json::parse(std::ifstream(dir / ("rep/" + models[i] + "/metrics.json")));
    EXPECT_EQ(m["examples_seen"], 16) << models[i];  // two steps of eight
  }
  const std::string md = d2l::read_file(dir / "rep/reproduce.md");
  EXPECT_NE(md.find("| resnet | 1 |"), std::string::npos) << md;
  EXPECT_NE(md.find("0.913"), std::string::npos) << md;  // the book's ResNet figure
  EXPECT_TRUE(std::filesystem::exists(dir / "rep/test-acc.png"));
}

TEST(Reproduce, AnUnknownModelIsRefusedBeforeAnythingTrains) {
  TempDir dir;
  const auto r = run(bin("d2l") + " reproduce lenet resnet50 --out " + dir / "rep");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("unknown model 'resnet50'"), std::string::npos) << r.output;
  EXPECT_EQ(d2l::test::count_lines(r.output), 1) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "rep/lenet"));
}
