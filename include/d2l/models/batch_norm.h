#pragma once
/// \file d2l/models/batch_norm.h
/// Batch normalisation from scratch and the book's LeNet with batch normalisation, chapter 8.5
/// (LibTorch).
#include <ATen/core/Tensor.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace d2l {

/// What batch_norm returns: the normalised output and the updated moving statistics.
struct BatchNormOutput {
  at::Tensor Y;            ///< gamma * X_hat + beta, the shape of X
  at::Tensor moving_mean;  ///< detached; the input's moving_mean when not training
  at::Tensor moving_var;   ///< detached; the input's moving_var when not training
};

/// The book's `batch_norm`. Training: normalises `X` ([N, C] from a fully connected layer, or
/// [N, C, H, W] from a convolution, statistics per feature/channel) by the minibatch mean and
/// biased variance, and returns moving averages updated as
/// `momentum * moving + (1 - momentum) * batch` (the book's 0.9 is LibTorch's momentum 0.1).
/// Prediction (`training` false): normalises by the moving statistics. `gamma`, `beta` and
/// the moving statistics have shape [1, C] or [1, C, 1, 1]. Where the book asks
/// torch.is_grad_enabled(), the caller says which mode it is in. Throws d2l::Error (BadInput)
/// when training on a tensor that has neither 2 nor 4 dimensions.
BatchNormOutput batch_norm(const at::Tensor& X, const at::Tensor& gamma, const at::Tensor& beta,
                           const at::Tensor& moving_mean, const at::Tensor& moving_var, double eps,
                           double momentum, bool training);

/// The book's scratch `BatchNorm` layer: parameters gamma (ones) and beta (zeros), buffers
/// moving_mean (zeros) and moving_var (ones), all of shape [1, num_features] (num_dims 2, after
/// a fully connected layer) or [1, num_features, 1, 1] (num_dims 4, after a convolution);
/// eps 1e-5, momentum 0.9. Uses the minibatch statistics in train mode and the moving ones in
/// eval mode. It agrees with torch::nn::BatchNorm1d/2d except that its moving variance
/// averages the biased batch variance where LibTorch's averages the unbiased one.
class BatchNormImpl : public torch::nn::Cloneable<BatchNormImpl> {
 public:
  /// Throws d2l::Error (BadInput) unless num_features >= 1 and num_dims is 2 or 4.
  BatchNormImpl(std::int64_t num_features, std::int64_t num_dims);
  void reset() override;
  /// Normalises X and, in train mode, updates the moving statistics.
  at::Tensor forward(const at::Tensor& X);

  std::int64_t num_features, num_dims;
  at::Tensor gamma, beta, moving_mean, moving_var;
};
TORCH_MODULE(BatchNorm);

/// LeNet with the scratch BatchNorm after every convolution and hidden Linear, before the
/// sigmoid: Conv2d(in,6,5), BatchNorm(6,4), Sigmoid, AvgPool(2,2), Conv2d(6,16,5),
/// BatchNorm(16,4), Sigmoid, AvgPool(2,2), Flatten, Linear(16*4*4 for 28 x 28 inputs, 120),
/// BatchNorm(120,2), Sigmoid, Linear(120,84), BatchNorm(84,2), Sigmoid, Linear(84,classes).
/// Note the first convolution has no padding, as in the book's chapter 8.5. Xavier
/// initialisation; throws d2l::Error (BadInput) for images under 16 pixels.
torch::nn::Sequential bn_lenet_scratch(std::int64_t in_channels = 1, std::int64_t num_classes = 10,
                                       std::int64_t image_size = 28);

/// The same network with LibTorch's BatchNorm2d and BatchNorm1d (the book's concise version).
torch::nn::Sequential bn_lenet(std::int64_t in_channels = 1, std::int64_t num_classes = 10,
                               std::int64_t image_size = 28);

}  // namespace d2l
