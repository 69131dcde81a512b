#pragma once
/// \file d2l/core/procfs.h
/// The one reader of Linux's /proc and /sys, for every area (doctor, monitor, autostop, the
/// notebook's process checks). Every reader takes the file-system root as a parameter ("/" for
/// the running machine), so tests can point it at a fixture tree. A file that is missing or
/// unreadable gives std::nullopt (or an empty list): these readers never throw for the state of
/// the machine.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace d2l::procfs {

/// The time a CPU spent in each state, in clock ticks (USER_HZ, usually 100 per second), from a
/// `cpu` line of /proc/stat.
struct CpuTimes {
  std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                steal = 0;
  /// All ticks (guest time is already counted in user and nice).
  std::uint64_t total() const {
    return user + nice + system + idle + iowait + irq + softirq + steal;
  }
  /// Ticks not idle (idle and iowait are idle).
  std::uint64_t busy() const { return total() - idle - iowait; }
};

/// /proc/stat's CPU lines. `cores[i]` is CPU number i; a CPU that is offline (in
/// sys/devices/system/cpu/offline, or missing from /proc/stat) is std::nullopt.
struct CpuStat {
  CpuTimes total;
  std::vector<std::optional<CpuTimes>> cores;
};

/// Reads ROOT/proc/stat and ROOT/sys/devices/system/cpu/{present,offline}.
std::optional<CpuStat> read_cpu_stat(const std::string& root = "/");

/// Busy share of the ticks between two samples, in percent (0..100); nullopt when no tick passed.
std::optional<double> cpu_percent(const CpuTimes& before, const CpuTimes& after);

/// Parses a kernel CPU list like "0-3,5,7-8" into {0,1,2,3,5,7,8}; throws d2l::Error (BadInput)
/// on malformed text. An empty (or all-blank) list is empty.
std::vector<int> parse_cpu_list(const std::string& text);

/// /proc/loadavg.
struct LoadAvg {
  double one = 0, five = 0, fifteen = 0;
  int running = 0;  ///< runnable tasks
  int total = 0;    ///< all tasks
};
/// Reads ROOT/proc/loadavg.
std::optional<LoadAvg> read_loadavg(const std::string& root = "/");

/// Seconds since boot, from ROOT/proc/uptime.
std::optional<double> read_uptime(const std::string& root = "/");

/// This boot's id (ROOT/proc/sys/kernel/random/boot_id), a new one after every reboot.
std::optional<std::string> read_boot_id(const std::string& root = "/");

/// /proc/meminfo, in bytes.
struct MemInfo {
  std::uint64_t total = 0, free = 0, available = 0, buffers = 0, cached = 0;
  std::uint64_t swap_total = 0, swap_free = 0;
  /// Memory in use by programs: total - available.
  std::uint64_t used() const { return total > available ? total - available : 0; }
  std::uint64_t swap_used() const { return swap_total > swap_free ? swap_total - swap_free : 0; }
};
std::optional<MemInfo> read_meminfo(const std::string& root = "/");

/// The memory limit of the control group a process runs in (a container's limit).
struct CgroupMemory {
  int version = 0;   ///< 1 or 2
  std::string path;  ///< the group, e.g. "/docker/abc"
  std::optional<std::uint64_t>
      limit;  ///< bytes; nullopt when unlimited ("max", or v1's huge value)
  std::optional<std::uint64_t> usage;  ///< bytes in use by the group
};
/// Reads ROOT/proc/<pid>/cgroup and the group's memory files under ROOT/sys/fs/cgroup (v2:
/// memory.max, memory.current; v1: memory/memory.limit_in_bytes, memory.usage_in_bytes). When
/// the group's folder is not visible (a container sees its own group as the root), the root
/// group's files are used. nullopt when there is no memory controller.
std::optional<CgroupMemory> read_cgroup_memory(const std::string& root = "/",
                                               const std::string& pid = "self");

/// One line of /proc/mounts, with the kernel's octal escapes (`\040` for a space) decoded.
struct Mount {
  std::string device, mount_point, fs_type, options;
};
std::vector<Mount> read_mounts(const std::string& root = "/");
/// Decodes the kernel's octal escapes (`\040`, `\011`, `\012`, `\134`) in a mounts field.
std::string unescape_mount_field(const std::string& field);
/// Whether a file system holds data on a device or a network (ext4, xfs, nfs, overlay, ...), as
/// opposed to a kernel one (proc, sysfs, cgroup, tmpfs, ...).
bool is_storage_fs(const std::string& fs_type);

/// Size and free space of a file system, in bytes (statvfs).
struct DiskUsage {
  std::uint64_t total = 0, free = 0, available = 0;  ///< available: free to unprivileged users
  std::uint64_t used() const { return total > free ? total - free : 0; }
};
/// statvfs of `path`; nullopt when it fails.
std::optional<DiskUsage> disk_usage(const std::string& path);

/// A storage mount with its usage (nullopt when statvfs fails).
struct Disk {
  Mount mount;
  std::optional<DiskUsage> usage;
};
/// The storage mounts of ROOT/proc/mounts (one per device; statvfs of ROOT + mount point).
std::vector<Disk> read_disks(const std::string& root = "/");

/// One interface of /proc/net/dev (counters since boot).
struct NetDev {
  std::string name;
  std::uint64_t rx_bytes = 0, rx_packets = 0, tx_bytes = 0, tx_packets = 0;
};
std::vector<NetDev> read_net_dev(const std::string& root = "/");

/// A process, from /proc/<pid>/{stat,status,cmdline}.
struct ProcessInfo {
  int pid = 0;
  int ppid = 0;
  std::string comm;                  ///< the kernel's short name (may contain spaces and ')')
  char state = '?';                  ///< R, S, D, Z (zombie), X (dead), ...
  int tty_nr = 0;                    ///< controlling terminal (a device number); 0 for none
  std::uint64_t cpu_ticks = 0;       ///< utime + stime, clock ticks
  std::uint64_t start_ticks = 0;     ///< since boot, clock ticks
  std::uint64_t rss_bytes = 0;       ///< resident memory (VmRSS)
  std::optional<unsigned> uid;       ///< real uid
  std::vector<std::string> cmdline;  ///< argv; empty for kernel threads
};
/// The numeric entries of ROOT/proc, ascending.
std::vector<int> list_pids(const std::string& root = "/");
/// Reads one process; nullopt when it is gone or unreadable.
std::optional<ProcessInfo> read_process(const std::string& root, int pid);
/// Parses the contents of a /proc/<pid>/stat file; nullopt when malformed.
std::optional<ProcessInfo> parse_proc_stat(const std::string& text);
/// Reads only ROOT/proc/<pid>/stat (cheap: no status, no cmdline); nullopt when gone.
std::optional<ProcessInfo> read_process_stat(const std::string& root, int pid);
/// Splits the contents of a /proc/<pid>/cmdline file (NUL-separated) into argv.
std::vector<std::string> split_cmdline(const std::string& text);
/// The argv of ROOT/proc/<pid>/cmdline; empty when gone, unreadable, or a kernel thread.
std::vector<std::string> read_cmdline(const std::string& root, int pid);

/// What a process is, as far as the book's work goes.
enum class ProcessKind {
  other,           ///< nothing the tools track
  jupyter_kernel,  ///< an IPython kernel (`python -m ipykernel_launcher`, `ipykernel`)
  training_run,    ///< `d2l train` / `d2l-torch train`
};

/// Classifies a process by its argv. A training run is a program named `d2l` or `d2l-torch` (any
/// folder) whose subcommand, its first argument that is not an option (`-x`, `--x`), is `train`;
/// that program may stand behind a wrapper or an interpreter (`nice d2l train`, `env ... d2l-torch
/// train`). So `d2l --verbose train` is one, while `d2l notebook start --root train` and `vim
/// train` are not. A Jupyter kernel is any argv holding `ipykernel_launcher` (or the argument
/// `ipykernel`). Empty argv (kernel threads) is `other`.
ProcessKind classify_process(const std::vector<std::string>& cmdline);

/// The name monitor shows and writes for a kind: "jupyter", "d2l-train", "" for other.
const char* process_kind_name(ProcessKind kind);

/// Maps uids to user names from ROOT/etc/passwd (read once); unknown uids map to their number.
class UserNames {
 public:
  explicit UserNames(const std::string& root = "/");
  std::string name(unsigned uid) const;

 private:
  std::vector<std::pair<unsigned, std::string>> users_;
};

/// The first line of a file under ROOT, without its newline; nullopt when unreadable.
std::optional<std::string> read_first_line(const std::string& root, const std::string& path);
/// A whole small file under ROOT (read without stat: /proc files report size 0).
std::optional<std::string> read_small_file(const std::string& root, const std::string& path);

/// Joins a root and an absolute path: ("/", "/proc/stat") -> "/proc/stat",
/// ("/tmp/fx", "/proc/stat") -> "/tmp/fx/proc/stat".
std::string under_root(const std::string& root, const std::string& path);

/// Clock ticks per second (sysconf(_SC_CLK_TCK)).
long clock_ticks_per_second();

}  // namespace d2l::procfs
