// Our EC2 requests checked against AWS's own SDK: for each call `d2l cloud` made to the fake
// endpoint, the parameters must be exactly those @aws-sdk/client-ec2 sends for the same call
// (tests/cloud/fake_aws/sdk_body.js serialises it without sending).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "d2l/cloud/iam.h"
#include "d2l/cloud/launch.h"
#include "d2l/cloud/prices.h"
#include "fake_aws.h"

using namespace d2l::test;  // the fake AWS endpoint and its helpers (fake_aws.h)
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

class CloudSdkOracle : public FakeAwsTest {
 protected:
  void SetUp() override {
    FakeAwsTest::SetUp();
    if (IsSkipped()) return;
    if (!d2l::path_exists(dir_ + "/node_modules/@aws-sdk/client-ec2/package.json"))
      GTEST_SKIP() << "@aws-sdk/client-ec2 is missing (run `npm ci --prefix tests/cloud/fake_aws`)";
    use_fake_for();
    sign_in();
    set_state({{"parameters", {{d2l::cloud::kDefaultAmiParameter, "ami-0dlami"}}}});
  }
  RunResult d2l(const std::string& args) const { return run_d2l("cloud " + args); }
  // The body the SDK sends for `command` with `input`.
  std::string sdk_body(const std::string& command, const json& input,
                       const std::string& client = "ec2") const {
    const std::string file = env_->home() / "oracle.json";
    std::ofstream(file) << json{{"client", client}, {"command", command}, {"input", input}}.dump();
    const RunResult r =
        run("node '" + dir_ + "/sdk_body.js' @'" + file + "'", d2l::test::Capture::StdoutOnly);
    EXPECT_EQ(r.code, 0) << command;
    return r.output;
  }
  void expect_same(const std::string& ours, const std::string& command, const json& input,
                   const std::string& client = "ec2") const {
    const auto want = params(sdk_body(command, input, client));
    const auto got = params(ours);
    EXPECT_EQ(got, want) << command << ": d2l sent\n"
                         << joined(got) << "the SDK sends\n"
                         << joined(want);
  }
  std::string dir_ = std::string(D2L_SOURCE_DIR) + "/tests/cloud/fake_aws";
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
               {"MaxResults", 1000},
               {"StartTime", url_decode(spot.substr(at + 10, spot.find('&', at) - at - 10))}});
  expect_same(first["DeleteKeyPair"], "DeleteKeyPair", {{"KeyName", "d2l-us-east-1"}});
  expect_same(first["DeleteSecurityGroup"], "DeleteSecurityGroup", {{"GroupId", group}});
  for (const char* action : {"StopInstances", "StartInstances", "TerminateInstances"})
    expect_same(first[action], action, {{"InstanceIds", {id}}});
}

namespace {

// The value of `name` in a form body ("" when absent).
std::string param(const std::string& body, const std::string& name) {
  for (const auto& kv : params(body))
    if (kv.compare(0, name.size() + 1, name + "=") == 0) return kv.substr(name.size() + 1);
  return "";
}

}  // namespace

// IAM (Query protocol, like EC2): the SageMaker notebook role's whole life, each request against
// @aws-sdk/client-iam's for the same call. The strings we choose (the trust policy, the
// description) are handed to the SDK as we sent them: what is compared is how the call is
// spelled on the wire (parameter names, lists, the API version).
TEST_F(CloudSdkOracle, IamCallsMatchTheSdk) {
  if (!d2l::path_exists(dir_ + "/node_modules/@aws-sdk/client-iam/package.json"))
    GTEST_SKIP() << "@aws-sdk/client-iam is missing (run `npm ci --prefix tests/cloud/fake_aws`)";
  fake_->set_state({{"keys", {{kKeyId, {{"secret", kSecret}}}}}, {"iamRoles", json::object()}});
  d2l::cloud::AwsClient c(d2l::cloud::Credentials{kKeyId, kSecret, "", "environment", ""},
                          "eu-west-1");
  const std::string name = d2l::cloud::kNotebookRoleName;
  EXPECT_FALSE(d2l::cloud::get_role(c, name));
  d2l::cloud::create_notebook_role(c);
  d2l::cloud::delete_role(c, name);
  const json st = fake_->stats();
  EXPECT_EQ(st["rejected"], 0);  // every request signed for IAM's us-east-1 and verified
  const std::string policy =
      std::string("arn:aws:iam::aws:policy/") + d2l::cloud::kNotebookRolePolicy;
  std::set<std::string> seen;
  for (const auto& q : st["requests"]) {
    const std::string action = q["action"], body = q.value("body", "");
    if (!seen.insert(action).second) continue;
    json input = {{"RoleName", name}};
    if (action == "CreateRole") {
      input["AssumeRolePolicyDocument"] = param(body, "AssumeRolePolicyDocument");
      input["Description"] = param(body, "Description");
      input["Tags"] = json::array({{{"Key", "d2l:managed"}, {"Value", "1"}}});
    } else if (action == "AttachRolePolicy" || action == "DetachRolePolicy") {
      input["PolicyArn"] = policy;
    }
    expect_same(body, action, input, "iam");
  }
  EXPECT_EQ(seen,
            (std::set<std::string>{"GetRole", "CreateRole", "AttachRolePolicy",
                                   "ListAttachedRolePolicies", "DetachRolePolicy", "DeleteRole"}));
}

namespace {

// What the SDK of `client` (ssm, sagemaker, pricing) sends for `command` with `input`: its
// X-Amz-Target, Content-Type and body (parsed).
struct JsonCall {
  std::string target, content_type;
  json body;
};

}  // namespace

class CloudJsonSdkOracle : public CloudSdkOracle {
 protected:
  void SetUp() override {
    CloudSdkOracle::SetUp();
    if (IsSkipped()) return;
    for (const char* pkg : {"client-ssm", "client-sagemaker", "client-pricing"})
      if (!d2l::path_exists(dir_ + "/node_modules/@aws-sdk/" + pkg + "/package.json"))
        GTEST_SKIP() << "@aws-sdk/" << pkg
                     << " is missing (run `npm ci --prefix tests/cloud/fake_aws`)";
  }
  JsonCall sdk_call(const std::string& client, const std::string& command,
                    const json& input) const {
    const std::string file = env_->home() / "oracle.json";
    std::ofstream(file) << json{{"client", client}, {"command", command}, {"input", input}}.dump();
    const RunResult r =
        run("node '" + dir_ + "/sdk_body.js' @'" + file + "'", d2l::test::Capture::StdoutOnly);
    EXPECT_EQ(r.code, 0) << client << " " << command;
    const json j = json::parse(r.output);
    return {j["target"], j["contentType"], json::parse(j["body"].get<std::string>())};
  }
  // The first request of `action` the fake saw must be what the SDK sends for the same call.
  void expect_same_json(const json& stats, const std::string& action, const std::string& client,
                        const json& input) const {
    const JsonCall want = sdk_call(client, action, input);
    for (const auto& q : stats["requests"]) {
      if (q["action"] != action) continue;
      EXPECT_EQ(q.value("target", ""), want.target) << action;
      EXPECT_EQ(q.value("contentType", ""), want.content_type) << action;
      EXPECT_EQ(json::parse(q["body"].get<std::string>()), want.body)
          << action << ": d2l sent " << q["body"] << ", the SDK sends " << want.body.dump();
      return;
    }
    ADD_FAILURE() << "d2l sent no " << action;
  }
};

TEST_F(CloudJsonSdkOracle, SsmAndSageMakerCallsMatchTheSdks) {
  // SSM: the AMI's parameter, as `launch` reads it.
  ASSERT_EQ(d2l("launch g4dn.xlarge --ssh-from 203.0.113.7/32 --yes --no-wait").code, 0);
  // SageMaker: a notebook's whole life.
  const std::string script = env_->home() / "on-start.sh";
  std::ofstream(script) << "echo hi\n";
  const std::string role = "arn:aws:iam::123456789012:role/d2l-sagemaker";
  RunResult r =
      d2l("notebook create lab --role " + role + " --lifecycle " + script + " --volume 20 --yes");
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* step :
       {"notebook status lab", "notebook status", "notebook url lab", "notebook stop lab",
        "notebook start lab", "notebook stop lab", "notebook delete lab --yes"}) {
    r = d2l(step);
    ASSERT_EQ(r.code, 0) << step << "\n" << r.output;
  }
  const json st = fake_->stats();
  expect_same_json(st, "GetParameter", "ssm", {{"Name", d2l::cloud::kDefaultAmiParameter}});
  const json tags = json::array({{{"Key", "d2l:managed"}, {"Value", "1"}}});
  expect_same_json(st, "CreateNotebookInstanceLifecycleConfig", "sagemaker",
                   {{"NotebookInstanceLifecycleConfigName", "lab-on-start"},
                    {"OnStart", {{{"Content", "ZWNobyBoaQo="}}}}});  // base64 of the script
  expect_same_json(st, "CreateNotebookInstance", "sagemaker",
                   {{"NotebookInstanceName", "lab"},
                    {"InstanceType", "ml.t3.medium"},
                    {"RoleArn", role},
                    {"VolumeSizeInGB", 20},
                    {"LifecycleConfigName", "lab-on-start"},
                    {"Tags", tags}});
  for (const char* action : {"DescribeNotebookInstance", "StopNotebookInstance",
                             "StartNotebookInstance", "DeleteNotebookInstance"})
    expect_same_json(st, action, "sagemaker", {{"NotebookInstanceName", "lab"}});
  expect_same_json(st, "ListNotebookInstances", "sagemaker", json::object());
  expect_same_json(
      st, "CreatePresignedNotebookInstanceUrl", "sagemaker",
      {{"NotebookInstanceName", "lab"}, {"SessionExpirationDurationInSeconds", 43200}});
}

TEST_F(CloudJsonSdkOracle, PriceListCallsMatchTheSdk) {
  fake_->set_state({{"keys", {{kKeyId, {{"secret", kSecret}}}}},
                    {"products",
                     {{{"attributes",
                        {{"instanceType", "g5.xlarge"},
                         {"regionCode", "us-east-1"},
                         {"operatingSystem", "Linux"},
                         {"tenancy", "Shared"},
                         {"preInstalledSw", "NA"},
                         {"capacitystatus", "Used"}}},
                       {"price", "1.006"}}}},
                    {"pricePageSize", 1}});
  const RunResult r = run(env_->env_prefix() + " timeout 120 " + bin("d2l") +
                          " cost update --region us-east-1 < /dev/null");
  ASSERT_EQ(r.code, 0) << r.output;
  const json st = fake_->stats();
  json filters = json::array();
  for (const auto& [field, value] : d2l::cloud::on_demand_filters("g4dn.xlarge", "us-east-1"))
    filters.push_back({{"Type", "TERM_MATCH"}, {"Field", field}, {"Value", value}});
  // The first GetProducts is the first type's (g4dn.xlarge).
  expect_same_json(st, "GetProducts", "pricing",
                   {{"ServiceCode", "AmazonEC2"},
                    {"Filters", filters},
                    {"FormatVersion", "aws_v1"},
                    {"MaxResults", 100}});
}
