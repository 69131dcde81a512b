// d2l/cloud/self_stop.h: the idle check is run here with bash, with stand-ins (test doubles)
// for the instance's tools (nvidia-smi, ss, pgrep, logger) and a fake /proc/loadavg; and
// `d2l cloud launch --autostop` sends it as user data with the shutdown behaviour.
#include "d2l/cloud/self_stop.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "d2l/cloud/aws.h"
#include "d2l/cloud/launch.h"
#include "fake_aws.h"

using namespace d2l::cloud;
using namespace d2l::test;  // the fake AWS endpoint and its helpers (fake_aws.h)
using nlohmann::json;

TEST(CloudSelfStop, UserDataFitsAndBoundsAreChecked) {
  const std::string ud = self_stop_user_data(7200);
  EXPECT_LT(base64(ud).size(), 16384u);
  EXPECT_NE(ud.find("IDLE_S=7200"), std::string::npos);
  EXPECT_NE(ud.find("systemctl enable --now d2l-autostop.timer"), std::string::npos);
  EXPECT_NE(ud.find("OnUnitActiveSec=5min"), std::string::npos);
  for (double bad : {0.0, 300.0, 31 * 86400.0}) {
    try {
      self_stop_user_data(bad);
      FAIL() << bad;
    } catch (const d2l::Error& e) {
      EXPECT_EQ(e.exit_code(), 2);
    }
  }
}

namespace {

// The idle check with stand-ins for the instance's tools.
class IdleCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "bin");
    std::filesystem::create_directories(dir_ / "proc");
    std::ofstream(dir_ / "check.sh") << idle_check_script(7200);
    tool("nvidia-smi", "cat '" + (dir_ / "gpu") + "'");
    tool("ss", "cat '" + (dir_ / "ssh") + "'");
    tool("pgrep", "exit $(cat '" + (dir_ / "pgrep") + "')");
    tool("logger", "echo \"$@\" >> '" + (dir_ / "syslog") + "'");
    set("gpu", "0\n0\n");
    set("ssh", "");
    set("pgrep", "1");
    set("proc/loadavg", "0.00 0.01 0.05 1/100 1234\n");
  }
  void tool(const std::string& name, const std::string& body) {
    const std::string path = dir_ / ("bin/" + name);
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    ::chmod(path.c_str(), 0700);
  }
  void set(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  // Runs the check once; true when it shut the machine down.
  bool check() {
    std::filesystem::remove(dir_ / "shutdown");
    const RunResult r =
        run("env -i PATH='" + (dir_ / "bin") + ":/usr/bin:/bin' D2L_AUTOSTOP_STATE='" +
            (dir_ / "state") + "' D2L_PROC='" + (dir_ / "proc") + "' D2L_SHUTDOWN='touch " +
            (dir_ / "shutdown") + "' bash '" + (dir_ / "check.sh") + "'");
    EXPECT_EQ(r.code, 0) << r.output;
    return d2l::path_exists(dir_ / "shutdown");
  }
  bool idle_since_set() const { return d2l::path_exists(dir_ / "state/idle-since"); }
  void idle_for(long seconds) {
    set("state/idle-since", std::to_string(std::time(nullptr) - seconds) + "\n");
  }
  TempDir dir_;
};

}  // namespace

TEST_F(IdleCheck, ShutsDownOnlyAfterTheIdleTime) {
  EXPECT_FALSE(check());  // idle starts now
  EXPECT_TRUE(idle_since_set());
  idle_for(7000);
  EXPECT_FALSE(check());
  idle_for(7300);
  EXPECT_TRUE(check());
  EXPECT_FALSE(idle_since_set());
  std::ifstream log(dir_ / "syslog");
  const std::string logged((std::istreambuf_iterator<char>(log)), {});
  EXPECT_NE(logged.find("-t d2l-autostop idle since"), std::string::npos) << logged;
}

TEST_F(IdleCheck, EachBusySignalResetsTheIdleTime) {
  struct Case {
    const char* file;
    const char* busy;
    const char* idle;
  };
  for (const Case& c :
       {Case{"gpu", "0\n37\n", "0\n0\n"}, Case{"ssh", "0 0 10.0.0.5:22 203.0.113.7:51234\n", ""},
        Case{"pgrep", "0", "1"},
        Case{"proc/loadavg", "99.0 50.0 20.0 9/100 1234\n", "0.00 0.01 0.05 1/100 1234\n"}}) {
    idle_for(7300);
    set(c.file, c.busy);
    EXPECT_FALSE(check()) << c.file;
    EXPECT_FALSE(idle_since_set()) << c.file;
    set(c.file, c.idle);
  }
  EXPECT_FALSE(check());
  EXPECT_TRUE(idle_since_set());
}

namespace {
class CloudAutostopCli : public FakeAwsTest {
 protected:
  void SetUp() override {
    FakeAwsTest::SetUp();
    if (IsSkipped()) return;
    use_fake_for();
    sign_in();
    set_state({{"parameters", {{kDefaultAmiParameter, "ami-0dlami"}}}});
  }
  RunResult d2l(const std::string& args) const { return run_d2l("cloud " + args); }
};
}  // namespace

TEST_F(CloudAutostopCli, LaunchSendsTheIdleCheckAndTheShutdownBehaviour) {
  RunResult r = d2l("launch t3.medium --autostop 2h --ssh-from 203.0.113.7/32 --yes --no-wait");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("self-stop: shuts down after 2h00m idle"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("which stops it"), std::string::npos) << r.output;
  json st = fake_->stats();
  EXPECT_EQ(st["instances"][0]["params"]["InstanceInitiatedShutdownBehavior"], "stop");
  EXPECT_EQ(st["instances"][0]["params"]["UserData"], base64(self_stop_user_data(7200)));
  r = d2l("launch t3.medium --spot --autostop 90m --ssh-from 203.0.113.7/32 --yes --no-wait");
  ASSERT_EQ(r.code, 0) << r.output;
  st = fake_->stats();
  EXPECT_EQ(st["instances"][1]["params"]["InstanceInitiatedShutdownBehavior"], "terminate");
  r = d2l("launch t3.medium --ssh-from 203.0.113.7/32 --yes --no-wait");
  ASSERT_EQ(r.code, 0) << r.output;
  st = fake_->stats();
  EXPECT_FALSE(st["instances"][2]["params"].contains("UserData"));
  EXPECT_FALSE(st["instances"][2]["params"].contains("InstanceInitiatedShutdownBehavior"));
  for (const char* bad : {"--autostop 5m", "--autostop soon", "--autostop-terminate"}) {
    r = d2l(std::string("launch t3.medium ") + bad + " --ssh-from 203.0.113.7/32 --yes");
    EXPECT_EQ(r.code, 2) << bad << "\n" << r.output;
  }
  EXPECT_EQ(fake_->stats()["launches"].size(), 3u);
}
