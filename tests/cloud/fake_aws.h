#pragma once
// The cloud tests' fake AWS endpoint (tests/cloud/fake_aws/server.js, a test double: no request
// may reach AWS from the tests) started on a free 127.0.0.1 port, and a guard that gives each
// test a clean AWS environment and a fake HOME.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "d2l/core/http.h"
#include "d2l/core/paths.h"
#include "d2l/core/process.h"
#include "support/fixtures.h"

namespace d2l::test {

/// The variables every cloud test clears first (and restores after).
inline const std::vector<std::string>& aws_variables() {
  static const std::vector<std::string> names = {
      "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
      "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
      "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL_SSM",
      "AWS_ENDPOINT_URL_SAGEMAKER", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
      "AWS_EC2_METADATA_DISABLED", "AWS_MAX_ATTEMPTS", "HOME",
      // The fake is on 127.0.0.1: no proxy between.
      "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"};
  return names;
}

/// Clears the AWS variables, points HOME at a fresh folder (with ~/.aws/) and puts everything
/// back at the end. The instance metadata service is disabled unless a test sets it up.
class AwsEnv {
 public:
  AwsEnv() {
    for (const auto& n : aws_variables()) {
      const char* v = std::getenv(n.c_str());
      saved_.emplace_back(n, v ? std::optional<std::string>(v) : std::nullopt);
      ::unsetenv(n.c_str());
    }
    std::filesystem::create_directories(home_.path() / ".aws");
    set("HOME", home_.str());
    set("AWS_EC2_METADATA_DISABLED", "true");
  }
  ~AwsEnv() {
    for (const auto& [n, v] : saved_) {
      if (v)
        ::setenv(n.c_str(), v->c_str(), 1);
      else
        ::unsetenv(n.c_str());
    }
  }
  AwsEnv(const AwsEnv&) = delete;
  AwsEnv& operator=(const AwsEnv&) = delete;
  /// Sets a variable (also remembered for env_prefix()).
  void set(const std::string& name, const std::string& value) {
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  /// Unsets a variable.
  void unset(const std::string& name) { ::unsetenv(name.c_str()); }
  /// The fake HOME.
  const TempDir& home() const { return home_; }
  /// Writes `~/.aws/NAME`.
  void write_aws(const std::string& name, const std::string& text) const {
    std::ofstream(home_ / (".aws/" + name)) << text;
  }
  /// `env -i PATH=... VAR=value ...` with the AWS variables and HOME now set: the prefix of a
  /// command line that runs a program with exactly this environment.
  std::string env_prefix() const {
    std::string s = "env -i PATH='" + std::string(std::getenv("PATH") ? std::getenv("PATH") : "") +
                    "' D2L_CONFIG_DIR='" + home_.str() + "/.config/d2l'";
    for (const auto& n : aws_variables())
      if (const char* v = std::getenv(n.c_str())) s += " " + n + "='" + v + "'";
    return s;
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
  TempDir home_;
};

/// The fake AWS endpoint, one node process per test.
class FakeAws {
 public:
  /// Why the fake cannot run here ("" when it can): node or its npm packages are missing.
  static std::string skip_reason() {
    if (!have_program("node")) return "node is not installed (apt-get install nodejs)";
    const std::string mods = std::string(D2L_SOURCE_DIR) + "/tests/cloud/fake_aws/node_modules";
    if (!path_exists(mods + "/@smithy/signature-v4/package.json") ||
        !path_exists(mods + "/@aws-crypto/sha256-js/package.json"))
      return "the fake AWS endpoint's npm packages are missing (run `npm ci --prefix "
             "tests/cloud/fake_aws`)";
    return "";
  }

  FakeAws() {
    const std::string node = run("command -v node", Capture::StdoutOnly).output;
    const std::string port_file = dir_ / "port";
    log_fd_ = ::open((dir_ / "fake.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    DetachedOptions o;
    o.output_fd = log_fd_;
    pid_ =
        spawn_detached({node.substr(0, node.find('\n')),
                        std::string(D2L_SOURCE_DIR) + "/tests/cloud/fake_aws/server.js", port_file},
                       o);
    if (!wait_for([&] { return path_exists(port_file); }, 20))
      throw std::runtime_error("the fake AWS endpoint did not start: " + log());
    std::ifstream in(port_file);
    std::string port;
    in >> port;
    url_ = "http://127.0.0.1:" + port;
  }
  ~FakeAws() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      wait_gone(pid_, 5);
    }
    if (log_fd_ >= 0) ::close(log_fd_);
  }
  FakeAws(const FakeAws&) = delete;
  FakeAws& operator=(const FakeAws&) = delete;

  /// `http://127.0.0.1:PORT`.
  const std::string& url() const { return url_; }
  /// Replaces the fake's state (keys, instances, parameters, imds, faults, pageSize).
  void set_state(const nlohmann::json& state) const {
    HttpClient http;
    http.post_json(url_ + "/_fake/state", state.dump());
  }
  /// {attempts: {Action: n}, rejected: n, requests: [...], instances: [...]}.
  nlohmann::json stats() const {
    HttpClient http;
    return nlohmann::json::parse(http.get_json(url_ + "/_fake/stats").body);
  }
  /// What the fake wrote (its errors).
  std::string log() const {
    std::ifstream in(dir_ / "fake.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  TempDir dir_;
  int log_fd_ = -1;
  pid_t pid_ = -1;
  std::string url_;
};

/// The access key and secret the tests sign with (the secret must never be printed).
inline constexpr const char* kKeyId = "AKIDFAKE0000EXAMPLE";
inline constexpr const char* kSecret = "fakeSecretKey/ThatMustNeverBePrinted+0123";

/// An ISO 8601 UTC time `seconds_ago` before now, as EC2 writes it.
inline std::string aws_time_ago(long seconds_ago) {
  const std::time_t t = std::time(nullptr) - seconds_ago;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

/// The fixture the cloud tests share: it skips, with the reason, where the fake cannot run, and
/// gives each test a clean AWS environment (`env_`) and its own fake endpoint (`fake_`). A
/// derived SetUp calls `FakeAwsTest::SetUp()` first and returns when `IsSkipped()`; then it says
/// which endpoint variables lead to the fake (`use_fake_for`), whether the test keys are in the
/// environment (`sign_in`), and what the fake holds (`set_state`).
class FakeAwsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const auto why = FakeAws::skip_reason(); !why.empty()) GTEST_SKIP() << why;
    env_ = std::make_unique<AwsEnv>();
    fake_ = std::make_unique<FakeAws>();
  }
  /// Points these endpoint variables at the fake (by default every service, through
  /// AWS_ENDPOINT_URL).
  void use_fake_for(std::initializer_list<const char*> variables = {"AWS_ENDPOINT_URL"}) const {
    for (const char* v : variables) env_->set(v, fake_->url());
  }
  /// Puts the test keys in the environment, and `region` unless it is empty.
  void sign_in(const std::string& region = "us-east-1") const {
    if (!region.empty()) env_->set("AWS_REGION", region);
    env_->set("AWS_ACCESS_KEY_ID", kKeyId);
    env_->set("AWS_SECRET_ACCESS_KEY", kSecret);
  }
  /// Replaces the fake's state with one that knows the test keys, plus `extra`'s members.
  void set_state(const nlohmann::json& extra = nlohmann::json::object()) const {
    nlohmann::json s = {{"keys", {{kKeyId, {{"secret", kSecret}}}}}};
    if (extra.is_object()) s.update(extra);
    fake_->set_state(s);
  }
  /// How many times the fake was asked for `action` (retries included).
  int calls(const std::string& action) const {
    const nlohmann::json st = fake_->stats();
    return st["attempts"].contains(action) ? st["attempts"][action].get<int>() : 0;
  }
  /// Runs `d2l ARGS` with exactly this test's environment, `input` on its standard input, under
  /// a timeout, and checks that the secret key is nowhere in what it printed.
  RunResult run_d2l(const std::string& args, const std::string& input = "",
                    Capture what = Capture::StdoutAndStderr, int timeout_s = 60) const {
    const std::string in_file = env_->home() / "stdin.txt";
    std::ofstream(in_file) << input;
    RunResult r = run(env_->env_prefix() + " timeout " + std::to_string(timeout_s) + " " +
                          bin("d2l") + " " + args + " < '" + in_file + "'",
                      what);
    EXPECT_EQ(r.output.find(kSecret), std::string::npos) << "the secret was printed:\n" << r.output;
    return r;
  }

  std::unique_ptr<AwsEnv> env_;
  std::unique_ptr<FakeAws> fake_;
};

}  // namespace d2l::test
