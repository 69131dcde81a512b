// d2l/cloud/imds.h's SpotWatcher: the spot interruption notice read from the fake instance
// metadata service (a test double), and the cases where nothing is watched (off EC2, the
// service turned off, an on-demand instance) without a request or a wait.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "d2l/cloud/imds.h"
#include "fake_aws.h"

using namespace d2l::cloud;
using namespace d2l::test;  // the fake AWS endpoint and its helpers (fake_aws.h)
using nlohmann::json;

namespace {

// A /sys tree with these files (path relative to it -> first line).
void write_sys(const TempDir& root, const std::vector<std::pair<std::string, std::string>>& files) {
  for (const auto& [path, text] : files) {
    const auto p = root.path() / path;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text << "\n";
  }
}

SpotWatchOptions fast(const std::string& sys_root) {
  SpotWatchOptions o;
  o.interval_s = 0.05;
  o.timeout_s = 1;
  o.sys_root = sys_root;
  return o;
}

}  // namespace

TEST(SpotNotice, ParsedAndDescribedOnOneLine) {
  const auto n = parse_spot_notice(R"({"action": "terminate", "time": "2026-12-01T10:02:00Z"})");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->action, "terminate");
  EXPECT_EQ(describe(*n), "spot instance will be terminated at 2026-12-01T10:02:00Z");
  EXPECT_EQ(describe({"stop", "T"}), "spot instance will be stopped at T");
  EXPECT_EQ(describe({"hibernate", "T"}), "spot instance will be hibernated at T");
  EXPECT_EQ(describe({"stop", "a\nb"}), "spot instance will be stopped at a b");
  for (const char* bad : {"", "<html>404</html>", "[]", R"({"time": "x"})", R"({"action": 3})"})
    EXPECT_FALSE(parse_spot_notice(bad)) << bad;
}

TEST(SpotWatch, Ec2IsToldFromSysWithoutPrivileges) {
  TempDir nitro, xen, asset, other;
  write_sys(nitro, {{"class/dmi/id/sys_vendor", "Amazon EC2"}});
  write_sys(xen, {{"hypervisor/uuid", "ec2e1916-9099-7caf-fd21-012345abcdef"}});
  write_sys(asset, {{"class/dmi/id/board_asset_tag", "i-0123456789abcdef0"}});
  write_sys(other, {{"class/dmi/id/sys_vendor", "QEMU"}, {"hypervisor/uuid", "1234"}});
  EXPECT_TRUE(looks_like_ec2(nitro.str()));
  EXPECT_TRUE(looks_like_ec2(xen.str()));
  EXPECT_TRUE(looks_like_ec2(asset.str()));
  EXPECT_FALSE(looks_like_ec2(other.str()));
  EXPECT_FALSE(looks_like_ec2((other.path() / "missing").string()));
}

TEST(SpotWatch, NoticeIsReportedOnceWhenItAppears) {
  if (const auto why = FakeAws::skip_reason(); !why.empty()) GTEST_SKIP() << why;
  AwsEnv env;
  FakeAws fake;
  fake.set_state(
      {{"imds",
        {{"instanceId", "i-0spot"},
         {"lifecycle", "spot"},
         {"spot", {{"action", "stop"}, {"time", "2026-12-01T10:02:00Z"}, {"afterPolls", 2}}}}}});
  env.set("AWS_EC2_METADATA_DISABLED", "false");
  env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url());
  TempDir not_ec2;  // the endpoint named by the variable is asked whatever /sys says
  std::mutex m;
  std::vector<SpotNotice> seen;
  SpotWatcher w(
      [&](const SpotNotice& n) {
        std::lock_guard<std::mutex> lock(m);
        seen.push_back(n);
      },
      fast(not_ec2.str()));
  ASSERT_TRUE(wait_for([&] { return w.status().rfind("noticed", 0) == 0; }, 20)) << w.status();
  EXPECT_EQ(w.status(), "noticed: spot instance will be stopped at 2026-12-01T10:02:00Z");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::lock_guard<std::mutex> lock(m);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].action, "stop");
  EXPECT_EQ(w.polls(), 3);  // 404, 404, the notice; then it stops polling
  const json imds = json::parse(d2l::HttpClient().get_json(fake.url() + "/_fake/imds").body);
  EXPECT_EQ(imds["spotPolls"], 3);
}

TEST(SpotWatch, NothingIsWatchedOffEc2OrOnDemand) {
  if (const auto why = FakeAws::skip_reason(); !why.empty()) GTEST_SKIP() << why;
  AwsEnv env;  // AWS_EC2_METADATA_DISABLED=true
  TempDir not_ec2, nitro;
  write_sys(nitro, {{"class/dmi/id/sys_vendor", "Amazon EC2"}});
  int calls = 0;
  auto count = [&](const SpotNotice&) { ++calls; };
  {
    SpotWatcher w(count, fast(nitro.str()));
    ASSERT_TRUE(wait_for([&] { return w.status() != "starting"; }, 5));
    EXPECT_EQ(w.status(), "off: the metadata service is turned off");
  }
  env.set("AWS_EC2_METADATA_DISABLED", "false");
  {
    // No endpoint named and a machine that is not EC2: not even a token request.
    SpotWatcher w(count, fast(not_ec2.str()));
    ASSERT_TRUE(wait_for([&] { return w.status() != "starting"; }, 5));
    EXPECT_EQ(w.status(), "off: not an EC2 instance");
  }
  FakeAws fake;
  env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url());
  fake.set_state({{"imds",
                   {{"lifecycle", "on-demand"},
                    {"spot", {{"action", "stop"}, {"time", "T"}, {"afterPolls", 0}}}}}});
  {
    SpotWatcher w(count, fast(not_ec2.str()));
    ASSERT_TRUE(wait_for([&] { return w.status() != "starting"; }, 5));
    EXPECT_EQ(w.status(), "off: not a spot instance (on-demand)");
    EXPECT_EQ(w.polls(), 0);
  }
  // A service that never answers: off after the token request's timeout.
  fake.set_state({{"imds", {{"hang", true}}}});
  {
    SpotWatcher w(count, fast(not_ec2.str()));
    ASSERT_TRUE(wait_for([&] { return w.status() != "starting"; }, 10));
    EXPECT_NE(w.status().find("off: aws: no instance metadata service answered"), std::string::npos)
        << w.status();
  }
  EXPECT_EQ(calls, 0);
}

TEST(SpotWatch, StopsPromptlyWhileWatching) {
  if (const auto why = FakeAws::skip_reason(); !why.empty()) GTEST_SKIP() << why;
  AwsEnv env;
  FakeAws fake;
  fake.set_state({{"imds", {{"lifecycle", "spot"}}}});
  env.set("AWS_EC2_METADATA_DISABLED", "false");
  env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url());
  TempDir not_ec2;
  SpotWatchOptions o = fast(not_ec2.str());
  o.interval_s = 3600;
  auto w = std::make_unique<SpotWatcher>([](const SpotNotice&) {}, o);
  ASSERT_TRUE(wait_for([&] { return w->polls() == 1; }, 10)) << w->status();
  EXPECT_EQ(w->status(), "watching");
  const auto t0 = std::chrono::steady_clock::now();
  w.reset();  // does not wait out the hour
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 30);
}
