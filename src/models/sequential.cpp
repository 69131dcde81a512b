#include "d2l/models/sequential.h"

#include <torch/torch.h>

namespace d2l {

at::Tensor SequentialImpl::forward(const at::Tensor& input) {
  return torch::nn::SequentialImpl::forward(input);
}

std::shared_ptr<torch::nn::Module> SequentialImpl::clone(
    const c10::optional<c10::Device>& device) const {
  auto copy = std::make_shared<SequentialImpl>();
  const auto names = named_children();
  std::size_t i = 0;
  for (const auto& layer : *this) copy->push_back(names[i++].key(), layer.clone(device));
  return copy;
}

}  // namespace d2l
