#include <torch/torch.h>

#include "d2l/core/device.h"
#include "d2l/core/error.h"

namespace d2l {

int num_gpus() {
  return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
}

c10::Device try_gpu(int i) {
  if (i >= 0 && i < num_gpus()) return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(i));
  return c10::Device(c10::kCPU);
}

std::vector<c10::Device> try_all_gpus() {
  std::vector<c10::Device> out;
  for (int i = 0; i < num_gpus(); ++i) out.push_back(try_gpu(i));
  if (out.empty()) out.emplace_back(c10::kCPU);
  return out;
}

c10::Device parse_device(const std::string& name) {
  if (name == "auto") return try_gpu(0);
  if (name == "cpu") return c10::Device(c10::kCPU);
  std::string rest;
  if (name == "cuda" || name == "gpu") {
    rest = "0";
  } else if (name.rfind("cuda:", 0) == 0) {
    rest = name.substr(5);
  } else {
    throw bad_input("--device: '" + name + "' is not auto, cpu, cuda or cuda:N");
  }
  if (rest.empty() || rest.find_first_not_of("0123456789") != std::string::npos || rest.size() > 3)
    throw bad_input("--device: '" + name + "' is not auto, cpu, cuda or cuda:N");
  const int i = std::stoi(rest);
  const int n = num_gpus();
  if (i >= n)
    throw bad_input("--device: " + name + " is absent (" +
                    (n == 0 ? std::string("no CUDA GPU is visible to this LibTorch")
                            : std::to_string(n) + " GPU(s) visible") +
                    ")");
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(i));
}

at::Tensor to_device_async(const at::Tensor& t, c10::Device device) {
  if (t.device() == device) return t;
  if (t.is_cpu() && device.is_cuda()) return t.pin_memory().to(device, /*non_blocking=*/true);
  return t.to(device);
}

}  // namespace d2l
