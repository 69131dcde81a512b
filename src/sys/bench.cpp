#include "d2l/sys/bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "d2l/core/error.h"

namespace d2l::sys {

double quantile(std::vector<double> samples, double q) {
  if (samples.empty()) throw bad_input("quantile: no samples");
  if (!(q >= 0.0 && q <= 1.0)) throw bad_input("quantile: q must be in [0, 1]");
  std::sort(samples.begin(), samples.end());
  const double pos = q * static_cast<double>(samples.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, samples.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return samples[lo] + (samples[hi] - samples[lo]) * frac;
}

BenchStats summarize(const std::vector<double>& samples) {
  if (samples.empty()) throw bad_input("bench: no samples");
  BenchStats s;
  s.repeats = samples.size();
  s.median = quantile(samples, 0.5);
  s.q1 = quantile(samples, 0.25);
  s.q3 = quantile(samples, 0.75);
  s.min = *std::min_element(samples.begin(), samples.end());
  s.max = *std::max_element(samples.begin(), samples.end());
  double sum = 0;
  for (double x : samples) sum += x;
  s.mean = sum / static_cast<double>(samples.size());
  return s;
}

BenchStats run_bench(const std::function<void()>& work, const BenchOptions& o) {
  if (o.repeats == 0) throw bad_input("bench: repeats must be at least 1");
  using Clock = std::chrono::steady_clock;
  for (std::size_t i = 0; i < o.warmup; ++i) work();
  std::vector<double> samples;
  double measured = 0;
  const std::size_t cap = std::max(o.repeats, o.max_repeats);
  while (samples.size() < cap && (samples.size() < o.repeats || measured < o.min_seconds)) {
    const auto t0 = Clock::now();
    work();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    samples.push_back(s);
    measured += s;
    if (o.max_seconds > 0 && measured >= o.max_seconds) break;
  }
  return summarize(samples);
}

double gflops(double flops, double seconds) { return seconds > 0 ? flops / seconds / 1e9 : 0.0; }

double matmul_flops(std::size_t n) {
  const double d = static_cast<double>(n);
  return 2.0 * d * d * d;
}

std::optional<double> gpu_peak_tflops(const std::string& name, const std::string& dtype) {
  struct Peak {
    const char* key;  // a substring of the name; the first match wins (more specific first)
    double fp32, half;
  };
  // Dense (no sparsity) peaks from NVIDIA's data sheets; half = fp16 and bf16 tensor cores.
  static const Peak kPeaks[] = {
      {"H200", 67.0, 989.0},    {"H100 PCIe", 51.0, 756.0}, {"H100 NVL", 60.0, 835.0},
      {"H100", 67.0, 989.0},    {"A100", 19.5, 312.0},      {"A10G", 31.2, 125.0},
      {"A10", 31.2, 125.0},     {"L40S", 91.6, 362.0},      {"L4", 30.3, 121.0},
      {"V100", 15.7, 125.0},    {"T4", 8.1, 65.0},          {"RTX 4090", 82.6, 165.0},
      {"RTX 3090", 35.6, 71.0},
  };
  if (dtype != "fp32" && dtype != "fp16" && dtype != "bf16") return std::nullopt;
  for (const auto& p : kPeaks)
    if (name.find(p.key) != std::string::npos) {
      if (dtype == "bf16" && (std::string(p.key) == "V100" || std::string(p.key) == "T4"))
        return std::nullopt;  // no bf16 tensor cores before Ampere
      return dtype == "fp32" ? p.fp32 : p.half;
    }
  return std::nullopt;
}

double cpu_peak_gflops(int cores, double ghz, int simd_level) {
  static const int kFlopsPerCycle[] = {8, 16, 32, 64};
  const int level = simd_level < 0 ? 0 : simd_level > 3 ? 3 : simd_level;
  return static_cast<double>(cores) * ghz * kFlopsPerCycle[level];
}

std::string format_seconds(double seconds) {
  char buf[32];
  const double a = std::fabs(seconds);
  if (a < 1e-3)
    std::snprintf(buf, sizeof buf, "%.3g us", seconds * 1e6);
  else if (a < 1.0)
    std::snprintf(buf, sizeof buf, "%.3g ms", seconds * 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.3g s", seconds);
  return buf;
}

}  // namespace d2l::sys
