#pragma once
/// \file d2l/sys/monitor.h
/// The machine's state at a moment: CPU, load, memory (and the container's limit), disks,
/// network, GPUs and their processes, the top processes. A `Monitor` keeps the previous sample so
/// that rates (CPU %, network bytes/s) cover the time between two samples.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "d2l/sys/nvml.h"
#include "d2l/sys/procfs.h"

namespace d2l::sys {

/// One process in a sample.
struct ProcessSample {
  int pid = 0;
  std::string user;
  std::string name;     ///< the program's base name (or the kernel's comm)
  std::string command;  ///< the command line, arguments joined with spaces
  /// procfs::classify_process() of its argv (written as process_kind_name(): "jupyter",
  /// "d2l-train", or null/nothing for other).
  procfs::ProcessKind tag = procfs::ProcessKind::other;
  std::optional<double> cpu_percent;  ///< of one core, over the last interval
  std::uint64_t rss_bytes = 0;
  std::optional<unsigned> gpu_index;              ///< for GPU processes
  std::optional<std::uint64_t> gpu_memory_bytes;  ///< for GPU processes
};

/// One network interface's counters and rates.
struct NetSample {
  std::string name;
  std::uint64_t rx_bytes = 0, tx_bytes = 0;
  std::optional<double> rx_bytes_per_s, tx_bytes_per_s;
};

/// Everything a refresh shows. Missing values are std::nullopt (n/a).
struct Snapshot {
  double unix_time = 0;                             ///< seconds since the epoch
  std::optional<double> interval_s;                 ///< the time the rates cover
  std::optional<double> cpu_percent;                ///< all CPUs, 0..100
  std::vector<std::optional<double>> core_percent;  ///< per CPU id; nullopt = offline or n/a
  std::optional<LoadAvg> load;
  std::optional<MemInfo> memory;
  std::optional<CgroupMemory> cgroup;
  std::vector<Disk> disks;
  std::vector<NetSample> net;
  std::string nvml_status;  ///< "ok" or why NVML is n/a
  std::optional<std::string> driver_version;
  std::optional<int> cuda_driver_version;
  std::vector<GpuInfo> gpus;
  std::vector<ProcessSample> gpu_processes;
  std::vector<ProcessSample> top_cpu, top_memory;
  std::vector<ProcessSample> marked;  ///< every Jupyter kernel and d2l train run
};

/// Options of a Monitor.
struct MonitorOptions {
  std::string root = "/";    ///< the file-system root to read /proc and /sys under
  std::string nvml_library;  ///< "" = $D2L_NVML_LIBRARY or libnvidia-ml.so.1
  bool use_nvml = true;      ///< false skips NVML (tests on fixture trees)
  std::size_t top = 5;       ///< processes in each top list
};

/// Takes samples of the machine. Not thread-safe.
class Monitor {
 public:
  explicit Monitor(MonitorOptions options = {});
  ~Monitor();
  /// A new sample; the rates cover the time since the previous call (n/a on the first call).
  Snapshot sample();

 private:
  MonitorOptions opt_;
  std::unique_ptr<Nvml> nvml_;
  UserNames users_;
  std::optional<CpuStat> prev_cpu_;
  std::map<int, std::uint64_t> prev_ticks_;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> prev_net_;
  double prev_time_ = 0;
};

/// The snapshot as JSON (schema in docs/machine-tools.md), on one line when `indent` < 0.
std::string snapshot_json(const Snapshot& s, int indent = -1);
/// A screen's worth of text for a person, `width` columns wide.
std::string render_snapshot(const Snapshot& s, int width = 100);
/// The CSV header line for a snapshot with `gpus` GPUs (no newline).
std::string csv_header(std::size_t gpus);
/// One CSV row (no newline); empty cells are n/a.
std::string csv_row(const Snapshot& s);

/// Formats bytes with binary units: "512 B", "3.2 KiB", "15.6 GiB".
std::string format_bytes(double bytes);

}  // namespace d2l::sys
