// Our EC2 requests checked against AWS's own SDK: for each call `d2l cloud` made to the fake
// endpoint, the parameters must be exactly those @aws-sdk/client-ec2 sends for the same call
// (tests/cloud/fake_aws/sdk_body.js serialises it without sending).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "d2l/cloud/launch.h"
#include "fake_aws.h"

using d2l::test::AwsEnv;
using d2l::test::bin;
using d2l::test::FakeAws;
using d2l::test::kKeyId;
using d2l::test::kSecret;
using d2l::test::run;
using d2l::test::RunResult;
using nlohmann::json;

namespace {

std::string url_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// A form body as its sorted, decoded `name=value` pairs.
std::vector<std::string> params(const std::string& body) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= body.size()) {
    const auto amp = body.find('&', start);
    const std::string kv = body.substr(start, amp == std::string::npos ? amp : amp - start);
    const auto eq = kv.find('=');
    if (!kv.empty())
      out.push_back(url_decode(kv.substr(0, eq)) + "=" +
                    (eq == std::string::npos ? "" : url_decode(kv.substr(eq + 1))));
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += "  " + x + "\n";
  return s;
}

class CloudSdkOracle : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const auto why = FakeAws::skip_reason(); !why.empty()) GTEST_SKIP() << why;
    if (!d2l::path_exists(dir_ + "/node_modules/@aws-sdk/client-ec2/package.json"))
      GTEST_SKIP() << "@aws-sdk/client-ec2 is missing (run `npm ci --prefix tests/cloud/fake_aws`)";
    env_ = std::make_unique<AwsEnv>();
    fake_ = std::make_unique<FakeAws>();
    env_->set("AWS_ENDPOINT_URL", fake_->url());
    env_->set("AWS_REGION", "us-east-1");
    env_->set("AWS_ACCESS_KEY_ID", kKeyId);
    env_->set("AWS_SECRET_ACCESS_KEY", kSecret);
    fake_->set_state({{"keys", {{kKeyId, {{"secret", kSecret}}}}},
                      {"parameters", {{d2l::cloud::kDefaultAmiParameter, "ami-0dlami"}}}});
  }
  RunResult d2l(const std::string& args) const {
    return run(env_->env_prefix() + " timeout 60 " + bin("d2l") + " cloud " + args +
               " < /dev/null");
  }
  // The body the SDK sends for `command` with `input`.
  std::string sdk_body(const std::string& command, const json& input) const {
    const std::string file = env_->home() / "oracle.json";
    std::ofstream(file) << json{{"command", command}, {"input", input}}.dump();
    const RunResult r =
        run("node '" + dir_ + "/sdk_body.js' @'" + file + "'", d2l::test::Capture::StdoutOnly);
    EXPECT_EQ(r.code, 0) << command;
    return r.output;
  }
  void expect_same(const std::string& ours, const std::string& command, const json& input) const {
    const auto want = params(sdk_body(command, input));
    const auto got = params(ours);
    EXPECT_EQ(got, want) << command << ": d2l sent\n"
                         << joined(got) << "the SDK sends\n"
                         << joined(want);
  }
  std::string dir_ = std::string(D2L_SOURCE_DIR) + "/tests/cloud/fake_aws";
  std::unique_ptr<AwsEnv> env_;
  std::unique_ptr<FakeAws> fake_;
};

}  // namespace

TEST_F(CloudSdkOracle, EveryCallMatchesTheSdk) {
  RunResult r = d2l(
      "launch g4dn.xlarge --name exp1 --disk 100 --spot --autostop 2h --ssh-from 203.0.113.7/32 "
      "--yes");
  ASSERT_EQ(r.code, 0) << r.output;
  ASSERT_EQ(d2l("list").code, 0);
  ASSERT_EQ(d2l("stop exp1").code, 0);
  ASSERT_EQ(d2l("start exp1").code, 0);
  ASSERT_EQ(d2l("terminate exp1 --yes --cleanup").code, 0);
  const json st = fake_->stats();
  const std::string id = st["instances"][0]["id"];
  const std::string group = st["instances"][0]["securityGroups"][0];
  // The requests by action (the first of each, and DescribeInstances by its kind).
  std::map<std::string, std::string> first;
  std::string describe_filtered, describe_by_id, describe_all;
  for (const auto& q : st["requests"]) {
    const std::string action = q["action"], body = q.value("body", "");
    if (action == "DescribeInstances") {
      if (body.find("Filter.1.Name") != std::string::npos) {
        if (describe_filtered.empty()) describe_filtered = body;
      } else if (body.find("InstanceId.1") != std::string::npos) {
        if (describe_by_id.empty()) describe_by_id = body;
      } else if (describe_all.empty()) {
        describe_all = body;
      }
    } else if (!first.count(action)) {
      first[action] = body;
    }
  }
  const json managed_tags = json::array({{{"Key", "d2l:managed"}, {"Value", "1"}}});
  const json named_tags =
      json::array({{{"Key", "d2l:managed"}, {"Value", "1"}}, {{"Key", "Name"}, {"Value", "exp1"}}});
  expect_same(describe_filtered, "DescribeInstances",
              {{"Filters",
                {{{"Name", "tag-key"}, {"Values", {"d2l:managed"}}},
                 {{"Name", "instance-state-name"},
                  {"Values", {"pending", "running", "shutting-down", "stopping", "stopped"}}}}}});
  expect_same(describe_by_id, "DescribeInstances", {{"InstanceIds", {id}}});
  expect_same(describe_all, "DescribeInstances", json::object());
  expect_same(first["DescribeVolumes"], "DescribeVolumes",
              {{"Filters", {{{"Name", "attachment.instance-id"}, {"Values", {id}}}}}});
  expect_same(first["DescribeKeyPairs"], "DescribeKeyPairs", {{"KeyNames", {"d2l-us-east-1"}}});
  expect_same(first["CreateKeyPair"], "CreateKeyPair",
              {{"KeyName", "d2l-us-east-1"},
               {"KeyType", "ed25519"},
               {"TagSpecifications", {{{"ResourceType", "key-pair"}, {"Tags", managed_tags}}}}});
  expect_same(first["DescribeSecurityGroups"], "DescribeSecurityGroups",
              {{"Filters", {{{"Name", "group-name"}, {"Values", {"d2l-ssh"}}}}}});
  expect_same(
      first["CreateSecurityGroup"], "CreateSecurityGroup",
      {{"GroupName", "d2l-ssh"},
       {"Description", "d2l: SSH from one address only"},
       {"TagSpecifications", {{{"ResourceType", "security-group"}, {"Tags", managed_tags}}}}});
  expect_same(first["AuthorizeSecurityGroupIngress"], "AuthorizeSecurityGroupIngress",
              {{"GroupId", group},
               {"IpPermissions",
                {{{"IpProtocol", "tcp"},
                  {"FromPort", 22},
                  {"ToPort", 22},
                  {"IpRanges", {{{"CidrIp", "203.0.113.7/32"}, {"Description", "d2l: SSH"}}}}}}}});
  expect_same(first["DescribeImages"], "DescribeImages", {{"ImageIds", {"ami-0dlami"}}});
  const std::string token = st["instances"][0]["params"]["ClientToken"];
  expect_same(
      first["RunInstances"], "RunInstances",
      {{"ImageId", "ami-0dlami"},
       {"InstanceType", "g4dn.xlarge"},
       {"MinCount", 1},
       {"MaxCount", 1},
       {"KeyName", "d2l-us-east-1"},
       {"SecurityGroupIds", {group}},
       {"ClientToken", token},
       {"UserData", st["instances"][0]["params"]["UserData"]},
       {"InstanceInitiatedShutdownBehavior", "terminate"},
       {"TagSpecifications",
        {{{"ResourceType", "instance"}, {"Tags", named_tags}},
         {{"ResourceType", "volume"}, {"Tags", named_tags}}}},
       {"BlockDeviceMappings",
        {{{"DeviceName", "/dev/sda1"},
          {"Ebs", {{"VolumeSize", 100}, {"VolumeType", "gp3"}, {"DeleteOnTermination", true}}}}}},
       {"InstanceMarketOptions",
        {{"MarketType", "spot"},
         {"SpotOptions",
          {{"SpotInstanceType", "one-time"}, {"InstanceInterruptionBehavior", "terminate"}}}}}});
  const std::string spot = first["DescribeSpotPriceHistory"];
  const auto at = spot.find("StartTime=");
  ASSERT_NE(at, std::string::npos) << spot;
  expect_same(spot, "DescribeSpotPriceHistory",
              {{"InstanceTypes", {"g4dn.xlarge"}},
               {"ProductDescriptions", {"Linux/UNIX"}},
               {"StartTime", url_decode(spot.substr(at + 10, spot.find('&', at) - at - 10))}});
  expect_same(first["DeleteKeyPair"], "DeleteKeyPair", {{"KeyName", "d2l-us-east-1"}});
  expect_same(first["DeleteSecurityGroup"], "DeleteSecurityGroup", {{"GroupId", group}});
  for (const char* action : {"StopInstances", "StartInstances", "TerminateInstances"})
    expect_same(first[action], action, {{"InstanceIds", {id}}});
}
