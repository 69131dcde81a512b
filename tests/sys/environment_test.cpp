#include "d2l/sys/environment.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "d2l/core/error.h"
#include "d2l/data/registry.h"
#include "support/fixtures.h"

using d2l::test::FixtureRoot;
namespace sys = d2l::sys;
using sys::ProbeStatus;

namespace {

const sys::Probe* find(const std::vector<sys::Probe>& v, const std::string& id) {
  for (const auto& p : v)
    if (p.id == id) return &p;
  return nullptr;
}

sys::CpuFeatures avx512_cpu() {
  sys::CpuFeatures c;
  c.avx = c.avx2 = c.fma = c.avx512f = c.avx512bw = c.avx512vl = c.avx512dq = true;
  return c;
}

struct EnvGuard {
  EnvGuard(const char* k, const char* v) : key(k) { ::setenv(k, v, 1); }
  ~EnvGuard() { ::unsetenv(key); }
  const char* key;
};

}  // namespace

TEST(Blas, KindOfPath) {
  EXPECT_EQ(sys::blas_kind_of_path("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"),
            "openblas");
  EXPECT_EQ(sys::blas_kind_of_path("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0"),
            "reference");
  EXPECT_EQ(sys::blas_kind_of_path("/opt/intel/lib/libmkl_rt.so.2"), "mkl");
  EXPECT_EQ(sys::blas_kind_of_path("/usr/lib/x86_64-linux-gnu/blis-openmp/libblas.so.3"), "blis");
  EXPECT_EQ(sys::blas_kind_of_path(""), "unknown");
  EXPECT_EQ(sys::blas_kind_of_path("/somewhere/libfoo.so"), "unknown");
}

TEST(Blas, OpenBlasCoreMismatch) {
  // The case of this machine: OpenBLAS 0.3.21 picks Prescott on an AVX-512 CPU.
  auto b = sys::classify_blas("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3",
                              std::string("Prescott"), avx512_cpu());
  EXPECT_EQ(b.kind, "openblas");
  EXPECT_TRUE(b.core_mismatch);
  EXPECT_EQ(b.suggested_coretype, "SkylakeX");
  b = sys::classify_blas("/x/libopenblas.so.0", std::string("SkylakeX"), avx512_cpu());
  EXPECT_FALSE(b.core_mismatch);
  sys::CpuFeatures avx2;
  avx2.avx = avx2.avx2 = avx2.fma = true;
  EXPECT_EQ(avx2.simd_level(), 2);
  b = sys::classify_blas("/x/libopenblas.so.0", std::string("Haswell"), avx2);
  EXPECT_FALSE(b.core_mismatch);
  b = sys::classify_blas("/x/libopenblas.so.0", std::string("Sandybridge"), avx2);
  EXPECT_TRUE(b.core_mismatch);
  EXPECT_EQ(b.suggested_coretype, "Haswell");
  b = sys::classify_blas("/x/libopenblas.so.0", std::string("SomeFutureCore"), avx512_cpu());
  EXPECT_FALSE(b.core_mismatch) << "unknown names give no verdict";
  b = sys::classify_blas("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3", std::nullopt, avx512_cpu());
  EXPECT_EQ(b.kind, "reference");
  EXPECT_FALSE(b.core_mismatch);
}

TEST(Blas, ThisProcessWithoutTorch) {
  auto probes = sys::probe_blas_without_torch(sys::read_cpu_features("/"));
  const auto* lib = find(probes, "blas.library");
  ASSERT_NE(lib, nullptr);
  // Whatever libblas.so.3 is here, a PASS names it (kind: path), a WARN is the reference BLAS,
  // and nothing else (no FAIL).
  EXPECT_NE(lib->status, ProbeStatus::Fail) << lib->value;
  if (lib->status == ProbeStatus::Pass)
    EXPECT_NE(lib->value.find(": /"), std::string::npos) << lib->value;
  if (lib->status == ProbeStatus::Warn) EXPECT_EQ(lib->hint_id, "reference-blas");
  if (lib->value.find("openblas") == 0) EXPECT_TRUE(find(probes, "blas.openblas_core"));
}

TEST(Cpu, FeaturesFromCpuinfo) {
  FixtureRoot fx;
  fx.write("/proc/cpuinfo",
           "processor\t: 0\nmodel name\t: Test CPU\nphysical id\t: 0\ncore id\t: 0\n"
           "flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw avx512vl avx512dq\n\n"
           "processor\t: 1\nmodel name\t: Test CPU\nphysical id\t: 0\ncore id\t: 0\n"
           "flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw avx512vl avx512dq\n\n");
  auto c = sys::read_cpu_features(fx.root());
  EXPECT_EQ(c.model, "Test CPU");
  EXPECT_EQ(c.logical, 2);
  EXPECT_EQ(c.physical, 1) << "two hyper-threads of one core";
  EXPECT_EQ(c.simd_level(), 3);
}

TEST(Doctor, SystemProbesOnFixture) {
  FixtureRoot fx;
  fx.write("/etc/os-release", "NAME=Test\nPRETTY_NAME=\"Test OS 1\"\n");
  fx.write("/proc/sys/kernel/osrelease", "9.9.9-test\n");
  fx.write("/proc/cpuinfo", "processor\t: 0\nmodel name\t: Old CPU\nflags\t\t: fpu sse2\n");
  fx.write("/proc/meminfo", "MemTotal: 2097152 kB\nMemAvailable: 1048576 kB\n");
  fx.write("/proc/self/cgroup", "0::/box\n");
  fx.write("/sys/fs/cgroup/box/memory.max", "1073741824\n");
  auto p = sys::probe_system(fx.root());
  EXPECT_EQ(find(p, "os")->value, "Test OS 1");
  EXPECT_EQ(find(p, "kernel")->value, "9.9.9-test");
  EXPECT_EQ(find(p, "cpu.simd")->status, ProbeStatus::Warn);
  EXPECT_EQ(find(p, "cpu.simd")->hint_id, "no-avx2");
  EXPECT_EQ(find(p, "memory")->status, ProbeStatus::Warn);
  EXPECT_EQ(find(p, "memory.cgroup")->status, ProbeStatus::Warn);
  EXPECT_NE(find(p, "memory.cgroup")->value.find("1.0 GiB"), std::string::npos);
}

TEST(Doctor, EmptyRootIsNa) {
  FixtureRoot fx;
  auto p = sys::probe_system(fx.root());
  EXPECT_EQ(find(p, "os")->status, ProbeStatus::NA);
  EXPECT_EQ(find(p, "cpu")->status, ProbeStatus::NA);
  EXPECT_EQ(find(p, "memory")->status, ProbeStatus::NA);
  EXPECT_EQ(find(p, "memory.cgroup")->status, ProbeStatus::NA);
}

// doctor's data probes run the registry's own search: they report the place `d2l train` uses.
TEST(Doctor, DatasetsAreWhereTheRegistrysSearchFindsThem) {
  FixtureRoot fx;
  EnvGuard cache("XDG_CACHE_HOME", (fx.root() + "/cache").c_str());
  auto p = sys::probe_datasets({fx.root() + "/data"});
  ASSERT_TRUE(find(p, "data.cifar10"));
  EXPECT_EQ(find(p, "data.mnist")->status, ProbeStatus::NA);
  EXPECT_EQ(find(p, "data.cifar10")->status, ProbeStatus::NA);
  // Fashion-MNIST: Debian's copy where it is installed, else missing (WARN).
  const auto fm =
      d2l::data::find_dataset(d2l::data::dataset_info("fashion-mnist"), fx.root() + "/data");
  if (fm) {
    EXPECT_EQ(find(p, "data.fashion-mnist")->value, fm->dir);
  } else {
    EXPECT_EQ(find(p, "data.fashion-mnist")->status, ProbeStatus::Warn);
    EXPECT_EQ(find(p, "data.fashion-mnist")->hint_id, "dataset-missing");
  }

  // A generated MNIST in torchvision's layout, named by $D2L_DATA_DIR.
  fx.mkdir("/data/MNIST/raw");
  d2l::test::write_fake_mnist(fx.root() + "/data/MNIST/raw", 10, 4, true);
  EnvGuard env("D2L_DATA_DIR", (fx.root() + "/data").c_str());
  const auto found = d2l::data::find_dataset(d2l::data::dataset_info("mnist"));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->dir, fx.root() + "/data/MNIST/raw");
  p = sys::probe_datasets({});
  EXPECT_EQ(find(p, "data.mnist")->status, ProbeStatus::Pass);
  EXPECT_EQ(find(p, "data.mnist")->value, found->dir);

  // The real `d2l doctor --json` reports the same place.
  const auto r =
      d2l::test::run("env XDG_CACHE_HOME=" + fx.root() + "/cache D2L_DATA_DIR=" + fx.root() +
                         "/data " + d2l::test::bin("d2l") + " doctor --json --no-torch",
                     d2l::test::Capture::StdoutOnly);
  const auto j = nlohmann::json::parse(r.output);
  bool seen = false;
  for (const auto& probe : j["probes"])
    if (probe["id"] == "data.mnist") {
      seen = true;
      EXPECT_EQ(probe["status"], "PASS");
      EXPECT_EQ(probe["value"], found->dir);
    }
  EXPECT_TRUE(seen) << r.output;

  // An archive named by --data-dir: PASS, naming where it will be unpacked (doctor unpacks
  // nothing).
  d2l::test::write_bytes(fx.root() + "/m.tar", std::string(1024, '\0'));
  p = sys::probe_datasets({fx.root() + "/m.tar"});
  EXPECT_EQ(find(p, "data.mnist")->status, ProbeStatus::Pass);
  EXPECT_EQ(find(p, "data.mnist")
                ->value.find(fx.root() + "/m.tar (unpacked into " + fx.root() +
                             "/cache/d2l/mnist/unpacked/m-"),
            0u)
      << find(p, "data.mnist")->value;
  EXPECT_FALSE(std::filesystem::exists(fx.root() + "/cache/d2l/mnist/unpacked"));

  // A data folder missing a file: WARN naming it, as `d2l train` would refuse it.
  std::filesystem::remove(fx.root() + "/data/MNIST/raw/t10k-images-idx3-ubyte.gz");
  p = sys::probe_datasets({});
  EXPECT_EQ(find(p, "data.mnist")->status, ProbeStatus::Warn);
  EXPECT_NE(find(p, "data.mnist")->value.find("raw: t10k-images-idx3-ubyte.gz missing"),
            std::string::npos)
      << find(p, "data.mnist")->value;
}

TEST(Doctor, DisksUseNearestExistingFolder) {
  FixtureRoot fx;
  auto p = sys::probe_disks({fx.root() + "/not/yet/made"}, fx.root());
  ASSERT_EQ(p.size(), 2u);
  for (const auto& q : p) EXPECT_NE(q.status, ProbeStatus::NA) << q.value;
}

TEST(Doctor, NvidiaWithoutDriver) {
  auto p = sys::probe_nvidia("libd2l-no-such-nvml.so.1", false, std::nullopt);
  EXPECT_EQ(find(p, "nvidia.driver")->status, ProbeStatus::NA);
  EXPECT_EQ(find(p, "nvidia.cuda_driver")->status, ProbeStatus::NA);
  EXPECT_EQ(find(p, "cuda.build_vs_driver")->status, ProbeStatus::NA);
  EXPECT_FALSE(find(p, "nvidia.gpu0"));
}

TEST(Doctor, NvidiaStandIn) {
  EnvGuard mode("D2L_NVML_STANDIN_MODE", "ok");
  auto p = sys::probe_nvidia(D2L_NVML_STANDIN, true, std::string("12.1"));
  EXPECT_EQ(find(p, "nvidia.driver")->status, ProbeStatus::Pass);
  EXPECT_EQ(find(p, "nvidia.cuda_driver")->value, "12.4");
  ASSERT_TRUE(find(p, "nvidia.gpu1"));
  EXPECT_NE(find(p, "nvidia.gpu0")->value.find("compute capability 9.0"), std::string::npos);
  EXPECT_NE(find(p, "nvidia.gpu1")->value.find("MIG on"), std::string::npos);
  EXPECT_NE(find(p, "nvidia.gpu1")->value.find("n/a C"), std::string::npos);
  EXPECT_EQ(find(p, "cuda.build_vs_driver")->status, ProbeStatus::Pass);
  p = sys::probe_nvidia(D2L_NVML_STANDIN, true, std::string("12.6"));
  EXPECT_EQ(find(p, "cuda.build_vs_driver")->status, ProbeStatus::Fail);
  EXPECT_EQ(find(p, "cuda.build_vs_driver")->hint_id, "cuda-driver-too-old");
  p = sys::probe_nvidia(D2L_NVML_STANDIN, true, std::nullopt);
  EXPECT_EQ(find(p, "cuda.build_vs_driver")->status, ProbeStatus::Warn);
  EXPECT_EQ(find(p, "cuda.build_vs_driver")->hint_id, "cuda-not-in-build");
}

TEST(Doctor, NvidiaStandInFailures) {
  {
    EnvGuard mode("D2L_NVML_STANDIN_MODE", "mismatch");
    auto p = sys::probe_nvidia(D2L_NVML_STANDIN, false, std::nullopt);
    EXPECT_EQ(find(p, "nvidia.driver")->status, ProbeStatus::Fail);
    EXPECT_EQ(find(p, "nvidia.driver")->hint_id, "nvml-mismatch");
  }
  {
    EnvGuard mode("D2L_NVML_STANDIN_MODE", "nodevice");
    auto p = sys::probe_nvidia(D2L_NVML_STANDIN, false, std::nullopt);
    EXPECT_EQ(find(p, "nvidia.gpus")->status, ProbeStatus::Warn);
    EXPECT_EQ(find(p, "nvidia.gpus")->hint_id, "no-gpu-visible");
  }
}

TEST(Doctor, NvidiaStubOnlyFails) {
  FixtureRoot fx;
  fx.mkdir("/stubs");
  std::filesystem::copy_file(D2L_NVML_STANDIN, fx.root() + "/stubs/libnvidia-ml.so");
  auto p = sys::probe_nvidia(fx.root() + "/stubs/libnvidia-ml.so", false, std::nullopt);
  EXPECT_EQ(find(p, "nvidia.driver")->status, ProbeStatus::Fail);
  EXPECT_EQ(find(p, "nvidia.driver")->hint_id, "nvml-stub");
}

TEST(Doctor, ProbesFromTorchJson) {
  const std::string text = R"({
    "schema": "d2l.doctor-torch/1", "torch_version": "2.11.0", "compiler": "GCC 12",
    "cuda_built": true, "cuda_available": true, "device_count": 1,
    "cuda_runtime_version": "12.8", "cudnn_version": 91000, "mkldnn": true, "mkl": false,
    "openmp": true, "threads": 8, "interop_threads": 8,
    "blas": {"sgemm_provider": "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3",
             "mapped": [], "openblas_core": "Prescott", "openblas_config": "OpenBLAS 0.3.21"},
    "matmul": [{"device": "cpu", "size": 256, "ok": true, "max_rel_err": 1e-7, "seconds": 0.01},
               {"device": "cuda:0", "size": 256, "ok": false, "max_rel_err": 0.5,
                "seconds": 0.01},
               {"device": "cuda:1", "error": "CUDA error: out of memory"}]})";
  auto p = sys::probes_from_torch_json(text, avx512_cpu());
  EXPECT_EQ(find(p, "torch.version")->value.rfind("2.11.0", 0), 0u);
  EXPECT_NE(find(p, "torch.cuda")->value.find("CUDA runtime 12.8"), std::string::npos);
  EXPECT_EQ(find(p, "torch.cudnn")->value, "91000");
  EXPECT_EQ(find(p, "blas.openblas_core")->status, ProbeStatus::Warn);
  EXPECT_EQ(find(p, "blas.openblas_core")->hint_id, "openblas-core");
  EXPECT_EQ(find(p, "compute.cpu")->status, ProbeStatus::Pass);
  EXPECT_EQ(find(p, "torch.threads")->status, ProbeStatus::Pass) << "cores unknown: no verdict";
  EXPECT_EQ(find(p, "compute.cuda:0")->status, ProbeStatus::Fail);
  EXPECT_EQ(find(p, "compute.cuda:1")->status, ProbeStatus::Fail);
  EXPECT_NE(find(p, "compute.cuda:1")->value.find("out of memory"), std::string::npos);

  const std::string reference = R"({"torch_version": "1.13.0", "cuda_built": false,
    "blas": {"sgemm_provider": "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3"}})";
  p = sys::probes_from_torch_json(reference, avx512_cpu());
  EXPECT_EQ(find(p, "blas.library")->status, ProbeStatus::Warn);
  EXPECT_EQ(find(p, "blas.library")->hint_id, "reference-blas");
  EXPECT_EQ(find(p, "torch.cudnn")->status, ProbeStatus::NA);
  EXPECT_THROW(sys::probes_from_torch_json("not json", avx512_cpu()), d2l::Error);

  auto cpu = avx512_cpu();
  cpu.physical = 4;
  p = sys::probes_from_torch_json(R"({"threads": 1, "interop_threads": 1})", cpu);
  EXPECT_EQ(find(p, "torch.threads")->status, ProbeStatus::Warn);
  EXPECT_EQ(find(p, "torch.threads")->hint_id, "few-threads");
  EXPECT_NE(find(p, "torch.threads")->value.find("OMP_NUM_THREADS=4"), std::string::npos);
  p = sys::probes_from_torch_json(R"({"threads": 4, "interop_threads": 1})", cpu);
  EXPECT_EQ(find(p, "torch.threads")->status, ProbeStatus::Pass);
}

TEST(Doctor, GuardedProbeNeverStopsOthers) {
  auto p = sys::guarded("boom", "system", []() -> std::vector<sys::Probe> {
    throw std::runtime_error("broken\nsecond line");
  });
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].status, ProbeStatus::Fail);
  EXPECT_EQ(p[0].value, "probe failed: broken");
}

TEST(Doctor, RunWithFailingTorchHelperKeepsOtherProbes) {
  sys::DoctorOptions o;
  o.torch_exe = "/bin/false";  // a real program that fails
  o.nvml_library = "libd2l-no-such-nvml.so.1";
  o.data_dirs = {"/usr/share/datasets"};
  auto r = sys::run_doctor(o);
  ASSERT_TRUE(r.find("torch.version"));
  EXPECT_EQ(r.find("torch.version")->status, ProbeStatus::Fail);
  EXPECT_EQ(r.find("torch.version")->hint_id, "torch-failed");
  EXPECT_TRUE(r.any_fail());
  for (const char* id :
       {"os", "cpu", "memory", "blas.library", "nvidia.driver", "data.fashion-mnist"})
    EXPECT_TRUE(r.find(id)) << id;
  // Every hint a probe names is in the table.
  for (const auto& p : r.probes)
    if (!p.hint_id.empty()) EXPECT_TRUE(sys::find_hint(p.hint_id)) << p.hint_id;
}

TEST(Doctor, JsonSchemaRoundTripAndCompare) {
  sys::DoctorReport r;
  r.unix_time = 1e9;
  r.probes = {{"os", "system", "OS", ProbeStatus::Pass, "Debian", ""},
              {"blas.library", "blas", "BLAS", ProbeStatus::Warn, "reference", "reference-blas"},
              {"nvidia.driver", "nvidia", "NVIDIA driver", ProbeStatus::NA, "n/a", ""}};
  const auto j = nlohmann::json::parse(sys::report_json(r));
  EXPECT_EQ(j["schema"], "d2l.doctor/1");
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["counts"]["WARN"], 1);
  EXPECT_EQ(j["counts"]["n/a"], 1);
  ASSERT_EQ(j["probes"].size(), 3u);
  for (const auto& p : j["probes"])
    for (const char* k : {"id", "section", "label", "status", "value", "hint"})
      EXPECT_TRUE(p.contains(k)) << k;
  EXPECT_TRUE(j["probes"][0]["hint"].is_null());
  EXPECT_TRUE(j["hints"].contains("reference-blas"));
  EXPECT_TRUE(j["hints"]["reference-blas"].contains("fix"));

  auto back = sys::report_from_json(sys::report_json(r));
  ASSERT_EQ(back.probes.size(), 3u);
  EXPECT_EQ(back.probes[1].hint_id, "reference-blas");
  EXPECT_EQ(back.probes[1].status, ProbeStatus::Warn);
  EXPECT_TRUE(sys::compare_reports(r, back).empty());

  auto now = back;
  now.probes[1].status = ProbeStatus::Pass;
  now.probes[1].value = "openblas";
  now.probes.erase(now.probes.begin() + 2);
  now.probes.push_back({"nvidia.gpu0", "nvidia", "GPU 0", ProbeStatus::Pass, "H200", ""});
  auto d = sys::compare_reports(r, now);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].id, "blas.library");
  EXPECT_EQ(d[0].before->value, "reference");
  EXPECT_EQ(d[1].id, "nvidia.gpu0");
  EXPECT_FALSE(d[1].before);
  EXPECT_EQ(d[2].id, "nvidia.driver");
  EXPECT_FALSE(d[2].after);

  // Free memory changes between runs: only a change of status counts.
  auto a = r, b = r;
  a.probes.push_back({"memory", "system", "Memory", ProbeStatus::Pass, "9.0 GiB available", ""});
  b.probes.push_back({"memory", "system", "Memory", ProbeStatus::Pass, "8.5 GiB available", ""});
  EXPECT_TRUE(sys::compare_reports(a, b).empty());
  b.probes.back().status = ProbeStatus::Warn;
  EXPECT_EQ(sys::compare_reports(a, b).size(), 1u);
  EXPECT_TRUE(sys::is_volatile_probe("disk.data:/x"));
  EXPECT_FALSE(sys::is_volatile_probe("nvidia.gpus"));
  EXPECT_FALSE(sys::is_volatile_probe("torch.version"));

  EXPECT_THROW(sys::report_from_json("{}"), d2l::Error);
  EXPECT_THROW(sys::report_from_json("[1,2"), d2l::Error);
  EXPECT_THROW(
      sys::report_from_json(R"({"schema":"d2l.doctor/1","probes":[{"id":"x","status":"OK"}]})"),
      d2l::Error);
}

TEST(Doctor, RenderShowsHints) {
  sys::DoctorReport r;
  r.probes = {{"blas.library", "blas", "BLAS", ProbeStatus::Warn, "reference", "reference-blas"}};
  const std::string text = sys::render_report(r, false);
  EXPECT_NE(text.find("WARN  BLAS: reference"), std::string::npos);
  EXPECT_NE(text.find("update-alternatives"), std::string::npos);
  EXPECT_NE(text.find("0 PASS, 1 WARN, 0 FAIL, 0 n/a"), std::string::npos);
}
