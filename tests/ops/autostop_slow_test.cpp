// Slow tests of `d2l autostop check` against a real Jupyter server on 127.0.0.1: it never acts
// while a kernel is busy or a terminal was active within the window, and acts once they are gone.
// The action is a harmless `touch FILE`. Every server is killed by a guard.
#include <gtest/gtest.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "d2l/core/error.h"
#include "d2l/core/http.h"
#include "d2l/ops/autostop.h"
#include "d2l/ops/jupyter.h"
#include "support/jupyter.h"

using namespace d2l::ops;
using d2l::HttpClient;
using namespace d2l::test;
using nlohmann::json;

namespace {

void seed_idle_state(const TempDir& t, double ago) {
  AutostopState s;
  s.boot_id = current_boot_id();
  s.last_active = static_cast<double>(std::time(nullptr)) - ago;
  save_state((t.path() / "autostop.json").string(), s);
}

struct Server {
  TempDir& t;
  ServerInfo info;
  std::vector<std::string> auth;
  explicit Server(TempDir& dir) : t(dir) {
    std::string out;
    const int rc = run_d2l(t.path(),
                           "notebook start --wait 90 --root '" + t.path().string() + "' --port " +
                               std::to_string(free_port()),
                           &out);
    if (rc != 0) throw d2l::Error("start failed: " + out);
    info = list_servers({runtime()}).at(0);
    auth = {"Authorization: token " + info.token, "Content-Type: application/json"};
  }
  std::string runtime() const { return (t.path() / "jupyter/runtime").string(); }
  // `d2l autostop check` on this server's runtime folder only, Jupyter signals only.
  json check(const std::string& acted) {
    std::string out;
    const int rc = run_d2l(t.path(),
                           "autostop check --signals jupyter --runtime-dir '" + runtime() +
                               "' --idle 2h --grace 5m --action 'touch " + acted + "' --json",
                           &out);
    EXPECT_EQ(rc, 0) << out;
    return json::parse(out);
  }
};

}  // namespace

TEST(AutostopSlow, NeverStopsWhileAKernelIsBusy) {
  TempDir t;
  ServerGuard guard((t.path() / "jupyter/runtime").string());
  Server s(t);
  const std::string acted = (t.path() / "acted").string();
  HttpClient c;
  const auto r =
      c.request("POST", s.info.local_url() + "api/kernels", s.auth, R"({"name": "python3"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string kid = json::parse(r.body)["id"];
  const std::string conn = s.runtime() + "/kernel-" + kid + ".json";
  auto state = [&] {
    for (const auto& k : query_server(s.info, {}).kernels)
      if (k.id == kid) return k.execution_state;
    return std::string("missing");
  };
  ASSERT_TRUE(wait_for([&] { return std::filesystem::exists(conn); }, 30));
  ASSERT_TRUE(wait_for(
      [&] { return execute_on_kernel(t.path(), conn, "pass", "idle") && state() == "idle"; }, 60));
  ASSERT_TRUE(execute_on_kernel(t.path(), conn, "import time; time.sleep(120)", "busy"));
  ASSERT_TRUE(wait_for([&] { return state() == "busy"; }, 20));

  seed_idle_state(t, 3 * 3600);  // idle for 3 h as far as the state knows
  json d = s.check(acted);
  EXPECT_EQ(d["verdict"], "busy") << d.dump();
  EXPECT_NE(d["summary"].get<std::string>().find("is busy"), std::string::npos) << d.dump();
  EXPECT_FALSE(std::filesystem::exists(acted));

  // the control: with the kernel shut down and the state idle for 3 h again, it acts
  ASSERT_EQ(c.request("DELETE", s.info.local_url() + "api/kernels/" + kid, s.auth).status, 204);
  seed_idle_state(t, 3 * 3600);
  d = s.check(acted);
  EXPECT_EQ(d["verdict"], "act") << d.dump();
  EXPECT_TRUE(std::filesystem::exists(acted));
}

TEST(AutostopSlow, NeverStopsWhileATerminalWasActiveInTheWindow) {
  TempDir t;
  ServerGuard guard((t.path() / "jupyter/runtime").string());
  Server s(t);
  const std::string acted = (t.path() / "acted").string();
  HttpClient c;
  const auto r = c.request("POST", s.info.local_url() + "api/terminals", s.auth, "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string name = json::parse(r.body)["name"];
  seed_idle_state(t, 3 * 3600);
  json d = s.check(acted);
  EXPECT_EQ(d["verdict"], "active") << d.dump();
  bool seen = false;
  for (const auto& x : d["signals"]) seen = seen || x["kind"] == "terminal";
  EXPECT_TRUE(seen) << d.dump();
  EXPECT_FALSE(std::filesystem::exists(acted));

  ASSERT_EQ(c.request("DELETE", s.info.local_url() + "api/terminals/" + name, s.auth).status, 204);
  seed_idle_state(t, 3 * 3600);
  d = s.check(acted);
  EXPECT_EQ(d["verdict"], "act") << d.dump();
  EXPECT_TRUE(std::filesystem::exists(acted));
}

TEST(AutostopSlow, AnUnansweringServerCountsAsBusy) {
  TempDir t;
  ServerGuard guard((t.path() / "jupyter/runtime").string());
  Server s(t);
  const std::string acted = (t.path() / "acted").string();
  ::kill(s.info.pid, SIGSTOP);  // alive but silent
  seed_idle_state(t, 3 * 3600);
  std::string out;
  const int rc = run_d2l(t.path(),
                         "autostop check --signals jupyter --runtime-dir '" + s.runtime() +
                             "' --action 'touch " + acted + "' --json",
                         &out);
  ::kill(s.info.pid, SIGCONT);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(json::parse(out)["verdict"], "busy") << out;
  EXPECT_FALSE(std::filesystem::exists(acted));
}
