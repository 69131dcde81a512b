#include <torch/torch.h>

#include "d2l/core/error.h"
#include "d2l/models/alexnet.h"
#include "d2l/models/batch_norm.h"
#include "d2l/models/densenet.h"
#include "d2l/models/googlenet.h"
#include "d2l/models/layers.h"
#include "d2l/models/lenet.h"
#include "d2l/models/linear.h"
#include "d2l/models/mlp.h"
#include "d2l/models/nin.h"
#include "d2l/models/registry.h"
#include "d2l/models/resnet.h"
#include "d2l/models/vgg.h"

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
  // The v1 book's settings for chapter 8 (plain SGD, 10 epochs, batch 128); resize 0 keeps the
  // data set's own size.
  static const std::vector<ModelSpec> specs = {
      {"linreg", "linear regression from scratch on synthetic_data (w=[2,-3.4], b=4.2)",
       "synthetic", 3, 0.03, 10, "3.4", 0},
      {"softmax", "softmax regression (Flatten, Linear 784-10)", "fashion-mnist", 10, 0.1, 256,
       "4.5", 0},
      {"mlp", "multilayer perceptron (784-256-10, ReLU)", "fashion-mnist", 10, 0.1, 256, "5.2", 0},
      {"lenet", "LeNet-5 (sigmoid, average pooling)", "fashion-mnist", 10, 0.9, 256, "7.6", 0},
      {"alexnet", "AlexNet (5 conv, 3 dense layers, ReLU, dropout), images resized to 224",
       "fashion-mnist", 10, 0.01, 128, "8.1", 224},
      {"vgg",
       "VGG-11 with a quarter of the channels ((1,16),(1,32),(2,64),(2,128),(2,128)), "
       "images resized to 224",
       "fashion-mnist", 10, 0.01, 128, "8.2", 224},
      {"nin", "network in network (NiN blocks, global average pooling), images resized to 224",
       "fashion-mnist", 10, 0.05, 128, "8.3", 224},
      {"googlenet", "GoogLeNet (9 Inception blocks), images resized to 96", "fashion-mnist", 10,
       0.01, 128, "8.4", 96},
      {"bn-lenet-scratch", "LeNet with batch normalization from scratch (d2l::BatchNorm)",
       "fashion-mnist", 10, 0.1, 128, "8.5", 0},
      {"bn-lenet", "LeNet with batch normalization (BatchNorm2d/1d)", "fashion-mnist", 10, 0.1, 128,
       "8.5", 0},
      {"resnet", "ResNet-18 of chapter 8.6 (7x7 stem, max-pool), images resized to 96",
       "fashion-mnist", 10, 0.01, 128, "8.6", 96},
      {"densenet", "DenseNet (4 dense blocks of 4 convs, growth 32), images resized to 96",
       "fashion-mnist", 10, 0.01, 128, "8.7", 96},
      {"resnet18",
       "ResNet-18 of the d2l library (3x3 stem, no max-pool), CIFAR-10 at 32x32, plain SGD "
       "as chapter 13.6 trains it (14.1 uses Adam and augmentation)",
       "cifar10", 10, 0.1, 256, "13.6, 14.1", 0},
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
  if (name == "linreg") throw bad_input("model '" + name + "' is not an image classifier");
  auto require = [&name](const char* what, std::int64_t v) {
    if (v < 1) throw bad_input(name + ": " + what + " " + std::to_string(v) + " (need 1 or more)");
  };
  require("channels", channels);
  require("image size", size);
  require("classes", classes);
  // Every classifier gets train_ch6's Xavier initialisation, as the book's train_ch6 applies.
  auto xavier = [](torch::nn::Sequential net) {
    xavier_init(*net);
    return net;
  };
  if (name == "softmax") return xavier(softmax_regression(channels * size * size, classes));
  if (name == "mlp") return xavier(mlp(channels * size * size, 256, classes));
  if (name == "lenet") return lenet(channels, classes, size);
  if (name == "alexnet") return alexnet(channels, classes, size);
  if (name == "vgg") return vgg(vgg11_arch(4), channels, classes, size);
  if (name == "nin") return nin(channels, classes, size);
  if (name == "googlenet") return googlenet(channels, classes);
  if (name == "bn-lenet-scratch") return bn_lenet_scratch(channels, classes, size);
  if (name == "bn-lenet") return bn_lenet(channels, classes, size);
  if (name == "resnet") return resnet(channels, classes);
  if (name == "densenet") return densenet(channels, classes, size);
  if (name == "resnet18") return xavier(resnet18(classes, channels));  // as chapter 14.1 does
  throw bad_input("model '" + name + "' has no network in make_model");
}

}  // namespace d2l
