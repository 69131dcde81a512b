#pragma once
/// \file d2l/train/trainer.h
/// A training loop for code that outgrows `train_ch6` (LibTorch).
#include <c10/core/Device.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/optim/optimizer.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "d2l/core/history.h"
#include "d2l/data/loader.h"
#include "d2l/train/checkpoint.h"
#include "d2l/train/precision.h"

namespace d2l {

class Distributed;
class TrainStep;

/// Settings of a Trainer.
struct TrainerOptions {
  std::int64_t max_epochs = 10;
  c10::Device device = c10::Device(c10::kCPU);
  double grad_clip = 0;               ///< clip the gradients' global norm to this (0: off)
  bool verbose = true;                ///< the book's lines on stdout
  bool progress = true;               ///< a bar per epoch on a terminal (stderr)
  bool epoch_lines = true;            ///< a plain line per epoch on stdout
  std::string checkpoint;             ///< file written atomically after every epoch ("" for none)
  std::int64_t points_per_epoch = 5;  ///< chart points per epoch, as train_ch6 adds
  /// Keep convolution weights and inputs channels-last (NHWC): the same arithmetic, in oneDNN's
  /// or cuDNN's NHWC kernels. Default: on for convolutional networks on CUDA (with cuDNN's
  /// autotuner), off on the CPU (with d2l::AvgPool2d's NCHW kernel LeNet is faster without).
  std::optional<bool> channels_last;
  /// The arithmetic of the forward pass (d2l/train/precision.h): fp32, tf32 (CUDA), bf16
  /// (autocast, CPU or CUDA) or fp16 (CUDA, with loss scaling).
  Precision precision = Precision::FP32;
  /// Run every full batch as one static step (d2l/train/step.h): on CUDA captured once as a
  /// CUDA graph and replayed. Default: on for one process on CUDA, off elsewhere (on the CPU it
  /// runs the graph's step uncaptured, as the tests check it).
  std::optional<bool> static_step;
  /// Stop after this many optimiser steps in this fit, and evaluate on at most this many test
  /// batches (smoke runs, benchmarks). The epoch it ends in counts as finished.
  std::optional<std::int64_t> max_steps;
  /// Stop when training diverges: a step's loss is NaN or infinite, or above
  /// `divergence_factor` times the first step's. Every step is checked on the device, without a
  /// synchronisation; the check is read where the metrics are (at least five times an epoch).
  /// No checkpoint is written after the first bad step, so the last one on disk is sound.
  bool stop_on_divergence = true;
  /// The learning rate for optimiser step `step` (0-based, from the start of the run: a resumed
  /// run goes on where it stopped), set on every parameter group before the step; empty: the
  /// optimiser's own, unchanged. The chart points record it.
  std::function<double(std::int64_t step)> lr_at;
  double divergence_factor = 1e3;  ///< see stop_on_divergence
  /// Data-parallel training (d2l/train/distributed.h): rank 0's parameters go to every rank at
  /// the start, rank 0's buffers before every forward pass, and after every backward pass the
  /// gradients are averaged over the ranks (before clipping and the optimiser's step), with the
  /// step's loss, accuracy, example count and stop requests summed in the same round: every
  /// rank sees the global metrics and stops (Ctrl-C) at the same step. The train loader gives
  /// each rank its part of every batch (LoaderOptions::shard_index); null: one process.
  std::shared_ptr<Distributed> distributed;
  /// The progress bar's stream (it draws only on a terminal): a `--nproc` worker's stderr is a
  /// pipe, so the launcher hands rank 0 its terminal (d2l::progress_stream()).
  std::FILE* progress_stream = stderr;
};

/// Where and how a run diverged.
struct Divergence {
  enum class Kind { NaN, Infinite, Exploded };
  Kind kind = Kind::NaN;
  std::int64_t epoch = 0;  ///< 1-based
  std::int64_t step = 0;   ///< 1-based, within the epoch
  double loss = 0;         ///< the step's loss
  double first_loss = 0;   ///< the first step's loss (the reference for Exploded)
  /// "loss became NaN at epoch 1, step 3" / "loss 3.7e+09 exceeded 1000 x the first step's
  /// (2.31) at epoch 1, step 5".
  std::string describe() const;
};

/// What a per-batch callback sees.
struct BatchEvent {
  std::int64_t epoch;    ///< 0-based
  std::int64_t batch;    ///< 0-based within the epoch
  std::int64_t batches;  ///< per epoch
  double loss;           ///< mean loss of the epoch so far
  double train_acc;      ///< accuracy of the epoch so far
};

/// Trains a classifier with cross-entropy loss: the book's `train_ch6` loop with callbacks,
/// gradient clipping, checkpoints and a stop flag. Stopping (Ctrl-C, SIGTERM) takes effect after
/// the current batch and leaves a checkpoint that `resume` continues exactly.
class Trainer {
 public:
  Trainer(torch::nn::Sequential net, std::shared_ptr<torch::optim::Optimizer> opt,
          TrainerOptions opts);
  /// Called after every batch.
  void on_batch(std::function<void(const BatchEvent&)> cb) { on_batch_ = std::move(cb); }
  /// Called after every epoch with its stats and the history so far.
  void on_epoch(std::function<void(const EpochStats&, const History&)> cb) {
    on_epoch_ = std::move(cb);
  }
  /// Called at every chart point (five per epoch by default), as train_ch6 feeds its Animator.
  void on_point(std::function<void(const ChartPoint&)> cb) { on_point_ = std::move(cb); }
  /// Continues from a checkpoint file (loads net, optimizer, RNG, history and position).
  void resume(const std::string& checkpoint_path);
  /// Trains until max_epochs or a stop request; returns the history. `history` fields naming
  /// the run (model, dataset, ...) are taken from `meta`.
  History fit(const data::DataLoader& train, const data::DataLoader& test,
              const History& meta = {});
  /// True when the last fit ended on a stop request.
  bool stopped() const { return stopped_; }
  /// Set when the last fit was stopped because training diverged (see
  /// TrainerOptions::stop_on_divergence); the history's `divergence` holds describe().
  const std::optional<Divergence>& divergence() const { return divergence_; }
  /// Asks a running fit to stop after the current batch (safe from a signal handler).
  static void request_stop() { stop_flag().store(true); }
  /// Clears a stop request.
  static void clear_stop() { stop_flag().store(false); }
  static std::atomic<bool>& stop_flag();
  torch::nn::Sequential& net() { return net_; }
  /// The step's set-up in words ("precision bf16, CUDA graphs, channels-last").
  std::string describe_step() const;
  /// True when the last fit replayed a captured CUDA graph.
  bool graphed() const;
  ~Trainer();

 private:
  void save(const std::string& path);
  torch::nn::Sequential net_;
  std::shared_ptr<torch::optim::Optimizer> opt_;
  TrainerOptions opts_;
  TrainState state_;
  bool stopped_ = false;
  bool channels_last_ = false;
  std::optional<Divergence> divergence_;
  std::unique_ptr<TrainStep> step_;
  std::function<void(const BatchEvent&)> on_batch_;
  std::function<void(const EpochStats&, const History&)> on_epoch_;
  std::function<void(const ChartPoint&)> on_point_;
};

/// Converts every 4-D parameter of `net` to the channels-last memory format (values unchanged).
/// Returns whether `net` has any.
bool to_channels_last(torch::nn::Module& net);

/// Installs handlers so SIGINT and SIGTERM call Trainer::request_stop() (a second signal exits
/// at once with 130).
void install_stop_signals();

}  // namespace d2l
