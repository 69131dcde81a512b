// `d2l cloud` (tools/d2l/cloud.cpp), the real program against the fake endpoint: list with costs,
// stop/start/terminate with their confirmations and the tag check, stop-all, errors as one line
// with exit 1, bad input with exit 2 before any request, and no secret in any output.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include "fake_aws.h"

using namespace d2l::test;  // the fake AWS endpoint and its helpers (fake_aws.h)
using nlohmann::json;

namespace {

class CloudCli : public FakeAwsTest {
 protected:
  void SetUp() override {
    FakeAwsTest::SetUp();
    if (IsSkipped()) return;
    use_fake_for({"AWS_ENDPOINT_URL_EC2"});
    sign_in();
    reset();
  }
  void reset(json faults = json::array()) const {
    set_state({{"faults", faults},
               {"instances",
                {{{"id", "i-0aaa"},
                  {"type", "t3.medium"},
                  {"state", "running"},
                  {"launchTime", aws_time_ago(7200)},
                  {"publicIp", "198.51.100.7"},
                  {"tags", {{"d2l:managed", "1"}, {"Name", "train1"}}}},
                 {{"id", "i-0bbb"},
                  {"type", "m5.xlarge"},
                  {"state", "running"},
                  {"launchTime", aws_time_ago(3600)},
                  {"tags", {{"d2l:managed", "1"}, {"Name", "train2"}}}},
                 {{"id", "i-0ccc"},
                  {"type", "m5.large"},
                  {"state", "running"},
                  {"launchTime", aws_time_ago(60)},
                  {"tags", {{"Name", "someone-elses"}}}}}}});
  }
  // Runs `d2l cloud ARGS` with exactly this test's environment and `input` on stdin.
  RunResult d2l(const std::string& args, const std::string& input = "") const {
    return run_d2l("cloud " + args, input);
  }
  std::string state_of(const std::string& id) const {
    const json stats = fake_->stats();  // kept alive: the loop walks into it
    for (const auto& i : stats["instances"])
      if (i["id"] == id) return i["state"];
    return "";
  }
};

}  // namespace

TEST_F(CloudCli, ListShowsOursWithPricesCostsAndATotal) {
  const RunResult r = d2l("list");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("i-0aaa"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("train1"), std::string::npos);
  EXPECT_NE(r.output.find("198.51.100.7"), std::string::npos);
  EXPECT_NE(r.output.find("$0.0416"), std::string::npos);  // t3.medium in the catalogue
  EXPECT_NE(r.output.find("$0.1920"), std::string::npos);  // m5.xlarge
  EXPECT_EQ(r.output.find("i-0ccc"), std::string::npos);   // not ours
  EXPECT_NE(r.output.find("Total: 2 instances, 2 running, $0.2336/hour"), std::string::npos)
      << r.output;
  // A stopped instance still pays for its volumes: 730 GiB of gp3 is $0.08 an hour.
  json st = fake_->stats();
  st["instances"].push_back({{"id", "i-0eee"},
                             {"type", "m5.xlarge"},
                             {"state", "stopped"},
                             {"launchTime", aws_time_ago(86400)},
                             {"reason", "User initiated (2026-11-30 10:00:00 GMT)"},
                             {"volumes", {{{"id", "vol-1"}, {"size", 730}, {"type", "gp3"}}}},
                             {"tags", {{"d2l:managed", "1"}}}});
  fake_->set_state({{"keys", {{kKeyId, {{"secret", kSecret}}}}}, {"instances", st["instances"]}});
  const RunResult stopped = d2l("list --json");
  ASSERT_EQ(stopped.code, 0) << stopped.output;
  const json j = json::parse(stopped.output.substr(stopped.output.find('[')));
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[2]["state"], "stopped");
  EXPECT_DOUBLE_EQ(j[2]["price_per_hour"].get<double>(), 0.08);
  EXPECT_EQ(j[2]["volumes_gb"], 730);
  EXPECT_GT(j[2]["cost_so_far"].get<double>(), 0);
  // A running spot instance pays its zone's spot price.
  st = fake_->stats();
  st["instances"][0]["spot"] = true;
  st["instances"][0]["zone"] = "us-east-1c";
  fake_->set_state({{"keys", {{kKeyId, {{"secret", kSecret}}}}},
                    {"instances", st["instances"]},
                    {"spotPrices",
                     {{"t3.medium",
                       {{{"zone", "us-east-1a"}, {"price", "0.0100"}},
                        {{"zone", "us-east-1c"}, {"price", "0.0150"}}}}}}});
  const RunResult spot = d2l("list --json");
  ASSERT_EQ(spot.code, 0) << spot.output;
  const json js = json::parse(spot.output.substr(spot.output.find('[')));
  EXPECT_EQ(js[0]["spot"], true);
  EXPECT_DOUBLE_EQ(js[0]["price_per_hour"].get<double>(), 0.015);
  const RunResult all = d2l("list --all");
  EXPECT_NE(all.output.find("i-0ccc"), std::string::npos) << all.output;
}

TEST_F(CloudCli, ListJsonHasTheFieldsAndTheCostSoFar) {
  const RunResult r = run(env_->env_prefix() + " " + bin("d2l") + " cloud list --json",
                          d2l::test::Capture::StdoutOnly);
  ASSERT_EQ(r.code, 0) << r.output;
  const json j = json::parse(r.output);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["id"], "i-0aaa");
  EXPECT_EQ(j[0]["name"], "train1");
  EXPECT_EQ(j[0]["type"], "t3.medium");
  EXPECT_EQ(j[0]["state"], "running");
  EXPECT_DOUBLE_EQ(j[0]["price_per_hour"].get<double>(), 0.0416);
  // Two hours (and the seconds the test took) at $0.0416.
  EXPECT_GE(j[0]["cost_so_far"].get<double>(), 2 * 0.0416);
  EXPECT_LT(j[0]["cost_so_far"].get<double>(), 2.1 * 0.0416);
}

TEST_F(CloudCli, StopAndStartByNameSayWhatTheyDo) {
  RunResult r = d2l("stop train1");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("Will stop i-0aaa (train1), t3.medium, running in us-east-1"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("i-0aaa: running -> stopping"), std::string::npos) << r.output;
  EXPECT_EQ(state_of("i-0aaa"), "stopping");
  r = d2l("start i-0aaa");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("stopped -> pending"), std::string::npos) << r.output;
}

TEST_F(CloudCli, TerminateAsksAndANoLeavesItRunning) {
  RunResult r = d2l("terminate train2", "n\n");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("Will terminate i-0bbb (train2)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[y/N]"), std::string::npos);
  EXPECT_NE(r.output.find("Not terminated"), std::string::npos);
  EXPECT_EQ(state_of("i-0bbb"), "running");
  EXPECT_EQ(fake_->stats()["attempts"].count("TerminateInstances"), 0u);
  r = d2l("terminate train2");  // end of input is a no
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(state_of("i-0bbb"), "running");
  r = d2l("terminate train2", "y\n");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("i-0bbb: running -> shutting-down"), std::string::npos) << r.output;
  reset();
  r = d2l("terminate i-0bbb --yes");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output.find("[y/N]"), std::string::npos);
  EXPECT_EQ(state_of("i-0bbb"), "shutting-down");
}

TEST_F(CloudCli, AnInstanceNotOursNeedsForce) {
  RunResult r = d2l("terminate someone-elses --yes");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("is not tagged d2l:managed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--force"), std::string::npos);
  EXPECT_EQ(state_of("i-0ccc"), "running");
  r = d2l("stop i-0ccc --force");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(state_of("i-0ccc"), "stopping");
}

TEST_F(CloudCli, StopAllListsThenStopsOnlyOursRunning) {
  RunResult r = d2l("stop-all", "no\n");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("Will stop 2 running d2l-managed instances"), std::string::npos)
      << r.output;
  EXPECT_EQ(state_of("i-0aaa"), "running");
  r = d2l("stop-all --yes");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(state_of("i-0aaa"), "stopping");
  EXPECT_EQ(state_of("i-0bbb"), "stopping");
  EXPECT_EQ(state_of("i-0ccc"), "running");
  r = d2l("stop-all --yes");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.output.find("No running d2l-managed instances"), std::string::npos) << r.output;
}

TEST_F(CloudCli, ThrottlingIsRetriedThenTheListComes) {
  reset({{{"action", "DescribeInstances"},
          {"code", "RequestLimitExceeded"},
          {"status", 503},
          {"times", 2}}});
  const RunResult r = d2l("list");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("i-0aaa"), std::string::npos);
  EXPECT_EQ(fake_->stats()["attempts"]["DescribeInstances"].get<int>(), 3);
}

TEST_F(CloudCli, AwsErrorsAreOneLineWithExitOne) {
  for (const char* code : {"UnauthorizedOperation", "RequestExpired"}) {
    reset({{{"action", "DescribeInstances"}, {"code", code}, {"status", 403}, {"times", 1}}});
    const RunResult r = d2l("list");
    EXPECT_EQ(r.code, 1) << r.output;
    EXPECT_EQ(r.output.rfind(std::string("d2l: aws ec2 DescribeInstances: ") + code, 0), 0u)
        << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  }
  // A wrong secret: the fake's check of the signature fails.
  env_->set("AWS_SECRET_ACCESS_KEY", "wrongSecretAlsoNeverPrinted");
  const RunResult r = d2l("list");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("AuthFailure"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("wrongSecret"), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

TEST_F(CloudCli, BadInputIsExitTwoBeforeAnyRequest) {
  RunResult r = d2l("list --region 'us east'");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("not a region name"), std::string::npos) << r.output;
  r = d2l("stop no-such-name");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("no instance 'no-such-name'"), std::string::npos) << r.output;
  EXPECT_EQ(fake_->stats()["attempts"].count("StopInstances"), 0u);
  r = d2l("frobnicate");
  EXPECT_EQ(r.code, 2) << r.output;
}

TEST_F(CloudCli, CredentialsFromAProfileCredentialProcess) {
  env_->unset("AWS_ACCESS_KEY_ID");
  env_->unset("AWS_SECRET_ACCESS_KEY");
  const std::string script = env_->home() / "proc.sh";
  std::ofstream(script) << "#!/bin/sh\nprintf '{\"Version\":1,\"AccessKeyId\":\"" << kKeyId
                        << "\",\"SecretAccessKey\":\"" << kSecret << "\"}'\n";
  ::chmod(script.c_str(), 0700);
  env_->write_aws("config",
                  "[profile lab]\nregion = us-east-1\ncredential_process = " + script + "\n");
  env_->unset("AWS_REGION");
  const RunResult r = d2l("list --profile lab");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("i-0aaa"), std::string::npos) << r.output;
}
