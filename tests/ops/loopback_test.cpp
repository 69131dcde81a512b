// Loopback means an address (d2l/ops/jupyter.h is_loopback_host): the rule that lets
// `d2l notebook start` listen without a password and TLS. Names are resolved (here: /etc/hosts;
// `.example` names never resolve anywhere, RFC 2606, so no test needs a network).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "d2l/core/atomic_file.h"
#include "d2l/ops/jupyter.h"
#include "support/fixtures.h"

using d2l::ops::is_loopback_address;
using d2l::ops::is_loopback_host;

namespace {

// Resolver stand-ins for names whose answers this machine cannot be made to give.
std::vector<std::string> resolves_to_loopback_and_lan(const std::string&) {
  return {"127.0.0.1", "192.168.1.10"};
}
std::vector<std::string> resolves_to_loopback_only(const std::string&) {
  return {"127.0.0.1", "::1"};
}
std::vector<std::string> resolves_to_nothing(const std::string&) { return {}; }

}  // namespace

TEST(Loopback, NumericAddresses) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.1.2.3"));
  EXPECT_TRUE(is_loopback_host("127.255.255.255"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_TRUE(is_loopback_host("0:0:0:0:0:0:0:1"));
  EXPECT_TRUE(is_loopback_host("::ffff:127.0.0.1"));  // IPv4-mapped
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));          // every address
  EXPECT_FALSE(is_loopback_host("::"));
  EXPECT_FALSE(is_loopback_host("192.168.1.10"));
  EXPECT_FALSE(is_loopback_host("10.0.0.5"));
  EXPECT_FALSE(is_loopback_host("128.0.0.1"));
  EXPECT_FALSE(is_loopback_host("::ffff:192.168.1.10"));
  EXPECT_FALSE(is_loopback_host("::2"));
  EXPECT_FALSE(is_loopback_host(""));  // Jupyter reads an empty ip as every address
}

TEST(Loopback, NamesAreResolvedNotRead) {
  EXPECT_TRUE(is_loopback_host("localhost"));  // /etc/hosts
  // Starts like 127.0.0.0/8 but is a name; .example never resolves (RFC 2606).
  EXPECT_FALSE(is_loopback_host("127.evil.example"));
  EXPECT_FALSE(is_loopback_host("127.0.0.1.evil.example"));
  EXPECT_FALSE(is_loopback_host("localhost.evil.example"));
  EXPECT_FALSE(is_loopback_host("127.0.0.1 "));  // not an address, not a name that resolves
}

TEST(Loopback, EveryAddressOfANameMustBeLoopback) {
  EXPECT_TRUE(is_loopback_host("both.test", resolves_to_loopback_only));
  EXPECT_FALSE(is_loopback_host("mixed.test", resolves_to_loopback_and_lan));
  EXPECT_FALSE(is_loopback_host("gone.test", resolves_to_nothing));
  // A numeric address is never handed to the resolver.
  EXPECT_FALSE(is_loopback_host("192.168.1.10", resolves_to_loopback_only));
}

TEST(Loopback, AddressesOnly) {
  EXPECT_TRUE(is_loopback_address("127.0.0.1"));
  EXPECT_TRUE(is_loopback_address("::1"));
  EXPECT_FALSE(is_loopback_address("localhost"));  // a name, not an address
  EXPECT_FALSE(is_loopback_address("127.1"));      // inet_pton wants a dotted quad
  EXPECT_FALSE(is_loopback_address("0.0.0.0"));
}

namespace {

struct StartResult {
  int code = -1;
  std::string err;
  bool jupyter_ran = false;
};

// Runs the real `d2l notebook start --ip IP` with a fake HOME and config folder (no password, no
// certificate) and a recording stand-in for jupyter-server that leaves a marker file and exits.
StartResult start_with_ip(const std::string& ip) {
  d2l::test::TempDir t;
  const std::string home = (t.path() / "home").string();
  const std::string marker = (t.path() / "jupyter-ran").string();
  const std::string standin = (t.path() / "jupyter-standin").string();
  std::filesystem::create_directories(home);
  {
    std::ofstream s(standin);
    s << "#!/bin/sh\ntouch '" << marker << "'\nexit 1\n";
  }
  std::filesystem::permissions(standin, std::filesystem::perms::owner_all);
  // stdout to /dev/null inside the parentheses: the output run() captures is stderr alone
  const d2l::test::RunResult run =
      d2l::test::run("(cd '" + home + "' && HOME='" + home + "' D2L_CONFIG_DIR='" + home +
                     "/.config/d2l' XDG_CONFIG_HOME='" + home + "/.config' D2L_JUPYTER='" +
                     standin + "' timeout 60 " + d2l::test::bin("d2l") + " notebook start --ip '" +
                     ip + "' --wait 5 < /dev/null > /dev/null)");
  StartResult r;
  r.code = run.code;
  r.err = run.output;
  r.jupyter_ran = std::filesystem::exists(marker);
  return r;
}

}  // namespace

TEST(Loopback, StartRefusesANameThatOnlyLooksLikeLoopback) {
  const StartResult r = start_with_ip("127.evil.example");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(d2l::test::count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("--ip '127.evil.example'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no password"), std::string::npos) << r.err;
  EXPECT_FALSE(r.jupyter_ran) << "nothing may be started";
}

TEST(Loopback, StartRefusesEveryAddressAndLan) {
  for (const std::string ip : {"0.0.0.0", "::", "192.168.1.10", ""}) {
    const StartResult r = start_with_ip(ip);
    EXPECT_EQ(r.code, 2) << ip << ": " << r.err;
    EXPECT_EQ(d2l::test::count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("--ip"), std::string::npos) << r.err;
    EXPECT_FALSE(r.jupyter_ran) << ip;
  }
}

TEST(Loopback, StartAcceptsLoopbackWithoutPassword) {
  // The rule lets these through: the stand-in jupyter-server runs (and fails: exit 1).
  for (const std::string ip : {"127.0.0.1", "localhost", "::1"}) {
    const StartResult r = start_with_ip(ip);
    EXPECT_EQ(r.code, 1) << ip << ": " << r.err;
    EXPECT_TRUE(r.jupyter_ran) << ip << ": " << r.err;
  }
}
