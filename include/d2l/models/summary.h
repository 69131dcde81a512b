#pragma once
/// \file d2l/models/summary.h
/// A network's layer-by-layer summary, as the book prints it ("Sequential output shape:
/// (1, 64, 24, 24)"), with parameters and multiply-adds (LibTorch).
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>

#include <cstdint>
#include <string>
#include <vector>

namespace d2l {

/// One top-level layer of a summarised network.
struct LayerSummary {
  std::string name;                        ///< the layer's class, as the book prints it: "Conv2d"
  std::vector<std::int64_t> output_shape;  ///< the shape after this layer
  std::int64_t params = 0;                 ///< parameters in this layer and its sub-layers
  std::int64_t mult_adds = 0;              ///< multiply-adds of one forward pass (see summary())
};

/// A summarised network: its layers (empty when it is not a Sequential) and exact totals.
struct ModelSummary {
  std::vector<std::int64_t> input_shape;
  std::vector<std::int64_t> output_shape;
  std::vector<LayerSummary> layers;
  std::int64_t total_params = 0;
  std::int64_t trainable_params = 0;  ///< those with requires_grad
  std::int64_t total_mult_adds = 0;
};

/// Runs one forward pass of zeros of `input_shape` ([batch, channels, height, width], batch 1
/// as the book prints) through `net`, layer by layer, in eval mode without gradients (the
/// module's train/eval mode is restored), and records each top-level layer's output shape,
/// parameters and multiply-adds. Multiply-adds count every convolution (output elements x
/// input channels / groups x kernel height x kernel width) and every linear layer or other
/// matrix product (batch x in x out: output elements x inner dimension) that runs inside the
/// layer, nested blocks (Residual, Inception, DenseBlock) included; everything else
/// (activations, pooling, normalisation, additions) counts 0. Throws
/// d2l::Error (BadInput) when the input does not fit the network, naming the layer.
ModelSummary summary(torch::nn::Sequential net, const std::vector<std::int64_t>& input_shape);

/// The totals only (no layers) for any other module, e.g. `summary(AnyModule(Residual(3, 3)),
/// {1, 3, 6, 6})`: the same rules as for a Sequential.
ModelSummary summary(torch::nn::AnyModule module, const std::vector<std::int64_t>& input_shape);

/// The multiply-adds of one ATen operator call as summary() counts them: aten::convolution
/// (output elements x input channels / groups x kernel size, from `args[1]`, the weight) and the
/// products aten::linear, addmm, mm, matmul, bmm, baddbmm, addmv, mv (output elements x the
/// inner dimension); 0 for every other operator. `args` are its arguments in order (undefined
/// where one is not a tensor).
std::int64_t op_mult_adds(const std::string& op, const std::vector<at::Tensor>& args,
                          const at::Tensor& output);

/// A shape as the book writes it: "(1, 64, 24, 24)"; "(1,)" for one dimension.
std::string format_shape(const std::vector<std::int64_t>& shape);

/// An exact count with thousands separators: 11178378 -> "11,178,378".
std::string format_count(std::int64_t n);

/// The summary as a text table: one row per layer (index, name, output shape, parameters,
/// multiply-adds), then the totals.
std::string summary_table(const ModelSummary& s);

/// The summary as JSON: {"input_shape": [...], "output_shape": [...], "layers": [{"name",
/// "output_shape", "params", "mult_adds"}], "total_params", "trainable_params",
/// "total_mult_adds"}, counts as exact integers.
std::string summary_json(const ModelSummary& s);

}  // namespace d2l
