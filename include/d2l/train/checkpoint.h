#pragma once
/// \file d2l/train/checkpoint.h
/// Checkpoints: model, optimizer, position in training, RNG state and history, in one file
/// written atomically (LibTorch).
#include <torch/nn/modules/container/sequential.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <string>

#include "d2l/core/history.h"

namespace d2l {

/// Where training stands.
struct TrainState {
  std::int64_t epoch = 0;  ///< epochs finished
  std::int64_t batch = 0;  ///< batches finished in epoch `epoch` (0 at an epoch boundary)
  double sum_loss = 0, sum_correct = 0, sum_examples = 0;  ///< partial sums of that epoch
  double seconds = 0;                                      ///< time spent in that epoch so far
  History history;
};

/// Writes `path` atomically: the net's parameters and buffers, the optimizer's state, the
/// state, and LibTorch's CPU RNG state. Throws d2l::Error naming the path.
void save_checkpoint(const std::string& path, torch::nn::Sequential& net,
                     torch::optim::Optimizer& opt, const TrainState& state);

/// Reads a checkpoint's state (history, position) without a network.
TrainState read_checkpoint_state(const std::string& path);

/// Restores `net` and `opt` (which must have the checkpoint's architecture) and the RNG state;
/// returns the state. Throws d2l::Error (BadInput) naming the path when the file is missing,
/// corrupt or for another architecture.
TrainState load_checkpoint(const std::string& path, torch::nn::Sequential& net,
                           torch::optim::Optimizer& opt);

}  // namespace d2l
