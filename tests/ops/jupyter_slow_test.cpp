// Slow tests of `d2l notebook` against a real Jupyter server (Debian's jupyter-server 1.23) on
// 127.0.0.1: our argon2 hash accepted at the real login form, HTTPS verified against our own
// certificate, status with a real kernel made busy, stop. Every server is killed by a guard.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "d2l/core/error.h"
#include "d2l/core/http.h"
#include "d2l/core/process.h"
#include "d2l/ops/jupyter.h"
#include "support/jupyter.h"

using namespace d2l::ops;
using d2l::HttpClient;
using d2l::HttpOptions;
using d2l::process_alive;
using d2l::url_encode;
using namespace d2l::test;
using nlohmann::json;

namespace {

constexpr const char* kPassword = "correct horse battery staple";

// Starts a server through the real `d2l notebook start` and returns its runtime info.
ServerInfo start_via_cli(const TempDir& t, int port, const std::string& extra = "") {
  std::string out;
  const int rc = run_d2l(t.path(),
                         "notebook start --port " + std::to_string(port) + " --root '" +
                             t.path().string() + "' --wait 90 " + extra,
                         &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out.find("token="), out.find("token=<hidden"));  // the token is not printed
  const auto servers = list_servers({(t.path() / "jupyter/runtime").string()});
  if (servers.size() != 1)
    throw d2l::Error("expected one server, found " + std::to_string(servers.size()) + ": " + out);
  return servers[0];
}

}  // namespace

TEST(NotebookSlow, RealJupyterAcceptsOurPasswordHashAtItsLoginForm) {
  TempDir t;
  ServerGuard guard((t.path() / "jupyter/runtime").string());
  std::string out;
  ASSERT_EQ(run_d2l(t.path(), "notebook password", &out, std::string(kPassword) + "\n"), 0) << out;
  struct stat st {};
  ASSERT_EQ(::stat((t.path() / "jupyter/jupyter_server_config.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(out.find(kPassword), std::string::npos);

  const int port = free_port();
  const ServerInfo s = start_via_cli(t, port);
  EXPECT_TRUE(s.password);
  EXPECT_EQ(s.hostname, "127.0.0.1");
  const std::string log = d2l::read_file((t.path() / "jupyter/server.log").string());
  if (::geteuid() == 0) EXPECT_NE(log.find("--allow-root"), std::string::npos) << log;
  EXPECT_EQ(log.find(s.token), std::string::npos) << "token leaked into the log";

  auto login = [&](const std::string& password) {
    HttpClient c;
    const auto page = c.request("GET", s.local_url() + "login");
    EXPECT_EQ(page.status, 200);
    const std::string xsrf = c.cookie("_xsrf");
    EXPECT_FALSE(xsrf.empty());
    const auto r = c.request("POST", s.local_url() + "login",
                             {"Content-Type: application/x-www-form-urlencoded"},
                             "_xsrf=" + url_encode(xsrf) + "&password=" + url_encode(password));
    const auto api = c.request("GET", s.local_url() + "api/status");  // cookie only, no token
    return std::make_pair(r.status, api.status);
  };
  const auto good = login(kPassword);
  EXPECT_EQ(good.first, 302);   // redirected into the server
  EXPECT_EQ(good.second, 200);  // and the session cookie opens the API
  const auto bad = login("wrong password");
  EXPECT_EQ(bad.first, 401);
  EXPECT_EQ(bad.second, 403);

  // stop: API shutdown with the token; the process is gone, the runtime file too
  ASSERT_EQ(run_d2l(t.path(), "notebook stop --json", &out), 0) << out;
  EXPECT_NE(out.find("\"stopped_by\": \"api\""), std::string::npos) << out;
  EXPECT_FALSE(process_alive(s.pid));
  EXPECT_TRUE(list_servers({(t.path() / "jupyter/runtime").string()}).empty());
}

TEST(NotebookSlow, HashMatchesJupytersOwnPasswdCheck) {
  const std::string h = hash_password(kPassword);
  ASSERT_EQ(h.rfind("argon2:$argon2id$v=19$m=10240,t=10,p=8$", 0), 0u) << h;
  EXPECT_TRUE(check_password(h, kPassword));
  EXPECT_FALSE(check_password(h, "nope"));
  TempDir t;
  const std::string script = (t.path() / "check.py").string();
  std::ofstream(script)
      << "import sys\nfrom jupyter_server.auth.security import passwd_check, passwd\n"
         "print(passwd_check(sys.argv[1], sys.argv[2]), passwd_check(sys.argv[1], 'nope'))\n"
         "print(passwd(sys.argv[2]))\n";
  const RunResult py = run("/usr/bin/python3 '" + script + "' '" + h + "' '" + kPassword + "'");
  ASSERT_EQ(py.code, 0) << py.output;
  std::istringstream in(py.output);
  std::string verdicts, theirs;
  std::getline(in, verdicts);
  std::getline(in, theirs);
  EXPECT_EQ(verdicts, "True False");
  // and theirs is accepted by us: the same format both ways
  EXPECT_TRUE(check_password(theirs, kPassword)) << theirs;
  EXPECT_EQ(theirs.substr(0, 39), h.substr(0, 39));
  EXPECT_EQ(theirs.size(), h.size());  // same salt and hash lengths
}

TEST(NotebookSlow, HttpsVerifiedAgainstOurCertificate) {
  TempDir t;
  ServerGuard guard((t.path() / "jupyter/runtime").string());
  std::string out;
  ASSERT_EQ(run_d2l(t.path(), "notebook cert --days 2", &out), 0) << out;
  struct stat st {};
  ASSERT_EQ(::stat((t.path() / "jupyter/key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const ServerInfo s = start_via_cli(t, free_port());
  ASSERT_TRUE(s.secure);
  ASSERT_EQ(s.local_url().rfind("https://127.0.0.1:", 0), 0u);

  HttpOptions ours;
  ours.ca_file = (t.path() / "jupyter/cert.pem").string();
  HttpClient c(ours);
  EXPECT_EQ(
      c.request("GET", s.local_url() + "api/status", {"Authorization: token " + s.token}).status,
      200);
  // without our certificate as the trust anchor, verification must fail
  HttpOptions system_cas;
  HttpClient strict(system_cas);
  EXPECT_THROW(strict.request("GET", s.local_url() + "api/status"), d2l::Error);
  // a certificate for another name does not verify for 127.0.0.1 either
  make_self_signed_cert((t.path() / "other.key").string(), (t.path() / "other.pem").string(),
                        {"example.invalid"}, 1);
  HttpOptions other;
  other.ca_file = (t.path() / "other.pem").string();
  HttpClient wrong(other);
  EXPECT_THROW(wrong.request("GET", s.local_url() + "api/status"), d2l::Error);

  ASSERT_EQ(run_d2l(t.path(), "notebook status --json", &out), 0) << out;
  const json j = json::parse(out);
  ASSERT_EQ(j["servers"].size(), 1u);
  EXPECT_TRUE(j["servers"][0]["reachable"].get<bool>()) << out;
  EXPECT_TRUE(j["servers"][0]["secure"].get<bool>());
  EXPECT_FALSE(j["servers"][0].contains("token"));
}

TEST(NotebookSlow, RefusesNetworkAddressWithoutPasswordAndTls) {
  TempDir t;
  std::string out;
  EXPECT_EQ(
      run_d2l(t.path(), "notebook start --ip 0.0.0.0 --port " + std::to_string(free_port()), &out),
      2);
  EXPECT_NE(out.find("no password"), std::string::npos) << out;
  EXPECT_NE(out.find("no TLS"), std::string::npos) << out;
  ASSERT_EQ(run_d2l(t.path(), "notebook password", &out, "pw\n"), 0) << out;
  EXPECT_EQ(
      run_d2l(t.path(), "notebook start --ip 0.0.0.0 --port " + std::to_string(free_port()), &out),
      2);
  EXPECT_EQ(out.find("no password"), std::string::npos) << out;
  EXPECT_NE(out.find("no TLS"), std::string::npos) << out;
  EXPECT_TRUE(list_servers({(t.path() / "jupyter/runtime").string()}).empty());
}

TEST(NotebookSlow, StatusShowsARealKernelBusy) {
  TempDir t;
  ServerGuard guard((t.path() / "jupyter/runtime").string());
  const ServerInfo s = start_via_cli(t, free_port());
  HttpClient c;
  const std::vector<std::string> auth = {"Authorization: token " + s.token,
                                         "Content-Type: application/json"};
  const auto created = c.request(
      "POST", s.local_url() + "api/sessions", auth,
      R"({"path": "busy.ipynb", "type": "notebook", "name": "busy.ipynb", "kernel": {"name": "python3"}})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string kid = json::parse(created.body)["kernel"]["id"];
  auto state = [&] {
    for (const auto& k : query_server(s, {}).kernels)
      if (k.id == kid) return k.execution_state;
    return std::string("missing");
  };
  // The server reports "starting" until the kernel's first status message on iopub: our client's
  // execute below produces it. Wait for the kernel's connection file.
  EXPECT_NE(state(), "missing");
  const std::string conn = (t.path() / "jupyter/runtime").string() + "/kernel-" + kid + ".json";
  ASSERT_TRUE(wait_for([&] { return std::filesystem::exists(conn); }, 30)) << conn;
  // Execute code on the kernel's shell channel and wait for its status `want` (support/jupyter.h).
  auto execute = [&](const std::string& code, const std::string& want) {
    return execute_on_kernel(t.path().string(), conn, code, want);
  };
  // The server subscribes to the kernel's iopub while the kernel starts; messages published
  // before the subscription lands are lost (ZeroMQ's slow joiner), so run trivial code until the
  // server has seen a status (bounded).
  ASSERT_TRUE(wait_for([&] { return execute("pass", "idle") && state() == "idle"; }, 60))
      << state();
  // now make it busy for a minute
  ASSERT_TRUE(execute("import time; time.sleep(60)", "busy"));
  ASSERT_TRUE(wait_for([&] { return state() == "busy"; }, 20)) << state();

  std::string out;
  ASSERT_EQ(run_d2l(t.path(), "notebook status --json", &out), 0) << out;
  const json j = json::parse(out);
  const auto& k = j["servers"][0]["kernels"][0];
  EXPECT_EQ(k["id"], kid);
  EXPECT_EQ(k["execution_state"], "busy");
  EXPECT_EQ(j["servers"][0]["sessions"][0]["path"], "busy.ipynb");
  ASSERT_EQ(run_d2l(t.path(), "notebook status", &out), 0);
  EXPECT_NE(out.find("busy"), std::string::npos) << out;

  ASSERT_EQ(run_d2l(t.path(), "notebook stop --wait 15", &out), 0) << out;
  EXPECT_FALSE(process_alive(s.pid));
}
