// Unit tests for d2l/core/procfs.h: the /proc and /sys readers on fixture trees and on this
// machine, and the process classifier shared by monitor and autostop.
#include "d2l/core/procfs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "d2l/core/error.h"
#include "support/fixtures.h"

using d2l::test::FixtureRoot;
namespace sys = d2l::procfs;

namespace {

constexpr const char* kStat =
    "cpu  400 10 100 1000 20 0 5 0 0 0\n"
    "cpu0 200 5 50 500 10 0 3 0 0 0\n"
    "cpu1 100 5 25 250 5 0 1 0 0 0\n"
    "cpu3 100 0 25 250 5 0 1 0 0 0\n"
    "intr 12345 0 0\n"
    "ctxt 999\n";

}  // namespace

TEST(CpuList, ParsesRangesAndSingles) {
  EXPECT_EQ(sys::parse_cpu_list("0-3,5,7-8\n"), (std::vector<int>{0, 1, 2, 3, 5, 7, 8}));
  EXPECT_TRUE(sys::parse_cpu_list("\n").empty());
  EXPECT_EQ(sys::parse_cpu_list("2"), (std::vector<int>{2}));
  EXPECT_THROW(sys::parse_cpu_list("3-1"), d2l::Error);
  EXPECT_THROW(sys::parse_cpu_list("a-b"), d2l::Error);
}

TEST(CpuStat, OfflineCpuIsMissing) {
  FixtureRoot fx;
  fx.write("/proc/stat", kStat);
  fx.write("/sys/devices/system/cpu/present", "0-3\n");
  fx.write("/sys/devices/system/cpu/offline", "2\n");
  auto st = sys::read_cpu_stat(fx.root());
  ASSERT_TRUE(st);
  EXPECT_EQ(st->total.user, 400u);
  EXPECT_EQ(st->total.idle, 1000u);
  EXPECT_EQ(st->total.total(), 400u + 10 + 100 + 1000 + 20 + 5);
  ASSERT_EQ(st->cores.size(), 4u);
  EXPECT_TRUE(st->cores[0]);
  EXPECT_TRUE(st->cores[1]);
  EXPECT_FALSE(st->cores[2]) << "cpu2 is offline";
  ASSERT_TRUE(st->cores[3]);
  EXPECT_EQ(st->cores[3]->system, 25u);
}

TEST(CpuStat, CpuGoingOfflineBetweenSamples) {
  FixtureRoot fx;
  fx.write("/proc/stat", kStat);
  fx.write("/sys/devices/system/cpu/present", "0-3\n");
  fx.write("/sys/devices/system/cpu/offline", "2\n");
  auto a = sys::read_cpu_stat(fx.root());
  // cpu1 goes offline: the kernel drops its line from /proc/stat.
  fx.write("/proc/stat",
           "cpu  500 10 150 1100 20 0 5 0 0 0\n"
           "cpu0 300 5 100 600 10 0 3 0 0 0\n"
           "cpu3 100 0 25 250 5 0 1 0 0 0\n");
  fx.write("/sys/devices/system/cpu/offline", "1-2\n");
  auto b = sys::read_cpu_stat(fx.root());
  ASSERT_TRUE(a && b);
  ASSERT_EQ(b->cores.size(), 4u);
  EXPECT_FALSE(b->cores[1]);
  auto p = sys::cpu_percent(a->total, b->total);
  ASSERT_TRUE(p);
  EXPECT_NEAR(*p, 100.0 * 150 / 250, 1e-9);
  auto p0 = sys::cpu_percent(*a->cores[0], *b->cores[0]);
  ASSERT_TRUE(p0);
  EXPECT_NEAR(*p0, 100.0 * 150 / 250, 1e-9);  // busy +150 of +250 ticks
  EXPECT_FALSE(sys::cpu_percent(*a->cores[3], *b->cores[3])) << "no tick passed";
}

TEST(CpuStat, MissingFileIsNullopt) {
  FixtureRoot fx;
  EXPECT_FALSE(sys::read_cpu_stat(fx.root()));
  fx.write("/proc/stat", "garbage\n");
  EXPECT_FALSE(sys::read_cpu_stat(fx.root()));
}

TEST(LoadAvg, Parses) {
  FixtureRoot fx;
  fx.write("/proc/loadavg", "0.30 1.25 2.50 3/81 9290\n");
  auto l = sys::read_loadavg(fx.root());
  ASSERT_TRUE(l);
  EXPECT_DOUBLE_EQ(l->one, 0.30);
  EXPECT_DOUBLE_EQ(l->fifteen, 2.50);
  EXPECT_EQ(l->running, 3);
  EXPECT_EQ(l->total, 81);
  fx.write("/proc/loadavg", "nonsense\n");
  EXPECT_FALSE(sys::read_loadavg(fx.root()));
}

TEST(MemInfo, ParsesKilobytesAndSwap) {
  FixtureRoot fx;
  fx.write("/proc/meminfo",
           "MemTotal:       16000000 kB\nMemFree:         1000000 kB\n"
           "MemAvailable:    9000000 kB\nBuffers:          100000 kB\nCached:          "
           "2000000 kB\nSwapTotal:       4000000 kB\nSwapFree:        3000000 kB\n"
           "HugePages_Total:       0\n");
  auto m = sys::read_meminfo(fx.root());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->total, 16000000ull * 1024);
  EXPECT_EQ(m->available, 9000000ull * 1024);
  EXPECT_EQ(m->used(), 7000000ull * 1024);
  EXPECT_EQ(m->swap_used(), 1000000ull * 1024);
}

TEST(MemInfo, OldKernelWithoutMemAvailable) {
  FixtureRoot fx;
  fx.write("/proc/meminfo", "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 10 kB\nCached: 200 kB\n");
  auto m = sys::read_meminfo(fx.root());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->available, 310ull * 1024);
}

TEST(Cgroup, V2LimitInOwnGroup) {
  FixtureRoot fx;
  fx.write("/proc/self/cgroup", "0::/user.slice/job\n");
  fx.write("/sys/fs/cgroup/user.slice/job/memory.max", "8589934592\n");
  fx.write("/sys/fs/cgroup/user.slice/job/memory.current", "1048576\n");
  auto cg = sys::read_cgroup_memory(fx.root());
  ASSERT_TRUE(cg);
  EXPECT_EQ(cg->version, 2);
  EXPECT_EQ(cg->path, "/user.slice/job");
  ASSERT_TRUE(cg->limit);
  EXPECT_EQ(*cg->limit, 8589934592ull);
  EXPECT_EQ(cg->usage.value_or(0), 1048576ull);
}

TEST(Cgroup, V2UnlimitedAndContainerView) {
  FixtureRoot fx;
  // A container sees its own group at the root of the mount.
  fx.write("/proc/self/cgroup", "0::/docker/abc\n");
  fx.write("/sys/fs/cgroup/memory.max", "max\n");
  fx.write("/sys/fs/cgroup/memory.current", "4096\n");
  auto cg = sys::read_cgroup_memory(fx.root());
  ASSERT_TRUE(cg);
  EXPECT_EQ(cg->version, 2);
  EXPECT_FALSE(cg->limit);
  EXPECT_EQ(cg->usage.value_or(0), 4096u);
}

TEST(Cgroup, V1LimitAndUnlimited) {
  FixtureRoot fx;
  fx.write("/proc/self/cgroup", "9:name=systemd:/\n4:memory:/job42\n1:cpu,cpuacct:/\n0::/\n");
  fx.write("/sys/fs/cgroup/memory/job42/memory.limit_in_bytes", "2147483648\n");
  fx.write("/sys/fs/cgroup/memory/job42/memory.usage_in_bytes", "1000\n");
  auto cg = sys::read_cgroup_memory(fx.root());
  ASSERT_TRUE(cg);
  EXPECT_EQ(cg->version, 1);
  EXPECT_EQ(cg->limit.value_or(0), 2147483648ull);
  EXPECT_EQ(cg->usage.value_or(0), 1000u);
  fx.write("/sys/fs/cgroup/memory/job42/memory.limit_in_bytes", "9223372036854771712\n");
  cg = sys::read_cgroup_memory(fx.root());
  ASSERT_TRUE(cg);
  EXPECT_FALSE(cg->limit) << "v1's huge value means no limit";
}

TEST(Cgroup, NoMemoryController) {
  FixtureRoot fx;
  fx.write("/proc/self/cgroup", "1:cpu:/\n");
  EXPECT_FALSE(sys::read_cgroup_memory(fx.root()));
}

TEST(Mounts, EscapedSpacesAndStorageFilter) {
  FixtureRoot fx;
  fx.write("/proc/mounts",
           "/dev/vda / ext4 rw,relatime 0 0\n"
           "proc /proc proc rw 0 0\n"
           "tmpfs /run tmpfs rw 0 0\n"
           "/dev/vdb /mnt/my\\040data\\011set xfs rw 0 0\n"
           "/dev/vda /bind ext4 rw 0 0\n");
  fx.mkdir("/mnt/my data\tset");
  auto mounts = sys::read_mounts(fx.root());
  ASSERT_EQ(mounts.size(), 5u);
  EXPECT_EQ(mounts[3].mount_point, "/mnt/my data\tset");
  EXPECT_EQ(mounts[3].fs_type, "xfs");
  auto disks = sys::read_disks(fx.root());
  ASSERT_EQ(disks.size(), 2u) << "proc, tmpfs and the bind mount of /dev/vda are left out";
  EXPECT_EQ(disks[1].mount.mount_point, "/mnt/my data\tset");
  ASSERT_TRUE(disks[1].usage) << "statvfs of the fixture folder";
  EXPECT_GT(disks[1].usage->total, 0u);
}

TEST(Mounts, Unescape) {
  EXPECT_EQ(sys::unescape_mount_field("a\\040b\\134c"), "a b\\c");
  EXPECT_EQ(sys::unescape_mount_field("trailing\\04"), "trailing\\04");
  EXPECT_EQ(sys::unescape_mount_field("\\999"), "\\999");
}

TEST(NetDev, Parses) {
  FixtureRoot fx;
  fx.write("/proc/net/dev",
           "Inter-|   Receive                                                |  Transmit\n"
           " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets "
           "errs drop fifo colls carrier compressed\n"
           "    lo:    3267      29    0    0    0     0          0         0     3267      29    "
           "0    0    0     0       0          0\n"
           "  eth0:123456789 1000 0 0 0 0 0 0 987654321 2000 0 0 0 0 0 0\n");
  auto d = sys::read_net_dev(fx.root());
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[1].name, "eth0");
  EXPECT_EQ(d[1].rx_bytes, 123456789u);
  EXPECT_EQ(d[1].tx_bytes, 987654321u);
  EXPECT_EQ(d[1].tx_packets, 2000u);
}

TEST(Process, CommWithSpacesAndParens) {
  auto p = sys::parse_proc_stat(
      "4242 (my (odd) prog) S 1 4242 4242 0 -1 4194304 101 0 0 0 70 30 0 0 20 0 1 0 32015 "
      "3133440 377 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->pid, 4242);
  EXPECT_EQ(p->comm, "my (odd) prog");
  EXPECT_EQ(p->state, 'S');
  EXPECT_EQ(p->ppid, 1);
  EXPECT_EQ(p->cpu_ticks, 100u);
  EXPECT_EQ(p->start_ticks, 32015u);
  EXPECT_EQ(p->tty_nr, 0);
  EXPECT_FALSE(sys::parse_proc_stat("12 (x) S 1"));
  EXPECT_FALSE(sys::parse_proc_stat("no parens"));
}

TEST(Process, FixtureProcessWithUser) {
  FixtureRoot fx;
  fx.write("/proc/77/stat",
           "77 (python3) R 1 77 77 0 -1 0 0 0 0 0 5 5 0 0 20 0 1 0 100 1000 50 0 0 0 0 0 0 0 0 0 0 "
           "0 0 17 0 0 0 0 0 0\n");
  fx.write("/proc/77/status", "Name:\tpython3\nUid:\t1000\t1000\t1000\t1000\nVmRSS:\t  2048 kB\n");
  fx.write("/proc/77/cmdline", std::string("python3\0-m\0ipykernel_launcher\0-f\0k.json\0", 40));
  fx.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/a:/bin/sh\n");
  fx.mkdir("/proc/self");
  auto pids = sys::list_pids(fx.root());
  ASSERT_EQ(pids, std::vector<int>{77});
  auto p = sys::read_process(fx.root(), 77);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->rss_bytes, 2048u * 1024);
  ASSERT_TRUE(p->uid);
  EXPECT_EQ(sys::UserNames(fx.root()).name(*p->uid), "alice");
  EXPECT_EQ(sys::UserNames(fx.root()).name(4321), "4321");
  ASSERT_EQ(p->cmdline.size(), 5u);
  EXPECT_EQ(p->cmdline[2], "ipykernel_launcher");
  EXPECT_FALSE(sys::read_process(fx.root(), 78));
}

// The real /proc of this machine.
TEST(RealProc, ReadsThisMachine) {
  auto st = sys::read_cpu_stat("/");
  ASSERT_TRUE(st);
  EXPECT_GT(st->total.total(), 0u);
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  long present = 0;
  for (const auto& c : st->cores) present += c ? 1 : 0;
  EXPECT_EQ(present, online);
  auto m = sys::read_meminfo("/");
  ASSERT_TRUE(m);
  EXPECT_GT(m->total, 0u);
  EXPECT_LE(m->available, m->total);
  EXPECT_TRUE(sys::read_loadavg("/"));
  auto me = sys::read_process("/", static_cast<int>(::getpid()));
  ASSERT_TRUE(me);
  EXPECT_EQ(me->pid, static_cast<int>(::getpid()));
  EXPECT_GT(me->rss_bytes, 0u);
  ASSERT_FALSE(me->cmdline.empty());
  EXPECT_NE(me->cmdline[0].find("test_core"), std::string::npos);
  EXPECT_EQ(me->uid.value_or(~0u), static_cast<unsigned>(::getuid()));
  bool root_mount = false;
  for (const auto& mt : sys::read_mounts("/")) root_mount |= mt.mount_point == "/";
  EXPECT_TRUE(root_mount);
  EXPECT_TRUE(sys::disk_usage("/"));
  bool lo = false;
  for (const auto& d : sys::read_net_dev("/")) lo |= d.name == "lo";
  EXPECT_TRUE(lo);
}

TEST(Process, TerminalAndStatOnly) {
  FixtureRoot fx;
  // tty_nr 34817 is /dev/pts/1 (major 136, minor 1).
  fx.write("/proc/90/stat",
           "90 (bash) S 89 90 90 34817 90 0 0 0 0 0 1 1 0 0 20 0 1 0 500 1000 50 0 0 0 0 0 0 0 0 "
           "0 0 0 0 17 0 0 0 0 0 0\n");
  auto p = sys::read_process_stat(fx.root(), 90);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->tty_nr, 34817);
  EXPECT_EQ(p->ppid, 89);
  EXPECT_TRUE(p->cmdline.empty()) << "stat only";
  EXPECT_FALSE(sys::read_process_stat(fx.root(), 91));
  EXPECT_TRUE(sys::read_cmdline(fx.root(), 90).empty()) << "no cmdline file";
  fx.write("/proc/90/cmdline", std::string("bash\0--login\0", 13));
  EXPECT_EQ(sys::read_cmdline(fx.root(), 90), (std::vector<std::string>{"bash", "--login"}));
}

TEST(Process, SplitCmdline) {
  EXPECT_EQ(sys::split_cmdline(std::string("a\0b c\0\0d\0", 9)),
            (std::vector<std::string>{"a", "b c", "", "d"}));
  EXPECT_EQ(sys::split_cmdline("no-nul"), (std::vector<std::string>{"no-nul"}));
  EXPECT_TRUE(sys::split_cmdline("").empty());
}

TEST(Uptime, UptimeAndBootId) {
  FixtureRoot fx;
  EXPECT_FALSE(sys::read_uptime(fx.root()));
  EXPECT_FALSE(sys::read_boot_id(fx.root()));
  fx.write("/proc/uptime", "12345.67 2345.00\n");
  fx.write("/proc/sys/kernel/random/boot_id", "1b2c3d4e-0000-4000-8000-123456789abc\n");
  EXPECT_DOUBLE_EQ(sys::read_uptime(fx.root()).value_or(0), 12345.67);
  EXPECT_EQ(sys::read_boot_id(fx.root()).value_or(""), "1b2c3d4e-0000-4000-8000-123456789abc");
  fx.write("/proc/uptime", "soon\n");
  fx.write("/proc/sys/kernel/random/boot_id", "\n");
  EXPECT_FALSE(sys::read_uptime(fx.root()));
  EXPECT_FALSE(sys::read_boot_id(fx.root()));
  EXPECT_GT(sys::read_uptime("/").value_or(0), 0.0);
}

TEST(ClassifyProcess, TrainingRuns) {
  using K = sys::ProcessKind;
  EXPECT_EQ(sys::classify_process({"d2l", "train", "lenet"}), K::training_run);
  EXPECT_EQ(sys::classify_process({"/opt/bin/d2l-torch", "train", "mlp"}), K::training_run);
  // behind a wrapper or an interpreter
  EXPECT_EQ(sys::classify_process({"nice", "-n", "5", "/usr/bin/d2l", "train"}), K::training_run);
  EXPECT_EQ(sys::classify_process({"env", "OMP_NUM_THREADS=2", "d2l-torch", "train"}),
            K::training_run);
  // options before the subcommand
  EXPECT_EQ(sys::classify_process({"d2l", "--verbose", "train"}), K::training_run);
  // `train` as some other command's argument is not a training run
  EXPECT_EQ(sys::classify_process({"d2l", "notebook", "start", "--root", "train"}), K::other);
  EXPECT_EQ(sys::classify_process({"d2l", "plot", "runs/train"}), K::other);
  EXPECT_EQ(sys::classify_process({"vim", "train"}), K::other);
  EXPECT_EQ(sys::classify_process({"/usr/bin/d2lx", "train"}), K::other);
  EXPECT_EQ(sys::classify_process({"d2l"}), K::other);
  EXPECT_EQ(sys::classify_process({"d2l", "monitor"}), K::other);
  EXPECT_EQ(sys::classify_process({}), K::other);
}

TEST(ClassifyProcess, JupyterKernels) {
  using K = sys::ProcessKind;
  EXPECT_EQ(sys::classify_process({"/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "k.json"}),
            K::jupyter_kernel);
  EXPECT_EQ(sys::classify_process({"python3", "-m", "ipykernel"}), K::jupyter_kernel);
  EXPECT_EQ(sys::classify_process({"/usr/lib/python3/dist-packages/ipykernel_launcher.py"}),
            K::jupyter_kernel);
  EXPECT_EQ(sys::classify_process({"python3", "-m", "http.server"}), K::other);
  EXPECT_STREQ(sys::process_kind_name(K::jupyter_kernel), "jupyter");
  EXPECT_STREQ(sys::process_kind_name(K::training_run), "d2l-train");
  EXPECT_STREQ(sys::process_kind_name(K::other), "");
}
