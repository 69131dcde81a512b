// `d2l bench train MODEL` and `d2l bench loader`: the training step and the data loader, timed
// like torch.utils.benchmark (warm-up, repeats, median and interquartile range).
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "bench_registry.h"
#include "d2l/d2l.h"

namespace {

struct Opts {
  d2l::cli::CommonBenchOptions common;
  std::string model, data, data_dir, device = "auto";
  std::int64_t batch_size = 256, resize = 0, threads = 0;
  bool prefetch = false, no_cuda_graphs = false;
  std::string precision = "fp32";
};

void sync(const c10::Device& d) {
  if (d.is_cuda()) torch::cuda::synchronize(d.index());
}

void add_data_options(CLI::App& cmd, Opts& o) {
  cmd.add_option("--data", o.data, "fashion-mnist, mnist or cifar10 (default: the model's)");
  cmd.add_option("--data-dir", o.data_dir, "Folder with the data set's files");
  cmd.add_option("--batch-size", o.batch_size, "Mini-batch size")->capture_default_str();
  cmd.add_option("--resize", o.resize, "Resize images to N x N (train: default the book's)");
}

void report(const Opts& o, const std::string& what, const d2l::sys::BenchStats& s, double examples,
            const std::string& unit, const nlohmann::json& extra) {
  const double rate = s.median > 0 ? examples / s.median : 0;
  if (o.common.json) {
    nlohmann::json j = extra;
    j["bench"] = what;
    j["median_seconds"] = s.median;
    j["iqr_seconds"] = s.iqr();
    j["repeats"] = s.repeats;
    j[unit + "_per_sec"] = rate;
    j["steps_per_sec"] = s.median > 0 ? 1.0 / s.median : 0;
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("%s: median %s (IQR %s, %zu runs): %.1f steps/s, %.0f %s/s\n", what.c_str(),
              d2l::sys::format_seconds(s.median).c_str(), d2l::sys::format_seconds(s.iqr()).c_str(),
              s.repeats, s.median > 0 ? 1.0 / s.median : 0, rate, unit.c_str());
}

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int run_train_bench(Opts o) {
  if (o.threads < 0 || o.threads > 4096)
    throw d2l::bad_input("--threads must be between 1 and 4096, got " + std::to_string(o.threads));
  if (o.threads > 0) torch::set_num_threads(static_cast<int>(o.threads));
  const auto& spec = d2l::model_spec(o.model);
  if (spec.name == "linreg")
    throw d2l::bad_input("bench train: linreg has no image data; use softmax, mlp or lenet");
  if (o.batch_size < 1) throw d2l::bad_input("--batch-size must be at least 1");
  if (o.data.empty()) o.data = spec.dataset;
  if (o.resize == 0) o.resize = spec.resize;  // the book's input size for the model
  const c10::Device device = d2l::parse_device(o.device);
  const auto& info = d2l::data::dataset_info(o.data);
  d2l::data::DataOptions dopts;
  dopts.data_dir = o.data_dir;
  auto [train, test] = d2l::data::load_data(o.data, o.batch_size, o.resize, dopts);
  const auto batch = *train.begin();
  auto X = batch.X.to(device), y = batch.y.to(device);
  auto net = d2l::make_model(o.model, info.channels, o.resize > 0 ? o.resize : info.height,
                             static_cast<std::int64_t>(info.classes.size()));
  net->to(device);
  // The step d2l train runs: its precision, and on CUDA its captured graph.
  auto opt =
      std::make_shared<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(spec.lr));
  bool has_conv = false;
  for (const auto& p : net->parameters()) has_conv = has_conv || p.dim() == 4;
  if (device.is_cuda() && has_conv) at::globalContext().setBenchmarkCuDNN(true);
  d2l::StepOptions so;
  so.device = device;
  so.precision = d2l::parse_precision(o.precision);
  so.static_step = device.is_cuda() && !o.no_cuda_graphs;
  so.channels_last = device.is_cuda() && has_conv;
  so.check_divergence = false;
  so.batch_size = X.size(0);
  if (so.channels_last) d2l::to_channels_last(*net);
  d2l::TrainStep step(net, opt, so);
  step.begin_epoch(0);
  auto stats = d2l::sys::run_bench(
      [&] {
        step.run(X, y);
        sync(device);
      },
      o.common.timing);
  // Sustained: steps queued back to back, one synchronisation at the end (as d2l train runs).
  const std::size_t n_sustained = std::max<std::size_t>(10, stats.repeats);
  sync(device);
  d2l::Timer sustained_timer;
  for (std::size_t k = 0; k < n_sustained; ++k) step.run(X, y);
  sync(device);
  const double sustained = sustained_timer.stop() / static_cast<double>(n_sustained);
  const auto gpu = d2l::gpu_seconds_per_step(step, X, y);
  torch::optim::SGD& plain = *opt;
  torch::nn::CrossEntropyLoss loss;
  // Where the time goes: the step's phases timed apart, as many times as the step was.
  std::vector<double> fwd, bwd, upd;
  for (std::size_t r = 0; r < std::max<std::size_t>(1, stats.repeats); ++r) {
    d2l::Timer t;
    plain.zero_grad();
    const auto Xin = so.channels_last ? X.contiguous(at::MemoryFormat::ChannelsLast) : X;
    auto l = loss(net->forward(Xin), y);
    sync(device);
    fwd.push_back(t.stop());
    t.start();
    l.backward();
    sync(device);
    bwd.push_back(t.stop());
    t.start();
    plain.step();
    sync(device);
    upd.push_back(t.stop());
  }
  const double f = median_of(fwd), b = median_of(bwd), u = median_of(upd);
  nlohmann::json extra = {
      {"model", o.model},
      {"device", device.str()},
      {"batch_size", X.size(0)},
      {"resize", o.resize},
      {"threads", torch::get_num_threads()},
      {"precision", o.precision},
      {"cuda_graphs", step.graphed()},
      {"sustained_seconds_per_step", sustained},
      {"sustained_examples_per_sec",
       sustained > 0 ? static_cast<double>(X.size(0)) / sustained : 0},
      {"phases_median_seconds", {{"forward", f}, {"backward", b}, {"step", u}}}};
  extra["gpu_seconds_per_step"] = gpu ? nlohmann::json(*gpu) : nlohmann::json(nullptr);
  extra["gpu_busy"] = gpu && sustained > 0 ? nlohmann::json(std::min(1.0, *gpu / sustained))
                                           : nlohmann::json(nullptr);
  report(o, "train " + o.model + " on " + device.str() + " (" + step.describe() + ")", stats,
         static_cast<double>(X.size(0)), "examples", extra);
  if (!o.common.json) {
    std::printf("  sustained (no synchronisation per step): %s a step, %.0f examples/s\n",
                d2l::sys::format_seconds(sustained).c_str(),
                sustained > 0 ? static_cast<double>(X.size(0)) / sustained : 0);
    if (gpu)
      std::printf(
          "  GPU busy %.0f%% of the time (its own time %s a step): %s\n",
          100 * std::min(1.0, *gpu / sustained), d2l::sys::format_seconds(*gpu).c_str(),
          *gpu / sustained > 0.8 ? "compute-bound" : "launch-bound (the host feeds it too slowly)");
  }
  if (!o.common.json)
    std::printf(
        "  where the time goes: forward+loss %s (%.0f%%), backward %s (%.0f%%), "
        "optimiser step %s (%.0f%%)\n",
        d2l::sys::format_seconds(f).c_str(), 100 * f / std::max(1e-12, f + b + u),
        d2l::sys::format_seconds(b).c_str(), 100 * b / std::max(1e-12, f + b + u),
        d2l::sys::format_seconds(u).c_str(), 100 * u / std::max(1e-12, f + b + u));
  return 0;
}

int run_loader_bench(Opts o) {
  if (o.data.empty()) o.data = "fashion-mnist";
  d2l::data::DataOptions dopts;
  dopts.data_dir = o.data_dir;
  dopts.prefetch = o.prefetch;
  auto [train, test] = d2l::data::load_data(o.data, o.batch_size, o.resize, dopts);
  // One timed run = one epoch of the training data, as the book's loader timing does.
  std::int64_t n = 0;
  auto stats = d2l::sys::run_bench(
      [&] {
        n = 0;
        for (const auto& b : train) n += b.X.size(0);
      },
      o.common.timing);
  report(
      o,
      "loader " + o.data + (o.resize ? " resized to " + std::to_string(o.resize) : std::string()),
      stats, static_cast<double>(n), "images",
      {{"data", o.data},
       {"resize", o.resize},
       {"batch_size", o.batch_size},
       {"images", n},
       {"prefetch", o.prefetch}});
  return 0;
}

d2l::cli::BenchRegistrar train_reg{
    "train", "Training steps of a book model: steps/s and examples/s", [](CLI::App& cmd) {
      auto o = std::make_shared<Opts>();
      o->common.timing.warmup = 3;
      o->common.timing.repeats = 30;
      cmd.add_option("model", o->model, "A model of d2l train --list (lenet, resnet, ...)")
          ->required();
      add_data_options(cmd, *o);
      cmd.add_option("--threads", o->threads, "LibTorch threads, >= 1 (default: LibTorch's)");
      cmd.add_option("--device", o->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
      cmd.add_option("--precision", o->precision, "fp32, tf32, bf16 or fp16, as d2l train")
          ->capture_default_str();
      cmd.add_flag("--no-cuda-graphs", o->no_cuda_graphs, "On CUDA, time the eager step");
      d2l::cli::add_bench_options(cmd, o->common);
      return [o]() { return run_train_bench(*o); };
    }};

d2l::cli::BenchRegistrar loader_reg{
    "loader", "One epoch of a data set's training batches: images/s", [](CLI::App& cmd) {
      auto o = std::make_shared<Opts>();
      o->common.timing.warmup = 1;
      o->common.timing.repeats = 3;
      add_data_options(cmd, *o);
      cmd.add_flag("--prefetch", o->prefetch, "Build the next batch on a background thread");
      d2l::cli::add_bench_options(cmd, o->common);
      return [o]() { return run_loader_bench(*o); };
    }};

}  // namespace
