#include "d2l/sys/environment.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <poll.h>
#include <signal.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "d2l/core/error.h"
#include "d2l/core/process.h"
#include "d2l/data/registry.h"
#include "d2l/sys/monitor.h"
#include "d2l/sys/nvml.h"
#include "d2l/sys/procfs.h"

namespace d2l::sys {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr double kGiB = 1024.0 * 1024 * 1024;
constexpr double kWarnMemoryGiB = 4;
constexpr double kFailDiskGiB = 1, kWarnDiskGiB = 10;
constexpr int kHotGpuC = 85;

Probe make(std::string id, std::string section, std::string label, ProbeStatus status,
           std::string value, std::string hint = "") {
  return Probe{std::move(id), std::move(section), std::move(label),
               status,        std::move(value),   std::move(hint)};
}

std::string gib(double bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f GiB", bytes / kGiB);
  return b;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string trim(const std::string& s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string to_string(ProbeStatus s) {
  switch (s) {
    case ProbeStatus::Pass:
      return "PASS";
    case ProbeStatus::Warn:
      return "WARN";
    case ProbeStatus::Fail:
      return "FAIL";
    case ProbeStatus::NA:
      return "n/a";
  }
  return "n/a";
}

ProbeStatus probe_status_from_string(const std::string& s) {
  if (s == "PASS") return ProbeStatus::Pass;
  if (s == "WARN") return ProbeStatus::Warn;
  if (s == "FAIL") return ProbeStatus::Fail;
  if (s == "n/a") return ProbeStatus::NA;
  throw bad_input("doctor: unknown probe status '" + s + "'");
}

const std::vector<Hint>& doctor_hints() {
  static const std::vector<Hint> kHints = {
      {"nvml-mismatch", "NVML: Driver/library version mismatch",
       "The NVIDIA kernel module and the user-space driver differ (usually after a driver upgrade "
       "without a reboot): reboot, or reload the module (sudo rmmod nvidia_uvm nvidia_drm "
       "nvidia_modeset nvidia && sudo modprobe nvidia)."},
      {"nvml-stub", "Only the stub libnvidia-ml.so was found",
       "The CUDA toolkit's stubs/ folder is for linking only: install the NVIDIA driver (it "
       "provides libnvidia-ml.so.1) and take .../stubs out of LD_LIBRARY_PATH."},
      {"nvml-failed", "NVML is present but does not initialise",
       "Check that the driver is loaded (lsmod | grep nvidia; nvidia-smi) and that /dev/nvidia* "
       "is visible (in a container: --gpus all)."},
      {"no-gpu-visible", "The NVIDIA driver is loaded but no GPU is visible",
       "Check CUDA_VISIBLE_DEVICES, that the container was started with --gpus all, and "
       "nvidia-smi."},
      {"cuda-not-in-build", "A GPU is present but LibTorch was built without CUDA",
       "Use a CUDA build of LibTorch (pytorch.org, LibTorch C++, CUDA 12.x) and configure with "
       "-DCMAKE_PREFIX_PATH=/path/to/libtorch."},
      {"cuda-driver-too-old", "LibTorch's CUDA is newer than the driver supports",
       "Update the NVIDIA driver, or use a LibTorch built for a CUDA version the driver supports "
       "(the driver's CUDA version is the highest it runs)."},
      {"cuda-unavailable", "LibTorch has CUDA and the driver sees GPUs, but CUDA is unavailable",
       "Check that the CUDA runtime libraries LibTorch needs are found (ldd on libtorch_cuda.so), "
       "and CUDA_VISIBLE_DEVICES."},
      {"torch-missing", "The LibTorch helper d2l-torch was not found",
       "Build with -DD2L_WITH_TORCH=ON (it installs d2l-torch beside d2l or in libexec/d2l), or "
       "set D2L_TORCH_EXE to its path."},
      {"torch-failed", "The LibTorch helper d2l-torch failed",
       "Run 'd2l-torch doctor-torch --json' by hand to see its error; check that LibTorch's "
       "libraries are found (ldd d2l-torch)."},
      {"reference-blas", "The reference BLAS (netlib) is loaded",
       "It makes training several times slower. Install OpenBLAS and select it: sudo apt install "
       "libopenblas0-pthread && sudo update-alternatives --config libblas.so.3-x86_64-linux-gnu "
       "(and liblapack.so.3-x86_64-linux-gnu)."},
      {"openblas-core", "OpenBLAS chose kernels for an older CPU than this one",
       "OpenBLAS 0.3.21 takes this CPU for an old one and runs generic kernels: set "
       "OPENBLAS_CORETYPE (the value shown, e.g. export OPENBLAS_CORETYPE=SkylakeX) before "
       "running, or use a newer OpenBLAS."},
      {"dataset-missing", "A data set was not found, or its folder lacks files",
       "sudo apt install dataset-fashion-mnist (Debian puts it in /usr/share/datasets), or set "
       "D2L_DATA_DIR (or pass --data-dir) to the folder holding the files, its parent, or the "
       "downloaded archive; `d2l show --help` lists the search order. d2l train downloads a "
       "missing data set into ~/.cache/d2l."},
      {"few-threads", "LibTorch uses fewer threads than the CPU has cores",
       "Set OMP_NUM_THREADS to the number of cores (the value shown) before running, or call "
       "torch::set_num_threads()."},
      {"low-disk", "Little free disk where data and checkpoints go",
       "Free space or point D2L_DATA_DIR and the checkpoint folder at a larger disk."},
      {"low-memory", "Little memory (or a low container limit)",
       "Use smaller batches; in a container, raise its memory limit."},
      {"no-avx2", "The CPU has no AVX2",
       "LibTorch's and OpenBLAS's fast kernels need AVX2: expect slow CPU training."},
      {"compute-mismatch", "A device's matrix product differs from the CPU's",
       "Check the driver and the GPU's health (nvidia-smi -q -d ECC,TEMPERATURE); try another "
       "device."},
      {"hot-gpu", "A GPU runs hot", "Check the cooling; the GPU may throttle its clocks."},
  };
  return kHints;
}

const Hint* find_hint(const std::string& id) {
  for (const auto& h : doctor_hints())
    if (h.id == id) return &h;
  return nullptr;
}

int CpuFeatures::simd_level() const {
  if (avx512f && avx512bw && avx512vl && avx512dq) return 3;
  if (avx2 && fma) return 2;
  if (avx) return 1;
  return 0;
}

CpuFeatures read_cpu_features(const std::string& root) {
  CpuFeatures c;
  auto text = read_small_file(root, "/proc/cpuinfo");
  if (!text) return c;
  std::istringstream in(*text);
  std::string line, phys = "0";
  std::set<std::string> cores;
  bool have_flags = false;
  int processors = 0;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(line.substr(0, colon)), val = trim(line.substr(colon + 1));
    if (key == "processor") {
      ++processors;
    } else if (key == "model name" && c.model.empty()) {
      c.model = val;
    } else if (key == "physical id") {
      phys = val;
    } else if (key == "core id") {
      cores.insert(phys + ":" + val);
    } else if (key == "flags" && !have_flags) {
      have_flags = true;
      std::istringstream fl(val);
      std::string f;
      while (fl >> f) {
        if (f == "avx") c.avx = true;
        if (f == "avx2") c.avx2 = true;
        if (f == "fma") c.fma = true;
        if (f == "avx512f") c.avx512f = true;
        if (f == "avx512bw") c.avx512bw = true;
        if (f == "avx512vl") c.avx512vl = true;
        if (f == "avx512dq") c.avx512dq = true;
      }
    }
  }
  c.logical = processors;
  c.physical = static_cast<int>(cores.size());
  return c;
}

std::string blas_kind_of_path(const std::string& path) {
  const std::string p = lower(path);
  if (p.empty()) return "unknown";
  if (p.find("openblas") != std::string::npos) return "openblas";
  if (p.find("mkl") != std::string::npos) return "mkl";
  if (p.find("blis") != std::string::npos) return "blis";
  if (p.find("atlas") != std::string::npos) return "atlas";
  if (p.find("accelerate") != std::string::npos) return "accelerate";
  // Debian's reference implementation lives in .../blas/libblas.so.3 (package libblas3).
  if (p.find("/blas/libblas.so") != std::string::npos || p.find("netlib") != std::string::npos)
    return "reference";
  return "unknown";
}

std::optional<int> openblas_core_level(const std::string& core) {
  static const std::map<std::string, int> kLevels = {
      {"prescott", 0},    {"core2", 0},         {"penryn", 0},     {"dunnington", 0},
      {"nehalem", 0},     {"atom", 0},          {"katmai", 0},     {"coppermine", 0},
      {"northwood", 0},   {"banias", 0},        {"opteron", 0},    {"opteron_sse3", 0},
      {"barcelona", 0},   {"bobcat", 0},        {"nano", 0},       {"athlon", 0},
      {"sandybridge", 1}, {"bulldozer", 1},     {"piledriver", 1}, {"steamroller", 1},
      {"excavator", 1},   {"haswell", 2},       {"zen", 2},        {"skylakex", 3},
      {"cooperlake", 3},  {"sapphirerapids", 3}};
  auto it = kLevels.find(lower(trim(core)));
  if (it == kLevels.end()) return std::nullopt;
  return it->second;
}

BlasInfo classify_blas(const std::string& sgemm_path, const std::optional<std::string>& core,
                       const CpuFeatures& cpu) {
  BlasInfo b;
  b.path = sgemm_path;
  b.kind = blas_kind_of_path(sgemm_path);
  b.openblas_core = core;
  if (b.kind == "openblas" && core) {
    const auto level = openblas_core_level(*core);
    if (level && *level < cpu.simd_level()) {
      b.core_mismatch = true;
      b.suggested_coretype = cpu.simd_level() >= 3   ? "SkylakeX"
                             : cpu.simd_level() == 2 ? "Haswell"
                                                     : "Sandybridge";
    }
  }
  return b;
}

bool DoctorReport::any_fail() const {
  for (const auto& p : probes)
    if (p.status == ProbeStatus::Fail) return true;
  return false;
}

const Probe* DoctorReport::find(const std::string& id) const {
  for (const auto& p : probes)
    if (p.id == id) return &p;
  return nullptr;
}

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

namespace {

std::vector<Probe> blas_probes(const BlasInfo& b, const CpuFeatures& cpu, const std::string& how) {
  std::vector<Probe> out;
  if (b.path.empty()) {
    out.push_back(make("blas.library", "blas", "BLAS", ProbeStatus::NA, "n/a (" + how + ")"));
  } else if (b.kind == "reference") {
    out.push_back(make("blas.library", "blas", "BLAS", ProbeStatus::Warn,
                       "reference BLAS: " + b.path + " (" + how + ")", "reference-blas"));
  } else {
    out.push_back(make("blas.library", "blas", "BLAS", ProbeStatus::Pass,
                       b.kind + ": " + b.path + " (" + how + ")"));
  }
  if (b.kind == "openblas") {
    if (!b.openblas_core) {
      out.push_back(make("blas.openblas_core", "blas", "OpenBLAS core", ProbeStatus::NA, "n/a"));
    } else if (b.core_mismatch) {
      out.push_back(make("blas.openblas_core", "blas", "OpenBLAS core", ProbeStatus::Warn,
                         *b.openblas_core + " on a CPU with " +
                             (cpu.simd_level() >= 3   ? "AVX-512"
                              : cpu.simd_level() == 2 ? "AVX2"
                                                      : "AVX") +
                             ": set OPENBLAS_CORETYPE=" + b.suggested_coretype,
                         "openblas-core"));
    } else {
      out.push_back(
          make("blas.openblas_core", "blas", "OpenBLAS core", ProbeStatus::Pass, *b.openblas_core));
    }
  }
  return out;
}

std::string dl_path_of(void* addr) {
  Dl_info info{};
  if (addr && ::dladdr(addr, &info) && info.dli_fname) {
    std::error_code ec;
    auto canon = fs::canonical(info.dli_fname, ec);
    return ec ? std::string(info.dli_fname) : canon.string();
  }
  return "";
}

}  // namespace

std::vector<Probe> probe_blas_without_torch(const CpuFeatures& cpu) {
  std::string path;
  std::optional<std::string> core;
  if (void* h = ::dlopen("libblas.so.3", RTLD_LAZY | RTLD_LOCAL)) {
    path = dl_path_of(::dlsym(h, "sgemm_"));
    if (blas_kind_of_path(path) == "openblas") {
      using CoreFn = char* (*)();
      // Debian's OpenBLAS libblas.so.3 is a thin library over libopenblas.so.0.
      auto fn = reinterpret_cast<CoreFn>(::dlsym(h, "openblas_get_corename"));
      void* ob = nullptr;
      if (!fn && (ob = ::dlopen("libopenblas.so.0", RTLD_LAZY | RTLD_LOCAL)))
        fn = reinterpret_cast<CoreFn>(::dlsym(ob, "openblas_get_corename"));
      if (fn)
        if (const char* c = fn()) core = std::string(c);
      if (ob) ::dlclose(ob);
    }
    ::dlclose(h);
  }
  return blas_probes(classify_blas(path, core, cpu), cpu, "libblas.so.3 as this process loads it");
}

std::vector<Probe> probes_from_torch_json(const std::string& text, const CpuFeatures& cpu) {
  std::vector<Probe> out;
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception&) {
    throw Error("doctor-torch: output is not JSON");
  }
  auto str = [&](const json& o, const char* k) -> std::optional<std::string> {
    if (o.contains(k) && o[k].is_string()) return o[k].get<std::string>();
    return std::nullopt;
  };
  auto boolean = [&](const json& o, const char* k) -> std::optional<bool> {
    if (o.contains(k) && o[k].is_boolean()) return o[k].get<bool>();
    return std::nullopt;
  };
  auto yes_no = [](const std::optional<bool>& b) {
    return b ? (*b ? std::string("yes") : std::string("no")) : std::string("n/a");
  };
  out.push_back(
      make("torch.version", "torch", "LibTorch", ProbeStatus::Pass,
           str(j, "torch_version").value_or("n/a") +
               (str(j, "compiler") ? " (d2l-torch built by " + *str(j, "compiler") + ")" : "")));
  const auto cuda_built = boolean(j, "cuda_built");
  const auto cuda_rt = str(j, "cuda_runtime_version");
  const auto cuda_avail = boolean(j, "cuda_available");
  const int count = j.value("device_count", 0);
  std::string cuda_v = cuda_built.value_or(false) ? "in the build" : "not in the build";
  if (cuda_rt) cuda_v += " (CUDA runtime " + *cuda_rt + ")";
  if (cuda_built.value_or(false))
    cuda_v += std::string(", ") + (cuda_avail.value_or(false) ? "available" : "not available") +
              ", " + std::to_string(count) + " device(s)";
  out.push_back(make("torch.cuda", "torch", "CUDA", ProbeStatus::Pass, cuda_v));
  if (j.contains("cudnn_version") && j["cudnn_version"].is_number())
    out.push_back(make("torch.cudnn", "torch", "cuDNN", ProbeStatus::Pass,
                       std::to_string(j["cudnn_version"].get<long>())));
  else
    out.push_back(make("torch.cudnn", "torch", "cuDNN", ProbeStatus::NA, "n/a"));
  out.push_back(make("torch.onednn", "torch", "oneDNN (MKL-DNN)", ProbeStatus::Pass,
                     yes_no(boolean(j, "mkldnn"))));
  out.push_back(
      make("torch.openmp", "torch", "OpenMP", ProbeStatus::Pass, yes_no(boolean(j, "openmp"))));
  const int threads = j.value("threads", 0);
  const int cores = cpu.physical > 0 ? cpu.physical : cpu.logical;
  const bool few = threads > 0 && threads < cores;
  out.push_back(make("torch.threads", "torch", "Threads",
                     few ? ProbeStatus::Warn : ProbeStatus::Pass,
                     std::to_string(threads) + " intra-op, " +
                         std::to_string(j.value("interop_threads", 0)) + " inter-op" +
                         (few ? " on " + std::to_string(cores) +
                                    " cores: set OMP_NUM_THREADS=" + std::to_string(cores)
                              : ""),
                     few ? "few-threads" : ""));
  // BLAS
  const json blas = j.value("blas", json::object());
  const auto core = str(blas, "openblas_core");
  auto b = classify_blas(str(blas, "sgemm_provider").value_or(""), core, cpu);
  for (auto& p : blas_probes(b, cpu, "loaded by d2l-torch")) out.push_back(std::move(p));
  // Compute
  if (j.contains("matmul") && j["matmul"].is_array()) {
    for (const auto& m : j["matmul"]) {
      const std::string dev = m.value("device", "?");
      const std::string id = "compute." + dev, label = "Matrix product on " + dev;
      if (m.contains("error") && m["error"].is_string()) {
        out.push_back(make(id, "compute", label, ProbeStatus::Fail, m["error"].get<std::string>(),
                           "compute-mismatch"));
        continue;
      }
      char v[160];
      std::snprintf(v, sizeof v, "%zux%zu fp32, max relative error %.2g vs CPU fp64 (%.1f ms)",
                    m.value("size", std::size_t{0}), m.value("size", std::size_t{0}),
                    m.value("max_rel_err", 0.0), 1e3 * m.value("seconds", 0.0));
      const bool ok = m.value("ok", false);
      out.push_back(make(id, "compute", label, ok ? ProbeStatus::Pass : ProbeStatus::Fail, v,
                         ok ? "" : "compute-mismatch"));
    }
  }
  return out;
}

DoctorReport run_doctor(const DoctorOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  DoctorReport r;
  r.unix_time =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto add = [&](std::vector<Probe> v) {
    for (auto& p : v) r.probes.push_back(std::move(p));
  };
  add(guarded("system", "system", [&] { return probe_system(o.root); }));
  // Free disk where data is written: the cache, where downloads and unpacked archives go.
  add(guarded("disk", "system",
              [&] { return probe_disks({data::default_cache_dir()}, o.checkpoint_dir); }));
  add(guarded("build", "build", [&] {
    return std::vector<Probe>{
        make("build.compiler", "build", "Compiler", ProbeStatus::Pass,
             o.compiler.empty() ? "n/a" : o.compiler),
        make("build.d2l", "build", "d2l", ProbeStatus::Pass, o.build.empty() ? "n/a" : o.build)};
  }));
  const CpuFeatures cpu = read_cpu_features(o.root);
  // LibTorch, in the child d2l-torch (loading LibTorch here would cost 0.5 s for every command).
  bool torch_known = false;
  std::optional<std::string> torch_cuda;
  if (o.torch_exe.empty()) {
    add({make(
        "torch.version", "torch", "LibTorch", ProbeStatus::NA,
        "n/a (" +
            (o.torch_missing_reason.empty() ? "d2l-torch not found" : o.torch_missing_reason) + ")",
        "torch-missing")});
    add(guarded("blas", "blas", [&] { return probe_blas_without_torch(cpu); }));
  } else {
    const ChildResult c = run_child({o.torch_exe, "doctor-torch", "--json"}, o.torch_timeout_s);
    std::vector<Probe> tp;
    if (c.ok()) {
      tp = guarded("torch", "torch", [&] { return probes_from_torch_json(c.out, cpu); });
      try {
        const json j = json::parse(c.out);
        torch_known = true;
        if (j.value("cuda_built", false))
          torch_cuda = j.contains("cuda_runtime_version") && j["cuda_runtime_version"].is_string()
                           ? j["cuda_runtime_version"].get<std::string>()
                           : std::string("unknown");
      } catch (const std::exception&) {
      }
    } else {
      std::string why = c.describe();
      std::string err = trim(c.err);
      if (!err.empty()) why += ": " + err.substr(0, std::min<std::size_t>(err.find('\n'), 200));
      tp.push_back(make("torch.version", "torch", "LibTorch", ProbeStatus::Fail,
                        o.torch_exe + " doctor-torch: " + why, "torch-failed"));
      add(guarded("blas", "blas", [&] { return probe_blas_without_torch(cpu); }));
    }
    add(std::move(tp));
  }
  add(guarded("nvidia", "nvidia",
              [&] { return probe_nvidia(o.nvml_library, torch_known, torch_cuda); }));
  // LibTorch has CUDA, the driver sees GPUs, yet CUDA is unavailable: say so.
  if (const Probe* gpus = r.find("nvidia.gpus"); gpus && gpus->status == ProbeStatus::Pass)
    if (const Probe* tc = r.find("torch.cuda");
        tc && tc->value.find("in the build") == 0 &&
        tc->value.find("not available") != std::string::npos)
      add({make("torch.cuda_available", "torch", "CUDA usable by LibTorch", ProbeStatus::Fail,
                "no: GPUs visible to the driver but not to LibTorch", "cuda-unavailable")});
  add(guarded("data", "data", [&] { return probe_datasets(o.data_dirs); }));
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::string report_json(const DoctorReport& r, int indent) {
  json j;
  j["schema"] = r.schema;
  j["time"] = r.unix_time;
  j["seconds"] = r.seconds;
  j["ok"] = !r.any_fail();
  json probes = json::array();
  std::map<std::string, int> counts;
  std::set<std::string> hint_ids;
  for (const auto& p : r.probes) {
    probes.push_back({{"id", p.id},
                      {"section", p.section},
                      {"label", p.label},
                      {"status", to_string(p.status)},
                      {"value", p.value},
                      {"hint", p.hint_id.empty() ? json(nullptr) : json(p.hint_id)}});
    ++counts[to_string(p.status)];
    if (!p.hint_id.empty()) hint_ids.insert(p.hint_id);
  }
  j["probes"] = probes;
  j["counts"] = {{"PASS", counts["PASS"]},
                 {"WARN", counts["WARN"]},
                 {"FAIL", counts["FAIL"]},
                 {"n/a", counts["n/a"]}};
  json hints = json::object();
  for (const auto& id : hint_ids)
    if (const Hint* h = find_hint(id)) hints[id] = {{"symptom", h->symptom}, {"fix", h->fix}};
  j["hints"] = hints;
  return j.dump(indent);
}

DoctorReport report_from_json(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    throw bad_input("doctor report: not JSON: " + std::string(e.what()).substr(0, 120));
  }
  if (!j.is_object() || j.value("schema", "") != "d2l.doctor/1")
    throw bad_input("doctor report: expected schema d2l.doctor/1");
  DoctorReport r;
  r.unix_time = j.value("time", 0.0);
  r.seconds = j.value("seconds", 0.0);
  if (!j.contains("probes") || !j["probes"].is_array())
    throw bad_input("doctor report: no probes array");
  for (const auto& p : j["probes"]) {
    if (!p.is_object() || !p.contains("id") || !p["id"].is_string())
      throw bad_input("doctor report: a probe without an id");
    Probe q;
    q.id = p["id"].get<std::string>();
    q.section = p.value("section", "");
    q.label = p.value("label", q.id);
    q.status = probe_status_from_string(p.value("status", "n/a"));
    q.value = p.value("value", "");
    if (p.contains("hint") && p["hint"].is_string()) q.hint_id = p["hint"].get<std::string>();
    r.probes.push_back(std::move(q));
  }
  return r;
}

std::string render_report(const DoctorReport& r, bool color) {
  std::ostringstream o;
  std::string section;
  auto paint = [&](ProbeStatus s) {
    const std::string t = to_string(s);
    if (!color) return t;
    const char* c = s == ProbeStatus::Pass   ? "\033[32m"
                    : s == ProbeStatus::Warn ? "\033[33m"
                    : s == ProbeStatus::Fail ? "\033[31m"
                                             : "\033[2m";
    return std::string(c) + t + "\033[0m";
  };
  std::set<std::string> hints;
  std::map<std::string, int> counts;
  for (const auto& p : r.probes) {
    if (p.section != section) {
      section = p.section;
      o << (o.tellp() > 0 ? "\n" : "") << section << "\n";
    }
    const std::string st = to_string(p.status);
    o << "  " << paint(p.status) << std::string(st.size() < 5 ? 5 - st.size() : 0, ' ') << " "
      << p.label << ": " << p.value << "\n";
    if (!p.hint_id.empty() && p.status != ProbeStatus::Pass) hints.insert(p.hint_id);
    ++counts[st];
  }
  if (!hints.empty()) {
    o << "\nhints\n";
    for (const auto& id : hints)
      if (const Hint* h = find_hint(id)) o << "  " << h->symptom << ": " << h->fix << "\n";
  }
  char tail[160];
  std::snprintf(tail, sizeof tail, "\n%d PASS, %d WARN, %d FAIL, %d n/a (%.2f s)\n", counts["PASS"],
                counts["WARN"], counts["FAIL"], counts["n/a"], r.seconds);
  o << tail;
  return o.str();
}

bool is_volatile_probe(const std::string& id) {
  for (const char* prefix : {"memory", "disk.", "compute.", "nvidia.gpu"})
    if (id.rfind(prefix, 0) == 0 && id != "nvidia.gpus") return true;
  return false;
}

std::vector<ProbeDifference> compare_reports(const DoctorReport& saved, const DoctorReport& now) {
  std::vector<ProbeDifference> out;
  for (const auto& p : now.probes) {
    const Probe* b = saved.find(p.id);
    if (!b) {
      out.push_back({p.id, p.label, std::nullopt, p});
    } else if (b->status != p.status || (b->value != p.value && !is_volatile_probe(p.id))) {
      out.push_back({p.id, p.label, *b, p});
    }
  }
  for (const auto& b : saved.probes)
    if (!now.find(b.id)) out.push_back({b.id, b.label, b, std::nullopt});
  return out;
}

}  // namespace d2l::sys
