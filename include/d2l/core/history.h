#pragma once
/// \file d2l/core/history.h
/// What a training run measured, per epoch and at the book's chart points.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace d2l {

/// One finished epoch.
struct EpochStats {
  std::int64_t epoch = 0;       ///< 1-based
  double loss = 0;              ///< mean training loss over the epoch
  double train_acc = 0;         ///< training accuracy over the epoch
  double test_acc = 0;          ///< accuracy on the test iterable after the epoch
  double seconds = 0;           ///< time spent in training steps (the book's timer)
  double examples_per_sec = 0;  ///< training examples / seconds
};

/// A point of the book's training chart (five per epoch, x in epochs).
struct ChartPoint {
  double x = 0;
  double loss = 0;
  double train_acc = 0;
  std::optional<double> test_acc;  ///< only at the end of an epoch
  std::optional<double> lr;        ///< the learning rate there (runs with a schedule)
};

/// Where rank 0's step time went in a data-parallel run (`metrics.json`'s "distributed"): the
/// gradient and metrics allreduce (bucket packing included) and the buffer broadcasts, against
/// the whole step (forward, backward, allreduce, optimiser step), all with a steady clock.
struct DistributedSummary {
  std::int64_t world_size = 0;  ///< processes in the run
  std::string backend;          ///< "gloo" or "nccl"
  std::int64_t steps = 0;       ///< steps timed (this fit)
  double step_seconds = 0;      ///< sum over the steps
  double allreduce_seconds = 0;
  double broadcast_seconds = 0;
  /// allreduce_seconds / step_seconds (0 before the first step).
  double allreduce_share() const { return step_seconds > 0 ? allreduce_seconds / step_seconds : 0; }
};

/// The history of a run, with the settings that produced it.
struct History {
  std::string model, dataset, device;
  std::int64_t epochs = 0;  ///< epochs asked for
  std::int64_t batch_size = 0;
  double lr = 0;
  std::uint64_t seed = 0;
  std::int64_t resize = 0;  ///< images resized to resize x resize (0: the data set's own size)
  double grad_clip = 0;     ///< gradient norm clipped to this (0: off)
  std::string optimizer = "sgd";      ///< sgd, adam, adamw (d2l/train/optim.h)
  double momentum = 0;                ///< SGD's momentum
  double weight_decay = 0;            ///< the optimiser's weight decay
  bool nesterov = false;              ///< SGD with Nesterov momentum
  std::string schedule = "constant";  ///< constant, step, cosine, one-cycle
  std::int64_t step_epochs = 1;       ///< the step schedule's period, in epochs
  double gamma = 0.1;                 ///< the step schedule's factor
  std::string augment = "none";       ///< the training batches' augmentation (--augment)
  std::string precision = "fp32";     ///< the forward pass's arithmetic (--precision)
  /// Empty while training is sound; else why it was stopped as diverging ("loss became NaN at
  /// epoch 1, step 3").
  std::string divergence;
  std::vector<EpochStats> per_epoch;
  std::vector<ChartPoint> points;
  /// Final figures (those of the last epoch; examples_per_sec over all epochs, as the book).
  double loss() const { return per_epoch.empty() ? 0 : per_epoch.back().loss; }
  double train_acc() const { return per_epoch.empty() ? 0 : per_epoch.back().train_acc; }
  double test_acc() const { return per_epoch.empty() ? 0 : per_epoch.back().test_acc; }
  double seconds() const;
  double examples_per_sec() const;
  std::int64_t examples_seen = 0;  ///< training examples over all epochs
  double first_batch_seconds = 0;  ///< from process start to the first batch ready (this process)
  /// Set for a run of several processes (rank 0's timings of this run's last fit).
  std::optional<DistributedSummary> distributed;

  /// The metrics.json document (see docs/train.md for the schema).
  std::string to_json() const;
  /// Parses what to_json wrote (the one reader of metrics.json: `d2l plot`, resume, the library).
  /// Missing numbers read as NaN (an epoch needs its "epoch", a point its "x"); throws
  /// d2l::Error (BadInput) naming `name` and the fault when the text is not such a document.
  static History from_json(const std::string& text, const std::string& name = "metrics.json");
  /// metrics.csv: epoch,loss,train_acc,test_acc,seconds,examples_per_sec.
  std::string to_csv() const;
};

}  // namespace d2l
