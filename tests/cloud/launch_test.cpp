// d2l/cloud/launch.h and `d2l cloud launch`, against the fake endpoint: the AMI from SSM, the key
// pair saved 0600, the security group with one SSH rule, tags, spot, the question, and a retried
// RunInstances that must not make a second instance.
#include "d2l/cloud/launch.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "fake_aws.h"

using namespace d2l::cloud;
using namespace d2l::test;  // the fake AWS endpoint and its helpers (fake_aws.h)
using nlohmann::json;

TEST(CloudLaunch, CidrAndTokenShapes) {
  for (const char* good : {"203.0.113.7/32", "10.0.0.0/8", "0.0.0.0/0"})
    EXPECT_NO_THROW(check_cidr(good)) << good;
  for (const char* bad :
       {"", "203.0.113.7", "203.0.113.7/33", "300.1.1.1/32", "a.b.c.d/32", "1.2.3.4/32; rm"}) {
    try {
      check_cidr(bad);
      FAIL() << bad;
    } catch (const d2l::Error& e) {
      EXPECT_EQ(e.exit_code(), 2);
    }
  }
  const std::string t = new_client_token();
  EXPECT_EQ(t.size(), 32u);
  EXPECT_NE(t, new_client_token());
}

namespace {

class CloudLaunchCli : public FakeAwsTest {
 protected:
  void SetUp() override {
    FakeAwsTest::SetUp();
    if (IsSkipped()) return;
    use_fake_for();
    sign_in();
    reset();
  }
  void reset(json extra = json::object()) const {
    json s = {{"parameters", {{kDefaultAmiParameter, "ami-0dlami"}}}};
    s.update(extra);
    set_state(s);
  }
  RunResult d2l(const std::string& args, const std::string& input = "") const {
    return run_d2l("cloud " + args, input);
  }
  std::string key_file(const std::string& name = "d2l-us-east-1") const {
    return env_->home() / (".ssh/" + name + ".pem");
  }
};

}  // namespace

TEST_F(CloudLaunchCli, LaunchesWithKeyGroupTagsAndWaits) {
  reset({{"spotPrices",
          {{"g4dn.xlarge",
            {{{"zone", "us-east-1b"}, {"price", "0.2104"}},
             {{"zone", "us-east-1a"}, {"price", "0.1578"}},
             {{"zone", "us-east-1b"}, {"price", "0.3000"}}}}}}});  // older: ignored
  const RunResult r =
      d2l("launch g4dn.xlarge --name exp1 --disk 100 --spot --ssh-from 203.0.113.7/32 --yes");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("Will launch a spot g4dn.xlarge in us-east-1 ($0.5260/hour on demand)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("image ami-0dlami (/aws/service/deeplearning/"), std::string::npos);
  EXPECT_NE(r.output.find("two minutes"), std::string::npos);
  EXPECT_NE(r.output.find("spot price now: $0.1578/hour in us-east-1a (up to $0.2104 in "
                          "us-east-1b)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("--resume"), std::string::npos);
  const json st = fake_->stats();
  // The key pair, saved 0600.
  ASSERT_TRUE(st["keyPairs"].contains("d2l-us-east-1")) << st.dump();
  EXPECT_EQ(st["keyPairs"]["d2l-us-east-1"]["tags"]["d2l:managed"], "1");
  struct stat sb {};
  ASSERT_EQ(::stat(key_file().c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
  std::ifstream in(key_file());
  const std::string pem((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(pem.find("fake-key-material-for-d2l-us-east-1"), std::string::npos);
  EXPECT_EQ(r.output.find("fake-key-material"), std::string::npos);  // the key is not printed
  // One security group, one rule: SSH from the one CIDR.
  ASSERT_EQ(st["securityGroups"].size(), 1u);
  EXPECT_EQ(st["securityGroups"][0]["name"], "d2l-ssh");
  EXPECT_EQ(st["securityGroups"][0]["tags"]["d2l:managed"], "1");
  EXPECT_EQ(st["securityGroups"][0]["rules"].dump(),
            R"([{"cidr":"203.0.113.7/32","from":22,"protocol":"tcp","to":22}])");
  // The instance: tags, volume tags, disk, spot, a ClientToken.
  ASSERT_EQ(st["launches"].size(), 1u);
  const json& i = st["instances"][0];
  EXPECT_EQ(i["tags"]["d2l:managed"], "1");
  EXPECT_EQ(i["tags"]["Name"], "exp1");
  EXPECT_EQ(i["volumeTags"]["d2l:managed"], "1");
  EXPECT_TRUE(i["spot"].get<bool>());
  EXPECT_EQ(i["params"]["BlockDeviceMapping.1.DeviceName"], "/dev/sda1");
  EXPECT_EQ(i["params"]["BlockDeviceMapping.1.Ebs.VolumeSize"], "100");
  EXPECT_EQ(i["params"]["ClientToken"].get<std::string>().size(), 32u);
  EXPECT_EQ(i["params"]["SecurityGroupId.1"], st["securityGroups"][0]["id"]);
  // It waited until running and printed how to get in.
  const std::string ip = i["publicIp"];
  EXPECT_NE(r.output.find("is running at " + ip), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ssh -i " + key_file() + " ubuntu@" + ip), std::string::npos);
  EXPECT_NE(r.output.find("d2l notebook tunnel " + ip + " --user ubuntu --key " + key_file()),
            std::string::npos);
  // A second launch reuses the key pair and the group, and adds no rule.
  const RunResult again = d2l("launch t3.medium --ssh-from 203.0.113.7/32 --yes --no-wait");
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_EQ(again.output.find("Created key pair"), std::string::npos);
  const json st2 = fake_->stats();
  EXPECT_EQ(st2["securityGroups"].size(), 1u);
  EXPECT_EQ(st2["securityGroups"][0]["rules"].size(), 1u);
  EXPECT_EQ(st2["launches"].size(), 2u);
  EXPECT_EQ(st2["attempts"].count("CreateKeyPair"), 1u);
  EXPECT_EQ(st2["attempts"]["CreateKeyPair"].get<int>(), 1);
}

TEST_F(CloudLaunchCli, ANoAtTheQuestionCreatesNothing) {
  const RunResult r = d2l("launch g4dn.xlarge --ssh-from 203.0.113.7/32", "n\n");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("Launch it? [y/N]"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Nothing launched"), std::string::npos);
  const json st = fake_->stats();
  EXPECT_TRUE(st["keyPairs"].empty());
  EXPECT_TRUE(st["securityGroups"].empty());
  EXPECT_TRUE(st["launches"].empty());
  EXPECT_FALSE(d2l::path_exists(key_file()));
}

TEST_F(CloudLaunchCli, ARetriedRunInstancesMakesNoSecondInstance) {
  // The first RunInstances takes effect but its reply is lost (500): the retry carries the same
  // ClientToken, and EC2 (the fake) answers with the same instance.
  reset({{"faults",
          {{{"action", "RunInstances"},
            {"code", "InternalError"},
            {"status", 500},
            {"times", 1},
            {"after", true}}}}});
  const RunResult r = d2l("launch g4dn.xlarge --ssh-from 203.0.113.7/32 --yes");
  ASSERT_EQ(r.code, 0) << r.output;
  const json st = fake_->stats();
  EXPECT_EQ(st["attempts"]["RunInstances"].get<int>(), 2);
  EXPECT_EQ(st["launches"].size(), 1u) << st.dump();
}

TEST_F(CloudLaunchCli, BadInputStopsBeforeAnyChange) {
  RunResult r = d2l("launch g4dn.xlarge --ssh-from 0.0.0.0 --yes");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("--ssh-from: '0.0.0.0' is not an IPv4 CIDR"), std::string::npos);
  r = d2l("launch g4dn.xlarge --disk 3 --ssh-from 203.0.113.7/32 --yes");
  EXPECT_EQ(r.code, 2) << r.output;
  r = d2l("launch x9.enormous --ssh-from 203.0.113.7/32 --yes");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("'x9.enormous' is not an instance type in us-east-1"), std::string::npos)
      << r.output;
  // A type the catalogue lacks but EC2 knows is fine.
  r = d2l("launch g6.xlarge --ssh-from 203.0.113.7/32 --yes --no-wait");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("price not in the catalogue"), std::string::npos) << r.output;
  const json st = fake_->stats();
  EXPECT_EQ(st["launches"].size(), 1u);
}

TEST_F(CloudLaunchCli, AKeyPairWhoseFileIsElsewhereIsOneLine) {
  reset({{"keyPairs", {{"d2l-us-east-1", {{"type", "ed25519"}}}}}});
  const RunResult r = d2l("launch g4dn.xlarge --ssh-from 203.0.113.7/32 --yes");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("key pair 'd2l-us-east-1' exists in us-east-1 but its private key"),
            std::string::npos)
      << r.output;
  EXPECT_TRUE(fake_->stats()["launches"].empty());
}

TEST_F(CloudLaunchCli, CapacityAndQuotaErrorsSayWhatToDo) {
  reset({{"faults",
          {{{"action", "RunInstances"},
            {"code", "InsufficientInstanceCapacity"},
            {"status", 500},
            {"times", 1}},
           {{"action", "RunInstances"},
            {"code", "VcpuLimitExceeded"},
            {"status", 400},
            {"times", 1}}}}});
  RunResult r = d2l("launch g4dn.xlarge --ssh-from 203.0.113.7/32 --yes");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("d2l: aws ec2 RunInstances: InsufficientInstanceCapacity"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("another availability zone or instance type"), std::string::npos);
  r = d2l("launch g4dn.xlarge --ssh-from 203.0.113.7/32 --yes");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("VcpuLimitExceeded"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Service Quotas"), std::string::npos);
  EXPECT_EQ(fake_->stats()["attempts"]["RunInstances"].get<int>(), 2);  // neither retried
}

TEST_F(CloudLaunchCli, TheLastTerminateOffersToDeleteOurKeyAndGroup) {
  ASSERT_EQ(d2l("launch t3.medium --name a --ssh-from 203.0.113.7/32 --yes").code, 0);
  ASSERT_EQ(d2l("launch t3.medium --name b --ssh-from 203.0.113.7/32 --yes").code, 0);
  // b still uses them: no offer.
  RunResult r = d2l("terminate a --yes");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output.find("Nothing else uses"), std::string::npos) << r.output;
  // The last one: the offer, and a yes deletes the key pair, its file and the group.
  r = d2l("terminate b", "y\ny\n");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("Nothing else uses our key pair d2l-us-east-1 (and " + key_file() +
                          "), security group sg-"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("Deleted key pair"), std::string::npos) << r.output;
  const json st = fake_->stats();
  EXPECT_TRUE(st["keyPairs"].empty()) << st.dump();
  EXPECT_TRUE(st["securityGroups"].empty()) << st.dump();
  EXPECT_FALSE(d2l::path_exists(key_file()));
  EXPECT_GE(st["attempts"]["DeleteSecurityGroup"].get<int>(), 1);
}

TEST_F(CloudLaunchCli, TerminateWithYesKeepsThemAndSaysHow) {
  ASSERT_EQ(d2l("launch t3.medium --name a --ssh-from 203.0.113.7/32 --yes").code, 0);
  const RunResult r = d2l("terminate a --yes");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("Kept them (--cleanup deletes them"), std::string::npos) << r.output;
  const json st = fake_->stats();
  EXPECT_EQ(st["keyPairs"].size(), 1u);
  EXPECT_EQ(st["securityGroups"].size(), 1u);
  EXPECT_TRUE(d2l::path_exists(key_file()));
  EXPECT_EQ(st["attempts"].count("DeleteKeyPair"), 0u);
}

TEST_F(CloudLaunchCli, SshAndPullUseTheInstanceKey) {
  ASSERT_EQ(d2l("launch t3.medium --name lab --ssh-from 203.0.113.7/32 --yes").code, 0);
  const std::string ip = fake_->stats()["instances"][0]["publicIp"];
  RunResult r = d2l("ssh lab --print");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output,
            "ssh -i " + key_file() + " -o StrictHostKeyChecking=accept-new ubuntu@" + ip + "\n");
  // pull runs scp: a stand-in that records its arguments (a test double: no remote machine
  // exists here).
  const std::string standin = env_->home() / "bin";
  std::filesystem::create_directories(standin);
  std::ofstream(standin + "/scp") << "#!/bin/sh\necho \"$@\" > '" << (env_->home() / "scp.args")
                                  << "'\nexit 0\n";
  ::chmod((standin + "/scp").c_str(), 0700);
  r = run(env_->env_prefix() + " PATH='" + standin + ":" + std::getenv("PATH") + "' " + bin("d2l") +
          " cloud pull lab runs/exp1 ./back --user admin < /dev/null");
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream in(env_->home() / "scp.args");
  std::string args;
  std::getline(in, args);
  EXPECT_EQ(args, "-r -i " + key_file() + " -o StrictHostKeyChecking=accept-new admin@" + ip +
                      ":runs/exp1 ./back");
  r = d2l("pull lab -oProxyCommand=evil");
  EXPECT_EQ(r.code, 2) << r.output;
  ASSERT_EQ(d2l("stop lab").code, 0);
  r = d2l("ssh lab --print");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("not running"), std::string::npos) << r.output;
}
