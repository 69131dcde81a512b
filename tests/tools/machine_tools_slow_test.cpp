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

#include "../sys/fixture.h"

using nlohmann::json;

namespace {

constexpr const char* kPython = "/usr/bin/python3";

std::string run_out(const std::string& cmd) {
  std::string out;
  std::FILE* p = ::popen((cmd + " 2>/dev/null").c_str(), "r");
  if (!p) return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

}  // namespace

TEST(MonitorSlow, MarksARealJupyterKernel) {
  if (std::system("/usr/bin/python3 -c 'import ipykernel' 2>/dev/null") != 0)
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
    last = run_out(D2L_BIN_DIR "/d2l monitor --once --json --no-nvml");
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
