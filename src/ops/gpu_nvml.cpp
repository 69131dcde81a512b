// d2l autostop's GPU signal: each GPU's utilisation through the one NVML binding of d2l
// (d2l/sys/nvml.h, loaded at run time with dlopen, so one binary runs with or without the
// NVIDIA driver).
#include <string>
#include <vector>

#include "d2l/ops/autostop.h"
#include "d2l/sys/nvml.h"

namespace d2l::ops {

std::vector<double> gpu_utilisation(std::string* why) {
  std::vector<double> out;
  const d2l::sys::Nvml nvml;
  if (!nvml.ok()) {
    if (why) *why = nvml.error().empty() ? "NVML not usable" : nvml.error();
    return out;
  }
  for (const auto& g : nvml.gpus(/*with_processes=*/false))
    out.push_back(g.utilization_gpu ? static_cast<double>(*g.utilization_gpu) : -1.0);
  if (out.empty() && why) *why = "NVML sees no GPU";
  return out;
}

}  // namespace d2l::ops
