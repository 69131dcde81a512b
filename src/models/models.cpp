#include <torch/torch.h>

#include "d2l/core/error.h"
#include "d2l/models/layers.h"
#include "d2l/models/lenet.h"
#include "d2l/models/linear.h"
#include "d2l/models/mlp.h"
#include "d2l/models/registry.h"

namespace d2l {
namespace {
void normal_init(torch::nn::Sequential& net, double std) {
  torch::NoGradGuard guard;
  for (auto& m : net->modules(/*include_self=*/false))
    if (auto* lin = m->as<torch::nn::Linear>()) {
      torch::nn::init::normal_(lin->weight, 0.0, std);  // the book's init_weights: weights only
    }
}
}  // namespace

at::Tensor linreg(const at::Tensor& X, const at::Tensor& w, const at::Tensor& b) {
  return torch::matmul(X, w) + b;
}

at::Tensor squared_loss(const at::Tensor& y_hat, const at::Tensor& y) {
  return (y_hat - y.reshape(y_hat.sizes())).pow(2) / 2;
}

void sgd(std::vector<at::Tensor> params, double lr, std::int64_t batch_size) {
  torch::NoGradGuard guard;
  for (auto& p : params) {
    if (!p.grad().defined()) continue;
    p.sub_(p.grad() * (lr / static_cast<double>(batch_size)));
    p.mutable_grad().zero_();
  }
}

torch::nn::Sequential softmax_regression(std::int64_t num_inputs, std::int64_t num_outputs) {
  torch::nn::Sequential net(torch::nn::Flatten(), torch::nn::Linear(num_inputs, num_outputs));
  normal_init(net, 0.01);
  return net;
}

torch::nn::Sequential mlp(std::int64_t num_inputs, std::int64_t num_hiddens,
                          std::int64_t num_outputs) {
  torch::nn::Sequential net(torch::nn::Flatten(), torch::nn::Linear(num_inputs, num_hiddens),
                            torch::nn::ReLU(), torch::nn::Linear(num_hiddens, num_outputs));
  normal_init(net, 0.01);
  return net;
}

torch::nn::Sequential lenet(std::int64_t in_channels, std::int64_t num_classes,
                            std::int64_t image_size) {
  namespace nn = torch::nn;
  // 28 -> conv(pad 2) 28 -> pool 14 -> conv 10 -> pool 5
  const std::int64_t s = ((image_size + 4 - 4) / 2 - 4) / 2;
  if (s < 1)
    throw bad_input("lenet: images of " + std::to_string(image_size) + " pixels are too small");
  nn::Sequential net(nn::Conv2d(nn::Conv2dOptions(in_channels, 6, 5).padding(2)), nn::Sigmoid(),
                     d2l::AvgPool2d(nn::AvgPool2dOptions(2).stride(2)),
                     nn::Conv2d(nn::Conv2dOptions(6, 16, 5)), nn::Sigmoid(),
                     d2l::AvgPool2d(nn::AvgPool2dOptions(2).stride(2)), nn::Flatten(),
                     nn::Linear(16 * s * s, 120), nn::Sigmoid(), nn::Linear(120, 84), nn::Sigmoid(),
                     nn::Linear(84, num_classes));
  xavier_init(*net);
  return net;
}

void xavier_init(torch::nn::Module& net) {
  torch::NoGradGuard guard;
  for (auto& m : net.modules(/*include_self=*/true)) {
    if (auto* lin = m->as<torch::nn::Linear>()) torch::nn::init::xavier_uniform_(lin->weight);
    if (auto* conv = m->as<torch::nn::Conv2d>()) torch::nn::init::xavier_uniform_(conv->weight);
  }
}

const std::vector<ModelSpec>& model_specs() {
  static const std::vector<ModelSpec> specs = {
      {"linreg", "linear regression from scratch on synthetic_data (w=[2,-3.4], b=4.2)",
       "synthetic", 3, 0.03, 10, "3.4"},
      {"softmax", "softmax regression (Flatten, Linear 784-10)", "fashion-mnist", 10, 0.1, 256,
       "4.5"},
      {"mlp", "multilayer perceptron (784-256-10, ReLU)", "fashion-mnist", 10, 0.1, 256, "5.2"},
      {"lenet", "LeNet-5 (sigmoid, average pooling)", "fashion-mnist", 10, 0.9, 256, "7.6"},
  };
  return specs;
}

const ModelSpec& model_spec(const std::string& name) {
  for (const auto& s : model_specs())
    if (s.name == name) return s;
  std::string valid;
  for (const auto& s : model_specs()) valid += (valid.empty() ? "" : ", ") + s.name;
  throw bad_input("unknown model '" + name + "' (valid: " + valid + ")");
}

torch::nn::Sequential make_model(const std::string& name, std::int64_t channels, std::int64_t size,
                                 std::int64_t classes) {
  model_spec(name);  // validates
  // Every classifier gets train_ch6's Xavier initialisation, as the book's train_ch6 applies.
  auto xavier = [](torch::nn::Sequential net) {
    xavier_init(*net);
    return net;
  };
  if (name == "softmax") return xavier(softmax_regression(channels * size * size, classes));
  if (name == "mlp") return xavier(mlp(channels * size * size, 256, classes));
  if (name == "lenet") return lenet(channels, classes, size);
  throw bad_input("model '" + name + "' is not an image classifier");
}

}  // namespace d2l
