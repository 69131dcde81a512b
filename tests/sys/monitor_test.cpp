#include "d2l/sys/monitor.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support/fixtures.h"

using d2l::test::FixtureRoot;
namespace sys = d2l::sys;
using nlohmann::json;

namespace {

std::string stat_line(int pid, const std::string& comm, unsigned long ticks, int rss_pages) {
  return std::to_string(pid) + " (" + comm + ") S 1 1 1 0 -1 0 0 0 0 0 " + std::to_string(ticks) +
         " 0 0 0 20 0 1 0 100 1000 " + std::to_string(rss_pages) +
         " 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";
}

void write_machine(const FixtureRoot& fx, unsigned long busy, unsigned long kernel_ticks) {
  fx.write("/proc/stat", "cpu  " + std::to_string(busy) + " 0 0 1000 0 0 0 0 0 0\ncpu0 " +
                             std::to_string(busy) + " 0 0 1000 0 0 0 0 0 0\n");
  fx.write("/proc/loadavg", "1.00 0.50 0.25 2/10 100\n");
  fx.write("/proc/meminfo", "MemTotal: 4096 kB\nMemAvailable: 1024 kB\nMemFree: 512 kB\n");
  fx.write("/proc/self/cgroup", "0::/\n");
  fx.write("/sys/fs/cgroup/memory.max", "2097152\n");
  fx.write("/proc/mounts", "/dev/sda1 / ext4 rw 0 0\n");
  fx.write("/proc/10/stat", stat_line(10, "python3", kernel_ticks, 25));
  fx.write("/proc/10/cmdline", std::string("/usr/bin/python3\0-m\0ipykernel_launcher\0", 40));
  fx.write("/proc/10/status", "Uid:\t0\t0\t0\t0\nVmRSS:\t100 kB\n");
  fx.write("/proc/11/stat", stat_line(11, "d2l-torch", 0, 225));
  fx.write("/proc/11/cmdline", std::string("/opt/bin/d2l-torch\0train\0lenet\0", 31));
  fx.write("/proc/11/status", "Uid:\t0\t0\t0\t0\nVmRSS:\t900 kB\n");
  fx.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
}

}  // namespace

TEST(Monitor, FixtureRatesMarksAndJson) {
  FixtureRoot fx;
  write_machine(fx, 0, 0);
  sys::MonitorOptions o;
  o.root = fx.root();
  o.use_nvml = false;
  o.top = 1;
  sys::Monitor m(o);
  auto first = m.sample();
  EXPECT_FALSE(first.cpu_percent) << "no rate before a second sample";
  EXPECT_TRUE(first.top_cpu.empty());
  ASSERT_EQ(first.top_memory.size(), 1u);
  EXPECT_EQ(first.top_memory[0].pid, 11);
  usleep(20000);
  write_machine(fx, 1000, 50);  // cpu: 1000 busy of 1000 ticks; pid 10 used 50 ticks
  auto s = m.sample();
  ASSERT_TRUE(s.cpu_percent);
  EXPECT_NEAR(*s.cpu_percent, 100.0, 1e-9);
  ASSERT_EQ(s.core_percent.size(), 1u);
  ASSERT_EQ(s.top_cpu.size(), 1u);
  EXPECT_EQ(s.top_cpu[0].pid, 10);
  EXPECT_EQ(s.top_cpu[0].user, "root");
  EXPECT_EQ(s.top_cpu[0].tag, d2l::procfs::ProcessKind::jupyter_kernel);
  EXPECT_GT(s.top_cpu[0].cpu_percent.value_or(0), 0.0);
  ASSERT_EQ(s.marked.size(), 2u);
  EXPECT_EQ(s.marked[1].tag, d2l::procfs::ProcessKind::training_run);
  EXPECT_EQ(s.marked[1].name, "d2l-torch");
  ASSERT_TRUE(s.cgroup);
  EXPECT_EQ(s.cgroup->limit.value_or(0), 2097152u);
  EXPECT_EQ(s.nvml_status, "not queried");

  // The JSON schema: every documented key is present, n/a values are null.
  const json j = json::parse(sys::snapshot_json(s));
  EXPECT_EQ(j.at("schema"), "d2l.monitor/1");
  for (const char* k : {"time", "interval_s", "cpu", "load", "memory", "cgroup", "disks", "net",
                        "nvml", "gpus", "gpu_processes", "top_cpu", "top_memory", "marked"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["memory"]["total_bytes"], 4096 * 1024);
  EXPECT_EQ(j["memory"]["used_bytes"], 3072 * 1024);
  EXPECT_EQ(j["cgroup"]["version"], 2);
  EXPECT_TRUE(j["nvml"]["driver_version"].is_null());
  EXPECT_EQ(j["disks"][0]["mount_point"], "/");
  EXPECT_TRUE(j["disks"][0]["total_bytes"].is_number()) << "statvfs of the fixture root";
  EXPECT_EQ(j["marked"][0]["tag"], "jupyter");
  EXPECT_TRUE(j["net"].is_array());

  // CSV: header and row have the same number of cells.
  const std::string h = sys::csv_header(s.gpus.size()), r = sys::csv_row(s);
  EXPECT_EQ(std::count(h.begin(), h.end(), ','), std::count(r.begin(), r.end(), ','));
  const std::string text = sys::render_snapshot(s, 120);
  EXPECT_NE(text.find("[jupyter]"), std::string::npos);
  EXPECT_NE(text.find("[d2l-train]"), std::string::npos);
  EXPECT_NE(text.find("GPU  n/a"), std::string::npos);
}

TEST(Monitor, EmptyRootIsAllNa) {
  FixtureRoot fx;
  sys::MonitorOptions o;
  o.root = fx.root();
  o.use_nvml = false;
  sys::Monitor m(o);
  m.sample();
  auto s = m.sample();
  EXPECT_FALSE(s.cpu_percent);
  EXPECT_FALSE(s.memory);
  EXPECT_FALSE(s.load);
  EXPECT_TRUE(s.disks.empty());
  const json j = json::parse(sys::snapshot_json(s));
  EXPECT_TRUE(j["memory"].is_null());
  EXPECT_TRUE(j["load"].is_null());
  EXPECT_FALSE(sys::render_snapshot(s).empty());
}

TEST(Monitor, RealMachineWithStandInGpus) {
  ::unsetenv("D2L_NVML_STANDIN_MODE");
  sys::MonitorOptions o;
  o.nvml_library = D2L_NVML_STANDIN;
  sys::Monitor m(o);
  m.sample();
  usleep(30000);
  auto s = m.sample();
  EXPECT_TRUE(s.memory);
  EXPECT_TRUE(s.load);
  ASSERT_EQ(s.nvml_status, "ok");
  ASSERT_EQ(s.gpus.size(), 2u);
  ASSERT_EQ(s.gpu_processes.size(), 1u);
  EXPECT_EQ(s.gpu_processes[0].pid, static_cast<int>(::getpid()));
  EXPECT_EQ(s.gpu_processes[0].name, "test_sys");
  EXPECT_EQ(s.gpu_processes[0].gpu_memory_bytes.value_or(0), 512ull << 20);
  const json j = json::parse(sys::snapshot_json(s));
  EXPECT_EQ(j["gpus"][0]["compute_capability"], "9.0");
  EXPECT_EQ(j["gpus"][0]["utilization_percent"], 42);
  EXPECT_TRUE(j["gpus"][1]["temperature_c"].is_null());
  EXPECT_EQ(j["nvml"]["cuda_driver_version"], "12.4");
  const std::string h = sys::csv_header(s.gpus.size()), r = sys::csv_row(s);
  EXPECT_EQ(std::count(h.begin(), h.end(), ','), std::count(r.begin(), r.end(), ','));
  EXPECT_NE(sys::render_snapshot(s, 200).find("Stand-in GPU A"), std::string::npos);
}
