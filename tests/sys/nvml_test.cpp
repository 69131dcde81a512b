// NVML through dlopen. This machine has no NVIDIA driver: the real library is absent (the
// no-NVML path), and the GPU path runs against the stand-in library tests/sys/nvml_standin.c.
#include "d2l/sys/nvml.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

#include "support/fixtures.h"

namespace sys = d2l::sys;

namespace {
struct ModeGuard {
  explicit ModeGuard(const char* mode) { ::setenv("D2L_NVML_STANDIN_MODE", mode, 1); }
  ~ModeGuard() { ::unsetenv("D2L_NVML_STANDIN_MODE"); }
};
}  // namespace

TEST(Nvml, MissingLibraryGivesNotFoundAndNulls) {
  sys::Nvml n("libd2l-no-such-nvml.so.1");
  EXPECT_EQ(n.state(), sys::NvmlState::NotFound);
  EXPECT_FALSE(n.ok());
  EXPECT_NE(n.error().find("libd2l-no-such-nvml.so.1"), std::string::npos);
  EXPECT_FALSE(n.driver_version());
  EXPECT_FALSE(n.cuda_driver_version());
  EXPECT_FALSE(n.device_count());
  EXPECT_TRUE(n.gpus().empty());
  EXPECT_FALSE(n.gpu(0).name);
}

TEST(Nvml, DefaultLibraryOnThisMachine) {
  // Whatever this machine has, construction must not throw and must be consistent.
  ::unsetenv("D2L_NVML_LIBRARY");
  sys::Nvml n;
  if (n.ok()) {
    EXPECT_TRUE(n.device_count());
  } else {
    EXPECT_FALSE(n.error().empty());
    EXPECT_TRUE(n.gpus().empty());
  }
}

TEST(Nvml, NotNvmlLibraryIsMissingSymbols) {
  sys::Nvml n("libm.so.6");
  EXPECT_EQ(n.state(), sys::NvmlState::MissingSymbols);
}

TEST(Nvml, StandInGpus) {
  ModeGuard mode("ok");
  sys::Nvml n(D2L_NVML_STANDIN);
  ASSERT_TRUE(n.ok()) << n.error();
  EXPECT_NE(n.library_path().find("nvml_standin"), std::string::npos);
  EXPECT_EQ(n.driver_version().value_or(""), "999.0.0-standin");
  EXPECT_EQ(sys::format_cuda_version(n.cuda_driver_version().value_or(0)), "12.4");
  auto gpus = n.gpus();
  ASSERT_EQ(gpus.size(), 2u);
  const auto& a = gpus[0];
  EXPECT_EQ(a.name.value_or(""), "Stand-in GPU A");
  EXPECT_EQ(a.memory_total.value_or(0), 80ull << 30);
  EXPECT_EQ(a.memory_used.value_or(0), 1ull << 30);
  EXPECT_EQ(a.utilization_gpu.value_or(0), 42u);
  EXPECT_EQ(a.temperature_c.value_or(0), 55u);
  EXPECT_DOUBLE_EQ(a.power_w.value_or(0), 123.456);
  EXPECT_DOUBLE_EQ(a.power_limit_w.value_or(0), 700.0);
  EXPECT_EQ(a.clock_memory_mhz.value_or(0), 2619u);
  EXPECT_EQ(a.compute_capability_major.value_or(0), 9);
  EXPECT_EQ(a.mig_enabled, std::optional<bool>(false));
  ASSERT_EQ(a.processes.size(), 1u);
  EXPECT_EQ(a.processes[0].pid, static_cast<unsigned>(::getpid()));
  EXPECT_EQ(a.processes[0].used_memory.value_or(0), 512ull << 20);
  // GPU B answers "not supported" for these: n/a, not zero.
  const auto& b = gpus[1];
  EXPECT_FALSE(b.temperature_c);
  EXPECT_FALSE(b.power_w);
  EXPECT_FALSE(b.clock_sm_mhz);
  EXPECT_EQ(b.mig_enabled, std::optional<bool>(true));
  EXPECT_TRUE(b.processes.empty());
}

TEST(Nvml, StandInThroughEnvironment) {
  ModeGuard mode("nodevice");
  ::setenv("D2L_NVML_LIBRARY", D2L_NVML_STANDIN, 1);
  sys::Nvml n;
  ::unsetenv("D2L_NVML_LIBRARY");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.device_count().value_or(99), 0u);
  EXPECT_TRUE(n.gpus().empty());
}

TEST(Nvml, StandInVersionMismatch) {
  ModeGuard mode("mismatch");
  sys::Nvml n(D2L_NVML_STANDIN);
  EXPECT_EQ(n.state(), sys::NvmlState::InitFailed);
  EXPECT_EQ(n.init_error_code(), sys::kNvmlErrorLibRmVersionMismatch);
  EXPECT_NE(n.error().find("Driver/library version mismatch"), std::string::npos);
  EXPECT_FALSE(n.device_count());
}

TEST(Nvml, LibraryInStubsFolderIsTheStub) {
  // The CUDA toolkit's stubs/libnvidia-ml.so cannot work: a library loaded from a stubs/ folder
  // is reported as the stub (here the stand-in, copied there).
  d2l::test::FixtureRoot fx;
  fx.mkdir("/stubs");
  const std::string stub = fx.root() + "/stubs/libnvidia-ml.so";
  std::filesystem::copy_file(D2L_NVML_STANDIN, stub);
  sys::Nvml n(stub);
  EXPECT_EQ(n.state(), sys::NvmlState::StubOnly);
  EXPECT_NE(n.error().find("stub"), std::string::npos);
  EXPECT_FALSE(n.device_count());
}
