// d2l doctor's probes of the machine: system, disks, data sets, NVIDIA.
#include <gnu/libc-version.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>

#include "d2l/core/error.h"
#include "d2l/data/registry.h"
#include "d2l/sys/environment.h"
#include "d2l/sys/nvml.h"
#include "d2l/sys/procfs.h"
#include "doctor_internal.h"

namespace d2l::sys {
namespace {

namespace fs = std::filesystem;
using detail::gib;
using detail::join;
using detail::kGiB;
using detail::make;
using detail::trim;

constexpr double kWarnMemoryGiB = 4;
constexpr double kFailDiskGiB = 1, kWarnDiskGiB = 10;
constexpr int kHotGpuC = 85;

}  // namespace

std::vector<Probe> guarded(const std::string& id, const std::string& section,
                           const std::function<std::vector<Probe>()>& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    std::string what = e.what();
    return {make(id, section, id, ProbeStatus::Fail,
                 "probe failed: " + what.substr(0, what.find('\n')))};
  } catch (...) {
    return {make(id, section, id, ProbeStatus::Fail, "probe failed: unknown error")};
  }
}

std::vector<Probe> probe_system(const std::string& root) {
  std::vector<Probe> out;
  // OS
  std::string os;
  if (auto rel = read_small_file(root, "/etc/os-release")) {
    std::istringstream in(*rel);
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("PRETTY_NAME=", 0) == 0) {
        os = line.substr(12);
        if (os.size() >= 2 && os.front() == '"' && os.back() == '"')
          os = os.substr(1, os.size() - 2);
      }
  }
  out.push_back(os.empty() ? make("os", "system", "OS", ProbeStatus::NA, "n/a")
                           : make("os", "system", "OS", ProbeStatus::Pass, os));
  std::string kernel;
  if (auto k = read_first_line(root, "/proc/sys/kernel/osrelease")) {
    kernel = trim(*k);
  } else if (root == "/") {
    utsname u{};
    if (::uname(&u) == 0) kernel = u.release;
  }
  out.push_back(kernel.empty() ? make("kernel", "system", "Kernel", ProbeStatus::NA, "n/a")
                               : make("kernel", "system", "Kernel", ProbeStatus::Pass, kernel));
  out.push_back(make("libc", "system", "C library", ProbeStatus::Pass,
                     std::string("glibc ") + ::gnu_get_libc_version()));
  // CPU
  const CpuFeatures cpu = read_cpu_features(root);
  if (cpu.logical == 0) {
    out.push_back(make("cpu", "system", "CPU", ProbeStatus::NA, "n/a"));
  } else {
    std::string v = (cpu.model.empty() ? "unknown model" : cpu.model) + ", " +
                    std::to_string(cpu.logical) + " logical CPUs";
    if (cpu.physical > 0) v += ", " + std::to_string(cpu.physical) + " cores";
    out.push_back(make("cpu", "system", "CPU", ProbeStatus::Pass, v));
    std::vector<std::string> simd;
    if (cpu.avx) simd.push_back("AVX");
    if (cpu.avx2) simd.push_back("AVX2");
    if (cpu.fma) simd.push_back("FMA");
    if (cpu.avx512f) simd.push_back("AVX-512");
    out.push_back(cpu.avx2 ? make("cpu.simd", "system", "SIMD", ProbeStatus::Pass, join(simd, ", "))
                           : make("cpu.simd", "system", "SIMD", ProbeStatus::Warn,
                                  simd.empty() ? "none of AVX, AVX2, AVX-512" : join(simd, ", "),
                                  "no-avx2"));
  }
  // Memory
  auto mem = read_meminfo(root);
  if (!mem) {
    out.push_back(make("memory", "system", "Memory", ProbeStatus::NA, "n/a"));
  } else {
    const std::string v = gib(static_cast<double>(mem->total)) + " total, " +
                          gib(static_cast<double>(mem->available)) + " available, swap " +
                          gib(static_cast<double>(mem->swap_total));
    const bool low = static_cast<double>(mem->total) < kWarnMemoryGiB * kGiB;
    out.push_back(make("memory", "system", "Memory", low ? ProbeStatus::Warn : ProbeStatus::Pass, v,
                       low ? "low-memory" : ""));
  }
  auto cg = read_cgroup_memory(root);
  if (!cg) {
    out.push_back(make("memory.cgroup", "system", "Container memory limit", ProbeStatus::NA,
                       "n/a (no memory cgroup)"));
  } else if (!cg->limit) {
    out.push_back(make("memory.cgroup", "system", "Container memory limit", ProbeStatus::Pass,
                       "none (cgroup v" + std::to_string(cg->version) + ")"));
  } else {
    const bool low = static_cast<double>(*cg->limit) < kWarnMemoryGiB * kGiB;
    out.push_back(make(
        "memory.cgroup", "system", "Container memory limit",
        low ? ProbeStatus::Warn : ProbeStatus::Pass,
        gib(static_cast<double>(*cg->limit)) + " (cgroup v" + std::to_string(cg->version) + ")",
        low ? "low-memory" : ""));
  }
  return out;
}

std::vector<Probe> probe_disks(const std::vector<std::string>& dirs,
                               const std::string& checkpoint_dir) {
  std::vector<Probe> out;
  std::vector<std::pair<std::string, std::string>> places;
  for (const auto& d : dirs) places.emplace_back("data", d);
  places.emplace_back("checkpoints", checkpoint_dir);
  std::set<std::string> seen;
  for (const auto& [what, dir] : places) {
    // The nearest folder that exists: a data folder may not have been made yet.
    std::error_code ec;
    fs::path p = fs::absolute(dir.empty() ? "." : dir, ec);
    while (!p.empty() && !fs::exists(p, ec) && p.has_parent_path() && p != p.parent_path())
      p = p.parent_path();
    const std::string id = "disk." + what + ":" + dir;
    if (!seen.insert(id).second) continue;
    auto u = disk_usage(p.string());
    if (!u) {
      out.push_back(make(id, "system", "Free disk (" + what + ")", ProbeStatus::NA, dir + ": n/a"));
      continue;
    }
    const double avail = static_cast<double>(u->available);
    const ProbeStatus st = avail < kFailDiskGiB * kGiB   ? ProbeStatus::Fail
                           : avail < kWarnDiskGiB * kGiB ? ProbeStatus::Warn
                                                         : ProbeStatus::Pass;
    out.push_back(make(id, "system", "Free disk (" + what + ")", st,
                       dir + ": " + gib(avail) + " free of " + gib(static_cast<double>(u->total)),
                       st == ProbeStatus::Pass ? "" : "low-disk"));
  }
  return out;
}

std::vector<Probe> probe_datasets(const std::vector<std::string>& dirs) {
  // The registry's own search, as `d2l train` runs it (with each folder as its --data-dir), so
  // doctor reports the place training uses. Nothing is unpacked or downloaded here.
  const std::vector<std::string> data_dirs = dirs.empty() ? std::vector<std::string>{""} : dirs;
  std::vector<Probe> out;
  for (const auto& name : data::dataset_names()) {
    const data::DatasetInfo& info = data::dataset_info(name);
    const std::string id = "data." + name;
    const bool required = name == "fashion-mnist";
    std::optional<data::FoundDataset> found;
    std::string fault;
    for (const auto& d : data_dirs) {
      try {
        found = data::find_dataset(info, d);
      } catch (const Error& e) {
        if (fault.empty()) fault = e.what();
      }
      if (found) break;
    }
    if (found && !found->dir.empty()) {
      out.push_back(make(id, "data", name, ProbeStatus::Pass, found->dir));
    } else if (found) {
      out.push_back(make(id, "data", name, ProbeStatus::Pass,
                         found->archive + " (unpacked into " +
                             data::unpacked_dir(info, found->archive) + " on first use)"));
    } else if (!fault.empty()) {
      out.push_back(make(id, "data", name, ProbeStatus::Warn, fault, "dataset-missing"));
    } else if (required) {
      std::vector<std::string> looked;
      for (const auto& d : data_dirs)
        for (const auto& loc : data::search_locations(name, d))
          if (std::find(looked.begin(), looked.end(), loc.path) == looked.end())
            looked.push_back(loc.path);
      out.push_back(make(id, "data", name, ProbeStatus::Warn, "not found in " + join(looked, ", "),
                         "dataset-missing"));
    } else {
      out.push_back(make(id, "data", name, ProbeStatus::NA, "not present"));
    }
  }
  return out;
}

std::vector<Probe> probe_nvidia(const std::string& nvml_library, bool torch_known,
                                const std::optional<std::string>& torch_cuda) {
  std::vector<Probe> out;
  Nvml nvml(nvml_library);
  switch (nvml.state()) {
    case NvmlState::NotFound:
      out.push_back(
          make("nvidia.driver", "nvidia", "NVIDIA driver", ProbeStatus::NA, nvml.error()));
      break;
    case NvmlState::StubOnly:
      out.push_back(make("nvidia.driver", "nvidia", "NVIDIA driver", ProbeStatus::Fail,
                         nvml.error(), "nvml-stub"));
      break;
    case NvmlState::MissingSymbols:
      out.push_back(make("nvidia.driver", "nvidia", "NVIDIA driver", ProbeStatus::Fail,
                         nvml.error(), "nvml-failed"));
      break;
    case NvmlState::InitFailed:
      out.push_back(make("nvidia.driver", "nvidia", "NVIDIA driver", ProbeStatus::Fail,
                         nvml.error(),
                         nvml.init_error_code() == kNvmlErrorLibRmVersionMismatch ? "nvml-mismatch"
                                                                                  : "nvml-failed"));
      break;
    case NvmlState::Ok:
      out.push_back(make("nvidia.driver", "nvidia", "NVIDIA driver", ProbeStatus::Pass,
                         nvml.driver_version().value_or("n/a") + " (" + nvml.library_path() + ")"));
      break;
  }
  const auto cuda_driver = nvml.cuda_driver_version();
  out.push_back(cuda_driver ? make("nvidia.cuda_driver", "nvidia", "CUDA (driver supports)",
                                   ProbeStatus::Pass, format_cuda_version(*cuda_driver))
                            : make("nvidia.cuda_driver", "nvidia", "CUDA (driver supports)",
                                   ProbeStatus::NA, "n/a"));
  const auto gpus = nvml.gpus(false);
  if (nvml.ok()) {
    if (gpus.empty())
      out.push_back(
          make("nvidia.gpus", "nvidia", "GPUs", ProbeStatus::Warn, "0 visible", "no-gpu-visible"));
    else
      out.push_back(
          make("nvidia.gpus", "nvidia", "GPUs", ProbeStatus::Pass, std::to_string(gpus.size())));
  }
  for (const auto& g : gpus) {
    std::ostringstream v;
    v << g.name.value_or("n/a") << ", ";
    v << (g.memory_total ? gib(static_cast<double>(*g.memory_total)) : std::string("n/a memory"));
    v << ", compute capability ";
    if (g.compute_capability_major && g.compute_capability_minor)
      v << *g.compute_capability_major << "." << *g.compute_capability_minor;
    else
      v << "n/a";
    v << ", " << (g.temperature_c ? std::to_string(*g.temperature_c) + " C" : "n/a C");
    char pw[64] = "n/a W";
    if (g.power_w && g.power_limit_w)
      std::snprintf(pw, sizeof pw, "%.0f/%.0f W", *g.power_w, *g.power_limit_w);
    else if (g.power_w)
      std::snprintf(pw, sizeof pw, "%.0f W", *g.power_w);
    v << ", " << pw << ", MIG "
      << (g.mig_enabled ? (*g.mig_enabled ? "on" : "off") : std::string("n/a"));
    const bool hot = g.temperature_c && static_cast<int>(*g.temperature_c) >= kHotGpuC;
    out.push_back(make("nvidia.gpu" + std::to_string(g.index), "nvidia",
                       "GPU " + std::to_string(g.index),
                       hot ? ProbeStatus::Warn : ProbeStatus::Pass, v.str(), hot ? "hot-gpu" : ""));
  }
  // CUDA in the build vs the driver.
  const std::string id = "cuda.build_vs_driver", label = "CUDA: build vs driver";
  if (!torch_known) {
    out.push_back(make(id, "nvidia", label, ProbeStatus::NA, "n/a (LibTorch not probed)"));
  } else if (!torch_cuda) {
    if (!gpus.empty())
      out.push_back(
          make(id, "nvidia", label, ProbeStatus::Warn,
               "LibTorch has no CUDA; the machine has " + std::to_string(gpus.size()) + " GPU(s)",
               "cuda-not-in-build"));
    else
      out.push_back(make(id, "nvidia", label, ProbeStatus::NA, "no CUDA in the build, no GPU"));
  } else if (!cuda_driver || *torch_cuda == "unknown") {
    out.push_back(make(id, "nvidia", label, ProbeStatus::NA,
                       "build " + *torch_cuda + ", driver " +
                           (cuda_driver ? format_cuda_version(*cuda_driver) : "n/a")));
  } else {
    int major = 0, minor = 0;
    std::sscanf(torch_cuda->c_str(), "%d.%d", &major, &minor);
    const int build = major * 1000 + minor * 10;
    const bool ok = build <= *cuda_driver;
    out.push_back(make(id, "nvidia", label, ok ? ProbeStatus::Pass : ProbeStatus::Fail,
                       "build " + *torch_cuda + ", driver " + format_cuda_version(*cuda_driver),
                       ok ? "" : "cuda-driver-too-old"));
  }
  return out;
}
}  // namespace d2l::sys
