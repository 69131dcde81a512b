#include "d2l/train/run.h"

#include <sched.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "d2l/cloud/imds.h"
#include "d2l/core/atomic_file.h"
#include "d2l/core/device.h"
#include "d2l/core/error.h"
#include "d2l/core/timer.h"
#include "d2l/core/torch_error.h"
#include "d2l/data/loader.h"
#include "d2l/data/registry.h"
#include "d2l/data/synthetic.h"
#include "d2l/models/linear.h"
#include "d2l/models/registry.h"
#include "d2l/train/visualize.h"
#include "d2l/viz/animator.h"

namespace fs = std::filesystem;

namespace d2l {
namespace {

constexpr std::int64_t kMaxResize = 4096;
constexpr std::int64_t kMaxThreads = 4096;

std::string fmt_number(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

void check_at_least_one(const std::optional<std::int64_t>& v, const char* flag) {
  if (v && *v < 1)
    throw bad_input(std::string(flag) + " must be at least 1, got " + std::to_string(*v));
}

void check_options(const RunOptions& o) {
  if (o.lr && !(std::isfinite(*o.lr) && *o.lr > 0))
    throw bad_input("--lr must be a finite number > 0, got " + fmt_number(*o.lr));
  if (o.grad_clip && !(std::isfinite(*o.grad_clip) && *o.grad_clip >= 0))
    throw bad_input("--grad-clip must be a finite number >= 0 (0: off), got " +
                    fmt_number(*o.grad_clip));
  check_at_least_one(o.epochs, "--epochs");
  check_at_least_one(o.batch_size, "--batch-size");
  check_at_least_one(o.max_steps, "--max-steps");
  check_at_least_one(o.threads, "--threads");
  if (o.threads && *o.threads > kMaxThreads)
    throw bad_input("--threads must be at most " + std::to_string(kMaxThreads) + ", got " +
                    std::to_string(*o.threads));
  check_at_least_one(o.step_epochs, "--step-epochs");
  if (o.distributed && !(std::isfinite(o.distributed->timeout_s) && o.distributed->timeout_s > 0))
    throw bad_input("--dist-timeout must be a finite number of seconds > 0, got " +
                    fmt_number(o.distributed->timeout_s));
  if (o.momentum && !(*o.momentum >= 0 && *o.momentum < 1))
    throw bad_input("--momentum must be in [0, 1), got " + fmt_number(*o.momentum));
  if (o.weight_decay && !(std::isfinite(*o.weight_decay) && *o.weight_decay >= 0))
    throw bad_input("--weight-decay must be a finite number >= 0, got " +
                    fmt_number(*o.weight_decay));
  if (o.gamma && !(std::isfinite(*o.gamma) && *o.gamma > 0))
    throw bad_input("--gamma must be a finite number > 0, got " + fmt_number(*o.gamma));
  if (o.resize && (*o.resize < 1 || *o.resize > kMaxResize))
    throw bad_input("--resize must be between 1 and " + std::to_string(kMaxResize) + ", got " +
                    std::to_string(*o.resize));
}

// LibTorch's own default here is one intra-op thread (it counts physical cores). Measured
// (docs/BENCHMARKS.md, "Threads"): at the book's 96-224 pixel sizes a convolutional network
// trains 1.6-1.8x faster on both of this machine's CPUs, while the 28 x 28 networks (LeNet, the
// MLP) are bound by per-operation overhead and train slower with two. So a network with
// convolutions on images of kMinPixelsForThreads or more gets every CPU this process may run
// on, unless --threads or OMP_NUM_THREADS (set by `--nproc`'s launcher for its workers) says
// otherwise; 0: LibTorch's default.
constexpr std::int64_t kMinPixelsForThreads = 64 * 64;

int default_threads(torch::nn::Module& net, std::int64_t size) {
  if (std::getenv("OMP_NUM_THREADS") || size * size < kMinPixelsForThreads) return 0;
  bool conv = false;
  for (const auto& p : net.parameters()) conv = conv || p.dim() == 4;
  if (!conv) return 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
  return static_cast<int>(std::thread::hardware_concurrency());
}

std::string default_out(const std::string& model) {
  char stamp[32];
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  return "runs/" + model + "-" + stamp;
}

void make_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw Error("--out " + dir +
                ": cannot create: " + (ec ? ec.message() : std::string("not a folder")));
}

void write_metrics(const std::string& dir, const History& h) {
  write_file_atomic(dir + "/metrics.json", h.to_json());
  write_file_atomic(dir + "/metrics.csv", h.to_csv());
}

RunResult train_linreg(const RunPlan& p, const RunOptions& o) {
  torch::manual_seed(p.seed);
  auto true_w = torch::tensor({2.0, -3.4});
  const double true_b = 4.2;
  const std::int64_t n = 1000;
  auto [features, labels] = data::synthetic_data(true_w, true_b, n);
  auto w = torch::normal(0, 0.01, {2, 1}).requires_grad_(true);
  auto b = torch::zeros({1}).requires_grad_(true);
  RunResult r;
  History& h = r.history;
  h.model = "linreg";
  h.dataset = "synthetic";
  h.device = "cpu";
  h.epochs = p.epochs;
  h.batch_size = p.batch_size;
  h.lr = p.lr;
  h.seed = p.seed;
  Timer timer;
  std::int64_t steps = 0;
  double first_loss = -1;
  for (std::int64_t epoch = 0; epoch < p.epochs; ++epoch) {
    timer.start();
    for (auto& [X, y] : data::data_iter(p.batch_size, features, labels)) {
      auto l = squared_loss(linreg(X, w, b), y);
      l.sum().backward();
      sgd({w, b}, p.lr, p.batch_size);
      if (p.max_steps && ++steps >= *p.max_steps) break;
    }
    const double secs = timer.stop();
    torch::NoGradGuard g;
    const double train_l = squared_loss(linreg(features, w, b), labels).mean().item<double>();
    if (first_loss < 0) first_loss = train_l;
    h.per_epoch.push_back({epoch + 1, train_l, 0, 0, secs, static_cast<double>(n) / secs});
    h.points.push_back({static_cast<double>(epoch + 1), train_l, 0, std::nullopt, std::nullopt});
    h.examples_seen += n;
    if (o.verbose) std::printf("epoch %lld, loss %f\n", static_cast<long long>(epoch + 1), train_l);
    if (o.stop_on_divergence && (!std::isfinite(train_l) || train_l > 1e3 * first_loss)) {
      Divergence d;
      d.kind = std::isnan(train_l)   ? Divergence::Kind::NaN
               : std::isinf(train_l) ? Divergence::Kind::Infinite
                                     : Divergence::Kind::Exploded;
      d.epoch = epoch + 1;
      d.step = (n + p.batch_size - 1) / p.batch_size;
      d.loss = train_l;
      d.first_loss = first_loss;
      h.divergence = d.describe();
      r.divergence = d;
      r.status = RunStatus::Diverged;
      break;
    }
    if (p.max_steps && steps >= *p.max_steps) break;
  }
  if (o.verbose && r.status == RunStatus::Finished) {
    const auto dw = (true_w - w.detach().reshape(true_w.sizes()));
    std::printf("error in estimating w: [%g, %g]\nerror in estimating b: %g\n",
                dw[0].item<double>(), dw[1].item<double>(), true_b - b.detach().item<double>());
  }
  if (!p.out.empty()) {
    make_dir(p.out);
    write_metrics(p.out, h);
    r.out = p.out;
    r.written = {"metrics.json", "metrics.csv"};
  }
  return r;
}

}  // namespace

std::string RunPlan::to_json() const {
  nlohmann::json j = {{"model", model},
                      {"data", data},
                      {"data_dir", data_dir},
                      {"device", device},
                      {"out", out},
                      {"plot", plot},
                      {"epochs", epochs},
                      {"batch_size", batch_size},
                      {"lr", lr},
                      {"resize", resize},
                      {"seed", seed},
                      {"grad_clip", grad_clip},
                      {"threads", threads},
                      {"resume", checkpoint_in}};
  j["optimizer"] = {{"name", to_string(optimizer.kind)},
                    {"momentum", optimizer.momentum},
                    {"weight_decay", optimizer.weight_decay},
                    {"nesterov", optimizer.nesterov}};
  j["schedule"] = {{"name", to_string(schedule.kind)},
                   {"step_epochs", schedule.step_epochs},
                   {"gamma", schedule.gamma}};
  j["augment"] = augment.to_string();
  j["precision"] = to_string(precision);
  j["cuda_graphs"] = cuda_graphs;
  j["max_steps"] = max_steps ? nlohmann::json(*max_steps) : nlohmann::json(nullptr);
  if (!checkpoint_in.empty()) j["resume_at"] = {{"epoch", resumed.epoch}, {"batch", resumed.batch}};
  return j.dump(2) + "\n";
}

RunPlan plan_run(const RunOptions& o) {
  check_options(o);
  RunPlan p;
  p.model = o.model;
  p.data = o.data;
  p.data_dir = o.data_dir;
  p.device = o.device;
  p.out = o.out;
  p.plot = o.plot;
  p.max_steps = o.max_steps;
  p.threads = o.threads.value_or(0);
  const History* prior = nullptr;
  if (!o.resume.empty()) {
    p.checkpoint_in = fs::is_directory(o.resume) ? o.resume + "/checkpoint.pt" : o.resume;
    if (!fs::exists(p.checkpoint_in))
      throw bad_input("--resume " + o.resume + ": no checkpoint.pt there");
    p.resumed = read_checkpoint_state(p.checkpoint_in);
    prior = &p.resumed.history;
    if (!o.model.empty() && o.model != prior->model)
      throw bad_input("--resume " + o.resume + ": checkpoint is of model " + prior->model +
                      ", not " + o.model);
    p.model = prior->model;
    if (!o.data.empty() && o.data != prior->dataset)
      throw bad_input("--resume " + o.resume + ": checkpoint is on " + prior->dataset + ", not " +
                      o.data);
    p.data = prior->dataset;
    if (o.resize && prior->resize != 0 && *o.resize != prior->resize)
      throw bad_input("--resume " + o.resume + ": checkpoint's network takes images of " +
                      std::to_string(prior->resize) + " pixels, not --resize " +
                      std::to_string(*o.resize));
    if (o.seed && *o.seed != prior->seed)
      throw bad_input("--resume " + o.resume + ": the run's seed is " +
                      std::to_string(prior->seed) + "; --seed " + std::to_string(*o.seed) +
                      " would not continue it");
    if (p.out.empty())
      p.out = fs::is_directory(o.resume) ? o.resume : fs::path(o.resume).parent_path().string();
  }
  if (p.model.empty()) throw bad_input("train: name a MODEL (see d2l train --list)");
  const ModelSpec& spec = model_spec(p.model);
  // A user's value first, then the checkpoint's, then the book's.
  p.epochs = o.epochs ? *o.epochs : prior ? prior->epochs : spec.epochs;
  p.batch_size = o.batch_size ? *o.batch_size : prior ? prior->batch_size : spec.batch_size;
  p.lr = o.lr ? *o.lr : prior ? prior->lr : spec.lr;
  p.seed = prior ? prior->seed : o.seed.value_or(42);
  p.grad_clip = o.grad_clip ? *o.grad_clip : prior ? prior->grad_clip : 0;
  p.resize = o.resize ? *o.resize : prior ? prior->resize : spec.resize;
  p.optimizer.kind = o.optimizer ? *o.optimizer
                     : prior     ? parse_optimizer(prior->optimizer)
                                 : OptimizerKind::SGD;
  p.optimizer.lr = p.lr;
  p.optimizer.momentum = o.momentum ? *o.momentum : prior ? prior->momentum : 0;
  p.optimizer.weight_decay = o.weight_decay ? *o.weight_decay : prior ? prior->weight_decay : 0;
  p.optimizer.nesterov = o.nesterov ? *o.nesterov : prior ? prior->nesterov : false;
  if (p.optimizer.nesterov && p.optimizer.momentum <= 0)
    throw bad_input("--nesterov needs --momentum > 0");
  if (p.optimizer.kind != OptimizerKind::SGD && (p.optimizer.momentum > 0 || p.optimizer.nesterov))
    throw bad_input("--momentum and --nesterov are for --optimizer sgd");
  if (prior && o.optimizer && *o.optimizer != parse_optimizer(prior->optimizer))
    throw bad_input("--resume " + o.resume + ": the run trains with --optimizer " +
                    prior->optimizer + "; its state cannot go on as " + to_string(*o.optimizer));
  p.schedule.kind = o.schedule ? *o.schedule
                    : prior    ? parse_schedule(prior->schedule)
                               : ScheduleKind::Constant;
  p.schedule.step_epochs = o.step_epochs ? *o.step_epochs : prior ? prior->step_epochs : 1;
  p.schedule.gamma = o.gamma ? *o.gamma : prior ? prior->gamma : 0.1;
  const std::int64_t world = o.distributed ? o.distributed->world_size : 1;
  if (world > 1 && spec.name == "linreg")
    throw bad_input(
        "train linreg runs in one process; --nproc and the launchers' variables are "
        "for the image models");
  if (p.batch_size < world)
    throw bad_input("--batch-size " + std::to_string(p.batch_size) +
                    " is the global batch and must be at least the number of processes (" +
                    std::to_string(world) + ")");
  if (spec.name == "linreg") {
    if (!o.augment.empty() && o.augment != "none")
      throw bad_input("--augment is for the image models, not linreg");
    p.data = "synthetic";
    p.resize = 0;
    return p;
  }
  if (p.data.empty()) p.data = spec.dataset;
  data::dataset_info(p.data);  // validates the name
  // The augmentation: the user's, the checkpoint's, else the book's (14.1 flips CIFAR-10's
  // training images for resnet18; chapter 8 trains on Fashion-MNIST as it is).
  p.augment = !o.augment.empty() ? data::parse_augment(o.augment)
              : prior            ? data::parse_augment(prior->augment, "--resume's augment")
              : spec.name == "resnet18" && p.data == "cifar10" ? data::parse_augment("flip")
                                                               : data::Augment{};
  if (prior && !o.augment.empty() && p.augment.to_string() != prior->augment)
    throw bad_input("--resume " + o.resume + ": the run trains with --augment " + prior->augment +
                    ", not " + p.augment.to_string());
  if (p.augment.normalize) data::dataset_mean_std(p.data);  // one known for this data set
  p.precision = o.precision ? *o.precision
                : prior     ? parse_precision(prior->precision)
                            : Precision::FP32;
  p.cuda_graphs = o.cuda_graphs;
  if (p.precision != Precision::FP32) check_precision(p.precision, parse_device(p.device));
  if (p.resumed.epoch >= p.epochs && p.resumed.batch == 0 && !p.checkpoint_in.empty())
    throw bad_input("--resume " + o.resume + ": already trained " +
                    std::to_string(p.resumed.epoch) + " epochs; pass --epochs N with N > " +
                    std::to_string(p.resumed.epoch) + " to go on");
  if (p.out.empty()) p.out = default_out(p.model);
  if (p.plot.empty()) p.plot = p.out + "/training.png";
  return p;
}

RunResult train_run(const RunPlan& p, const RunOptions& given) {
  c10::Device device = parse_device(p.device);
  if (p.threads > 0) torch::set_num_threads(static_cast<int>(p.threads));
  if (p.model == "linreg") return train_linreg(p, given);
  const auto& info = data::dataset_info(p.data);
  std::shared_ptr<Distributed> dist;
  // A group of one too under a launcher that hosts the store (`--nproc 1`, torchrun): the same
  // code path as N (on a GPU: NCCL); not for a lone srun task (SLURM_NTASKS=1) or a bare RANK.
  if (given.distributed && (given.distributed->world_size > 1 || given.distributed->agent_store)) {
    if (device.is_cuda() && !device.has_index())
      device =
          c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(given.distributed->local_rank));
    dist = std::make_shared<Distributed>(*given.distributed, device);
  }
  // Only rank 0 prints, draws and writes the run folder.
  const bool main_rank = !dist || dist->is_main();
  RunOptions o = given;
  if (!main_rank) {
    o.verbose = false;
    o.progress = false;
    o.terminal_chart = false;
  }
  if (main_rank) make_dir(p.out);

  torch::manual_seed(p.seed);
  data::DataOptions dopts;
  dopts.data_dir = p.data_dir;
  dopts.download = o.download;
  dopts.seed = p.seed;
  dopts.prefetch = o.prefetch;
  dopts.augment = p.augment;
  auto [train_iter, test_iter] = data::load_data(p.data, p.batch_size, p.resize, dopts);
  if (dist) {  // this rank's part of every batch
    auto lo = train_iter.options();
    lo.shard_index = dist->rank();
    lo.shard_count = dist->world_size();
    train_iter = data::DataLoader(train_iter.images(), train_iter.labels(), lo);
  }
  if (!device.is_cpu()) {  // keep the whole data set on the GPU: batches never cross the bus
    // Evaluation needs no gradients: larger batches, fewer launches.
    auto lo = test_iter.options();
    lo.batch_size = std::max<std::int64_t>(lo.batch_size, 1024);
    test_iter = data::DataLoader(test_iter.images(), test_iter.labels(), lo);
    train_iter.to(device);
    test_iter.to(device);
  }
  const std::int64_t size = p.resize > 0 ? p.resize : info.height;
  auto net =
      make_model(p.model, info.channels, size, static_cast<std::int64_t>(info.classes.size()));
  net->to(device);
  if (p.threads == 0 && device.is_cpu())
    if (const int t = default_threads(*net, size); t > 0) torch::set_num_threads(t);
  auto opt = make_optimizer(net->parameters(), p.optimizer);
  const bool scheduled = p.schedule.kind != ScheduleKind::Constant;

  // The book's chart: a file redrawn at every point, and live on a terminal.
  AnimatorOptions aopts;
  aopts.xlabel = "epoch";
  aopts.legend = {"train loss", "train acc", "test acc"};
  if (scheduled) aopts.legend.push_back("lr / max");
  aopts.xlim = viz::Range{1, static_cast<double>(p.epochs)};
  aopts.path = main_rank ? p.plot : std::string();
  aopts.terminal = o.terminal_chart;
  Animator animator(aopts);

  TrainerOptions topts;
  topts.max_epochs = p.epochs;
  topts.device = device;
  topts.grad_clip = p.grad_clip;
  topts.verbose = o.verbose;
  topts.progress = o.progress;
  if (dist) topts.progress_stream = progress_stream();  // the launcher's terminal, for rank 0
  topts.epoch_lines = o.progress && !animator.live();   // the live chart shows them
  topts.checkpoint = main_rank ? p.out + "/checkpoint.pt" : std::string();
  topts.distributed = dist;
  topts.max_steps = p.max_steps;
  topts.stop_on_divergence = o.stop_on_divergence;
  topts.precision = p.precision;
  if (!p.cuda_graphs) topts.static_step = false;
  if (scheduled) {
    const std::int64_t per_epoch = train_iter.size();
    std::int64_t total = per_epoch * p.epochs;
    if (p.max_steps) total = std::min(total, *p.max_steps);
    topts.lr_at = [s = p.schedule, lr = p.lr, per_epoch, total](std::int64_t step) {
      return scheduled_lr(s, lr, step, per_epoch, total);
    };
  }
  Trainer trainer(net, opt, topts);
  if (!p.checkpoint_in.empty()) {
    trainer.resume(p.checkpoint_in);
  }
  auto draw = [&](const ChartPoint& pt) {
    std::vector<std::optional<double>> ys = {pt.loss, pt.train_acc, pt.test_acc};
    if (scheduled) ys.push_back(pt.lr ? std::optional<double>(*pt.lr / p.lr) : std::nullopt);
    animator.add(pt.x, ys);
  };
  for (const auto& pt : p.resumed.history.points) draw(pt);
  trainer.on_point(draw);
  if (main_rank)
    trainer.on_epoch([&](const EpochStats&, const History& h) { write_metrics(p.out, h); });
  History meta;
  meta.model = p.model;
  meta.dataset = p.data;
  meta.batch_size = p.batch_size;
  meta.lr = p.lr;
  meta.seed = p.seed;
  meta.resize = p.resize;
  meta.grad_clip = p.grad_clip;
  meta.optimizer = to_string(p.optimizer.kind);
  meta.momentum = p.optimizer.momentum;
  meta.weight_decay = p.optimizer.weight_decay;
  meta.nesterov = p.optimizer.nesterov;
  meta.schedule = to_string(p.schedule.kind);
  meta.step_epochs = p.schedule.step_epochs;
  meta.gamma = p.schedule.gamma;
  meta.augment = p.augment.to_string();
  meta.precision = to_string(p.precision);
  RunResult r;
  r.out = p.out;
  {
    // On an EC2 spot instance, AWS's two-minute interruption notice stops the run as Ctrl-C
    // does: the checkpoint is written after the current batch (one watcher a machine).
    auto notice = std::make_shared<std::string>();
    std::unique_ptr<cloud::SpotWatcher> spot;
    if (o.spot_watch && (!o.distributed || o.distributed->local_rank == 0))
      spot = std::make_unique<cloud::SpotWatcher>([notice](const cloud::SpotNotice& n) {
        *notice = cloud::describe(n);
        std::fprintf(stderr, "\nd2l: %s: writing the checkpoint\n", notice->c_str());
        Trainer::request_stop();
      });
    r.history = trainer.fit(train_iter, test_iter, meta);
    spot.reset();  // joins the thread: `notice` is settled
    r.stopped_by = *notice;
  }
  // A resumed run keeps the settings it was asked to go on with.
  r.history.epochs = p.epochs;
  // Rank 0's timings: the allreduce's share of a step (a resumed run's are this run's alone).
  r.history.distributed.reset();
  if (dist) r.history.distributed = dist->timings();
  if (!main_rank) {  // the others' results are rank 0's; they write nothing
    r.status = trainer.divergence() ? RunStatus::Diverged
               : trainer.stopped()  ? RunStatus::Interrupted
                                    : RunStatus::Finished;
    r.divergence = trainer.divergence();
    return r;
  }
  write_metrics(p.out, r.history);
  r.written = {"metrics.json", "metrics.csv", "checkpoint.pt",
               fs::path(p.plot).parent_path() == fs::path(p.out)
                   ? fs::path(p.plot).filename().string()
                   : p.plot};
  if (animator.live()) animator.detach_terminal();
  if (trainer.divergence()) {
    r.status = RunStatus::Diverged;
    r.divergence = trainer.divergence();
    return r;
  }
  if (trainer.stopped()) {
    r.status = RunStatus::Interrupted;
    return r;
  }
  // The book's predict_ch3 and a confusion matrix of the test set.
  if (predict_ch3(trainer.net(), test_iter, device, 8, info.classes, p.out + "/predictions.png"))
    r.written.push_back("predictions.png");
  if (p.max_steps) return r;  // a smoke run: the confusion matrix would read the whole test set
  try {
    const auto counts =
        confusion_counts(trainer.net(), test_iter, device, static_cast<int>(info.classes.size()));
    if (viz::try_save_figure(make_confusion_figure(counts, info.classes), p.out + "/confusion.png"))
      r.written.push_back("confusion.png");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "d2l: warning: confusion matrix not drawn: %s\n",
                 error_message(e).c_str());
  }
  return r;
}

}  // namespace d2l
