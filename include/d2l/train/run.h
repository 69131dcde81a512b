#pragma once
/// \file d2l/train/run.h
/// A training run as `d2l train` does it, in the library: the book's settings for a model, the
/// merge with a checkpoint's settings on resume, the run folder (metrics.json, metrics.csv,
/// checkpoint.pt, the chart, predictions, confusion matrix), the divergence stop (LibTorch).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "d2l/train/checkpoint.h"
#include "d2l/train/distributed.h"
#include "d2l/train/optim.h"
#include "d2l/train/precision.h"
#include "d2l/train/trainer.h"

namespace d2l {

/// What a user asks of a run. Every "not given" is an empty optional or string: the book's
/// default for the model (or, on resume, the checkpoint's setting) fills it.
struct RunOptions {
  std::string model;     ///< a name from model_specs(); may be empty with `resume`
  std::string data;      ///< fashion-mnist, mnist or cifar10 (empty: the model's)
  std::string data_dir;  ///< searched first for the data set's files
  std::string device = "auto";
  std::string out;     ///< the run folder (empty: runs/MODEL-YYYYmmdd-HHMMSS, or the resumed one)
  std::string resume;  ///< a run folder or checkpoint file to continue
  std::string plot;    ///< the chart's file (.png .svg .pdf; empty: OUT/training.png)
  std::optional<std::int64_t> epochs, batch_size, resize, threads, max_steps;
  std::optional<double> lr, grad_clip;
  std::optional<std::uint64_t> seed;
  std::optional<OptimizerKind> optimizer;        ///< default SGD, as the book
  std::optional<double> momentum, weight_decay;  ///< default 0
  std::optional<bool> nesterov;                  ///< default off
  std::optional<ScheduleKind> schedule;          ///< default constant, as the book
  std::optional<std::int64_t> step_epochs;       ///< the step schedule's period (default 1)
  std::optional<double> gamma;                   ///< the step schedule's factor (default 0.1)
  /// The training batches' augmentation (data::parse_augment: "flip,crop,jitter,normalize",
  /// "none"); empty: the checkpoint's on resume, else the book's (flip for resnet18 on cifar10,
  /// as chapter 14.1; none for the others).
  std::string augment;
  /// The forward pass's arithmetic (d2l/train/precision.h); default fp32, or the checkpoint's.
  std::optional<Precision> precision;
  /// Whole-step CUDA graphs on a GPU (one process); false: the eager loop (--no-cuda-graphs).
  bool cuda_graphs = true;
  bool download = true;            ///< download a missing data set
  bool prefetch = false;           ///< build the next batch on a background thread
  bool stop_on_divergence = true;  ///< see TrainerOptions::stop_on_divergence
  /// Watch for an EC2 spot interruption notice (d2l::cloud::SpotWatcher: only where the machine
  /// is an EC2 spot instance; elsewhere nothing is sent) and stop as on Ctrl-C when one comes.
  bool spot_watch = true;
  bool verbose = true;         ///< the book's lines on stdout
  bool progress = true;        ///< a progress bar on a terminal
  bool terminal_chart = true;  ///< the live chart on a terminal
  /// This process's place in a data-parallel run (distributed_from_env(); `d2l train --nproc`
  /// starts such workers); nullopt or a world of 1: it trains alone. Every rank trains on its
  /// part of every batch (--batch-size stays the global batch); only rank 0 prints and writes.
  std::optional<DistributedOptions> distributed;
};

/// The settings a run will use: the options checked and merged with the model's defaults and
/// the checkpoint's settings. Nothing is touched on disk to make it.
struct RunPlan {
  std::string model, data, data_dir, device, out, plot;
  std::string checkpoint_in;  ///< the checkpoint resumed ("" for a fresh run)
  std::int64_t epochs = 0, batch_size = 0, resize = 0, threads = 0;
  std::optional<std::int64_t> max_steps;
  double lr = 0, grad_clip = 0;
  std::uint64_t seed = 42;
  OptimizerSpec optimizer;  ///< its lr is `lr`
  ScheduleSpec schedule;
  data::Augment augment;  ///< of the training batches (the test batches: its normalisation)
  Precision precision = Precision::FP32;
  bool cuda_graphs = true;
  TrainState resumed;  ///< where the checkpoint stands (empty for a fresh run)
  /// The plan as JSON (what `d2l train --dry-run` prints).
  std::string to_json() const;
};

/// Checks `o` and resolves it into a plan. Throws d2l::Error (BadInput) naming the flag for a
/// value outside its domain (--lr: finite and > 0; --epochs, --batch-size, --max-steps,
/// --threads, --step-epochs: >= 1; --resize: 1..4096; --grad-clip, --weight-decay: finite and
/// >= 0, 0 is off; --momentum: [0, 1); --gamma: finite and > 0), an unknown
/// model or data set, or a checkpoint that is missing, corrupt, of another model or data set, or
/// already trained as far as asked.
RunPlan plan_run(const RunOptions& o);

/// How a run ended.
enum class RunStatus { Finished, Interrupted, Diverged };

/// What a run did.
struct RunResult {
  RunStatus status = RunStatus::Finished;
  History history;
  std::string out;                   ///< the run folder
  std::vector<std::string> written;  ///< files written in it (names)
  std::optional<Divergence> divergence;
  /// Why an interrupted run stopped when it was not a signal: the spot interruption notice
  /// (`spot instance will be stopped at T`); "" otherwise.
  std::string stopped_by;
};

/// Runs `plan` (from plan_run) with the output options of `o`: trains, writing the run folder as
/// it goes (metrics after every epoch, the checkpoint atomically, the chart live), then the
/// book's predictions and a confusion matrix (not after a --max-steps smoke run). Interrupted
/// (SIGINT/SIGTERM, see install_stop_signals) leaves a checkpoint that resumes exactly; diverged
/// leaves the last sound checkpoint and the metrics with their `divergence`. Throws d2l::Error for
/// a missing data set or an unwritable folder.
RunResult train_run(const RunPlan& plan, const RunOptions& o = {});

}  // namespace d2l
