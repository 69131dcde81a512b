// `d2l bench`: the benchmarks. This file holds the `bench` command, which gathers every
// benchmark registered through bench_registry.h as a subcommand, and the `matmul` benchmark
// (the appendix's exercise: a matrix product on the CPU and on each GPU).
#include "d2l/sys/bench.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bench_registry.h"
#include "d2l/core/error.h"
#include "d2l/core/progress.h"
#include "d2l/core/torch_error.h"
#include "d2l/sys/bench_torch.h"
#include "d2l/sys/environment.h"
#include "d2l/sys/nvml.h"
#include "d2l/sys/procfs.h"

namespace {

// ---- the `bench` command ----------------------------------------------------------------------

d2l::cli::Registrar bench_reg{
    "bench", "Benchmarks: matmul, and those registered by other files", [](CLI::App& cmd) {
      cmd.require_subcommand(1);
      auto runners = std::make_shared<std::map<CLI::App*, d2l::cli::Runner>>();
      for (auto& b : d2l::cli::bench_registry()) {
        CLI::App* sub = cmd.add_subcommand(b.name, b.summary);
        (*runners)[sub] = b.setup(*sub);
      }
      return [runners]() -> int {
        for (auto& [sub, run] : *runners)
          if (sub->parsed()) return run ? run() : 0;
        return 0;
      };
    }};

// ---- `bench matmul` ---------------------------------------------------------------------------

struct MatmulOpts {
  d2l::cli::CommonBenchOptions common;
  std::size_t size = 5000;
  std::vector<std::string> devices;  // empty: cpu and every GPU
  std::vector<std::string> dtypes;   // empty: fp32 on the CPU; fp32, fp16, bf16 on GPUs
};

struct Row {
  std::string device, device_name, dtype;
  std::optional<d2l::sys::BenchStats> stats;
  std::optional<double> gflops, peak_gflops;
  bool peak_estimated = false;
  std::string error;
};

// The CPU's clock in GHz from /proc/cpuinfo ("cpu MHz"); nullopt when absent.
std::optional<double> cpu_ghz() {
  auto text = d2l::sys::read_small_file("/", "/proc/cpuinfo");
  if (!text) return std::nullopt;
  const auto pos = text->find("cpu MHz");
  if (pos == std::string::npos) return std::nullopt;
  const auto colon = text->find(':', pos);
  if (colon == std::string::npos) return std::nullopt;
  const double mhz = std::atof(text->c_str() + colon + 1);
  return mhz > 0 ? std::optional<double>(mhz / 1000.0) : std::nullopt;
}

Row bench_one(const torch::Device& dev, const std::string& dev_name, const std::string& dtype,
              const MatmulOpts& o) {
  Row r;
  r.device = dev.str();
  r.device_name = dev_name;
  r.dtype = dtype;
  try {
    r.stats = d2l::sys::bench_matmul(dev, dtype, o.size, o.common.timing);
    r.gflops = d2l::sys::gflops(d2l::sys::matmul_flops(o.size), r.stats->median);
  } catch (const d2l::Error&) {
    throw;
  } catch (const std::exception& e) {
    r.error = d2l::error_message(e);
    if (r.error.size() > 160) r.error = r.error.substr(0, 160) + "...";
  }
  return r;
}

int run_matmul(const MatmulOpts& o) {
  if (o.size == 0 || o.size > 65536) throw d2l::bad_input("bench matmul: --size must be 1..65536");
  if (o.common.timing.repeats == 0) throw d2l::bad_input("bench matmul: --repeats must be >= 1");
  for (const auto& d : o.dtypes) d2l::sys::matmul_dtype(d);
  const std::size_t gpus = torch::cuda::is_available() ? torch::cuda::device_count() : 0;
  std::vector<std::string> devices = o.devices;
  if (devices.empty()) {
    devices.push_back("cpu");
    for (std::size_t i = 0; i < gpus; ++i) devices.push_back("cuda:" + std::to_string(i));
  }
  d2l::sys::Nvml nvml;  // GPU names (for the peak table); n/a without a driver
  const auto cpu = d2l::sys::read_cpu_features("/");
  std::vector<Row> rows;
  for (const auto& d : devices) {
    torch::Device dev(torch::kCPU);
    try {
      dev = torch::Device(d);
    } catch (const std::exception&) {
      throw d2l::bad_input("bench matmul: unknown --device '" + d + "' (cpu, cuda, cuda:N)");
    }
    if (dev.is_cuda() && !dev.has_index()) dev = torch::Device(torch::kCUDA, 0);
    if (dev.is_cuda() && static_cast<std::size_t>(dev.index()) >= gpus) {
      Row r;
      r.device = dev.str();
      r.dtype = "-";
      r.error = "no such CUDA device (" + std::to_string(gpus) + " visible)";
      rows.push_back(r);
      continue;
    }
    std::string name = cpu.model.empty() ? "CPU" : cpu.model;
    if (dev.is_cuda()) {
      auto g =
          nvml.ok() ? nvml.gpu(static_cast<unsigned>(dev.index()), false) : d2l::sys::GpuInfo{};
      name = g.name.value_or("CUDA device " + std::to_string(dev.index()));
    }
    std::vector<std::string> dtypes = o.dtypes;
    if (dtypes.empty())
      dtypes = dev.is_cuda() ? std::vector<std::string>{"fp32", "fp16", "bf16"}
                             : std::vector<std::string>{"fp32"};
    for (const auto& dt : dtypes) {
      if (!o.common.json && d2l::is_terminal(stderr))
        std::fprintf(stderr, "bench matmul: %s %s %zux%zu...\n", dev.str().c_str(), dt.c_str(),
                     o.size, o.size);
      Row r = bench_one(dev, name, dt, o);
      if (dev.is_cuda()) {
        if (auto p = d2l::sys::gpu_peak_tflops(name, dt)) r.peak_gflops = *p * 1e3;
      } else if (dt == "fp32") {
        if (auto ghz = cpu_ghz()) {
          const int cores = cpu.physical > 0 ? cpu.physical : cpu.logical;
          r.peak_gflops = d2l::sys::cpu_peak_gflops(cores, *ghz, cpu.simd_level());
          r.peak_estimated = true;
        }
      }
      rows.push_back(std::move(r));
    }
  }
  if (o.common.json) {
    nlohmann::json j;
    j["schema"] = "d2l.bench.matmul/1";
    j["size"] = o.size;
    j["flops_per_run"] = d2l::sys::matmul_flops(o.size);
    j["warmup"] = o.common.timing.warmup;
    auto opt = [](const std::optional<double>& v) {
      return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
    };
    nlohmann::json results = nlohmann::json::array();
    for (const auto& r : rows) {
      nlohmann::json x{
          {"device", r.device},
          {"device_name", r.device_name},
          {"dtype", r.dtype},
          {"gflops", opt(r.gflops)},
          {"peak_gflops", opt(r.peak_gflops)},
          {"peak_estimated", r.peak_estimated},
          {"percent_of_peak", r.gflops && r.peak_gflops
                                  ? nlohmann::json(100.0 * *r.gflops / *r.peak_gflops)
                                  : nlohmann::json(nullptr)},
          {"error", r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error)}};
      if (r.stats)
        x["seconds"] = {{"median", r.stats->median}, {"iqr", r.stats->iqr()},
                        {"min", r.stats->min},       {"max", r.stats->max},
                        {"mean", r.stats->mean},     {"repeats", r.stats->repeats}};
      else
        x["seconds"] = nullptr;
      results.push_back(x);
    }
    j["results"] = results;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("matmul %zux%zu (%.3g GFLOP a run), median of repeats after %zu warm-up run(s)\n",
                o.size, o.size, d2l::sys::matmul_flops(o.size) / 1e9, o.common.timing.warmup);
    std::printf("%-8s %-28s %-5s %10s %10s %8s %9s %s\n", "device", "name", "dtype", "median",
                "IQR", "runs", "GFLOP/s", "% of peak");
    for (const auto& r : rows) {
      std::string name = r.device_name.substr(0, 28);
      if (!r.stats) {
        std::printf("%-8s %-28s %-5s %s\n", r.device.c_str(), name.c_str(), r.dtype.c_str(),
                    ("n/a: " + r.error).c_str());
        continue;
      }
      char peak[48] = "n/a";
      if (r.gflops && r.peak_gflops)
        std::snprintf(peak, sizeof peak, "%.1f%%%s", 100.0 * *r.gflops / *r.peak_gflops,
                      r.peak_estimated ? " (est.)" : "");
      std::printf("%-8s %-28s %-5s %10s %10s %8zu %9.1f %s\n", r.device.c_str(), name.c_str(),
                  r.dtype.c_str(), d2l::sys::format_seconds(r.stats->median).c_str(),
                  d2l::sys::format_seconds(r.stats->iqr()).c_str(), r.stats->repeats,
                  r.gflops.value_or(0), peak);
    }
  }
  bool any_ok = false;
  for (const auto& r : rows) any_ok |= r.stats.has_value();
  return any_ok ? 0 : 1;
}

d2l::cli::BenchRegistrar matmul_reg{
    "matmul", "Matrix product on the CPU and each GPU (GFLOP/s, % of peak)", [](CLI::App& cmd) {
      auto o = std::make_shared<MatmulOpts>();
      o->common.timing.warmup = 1;
      o->common.timing.repeats = 10;
      o->common.timing.max_seconds = 30;
      cmd.add_option("--size", o->size, "Rows (= columns) of the square matrices")
          ->capture_default_str();
      cmd.add_option("--device", o->devices, "cpu, cuda:N (repeatable; default: cpu and all GPUs)");
      cmd.add_option("--dtype", o->dtypes,
                     "fp32, fp16, bf16, fp64 (repeatable; default: fp32 on the CPU, fp32 fp16 "
                     "bf16 on GPUs)");
      d2l::cli::add_bench_options(cmd, o->common);
      cmd.footer(
          "A type a device does not support shows n/a. Exit codes: 0 when at least one "
          "measurement ran, 1 when none did, 2 bad usage.");
      return [o]() { return run_matmul(*o); };
    }};

}  // namespace
