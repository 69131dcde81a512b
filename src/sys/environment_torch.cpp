#include "d2l/sys/environment_torch.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <dlfcn.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "d2l/core/build_info.h"
#include "d2l/core/torch_error.h"
#include "d2l/sys/procfs.h"

namespace d2l::sys {
namespace {

using nlohmann::json;

constexpr int64_t kCheckSize = 256;         // the compute check's matrices are kCheckSize^2
constexpr double kMaxRelativeError = 1e-2;  // fp32 (or TF32) against fp64

// The file that provides `symbol` in this process's global scope ("" when none).
std::string provider_of(const char* symbol) {
  void* addr = ::dlsym(RTLD_DEFAULT, symbol);
  Dl_info info{};
  if (!addr || !::dladdr(addr, &info) || !info.dli_fname) return "";
  std::error_code ec;
  auto canon = std::filesystem::canonical(info.dli_fname, ec);
  return ec ? std::string(info.dli_fname) : canon.string();
}

// Mapped shared libraries that matter for speed: BLAS, LAPACK, OpenMP, oneDNN, CUDA's.
std::vector<std::string> mapped_libraries() {
  std::set<std::string> out;
  auto maps = d2l::sys::read_small_file("/", "/proc/self/maps");
  if (!maps) return {};
  std::istringstream in(*maps);
  std::string line;
  static const char* const kKeys[] = {"blas", "lapack", "mkl",    "gomp",   "iomp", "omp.so",
                                      "dnnl", "cudnn",  "cublas", "cudart", "nccl", "blis"};
  while (std::getline(in, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    const std::string base = path.substr(path.find_last_of('/') + 1);
    for (const char* k : kKeys)
      if (base.find(k) != std::string::npos) out.insert(path);
  }
  return {out.begin(), out.end()};
}

json matmul_check(const std::vector<torch::Device>& devices) {
  json out = json::array();
  torch::NoGradGuard no_grad;
  torch::manual_seed(0);
  const auto a = torch::randn({kCheckSize, kCheckSize}, torch::kFloat64);
  const auto b = torch::randn({kCheckSize, kCheckSize}, torch::kFloat64);
  const auto ref = torch::mm(a, b);
  const double scale = ref.abs().max().item<double>();
  for (const auto& dev : devices) {
    json r{{"device", dev.str()}, {"size", kCheckSize}};
    try {
      const auto t0 = std::chrono::steady_clock::now();
      const auto c = torch::mm(a.to(dev, torch::kFloat32), b.to(dev, torch::kFloat32))
                         .to(torch::kCPU, torch::kFloat64);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double err = (c - ref).abs().max().item<double>() / (scale > 0 ? scale : 1.0);
      r["max_rel_err"] = err;
      r["seconds"] = s;
      r["ok"] = std::isfinite(err) && err < kMaxRelativeError;
    } catch (const std::exception& e) {
      r["error"] = error_message(e);
    }
    out.push_back(r);
  }
  return out;
}

}  // namespace

std::string torch_probe_json(int indent) {
  json j;
  j["schema"] = "d2l.doctor-torch/1";
  j["torch_version"] = std::to_string(TORCH_VERSION_MAJOR) + "." +
                       std::to_string(TORCH_VERSION_MINOR) + "." +
                       std::to_string(TORCH_VERSION_PATCH);
  j["compiler"] = d2l::compiler_name();
  std::string config;
  try {
    config = at::show_config();
  } catch (const std::exception& e) {
    config = std::string("show_config failed: ") + error_message(e);
  }
  j["config"] = config;
  try {
    j["parallel_info"] = at::get_parallel_info();
  } catch (const std::exception&) {
    j["parallel_info"] = nullptr;
  }
  const bool available = torch::cuda::is_available();
  const bool built = available || config.find("USE_CUDA=ON") != std::string::npos ||
                     config.find("CUDA Runtime") != std::string::npos;
  j["cuda_built"] = built;
  j["cuda_available"] = available;
  j["device_count"] = available ? torch::cuda::device_count() : 0;
  std::smatch m;
  static const std::regex kCudaRuntime("CUDA Runtime ([0-9]+\\.[0-9]+)");
  if (std::regex_search(config, m, kCudaRuntime)) {
    j["cuda_runtime_version"] = m[1].str();
  } else if (built) {
    try {
      const long v = at::detail::getCUDAHooks().versionCUDART();
      if (v > 0)
        j["cuda_runtime_version"] =
            std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
    } catch (const std::exception&) {
    }
  }
  if (!j.contains("cuda_runtime_version")) j["cuda_runtime_version"] = nullptr;
  j["cudnn_version"] = nullptr;
  if (built) {
    try {
      const long v = at::detail::getCUDAHooks().versionCuDNN();
      if (v > 0) j["cudnn_version"] = v;
    } catch (const std::exception&) {
    }
  }
  j["mkldnn"] = at::hasMKLDNN();
  j["mkl"] = at::hasMKL();
  j["openmp"] = at::hasOpenMP();
  j["threads"] = at::get_num_threads();
  j["interop_threads"] = at::get_num_interop_threads();
  // BLAS: who provides sgemm_ (what LibTorch's CPU matrix products call), and OpenBLAS's core.
  json blas;
  std::string sgemm = provider_of("sgemm_");
  // PyTorch's own LibTorch builds link MKL statically: sgemm_ is then in libtorch_cpu (or hidden).
  if (at::hasMKL() && (sgemm.empty() || sgemm.find("libtorch") != std::string::npos))
    sgemm = "(MKL built into LibTorch) " + sgemm;
  blas["sgemm_provider"] = sgemm;
  blas["mapped"] = mapped_libraries();
  using StrFn = char* (*)();
  if (auto f = reinterpret_cast<StrFn>(::dlsym(RTLD_DEFAULT, "openblas_get_corename")))
    blas["openblas_core"] = f() ? std::string(f()) : std::string();
  else
    blas["openblas_core"] = nullptr;
  if (auto f = reinterpret_cast<StrFn>(::dlsym(RTLD_DEFAULT, "openblas_get_config")))
    blas["openblas_config"] = f() ? std::string(f()) : std::string();
  else
    blas["openblas_config"] = nullptr;
  j["blas"] = blas;
  std::vector<torch::Device> devices{torch::Device(torch::kCPU)};
  if (available)
    for (std::size_t i = 0; i < torch::cuda::device_count(); ++i)
      devices.emplace_back(torch::kCUDA, static_cast<torch::DeviceIndex>(i));
  j["matmul"] = matmul_check(devices);
  return j.dump(indent);
}

}  // namespace d2l::sys
