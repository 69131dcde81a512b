// Fast tests of d2l/ops/jupyter.h's pure parts (no server): time parsing, loopback, tunnels,
// certificates, config files that are corrupt.
#include "d2l/ops/jupyter.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"
#include "support/jupyter.h"

using namespace d2l::ops;

TEST(Notebook, ParsesJupyterTimes) {
  EXPECT_DOUBLE_EQ(parse_iso8601("1970-01-01T00:01:00.500000Z"), 60.5);
  EXPECT_DOUBLE_EQ(parse_iso8601("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_DOUBLE_EQ(parse_iso8601("garbage"), 0);
}

TEST(Notebook, LocalUrls) {  // the loopback rule itself: loopback_test.cpp
  ServerInfo s;
  s.hostname = "0.0.0.0";
  s.port = 9000;
  s.secure = true;
  EXPECT_EQ(s.local_url(), "https://127.0.0.1:9000/");
}

TEST(Notebook, TunnelCommands) {
  EXPECT_EQ(tunnel_command("1.2.3.4", "ubuntu", "~/k.pem", 8888, 8888),
            "ssh -N -L 8888:127.0.0.1:8888 -i '~/k.pem' ubuntu@1.2.3.4");
  EXPECT_EQ(tunnel_command_powershell("h", "", "C:\\k.pem", 9000, 8888),
            "ssh.exe -N -L 9000:127.0.0.1:8888 -i \"C:\\k.pem\" h");
}

TEST(Notebook, CertificateAndKeyModesAndNames) {
  d2l::test::TempDir t;
  const std::string key = (t.path() / "k.pem").string(), cert = (t.path() / "c.pem").string();
  make_self_signed_cert(key, cert, {"myhost", "127.0.0.1"}, 3);
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // OpenSSL's own command reads it back
  const d2l::test::RunResult x509 = d2l::test::run("openssl x509 -in '" + cert + "' -noout -text",
                                                   d2l::test::Capture::StdoutOnly);
  ASSERT_EQ(x509.code, 0) << x509.output;
  const std::string& text = x509.output;
  EXPECT_NE(text.find("DNS:myhost"), std::string::npos) << text;
  EXPECT_NE(text.find("IP Address:127.0.0.1"), std::string::npos) << text;
  EXPECT_THROW(make_self_signed_cert(key, cert, {}, 3), d2l::Error);
}

TEST(Notebook, CorruptConfigIsNamedAndKept) {
  d2l::test::TempDir t;
  const NotebookPaths p = NotebookPaths::under((t.path() / "jupyter").string());
  std::filesystem::create_directories(p.dir);
  std::ofstream(p.config_file) << "{\"ServerApp\": ";
  try {
    set_password(p, "pw");
    FAIL();
  } catch (const d2l::Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find(p.config_file), std::string::npos);
  }
  EXPECT_THROW(setup_cert(p), d2l::Error);
  EXPECT_EQ(d2l::read_file(p.config_file), "{\"ServerApp\": ");
  EXPECT_FALSE(std::filesystem::exists(p.key_file));
}

TEST(Notebook, PasswordKeepsOtherSettings) {
  d2l::test::TempDir t;
  const NotebookPaths p = NotebookPaths::under((t.path() / "jupyter").string());
  std::filesystem::create_directories(p.dir);
  std::ofstream(p.config_file) << R"({"ServerApp": {"iopub_data_rate_limit": 5}})";
  set_password(p, "pw");
  const std::string text = d2l::read_file(p.config_file);
  EXPECT_NE(text.find("iopub_data_rate_limit"), std::string::npos);
  EXPECT_TRUE(read_security(p).has_password);
  EXPECT_FALSE(read_security(p).has_tls);
  EXPECT_THROW(hash_password(""), d2l::Error);
}
