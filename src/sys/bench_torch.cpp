#include "d2l/sys/bench_torch.h"

#include "d2l/core/error.h"

namespace d2l::sys {

torch::ScalarType matmul_dtype(const std::string& d) {
  if (d == "fp32") return torch::kFloat32;
  if (d == "fp16") return torch::kFloat16;
  if (d == "bf16") return torch::kBFloat16;
  if (d == "fp64") return torch::kFloat64;
  throw bad_input("matmul: unknown type '" + d + "' (fp32, fp16, bf16, fp64)");
}

BenchStats bench_matmul(const torch::Device& device, const std::string& dtype, std::size_t n,
                        const BenchOptions& options) {
  torch::NoGradGuard no_grad;
  const auto opts = torch::TensorOptions().dtype(matmul_dtype(dtype)).device(device);
  const auto size = static_cast<int64_t>(n);
  const torch::Tensor a = torch::randn({size, size}, opts), b = torch::randn({size, size}, opts);
  torch::Tensor c;
  const bool cuda = device.is_cuda();
  return run_bench(
      [&] {
        c = torch::mm(a, b);
        if (cuda) torch::cuda::synchronize(device.index());
      },
      options);
}

}  // namespace d2l::sys
