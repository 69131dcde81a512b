#pragma once
/// \file d2l/train/step.h
/// One training step of a classifier, as the Trainer runs it (LibTorch): forward, loss,
/// backward, the optimiser's step, and the step's loss and accuracy summed on the device, with
/// the divergence check, mixed precision and, on a GPU, whole-step CUDA graphs. Nothing in a
/// step reads the device: the sums are read where the caller asks for them.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "d2l/train/precision.h"

namespace d2l {

class DeviceStep;
class LossScaler;

/// How a TrainStep runs.
struct StepOptions {
  c10::Device device = c10::Device(c10::kCPU);
  Precision precision = Precision::FP32;
  /// Run every full-size batch through one static step: fixed input buffers, the optimiser's
  /// learning rate and step count in device tensors (DeviceStep), gradients clipped on the
  /// device. On CUDA the step is captured once as a CUDA graph and replayed; elsewhere it runs
  /// as it would be captured (what the CPU tests check). Off: the optimiser's own step().
  bool static_step = false;
  double grad_clip = 0;  ///< clip the gradients' global norm to this (0: off)
  bool channels_last = false;
  bool check_divergence = true;
  double divergence_factor = 1e3;
  std::int64_t warmup_steps = 3;  ///< eager steps before the capture (CUDA)
  /// The full batch's size: batches of another size (the short last one) run eagerly. 0: the
  /// first batch's size.
  std::int64_t batch_size = 0;
};

/// The step's state on the device: sums of the current epoch and the divergence check.
struct StepSums {
  double loss = 0;     ///< sum over examples of the loss
  double correct = 0;  ///< correctly classified examples
};

/// Where a run diverged (the first bad step), read from the device.
struct BadStep {
  std::int64_t index = -1;  ///< the global step index (-1: none)
  double loss = 0, first_loss = 0;
};

class TrainStep {
 public:
  TrainStep(torch::nn::Sequential net, std::shared_ptr<torch::optim::Optimizer> opt,
            StepOptions opts);
  ~TrainStep();
  TrainStep(const TrainStep&) = delete;
  TrainStep& operator=(const TrainStep&) = delete;

  /// The learning rate of the next steps (every parameter group).
  void set_lr(double lr);
  /// One step on a batch (X on any device; moved without a host wait). Reads nothing back.
  void run(const at::Tensor& X, const at::Tensor& y);
  /// Adds a step done elsewhere (data-parallel: the global sums from the allreduce) to the sums
  /// and the divergence check: `loss_sum` (double, loss x examples), `correct` (long), and the
  /// step's mean loss.
  void record(const at::Tensor& loss_sum, const at::Tensor& correct, const at::Tensor& mean_loss);
  /// Starts an epoch's sums at zero; `step_index` is the global index of the next step.
  void begin_epoch(std::int64_t step_index);
  /// The epoch's sums so far (reads the device: a synchronisation).
  StepSums sums() const;
  /// The sums as of the last completed read-back, for a progress bar: never waits for the
  /// device (on a GPU it starts a copy and returns the previous one's values once it is done).
  StepSums sums_nowait();
  /// The first diverged step so far, if any (reads the device).
  std::optional<BadStep> bad_step() const;
  /// Before the optimiser is saved (checkpoint): device-side state back into it.
  void before_save();
  /// After the optimiser was loaded from a checkpoint.
  void after_load();
  /// True once a CUDA graph of the step has been captured (and is replayed).
  bool graphed() const;
  /// Steps whose gradients overflowed and were skipped (fp16 loss scaling; 0 otherwise).
  std::int64_t skipped_steps() const;
  /// One line on what the step does (precision, graphs, ...), for the run's log.
  std::string describe() const;
  const StepOptions& options() const { return opts_; }

 private:
  void body(const at::Tensor& X, const at::Tensor& y);
  void static_run(const at::Tensor& X, const at::Tensor& y);
  torch::nn::Sequential net_;
  std::shared_ptr<torch::optim::Optimizer> opt_;
  StepOptions opts_;
  std::vector<at::Tensor> params_;
  std::unique_ptr<DeviceStep> device_step_;
  std::unique_ptr<LossScaler> scaler_;
  at::Tensor loss_sum_, correct_sum_;                         // the epoch's sums
  at::Tensor step_index_, first_loss_, bad_step_, bad_loss_;  // the divergence check
  at::Tensor static_X_, static_y_;                            // the static step's inputs
  std::int64_t eager_static_steps_ = 0;
  bool first_set_ = false;
  bool capturing_ =
      false;  // inside a CUDA graph capture  // first_loss_ holds the run's first step
  StepSums last_read_;
  struct Cuda;  // graph, streams, read-back buffers (CUDA builds only)
  std::unique_ptr<Cuda> cuda_;
};

/// The GPU's own time for one step on (X, y): CUDA events around `n` steps queued back to back
/// (with a captured graph the host issues a step in microseconds, so the GPU never waits for
/// it). With the wall time of a step as run, the share of time the GPU was busy: near 1 the run
/// is compute-bound, far below it launch-bound. nullopt off CUDA.
std::optional<double> gpu_seconds_per_step(TrainStep& step, const at::Tensor& X,
                                           const at::Tensor& y, int n = 20);

/// Clips the global norm of `params`' gradients to `max_norm` on the device, without reading it
/// (LibTorch's clip_grad_norm_ returns the norm as a host number, a synchronisation).
void clip_grad_norm_on_device(const std::vector<at::Tensor>& params, double max_norm);

}  // namespace d2l
