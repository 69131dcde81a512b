#include "d2l/models/batch_norm.h"

#include <torch/torch.h>

#include "d2l/core/error.h"
#include "d2l/models/layers.h"
#include "d2l/models/lenet.h"
#include "spatial.h"

namespace d2l {

BatchNormOutput batch_norm(const at::Tensor& X, const at::Tensor& gamma, const at::Tensor& beta,
                           const at::Tensor& moving_mean, const at::Tensor& moving_var, double eps,
                           double momentum, bool training) {
  if (!training) {
    auto X_hat = (X - moving_mean) / torch::sqrt(moving_var + eps);
    return {gamma * X_hat + beta, moving_mean, moving_var};
  }
  if (X.dim() != 2 && X.dim() != 4)
    throw bad_input("batch_norm: expected a [N, C] or [N, C, H, W] tensor, got " +
                    std::to_string(X.dim()) + " dimensions");
  at::Tensor mean, var;
  if (X.dim() == 2) {  // after a fully connected layer: statistics per feature
    mean = X.mean(0);
    var = (X - mean).pow(2).mean(0);
  } else {  // after a convolution: statistics per channel, kept [1, C, 1, 1] to broadcast
    mean = X.mean({0, 2, 3}, /*keepdim=*/true);
    var = (X - mean).pow(2).mean({0, 2, 3}, /*keepdim=*/true);
  }
  auto X_hat = (X - mean) / torch::sqrt(var + eps);
  auto Y = gamma * X_hat + beta;
  torch::NoGradGuard no_grad;
  auto new_mean = momentum * moving_mean + (1.0 - momentum) * mean.detach();
  auto new_var = momentum * moving_var + (1.0 - momentum) * var.detach();
  return {Y, new_mean.reshape(moving_mean.sizes()), new_var.reshape(moving_var.sizes())};
}

BatchNormImpl::BatchNormImpl(std::int64_t num_features_, std::int64_t num_dims_)
    : num_features(num_features_), num_dims(num_dims_) {
  if (num_features < 1)
    throw bad_input("BatchNorm: num_features " + std::to_string(num_features) +
                    " (need 1 or more)");
  if (num_dims != 2 && num_dims != 4)
    throw bad_input("BatchNorm: num_dims " + std::to_string(num_dims) +
                    " (2 after a fully connected layer, 4 after a convolution)");
  reset();
}

void BatchNormImpl::reset() {
  const auto shape = num_dims == 2 ? std::vector<std::int64_t>{1, num_features}
                                   : std::vector<std::int64_t>{1, num_features, 1, 1};
  gamma = register_parameter("gamma", torch::ones(shape));
  beta = register_parameter("beta", torch::zeros(shape));
  moving_mean = register_buffer("moving_mean", torch::zeros(shape));
  moving_var = register_buffer("moving_var", torch::ones(shape));
}

at::Tensor BatchNormImpl::forward(const at::Tensor& X) {
  if (X.dim() != num_dims)
    throw bad_input("BatchNorm(" + std::to_string(num_features) + ", num_dims " +
                    std::to_string(num_dims) + "): got a tensor of " + std::to_string(X.dim()) +
                    " dimensions");
  auto out = batch_norm(X, gamma, beta, moving_mean, moving_var, 1e-5, 0.9, is_training());
  if (is_training()) {
    torch::NoGradGuard no_grad;
    moving_mean.copy_(out.moving_mean);
    moving_var.copy_(out.moving_var);
  }
  return out.Y;
}

namespace {

// The layer sizes of both BN-LeNets: 28 -> conv 24 -> pool 12 -> conv 8 -> pool 4.
std::int64_t bn_lenet_size(const std::string& model, std::int64_t image_size) {
  using detail::window_out;
  const std::int64_t s =
      window_out(window_out(window_out(window_out(image_size, 5, 1), 2, 2), 5, 1), 2, 2);
  detail::require_size(model, image_size, s);
  return s;
}

}  // namespace

torch::nn::Sequential bn_lenet_scratch(std::int64_t in_channels, std::int64_t num_classes,
                                       std::int64_t image_size) {
  namespace nn = torch::nn;
  const std::int64_t s = bn_lenet_size("bn-lenet-scratch", image_size);
  nn::Sequential net(
      nn::Conv2d(nn::Conv2dOptions(in_channels, 6, 5)), BatchNorm(6, 4), nn::Sigmoid(),
      d2l::AvgPool2d(nn::AvgPool2dOptions(2).stride(2)), nn::Conv2d(nn::Conv2dOptions(6, 16, 5)),
      BatchNorm(16, 4), nn::Sigmoid(), d2l::AvgPool2d(nn::AvgPool2dOptions(2).stride(2)),
      nn::Flatten(), nn::Linear(16 * s * s, 120), BatchNorm(120, 2), nn::Sigmoid(),
      nn::Linear(120, 84), BatchNorm(84, 2), nn::Sigmoid(), nn::Linear(84, num_classes));
  xavier_init(*net);
  return net;
}

torch::nn::Sequential bn_lenet(std::int64_t in_channels, std::int64_t num_classes,
                               std::int64_t image_size) {
  namespace nn = torch::nn;
  const std::int64_t s = bn_lenet_size("bn-lenet", image_size);
  nn::Sequential net(
      nn::Conv2d(nn::Conv2dOptions(in_channels, 6, 5)), nn::BatchNorm2d(6), nn::Sigmoid(),
      d2l::AvgPool2d(nn::AvgPool2dOptions(2).stride(2)), nn::Conv2d(nn::Conv2dOptions(6, 16, 5)),
      nn::BatchNorm2d(16), nn::Sigmoid(), d2l::AvgPool2d(nn::AvgPool2dOptions(2).stride(2)),
      nn::Flatten(), nn::Linear(16 * s * s, 120), nn::BatchNorm1d(120), nn::Sigmoid(),
      nn::Linear(120, 84), nn::BatchNorm1d(84), nn::Sigmoid(), nn::Linear(84, num_classes));
  xavier_init(*net);
  return net;
}

}  // namespace d2l
