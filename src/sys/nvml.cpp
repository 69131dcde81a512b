#include "d2l/sys/nvml.h"

#include <dlfcn.h>
#include <link.h>

#include <cstdlib>
#include <cstring>

namespace d2l::sys {
namespace {

// The parts of nvml.h we use, declared from NVIDIA's published API (the C ABI is stable).
using nvmlReturn_t = int;
using nvmlDevice_t = void*;
constexpr nvmlReturn_t kSuccess = 0;
constexpr nvmlReturn_t kInsufficientSize = 7;
constexpr unsigned kTemperatureGpu = 0;
constexpr unsigned kClockGraphics = 0, kClockSm = 1, kClockMem = 2;
constexpr unsigned kBufferSize = 96;

struct nvmlMemory_t {
  unsigned long long total, free, used;
};
struct nvmlUtilization_t {
  unsigned int gpu, memory;
};
struct nvmlProcessInfo_v1_t {
  unsigned int pid;
  unsigned long long usedGpuMemory;
};
struct nvmlProcessInfo_v2_t {  // the layout of the _v2 and _v3 process queries
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId, computeInstanceId;
};
constexpr unsigned long long kNvmlValueNotAvailable = ~0ULL;

template <typename F>
F sym(void* h, const char* name) {
  return reinterpret_cast<F>(::dlsym(h, name));
}

}  // namespace

struct Nvml::Api {
  nvmlReturn_t (*init)() = nullptr;
  nvmlReturn_t (*shutdown)() = nullptr;
  const char* (*error_string)(nvmlReturn_t) = nullptr;
  nvmlReturn_t (*driver_version)(char*, unsigned) = nullptr;
  nvmlReturn_t (*cuda_version)(int*) = nullptr;
  nvmlReturn_t (*count)(unsigned*) = nullptr;
  nvmlReturn_t (*handle)(unsigned, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*name)(nvmlDevice_t, char*, unsigned) = nullptr;
  nvmlReturn_t (*uuid)(nvmlDevice_t, char*, unsigned) = nullptr;
  nvmlReturn_t (*memory)(nvmlDevice_t, nvmlMemory_t*) = nullptr;
  nvmlReturn_t (*utilization)(nvmlDevice_t, nvmlUtilization_t*) = nullptr;
  nvmlReturn_t (*temperature)(nvmlDevice_t, unsigned, unsigned*) = nullptr;
  nvmlReturn_t (*power)(nvmlDevice_t, unsigned*) = nullptr;
  nvmlReturn_t (*power_limit)(nvmlDevice_t, unsigned*) = nullptr;
  nvmlReturn_t (*clock)(nvmlDevice_t, unsigned, unsigned*) = nullptr;
  nvmlReturn_t (*max_clock)(nvmlDevice_t, unsigned, unsigned*) = nullptr;
  nvmlReturn_t (*compute_capability)(nvmlDevice_t, int*, int*) = nullptr;
  nvmlReturn_t (*mig_mode)(nvmlDevice_t, unsigned*, unsigned*) = nullptr;
  // Process queries: the _v3/_v2 variants (v2 layout) are preferred; v1 is the fallback.
  nvmlReturn_t (*compute_procs_v2)(nvmlDevice_t, unsigned*, nvmlProcessInfo_v2_t*) = nullptr;
  nvmlReturn_t (*graphics_procs_v2)(nvmlDevice_t, unsigned*, nvmlProcessInfo_v2_t*) = nullptr;
  nvmlReturn_t (*compute_procs_v1)(nvmlDevice_t, unsigned*, nvmlProcessInfo_v1_t*) = nullptr;
  nvmlReturn_t (*graphics_procs_v1)(nvmlDevice_t, unsigned*, nvmlProcessInfo_v1_t*) = nullptr;

  std::string describe(nvmlReturn_t r) const {
    const char* s = error_string ? error_string(r) : nullptr;
    return s ? std::string(s) : "NVML error " + std::to_string(r);
  }
};

namespace {

template <typename F>
F first_sym(void* h, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (auto f = sym<F>(h, n)) return f;
  return nullptr;
}

std::string loaded_path(void* handle) {
  link_map* lm = nullptr;
  if (::dlinfo(handle, RTLD_DI_LINKMAP, &lm) == 0 && lm && lm->l_name) return lm->l_name;
  return "";
}

}  // namespace

std::string format_cuda_version(int code) {
  return std::to_string(code / 1000) + "." + std::to_string((code % 1000) / 10);
}

Nvml::Nvml(const std::string& library) : api_(std::make_unique<Api>()) {
  std::string lib = library;
  if (lib.empty())
    if (const char* env = std::getenv("D2L_NVML_LIBRARY"); env && *env) lib = env;
  if (lib.empty()) lib = "libnvidia-ml.so.1";
  handle_ = ::dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle_) {
    const char* why = ::dlerror();
    error_ = why ? why : lib + ": cannot load";
    if (error_.find("No such file") != std::string::npos ||
        error_.find("cannot open") != std::string::npos)
      error_ = lib + " not found (no NVIDIA driver)";
    state_ = NvmlState::NotFound;
    // The CUDA toolkit ships a link-time stub (stubs/libnvidia-ml.so) that cannot work: say so.
    if (lib == "libnvidia-ml.so.1") {
      if (void* stub = ::dlopen("libnvidia-ml.so", RTLD_LAZY | RTLD_LOCAL)) {
        const std::string p = loaded_path(stub);
        ::dlclose(stub);
        state_ = NvmlState::StubOnly;
        error_ = "only the stub " + (p.empty() ? std::string("libnvidia-ml.so") : p) +
                 " was found, not the driver's libnvidia-ml.so.1";
      }
    }
    return;
  }
  library_path_ = loaded_path(handle_);
  if (library_path_.find("/stubs/") != std::string::npos) {
    state_ = NvmlState::StubOnly;
    error_ = "only the stub " + library_path_ + " was found, not the driver's libnvidia-ml.so.1";
    return;
  }
  Api& a = *api_;
  a.init = first_sym<decltype(a.init)>(handle_, {"nvmlInit_v2", "nvmlInit"});
  a.shutdown = sym<decltype(a.shutdown)>(handle_, "nvmlShutdown");
  a.error_string = sym<decltype(a.error_string)>(handle_, "nvmlErrorString");
  a.driver_version = sym<decltype(a.driver_version)>(handle_, "nvmlSystemGetDriverVersion");
  a.cuda_version = first_sym<decltype(a.cuda_version)>(
      handle_, {"nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion"});
  a.count = first_sym<decltype(a.count)>(handle_, {"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"});
  a.handle = first_sym<decltype(a.handle)>(
      handle_, {"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"});
  a.name = sym<decltype(a.name)>(handle_, "nvmlDeviceGetName");
  a.uuid = sym<decltype(a.uuid)>(handle_, "nvmlDeviceGetUUID");
  a.memory = sym<decltype(a.memory)>(handle_, "nvmlDeviceGetMemoryInfo");
  a.utilization = sym<decltype(a.utilization)>(handle_, "nvmlDeviceGetUtilizationRates");
  a.temperature = sym<decltype(a.temperature)>(handle_, "nvmlDeviceGetTemperature");
  a.power = sym<decltype(a.power)>(handle_, "nvmlDeviceGetPowerUsage");
  a.power_limit = sym<decltype(a.power_limit)>(handle_, "nvmlDeviceGetEnforcedPowerLimit");
  a.clock = sym<decltype(a.clock)>(handle_, "nvmlDeviceGetClockInfo");
  a.max_clock = sym<decltype(a.max_clock)>(handle_, "nvmlDeviceGetMaxClockInfo");
  a.compute_capability =
      sym<decltype(a.compute_capability)>(handle_, "nvmlDeviceGetCudaComputeCapability");
  a.mig_mode = sym<decltype(a.mig_mode)>(handle_, "nvmlDeviceGetMigMode");
  a.compute_procs_v2 = first_sym<decltype(a.compute_procs_v2)>(
      handle_,
      {"nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2"});
  a.graphics_procs_v2 = first_sym<decltype(a.graphics_procs_v2)>(
      handle_,
      {"nvmlDeviceGetGraphicsRunningProcesses_v3", "nvmlDeviceGetGraphicsRunningProcesses_v2"});
  a.compute_procs_v1 =
      sym<decltype(a.compute_procs_v1)>(handle_, "nvmlDeviceGetComputeRunningProcesses");
  a.graphics_procs_v1 =
      sym<decltype(a.graphics_procs_v1)>(handle_, "nvmlDeviceGetGraphicsRunningProcesses");
  if (!a.init) {
    state_ = NvmlState::MissingSymbols;
    error_ = library_path_ + ": no nvmlInit (not NVML)";
    return;
  }
  const nvmlReturn_t r = a.init();
  if (r != kSuccess) {
    state_ = NvmlState::InitFailed;
    init_code_ = r;
    error_ = "nvmlInit: " + a.describe(r);
    return;
  }
  state_ = NvmlState::Ok;
}

Nvml::~Nvml() {
  if (state_ == NvmlState::Ok && api_->shutdown) api_->shutdown();
  if (handle_) ::dlclose(handle_);
}

std::optional<std::string> Nvml::driver_version() const {
  char buf[kBufferSize] = {};
  if (!ok() || !api_->driver_version || api_->driver_version(buf, sizeof buf) != kSuccess)
    return std::nullopt;
  return std::string(buf);
}

std::optional<int> Nvml::cuda_driver_version() const {
  int v = 0;
  if (!ok() || !api_->cuda_version || api_->cuda_version(&v) != kSuccess) return std::nullopt;
  return v;
}

std::optional<unsigned> Nvml::device_count() const {
  unsigned n = 0;
  if (!ok() || !api_->count || api_->count(&n) != kSuccess) return std::nullopt;
  return n;
}

namespace {

template <typename Info, typename Fn>
void append_processes(Fn fn, nvmlDevice_t dev, std::vector<GpuProcess>& out) {
  unsigned n = 0;
  nvmlReturn_t r = fn(dev, &n, nullptr);
  if (r != kSuccess && r != kInsufficientSize) return;
  if (n == 0) return;
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::vector<Info> buf(n + 8);  // room for processes that start meanwhile
    unsigned got = static_cast<unsigned>(buf.size());
    r = fn(dev, &got, buf.data());
    if (r == kInsufficientSize) {
      n = got + 8;
      continue;
    }
    if (r != kSuccess) return;
    for (unsigned i = 0; i < got && i < buf.size(); ++i) {
      bool seen = false;
      for (auto& p : out)
        if (p.pid == buf[i].pid) seen = true;
      if (seen) continue;
      GpuProcess p;
      p.pid = buf[i].pid;
      if (buf[i].usedGpuMemory != kNvmlValueNotAvailable) p.used_memory = buf[i].usedGpuMemory;
      out.push_back(p);
    }
    return;
  }
}

}  // namespace

GpuInfo Nvml::gpu(unsigned index, bool with_processes) const {
  GpuInfo g;
  g.index = index;
  if (!ok() || !api_->handle) return g;
  nvmlDevice_t dev = nullptr;
  if (api_->handle(index, &dev) != kSuccess) return g;
  const Api& a = *api_;
  char buf[kBufferSize] = {};
  if (a.name && a.name(dev, buf, sizeof buf) == kSuccess) g.name = std::string(buf);
  std::memset(buf, 0, sizeof buf);
  if (a.uuid && a.uuid(dev, buf, sizeof buf) == kSuccess) g.uuid = std::string(buf);
  nvmlMemory_t mem{};
  if (a.memory && a.memory(dev, &mem) == kSuccess) {
    g.memory_total = mem.total;
    g.memory_used = mem.used;
  }
  nvmlUtilization_t util{};
  if (a.utilization && a.utilization(dev, &util) == kSuccess) {
    g.utilization_gpu = util.gpu;
    g.utilization_memory = util.memory;
  }
  unsigned u = 0;
  if (a.temperature && a.temperature(dev, kTemperatureGpu, &u) == kSuccess) g.temperature_c = u;
  if (a.power && a.power(dev, &u) == kSuccess) g.power_w = u / 1000.0;
  if (a.power_limit && a.power_limit(dev, &u) == kSuccess) g.power_limit_w = u / 1000.0;
  if (a.clock && a.clock(dev, kClockGraphics, &u) == kSuccess) g.clock_graphics_mhz = u;
  if (a.clock && a.clock(dev, kClockSm, &u) == kSuccess) g.clock_sm_mhz = u;
  if (a.clock && a.clock(dev, kClockMem, &u) == kSuccess) g.clock_memory_mhz = u;
  if (a.max_clock && a.max_clock(dev, kClockGraphics, &u) == kSuccess) g.clock_max_graphics_mhz = u;
  if (a.max_clock && a.max_clock(dev, kClockMem, &u) == kSuccess) g.clock_max_memory_mhz = u;
  int major = 0, minor = 0;
  if (a.compute_capability && a.compute_capability(dev, &major, &minor) == kSuccess) {
    g.compute_capability_major = major;
    g.compute_capability_minor = minor;
  }
  unsigned current = 0, pending = 0;
  if (a.mig_mode && a.mig_mode(dev, &current, &pending) == kSuccess) g.mig_enabled = current != 0;
  if (with_processes) {
    if (a.compute_procs_v2)
      append_processes<nvmlProcessInfo_v2_t>(a.compute_procs_v2, dev, g.processes);
    else if (a.compute_procs_v1)
      append_processes<nvmlProcessInfo_v1_t>(a.compute_procs_v1, dev, g.processes);
    if (a.graphics_procs_v2)
      append_processes<nvmlProcessInfo_v2_t>(a.graphics_procs_v2, dev, g.processes);
    else if (a.graphics_procs_v1)
      append_processes<nvmlProcessInfo_v1_t>(a.graphics_procs_v1, dev, g.processes);
  }
  return g;
}

std::vector<GpuInfo> Nvml::gpus(bool with_processes) const {
  std::vector<GpuInfo> out;
  const auto n = device_count();
  if (!n) return out;
  for (unsigned i = 0; i < *n; ++i) out.push_back(gpu(i, with_processes));
  return out;
}

}  // namespace d2l::sys
