// `d2l train MODEL`: trains a book model on a real data set.
#include <sys/stat.h>
#include <torch/torch.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>

#include "../common/command.h"
#include "d2l/d2l.h"

namespace fs = std::filesystem;

namespace {

struct TrainOpts {
  std::string model, data, data_dir, device = "auto", out, resume, plot;
  std::int64_t epochs = -1, batch_size = -1, resize = 0, threads = 0;
  double lr = -1, grad_clip = 0;
  std::uint64_t seed = 42;
  bool list = false, json = false, no_download = false, prefetch = false, quiet = false;
  bool no_chart = false;
};

void list_models(bool json) {
  if (json) {
    std::printf("[");
    bool first = true;
    for (const auto& m : d2l::model_specs()) {
      std::printf(
          "%s\n  {\"name\": \"%s\", \"dataset\": \"%s\", \"epochs\": %lld, \"lr\": %g, "
          "\"batch_size\": %lld, \"chapter\": \"%s\", \"description\": \"%s\"}",
          first ? "" : ",", m.name.c_str(), m.dataset.c_str(), static_cast<long long>(m.epochs),
          m.lr, static_cast<long long>(m.batch_size), m.chapter.c_str(), m.description.c_str());
      first = false;
    }
    std::printf("\n]\n");
    return;
  }
  std::printf("%-8s %-14s %6s %6s %6s  %s\n", "MODEL", "DATA", "EPOCHS", "LR", "BATCH",
              "DESCRIPTION");
  for (const auto& m : d2l::model_specs())
    std::printf("%-8s %-14s %6lld %6g %6lld  %s (book section %s)\n", m.name.c_str(),
                m.dataset.c_str(), static_cast<long long>(m.epochs), m.lr,
                static_cast<long long>(m.batch_size), m.description.c_str(), m.chapter.c_str());
  std::printf("data sets: fashion-mnist, mnist, cifar10\n");
}

std::string default_out(const std::string& model) {
  char stamp[32];
  const std::time_t t = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&t));
  return "runs/" + model + "-" + stamp;
}

void make_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw d2l::Error("--out " + dir + ": cannot create: " + ec.message());
}

void write_metrics(const std::string& dir, const d2l::History& h) {
  d2l::write_file_atomic(dir + "/metrics.json", h.to_json());
  d2l::write_file_atomic(dir + "/metrics.csv", h.to_csv());
}

int train_linreg(const TrainOpts& o, const d2l::ModelSpec& spec) {
  torch::manual_seed(o.seed);
  const auto epochs = o.epochs > 0 ? o.epochs : spec.epochs;
  const double lr = o.lr > 0 ? o.lr : spec.lr;
  const auto batch = o.batch_size > 0 ? o.batch_size : spec.batch_size;
  auto true_w = torch::tensor({2.0, -3.4});
  const double true_b = 4.2;
  auto [features, labels] = d2l::data::synthetic_data(true_w, true_b, 1000);
  auto w = torch::normal(0, 0.01, {2, 1}).requires_grad_(true);
  auto b = torch::zeros({1}).requires_grad_(true);
  d2l::History h;
  h.model = "linreg";
  h.dataset = "synthetic";
  h.device = "cpu";
  h.epochs = epochs;
  h.batch_size = batch;
  h.lr = lr;
  h.seed = o.seed;
  d2l::Timer timer;
  for (std::int64_t epoch = 0; epoch < epochs; ++epoch) {
    timer.start();
    for (auto& [X, y] : d2l::data::data_iter(batch, features, labels)) {
      auto l = d2l::squared_loss(d2l::linreg(X, w, b), y);
      l.sum().backward();
      d2l::sgd({w, b}, lr, batch);
    }
    const double secs = timer.stop();
    torch::NoGradGuard g;
    const double train_l =
        d2l::squared_loss(d2l::linreg(features, w, b), labels).mean().item<double>();
    h.per_epoch.push_back({epoch + 1, train_l, 0, 0, secs, 1000 / secs});
    h.points.push_back({static_cast<double>(epoch + 1), train_l, 0, std::nullopt});
    h.examples_seen += 1000;
    if (!o.json) std::printf("epoch %lld, loss %f\n", static_cast<long long>(epoch + 1), train_l);
  }
  const auto dw = (true_w - w.detach().reshape(true_w.sizes()));
  const double db = true_b - b.detach().item<double>();
  if (!o.json)
    std::printf("error in estimating w: [%g, %g]\nerror in estimating b: %g\n",
                dw[0].item<double>(), dw[1].item<double>(), db);
  if (!o.out.empty()) {
    make_dir(o.out);
    write_metrics(o.out, h);
  }
  if (o.json) std::fputs(h.to_json().c_str(), stdout);
  return 0;
}

int run_train(TrainOpts o) {
  if (o.list) {
    list_models(o.json);
    return 0;
  }
  // Validate flags before any work.
  if (o.lr != -1 && !(o.lr > 0))
    throw d2l::bad_input("--lr must be > 0, got " + std::to_string(o.lr));
  if (o.epochs != -1 && o.epochs < 1)
    throw d2l::bad_input("--epochs must be at least 1, got " + std::to_string(o.epochs));
  if (o.batch_size != -1 && o.batch_size < 1)
    throw d2l::bad_input("--batch-size must be at least 1, got " + std::to_string(o.batch_size));
  if (o.resize < 0 || o.resize > 4096)
    throw d2l::bad_input("--resize must be between 1 and 4096, got " + std::to_string(o.resize));
  if (o.threads < 0) throw d2l::bad_input("--threads must be at least 1");
  if (o.grad_clip < 0) throw d2l::bad_input("--grad-clip must be >= 0");
  const c10::Device device = d2l::parse_device(o.device);
  if (o.threads > 0) torch::set_num_threads(static_cast<int>(o.threads));

  d2l::TrainState resumed;
  std::string ckpt_in;
  if (!o.resume.empty()) {
    ckpt_in = fs::is_directory(o.resume) ? o.resume + "/checkpoint.pt" : o.resume;
    if (!fs::exists(ckpt_in))
      throw d2l::bad_input("--resume " + o.resume + ": no checkpoint.pt there");
    resumed = d2l::read_checkpoint_state(ckpt_in);
    const auto& rh = resumed.history;
    if (!o.model.empty() && o.model != rh.model)
      throw d2l::bad_input("--resume " + o.resume + ": checkpoint is of model " + rh.model +
                           ", not " + o.model);
    o.model = rh.model;
    if (!o.data.empty() && o.data != rh.dataset)
      throw d2l::bad_input("--resume " + o.resume + ": checkpoint is on " + rh.dataset + ", not " +
                           o.data);
    o.data = rh.dataset;
    if (o.lr == -1) o.lr = rh.lr;
    if (o.batch_size == -1) o.batch_size = rh.batch_size;
    if (o.epochs == -1) o.epochs = rh.epochs;
    o.seed = rh.seed;
    if (o.out.empty())
      o.out = fs::is_directory(o.resume) ? o.resume : fs::path(o.resume).parent_path().string();
  }
  if (o.model.empty()) throw d2l::bad_input("train: name a MODEL (see d2l train --list)");
  const d2l::ModelSpec& spec = d2l::model_spec(o.model);
  if (spec.name == "linreg") return train_linreg(o, spec);
  if (o.data.empty()) o.data = spec.dataset;
  const auto& info = d2l::data::dataset_info(o.data);
  const std::int64_t epochs = o.epochs > 0 ? o.epochs : spec.epochs;
  const double lr = o.lr > 0 ? o.lr : spec.lr;
  const std::int64_t batch = o.batch_size > 0 ? o.batch_size : spec.batch_size;
  if (resumed.epoch >= epochs && resumed.batch == 0)
    throw d2l::bad_input("--resume " + o.resume + ": already trained " +
                         std::to_string(resumed.epoch) + " epochs; pass --epochs N with N > " +
                         std::to_string(resumed.epoch) + " to go on");
  if (o.out.empty()) o.out = default_out(o.model);
  make_dir(o.out);

  torch::manual_seed(o.seed);
  d2l::data::DataOptions dopts;
  dopts.data_dir = o.data_dir;
  dopts.download = !o.no_download;
  dopts.seed = o.seed;
  dopts.prefetch = o.prefetch;
  auto [train_iter, test_iter] = d2l::data::load_data(o.data, batch, o.resize, dopts);
  if (!device.is_cpu()) {  // keep the whole data set on the GPU: batches never cross the bus
    train_iter.to(device);
    test_iter.to(device);
  }
  const std::int64_t size = o.resize > 0 ? o.resize : info.height;
  auto net =
      d2l::make_model(o.model, info.channels, size, static_cast<std::int64_t>(info.classes.size()));
  net->to(device);
  auto opt = std::make_shared<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(lr));

  // The book's chart: a file redrawn at every point, and live on a terminal.
  d2l::AnimatorOptions aopts;
  aopts.xlabel = "epoch";
  aopts.legend = {"train loss", "train acc", "test acc"};
  aopts.xlim = d2l::viz::Range{1, static_cast<double>(epochs)};
  aopts.path = o.plot.empty() ? o.out + "/training.png" : o.plot;
  aopts.terminal = !o.no_chart && !o.json && !o.quiet;
  d2l::Animator animator(aopts);

  d2l::TrainerOptions topts;
  topts.max_epochs = epochs;
  topts.device = device;
  topts.grad_clip = o.grad_clip;
  topts.verbose = !o.json;
  topts.progress = !o.json && !o.quiet;
  topts.epoch_lines = topts.progress && !animator.live();  // the live chart shows them
  topts.checkpoint = o.out + "/checkpoint.pt";
  d2l::Trainer trainer(net, opt, topts);
  if (!ckpt_in.empty()) {
    trainer.resume(ckpt_in);
    if (!o.json)
      std::printf("resuming %s from %s at epoch %lld, batch %lld\n", o.model.c_str(),
                  ckpt_in.c_str(), static_cast<long long>(resumed.epoch + 1),
                  static_cast<long long>(resumed.batch));
    for (const auto& p : resumed.history.points)
      animator.add(p.x, {p.loss, p.train_acc, p.test_acc});
  }
  trainer.on_point([&](const d2l::ChartPoint& p) {
    animator.add(p.x, {p.loss, p.train_acc, p.test_acc});
  });
  trainer.on_epoch([&](const d2l::EpochStats&, const d2l::History& h) { write_metrics(o.out, h); });
  d2l::History meta;
  meta.model = o.model;
  meta.dataset = o.data;
  meta.batch_size = batch;
  meta.lr = lr;
  meta.seed = o.seed;
  d2l::install_stop_signals();
  d2l::History h = trainer.fit(train_iter, test_iter, meta);
  write_metrics(o.out, h);
  if (animator.live()) animator.detach_terminal();
  if (trainer.stopped()) {
    std::fprintf(stderr,
                 "d2l: interrupted; checkpoint saved: continue with d2l train --resume %s\n",
                 o.out.c_str());
    return 130;
  }
  // The book's predict_ch3 and a confusion matrix of the test set.
  d2l::predict_ch3(trainer.net(), test_iter, device, 8, info.classes, o.out + "/predictions.png");
  try {
    const auto counts = d2l::confusion_counts(trainer.net(), test_iter, device,
                                              static_cast<int>(info.classes.size()));
    d2l::viz::try_save_figure(d2l::make_confusion_figure(counts, info.classes),
                              o.out + "/confusion.png");
  } catch (const std::exception& e) {
    std::string what = e.what();
    std::fprintf(stderr, "d2l: warning: confusion matrix not drawn: %s\n",
                 what.substr(0, what.find('\n')).c_str());
  }
  if (o.json) {
    std::fputs(h.to_json().c_str(), stdout);
  } else {
    std::printf(
        "wrote %s: metrics.json, metrics.csv, checkpoint.pt, %s, predictions.png, confusion.png\n",
        o.out.c_str(), o.plot.empty() ? "training.png" : o.plot.c_str());
  }
  return 0;
}

d2l::cli::Registrar reg{
    "train", "Train a book model on a real data set", [](CLI::App& cmd) {
      auto o = std::make_shared<TrainOpts>();
      cmd.add_option("model", o->model, "linreg, softmax, mlp or lenet (see --list)");
      cmd.add_flag("--list", o->list, "List the models with the book's defaults");
      cmd.add_option("--data", o->data, "fashion-mnist, mnist or cifar10 (default: the model's)");
      cmd.add_option("--data-dir", o->data_dir,
                     "Folder with the data set's files (searched first)");
      cmd.add_option("--epochs", o->epochs, "Epochs (default: the book's)");
      cmd.add_option("--batch-size", o->batch_size, "Mini-batch size (default: the book's)");
      cmd.add_option("--lr", o->lr, "Learning rate (default: the book's)");
      cmd.add_option("--resize", o->resize, "Resize images to N x N (bilinear)");
      cmd.add_option("--device", o->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
      cmd.add_option("--seed", o->seed, "Random seed (weights, shuffling)")->capture_default_str();
      cmd.add_option("--threads", o->threads, "LibTorch threads (default: LibTorch's)");
      cmd.add_option("--grad-clip", o->grad_clip, "Clip gradients' norm to this (0: off)");
      cmd.add_option("--out", o->out,
                     "Output folder: metrics.json, metrics.csv, checkpoint.pt "
                     "(default runs/MODEL-TIME)");
      cmd.add_option("--resume", o->resume, "Continue the run in this folder (or checkpoint file)");
      cmd.add_option("--plot", o->plot,
                     "The training chart's file (.png .svg .pdf; default OUT/training.png)");
      cmd.add_flag("--no-chart", o->no_chart, "No live chart in the terminal");
      cmd.add_flag("--prefetch", o->prefetch, "Build the next batch on a background thread");
      cmd.add_flag("--no-download", o->no_download, "Never download a missing data set");
      cmd.add_flag("--json", o->json, "Print metrics.json on stdout instead of the book's lines");
      cmd.add_flag("-q,--quiet", o->quiet, "No per-epoch lines or progress bar");
      cmd.footer("Exit codes: 0 done, 1 failure, 2 bad input, 130 interrupted (checkpoint saved).");
      return [o]() { return run_train(*o); };
    }};

}  // namespace
