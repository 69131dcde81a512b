// d2l/cloud/imds.h and `d2l autostop --action cloud-stop` (cloud_stop_this_instance()): this
// instance found through IMDSv2, credentials from the instance's role, EC2 StopInstances, all
// against the fake AWS endpoint (a test double that also plays the instance metadata service).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "d2l/cloud/imds.h"
#include "d2l/cloud/self_stop.h"
#include "d2l/core/atomic_file.h"
#include "d2l/ops/autostop.h"
#include "fake_aws.h"

using namespace d2l::cloud;
using namespace d2l::test;  // the fake AWS endpoint and its helpers (fake_aws.h)
using nlohmann::json;

namespace {

constexpr const char* kInstance = "i-0cafe0000000000b1";
constexpr const char* kRoleSecret = "roleSecretThatMustNeverBePrinted/0123";

// The fake's state: one running instance of ours, which the metadata service says is this one,
// in us-west-2, with a role whose temporary credentials the fake accepts.
json instance_state(bool with_role = true) {
  json imds = {{"instanceId", kInstance}, {"region", "us-west-2"}, {"lifecycle", "on-demand"}};
  if (with_role) {
    imds["role"] = "d2l-stopper";
    imds["AccessKeyId"] = "ASIASTOPPER";
    imds["SecretAccessKey"] = kRoleSecret;
    imds["Token"] = "stoppertoken";
  }
  return {{"imds", imds},
          {"keys", {{"ASIASTOPPER", {{"secret", kRoleSecret}, {"token", "stoppertoken"}}}}},
          {"instances", json::array({{{"id", kInstance},
                                      {"type", "g4dn.xlarge"},
                                      {"state", "running"},
                                      {"launchTime", d2l::test::aws_time_ago(3600)},
                                      {"tags", {{"d2l:managed", "1"}}}}})}};
}

// An AWS environment whose metadata service and EC2 are the fake.
void on_fake_instance(AwsEnv& env, const FakeAws& fake) {
  env.set("AWS_EC2_METADATA_DISABLED", "false");
  env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url());
  env.set("AWS_ENDPOINT_URL_EC2", fake.url());
}

std::string instance_state_now(const FakeAws& fake) {
  const json st = fake.stats();
  for (const auto& i : st["instances"])
    if (i["id"] == kInstance) return i["state"].get<std::string>();
  return "";
}

// Writes autostop's state: idle for `ago` seconds this boot.
void seed_idle(const std::string& path, double ago) {
  d2l::ops::AutostopState s;
  s.boot_id = d2l::ops::current_boot_id();
  s.last_active = static_cast<double>(std::time(nullptr)) - ago;
  d2l::ops::save_state(path, s);
}

}  // namespace

TEST(Imds, TokenIsRequiredAndGivesThisInstance) {
  if (const auto why = FakeAws::skip_reason(); !why.empty()) GTEST_SKIP() << why;
  AwsEnv env;
  FakeAws fake;
  fake.set_state(instance_state());
  // IMDSv2 only: a GET without the session token is refused.
  d2l::HttpClient http;
  EXPECT_EQ(http.request("GET", fake.url() + "/latest/meta-data/instance-id").status, 401);
  on_fake_instance(env, fake);
  Imds imds(1);
  EXPECT_EQ(imds.endpoint(), fake.url());
  const InstanceIdentity id = instance_identity(imds);
  EXPECT_EQ(id.instance_id, kInstance);
  EXPECT_EQ(id.region, "us-west-2");
  EXPECT_EQ(id.lifecycle, "on-demand");
  EXPECT_FALSE(imds.get("meta-data/spot/instance-action"));  // 404: no notice
}

TEST(Imds, OffOrUnreachableIsOneLineWithinTheTimeout) {
  if (const auto why = FakeAws::skip_reason(); !why.empty()) GTEST_SKIP() << why;
  AwsEnv env;  // AWS_EC2_METADATA_DISABLED=true
  EXPECT_FALSE(imds_endpoint());
  EXPECT_THROW(Imds(1), ImdsUnreachable);
  env.set("AWS_EC2_METADATA_DISABLED", "false");
  env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1/");  // nothing listens
  ASSERT_TRUE(imds_endpoint());
  EXPECT_EQ(*imds_endpoint(), "http://127.0.0.1:1");
  try {
    Imds imds(1);
    FAIL();
  } catch (const ImdsUnreachable& e) {
    EXPECT_NE(std::string(e.what()).find("not on EC2"), std::string::npos) << e.what();
  }
  // A service that takes the connection and never answers (as 169.254.169.254 off EC2): the
  // timeout ends the wait.
  FakeAws fake;
  fake.set_state({{"imds", {{"hang", true}}}});
  env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW(Imds(0.5), ImdsUnreachable);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 10);
}

TEST(CloudStop, StopsThisInstanceWithTheInstanceRole) {
  if (const auto why = FakeAws::skip_reason(); !why.empty()) GTEST_SKIP() << why;
  AwsEnv env;
  FakeAws fake;
  fake.set_state(instance_state());
  on_fake_instance(env, fake);
  env.set("AWS_REGION", "eu-west-1");  // the instance's own region wins
  const CloudStopResult r = cloud_stop_this_instance(false);
  EXPECT_EQ(r.instance_id, kInstance);
  EXPECT_EQ(r.region, "us-west-2");
  EXPECT_EQ(r.credentials_source, "instance role d2l-stopper (IMDSv2)");
  EXPECT_EQ(r.previous_state, "running");
  EXPECT_EQ(r.current_state, "stopping");
  const json st = fake.stats();
  ASSERT_EQ(st["requests"].size(), 1u) << st.dump();
  EXPECT_EQ(st["requests"][0]["action"], "StopInstances");
  EXPECT_EQ(st["requests"][0]["key"], "ASIASTOPPER");
  EXPECT_TRUE(st["requests"][0]["token"].get<bool>());
  EXPECT_EQ(st["rejected"], 0);
  EXPECT_NE(instance_state_now(fake), "running");
}

TEST(CloudStop, DryRunChecksThePermissionAndStopsNothing) {
  if (const auto why = FakeAws::skip_reason(); !why.empty()) GTEST_SKIP() << why;
  AwsEnv env;
  FakeAws fake;
  fake.set_state(instance_state());
  on_fake_instance(env, fake);
  const CloudStopResult r = cloud_stop_this_instance(true);
  EXPECT_EQ(r.instance_id, kInstance);
  EXPECT_TRUE(r.current_state.empty());
  const json st = fake.stats();
  ASSERT_EQ(st["requests"].size(), 1u);
  EXPECT_NE(st["requests"][0]["body"].get<std::string>().find("DryRun=true"), std::string::npos);
  EXPECT_EQ(instance_state_now(fake), "running");
}

TEST(CloudStop, EachFailureIsOneLineSayingWhatIsMissing) {
  if (const auto why = FakeAws::skip_reason(); !why.empty()) GTEST_SKIP() << why;
  AwsEnv env;
  FakeAws fake;
  auto one_line_with = [](bool dry_run, const std::string& part) {
    try {
      cloud_stop_this_instance(dry_run);
      ADD_FAILURE() << "no error; expected one with " << part;
    } catch (const d2l::Error& e) {
      const std::string w = e.what();
      EXPECT_NE(w.find(part), std::string::npos) << w;
      EXPECT_EQ(w.find('\n'), std::string::npos) << w;
      EXPECT_EQ(w.find(kRoleSecret), std::string::npos) << w;
      EXPECT_EQ(e.exit_code(), 1) << w;
    }
  };
  // Not on EC2.
  env.set("AWS_EC2_METADATA_DISABLED", "false");
  env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1");
  one_line_with(false, "not on EC2");
  // On EC2, no role and nothing else.
  fake.set_state(instance_state(false));
  on_fake_instance(env, fake);
  one_line_with(false, "no credentials to stop " + std::string(kInstance));
  // A role without ec2:StopInstances: both for real and in the dry run.
  json s = instance_state();
  s["faults"] = json::array({{{"action", "StopInstances"},
                              {"code", "UnauthorizedOperation"},
                              {"status", 403},
                              {"message", "You are not authorized to perform this operation."},
                              {"times", 2}}});
  fake.set_state(s);
  one_line_with(false, "the role needs ec2:StopInstances on arn:aws:ec2:us-west-2:*:instance/" +
                           std::string(kInstance));
  one_line_with(true, "UnauthorizedOperation");
  EXPECT_EQ(instance_state_now(fake), "running");
}

TEST(CloudStopCli, AutostopStopsTheInstanceWhenIdleAndChecksFirst) {
  if (const auto why = FakeAws::skip_reason(); !why.empty()) GTEST_SKIP() << why;
  AwsEnv env;
  FakeAws fake;
  fake.set_state(instance_state());
  on_fake_instance(env, fake);
  TempDir t;
  const std::string state = (t.path() / "autostop.json").string();
  const std::string args =
      "autostop check --idle 2h --grace 10m --signals cpu --max-load 1e9 --action cloud-stop";
  // --dry-run: the permission is checked with AWS's dry run; nothing stops.
  seed_idle(state, 3 * 3600);
  std::string out;
  ASSERT_EQ(run_d2l(t.path(), args + " --dry-run", &out), 0) << out;
  EXPECT_NE(out.find("cloud-stop: would stop " + std::string(kInstance) + " in us-west-2"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("would run 'cloud-stop'"), std::string::npos) << out;
  EXPECT_EQ(instance_state_now(fake), "running");
  // For real: idle past the limit, the instance is stopped through the API, once.
  ASSERT_EQ(run_d2l(t.path(), args + " --json", &out), 0) << out;
  const json d = json::parse(out);
  EXPECT_EQ(d["verdict"], "act") << out;
  EXPECT_NE(d["notes"].dump().find("stopped " + std::string(kInstance)), std::string::npos) << out;
  EXPECT_NE(instance_state_now(fake), "running");
  ASSERT_EQ(run_d2l(t.path(), args + " --json", &out), 0) << out;
  EXPECT_EQ(json::parse(out)["verdict"], "acted") << out;
  int stops = 0;
  const json st = fake.stats();
  for (const auto& r : st["requests"])
    if (r["action"] == "StopInstances" &&
        r["body"].get<std::string>().find("DryRun") == std::string::npos)
      ++stops;
  EXPECT_EQ(stops, 1);
  const std::string log = d2l::read_file((t.path() / "autostop.log").string());
  EXPECT_NE(log.find("cloud-stop: stopped " + std::string(kInstance)), std::string::npos) << log;
  EXPECT_EQ(log.find(kRoleSecret), std::string::npos);
}

TEST(CloudStopCli, ARefusedStopExits1AndIsTriedAgain) {
  if (const auto why = FakeAws::skip_reason(); !why.empty()) GTEST_SKIP() << why;
  AwsEnv env;
  FakeAws fake;
  json s = instance_state();
  s["faults"] = json::array({{{"action", "StopInstances"},
                              {"code", "UnauthorizedOperation"},
                              {"status", 403},
                              {"times", 1}}});
  fake.set_state(s);
  on_fake_instance(env, fake);
  TempDir t;
  const std::string state = (t.path() / "autostop.json").string();
  seed_idle(state, 3 * 3600);
  const std::string args =
      "autostop check --idle 2h --grace 10m --signals cpu --max-load 1e9 --action cloud-stop";
  std::string out;
  EXPECT_EQ(run_d2l(t.path(), args, &out), 1) << out;
  EXPECT_NE(out.find("needs ec2:StopInstances"), std::string::npos) << out;
  EXPECT_EQ(d2l::ops::load_state(state).acted_at, 0);
  EXPECT_EQ(instance_state_now(fake), "running");
  // The next check (the permission granted meanwhile) stops it.
  ASSERT_EQ(run_d2l(t.path(), args, &out), 0) << out;
  EXPECT_NE(instance_state_now(fake), "running");
}

TEST(CloudStopCli, RunRefusesToWatchWhenItCouldNotAct) {
  AwsEnv env;
  env.set("AWS_EC2_METADATA_DISABLED", "false");
  env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1");
  TempDir t;
  std::string out;
  EXPECT_EQ(run_d2l(t.path(), "autostop run --action cloud-stop --interval 1s", &out), 1) << out;
  EXPECT_NE(out.find("cloud-stop: cannot find this instance"), std::string::npos) << out;
  EXPECT_NE(out.find("not on EC2"), std::string::npos) << out;
  EXPECT_EQ(d2l::test::count_occurrences(out, "\n"), 1) << out;
}
