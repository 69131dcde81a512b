#include "d2l/sys/bench.h"

#include <gtest/gtest.h>

#include "d2l/core/error.h"

namespace sys = d2l::sys;

TEST(Bench, QuantilesInterpolate) {
  const std::vector<double> v{4, 1, 3, 2};
  EXPECT_DOUBLE_EQ(sys::quantile(v, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(sys::quantile(v, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(sys::quantile(v, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(sys::quantile(v, 0.25), 1.75);
  EXPECT_THROW(sys::quantile({}, 0.5), d2l::Error);
  EXPECT_THROW(sys::quantile(v, 1.5), d2l::Error);
}

TEST(Bench, SummarizeStatistics) {
  auto s = sys::summarize({1, 2, 3, 4, 100});
  EXPECT_EQ(s.repeats, 5u);
  EXPECT_DOUBLE_EQ(s.median, 3.0);
  EXPECT_DOUBLE_EQ(s.mean, 22.0);
  EXPECT_DOUBLE_EQ(s.min, 1.0);
  EXPECT_DOUBLE_EQ(s.max, 100.0);
  EXPECT_DOUBLE_EQ(s.iqr(), 2.0);
  EXPECT_DOUBLE_EQ(s.relative_spread(), 2.0 / 3.0);
}

TEST(Bench, RunsWarmupThenRepeats) {
  int calls = 0;
  sys::BenchOptions o;
  o.warmup = 3;
  o.repeats = 7;
  auto s = sys::run_bench([&] { ++calls; }, o);
  EXPECT_EQ(calls, 10);
  EXPECT_EQ(s.repeats, 7u);
  EXPECT_LE(s.min, s.median);
  EXPECT_LE(s.median, s.max);
  o.repeats = 0;
  EXPECT_THROW(sys::run_bench([] {}, o), d2l::Error);
}

TEST(Bench, MinSecondsExtendsRepeatsUpToCap) {
  int calls = 0;
  sys::BenchOptions o;
  o.warmup = 0;
  o.repeats = 1;
  o.min_seconds = 1e9;  // never reached: the cap stops it
  o.max_repeats = 25;
  auto s = sys::run_bench([&] { ++calls; }, o);
  EXPECT_EQ(calls, 25);
  EXPECT_EQ(s.repeats, 25u);
}

TEST(Bench, WorkErrorsPassThrough) {
  EXPECT_THROW(sys::run_bench([] { throw std::runtime_error("boom"); }), std::runtime_error);
}

TEST(Bench, Gflops) {
  EXPECT_DOUBLE_EQ(sys::matmul_flops(1000), 2e9);
  EXPECT_DOUBLE_EQ(sys::gflops(2e9, 0.5), 4.0);
  EXPECT_DOUBLE_EQ(sys::gflops(1.0, 0.0), 0.0);
  EXPECT_EQ(sys::format_seconds(0.00421), "4.21 ms");
  EXPECT_EQ(sys::format_seconds(1.5), "1.5 s");
  EXPECT_EQ(sys::format_seconds(0.000812), "812 us");
}

TEST(Bench, MaxSecondsStopsEarly) {
  int calls = 0;
  sys::BenchOptions o;
  o.warmup = 0;
  o.repeats = 100;
  o.max_seconds = 1e-12;  // any run exceeds it
  auto s = sys::run_bench([&] { ++calls; }, o);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(s.repeats, 1u);
}

TEST(Bench, PeakTables) {
  EXPECT_DOUBLE_EQ(sys::gpu_peak_tflops("NVIDIA H200", "bf16").value_or(0), 989.0);
  EXPECT_DOUBLE_EQ(sys::gpu_peak_tflops("NVIDIA H100 PCIe", "fp32").value_or(0), 51.0);
  EXPECT_DOUBLE_EQ(sys::gpu_peak_tflops("NVIDIA H100 80GB HBM3", "fp32").value_or(0), 67.0);
  EXPECT_FALSE(sys::gpu_peak_tflops("Tesla V100-SXM2-16GB", "bf16"));
  EXPECT_FALSE(sys::gpu_peak_tflops("Stand-in GPU A", "fp32"));
  EXPECT_FALSE(sys::gpu_peak_tflops("NVIDIA H200", "fp64"));
  EXPECT_DOUBLE_EQ(sys::cpu_peak_gflops(2, 2.0, 3), 256.0);
  EXPECT_DOUBLE_EQ(sys::cpu_peak_gflops(4, 1.0, 2), 128.0);
  EXPECT_DOUBLE_EQ(sys::cpu_peak_gflops(1, 1.0, 9), 64.0);
}
