// Which BLAS a process uses, and whether OpenBLAS picked kernels below the CPU's level.
#include <dlfcn.h>

#include <filesystem>
#include <map>

#include "d2l/sys/environment.h"
#include "doctor_internal.h"

namespace d2l::sys {
namespace {

namespace fs = std::filesystem;
using detail::lower;
using detail::make;
using detail::trim;

std::string dl_path_of(void* addr) {
  Dl_info info{};
  if (addr && ::dladdr(addr, &info) && info.dli_fname) {
    std::error_code ec;
    auto canon = fs::canonical(info.dli_fname, ec);
    return ec ? std::string(info.dli_fname) : canon.string();
  }
  return "";
}

}  // namespace

std::string blas_kind_of_path(const std::string& path) {
  const std::string p = lower(path);
  if (p.empty()) return "unknown";
  if (p.find("openblas") != std::string::npos) return "openblas";
  if (p.find("mkl") != std::string::npos) return "mkl";
  if (p.find("blis") != std::string::npos) return "blis";
  if (p.find("atlas") != std::string::npos) return "atlas";
  if (p.find("accelerate") != std::string::npos) return "accelerate";
  // Debian's reference implementation lives in .../blas/libblas.so.3 (package libblas3).
  if (p.find("/blas/libblas.so") != std::string::npos || p.find("netlib") != std::string::npos)
    return "reference";
  return "unknown";
}

std::optional<int> openblas_core_level(const std::string& core) {
  static const std::map<std::string, int> kLevels = {
      {"prescott", 0},    {"core2", 0},         {"penryn", 0},     {"dunnington", 0},
      {"nehalem", 0},     {"atom", 0},          {"katmai", 0},     {"coppermine", 0},
      {"northwood", 0},   {"banias", 0},        {"opteron", 0},    {"opteron_sse3", 0},
      {"barcelona", 0},   {"bobcat", 0},        {"nano", 0},       {"athlon", 0},
      {"sandybridge", 1}, {"bulldozer", 1},     {"piledriver", 1}, {"steamroller", 1},
      {"excavator", 1},   {"haswell", 2},       {"zen", 2},        {"skylakex", 3},
      {"cooperlake", 3},  {"sapphirerapids", 3}};
  auto it = kLevels.find(lower(trim(core)));
  if (it == kLevels.end()) return std::nullopt;
  return it->second;
}

BlasInfo classify_blas(const std::string& sgemm_path, const std::optional<std::string>& core,
                       const CpuFeatures& cpu) {
  BlasInfo b;
  b.path = sgemm_path;
  b.kind = blas_kind_of_path(sgemm_path);
  b.openblas_core = core;
  if (b.kind == "openblas" && core) {
    const auto level = openblas_core_level(*core);
    if (level && *level < cpu.simd_level()) {
      b.core_mismatch = true;
      b.suggested_coretype = cpu.simd_level() >= 3   ? "SkylakeX"
                             : cpu.simd_level() == 2 ? "Haswell"
                                                     : "Sandybridge";
    }
  }
  return b;
}

namespace detail {

std::vector<Probe> blas_probes(const BlasInfo& b, const CpuFeatures& cpu, const std::string& how) {
  std::vector<Probe> out;
  if (b.path.empty()) {
    out.push_back(make("blas.library", "blas", "BLAS", ProbeStatus::NA, "n/a (" + how + ")"));
  } else if (b.kind == "reference") {
    out.push_back(make("blas.library", "blas", "BLAS", ProbeStatus::Warn,
                       "reference BLAS: " + b.path + " (" + how + ")", "reference-blas"));
  } else {
    out.push_back(make("blas.library", "blas", "BLAS", ProbeStatus::Pass,
                       b.kind + ": " + b.path + " (" + how + ")"));
  }
  if (b.kind == "openblas") {
    if (!b.openblas_core) {
      out.push_back(make("blas.openblas_core", "blas", "OpenBLAS core", ProbeStatus::NA, "n/a"));
    } else if (b.core_mismatch) {
      out.push_back(make("blas.openblas_core", "blas", "OpenBLAS core", ProbeStatus::Warn,
                         *b.openblas_core + " on a CPU with " +
                             (cpu.simd_level() >= 3   ? "AVX-512"
                              : cpu.simd_level() == 2 ? "AVX2"
                                                      : "AVX") +
                             ": set OPENBLAS_CORETYPE=" + b.suggested_coretype,
                         "openblas-core"));
    } else {
      out.push_back(
          make("blas.openblas_core", "blas", "OpenBLAS core", ProbeStatus::Pass, *b.openblas_core));
    }
  }
  return out;
}

}  // namespace detail

std::vector<Probe> probe_blas_without_torch(const CpuFeatures& cpu) {
  std::string path;
  std::optional<std::string> core;
  if (void* h = ::dlopen("libblas.so.3", RTLD_LAZY | RTLD_LOCAL)) {
    path = dl_path_of(::dlsym(h, "sgemm_"));
    if (blas_kind_of_path(path) == "openblas") {
      using CoreFn = char* (*)();
      // Debian's OpenBLAS libblas.so.3 is a thin library over libopenblas.so.0.
      auto fn = reinterpret_cast<CoreFn>(::dlsym(h, "openblas_get_corename"));
      void* ob = nullptr;
      if (!fn && (ob = ::dlopen("libopenblas.so.0", RTLD_LAZY | RTLD_LOCAL)))
        fn = reinterpret_cast<CoreFn>(::dlsym(ob, "openblas_get_corename"));
      if (fn)
        if (const char* c = fn()) core = std::string(c);
      if (ob) ::dlclose(ob);
    }
    ::dlclose(h);
  }
  return detail::blas_probes(classify_blas(path, core, cpu), cpu,
                             "libblas.so.3 as this process loads it");
}

}  // namespace d2l::sys
