#include "d2l/train/evaluate.h"

#include <torch/torch.h>

namespace d2l {

double accuracy(const at::Tensor& y_hat, const at::Tensor& y) {
  at::Tensor pred = y_hat;
  if (y_hat.dim() > 1 && y_hat.size(1) > 1) pred = y_hat.argmax(1);
  return pred.to(y.scalar_type()).eq(y).sum().item<double>();
}

double evaluate_accuracy(torch::nn::Sequential& net, const data::DataLoader& data,
                         c10::Device device, std::optional<std::int64_t> max_batches) {
  const bool was_training = net->is_training();
  net->eval();
  torch::NoGradGuard guard;
  // Inputs follow the network's memory format (see Trainer's channels_last).
  bool channels_last = false;
  for (const auto& p : net->parameters())
    if (p.dim() == 4 && p.suggest_memory_format() == torch::MemoryFormat::ChannelsLast)
      channels_last = true;
  double correct = 0, total = 0;
  std::int64_t seen = 0;
  for (const auto& batch : data) {
    if (max_batches && seen++ >= *max_batches) break;
    auto X = batch.X.to(device, /*non_blocking=*/true);
    if (channels_last && X.dim() == 4) X = X.contiguous(torch::MemoryFormat::ChannelsLast);
    auto y = batch.y.to(device, /*non_blocking=*/true);
    correct += accuracy(net->forward(X), y);
    total += static_cast<double>(y.numel());
  }
  net->train(was_training);
  return total > 0 ? correct / total : 0;
}

}  // namespace d2l
