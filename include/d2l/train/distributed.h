#pragma once
/// \file d2l/train/distributed.h
/// Data-parallel training on LibTorch's c10d (torch.distributed's C++ layer): a process group per
/// run (TCPStore rendezvous, Gloo on the CPU, NCCL where the LibTorch has it), parameters and
/// buffers broadcast from rank 0, gradients averaged by bucketed allreduce, the launcher behind
/// `d2l train --nproc N`, and the book's single-process `split_batch` and `train_ch13`.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <sys/types.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "d2l/core/history.h"
#include "d2l/data/loader.h"

namespace d2l {

/// Where a process stands in a data-parallel run and how it meets the others.
struct DistributedOptions {
  std::int64_t rank = 0;        ///< 0 .. world_size - 1; rank 0 reports and writes files
  std::int64_t world_size = 1;  ///< processes in the run, on every machine together
  std::int64_t local_rank = 0;  ///< this process's index on its machine (picks cuda:LOCAL_RANK)
  std::string master_addr = "127.0.0.1";  ///< the host of the TCPStore (MASTER_ADDR)
  int master_port = 29500;                ///< its port (MASTER_PORT)
  /// The store is hosted by someone else (torchrun's agent, `d2l train --nproc`'s launcher):
  /// rank 0 connects to it like the others instead of starting it.
  bool agent_store = false;
  /// How long to wait for the others (rendezvous, every collective) before failing.
  double timeout_s = 60;
  /// Gradients are allreduced in buckets of about this many bytes.
  std::int64_t bucket_bytes = 25 * 1024 * 1024;
};

/// The variables of the launchers people use, in this order: torchrun's (RANK, WORLD_SIZE,
/// LOCAL_RANK, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_USE_AGENT_STORE), Open MPI's
/// (OMPI_COMM_WORLD_RANK, _SIZE, _LOCAL_RANK) and Slurm's (SLURM_PROCID, SLURM_NTASKS,
/// SLURM_LOCALID); the last two take MASTER_ADDR and MASTER_PORT from the environment too.
/// nullopt when none is set. `env` maps names to values; empty: the process environment.
/// Throws d2l::Error (BadInput) naming the variable for a value that is not a number in range or
/// a missing MASTER_ADDR/MASTER_PORT.
std::optional<DistributedOptions> distributed_from_env(
    const std::map<std::string, std::string>& env = {});

/// One process's membership of a data-parallel run: a c10d process group (Gloo; NCCL for CUDA
/// tensors when the LibTorch has it) over a TCPStore rendezvous.
class Distributed {
 public:
  /// Joins the group: blocks until all `world_size` processes are there or the timeout passes.
  /// Throws d2l::Error naming the store's address and the rank on failure.
  explicit Distributed(const DistributedOptions& options, c10::Device device = c10::kCPU);
  ~Distributed();
  Distributed(const Distributed&) = delete;
  Distributed& operator=(const Distributed&) = delete;

  std::int64_t rank() const { return options_.rank; }
  std::int64_t world_size() const { return options_.world_size; }
  /// True on rank 0, the one that prints and writes the run folder.
  bool is_main() const { return options_.rank == 0; }
  const DistributedOptions& options() const { return options_; }
  /// "gloo" or "nccl".
  std::string backend() const;

  /// Copies rank 0's parameters and buffers to every rank (at the start of training).
  void broadcast_parameters(torch::nn::Module& net);
  /// Copies rank 0's buffers (batch-norm running statistics) to every rank, as
  /// DistributedDataParallel does before every forward pass by default.
  void broadcast_buffers(torch::nn::Module& net);
  /// Averages the gradients of `params` over the ranks, weighting each rank by the examples it
  /// saw: every gradient (missing ones count as zero) is multiplied by `local_examples`, summed
  /// over the ranks in buckets of about bucket_bytes (flattened, one allreduce each), and divided
  /// by the examples of all ranks. With equal shares this is DDP's mean over ranks; with unequal
  /// ones it is still the gradient of the whole batch's mean loss. `stats` (double, on the CPU;
  /// its element 2 must be `local_examples`) is summed over the ranks in the same round and
  /// returned: the step's metrics (loss sum, correct, examples, stop requests) for everyone.
  at::Tensor sync_gradients(const std::vector<at::Tensor>& params, double local_examples,
                            const at::Tensor& stats);
  /// Sums `t` over the ranks in place.
  void allreduce_sum(at::Tensor& t);
  /// Waits until every rank is here.
  void barrier();

  /// Bracket one training step (the Trainer calls them before the buffers' broadcast and after
  /// the optimiser's step). The time spent in sync_gradients and broadcast_buffers within steps
  /// is summed, with a steady clock, against the steps' own time: the allreduce's share of a step.
  void begin_step();
  void end_step();
  /// This rank's timings so far: steps, their seconds, the allreduce's and the broadcasts'.
  DistributedSummary timings() const;

 private:
  struct Impl;
  DistributedOptions options_;
  std::unique_ptr<Impl> impl_;
};

/// What `d2l train --nproc N` does: starts N workers on this machine and waits for them.
struct LaunchOptions {
  std::vector<std::string> argv;  ///< a worker's command line (argv[0]: the program's path)
  std::int64_t nproc = 1;         ///< workers to start (on this machine)
  /// Several machines, each running this launcher with the same nproc: workers get RANK
  /// node_rank * nproc + LOCAL_RANK of nnodes * nproc. Node 0's launcher hosts the store on
  /// master_port; the others' workers reach it at master_addr.
  std::int64_t nnodes = 1;
  std::int64_t node_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;    ///< 0: a free port (one machine only)
  double timeout_s = 60;  ///< the workers' --dist-timeout (their rendezvous too)
  /// Grace between SIGTERM and SIGKILL for the other workers once one has failed.
  double kill_grace_s = 5;
};

/// Starts `nproc` workers as direct children, each in its own process group with RANK,
/// LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR, MASTER_PORT and
/// TORCHELASTIC_USE_AGENT_STORE=True in its environment: node 0's launcher hosts the TCPStore (on
/// a free port with one machine), as torchrun's agent does. Rank 0's stdout is ours, the others' is
/// /dev/null; their stderr is forwarded line by line, except each one's last line, held back until
/// it exits. Forwards SIGINT and SIGTERM (the caller installs nothing; this installs handlers while
/// it runs). When a worker exits non-zero the others get SIGTERM, then SIGKILL after kill_grace_s,
/// and one line on stderr names the rank and why ("d2l: train: rank 1 failed (killed by signal
/// 9)..."). Returns the exit code for the launcher: 0 when all finished, 130 when stopped by a
/// signal, else the failed worker's code (1 for one killed by a signal). Workers die with the
/// launcher (PR_SET_PDEATHSIG).
int launch_workers(const LaunchOptions& options);

/// Whether the worker of global rank `rank` gets the launcher's terminal for its progress bar
/// (a worker's stderr is a pipe to the launcher): rank 0 alone, when the launcher's stderr is a
/// terminal. launch_workers passes it as a file descriptor named by D2L_PROGRESS_FD.
bool launcher_gives_progress(std::int64_t rank, bool launcher_on_terminal);

/// Where this process draws its progress bar: the terminal `d2l train --nproc`'s launcher passed
/// (D2L_PROGRESS_FD, when it names an open descriptor), else stderr. `env`: as
/// distributed_from_env.
std::FILE* progress_stream(const std::map<std::string, std::string>& env = {});

/// The book's `split_batch`: splits X and y along the first dimension into one part per device
/// (sizes differ by at most one, the first ones larger) and moves each part to its device.
/// Throws d2l::Error when X and y differ in length or there are more devices than examples.
std::pair<std::vector<at::Tensor>, std::vector<at::Tensor>> split_batch(
    const at::Tensor& X, const at::Tensor& y, const std::vector<c10::Device>& devices);

/// The book's `train_ch13` (13.6): trains `net` on the listed devices in one process, each
/// mini-batch split over them by torch::nn::parallel::data_parallel (the C++ cousin of the book's
/// nn.DataParallel), with `loss` (per-example losses, as the book's
/// `CrossEntropyLoss(reduction="none")`: `l.sum().backward()`, as the book; a scalar loss is
/// used as it is) and `trainer`, for `num_epochs`. Prints "loss L, train acc A, test acc T" and
/// "N examples/sec on [cpu]" (the devices as the book lists them). Returns the history.
History train_ch13(torch::nn::Sequential& net, const data::DataLoader& train_iter,
                   const data::DataLoader& test_iter,
                   const std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>& loss,
                   torch::optim::Optimizer& trainer, std::int64_t num_epochs,
                   const std::vector<c10::Device>& devices);

}  // namespace d2l
