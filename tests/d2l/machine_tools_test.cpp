// `d2l doctor` and `d2l monitor` run as real processes: exit codes, JSON, CSV.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "support/fixtures.h"

using nlohmann::json;

namespace {

// Runs a shell command line with D2L_BIN_DIR/d2l as `$D2L`; stdout only (stderr to /dev/null).
d2l::test::RunResult run(const std::string& cmd) {
  return d2l::test::run("D2L=" D2L_BIN_DIR "/d2l; " + cmd, d2l::test::Capture::StdoutOnly);
}

std::size_t count_lines(const std::string& path) {
  std::ifstream in(path);
  std::string l;
  std::size_t n = 0;
  while (std::getline(in, l)) ++n;
  return n;
}

const json* probe(const json& report, const std::string& id) {
  for (const auto& p : report["probes"])
    if (p["id"] == id) return &p;
  return nullptr;
}

}  // namespace

TEST(Doctor, JsonAndExitCodeAgree) {
  auto r = run("$D2L doctor --json --no-torch");
  ASSERT_TRUE(r.code == 0 || r.code == 1) << r.code;
  const json j = json::parse(r.output);
  EXPECT_EQ(j["schema"], "d2l.doctor/1");
  EXPECT_EQ(r.code == 0, j["ok"].get<bool>());
  bool any_fail = false;
  for (const auto& p : j["probes"]) any_fail |= p["status"] == "FAIL";
  EXPECT_EQ(any_fail, r.code == 1);
  ASSERT_TRUE(probe(j, "torch.version"));
  EXPECT_EQ((*probe(j, "torch.version"))["status"], "n/a");
  EXPECT_EQ((*probe(j, "torch.version"))["hint"], "torch-missing");
}

TEST(Doctor, NvmlMismatchFailsWithExitOne) {
  auto r = run("D2L_NVML_LIBRARY=" D2L_NVML_STANDIN
               " D2L_NVML_STANDIN_MODE=mismatch $D2L doctor --json --no-torch");
  EXPECT_EQ(r.code, 1);
  const json j = json::parse(r.output);
  const json* d = probe(j, "nvidia.driver");
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)["status"], "FAIL");
  EXPECT_EQ((*d)["hint"], "nvml-mismatch");
  EXPECT_TRUE(j["hints"].contains("nvml-mismatch"));
}

TEST(Doctor, StandInGpusAreListed) {
  auto r = run("D2L_NVML_LIBRARY=" D2L_NVML_STANDIN " $D2L doctor --no-torch");
  EXPECT_NE(r.output.find("Stand-in GPU A"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("999.0.0-standin"), std::string::npos);
}

TEST(Doctor, FailingTorchHelperFailsOnlyItsProbe) {
  auto r = run("D2L_TORCH_EXE=/bin/false $D2L doctor --json");
  EXPECT_EQ(r.code, 1);
  const json j = json::parse(r.output);
  EXPECT_EQ((*probe(j, "torch.version"))["status"], "FAIL");
  EXPECT_TRUE(probe(j, "cpu"));
  EXPECT_TRUE(probe(j, "data.fashion-mnist"));
}

TEST(Doctor, SaveAndCompare) {
  d2l::test::FixtureRoot fx;
  const std::string saved = fx.root() + "/env.json";
  auto r = run("$D2L doctor --no-torch --save " + saved + " > /dev/null; echo $?");
  ASSERT_TRUE(std::filesystem::exists(saved));
  std::ifstream in(saved);
  const json j = json::parse(in);
  EXPECT_EQ(j["schema"], "d2l.doctor/1");
  r = run("$D2L doctor --no-torch --compare " + saved);
  EXPECT_NE(r.output.find("compared with " + saved), std::string::npos);
  EXPECT_EQ(run("$D2L doctor --compare " + fx.root() + "/missing.json").code, 2);
  fx.write("/bad.json", "{\"schema\": \"other\"}");
  EXPECT_EQ(run("$D2L doctor --compare " + fx.root() + "/bad.json").code, 2);
}

TEST(Doctor, BadUsageIsTwo) {
  EXPECT_EQ(run("$D2L doctor --no-such-flag").code, 2);
  EXPECT_EQ(run("$D2L doctor --timeout 0").code, 2);
  EXPECT_EQ(run("$D2L doctor --hints").code, 0);
}

TEST(Monitor, OnceJson) {
  auto r = run("$D2L monitor --once --json");
  ASSERT_EQ(r.code, 0);
  const json j = json::parse(r.output);
  EXPECT_EQ(j["schema"], "d2l.monitor/1");
  EXPECT_TRUE(j["memory"]["total_bytes"].get<double>() > 0);
  EXPECT_FALSE(j["top_memory"].empty());
}

TEST(Monitor, StandInGpuProcessIsTheMonitor) {
  auto r = run("D2L_NVML_LIBRARY=" D2L_NVML_STANDIN " $D2L monitor --once --json");
  ASSERT_EQ(r.code, 0);
  const json j = json::parse(r.output);
  ASSERT_EQ(j["gpus"].size(), 2u);
  ASSERT_EQ(j["gpu_processes"].size(), 1u);
  EXPECT_EQ(j["gpu_processes"][0]["name"], "d2l");
}

TEST(Monitor, CsvAppendsRowsWithOneHeader) {
  d2l::test::FixtureRoot fx;
  const std::string csv = fx.root() + "/m.csv";
  ASSERT_EQ(run("$D2L monitor --csv " + csv + " --count 3 --interval 0 > /dev/null").code, 0);
  EXPECT_EQ(count_lines(csv), 4u);
  ASSERT_EQ(run("$D2L monitor --csv " + csv + " --count 2 --interval 0 > /dev/null").code, 0);
  EXPECT_EQ(count_lines(csv), 6u) << "no second header";
}

TEST(Monitor, FixtureRoot) {
  d2l::test::FixtureRoot fx;
  fx.write("/proc/meminfo", "MemTotal: 2048 kB\nMemAvailable: 1024 kB\n");
  auto r = run("$D2L monitor --once --json --no-nvml --root " + fx.root());
  ASSERT_EQ(r.code, 0);
  const json j = json::parse(r.output);
  EXPECT_EQ(j["memory"]["total_bytes"], 2048 * 1024);
  EXPECT_TRUE(j["load"].is_null());
  EXPECT_EQ(j["nvml"]["status"], "not queried");
}

TEST(Monitor, BadUsageIsTwo) {
  EXPECT_EQ(run("$D2L monitor --interval -1 --once").code, 2);
  EXPECT_EQ(run("$D2L monitor --csv /nonexistent-dir/x.csv --once").code, 2);
}

// d2l autostop reads GPU utilisation through the same NVML binding (the stand-in's GPU 0 runs
// at 42 %, above the 5 % busy threshold; GPU 1 at 0 %).
TEST(Autostop, GpuSignalUsesTheNvmlBinding) {
  d2l::test::TempDir cfg;
  auto r = run("D2L_CONFIG_DIR=" + cfg.str() +
               " D2L_NVML_LIBRARY=" D2L_NVML_STANDIN " $D2L autostop status --signals gpu");
  EXPECT_NE(r.output.find("GPU 0 at 42%"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("busy"), std::string::npos) << r.output;
  r = run("D2L_CONFIG_DIR=" + cfg.str() +
          " D2L_NVML_LIBRARY=/nonexistent/libnvidia-ml.so.1"
          " $D2L autostop status --signals gpu");
  EXPECT_EQ(r.output.find("GPU 0 at"), std::string::npos) << r.output;
}
