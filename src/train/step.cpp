#include "d2l/train/step.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <limits>

#include "d2l/core/device.h"
#include "d2l/core/error.h"
#include "d2l/core/torch_error.h"
#include "d2l/train/device_step.h"

#ifdef D2L_HAS_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace d2l {

void clip_grad_norm_on_device(const std::vector<at::Tensor>& params, double max_norm) {
  torch::NoGradGuard ng;
  std::vector<at::Tensor> grads, norms;
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return;
  for (const auto& g : grads) norms.push_back(g.norm(2).to(torch::kFloat));
  const auto total = torch::stack(norms).norm(2);
  // As LibTorch's clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is below 1.
  const auto coef = (max_norm / (total + 1e-6)).clamp_max(1.0);
  for (auto& g : grads) g.mul_(coef.to(g.scalar_type()));
}

#ifdef D2L_HAS_CUDA
// What only a CUDA build has: the captured graph, its side stream, and the read-back buffer.
struct TrainStep::Cuda {
  at::cuda::CUDAGraph graph;
  c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool();
  std::int64_t warm = 0;
  bool captured = false, failed = false;
  at::Tensor host_sums;  // pinned [2] double
  at::cuda::CUDAEvent read_done;
  bool pending = false;
};
#else
struct TrainStep::Cuda {};
#endif

TrainStep::TrainStep(torch::nn::Sequential net, std::shared_ptr<torch::optim::Optimizer> opt,
                     StepOptions opts)
    : net_(std::move(net)), opt_(std::move(opt)), opts_(opts) {
  params_ = net_->parameters();
  check_precision(opts_.precision, opts_.device);
  apply_math_mode(opts_.precision, opts_.device);
  if (opts_.precision == Precision::FP16)
    scaler_ = std::make_unique<LossScaler>(LossScaler::Options{}, opts_.device);
  // fp16 skips overflowed steps on the device, and a static step keeps its learning rate
  // there: both need the device-side optimiser step.
  if ((opts_.static_step || scaler_) && DeviceStep::supports(*opt_)) {
    device_step_ = std::make_unique<DeviceStep>(opt_);
  } else if (scaler_) {
    throw bad_input("--precision fp16 needs the sgd, adam or adamw optimiser (loss scaling)");
  } else {
    opts_.static_step = false;
  }
  const auto dev = opts_.device;
  loss_sum_ = torch::zeros({}, torch::TensorOptions().dtype(torch::kDouble).device(dev));
  correct_sum_ = torch::zeros({}, torch::TensorOptions().dtype(torch::kLong).device(dev));
  step_index_ = torch::zeros({}, torch::TensorOptions().dtype(torch::kLong).device(dev));
  bad_step_ = torch::full({}, -1, torch::TensorOptions().dtype(torch::kLong).device(dev));
  bad_loss_ = torch::zeros({}, torch::TensorOptions().dtype(torch::kDouble).device(dev));
  first_loss_ = torch::zeros({}, torch::TensorOptions().dtype(torch::kDouble).device(dev));
#ifdef D2L_HAS_CUDA
  if (dev.is_cuda()) {
    c10::cuda::CUDAGuard guard(dev);
    cuda_ = std::make_unique<Cuda>();
    cuda_->host_sums = torch::zeros({2}, torch::kDouble).pin_memory();
  }
#endif
}

TrainStep::~TrainStep() = default;

void TrainStep::set_lr(double lr) {
  for (auto& group : opt_->param_groups()) group.options().set_lr(lr);
  if (device_step_) device_step_->set_lr(lr);
}

void TrainStep::begin_epoch(std::int64_t step_index) {
  torch::NoGradGuard ng;
  loss_sum_.zero_();
  correct_sum_.zero_();
  step_index_.fill_(step_index);
  last_read_ = {};
#ifdef D2L_HAS_CUDA
  if (cuda_) cuda_->pending = false;  // a copy still in flight is of the last epoch
#endif
}

void TrainStep::record(const at::Tensor& loss_sum, const at::Tensor& correct,
                       const at::Tensor& mean_loss) {
  torch::NoGradGuard ng;
  loss_sum_.add_(loss_sum.to(torch::kDouble));
  correct_sum_.add_(correct.to(torch::kLong));
  if (opts_.check_divergence) {
    const auto ld = mean_loss.to(torch::kDouble);
    if (!first_set_) {  // the run's first step is the reference (set eagerly, before a capture)
      first_loss_.copy_(ld);
      first_set_ = true;
    }
    const auto bad = ld.isfinite().logical_not().logical_or(
        ld.gt(first_loss_.clamp_min(1e-12) * opts_.divergence_factor));
    const auto fresh = bad.logical_and(bad_step_.lt(0));
    bad_step_.copy_(torch::where(fresh, step_index_, bad_step_));
    bad_loss_.copy_(torch::where(fresh, ld, bad_loss_));
  }
  step_index_.add_(1);
}

// Forward, loss, backward, the device-side optimiser step and the sums: the part a CUDA graph
// holds. No host reads, no allocation that depends on values.
void TrainStep::body(const at::Tensor& X, const at::Tensor& y) {
  device_step_->zero_grad();
  at::Tensor y_hat, l;
  {
    // Autocast's cache of cast weights would be captured stale: off while capturing.
    AutocastGuard autocast(opts_.precision, opts_.device.type(), /*cache_enabled=*/!capturing_);
    const auto Xin =
        opts_.channels_last && X.dim() == 4 ? X.contiguous(torch::MemoryFormat::ChannelsLast) : X;
    y_hat = net_->forward(Xin);
    l = torch::nn::functional::cross_entropy(y_hat, y);
  }
  (scaler_ ? scaler_->scale(l) : l).backward();
  at::Tensor found_inf;
  if (scaler_) found_inf = scaler_->unscale(params_);
  if (opts_.grad_clip > 0) clip_grad_norm_on_device(params_, opts_.grad_clip);
  device_step_->step(found_inf);
  if (scaler_) scaler_->update(found_inf);
  torch::NoGradGuard ng;
  const auto ld = l.detach().to(torch::kDouble);
  record(ld * static_cast<double>(X.size(0)), y_hat.argmax(1).eq(y).sum(), ld);
}

void TrainStep::run(const at::Tensor& X_in, const at::Tensor& y_in) {
  const auto X = to_device_async(X_in, opts_.device);
  const auto y = to_device_async(y_in, opts_.device);
  const bool full = opts_.batch_size > 0 ? X.size(0) == opts_.batch_size
                                         : !static_X_.defined() || static_X_.sizes() == X.sizes();
  if (opts_.static_step && full && (!static_X_.defined() || static_X_.sizes() == X.sizes())) {
    static_run(X, y);
    return;
  }
  if (device_step_) {  // fp16, or the short last batch of a static run: eagerly
    body(X, y);
    return;
  }
  // The optimiser's own step (the book's loop).
  opt_->zero_grad();
  at::Tensor y_hat, l;
  {
    AutocastGuard autocast(opts_.precision, opts_.device.type());
    const auto Xin =
        opts_.channels_last && X.dim() == 4 ? X.contiguous(torch::MemoryFormat::ChannelsLast) : X;
    y_hat = net_->forward(Xin);
    l = torch::nn::functional::cross_entropy(y_hat, y);
  }
  l.backward();
  if (opts_.grad_clip > 0) clip_grad_norm_on_device(params_, opts_.grad_clip);
  opt_->step();
  torch::NoGradGuard ng;
  const auto ld = l.detach().to(torch::kDouble);
  record(ld * static_cast<double>(X.size(0)), y_hat.argmax(1).eq(y).sum(), ld);
}

void TrainStep::static_run(const at::Tensor& X, const at::Tensor& y) {
  if (!static_X_.defined()) {
    static_X_ = torch::empty_like(X, at::MemoryFormat::Contiguous);
    static_y_ = torch::empty_like(y);
    device_step_->prepare();
  }
  {
    torch::NoGradGuard ng;
    static_X_.copy_(X, /*non_blocking=*/true);
    static_y_.copy_(y, /*non_blocking=*/true);
  }
#ifdef D2L_HAS_CUDA
  if (cuda_ && !cuda_->failed) {
    Cuda& c = *cuda_;
    if (c.captured) {
      c.graph.replay();
      return;
    }
    auto current = c10::cuda::getCurrentCUDAStream(opts_.device.index());
    at::cuda::CUDAEvent ready;
    ready.record(current);
    ready.block(c.side);
    if (c.warm < opts_.warmup_steps) {
      // Warm-up steps run eagerly on the side stream (cuDNN picks its algorithms, autograd
      // and the allocator settle), as PyTorch's recipe for whole-network capture does.
      {
        c10::cuda::CUDAStreamGuard guard(c.side);
        body(static_X_, static_y_);
      }
      at::cuda::CUDAEvent done;
      done.record(c.side);
      done.block(current);
      ++c.warm;
      return;
    }
    // Capture: gradients start as none so the captured backward allocates them from the
    // graph's pool and every replay writes the same memory.
    for (auto& p : params_) p.mutable_grad() = at::Tensor();
    try {
      torch::cuda::synchronize(opts_.device.index());
      {
        c10::cuda::CUDAStreamGuard guard(c.side);
        capturing_ = true;
        c.graph.capture_begin();
        body(static_X_, static_y_);
        c.graph.capture_end();
        capturing_ = false;
      }
      c.captured = true;
      // The step 'ran' during the capture only as a recording: replay it for this batch.
      at::cuda::CUDAEvent done;
      done.record(c.side);
      done.block(current);
      c.graph.replay();
      return;
    } catch (const std::exception& e) {
      capturing_ = false;
      c.failed = true;
      c.graph.reset();
      torch::cuda::synchronize(opts_.device.index());
      std::fprintf(stderr, "d2l: CUDA graph capture failed (%s); training without graphs\n",
                   error_message(e).c_str());
      // The failed capture recorded but did not run: run this batch's step eagerly.
    }
  }
#endif
  ++eager_static_steps_;
  body(static_X_, static_y_);
}

StepSums TrainStep::sums() const {
  return {loss_sum_.item<double>(), static_cast<double>(correct_sum_.item<std::int64_t>())};
}

StepSums TrainStep::sums_nowait() {
#ifdef D2L_HAS_CUDA
  if (cuda_) {
    Cuda& c = *cuda_;
    if (c.pending && c.read_done.query()) {
      const auto* h = c.host_sums.data_ptr<double>();
      last_read_ = {h[0], h[1]};
      c.pending = false;
    }
    if (!c.pending) {
      torch::NoGradGuard ng;
      c.host_sums.copy_(torch::stack({loss_sum_, correct_sum_.to(torch::kDouble)}),
                        /*non_blocking=*/true);
      c.read_done.record(c10::cuda::getCurrentCUDAStream(opts_.device.index()));
      c.pending = true;
    }
    return last_read_;
  }
#endif
  last_read_ = sums();
  return last_read_;
}

std::optional<BadStep> TrainStep::bad_step() const {
  if (!opts_.check_divergence) return std::nullopt;
  const auto index = bad_step_.item<std::int64_t>();
  if (index < 0) return std::nullopt;
  return BadStep{index, bad_loss_.item<double>(), first_loss_.item<double>()};
}

void TrainStep::before_save() {
  if (device_step_) device_step_->sync_to_optimizer();
}

void TrainStep::after_load() {
  if (device_step_) device_step_->sync_from_optimizer();
}

bool TrainStep::graphed() const {
#ifdef D2L_HAS_CUDA
  return cuda_ && cuda_->captured;
#else
  return false;
#endif
}

std::optional<double> gpu_seconds_per_step(TrainStep& step, const at::Tensor& X,
                                           const at::Tensor& y, int n) {
#ifdef D2L_HAS_CUDA
  const auto device = step.options().device;
  if (!device.is_cuda() || n < 1) return std::nullopt;
  torch::cuda::synchronize(device.index());
  at::cuda::CUDAEvent start(cudaEventDefault), stop(cudaEventDefault);
  auto stream = c10::cuda::getCurrentCUDAStream(device.index());
  start.record(stream);
  for (int k = 0; k < n; ++k) step.run(X, y);
  stop.record(stream);
  stop.synchronize();
  return static_cast<double>(start.elapsed_time(stop)) / 1000.0 / n;
#else
  (void)step, (void)X, (void)y, (void)n;
  return std::nullopt;
#endif
}

std::int64_t TrainStep::skipped_steps() const { return scaler_ ? scaler_->skipped_steps() : 0; }

std::string TrainStep::describe() const {
  std::string s = "precision " + to_string(opts_.precision);
  if (opts_.static_step) s += opts_.device.is_cuda() ? ", CUDA graphs" : ", static step";
  if (opts_.channels_last) s += ", channels-last";
  if (scaler_) s += ", loss scaling";
  return s;
}

}  // namespace d2l
