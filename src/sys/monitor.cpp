#include "d2l/sys/monitor.h"

#include <sys/time.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace d2l::sys {
namespace {

double now_unix() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
double now_steady() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

template <typename T>
nlohmann::json opt(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

std::string format_bytes(double bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (std::fabs(bytes) >= 1024.0 && u < 5) {
    bytes /= 1024.0;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%.0f B", bytes);
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", bytes, kUnits[u]);
  return buf;
}

Monitor::Monitor(MonitorOptions options) : opt_(std::move(options)), users_(opt_.root) {
  if (opt_.use_nvml) nvml_ = std::make_unique<Nvml>(opt_.nvml_library);
}

Monitor::~Monitor() = default;

Snapshot Monitor::sample() {
  Snapshot s;
  s.unix_time = now_unix();
  const double t = now_steady();
  const bool have_prev = prev_time_ > 0;
  const double dt = have_prev ? t - prev_time_ : 0.0;
  if (have_prev) s.interval_s = dt;
  const double hz = static_cast<double>(clock_ticks_per_second());

  // CPU
  auto cpu = read_cpu_stat(opt_.root);
  if (cpu) {
    s.core_percent.assign(cpu->cores.size(), std::nullopt);
    if (prev_cpu_) {
      s.cpu_percent = cpu_percent(prev_cpu_->total, cpu->total);
      for (std::size_t i = 0; i < cpu->cores.size(); ++i)
        if (cpu->cores[i] && i < prev_cpu_->cores.size() && prev_cpu_->cores[i])
          s.core_percent[i] = cpu_percent(*prev_cpu_->cores[i], *cpu->cores[i]);
    }
  }
  prev_cpu_ = std::move(cpu);
  s.load = read_loadavg(opt_.root);
  s.memory = read_meminfo(opt_.root);
  s.cgroup = read_cgroup_memory(opt_.root);
  s.disks = read_disks(opt_.root);

  // Network
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> net_now;
  for (auto& d : read_net_dev(opt_.root)) {
    NetSample n;
    n.name = d.name;
    n.rx_bytes = d.rx_bytes;
    n.tx_bytes = d.tx_bytes;
    auto it = prev_net_.find(d.name);
    if (have_prev && dt > 0 && it != prev_net_.end()) {
      if (d.rx_bytes >= it->second.first)
        n.rx_bytes_per_s = static_cast<double>(d.rx_bytes - it->second.first) / dt;
      if (d.tx_bytes >= it->second.second)
        n.tx_bytes_per_s = static_cast<double>(d.tx_bytes - it->second.second) / dt;
    }
    net_now[d.name] = {d.rx_bytes, d.tx_bytes};
    s.net.push_back(std::move(n));
  }
  prev_net_.swap(net_now);

  // GPUs
  std::set<int> gpu_pids;
  if (!nvml_) {
    s.nvml_status = "not queried";
  } else if (!nvml_->ok()) {
    s.nvml_status = nvml_->error();
  } else {
    s.nvml_status = "ok";
    s.driver_version = nvml_->driver_version();
    s.cuda_driver_version = nvml_->cuda_driver_version();
    s.gpus = nvml_->gpus(true);
    for (const auto& g : s.gpus)
      for (const auto& p : g.processes) gpu_pids.insert(static_cast<int>(p.pid));
  }

  // Processes: stat for all (cheap), the rest only for those shown.
  struct Row {
    ProcessInfo info;
    std::optional<double> cpu;
  };
  std::vector<Row> rows;
  std::map<int, std::uint64_t> ticks_now;
  for (int pid : list_pids(opt_.root)) {
    auto p = read_process_stat(opt_.root, pid);
    if (!p) continue;
    Row r{std::move(*p), std::nullopt};
    auto it = prev_ticks_.find(pid);
    if (have_prev && dt > 0 && it != prev_ticks_.end() && r.info.cpu_ticks >= it->second)
      r.cpu = 100.0 * static_cast<double>(r.info.cpu_ticks - it->second) / hz / dt;
    ticks_now[pid] = r.info.cpu_ticks;
    rows.push_back(std::move(r));
  }
  prev_ticks_.swap(ticks_now);

  auto detail = [&](const Row& r) {
    ProcessSample ps;
    ps.pid = r.info.pid;
    ps.cpu_percent = r.cpu;
    ps.rss_bytes = r.info.rss_bytes;
    ps.name = r.info.comm;
    if (auto full = read_process(opt_.root, r.info.pid)) {
      if (full->uid) ps.user = users_.name(*full->uid);
      ps.rss_bytes = full->rss_bytes;
      if (!full->cmdline.empty()) {
        ps.name = base_name(full->cmdline[0]);
        if (ps.name.empty()) ps.name = full->comm;
        for (const auto& a : full->cmdline) ps.command += (ps.command.empty() ? "" : " ") + a;
      }
      ps.tag = classify_process(full->cmdline);
    }
    return ps;
  };
  auto top_by = [&](auto key) {
    std::vector<const Row*> ptrs;
    ptrs.reserve(rows.size());
    for (const auto& r : rows) ptrs.push_back(&r);
    const std::size_t n = std::min(opt_.top, ptrs.size());
    std::partial_sort(ptrs.begin(), ptrs.begin() + static_cast<std::ptrdiff_t>(n), ptrs.end(),
                      [&](const Row* a, const Row* b) { return key(*a) > key(*b); });
    std::vector<ProcessSample> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(detail(*ptrs[i]));
    return out;
  };
  if (have_prev) s.top_cpu = top_by([](const Row& r) { return r.cpu.value_or(0.0); });
  s.top_memory = top_by([](const Row& r) { return static_cast<double>(r.info.rss_bytes); });

  // Jupyter kernels and d2l train runs: their cmdline is needed, so look at Python and d2l ones.
  for (const auto& r : rows) {
    const std::string& c = r.info.comm;
    if (c.rfind("python", 0) != 0 && c.rfind("d2l", 0) != 0 && c != "ipykernel") continue;
    ProcessSample ps = detail(r);
    if (ps.tag != ProcessKind::other) s.marked.push_back(std::move(ps));
  }
  for (const auto& g : s.gpus)
    for (const auto& gp : g.processes) {
      ProcessSample ps;
      auto it = std::find_if(rows.begin(), rows.end(),
                             [&](const Row& r) { return r.info.pid == static_cast<int>(gp.pid); });
      if (it != rows.end()) {
        ps = detail(*it);
      } else {
        ps.pid = static_cast<int>(gp.pid);  // in another pid namespace: unknown here
        ps.name = "n/a";
      }
      ps.gpu_index = g.index;
      ps.gpu_memory_bytes = gp.used_memory;
      s.gpu_processes.push_back(std::move(ps));
    }
  prev_time_ = t;
  return s;
}

namespace {

nlohmann::json process_json(const ProcessSample& p) {
  nlohmann::json j{{"pid", p.pid},
                   {"user", p.user.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.user)},
                   {"name", p.name},
                   {"command", p.command},
                   {"tag", p.tag == ProcessKind::other ? nlohmann::json(nullptr)
                                                       : nlohmann::json(process_kind_name(p.tag))},
                   {"cpu_percent", opt(p.cpu_percent)},
                   {"rss_bytes", p.rss_bytes}};
  if (p.gpu_index) {
    j["gpu"] = *p.gpu_index;
    j["gpu_memory_bytes"] = opt(p.gpu_memory_bytes);
  }
  return j;
}

}  // namespace

std::string snapshot_json(const Snapshot& s, int indent) {
  using nlohmann::json;
  json j;
  j["schema"] = "d2l.monitor/1";
  j["time"] = s.unix_time;
  j["interval_s"] = opt(s.interval_s);
  json cores = json::array();
  for (const auto& c : s.core_percent) cores.push_back(opt(c));
  j["cpu"] = {{"percent", opt(s.cpu_percent)}, {"cores", cores}};
  j["load"] = s.load ? json{{"1m", s.load->one},
                            {"5m", s.load->five},
                            {"15m", s.load->fifteen},
                            {"running", s.load->running},
                            {"tasks", s.load->total}}
                     : json(nullptr);
  j["memory"] = s.memory ? json{{"total_bytes", s.memory->total},
                                {"available_bytes", s.memory->available},
                                {"used_bytes", s.memory->used()},
                                {"swap_total_bytes", s.memory->swap_total},
                                {"swap_used_bytes", s.memory->swap_used()}}
                         : json(nullptr);
  j["cgroup"] = s.cgroup ? json{{"version", s.cgroup->version},
                                {"path", s.cgroup->path},
                                {"limit_bytes", opt(s.cgroup->limit)},
                                {"usage_bytes", opt(s.cgroup->usage)}}
                         : json(nullptr);
  json disks = json::array();
  for (const auto& d : s.disks)
    disks.push_back({{"mount_point", d.mount.mount_point},
                     {"device", d.mount.device},
                     {"fs_type", d.mount.fs_type},
                     {"total_bytes", d.usage ? json(d.usage->total) : json(nullptr)},
                     {"used_bytes", d.usage ? json(d.usage->used()) : json(nullptr)},
                     {"available_bytes", d.usage ? json(d.usage->available) : json(nullptr)}});
  j["disks"] = disks;
  json net = json::array();
  for (const auto& n : s.net)
    net.push_back({{"name", n.name},
                   {"rx_bytes", n.rx_bytes},
                   {"tx_bytes", n.tx_bytes},
                   {"rx_bytes_per_s", opt(n.rx_bytes_per_s)},
                   {"tx_bytes_per_s", opt(n.tx_bytes_per_s)}});
  j["net"] = net;
  j["nvml"] = {
      {"status", s.nvml_status},
      {"driver_version", opt(s.driver_version)},
      {"cuda_driver_version",
       s.cuda_driver_version ? json(format_cuda_version(*s.cuda_driver_version)) : json(nullptr)}};
  json gpus = json::array();
  for (const auto& g : s.gpus) {
    json cc = nullptr;
    if (g.compute_capability_major && g.compute_capability_minor)
      cc = std::to_string(*g.compute_capability_major) + "." +
           std::to_string(*g.compute_capability_minor);
    gpus.push_back({{"index", g.index},
                    {"name", opt(g.name)},
                    {"uuid", opt(g.uuid)},
                    {"utilization_percent", opt(g.utilization_gpu)},
                    {"memory_utilization_percent", opt(g.utilization_memory)},
                    {"memory_used_bytes", opt(g.memory_used)},
                    {"memory_total_bytes", opt(g.memory_total)},
                    {"temperature_c", opt(g.temperature_c)},
                    {"power_w", opt(g.power_w)},
                    {"power_limit_w", opt(g.power_limit_w)},
                    {"clock_graphics_mhz", opt(g.clock_graphics_mhz)},
                    {"clock_sm_mhz", opt(g.clock_sm_mhz)},
                    {"clock_memory_mhz", opt(g.clock_memory_mhz)},
                    {"compute_capability", cc},
                    {"mig_enabled", opt(g.mig_enabled)}});
  }
  j["gpus"] = gpus;
  auto plist = [](const std::vector<ProcessSample>& v) {
    json a = json::array();
    for (const auto& p : v) a.push_back(process_json(p));
    return a;
  };
  j["gpu_processes"] = plist(s.gpu_processes);
  j["top_cpu"] = plist(s.top_cpu);
  j["top_memory"] = plist(s.top_memory);
  j["marked"] = plist(s.marked);
  return j.dump(indent);
}

namespace {

std::string pct(const std::optional<double>& v) {
  if (!v) return "n/a";
  char b[16];
  std::snprintf(b, sizeof b, "%.1f%%", *v);
  return b;
}

template <typename T>
std::string num(const std::optional<T>& v, const char* unit = "") {
  if (!v) return "n/a";
  std::ostringstream o;
  o << *v << unit;
  return o.str();
}

std::string fit(std::string s, std::size_t width) {
  if (s.size() > width) s.resize(width);
  return s;
}

}  // namespace

std::string render_snapshot(const Snapshot& s, int width) {
  const std::size_t w = static_cast<std::size_t>(std::max(40, width));
  std::ostringstream o;
  char line[512];
  const time_t tt = static_cast<time_t>(s.unix_time);
  struct tm tmv {};
  localtime_r(&tt, &tmv);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tmv);
  o << "d2l monitor  " << when;
  if (s.load)
    std::snprintf(line, sizeof line, "   load %.2f %.2f %.2f   tasks %d", s.load->one, s.load->five,
                  s.load->fifteen, s.load->total),
        o << line;
  o << "\n";
  std::string cores;
  for (std::size_t i = 0; i < s.core_percent.size(); ++i) {
    cores += " " + std::to_string(i) + ":";
    cores += s.core_percent[i] ? pct(s.core_percent[i]) : (s.interval_s ? "off" : "n/a");
  }
  o << fit("CPU  " + pct(s.cpu_percent) + "  |" + cores, w) << "\n";
  if (s.memory) {
    std::snprintf(line, sizeof line, "Mem  %s / %s (%.0f%%)   swap %s / %s",
                  format_bytes(static_cast<double>(s.memory->used())).c_str(),
                  format_bytes(static_cast<double>(s.memory->total)).c_str(),
                  s.memory->total ? 100.0 * static_cast<double>(s.memory->used()) /
                                        static_cast<double>(s.memory->total)
                                  : 0.0,
                  format_bytes(static_cast<double>(s.memory->swap_used())).c_str(),
                  format_bytes(static_cast<double>(s.memory->swap_total)).c_str());
    o << line;
  } else {
    o << "Mem  n/a";
  }
  if (s.cgroup && s.cgroup->limit)
    o << "   cgroup v" << s.cgroup->version << " limit "
      << format_bytes(static_cast<double>(*s.cgroup->limit)) << " (used "
      << (s.cgroup->usage ? format_bytes(static_cast<double>(*s.cgroup->usage)) : "n/a") << ")";
  o << "\n";
  for (const auto& d : s.disks) {
    if (d.usage)
      std::snprintf(line, sizeof line, "Disk %-20s %10s / %-10s free %s",
                    d.mount.mount_point.c_str(),
                    format_bytes(static_cast<double>(d.usage->used())).c_str(),
                    format_bytes(static_cast<double>(d.usage->total)).c_str(),
                    format_bytes(static_cast<double>(d.usage->available)).c_str());
    else
      std::snprintf(line, sizeof line, "Disk %-20s n/a", d.mount.mount_point.c_str());
    o << fit(line, w) << "\n";
  }
  for (const auto& n : s.net) {
    if (n.name == "lo") continue;
    auto rate = [](const std::optional<double>& r) {
      return r ? format_bytes(*r) + "/s" : std::string("n/a");
    };
    o << fit("Net  " + n.name + "  rx " + rate(n.rx_bytes_per_s) + "  tx " + rate(n.tx_bytes_per_s),
             w)
      << "\n";
  }
  if (s.nvml_status != "ok") {
    o << fit("GPU  n/a (" + s.nvml_status + ")", w) << "\n";
  } else {
    o << "GPU  driver " << num(s.driver_version) << "  CUDA "
      << (s.cuda_driver_version ? format_cuda_version(*s.cuda_driver_version) : "n/a") << "  "
      << s.gpus.size() << " GPU(s)\n";
    for (const auto& g : s.gpus) {
      std::string mem = "n/a";
      if (g.memory_used && g.memory_total)
        mem = format_bytes(static_cast<double>(*g.memory_used)) + " / " +
              format_bytes(static_cast<double>(*g.memory_total));
      std::string power = "n/a";
      if (g.power_w) {
        std::snprintf(line, sizeof line, "%.0f", *g.power_w);
        power = line;
        if (g.power_limit_w) {
          std::snprintf(line, sizeof line, "/%.0f", *g.power_limit_w);
          power += line;
        }
        power += " W";
      }
      o << fit("GPU" + std::to_string(g.index) + " " + num(g.name) + "  util " +
                   num(g.utilization_gpu, "%") + "  mem " + mem + "  " + num(g.temperature_c, "C") +
                   "  " + power + "  sm " + num(g.clock_sm_mhz, " MHz") + "  mem " +
                   num(g.clock_memory_mhz, " MHz") +
                   (g.mig_enabled ? (*g.mig_enabled ? "  MIG on" : "") : "  MIG n/a"),
               w)
        << "\n";
    }
  }
  auto table = [&](const char* title, const std::vector<ProcessSample>& v, bool gpu) {
    if (v.empty()) return;
    o << title << "\n";
    std::snprintf(line, sizeof line, "  %7s %-10s %6s %9s %s%s", "PID", "USER", "CPU", "RSS",
                  gpu ? "GPU  GPU-MEM    " : "", "COMMAND");
    o << fit(line, w) << "\n";
    for (const auto& p : v) {
      std::string g;
      if (gpu) {
        char gb[32];
        std::snprintf(gb, sizeof gb, "%-4u %-10s ", p.gpu_index.value_or(0),
                      p.gpu_memory_bytes
                          ? format_bytes(static_cast<double>(*p.gpu_memory_bytes)).c_str()
                          : "n/a");
        g = gb;
      }
      const std::string tag =
          p.tag == ProcessKind::other ? "" : "[" + std::string(process_kind_name(p.tag)) + "] ";
      std::snprintf(line, sizeof line, "  %7d %-10s %6s %9s %s%s%s", p.pid,
                    fit(p.user.empty() ? "n/a" : p.user, 10).c_str(), pct(p.cpu_percent).c_str(),
                    format_bytes(static_cast<double>(p.rss_bytes)).c_str(), g.c_str(), tag.c_str(),
                    (p.command.empty() ? p.name : p.command).c_str());
      o << fit(line, w) << "\n";
    }
  };
  table("GPU processes", s.gpu_processes, true);
  table("Jupyter kernels and d2l train runs", s.marked, false);
  table("Top by CPU", s.top_cpu, false);
  table("Top by memory", s.top_memory, false);
  return o.str();
}

std::string csv_header(std::size_t gpus) {
  std::string h =
      "time,cpu_percent,load_1m,mem_used_bytes,mem_total_bytes,swap_used_bytes,"
      "cgroup_limit_bytes,cgroup_usage_bytes,net_rx_bytes_per_s,net_tx_bytes_per_s";
  for (std::size_t i = 0; i < gpus; ++i) {
    const std::string g = "gpu" + std::to_string(i) + "_";
    h += "," + g + "utilization_percent," + g + "memory_used_bytes," + g + "temperature_c," + g +
         "power_w," + g + "clock_sm_mhz";
  }
  return h;
}

std::string csv_row(const Snapshot& s) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  auto cell = [&](const auto& v, int precision) {
    o << ",";
    if (v) o << std::setprecision(precision) << *v;
  };
  o.precision(3);
  o << s.unix_time;
  cell(s.cpu_percent, 1);
  cell(s.load ? std::optional<double>(s.load->one) : std::nullopt, 2);
  cell(s.memory ? std::optional<std::uint64_t>(s.memory->used()) : std::nullopt, 0);
  cell(s.memory ? std::optional<std::uint64_t>(s.memory->total) : std::nullopt, 0);
  cell(s.memory ? std::optional<std::uint64_t>(s.memory->swap_used()) : std::nullopt, 0);
  cell(s.cgroup ? s.cgroup->limit : std::nullopt, 0);
  cell(s.cgroup ? s.cgroup->usage : std::nullopt, 0);
  std::optional<double> rx, tx;
  for (const auto& n : s.net) {
    if (n.name == "lo") continue;
    if (n.rx_bytes_per_s) rx = rx.value_or(0) + *n.rx_bytes_per_s;
    if (n.tx_bytes_per_s) tx = tx.value_or(0) + *n.tx_bytes_per_s;
  }
  cell(rx, 0);
  cell(tx, 0);
  for (const auto& g : s.gpus) {
    cell(g.utilization_gpu, 0);
    cell(g.memory_used, 0);
    cell(g.temperature_c, 0);
    cell(g.power_w, 1);
    cell(g.clock_sm_mhz, 0);
  }
  return o.str();
}

}  // namespace d2l::sys
