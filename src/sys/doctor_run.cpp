// A doctor run: every probe group, the LibTorch child (d2l-torch doctor-torch) and its output.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "d2l/core/error.h"
#include "d2l/core/process.h"
#include "d2l/data/registry.h"
#include "d2l/sys/environment.h"
#include "doctor_internal.h"

namespace d2l::sys {

using detail::blas_probes;
using detail::make;
using detail::trim;
using nlohmann::json;

std::vector<Probe> probes_from_torch_json(const std::string& text, const CpuFeatures& cpu) {
  std::vector<Probe> out;
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception&) {
    throw Error("doctor-torch: output is not JSON");
  }
  auto str = [&](const json& o, const char* k) -> std::optional<std::string> {
    if (o.contains(k) && o[k].is_string()) return o[k].get<std::string>();
    return std::nullopt;
  };
  auto boolean = [&](const json& o, const char* k) -> std::optional<bool> {
    if (o.contains(k) && o[k].is_boolean()) return o[k].get<bool>();
    return std::nullopt;
  };
  auto yes_no = [](const std::optional<bool>& b) {
    return b ? (*b ? std::string("yes") : std::string("no")) : std::string("n/a");
  };
  out.push_back(
      make("torch.version", "torch", "LibTorch", ProbeStatus::Pass,
           str(j, "torch_version").value_or("n/a") +
               (str(j, "compiler") ? " (d2l-torch built by " + *str(j, "compiler") + ")" : "")));
  const auto cuda_built = boolean(j, "cuda_built");
  const auto cuda_rt = str(j, "cuda_runtime_version");
  const auto cuda_avail = boolean(j, "cuda_available");
  const int count = j.value("device_count", 0);
  std::string cuda_v = cuda_built.value_or(false) ? "in the build" : "not in the build";
  if (cuda_rt) cuda_v += " (CUDA runtime " + *cuda_rt + ")";
  if (cuda_built.value_or(false))
    cuda_v += std::string(", ") + (cuda_avail.value_or(false) ? "available" : "not available") +
              ", " + std::to_string(count) + " device(s)";
  out.push_back(make("torch.cuda", "torch", "CUDA", ProbeStatus::Pass, cuda_v));
  if (j.contains("cudnn_version") && j["cudnn_version"].is_number())
    out.push_back(make("torch.cudnn", "torch", "cuDNN", ProbeStatus::Pass,
                       std::to_string(j["cudnn_version"].get<long>())));
  else
    out.push_back(make("torch.cudnn", "torch", "cuDNN", ProbeStatus::NA, "n/a"));
  out.push_back(make("torch.onednn", "torch", "oneDNN (MKL-DNN)", ProbeStatus::Pass,
                     yes_no(boolean(j, "mkldnn"))));
  out.push_back(
      make("torch.openmp", "torch", "OpenMP", ProbeStatus::Pass, yes_no(boolean(j, "openmp"))));
  const int threads = j.value("threads", 0);
  const int cores = cpu.physical > 0 ? cpu.physical : cpu.logical;
  const bool few = threads > 0 && threads < cores;
  out.push_back(make("torch.threads", "torch", "Threads",
                     few ? ProbeStatus::Warn : ProbeStatus::Pass,
                     std::to_string(threads) + " intra-op, " +
                         std::to_string(j.value("interop_threads", 0)) + " inter-op" +
                         (few ? " on " + std::to_string(cores) +
                                    " cores: set OMP_NUM_THREADS=" + std::to_string(cores)
                              : ""),
                     few ? "few-threads" : ""));
  // BLAS
  const json blas = j.value("blas", json::object());
  const auto core = str(blas, "openblas_core");
  auto b = classify_blas(str(blas, "sgemm_provider").value_or(""), core, cpu);
  for (auto& p : blas_probes(b, cpu, "loaded by d2l-torch")) out.push_back(std::move(p));
  // Compute
  if (j.contains("matmul") && j["matmul"].is_array()) {
    for (const auto& m : j["matmul"]) {
      const std::string dev = m.value("device", "?");
      const std::string id = "compute." + dev, label = "Matrix product on " + dev;
      if (m.contains("error") && m["error"].is_string()) {
        out.push_back(make(id, "compute", label, ProbeStatus::Fail, m["error"].get<std::string>(),
                           "compute-mismatch"));
        continue;
      }
      char v[160];
      std::snprintf(v, sizeof v, "%zux%zu fp32, max relative error %.2g vs CPU fp64 (%.1f ms)",
                    m.value("size", std::size_t{0}), m.value("size", std::size_t{0}),
                    m.value("max_rel_err", 0.0), 1e3 * m.value("seconds", 0.0));
      const bool ok = m.value("ok", false);
      out.push_back(make(id, "compute", label, ok ? ProbeStatus::Pass : ProbeStatus::Fail, v,
                         ok ? "" : "compute-mismatch"));
    }
  }
  return out;
}

DoctorReport run_doctor(const DoctorOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  DoctorReport r;
  r.unix_time =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto add = [&](std::vector<Probe> v) {
    for (auto& p : v) r.probes.push_back(std::move(p));
  };
  add(guarded("system", "system", [&] { return probe_system(o.root); }));
  // Free disk where data is written: the cache, where downloads and unpacked archives go.
  add(guarded("disk", "system",
              [&] { return probe_disks({data::default_cache_dir()}, o.checkpoint_dir); }));
  add(guarded("build", "build", [&] {
    return std::vector<Probe>{
        make("build.compiler", "build", "Compiler", ProbeStatus::Pass,
             o.compiler.empty() ? "n/a" : o.compiler),
        make("build.d2l", "build", "d2l", ProbeStatus::Pass, o.build.empty() ? "n/a" : o.build)};
  }));
  const CpuFeatures cpu = read_cpu_features(o.root);
  // LibTorch, in the child d2l-torch (loading LibTorch here would cost 0.5 s for every command).
  bool torch_known = false;
  std::optional<std::string> torch_cuda;
  if (o.torch_exe.empty()) {
    add({make(
        "torch.version", "torch", "LibTorch", ProbeStatus::NA,
        "n/a (" +
            (o.torch_missing_reason.empty() ? "d2l-torch not found" : o.torch_missing_reason) + ")",
        "torch-missing")});
    add(guarded("blas", "blas", [&] { return probe_blas_without_torch(cpu); }));
  } else {
    const ChildResult c = run_child({o.torch_exe, "doctor-torch", "--json"}, o.torch_timeout_s);
    std::vector<Probe> tp;
    if (c.ok()) {
      tp = guarded("torch", "torch", [&] { return probes_from_torch_json(c.out, cpu); });
      try {
        const json j = json::parse(c.out);
        torch_known = true;
        if (j.value("cuda_built", false))
          torch_cuda = j.contains("cuda_runtime_version") && j["cuda_runtime_version"].is_string()
                           ? j["cuda_runtime_version"].get<std::string>()
                           : std::string("unknown");
      } catch (const std::exception&) {
      }
    } else {
      std::string why = c.describe();
      std::string err = trim(c.err);
      if (!err.empty()) why += ": " + err.substr(0, std::min<std::size_t>(err.find('\n'), 200));
      tp.push_back(make("torch.version", "torch", "LibTorch", ProbeStatus::Fail,
                        o.torch_exe + " doctor-torch: " + why, "torch-failed"));
      add(guarded("blas", "blas", [&] { return probe_blas_without_torch(cpu); }));
    }
    add(std::move(tp));
  }
  add(guarded("nvidia", "nvidia",
              [&] { return probe_nvidia(o.nvml_library, torch_known, torch_cuda); }));
  // LibTorch has CUDA, the driver sees GPUs, yet CUDA is unavailable: say so.
  if (const Probe* gpus = r.find("nvidia.gpus"); gpus && gpus->status == ProbeStatus::Pass)
    if (const Probe* tc = r.find("torch.cuda");
        tc && tc->value.find("in the build") == 0 &&
        tc->value.find("not available") != std::string::npos)
      add({make("torch.cuda_available", "torch", "CUDA usable by LibTorch", ProbeStatus::Fail,
                "no: GPUs visible to the driver but not to LibTorch", "cuda-unavailable")});
  add(guarded("data", "data", [&] { return probe_datasets(o.data_dirs); }));
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}
}  // namespace d2l::sys
