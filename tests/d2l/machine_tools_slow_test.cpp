// `d2l monitor` marks a real Jupyter kernel (python3 -m ipykernel_launcher, Debian's
// python3-ipykernel). Slow: it starts the kernel.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "support/fixtures.h"

using nlohmann::json;

namespace {

constexpr const char* kPython = "/usr/bin/python3";

}  // namespace

TEST(MonitorSlow, MarksARealJupyterKernel) {
  if (d2l::test::run("/usr/bin/python3 -c 'import ipykernel'").code != 0)
    GTEST_SKIP() << "python3-ipykernel is not installed";
  d2l::test::FixtureRoot fx;
  const std::string conn = fx.root() + "/kernel.json";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    ::execl(kPython, kPython, "-m", "ipykernel_launcher", "-f", conn.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  bool marked = false;
  std::string last;
  for (int i = 0; i < 20 && !marked; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    last = d2l::test::run(d2l::test::bin("d2l") + " monitor --once --json --no-nvml",
                          d2l::test::Capture::StdoutOnly)
               .output;
    const json j = json::parse(last);
    for (const auto& p : j["marked"])
      if (p["pid"] == pid) {
        EXPECT_EQ(p["tag"], "jupyter");
        marked = true;
      }
  }
  ::kill(pid, SIGTERM);
  int st = 0;
  ::waitpid(pid, &st, 0);
  EXPECT_TRUE(marked) << last;
}
