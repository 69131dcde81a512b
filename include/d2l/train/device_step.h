#pragma once
/// \file d2l/train/device_step.h
/// An optimiser step that keeps its learning rate and step counts in device tensors and can skip
/// itself on a device flag, so that it runs without reading anything back to the host and can be
/// captured in a CUDA graph and replayed (LibTorch's own step() reads the learning rate and
/// Adam's step count as host numbers, which a replayed graph would freeze).
#include <ATen/core/Tensor.h>
#include <torch/optim/optimizer.h>

#include <cstddef>
#include <memory>

namespace d2l {

/// Steps the parameters of a torch::optim::SGD, Adam or AdamW (as d2l::make_optimizer builds
/// them) with the arithmetic of the optimiser's own step(), working on the optimiser's OWN state
/// objects (SGDParamState::momentum_buffer, AdamParamState/AdamWParamState exp_avg, exp_avg_sq,
/// step), so that `opt.save()` / `opt.load()` (checkpoints) work unchanged.
///
/// What lives where:
/// - the learning rate of each group: a 0-dim float64 device tensor, written by set_lr() (which
///   also sets the group's options, so a checkpoint saves it);
/// - Adam's step counts: one float64 device tensor per group (one count a parameter), written
///   back to the host state by sync_to_optimizer();
/// - every other hyper-parameter (momentum, nesterov, weight decay, betas, eps) is read from the
///   group's options at each step() (and so frozen in a captured graph).
///
/// State tensors keep their storage for the DeviceStep's life: sync_from_optimizer() copies a
/// loaded checkpoint into them, so a graph captured before a resume stays valid. The step
/// allocates only temporaries. Parameters whose gradient is undefined at a step are not stepped
/// (their Adam count does not advance), as in LibTorch.
///
/// Differences from LibTorch's step(): state is created by prepare() for every parameter, also
/// those without a gradient yet (zeros, which gives LibTorch's first step exactly when SGD's
/// dampening is 0); Adam's host `step` in the optimiser's state is stale until
/// sync_to_optimizer(). Not supported (d2l::Error): amsgrad, SGD dampening != 0, other optimisers.
class DeviceStep {
 public:
  /// Throws d2l::Error (Failure) for an optimiser other than SGD, Adam or AdamW, or a group with
  /// amsgrad or SGD dampening.
  explicit DeviceStep(std::shared_ptr<torch::optim::Optimizer> opt);
  ~DeviceStep();
  DeviceStep(const DeviceStep&) = delete;
  DeviceStep& operator=(const DeviceStep&) = delete;

  /// Whether `opt` is an optimiser this class steps (SGD, Adam, AdamW; options not checked).
  static bool supports(const torch::optim::Optimizer& opt);

  /// Creates every state tensor the step needs, in the optimiser's state (momentum buffers and
  /// Adam's moments as zeros; existing state, e.g. from a loaded checkpoint, is adopted), and the
  /// device tensors for learning rates and step counts, so that no step allocates state: call it
  /// before capturing a graph. Idempotent; step() calls it.
  void prepare();

  /// Sets the learning rate of every group (fills the device tensor; no host read) and the
  /// groups' options.
  void set_lr(double lr);
  /// The same for one group.
  void set_lr(std::size_t group, double lr);
  /// The learning rate tensor of a group (0-dim float64 on the group's device).
  const at::Tensor& lr_tensor(std::size_t group) const;

  /// One step. With `found_inf` defined (a 0-dim tensor on the device, as LossScaler::unscale
  /// returns) and non-zero, parameters and state are left bit-for-bit unchanged, Adam's step
  /// counts included; the choice is made on the device (no host read).
  void step(const at::Tensor& found_inf = {});

  /// Zeroes the defined gradients in place (never sets them to undefined: a captured graph keeps
  /// their memory).
  void zero_grad();

  /// Writes the device step counts into the optimiser's host state (Adam's `step`), so that
  /// opt.save() writes them; reads the device. Nothing to do for SGD.
  void sync_to_optimizer();

  /// After opt.load() (a checkpoint): copies the optimiser's state into this step's tensors (same
  /// storage; the optimiser's state objects are pointed back at them), and the groups' learning
  /// rates and Adam's step counts into the device tensors. Prepares if not yet prepared.
  void sync_from_optimizer();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace d2l
