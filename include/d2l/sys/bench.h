#pragma once
/// \file d2l/sys/bench.h
/// Timing a piece of work the way `torch.utils.benchmark` does: warm-up runs, then repeats, then
/// the median and the spread (interquartile range). Torch-free: the caller passes a function that
/// runs the work once and waits for it to finish (a CUDA caller synchronises inside it).
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace d2l::sys {

/// Statistics of repeated timings, all in seconds.
struct BenchStats {
  std::size_t repeats = 0;
  double median = 0, mean = 0, min = 0, max = 0;
  double q1 = 0, q3 = 0;  ///< first and third quartiles
  /// The interquartile range q3 - q1.
  double iqr() const { return q3 - q1; }
  /// The spread as a share of the median (iqr / median; 0 when the median is 0).
  double relative_spread() const { return median > 0 ? iqr() / median : 0.0; }
};

/// The q-quantile (0..1) of `samples` with linear interpolation; throws d2l::Error (BadInput)
/// when `samples` is empty or q is outside [0, 1].
double quantile(std::vector<double> samples, double q);

/// Statistics of `samples` (seconds); throws d2l::Error (BadInput) when empty.
BenchStats summarize(const std::vector<double>& samples);

/// How to repeat.
struct BenchOptions {
  std::size_t warmup = 2;          ///< untimed runs first
  std::size_t repeats = 10;        ///< timed runs (at least this many)
  double min_seconds = 0.0;        ///< keep repeating until this much time was measured
  std::size_t max_repeats = 1000;  ///< ... but never more runs than this
  double max_seconds = 0.0;        ///< > 0: stop once this much was measured (>= 1 run)
};

/// Runs `work` warmup times untimed, then times each further run (steady clock) until both
/// `repeats` runs and `min_seconds` are reached, or max_repeats runs, or (when max_seconds > 0)
/// max_seconds measured; returns the samples' statistics.
/// Throws d2l::Error (BadInput) when repeats is 0. Exceptions from `work` pass through.
BenchStats run_bench(const std::function<void()>& work, const BenchOptions& options = {});

/// The rate of `flops` floating-point operations done in `seconds`, in GFLOP/s (0 for 0 s).
double gflops(double flops, double seconds);

/// The operations of a square matrix product of size n: 2 n^3.
double matmul_flops(std::size_t n);

/// The dense peak of a known NVIDIA GPU in TFLOP/s for "fp32", "fp16" or "bf16" (tensor cores,
/// no sparsity), from its NVML/CUDA name ("NVIDIA H200", "NVIDIA H100 80GB HBM3", ...);
/// nullopt for GPUs or types not in the table.
std::optional<double> gpu_peak_tflops(const std::string& name, const std::string& dtype);

/// An estimate of a CPU's fp32 peak in GFLOP/s: cores x GHz x fp32 FLOPs per cycle for its SIMD
/// level (0: 8, 1 AVX: 16, 2 AVX2+FMA: 32, 3 AVX-512: 64, i.e. two FMA units).
double cpu_peak_gflops(int cores, double ghz, int simd_level);

/// Formats seconds for a table with a unit that keeps 3 significant digits: "812 us", "4.21 ms",
/// "1.50 s".
std::string format_seconds(double seconds);

}  // namespace d2l::sys
