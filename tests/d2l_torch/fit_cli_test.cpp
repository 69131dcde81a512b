// `d2l fit` as a user runs it: the real d2l (forwarding to d2l-torch), its text and JSON.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/fixtures.h"

using d2l::test::bin;
using d2l::test::run;

namespace {

void expect_one_line_error(const std::string& args, const std::string& needle) {
  const auto r = run(bin("d2l") + " fit " + args);
  EXPECT_EQ(r.code, 2) << args << "\n" << r.output;
  EXPECT_NE(r.output.find(needle), std::string::npos) << args << "\n" << r.output;
  EXPECT_EQ(d2l::test::count_lines(r.output), 1) << args << "\n" << r.output;
}

}  // namespace

TEST(FitCli, BadInputGetsOneLineAndExit2) {
  expect_one_line_error("nosuchnet", "nosuchnet");
  expect_one_line_error("linreg", "linreg");
  expect_one_line_error("lenet --batch-size 0", "--batch-size");
  expect_one_line_error("lenet --batch -5", "--batch-size");
  expect_one_line_error("lenet --batch-size abc", "batch");
  expect_one_line_error("lenet --precision fp8", "fp8");
  expect_one_line_error("lenet --optimizer rmsprop", "rmsprop");
  expect_one_line_error("lenet --momentum 1", "--momentum");
  expect_one_line_error("lenet --momentum nan", "--momentum");
  expect_one_line_error("lenet --epochs 0", "--epochs");
  expect_one_line_error("lenet --resize 0", "--resize");
  expect_one_line_error("lenet --efficiency 2", "--efficiency");
  expect_one_line_error("lenet --gpu GTX480", "GTX480");
  expect_one_line_error("lenet --instance no.such.type", "no.such.type");
  expect_one_line_error("lenet --instance t3.medium", "t3.medium");  // no GPU
  expect_one_line_error("lenet --gpu T4 --instance g4dn.xlarge", "--gpu");
  expect_one_line_error("lenet --optimizer adam --momentum 0.9", "--momentum");
}

TEST(FitCli, JsonHasTheBreakdownAndTheCatalogueRows) {
  const auto r = run(bin("d2l") + " fit lenet --batch-size 64 --optimizer adam --json",
                     d2l::test::Capture::StdoutOnly);
  ASSERT_EQ(r.code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["params"], 61706);
  EXPECT_EQ(j["batch"], 64);
  EXPECT_EQ(j["memory"]["device"], "cpu");
  EXPECT_EQ(j["memory"]["optimizer_state_bytes"], 2 * 61706 * 4);
  EXPECT_GT(j["memory"]["predicted_bytes"].get<std::int64_t>(), 3 * 61706 * 4);
  ASSERT_FALSE(j["rows"].empty());  // the built-in catalogue's GPU instances
  for (const auto& row : j["rows"]) EXPECT_TRUE(row["fits"].get<bool>()) << row;
  EXPECT_FALSE(j["cheapest"].is_null());
}

TEST(FitCli, OneGpuAndTheCheck) {
  auto r = run(bin("d2l") + " fit lenet --gpu A100-80GB --precision bf16 --json",
               d2l::test::Capture::StdoutOnly);
  ASSERT_EQ(r.code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["memory"]["device"], "A100-80GB");
  ASSERT_EQ(j["rows"].size(), 1u);
  EXPECT_GT(j["memory"]["framework_bytes"].get<std::int64_t>(), 0);
  EXPECT_GT(j["memory"]["weight_copies_bytes"].get<std::int64_t>(), 0);

  r = run(bin("d2l") + " fit lenet --batch 16 --check");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("predicted/measured"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("estimates"), std::string::npos) << r.output;
}

// The profile store as a user meets it: the build's shipped profiles, else analysed once and
// read from ~/.cache/d2l/fit afterwards; --no-cache analyses afresh; the answers never change.
TEST(FitCli, ProfilesComeFromTheStoreWithTheSameAnswers) {
  d2l::test::TempDir tmp;
  const std::string fit = bin("d2l") + " fit resnet --batch 64 --json";
  auto json_of = [](const d2l::test::RunResult& r) {
    EXPECT_EQ(r.code, 0) << r.output;
    return nlohmann::json::parse(r.output);
  };
  const std::string cache = "XDG_CACHE_HOME=" + tmp.str() + " ";
  const auto first =
      json_of(run("env D2L_FIT_PROFILES= " + cache + fit, d2l::test::Capture::StdoutOnly));
  EXPECT_EQ(first["profile_source"], "analysed");
  const auto second =
      json_of(run("env D2L_FIT_PROFILES= " + cache + fit, d2l::test::Capture::StdoutOnly));
  EXPECT_EQ(second["profile_source"], "cache");
  const auto fresh = json_of(
      run("env D2L_FIT_PROFILES= " + cache + fit + " --no-cache", d2l::test::Capture::StdoutOnly));
  EXPECT_EQ(fresh["profile_source"], "analysed");
  // The build's store (tests/CMakeLists.txt makes test_d2l_torch depend on it).
  const auto shipped =
      json_of(run("env -u D2L_FIT_PROFILES " + cache + fit, d2l::test::Capture::StdoutOnly));
  EXPECT_EQ(shipped["profile_source"], "shipped");
  for (const auto* j : {&second, &fresh, &shipped}) {
    EXPECT_EQ((*j)["memory"], first["memory"]);
    EXPECT_EQ((*j)["rows"], first["rows"]);
    EXPECT_EQ((*j)["params"], first["params"]);
  }
  // Without a model: one line, exit 2.
  const auto r = run(bin("d2l") + " fit");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_EQ(d2l::test::count_lines(r.output), 1) << r.output;
}
