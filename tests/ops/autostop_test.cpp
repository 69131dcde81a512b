// Tests of d2l/ops/autostop.h without a Jupyter server: the pure decision, the persisted state
// (reboots, corrupt files), training processes and SSH sessions from the real /proc, and the
// warn/act sequence of the real `d2l autostop check` with harmless commands.
#include "d2l/ops/autostop.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"
#include "d2l/ops/budget.h"
#include "support/jupyter.h"

using namespace d2l::ops;
using namespace d2l::test;
using nlohmann::json;

namespace {

AutostopOptions two_hours() {
  AutostopOptions o;
  o.idle_s = 7200;
  o.grace_s = 300;
  return o;
}

double now_s() { return static_cast<double>(std::time(nullptr)); }

// Writes a state file saying the machine has been idle since `ago` seconds, this boot.
void seed_state(const std::string& path, double ago) {
  AutostopState s;
  s.boot_id = current_boot_id();
  s.last_active = now_s() - ago;
  save_state(path, s);
}

// Starts `argv` (via /bin/sh -c) as a child; returns its pid.
pid_t spawn(const std::string& cmd) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/bash", "bash", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

void kill_wait(pid_t pid) {
  ::kill(pid, SIGKILL);
  int st;
  ::waitpid(pid, &st, 0);
}

}  // namespace

TEST(AutostopDecide, FirstCheckAndRebootCountFromNow) {
  AutostopState s;
  auto d = decide({}, s, 1000, "boot-a", two_hours());
  EXPECT_EQ(d.verdict, AutostopVerdict::active);
  EXPECT_EQ(s.last_active, 1000);
  EXPECT_FALSE(d.notes.empty());
  s.last_active = 1;  // long ago, but another boot
  d = decide({}, s, 100000, "boot-b", two_hours());
  EXPECT_EQ(d.verdict, AutostopVerdict::active);
  EXPECT_EQ(s.boot_id, "boot-b");
  EXPECT_EQ(s.last_active, 100000);
}

TEST(AutostopDecide, BusySignalResetsAndActivityMovesForward) {
  AutostopState s{"b", 1000, 0, 0};
  const double now = 1000 + 3 * 3600;
  ActivitySignal busy{"kernel", "kernel x is busy", true, 0, 0};
  auto d = decide({busy}, s, now, "b", two_hours());
  EXPECT_EQ(d.verdict, AutostopVerdict::busy);
  EXPECT_FALSE(d.act_due);
  EXPECT_EQ(s.last_active, now);

  AutostopState s2{"b", 1000, 0, 0};
  ActivitySignal term{"terminal", "terminal 1", false, now - 600, 0};  // 10 min ago: in the window
  d = decide({term}, s2, now, "b", two_hours());
  EXPECT_EQ(d.verdict, AutostopVerdict::active);
  EXPECT_DOUBLE_EQ(s2.last_active, now - 600);
  EXPECT_FALSE(d.act_due);

  AutostopState s3{"b", 1000, 0, 0};
  ActivitySignal old{"terminal", "terminal 1", false, 500, 0};  // before last_active: ignored
  d = decide({old}, s3, now, "b", two_hours());
  EXPECT_EQ(d.verdict, AutostopVerdict::act);
  EXPECT_TRUE(d.act_due);
}

TEST(AutostopDecide, WarnsOnceThenActsOnce) {
  const double t0 = 10000;
  AutostopState s{"b", t0, 0, 0};
  auto o = two_hours();
  auto d = decide({}, s, t0 + 7200 - 200, "b", o);  // inside the 5 min grace
  EXPECT_EQ(d.verdict, AutostopVerdict::warn);
  EXPECT_TRUE(d.warn_due);
  s.warned_at = t0 + 7000;
  d = decide({}, s, t0 + 7200 - 100, "b", o);
  EXPECT_EQ(d.verdict, AutostopVerdict::warn);
  EXPECT_FALSE(d.warn_due);  // already warned for this idle stretch
  d = decide({}, s, t0 + 7201, "b", o);
  EXPECT_TRUE(d.act_due);
  s.acted_at = t0 + 7201;
  d = decide({}, s, t0 + 8000, "b", o);
  EXPECT_EQ(d.verdict, AutostopVerdict::acted);
  EXPECT_FALSE(d.act_due);
  o.dry_run = true;
  AutostopState s2{"b", t0, 0, 0};
  EXPECT_EQ(decide({}, s2, t0 + 9000, "b", o).verdict, AutostopVerdict::dry_run_act);
}

TEST(AutostopState, CorruptFileIsNamedAndKept) {
  TempDir t;
  const std::string p = (t.path() / "autostop.json").string();
  std::ofstream(p) << "{\"boot_id\": 12";
  try {
    load_state(p);
    FAIL();
  } catch (const d2l::Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find(p), std::string::npos);
  }
  std::string out;
  EXPECT_EQ(run_d2l(t.path(),
                    "autostop check --signals cpu --max-load 1e9 --action 'touch " +
                        (t.path() / "acted").string() + "'",
                    &out),
            2);
  EXPECT_NE(out.find("autostop.json"), std::string::npos) << out;
  EXPECT_EQ(d2l::read_file(p), "{\"boot_id\": 12");
  EXPECT_FALSE(std::filesystem::exists(t.path() / "acted"));
}

TEST(AutostopCli, WarnsWithTheCommandThenRunsTheActionOnce) {
  TempDir t;
  const std::string state = (t.path() / "autostop.json").string();
  const std::string warned = (t.path() / "warned.txt").string(),
                    acted = (t.path() / "acted").string();
  const std::string args =
      "autostop check --idle 2h --grace 10m --signals cpu --max-load 1e9 "
      "--warn-command 'cat > " +
      warned + "' --action 'touch " + acted + "' --json";
  seed_state(state, 2 * 3600 - 300);  // 5 min left: inside the grace
  std::string out;
  ASSERT_EQ(run_d2l(t.path(), args, &out), 0) << out;
  EXPECT_EQ(json::parse(out)["verdict"], "warn") << out;
  ASSERT_TRUE(std::filesystem::exists(warned));
  EXPECT_NE(d2l::read_file(warned).find("idle for"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(acted));

  seed_state(state, 3 * 3600);
  ASSERT_EQ(run_d2l(t.path(), args, &out), 0) << out;
  EXPECT_EQ(json::parse(out)["verdict"], "act") << out;
  EXPECT_TRUE(std::filesystem::exists(acted));
  std::filesystem::remove(acted);
  ASSERT_EQ(run_d2l(t.path(), args, &out), 0) << out;
  EXPECT_EQ(json::parse(out)["verdict"], "acted") << out;
  EXPECT_FALSE(std::filesystem::exists(acted));  // not again

  // every decision is in the log with its reasons
  const std::string log = d2l::read_file((t.path() / "autostop.log").string());
  EXPECT_NE(log.find("[warn]"), std::string::npos) << log;
  EXPECT_NE(log.find("[act]"), std::string::npos) << log;
  EXPECT_NE(log.find("cpu: CPU load"), std::string::npos) << log;
  EXPECT_NE(log.find("ran 'touch"), std::string::npos) << log;
}

TEST(AutostopCli, DryRunRunsNothing) {
  TempDir t;
  const std::string acted = (t.path() / "acted").string();
  seed_state((t.path() / "autostop.json").string(), 3 * 3600);
  std::string out;
  ASSERT_EQ(run_d2l(t.path(),
                    "autostop check --dry-run --signals cpu --max-load 1e9 --action 'touch " +
                        acted + "' --json",
                    &out),
            0)
      << out;
  EXPECT_EQ(json::parse(out)["verdict"], "dry-run-act");
  EXPECT_FALSE(std::filesystem::exists(acted));
  EXPECT_NE(d2l::read_file((t.path() / "autostop.log").string()).find("dry-run: would run"),
            std::string::npos);
}

TEST(AutostopCli, NeverStopsWhileATrainingRunIsAlive) {
  TempDir t;
  const std::string acted = (t.path() / "acted").string();
  // a real process whose command line is `d2l-torch - train` (python reading its program from
  // stdin), shaped as `d2l train` exec's `d2l-torch train ...`: d2l-torch, then options, then the
  // subcommand `train` (the rule of d2l::procfs::classify_process)
  const pid_t pid =
      spawn("exec -a d2l-torch /usr/bin/python3 - train <<< 'import time; time.sleep(60)'");
  ASSERT_TRUE(wait_for(
      [&] {
        for (const auto& s : training_processes())
          if (s.pid == pid) return true;
        return false;
      },
      10));
  seed_state((t.path() / "autostop.json").string(), 3 * 3600);
  std::string out;
  ASSERT_EQ(run_d2l(t.path(),
                    "autostop check --signals train --action 'touch " + acted + "' --json", &out),
            0)
      << out;
  const json j = json::parse(out);
  EXPECT_EQ(j["verdict"], "busy") << out;
  EXPECT_FALSE(std::filesystem::exists(acted));
  bool named = false;
  for (const auto& s : j["signals"]) named = named || (s["kind"] == "train" && s["pid"] == pid);
  EXPECT_TRUE(named) << out;
  ASSERT_EQ(run_d2l(t.path(), "autostop status --signals train", &out), 0);
  EXPECT_NE(out.find("training run pid " + std::to_string(pid)), std::string::npos) << out;
  kill_wait(pid);
  for (const auto& s : training_processes()) EXPECT_NE(s.pid, pid);
}

TEST(AutostopCli, NeverStopsWhileAnSshSessionIsActive) {
  TempDir t;
  const std::string acted = (t.path() / "acted").string();
  if (!ssh_sessions().empty()) GTEST_SKIP() << "this machine has real SSH sessions";
  // Stand-in for sshd (no SSH server here): a script named `sshd` (so its comm is sshd) that
  // opens a real pseudo-terminal and runs a shell's `sleep` on it, as sshd does for a login.
  const std::string sshd = (t.path() / "sshd").string();
  std::ofstream(sshd) << "#!/usr/bin/python3\nimport os, pty, time\npid, fd = pty.fork()\n"
                         "if pid == 0:\n    os.execvp('sleep', ['sleep', '60'])\n"
                         "time.sleep(60)\n";
  ::chmod(sshd.c_str(), 0755);
  const pid_t pid = spawn("exec '" + sshd + "'");
  ASSERT_TRUE(wait_for([&] { return !ssh_sessions().empty(); }, 10));
  const auto sessions = ssh_sessions();
  EXPECT_NE(sessions[0].detail.find("/dev/pts/"), std::string::npos) << sessions[0].detail;
  EXPECT_GT(sessions[0].last_active, now_s() - 600);

  seed_state((t.path() / "autostop.json").string(), 3 * 3600);
  std::string out;
  ASSERT_EQ(
      run_d2l(t.path(), "autostop check --signals ssh --action 'touch " + acted + "' --json", &out),
      0)
      << out;
  EXPECT_EQ(json::parse(out)["verdict"], "active") << out;
  EXPECT_FALSE(std::filesystem::exists(acted));
  for (const auto& x : ssh_sessions()) ::kill(x.pid, SIGKILL);  // the login's `sleep` on the pty
  kill_wait(pid);
  ASSERT_TRUE(wait_for([&] { return ssh_sessions().empty(); }, 10));
  // the control: the same check without the session acts
  seed_state((t.path() / "autostop.json").string(), 3 * 3600);
  ASSERT_EQ(
      run_d2l(t.path(), "autostop check --signals ssh --action 'touch " + acted + "' --json", &out),
      0)
      << out;
  EXPECT_EQ(json::parse(out)["verdict"], "act") << out;
  EXPECT_TRUE(std::filesystem::exists(acted));
}

TEST(AutostopCli, RejectsBadOptions) {
  TempDir t;
  std::string out;
  EXPECT_EQ(run_d2l(t.path(), "autostop check --idle 5m --grace 10m", &out), 2) << out;
  EXPECT_EQ(run_d2l(t.path(), "autostop check --signals cpu,nope", &out), 2) << out;
  EXPECT_EQ(run_d2l(t.path(), "autostop check --idle soon", &out), 2) << out;
}

TEST(Autostop, GpuUtilisationIsNaWithoutNvidia) {
  std::string why;
  const auto u = gpu_utilisation(&why);
  if (u.empty()) {
    EXPECT_FALSE(why.empty());
  } else {
    for (double x : u) EXPECT_LE(x, 100);
  }
}

TEST(AutostopCli, RecordsUpTimeInTheUsageLedger) {
  TempDir t;
  AutostopState s;
  s.boot_id = current_boot_id();
  s.last_active = now_s();
  s.last_check = now_s() - 2.5 * 3600;  // the last check ran 2.5 h ago, this boot
  save_state((t.path() / "autostop.json").string(), s);
  std::string out;
  ASSERT_EQ(
      run_d2l(t.path(), "autostop check --signals cpu --max-load 1e9 --instance-type g4dn.xlarge",
              &out),
      0)
      << out;
  const auto ledger = load_ledger((t.path() / "usage.json").string());
  ASSERT_EQ(ledger.size(), 1u) << out;
  EXPECT_EQ(ledger[0].instance_type, "g4dn.xlarge");
  EXPECT_DOUBLE_EQ(ledger[0].hours, 2);  // whole hours; the half hour is carried
  EXPECT_EQ(ledger[0].source, "autostop");
  const AutostopState after = load_state((t.path() / "autostop.json").string());
  EXPECT_NEAR(after.unlogged_s, 1800, 60);
  EXPECT_EQ(run_d2l(t.path(), "autostop check --instance-type no.such.type", &out), 2) << out;
}

TEST(AutostopCli, RunLoopsUntilTerminated) {
  TempDir t;
  const std::string acted = (t.path() / "acted").string();
  seed_state((t.path() / "autostop.json").string(), 3 * 3600);
  const pid_t pid = spawn("D2L_CONFIG_DIR='" + t.path().string() + "' exec " + D2L_BIN_DIR +
                          "/d2l autostop run --interval 1s --signals cpu --max-load 1e9 "
                          "--action 'touch " +
                          acted + "' > /dev/null");
  EXPECT_TRUE(wait_for([&] { return std::filesystem::exists(acted); }, 20));
  // it keeps checking (the log grows) and acts only once
  std::filesystem::remove(acted);
  const auto lines = [&] {
    const std::string log = d2l::read_file((t.path() / "autostop.log").string());
    return std::count(log.begin(), log.end(), '\n');
  };
  const auto before = lines();
  EXPECT_TRUE(wait_for([&] { return lines() > before; }, 10));
  EXPECT_FALSE(std::filesystem::exists(acted));
  ::kill(pid, SIGTERM);
  int st = 0;
  ASSERT_TRUE(wait_for([&] { return ::waitpid(pid, &st, WNOHANG) == pid; }, 10));
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
