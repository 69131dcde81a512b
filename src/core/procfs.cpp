#include "d2l/core/procfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>

#include "d2l/core/error.h"

namespace d2l::procfs {
namespace {

constexpr std::uint64_t kCgroupV1Unlimited = 1ULL << 62;  // v1 reports ~2^63 rounded to a page

std::vector<std::string> split_ws(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

std::optional<std::uint64_t> to_u64(const std::string& s) {
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (errno != 0 || (end && *end != '\0')) return std::nullopt;
  return static_cast<std::uint64_t>(v);
}

std::optional<CpuTimes> parse_cpu_fields(const std::vector<std::string>& f) {
  if (f.size() < 5) return std::nullopt;
  std::uint64_t v[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (std::size_t i = 1; i < f.size() && i <= 8; ++i) {
    auto x = to_u64(f[i]);
    if (!x) return std::nullopt;
    v[i - 1] = *x;
  }
  CpuTimes t;
  t.user = v[0];
  t.nice = v[1];
  t.system = v[2];
  t.idle = v[3];
  t.iowait = v[4];
  t.irq = v[5];
  t.softirq = v[6];
  t.steal = v[7];
  return t;
}

std::string trim(const std::string& s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

}  // namespace

std::string under_root(const std::string& root, const std::string& path) {
  if (root.empty() || root == "/") return path;
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  return r + path;
}

std::optional<std::string> read_small_file(const std::string& root, const std::string& path) {
  const std::string full = under_root(root, path);
  const int fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::optional<std::string> read_first_line(const std::string& root, const std::string& path) {
  auto text = read_small_file(root, path);
  if (!text) return std::nullopt;
  return text->substr(0, text->find('\n'));
}

long clock_ticks_per_second() {
  static const long hz = [] {
    const long v = ::sysconf(_SC_CLK_TCK);
    return v > 0 ? v : 100L;
  }();
  return hz;
}

std::vector<int> parse_cpu_list(const std::string& text) {
  std::vector<int> out;
  const std::string t = trim(text);
  if (t.empty()) return out;
  std::stringstream in(t);
  std::string part;
  auto num = [&](const std::string& s) {
    auto v = to_u64(trim(s));
    if (!v || *v > 1u << 20) throw bad_input("cpu list: malformed '" + t + "'");
    return static_cast<int>(*v);
  };
  while (std::getline(in, part, ',')) {
    const auto dash = part.find('-');
    if (dash == std::string::npos) {
      out.push_back(num(part));
    } else {
      const int a = num(part.substr(0, dash)), b = num(part.substr(dash + 1));
      if (b < a) throw bad_input("cpu list: malformed '" + t + "'");
      for (int i = a; i <= b; ++i) out.push_back(i);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::optional<CpuStat> read_cpu_stat(const std::string& root) {
  auto text = read_small_file(root, "/proc/stat");
  if (!text) return std::nullopt;
  CpuStat st;
  bool have_total = false;
  std::vector<std::pair<int, CpuTimes>> seen;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, 3, "cpu") != 0) continue;
    const auto f = split_ws(line);
    if (f.empty()) continue;
    auto t = parse_cpu_fields(f);
    if (!t) continue;
    if (f[0] == "cpu") {
      st.total = *t;
      have_total = true;
    } else if (auto id = to_u64(f[0].substr(3)); id && *id < (1u << 20)) {
      seen.emplace_back(static_cast<int>(*id), *t);
    }
  }
  if (!have_total) return std::nullopt;
  int count = 0;
  for (auto& [id, t] : seen) count = std::max(count, id + 1);
  std::set<int> offline;
  try {
    if (auto present = read_first_line(root, "/sys/devices/system/cpu/present"))
      for (int id : parse_cpu_list(*present)) count = std::max(count, id + 1);
    if (auto off = read_first_line(root, "/sys/devices/system/cpu/offline"))
      for (int id : parse_cpu_list(*off)) offline.insert(id);
  } catch (const Error&) {
    // A malformed sysfs list: rely on /proc/stat alone.
  }
  st.cores.assign(static_cast<std::size_t>(count), std::nullopt);
  for (auto& [id, t] : seen)
    if (!offline.count(id)) st.cores[static_cast<std::size_t>(id)] = t;
  return st;
}

std::optional<double> cpu_percent(const CpuTimes& before, const CpuTimes& after) {
  if (after.total() <= before.total()) return std::nullopt;
  const double dt = static_cast<double>(after.total() - before.total());
  const double db =
      after.busy() >= before.busy() ? static_cast<double>(after.busy() - before.busy()) : 0.0;
  return std::min(100.0, 100.0 * db / dt);
}

std::optional<LoadAvg> read_loadavg(const std::string& root) {
  auto line = read_first_line(root, "/proc/loadavg");
  if (!line) return std::nullopt;
  LoadAvg l;
  if (std::sscanf(line->c_str(), "%lf %lf %lf %d/%d", &l.one, &l.five, &l.fifteen, &l.running,
                  &l.total) != 5)
    return std::nullopt;
  return l;
}

std::optional<double> read_uptime(const std::string& root) {
  auto line = read_first_line(root, "/proc/uptime");
  if (!line) return std::nullopt;
  double up = 0;
  if (std::sscanf(line->c_str(), "%lf", &up) != 1 || up < 0) return std::nullopt;
  return up;
}

std::optional<std::string> read_boot_id(const std::string& root) {
  auto line = read_first_line(root, "/proc/sys/kernel/random/boot_id");
  if (!line) return std::nullopt;
  std::string id = trim(*line);
  if (id.empty()) return std::nullopt;
  return id;
}

std::optional<MemInfo> read_meminfo(const std::string& root) {
  auto text = read_small_file(root, "/proc/meminfo");
  if (!text) return std::nullopt;
  MemInfo m;
  bool have_total = false, have_available = false;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, colon);
    const auto f = split_ws(line.substr(colon + 1));
    if (f.empty()) continue;
    auto v = to_u64(f[0]);
    if (!v) continue;
    const std::uint64_t bytes = (f.size() > 1 && f[1] == "kB") ? *v * 1024 : *v;
    if (key == "MemTotal") {
      m.total = bytes;
      have_total = true;
    } else if (key == "MemFree") {
      m.free = bytes;
    } else if (key == "MemAvailable") {
      m.available = bytes;
      have_available = true;
    } else if (key == "Buffers") {
      m.buffers = bytes;
    } else if (key == "Cached") {
      m.cached = bytes;
    } else if (key == "SwapTotal") {
      m.swap_total = bytes;
    } else if (key == "SwapFree") {
      m.swap_free = bytes;
    }
  }
  if (!have_total) return std::nullopt;
  if (!have_available) m.available = m.free + m.buffers + m.cached;  // kernels before 3.14
  return m;
}

std::optional<CgroupMemory> read_cgroup_memory(const std::string& root, const std::string& pid) {
  auto text = read_small_file(root, "/proc/" + pid + "/cgroup");
  if (!text) return std::nullopt;
  std::string v1_path, v2_path;
  bool have_v1 = false, have_v2 = false;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    // hierarchy-ID:controller-list:cgroup-path
    const auto a = line.find(':');
    const auto b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const std::string id = line.substr(0, a), ctrls = line.substr(a + 1, b - a - 1);
    const std::string path = line.substr(b + 1);
    if (id == "0" && ctrls.empty()) {
      have_v2 = true;
      v2_path = path;
    } else {
      std::stringstream cs(ctrls);
      std::string c;
      while (std::getline(cs, c, ','))
        if (c == "memory") {
          have_v1 = true;
          v1_path = path;
        }
    }
  }
  auto read_value = [&](const std::string& dir, const std::string& file)
      -> std::optional<std::optional<std::uint64_t>> {  // outer: file read; inner: limited
    auto l = read_first_line(root, dir + "/" + file);
    if (!l) return std::nullopt;
    const std::string s = trim(*l);
    if (s == "max") return std::optional<std::uint64_t>{};
    auto v = to_u64(s);
    if (!v) return std::nullopt;
    return std::optional<std::uint64_t>{*v};
  };
  auto fill = [&](CgroupMemory& cg, const std::string& base, const std::string& path,
                  const char* limit_file, const char* usage_file) -> bool {
    // The group's own folder; else the mount's root (a container's view of its own group).
    for (const std::string& dir : {base + (path == "/" ? "" : path), base}) {
      auto limit = read_value(dir, limit_file);
      if (!limit) continue;
      cg.limit = *limit;
      if (cg.limit && *cg.limit >= kCgroupV1Unlimited) cg.limit.reset();
      if (auto usage = read_value(dir, usage_file); usage && *usage) cg.usage = **usage;
      return true;
    }
    return false;
  };
  if (have_v1) {
    CgroupMemory cg;
    cg.version = 1;
    cg.path = v1_path;
    if (fill(cg, "/sys/fs/cgroup/memory", v1_path, "memory.limit_in_bytes",
             "memory.usage_in_bytes"))
      return cg;
  }
  if (have_v2) {
    CgroupMemory cg;
    cg.version = 2;
    cg.path = v2_path;
    if (fill(cg, "/sys/fs/cgroup", v2_path, "memory.max", "memory.current")) return cg;
    // A hybrid layout mounts v2 at /sys/fs/cgroup/unified.
    if (fill(cg, "/sys/fs/cgroup/unified", v2_path, "memory.max", "memory.current")) return cg;
  }
  return std::nullopt;
}

std::string unescape_mount_field(const std::string& field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      const char a = field[i + 1], b = field[i + 2], c = field[i + 3];
      if (a >= '0' && a <= '3' && b >= '0' && b <= '7' && c >= '0' && c <= '7') {
        out.push_back(static_cast<char>((a - '0') * 64 + (b - '0') * 8 + (c - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

std::vector<Mount> read_mounts(const std::string& root) {
  std::vector<Mount> out;
  auto text = read_small_file(root, "/proc/mounts");
  if (!text) return out;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    const auto f = split_ws(line);
    if (f.size() < 4) continue;
    out.push_back({unescape_mount_field(f[0]), unescape_mount_field(f[1]), f[2], f[3]});
  }
  return out;
}

bool is_storage_fs(const std::string& fs_type) {
  static const char* const kStorage[] = {
      "ext2",    "ext3",   "ext4",  "xfs",  "btrfs",      "zfs",  "f2fs",    "vfat",
      "exfat",   "ntfs",   "ntfs3", "nfs",  "nfs4",       "cifs", "smb3",    "overlay",
      "fuseblk", "lustre", "gpfs",  "ceph", "fuse.sshfs", "9p",   "virtiofs"};
  for (const char* s : kStorage)
    if (fs_type == s) return true;
  return false;
}

std::optional<DiskUsage> disk_usage(const std::string& path) {
  struct statvfs s {};
  if (::statvfs(path.c_str(), &s) != 0) return std::nullopt;
  DiskUsage u;
  const std::uint64_t f = s.f_frsize ? s.f_frsize : s.f_bsize;
  u.total = static_cast<std::uint64_t>(s.f_blocks) * f;
  u.free = static_cast<std::uint64_t>(s.f_bfree) * f;
  u.available = static_cast<std::uint64_t>(s.f_bavail) * f;
  return u;
}

std::vector<Disk> read_disks(const std::string& root) {
  std::vector<Disk> out;
  std::set<std::string> devices;
  for (auto& m : read_mounts(root)) {
    if (!is_storage_fs(m.fs_type)) continue;
    // Bind mounts and overlay's many entries show the same device again: keep the first.
    if (m.fs_type != "overlay" && !devices.insert(m.device).second) continue;
    if (m.fs_type == "overlay" && !devices.insert("overlay:" + m.mount_point).second) continue;
    Disk d{m, disk_usage(under_root(root, m.mount_point))};
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<NetDev> read_net_dev(const std::string& root) {
  std::vector<NetDev> out;
  auto text = read_small_file(root, "/proc/net/dev");
  if (!text) return out;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;  // the two header lines have '|', not ':'
    const auto f = split_ws(line.substr(colon + 1));
    if (f.size() < 10) continue;
    NetDev d;
    d.name = trim(line.substr(0, colon));
    auto rb = to_u64(f[0]), rp = to_u64(f[1]), tb = to_u64(f[8]), tp = to_u64(f[9]);
    if (!rb || !rp || !tb || !tp) continue;
    d.rx_bytes = *rb;
    d.rx_packets = *rp;
    d.tx_bytes = *tb;
    d.tx_packets = *tp;
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<int> list_pids(const std::string& root) {
  std::vector<int> out;
  DIR* dir = ::opendir(under_root(root, "/proc").c_str());
  if (!dir) return out;
  while (const dirent* e = ::readdir(dir)) {
    const char* n = e->d_name;
    if (!*n) continue;
    bool digits = true;
    for (const char* p = n; *p; ++p)
      if (!std::isdigit(static_cast<unsigned char>(*p))) digits = false;
    if (digits) out.push_back(std::atoi(n));
  }
  ::closedir(dir);
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<ProcessInfo> parse_proc_stat(const std::string& text) {
  // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split at the last ')'.
  const auto open = text.find('(');
  const auto close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  ProcessInfo p;
  auto pid = to_u64(trim(text.substr(0, open)));
  if (!pid) return std::nullopt;
  p.pid = static_cast<int>(*pid);
  p.comm = text.substr(open + 1, close - open - 1);
  const auto f = split_ws(text.substr(close + 1));
  // f[0] = state (field 3), f[1] = ppid (4), f[4] = tty_nr (7), f[11] = utime (14),
  // f[12] = stime (15), f[19] = starttime (22), f[21] = rss in pages (24).
  if (f.size() < 22) return std::nullopt;
  p.state = f[0].empty() ? '?' : f[0][0];
  auto ppid = to_u64(f[1]), ut = to_u64(f[11]), stt = to_u64(f[12]), start = to_u64(f[19]),
       rss = to_u64(f[21]);
  if (!ppid || !ut || !stt || !start) return std::nullopt;
  p.ppid = static_cast<int>(*ppid);
  // tty_nr is a signed int in the kernel's format; a negative one is no terminal we can name.
  if (auto tty = to_u64(f[4]); tty && *tty <= 0x7fffffffULL) p.tty_nr = static_cast<int>(*tty);
  p.cpu_ticks = *ut + *stt;
  p.start_ticks = *start;
  if (rss) p.rss_bytes = *rss * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  return p;
}

std::optional<ProcessInfo> read_process_stat(const std::string& root, int pid) {
  auto stat = read_small_file(root, "/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return std::nullopt;
  return parse_proc_stat(*stat);
}

std::vector<std::string> split_cmdline(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\0') {
      out.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  if (start < text.size()) out.push_back(text.substr(start));
  return out;
}

std::vector<std::string> read_cmdline(const std::string& root, int pid) {
  auto text = read_small_file(root, "/proc/" + std::to_string(pid) + "/cmdline");
  return text ? split_cmdline(*text) : std::vector<std::string>{};
}

std::optional<ProcessInfo> read_process(const std::string& root, int pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  auto p = read_process_stat(root, pid);
  if (!p) return std::nullopt;
  if (auto status = read_small_file(root, dir + "/status")) {
    std::istringstream in(*status);
    std::string line;
    while (std::getline(in, line)) {
      if (line.compare(0, 4, "Uid:") == 0) {
        const auto f = split_ws(line.substr(4));
        if (!f.empty())
          if (auto u = to_u64(f[0])) p->uid = static_cast<unsigned>(*u);
      } else if (line.compare(0, 6, "VmRSS:") == 0) {
        const auto f = split_ws(line.substr(6));
        if (!f.empty())
          if (auto v = to_u64(f[0])) p->rss_bytes = *v * 1024;
      }
    }
  }
  p->cmdline = read_cmdline(root, pid);
  return p;
}

ProcessKind classify_process(const std::vector<std::string>& cmdline) {
  if (cmdline.empty()) return ProcessKind::other;
  for (const auto& a : cmdline)
    if (a.find("ipykernel_launcher") != std::string::npos || a == "ipykernel")
      return ProcessKind::jupyter_kernel;
  for (std::size_t i = 0; i < cmdline.size(); ++i) {
    const auto slash = cmdline[i].find_last_of('/');
    const std::string base = slash == std::string::npos ? cmdline[i] : cmdline[i].substr(slash + 1);
    if (base != "d2l" && base != "d2l-torch") continue;
    for (std::size_t j = i + 1; j < cmdline.size(); ++j) {
      if (!cmdline[j].empty() && cmdline[j][0] == '-') continue;  // an option before the command
      if (cmdline[j] == "train") return ProcessKind::training_run;
      break;
    }
  }
  return ProcessKind::other;
}

const char* process_kind_name(ProcessKind kind) {
  switch (kind) {
    case ProcessKind::jupyter_kernel:
      return "jupyter";
    case ProcessKind::training_run:
      return "d2l-train";
    case ProcessKind::other:
      break;
  }
  return "";
}

UserNames::UserNames(const std::string& root) {
  auto text = read_small_file(root, "/etc/passwd");
  if (!text) return;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    // name:password:uid:gid:...
    const auto a = line.find(':');
    if (a == std::string::npos) continue;
    const auto b = line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const auto c = line.find(':', b + 1);
    auto uid = to_u64(line.substr(b + 1, c == std::string::npos ? std::string::npos : c - b - 1));
    if (uid) users_.emplace_back(static_cast<unsigned>(*uid), line.substr(0, a));
  }
}

std::string UserNames::name(unsigned uid) const {
  for (const auto& [u, n] : users_)
    if (u == uid) return n;
  return std::to_string(uid);
}

}  // namespace d2l::procfs
