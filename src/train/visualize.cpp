#include "d2l/train/visualize.h"

#include <torch/torch.h>

#include <cstdio>

#include "d2l/core/torch_error.h"

namespace d2l {

Image to_image(const at::Tensor& t0) {
  auto t = t0.detach().to(torch::kCPU, torch::kFloat).contiguous();
  if (t.dim() == 2) t = t.unsqueeze(0);
  const int c = static_cast<int>(t.size(0)), h = static_cast<int>(t.size(1)),
            w = static_cast<int>(t.size(2));
  auto hwc = t.permute({1, 2, 0}).contiguous().clamp(0, 1).mul(255).round().to(torch::kUInt8);
  std::vector<uint8_t> bytes(hwc.data_ptr<uint8_t>(), hwc.data_ptr<uint8_t>() + hwc.numel());
  return Image(std::move(bytes), h, w, c);
}

bool predict_ch3(torch::nn::Sequential& net, const data::DataLoader& test, c10::Device device,
                 int n, const std::vector<std::string>& class_names, const std::string& path) {
  try {
    const bool was_training = net->is_training();
    net->eval();
    torch::NoGradGuard guard;
    const auto batch = *test.begin();
    n = static_cast<int>(std::min<std::int64_t>(n, batch.X.size(0)));
    auto pred = net->forward(batch.X.narrow(0, 0, n).to(device)).argmax(1).to(torch::kCPU);
    net->train(was_training);
    std::vector<Image> imgs;
    std::vector<std::string> titles;
    for (int i = 0; i < n; ++i) {
      imgs.push_back(to_image(batch.X[i]));
      const auto t = batch.y[i].item<std::int64_t>(), p = pred[i].item<std::int64_t>();
      auto name = [&](std::int64_t k) {
        return k >= 0 && k < static_cast<std::int64_t>(class_names.size())
                   ? class_names[static_cast<std::size_t>(k)]
                   : std::to_string(k);
      };
      titles.push_back(name(t) + "\n" + name(p));
    }
    return viz::try_save_figure(make_images_figure(imgs, 1, n, titles), path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "d2l: warning: %s: predictions not drawn: %s\n", path.c_str(),
                 error_message(e).c_str());
    return false;
  }
}

std::vector<std::vector<long>> confusion_counts(torch::nn::Sequential& net,
                                                const data::DataLoader& test, c10::Device device,
                                                int num_classes) {
  std::vector<std::vector<long>> counts(
      static_cast<std::size_t>(num_classes),
      std::vector<long>(static_cast<std::size_t>(num_classes), 0));
  const bool was_training = net->is_training();
  net->eval();
  torch::NoGradGuard guard;
  auto flat = torch::zeros({num_classes * num_classes},
                           torch::TensorOptions().dtype(torch::kLong).device(device));
  for (const auto& b : test) {
    auto y = b.y.to(device);
    auto p = net->forward(b.X.to(device)).argmax(1);
    flat.index_add_(0, y * num_classes + p, torch::ones_like(y));
  }
  net->train(was_training);
  auto cpu = flat.to(torch::kCPU);
  for (int t = 0; t < num_classes; ++t)
    for (int p = 0; p < num_classes; ++p)
      counts[static_cast<std::size_t>(t)][static_cast<std::size_t>(p)] =
          static_cast<long>(cpu[t * num_classes + p].item<std::int64_t>());
  return counts;
}

}  // namespace d2l
