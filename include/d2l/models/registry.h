#pragma once
/// \file d2l/models/registry.h
/// The book's models by name, with the book's training defaults (LibTorch).
#include <torch/nn/modules/container/sequential.h>

#include <cstdint>
#include <string>
#include <vector>

namespace d2l {

/// A model the command line knows.
struct ModelSpec {
  std::string name;  ///< "linreg", "softmax", "mlp", "lenet", "alexnet", ... (model_specs())
  std::string description;
  std::string dataset;  ///< default data set ("synthetic" for linreg)
  std::int64_t epochs;
  double lr;
  std::int64_t batch_size;
  std::string chapter;  ///< where the book trains it
  /// The height and width the book resizes the images to (224 for AlexNet), 0 for the data
  /// set's own size.
  std::int64_t resize = 0;
};

/// All models, in the book's order.
const std::vector<ModelSpec>& model_specs();
/// The model called `name`; throws d2l::Error (BadInput) listing the valid names.
const ModelSpec& model_spec(const std::string& name);
/// A freshly initialised network for an image classification model (not linreg), for images of
/// `channels` x `size` x `size` and `classes` classes, with train_ch6's Xavier initialisation
/// (`d2l::mlp()` and `d2l::softmax_regression()` themselves keep their chapters' N(0, 0.01)).
/// Throws d2l::Error (BadInput) for an unknown name, linreg, a channel, size or class count
/// under 1, or images too small for the network (e.g. densenet at 28: resize them).
torch::nn::Sequential make_model(const std::string& name, std::int64_t channels = 1,
                                 std::int64_t size = 28, std::int64_t classes = 10);

}  // namespace d2l
