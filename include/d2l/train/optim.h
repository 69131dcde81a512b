#pragma once
/// \file d2l/train/optim.h
/// The optimisers and learning-rate schedules the book's later chapters train with (LibTorch):
/// SGD (momentum, weight decay, Nesterov), Adam, AdamW; constant, step, cosine and one-cycle.
#include <ATen/core/Tensor.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace d2l {

/// The optimisers `d2l train --optimizer` offers.
enum class OptimizerKind { SGD, Adam, AdamW };

/// An optimiser's settings.
struct OptimizerSpec {
  OptimizerKind kind = OptimizerKind::SGD;
  double lr = 0.1;
  double momentum = 0;      ///< SGD only
  double weight_decay = 0;  ///< L2 penalty (SGD, Adam); decoupled decay (AdamW)
  bool nesterov = false;    ///< SGD only, needs momentum > 0
};

/// Builds the optimiser over `params`. Throws d2l::Error (BadInput) for settings outside their
/// domain (momentum in [0, 1), weight decay >= 0, Nesterov without momentum), naming the flag.
std::shared_ptr<torch::optim::Optimizer> make_optimizer(std::vector<at::Tensor> params,
                                                        const OptimizerSpec& spec);

/// The learning-rate schedules `d2l train --schedule` offers.
enum class ScheduleKind {
  Constant,  ///< lr throughout (the book's chapters 3-8)
  Step,      ///< lr x gamma every `step_epochs` epochs
  Cosine,    ///< from lr down to 0 along half a cosine over the whole run
  OneCycle,  ///< from lr/25 up to lr over the first 30% of steps, then down to lr/1e4 (cosine)
};

/// A schedule's settings.
struct ScheduleSpec {
  ScheduleKind kind = ScheduleKind::Constant;
  std::int64_t step_epochs = 1;  ///< Step: epochs between decays
  double gamma = 0.1;            ///< Step: the decay factor
};

/// The learning rate at optimiser step `step` (0-based, from the start of the run) of a run of
/// `total_steps` steps with `steps_per_epoch` steps an epoch, for base rate `lr`.
double scheduled_lr(const ScheduleSpec& s, double lr, std::int64_t step,
                    std::int64_t steps_per_epoch, std::int64_t total_steps);

/// "sgd", "adam", "adamw" <-> OptimizerKind; parse throws d2l::Error (BadInput) listing them.
OptimizerKind parse_optimizer(const std::string& name);
std::string to_string(OptimizerKind kind);
/// "constant", "step", "cosine", "one-cycle" <-> ScheduleKind; parse throws d2l::Error (BadInput).
ScheduleKind parse_schedule(const std::string& name);
std::string to_string(ScheduleKind kind);

}  // namespace d2l
