// `d2l train MODEL`: trains a book model on a real data set.
#include <torch/torch.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "../common/command.h"
#include "d2l/d2l.h"
#include "d2l/train/fit.h"

namespace {

struct TrainCli {
  d2l::RunOptions run;
  bool list = false, json = false, no_download = false, quiet = false, no_chart = false;
  bool dry_run = false, no_divergence_stop = false, no_spot_watch = false;
  // Values as parsed; an option's count() tells whether it was given.
  std::int64_t epochs = 0, batch_size = 0, resize = 0, threads = 0, max_steps = 0;
  double lr = 0, grad_clip = 0, momentum = 0, weight_decay = 0, gamma = 0;
  std::int64_t seed = 0, step_epochs = 0;
  std::string optimizer, schedule, precision;
  bool nesterov = false, no_cuda_graphs = false;
  bool no_fit_check = false;  // --no-fit-check: start a CUDA run that d2l fit says will not fit
  std::int64_t nproc = 0, nnodes = 1, node_rank = 0;
  int master_port = 0;
  std::string master_addr = "127.0.0.1";
  double dist_timeout = 60;
  CLI::Option *nproc_opt = nullptr, *timeout_opt = nullptr;
  CLI::Option *epochs_opt = nullptr, *batch_opt = nullptr, *resize_opt = nullptr,
              *threads_opt = nullptr, *steps_opt = nullptr, *lr_opt = nullptr, *clip_opt = nullptr,
              *seed_opt = nullptr, *momentum_opt = nullptr, *decay_opt = nullptr,
              *gamma_opt = nullptr, *step_epochs_opt = nullptr;
};

template <typename T>
std::optional<T> given(const CLI::Option* opt, T value) {
  return opt->count() > 0 ? std::optional<T>(value) : std::nullopt;
}

void list_models(bool json) {
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : d2l::model_specs())
      out.push_back({{"name", m.name},
                     {"dataset", m.dataset},
                     {"epochs", m.epochs},
                     {"lr", m.lr},
                     {"batch_size", m.batch_size},
                     {"resize", m.resize},
                     {"chapter", m.chapter},
                     {"description", m.description}});
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("%-17s %-14s %6s %6s %6s %6s  %s\n", "MODEL", "DATA", "EPOCHS", "LR", "BATCH",
              "RESIZE", "DESCRIPTION");
  for (const auto& m : d2l::model_specs())
    std::printf("%-17s %-14s %6lld %6g %6lld %6s  %s (book section %s)\n", m.name.c_str(),
                m.dataset.c_str(), static_cast<long long>(m.epochs), m.lr,
                static_cast<long long>(m.batch_size),
                m.resize > 0 ? std::to_string(m.resize).c_str() : "-", m.description.c_str(),
                m.chapter.c_str());
  std::printf("data sets: fashion-mnist, mnist, cifar10\n");
}

// This program's command line as it was started (from /proc), without the launcher's flags, for the
// workers; argv[0] becomes the path of this very program.
std::vector<std::string> worker_argv() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  std::size_t start = 0;
  while (start < raw.size()) {
    const auto end = raw.find('\0', start);
    args.push_back(raw.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (args.empty()) throw d2l::Error("train --nproc: cannot read /proc/self/cmdline");
  std::vector<std::string> out;
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) throw d2l::Error("train --nproc: cannot read /proc/self/exe");
  out.emplace_back(exe, static_cast<std::size_t>(n));
  // The launcher's own flags (each with a value) stay with the launcher.
  const char* const own[] = {"--nproc", "--nnodes", "--node-rank", "--master-addr",
                             "--master-port"};
  for (std::size_t i = 1; i < args.size(); ++i) {
    bool skip = false;
    for (const char* f : own) {
      const std::string flag = f;
      if (args[i] == flag) {
        ++i;
        skip = true;
      } else if (args[i].rfind(flag + "=", 0) == 0) {
        skip = true;
      }
      if (skip) break;
    }
    if (!skip) out.push_back(args[i]);
  }
  return out;
}

int run_train(TrainCli& c) {
  if (c.list) {
    list_models(c.json);
    return 0;
  }
  d2l::RunOptions& o = c.run;
  o.epochs = given(c.epochs_opt, c.epochs);
  o.batch_size = given(c.batch_opt, c.batch_size);
  o.resize = given(c.resize_opt, c.resize);
  o.threads = given(c.threads_opt, c.threads);
  o.max_steps = given(c.steps_opt, c.max_steps);
  o.lr = given(c.lr_opt, c.lr);
  o.grad_clip = given(c.clip_opt, c.grad_clip);
  if (c.seed < 0) throw d2l::bad_input("--seed must be >= 0, got " + std::to_string(c.seed));
  if (c.seed_opt->count() > 0) o.seed = static_cast<std::uint64_t>(c.seed);
  o.momentum = given(c.momentum_opt, c.momentum);
  o.weight_decay = given(c.decay_opt, c.weight_decay);
  o.gamma = given(c.gamma_opt, c.gamma);
  o.step_epochs = given(c.step_epochs_opt, c.step_epochs);
  if (!c.optimizer.empty()) o.optimizer = d2l::parse_optimizer(c.optimizer);
  if (!c.schedule.empty()) o.schedule = d2l::parse_schedule(c.schedule);
  if (!c.precision.empty()) o.precision = d2l::parse_precision(c.precision);
  o.cuda_graphs = !c.no_cuda_graphs;
  if (c.nesterov) o.nesterov = true;
  o.download = !c.no_download;
  o.stop_on_divergence = !c.no_divergence_stop;
  o.spot_watch = !c.no_spot_watch;
  o.verbose = !c.json;
  o.progress = !c.json && !c.quiet;
  o.terminal_chart = !c.no_chart && !c.json && !c.quiet;
  const bool launcher = c.nproc_opt->count() > 0;
  if (launcher) {
    if (c.nproc < 1)
      throw d2l::bad_input("--nproc must be at least 1, got " + std::to_string(c.nproc));
    if (c.nproc > 1024)
      throw d2l::bad_input("--nproc must be at most 1024, got " + std::to_string(c.nproc));
    if (c.nnodes == 1 && (c.node_rank != 0 || c.master_port != 0 || c.master_addr != "127.0.0.1"))
      throw d2l::bad_input("--node-rank, --master-addr and --master-port are for --nnodes > 1");
    if (d2l::distributed_from_env())
      throw d2l::bad_input(
          "--nproc starts its own workers; it cannot run under a launcher (RANK or "
          "WORLD_SIZE is set)");
    if (c.nnodes < 1)
      throw d2l::bad_input("--nnodes must be at least 1, got " + std::to_string(c.nnodes));
    d2l::DistributedOptions d;  // for plan_run's checks only
    d.world_size = c.nproc * c.nnodes;
    d.timeout_s = c.dist_timeout;
    o.distributed = d;
  } else {
    o.distributed = d2l::distributed_from_env();
    if (o.distributed) o.distributed->timeout_s = c.dist_timeout;
  }
  const d2l::RunPlan plan = d2l::plan_run(o);
  const bool main_rank = !o.distributed || o.distributed->rank == 0;
  if (c.dry_run) {
    d2l::parse_device(plan.device);  // the device must exist, as for a real run
    std::fputs(plan.to_json().c_str(), stdout);
    return 0;
  }
  if (launcher) {
    d2l::LaunchOptions lo;
    lo.argv = worker_argv();
    lo.nproc = c.nproc;
    lo.nnodes = c.nnodes;
    lo.node_rank = c.node_rank;
    lo.master_addr = c.master_addr;
    lo.master_port = c.master_port;
    lo.timeout_s = c.dist_timeout;
    // A fresh run's default folder is named once, here, so that every worker writes the same.
    if (o.out.empty() && o.resume.empty() && !plan.out.empty()) {
      lo.argv.push_back("--out");
      lo.argv.push_back(plan.out);
    }
    return d2l::launch_workers(lo);
  }
  if (!plan.checkpoint_in.empty() && !c.json && main_rank)
    std::printf("resuming %s from %s at epoch %lld, batch %lld\n", plan.model.c_str(),
                plan.checkpoint_in.c_str(), static_cast<long long>(plan.resumed.epoch + 1),
                static_cast<long long>(plan.resumed.batch));
  // On a GPU: d2l fit's prediction against the free memory before the first step, and its
  // advice instead of LibTorch's trace on a real out-of-memory error.
  const int world = o.distributed ? static_cast<int>(o.distributed->world_size) : 1;
  if (!c.no_fit_check)
    if (const auto line = d2l::gpu_fit_check(plan, world)) {
      std::fprintf(stderr, "d2l: %s\n", line->c_str());
      return 2;
    }
  d2l::install_stop_signals();
  std::optional<d2l::RunResult> result;
  try {
    result = d2l::train_run(plan, o);
  } catch (const std::exception& e) {
    if (!d2l::is_out_of_memory(e)) throw;
    std::fprintf(stderr, "d2l: %s%s\n", d2l::out_of_memory_advice(plan, world).c_str(),
                 plan.out.empty() ? "" : ("; the last checkpoint is kept in " + plan.out).c_str());
    return 1;
  }
  const d2l::RunResult& r = *result;
  if (!main_rank) {
    switch (r.status) {
      case d2l::RunStatus::Interrupted:
        return 130;
      case d2l::RunStatus::Diverged:
        return 1;
      case d2l::RunStatus::Finished:
        return 0;
    }
  }
  if (c.json) std::fputs(r.history.to_json().c_str(), stdout);
  switch (r.status) {
    case d2l::RunStatus::Interrupted:
      if (!r.stopped_by.empty())
        std::fprintf(stderr,
                     "d2l: %s; checkpoint saved: continue with d2l train --resume %s (here once "
                     "the instance runs again, or on another machine with the folder)\n",
                     r.stopped_by.c_str(), r.out.c_str());
      else
        std::fprintf(stderr,
                     "d2l: interrupted; checkpoint saved: continue with d2l train --resume %s\n",
                     r.out.c_str());
      return 130;
    case d2l::RunStatus::Diverged:
      std::fprintf(stderr,
                   "d2l: %s; lower --lr (now %g) or use --grad-clip; the last sound checkpoint "
                   "is kept in %s\n",
                   r.divergence->describe().c_str(), plan.lr, r.out.c_str());
      return 1;
    case d2l::RunStatus::Finished:
      break;
  }
  if (!c.json && r.history.distributed && r.history.distributed->steps > 0) {
    const auto& d = *r.history.distributed;
    const double per_step = 1e3 / static_cast<double>(d.steps);
    std::printf(
        "allreduce: %.1f%% of a step on rank 0 (%lld process%s, %s: %.1f ms of %.1f ms a "
        "step over %lld steps)\n",
        100 * d.allreduce_share(), static_cast<long long>(d.world_size),
        d.world_size == 1 ? "" : "es", d.backend.c_str(), d.allreduce_seconds * per_step,
        d.step_seconds * per_step, static_cast<long long>(d.steps));
  }
  if (!c.json && !r.out.empty()) {
    std::string files;
    for (const auto& f : r.written) files += (files.empty() ? "" : ", ") + f;
    std::printf("wrote %s: %s\n", r.out.c_str(), files.c_str());
  }
  return 0;
}

d2l::cli::Registrar reg{
    "train", "Train a book model on a real data set", [](CLI::App& cmd) {
      auto c = std::make_shared<TrainCli>();
      auto& o = c->run;
      cmd.add_option("model", o.model, "A model of --list (e.g. lenet, resnet)");
      cmd.add_flag("--list", c->list, "List the models with the book's defaults");
      cmd.add_option("--data", o.data, "fashion-mnist, mnist or cifar10 (default: the model's)");
      cmd.add_option("--data-dir", o.data_dir, "Folder with the data set's files (searched first)");
      c->epochs_opt = cmd.add_option("--epochs", c->epochs, "Epochs, >= 1 (default: the book's)");
      c->batch_opt = cmd.add_option("--batch-size", c->batch_size,
                                    "Mini-batch size, >= 1 (default: the book's)");
      c->lr_opt = cmd.add_option("--lr", c->lr, "Learning rate, finite > 0 (default: the book's)");
      c->resize_opt = cmd.add_option("--resize", c->resize,
                                     "Resize images to N x N, 1..4096 (default: the book's)");
      cmd.add_option("--device", o.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
      c->seed_opt =
          cmd.add_option("--seed", c->seed, "Random seed (weights, shuffling; default 42)");
      c->threads_opt =
          cmd.add_option("--threads", c->threads, "LibTorch threads, >= 1 (default: LibTorch's)");
      c->clip_opt =
          cmd.add_option("--grad-clip", c->grad_clip,
                         "Clip gradients' norm to this, finite >= 0 (0 or not given: off)");
      cmd.add_option("--optimizer", c->optimizer, "sgd, adam or adamw (default: sgd, the book's)");
      c->momentum_opt =
          cmd.add_option("--momentum", c->momentum, "SGD momentum, in [0, 1) (default 0)");
      c->decay_opt = cmd.add_option("--weight-decay", c->weight_decay,
                                    "Weight decay, finite >= 0 (AdamW: decoupled; default 0)");
      cmd.add_flag("--nesterov", c->nesterov, "SGD with Nesterov momentum (needs --momentum)");
      cmd.add_option("--schedule", c->schedule,
                     "Learning rate schedule: constant (default), step, cosine, one-cycle");
      c->step_epochs_opt = cmd.add_option("--step-epochs", c->step_epochs,
                                          "step schedule: epochs between decays, >= 1 (default 1)");
      c->gamma_opt = cmd.add_option("--gamma", c->gamma,
                                    "step schedule: the decay factor, finite > 0 (default 0.1)");
      c->steps_opt = cmd.add_option("--max-steps", c->max_steps,
                                    "Stop after N optimiser steps; evaluate on at most N test "
                                    "batches (smoke runs)");
      cmd.add_option("--out", o.out,
                     "Output folder: metrics.json, metrics.csv, checkpoint.pt "
                     "(default runs/MODEL-TIME)");
      cmd.add_option("--resume", o.resume, "Continue the run in this folder (or checkpoint file)");
      cmd.add_option("--plot", o.plot,
                     "The training chart's file (.png .svg .pdf; default OUT/training.png)");
      cmd.add_flag("--no-chart", c->no_chart, "No live chart in the terminal");
      cmd.add_flag("--prefetch", o.prefetch, "Build the next batch on a background thread");
      cmd.add_option("--augment", o.augment,
                     "Augment the training batches: a list of flip[=P], crop[=MIN-MAX], "
                     "jitter[=B-C-S[-H]], hue=H, normalize (the test set: normalize only), or "
                     "none (default: flip for resnet18 on cifar10, as chapter 14.1; else none)");
      cmd.add_flag("--no-download", c->no_download, "Never download a missing data set");
      cmd.add_option("--precision", c->precision,
                     "fp32, tf32 (CUDA), bf16 (autocast; CPU or CUDA) or fp16 (CUDA, loss "
                     "scaling); default fp32");
      cmd.add_flag("--no-cuda-graphs", c->no_cuda_graphs,
                   "On CUDA, run every step eagerly instead of replaying a captured graph");
      cmd.add_flag("--no-divergence-stop", c->no_divergence_stop,
                   "Train on when the loss becomes NaN, infinite or 1000 x the first step's");
      cmd.add_flag("--no-fit-check", c->no_fit_check,
                   "On a GPU, start even when d2l fit predicts the batch will not fit in the "
                   "free memory (by default: one line with the largest batch that fits, exit 2)");
      cmd.add_flag("--no-spot-watch", c->no_spot_watch,
                   "On an EC2 spot instance, do not watch for AWS's interruption notice (by "
                   "default it stops the run with a checkpoint, as Ctrl-C does)");
      cmd.add_flag("--dry-run", c->dry_run,
                   "Print the settings the run would use (JSON) and exit; trains nothing");
      c->nproc_opt = cmd.add_option(
          "--nproc", c->nproc,
          "Train data-parallel in N worker processes on this machine (a launcher: the cores "
          "are split between them; --batch-size stays the global batch)");
      cmd.add_option("--nnodes", c->nnodes,
                     "With --nproc: machines taking part, each running the same command "
                     "(default 1)");
      cmd.add_option("--node-rank", c->node_rank, "With --nnodes: this machine's index, 0..M-1");
      cmd.add_option("--master-addr", c->master_addr,
                     "With --nnodes: the address of node 0, which hosts the store");
      cmd.add_option("--master-port", c->master_port,
                     "With --nnodes: the port of node 0's store, 1..65535");
      c->timeout_opt =
          cmd.add_option("--dist-timeout", c->dist_timeout,
                         "Seconds a worker waits for the others (rendezvous, every step) before "
                         "failing (default 60)");
      cmd.add_flag("--json", c->json, "Print metrics.json on stdout instead of the book's lines");
      cmd.add_flag("-q,--quiet", c->quiet, "No per-epoch lines or progress bar");
      cmd.footer(
          d2l::data::search_order_help() + "\n\n" +
          "Exit codes: 0 done, 1 failure (training diverged or CUDA ran out of memory: the last "
          "sound checkpoint is kept), 2 bad input (or, on a GPU, a batch d2l fit predicts will "
          "not fit), 130 interrupted (Ctrl-C, SIGTERM, or a spot interruption notice: checkpoint "
          "saved). Under torchrun, mpirun or srun "
          "(RANK/WORLD_SIZE, OMPI_COMM_WORLD_*, SLURM_* with MASTER_ADDR and MASTER_PORT set) it "
          "joins their data-parallel run; --nproc N starts N such workers itself.");
      return [c]() { return run_train(*c); };
    }};

}  // namespace
