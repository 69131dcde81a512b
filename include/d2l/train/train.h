#pragma once
/// \file d2l/train/train.h
/// The book's training functions (LibTorch).
#include <c10/core/Device.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/optim/optimizer.h>

#include "d2l/core/history.h"
#include "d2l/data/loader.h"

namespace d2l {

/// One epoch of the book's `train_epoch_ch3`: returns {mean loss, accuracy} on the training data.
std::pair<double, double> train_epoch_ch3(torch::nn::Sequential& net, data::DataLoader& train,
                                          torch::optim::Optimizer& updater);

/// The book's `train_ch3`: trains `net` with `updater` and cross-entropy loss for `num_epochs`
/// on the CPU, printing the book's summary. Returns the history.
History train_ch3(torch::nn::Sequential& net, const data::DataLoader& train,
                  const data::DataLoader& test, std::int64_t num_epochs,
                  torch::optim::Optimizer& updater);

/// The book's `train_ch6`: Xavier initialisation, SGD with `lr`, cross-entropy loss, on `device`;
/// prints "training on DEVICE", then "loss L, train acc A, test acc T" and
/// "N examples/sec on DEVICE". Returns the history. When the loss becomes NaN, infinite or
/// 1000 x the first step's, training stops within a fifth of an epoch and d2l::Error names the
/// step (`stop_on_divergence = false` trains on, as the book's code does).
History train_ch6(torch::nn::Sequential& net, const data::DataLoader& train,
                  const data::DataLoader& test, std::int64_t num_epochs, double lr,
                  c10::Device device, bool stop_on_divergence = true);

}  // namespace d2l
