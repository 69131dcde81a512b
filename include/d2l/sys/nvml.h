#pragma once
/// \file d2l/sys/nvml.h
/// NVIDIA's management library (NVML), loaded at run time with dlopen("libnvidia-ml.so.1"): no
/// build-time dependency, and one binary runs with or without a GPU. Every value that the driver
/// cannot give (not supported, no permission, no driver) is std::nullopt, shown as n/a.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace d2l::sys {

/// A process using a GPU.
struct GpuProcess {
  unsigned pid = 0;
  std::optional<std::uint64_t> used_memory;  ///< bytes
};

/// One GPU's identity and state.
struct GpuInfo {
  unsigned index = 0;
  std::optional<std::string> name, uuid;
  std::optional<std::uint64_t> memory_total, memory_used;  ///< bytes
  std::optional<unsigned> utilization_gpu;                 ///< percent of time a kernel ran
  std::optional<unsigned> utilization_memory;              ///< percent of time memory was busy
  std::optional<unsigned> temperature_c;
  std::optional<double> power_w, power_limit_w;
  std::optional<unsigned> clock_graphics_mhz, clock_sm_mhz, clock_memory_mhz;
  std::optional<unsigned> clock_max_graphics_mhz, clock_max_memory_mhz;
  std::optional<int> compute_capability_major, compute_capability_minor;
  std::optional<bool> mig_enabled;
  std::vector<GpuProcess> processes;  ///< compute and graphics processes
};

/// The state of the NVML library as found on this machine.
enum class NvmlState {
  Ok,              ///< loaded and initialised
  NotFound,        ///< no libnvidia-ml.so.1 (no NVIDIA driver)
  StubOnly,        ///< only the CUDA toolkit's stub libnvidia-ml.so was found
  MissingSymbols,  ///< the library lacks nvmlInit (not NVML)
  InitFailed,      ///< nvmlInit failed (driver/library version mismatch, driver not loaded, ...)
};

/// A handle on NVML. Construction never throws: check state().
class Nvml {
 public:
  /// Loads `library` ("" means $D2L_NVML_LIBRARY when set, else "libnvidia-ml.so.1") and calls
  /// nvmlInit. The stand-in library of the tests is loaded this way.
  explicit Nvml(const std::string& library = "");
  ~Nvml();
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  NvmlState state() const { return state_; }
  bool ok() const { return state_ == NvmlState::Ok; }
  /// A one-line description of why NVML is not usable ("" when ok), e.g.
  /// "nvmlInit: Driver/library version mismatch".
  const std::string& error() const { return error_; }
  /// The NVML error code of a failed nvmlInit (0 otherwise).
  int init_error_code() const { return init_code_; }
  /// The file the library was loaded from ("" when none).
  const std::string& library_path() const { return library_path_; }

  /// The driver's version, e.g. "550.54.15".
  std::optional<std::string> driver_version() const;
  /// The highest CUDA version the driver supports, as major*1000 + minor*10 (12040 for 12.4).
  std::optional<int> cuda_driver_version() const;
  /// The number of GPUs.
  std::optional<unsigned> device_count() const;
  /// One GPU's state; `with_processes` also lists its processes.
  GpuInfo gpu(unsigned index, bool with_processes = true) const;
  /// All GPUs.
  std::vector<GpuInfo> gpus(bool with_processes = true) const;

  struct Api;  ///< the resolved functions (private to nvml.cpp)

 private:
  NvmlState state_ = NvmlState::NotFound;
  std::string error_;
  std::string library_path_;
  int init_code_ = 0;
  void* handle_ = nullptr;
  std::unique_ptr<Api> api_;
};

/// Formats a CUDA version code (12040) as "12.4".
std::string format_cuda_version(int code);

/// The NVML error code for "Driver/library version mismatch".
constexpr int kNvmlErrorLibRmVersionMismatch = 18;

}  // namespace d2l::sys
