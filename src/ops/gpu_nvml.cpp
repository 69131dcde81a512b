// A minimal, private NVML binding for `d2l autostop`: GPU utilisation only, loaded at run time
// with dlopen so one binary runs with or without the NVIDIA driver. (d2l/sys/nvml.h, the full
// binding for `d2l doctor`/`d2l monitor`, lives on another branch; this one can go once it lands.)
#include <dlfcn.h>

#include <string>
#include <vector>

#include "d2l/ops/autostop.h"

namespace d2l::ops {
namespace {

// The few NVML types and entry points we use, from NVIDIA's public nvml.h ABI.
using nvmlReturn_t = int;
using nvmlDevice_t = void*;
struct NvmlUtilization {
  unsigned int gpu;     // percent of time a kernel ran over the last sample period
  unsigned int memory;  // percent of time memory was read or written
};
constexpr nvmlReturn_t kNvmlSuccess = 0;

}  // namespace

std::vector<double> gpu_utilisation(std::string* why) {
  std::vector<double> out;
  void* lib = ::dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    if (why) *why = "no NVIDIA driver (libnvidia-ml.so.1 not found)";
    return out;
  }
  auto sym = [&](const char* name) { return ::dlsym(lib, name); };
  auto init = reinterpret_cast<nvmlReturn_t (*)()>(sym("nvmlInit_v2"));
  auto shutdown = reinterpret_cast<nvmlReturn_t (*)()>(sym("nvmlShutdown"));
  auto count = reinterpret_cast<nvmlReturn_t (*)(unsigned int*)>(sym("nvmlDeviceGetCount_v2"));
  auto handle = reinterpret_cast<nvmlReturn_t (*)(unsigned int, nvmlDevice_t*)>(
      sym("nvmlDeviceGetHandleByIndex_v2"));
  auto util = reinterpret_cast<nvmlReturn_t (*)(nvmlDevice_t, NvmlUtilization*)>(
      sym("nvmlDeviceGetUtilizationRates"));
  if (!init || !shutdown || !count || !handle || !util) {
    if (why) *why = "libnvidia-ml.so.1 lacks the NVML functions we need";
    ::dlclose(lib);
    return out;
  }
  if (init() != kNvmlSuccess) {
    if (why) *why = "nvmlInit failed (driver not loaded?)";
    ::dlclose(lib);
    return out;
  }
  unsigned int n = 0;
  if (count(&n) == kNvmlSuccess) {
    for (unsigned int i = 0; i < n; ++i) {
      nvmlDevice_t dev = nullptr;
      NvmlUtilization u{};
      if (handle(i, &dev) == kNvmlSuccess && util(dev, &u) == kNvmlSuccess)
        out.push_back(static_cast<double>(u.gpu));
      else
        out.push_back(-1);  // unknown for this GPU
    }
  }
  if (out.empty() && why) *why = "NVML sees no GPU";
  shutdown();
  ::dlclose(lib);
  return out;
}

}  // namespace d2l::ops
