// `d2l train` on an EC2 spot instance, played by the fake instance metadata service (a test
// double: tests/cloud/fake_aws): LeNet on the real Fashion-MNIST runs until AWS's interruption
// notice appears, stops with one line and a checkpoint, and `--resume` continues it exactly as
// an uninterrupted run of as many steps.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "cloud/fake_aws.h"

using namespace d2l::test;  // the fake AWS endpoint and its helpers (fake_aws.h)
using nlohmann::json;

namespace {
const char* kFashionMnist = "/usr/share/datasets/fashion-mnist";

json read_json(const std::string& path) { return json::parse(std::ifstream(path)); }
}  // namespace

TEST(SpotWatchTrain, NoticeStopsTheRunWithACheckpointThatResumesExactly) {
  if (!std::filesystem::exists(kFashionMnist))
    GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed (scripts/setup installs it)";
  if (const auto why = FakeAws::skip_reason(); !why.empty()) GTEST_SKIP() << why;
  AwsEnv env;
  FakeAws fake;
  // A spot instance: no notice at the first poll, the notice from the second (5 s later) on.
  fake.set_state(
      {{"imds",
        {{"instanceId", "i-0spot"},
         {"lifecycle", "spot"},
         {"spot",
          {{"action", "terminate"}, {"time", "2026-12-01T10:02:00Z"}, {"afterPolls", 1}}}}}});
  env.set("AWS_EC2_METADATA_DISABLED", "false");
  env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url());
  const std::string base = env.env_prefix() + " D2L_OFFLINE=1 timeout 600 " + bin("d2l") +
                           " train lenet --threads 1 --seed 7 --batch-size 256 -q --no-chart ";
  TempDir dir;
  const RunResult a = run(base + "--epochs 3 --out " + dir / "a");
  ASSERT_EQ(a.code, 130) << a.output;
  EXPECT_NE(a.output.find("d2l: spot instance will be terminated at 2026-12-01T10:02:00Z: writing "
                          "the checkpoint\n"),
            std::string::npos)
      << a.output;
  EXPECT_NE(a.output.find("checkpoint saved: continue with d2l train --resume"), std::string::npos)
      << a.output;
  ASSERT_TRUE(std::filesystem::exists(dir / "a/checkpoint.pt"));
  EXPECT_EQ(json::parse(d2l::HttpClient().get_json(fake.url() + "/_fake/imds").body)["spotPolls"],
            2);

  // Resumed (off the spot instance now: --no-spot-watch) for 3 more steps...
  const RunResult r = run(base + "--no-spot-watch --resume " + dir / "a" + " --max-steps 3");
  ASSERT_EQ(r.code, 0) << r.output;
  std::smatch m;
  const std::string out = r.output;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("at epoch ([0-9]+), batch ([0-9]+)"))) << out;
  const long epoch = std::stol(m[1]), batch = std::stol(m[2]);
  const long done = (epoch - 1) * 235 + batch;  // 60,000 images in batches of 256: 235 a epoch
  ASSERT_GT(done, 0) << out;
  // ... is the same as a run of as many steps without a break.
  const RunResult b = run(base + "--no-spot-watch --epochs 3 --max-steps " +
                          std::to_string(done + 3) + " --out " + dir / "b");
  ASSERT_EQ(b.code, 0) << b.output;
  const json ja = read_json(dir / "a/metrics.json"), jb = read_json(dir / "b/metrics.json");
  EXPECT_EQ(ja["examples_seen"], jb["examples_seen"]);
  EXPECT_NEAR(ja["loss"].get<double>(), jb["loss"].get<double>(), 1e-5);
  EXPECT_NEAR(ja["train_acc"].get<double>(), jb["train_acc"].get<double>(), 1e-9);
}
