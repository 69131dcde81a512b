#include "d2l/train/evaluate.h"

#include <torch/torch.h>

#include "d2l/core/device.h"

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
  // Inference mode (no autograd records at all), and the count kept on the device: one read at
  // the end instead of a host round trip per batch.
  c10::InferenceMode guard;
  // Inputs follow the network's memory format (see Trainer's channels_last).
  bool channels_last = false;
  for (const auto& p : net->parameters())
    if (p.dim() == 4 && p.suggest_memory_format() == torch::MemoryFormat::ChannelsLast)
      channels_last = true;
  auto correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kLong).device(device));
  std::int64_t total = 0, seen = 0;
  for (const auto& batch : data) {
    if (max_batches && seen++ >= *max_batches) break;
    auto X = to_device_async(batch.X, device);
    if (channels_last && X.dim() == 4) X = X.contiguous(torch::MemoryFormat::ChannelsLast);
    auto y = to_device_async(batch.y, device);
    auto y_hat = net->forward(X);
    auto pred = y_hat.dim() > 1 && y_hat.size(1) > 1 ? y_hat.argmax(1) : y_hat;
    correct += pred.to(y.scalar_type()).eq(y).sum();
    total += y.numel();
  }
  net->train(was_training);
  return total > 0 ? static_cast<double>(correct.item<std::int64_t>()) / static_cast<double>(total)
                   : 0;
}

}  // namespace d2l
