// The LibTorch half of the machine tools, run as real processes: `d2l-torch doctor-torch --json`
// (read by d2l doctor) and `d2l-torch bench matmul`.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "d2l/sys/environment.h"
#include "support/fixtures.h"

using nlohmann::json;

namespace {

d2l::test::RunResult run(const std::string& args) {
  return d2l::test::run(D2L_BIN_DIR "/d2l-torch " + args, d2l::test::Capture::StdoutOnly);
}

}  // namespace

TEST(DoctorTorch, JsonIsReadByDoctor) {
  auto r = run("doctor-torch --json");
  ASSERT_EQ(r.code, 0);
  const json j = json::parse(r.output);
  EXPECT_EQ(j["schema"], "d2l.doctor-torch/1");
  EXPECT_FALSE(j["torch_version"].get<std::string>().empty());
  EXPECT_GE(j["threads"].get<int>(), 1);
  ASSERT_FALSE(j["matmul"].empty());
  EXPECT_EQ(j["matmul"][0]["device"], "cpu");
  EXPECT_TRUE(j["matmul"][0]["ok"].get<bool>()) << j["matmul"][0].dump();
  EXPECT_FALSE(j["blas"]["sgemm_provider"].get<std::string>().empty());
  auto probes = d2l::sys::probes_from_torch_json(r.output, d2l::sys::read_cpu_features("/"));
  bool compute_cpu = false;
  for (const auto& p : probes)
    if (p.id == "compute.cpu") compute_cpu = p.status == d2l::sys::ProbeStatus::Pass;
  EXPECT_TRUE(compute_cpu);
}

TEST(BenchMatmul, JsonResults) {
  auto r = run("bench matmul --size 64 --repeats 3 --warmup 1 --json");
  ASSERT_EQ(r.code, 0);
  const json j = json::parse(r.output);
  EXPECT_EQ(j["schema"], "d2l.bench.matmul/1");
  EXPECT_EQ(j["size"], 64);
  ASSERT_FALSE(j["results"].empty());
  const auto& cpu = j["results"][0];
  EXPECT_EQ(cpu["device"], "cpu");
  EXPECT_EQ(cpu["dtype"], "fp32");
  EXPECT_EQ(cpu["seconds"]["repeats"], 3);
  EXPECT_GT(cpu["gflops"].get<double>(), 0.0);
  EXPECT_LE(cpu["seconds"]["min"].get<double>(), cpu["seconds"]["median"].get<double>());
}

TEST(BenchMatmul, UnsupportedTypeIsNaNotACrash) {
  // fp16 matrix products are not implemented on the CPU in some LibTorch versions: n/a then.
  auto r = run("bench matmul --size 32 --repeats 1 --device cpu --dtype fp16 --dtype fp32 --json");
  ASSERT_EQ(r.code, 0);
  const json j = json::parse(r.output);
  ASSERT_EQ(j["results"].size(), 2u);
  const auto& half = j["results"][0];
  EXPECT_TRUE(half["error"].is_null() != half["seconds"].is_null());
}

TEST(BenchMatmul, BadUsage) {
  EXPECT_EQ(run("bench matmul --size 0").code, 2);
  EXPECT_EQ(run("bench matmul --dtype int8").code, 2);
  EXPECT_EQ(run("bench matmul --device tpu").code, 2);
  EXPECT_EQ(run("bench").code, 2);
  EXPECT_EQ(run("bench matmul --size 16 --device cuda:7 --repeats 1").code, 1);
}
