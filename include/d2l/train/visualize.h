#pragma once
/// \file d2l/train/visualize.h
/// Tensor adapters for the figures (LibTorch): predictions and confusion matrices of a trained
/// network, drawn by the torch-free figure layer (d2l/viz).
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <torch/nn/modules/container/sequential.h>

#include <string>
#include <vector>

#include "d2l/data/loader.h"
#include "d2l/viz/images.h"

namespace d2l {

/// A [C, H, W] (or [H, W]) float tensor in [0, 1] as an Image.
Image to_image(const at::Tensor& chw);

/// The book's `predict_ch3`: the first `n` test images with "true\npredicted" titles, in one
/// row, written to `path`. Never throws: a failure prints one warning and returns false.
bool predict_ch3(torch::nn::Sequential& net, const data::DataLoader& test, c10::Device device,
                 int n, const std::vector<std::string>& class_names, const std::string& path);

/// counts[t][p]: test examples of class t predicted as p, over the whole test iterable.
std::vector<std::vector<long>> confusion_counts(torch::nn::Sequential& net,
                                                const data::DataLoader& test, c10::Device device,
                                                int num_classes);

}  // namespace d2l
