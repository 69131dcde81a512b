#include "d2l/train/train.h"

#include <torch/torch.h>

#include "d2l/core/error.h"
#include "d2l/models/lenet.h"
#include "d2l/train/evaluate.h"
#include "d2l/train/trainer.h"

namespace d2l {
namespace {
// A non-owning shared_ptr for an optimizer the caller owns.
std::shared_ptr<torch::optim::Optimizer> borrow(torch::optim::Optimizer& o) {
  return std::shared_ptr<torch::optim::Optimizer>(&o, [](torch::optim::Optimizer*) {});
}
}  // namespace

std::pair<double, double> train_epoch_ch3(torch::nn::Sequential& net, data::DataLoader& train,
                                          torch::optim::Optimizer& updater) {
  net->train();
  torch::nn::CrossEntropyLoss loss;
  double l_sum = 0, correct = 0, n = 0;
  for (const auto& batch : train) {
    auto y_hat = net->forward(batch.X);
    auto l = loss(y_hat, batch.y);
    updater.zero_grad();
    l.backward();
    updater.step();
    l_sum += l.item<double>() * static_cast<double>(batch.y.numel());
    correct += accuracy(y_hat, batch.y);
    n += static_cast<double>(batch.y.numel());
  }
  return {l_sum / n, correct / n};
}

History train_ch3(torch::nn::Sequential& net, const data::DataLoader& train,
                  const data::DataLoader& test, std::int64_t num_epochs,
                  torch::optim::Optimizer& updater) {
  TrainerOptions o;
  o.max_epochs = num_epochs;
  o.device = torch::kCPU;
  Trainer t(net, borrow(updater), o);
  return t.fit(train, test);
}

History train_ch6(torch::nn::Sequential& net, const data::DataLoader& train,
                  const data::DataLoader& test, std::int64_t num_epochs, double lr,
                  c10::Device device, bool stop_on_divergence) {
  xavier_init(*net);
  net->to(device);
  auto opt = std::make_shared<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(lr));
  TrainerOptions o;
  o.max_epochs = num_epochs;
  o.device = device;
  o.stop_on_divergence = stop_on_divergence;
  Trainer t(net, opt, o);
  History meta;
  meta.lr = lr;
  meta.batch_size = train.options().batch_size;
  History h = t.fit(train, test, meta);
  if (t.divergence()) {
    char lr_text[32];
    std::snprintf(lr_text, sizeof lr_text, "%g", lr);
    throw Error("train_ch6: " + t.divergence()->describe() + "; lower lr (now " + lr_text +
                ") or clip the gradients (Trainer's grad_clip)");
  }
  return h;
}

}  // namespace d2l
