#include "d2l/train/trainer.h"

#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>

#include "d2l/core/progress.h"
#include "d2l/core/timer.h"
#include "d2l/train/distributed.h"
#include "d2l/train/evaluate.h"
#include "d2l/train/step.h"

namespace d2l {
namespace {

std::string device_name(const c10::Device& d) { return d.str(); }

void sync(const c10::Device& d) {
#ifdef D2L_HAS_CUDA
  if (d.is_cuda()) torch::cuda::synchronize(d.index());
#else
  (void)d;
#endif
}

extern "C" void on_stop_signal(int) {
  if (Trainer::stop_flag().load()) _exit(130);
  Trainer::request_stop();
}

}  // namespace

std::atomic<bool>& Trainer::stop_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}

void install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool to_channels_last(torch::nn::Module& net) {
  bool any = false;
  torch::NoGradGuard guard;
  for (auto& p : net.parameters()) {
    if (p.dim() != 4) continue;
    // empty_like gives explicit NHWC strides even where NCHW would also count as channels-last
    // contiguous (one input channel): oneDNN then picks its NHWC kernels for every layer.
    auto nhwc = at::empty_like(p.data(), p.options(), torch::MemoryFormat::ChannelsLast);
    nhwc.copy_(p.data());
    p.set_data(nhwc);
    any = true;
  }
  return any;
}

Trainer::Trainer(torch::nn::Sequential net, std::shared_ptr<torch::optim::Optimizer> opt,
                 TrainerOptions opts)
    : net_(std::move(net)), opt_(std::move(opt)), opts_(opts) {
  net_->to(opts_.device);
  bool has_conv = false;
  for (const auto& p : net_->parameters()) has_conv = has_conv || p.dim() == 4;
  const bool cuda = opts_.device.is_cuda();
  channels_last_ = opts_.channels_last.value_or(cuda) && has_conv;
  if (channels_last_) to_channels_last(*net_);
  // cuDNN's autotuner: the shapes repeat every step, so the first steps' search pays off.
  if (cuda && has_conv) at::globalContext().setBenchmarkCuDNN(true);
  StepOptions so;
  so.device = opts_.device;
  so.precision = opts_.precision;
  so.static_step = opts_.static_step.value_or(cuda) && !opts_.distributed;
  so.grad_clip = opts_.grad_clip;
  so.channels_last = channels_last_;
  so.check_divergence = opts_.stop_on_divergence;
  so.divergence_factor = opts_.divergence_factor;
  step_ = std::make_unique<TrainStep>(net_, opt_, so);
}

Trainer::~Trainer() = default;

std::string Trainer::describe_step() const { return step_->describe(); }

bool Trainer::graphed() const { return step_->graphed(); }

void Trainer::resume(const std::string& checkpoint_path) {
  state_ = load_checkpoint(checkpoint_path, net_, *opt_);
  step_->after_load();
}

void Trainer::save(const std::string& path) {
  step_->before_save();
  save_checkpoint(path, net_, *opt_, state_);
}

std::string Divergence::describe() const {
  char where[64];
  std::snprintf(where, sizeof where, "at epoch %lld, step %lld", static_cast<long long>(epoch),
                static_cast<long long>(step));
  char text[192];
  switch (kind) {
    case Kind::NaN:
      std::snprintf(text, sizeof text, "loss became NaN %s", where);
      break;
    case Kind::Infinite:
      std::snprintf(text, sizeof text, "loss became infinite %s", where);
      break;
    case Kind::Exploded:
      std::snprintf(text, sizeof text, "loss %.3g exceeded 1000 x the first step's (%.3g) %s", loss,
                    first_loss, where);
      break;
  }
  return text;
}

History Trainer::fit(const data::DataLoader& train, const data::DataLoader& test,
                     const History& meta) {
  stopped_ = false;
  divergence_.reset();
  History& h = state_.history;
  if (h.per_epoch.empty() && state_.epoch == 0 && state_.batch == 0) {
    h = meta;
    h.per_epoch.clear();
    h.points.clear();
    h.examples_seen = 0;
  }
  h.epochs = opts_.max_epochs;
  h.device = device_name(opts_.device);
  h.divergence.clear();
  const c10::Device dev = opts_.device;
  const std::int64_t num_batches = train.size();
  const std::int64_t every =
      std::max<std::int64_t>(1, num_batches / std::max<std::int64_t>(1, opts_.points_per_epoch));
  torch::nn::CrossEntropyLoss loss_fn;
  if (opts_.verbose) std::printf("training on %s\n", h.device.c_str());
  bool first_batch_seen = false;
  std::int64_t steps = 0;
  bool steps_done = false;
  Distributed* dist = opts_.distributed.get();
  if (dist) dist->broadcast_parameters(*net_);
  if (opts_.verbose && dev.is_cuda()) std::printf("step: %s\n", step_->describe().c_str());

  for (std::int64_t epoch = state_.epoch; epoch < opts_.max_epochs && !steps_done; ++epoch) {
    net_->train();
    const std::int64_t first = state_.batch;
    // The epoch's sums live on the device (TrainStep): a GPU is synchronised only at chart
    // points; the progress bar shows the last values that arrived without waiting.
    step_->begin_epoch(epoch * num_batches + first);
    double base_loss = state_.sum_loss, base_correct = state_.sum_correct;
    double examples = state_.sum_examples;
    double seconds_before = state_.seconds;
    ProgressBar bar(static_cast<std::size_t>(num_batches),
                    "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(opts_.max_epochs),
                    opts_.progress ? opts_.progress_stream : nullptr);
    Timer timer;
    double last_bar = -1;
    double cur_loss = 0, cur_acc = 0;
    auto it = train.epoch_begin(epoch, first);
    std::int64_t i = first;
    for (; it != train.end(); ++it, ++i) {
      if (!first_batch_seen) {
        first_batch_seen = true;
        h.first_batch_seconds = seconds_since_process_start();
      }
      double lr_now = 0;
      if (opts_.lr_at) {
        lr_now = opts_.lr_at(epoch * num_batches + i);
        step_->set_lr(lr_now);
      }
      double step_n = static_cast<double>(it->X.size(0));
      bool stop_now = false;
      if (dist) {
        auto X = it->X.to(dev, /*non_blocking=*/true);
        auto y = it->y.to(dev, /*non_blocking=*/true);
        if (channels_last_ && X.dim() == 4) X = X.contiguous(torch::MemoryFormat::ChannelsLast);
        opt_->zero_grad();
        const auto b = X.size(0);
        at::Tensor y_hat, l;
        dist->begin_step();
        dist->broadcast_buffers(*net_);
        if (b > 0) {  // a rank's part of a short last batch may be empty
          y_hat = net_->forward(X);
          l = loss_fn(y_hat, y);
          l.backward();
        }
        // The step's sums (loss x examples, correct) and examples: everyone's, from the same
        // round as the gradients.
        at::Tensor step_loss, step_correct;
        {
          torch::NoGradGuard ng;
          const double lb = b > 0 ? l.item<double>() * static_cast<double>(b) : 0.0;
          const double cb =
              b > 0 ? static_cast<double>(y_hat.argmax(1).eq(y).sum().item<std::int64_t>()) : 0.0;
          auto stats = torch::tensor({lb, cb, step_n, stop_flag().load() ? 1.0 : 0.0},
                                     torch::TensorOptions().dtype(torch::kDouble));
          auto g = dist->sync_gradients(net_->parameters(), step_n, stats);
          step_loss = g[0].to(dev);
          step_correct = g[1].to(torch::kLong).to(dev);
          step_n = g[2].item<double>();
          stop_now = g[3].item<double>() > 0;
        }
        if (opts_.grad_clip > 0)
          torch::nn::utils::clip_grad_norm_(net_->parameters(), opts_.grad_clip);
        opt_->step();
        dist->end_step();
        step_->record(step_loss, step_correct, step_loss / step_n);
      } else {
        step_->run(it->X, it->y);
      }
      ++steps;
      steps_done = opts_.max_steps && steps >= *opts_.max_steps;
      examples += step_n;
      const bool last = i == num_batches - 1 || steps_done;
      const bool point = (i + 1) % every == 0 || last;
      const double now = timer.elapsed();
      const bool draw = bar.active() && (now - last_bar > 0.1 || last);
      // Returns true (and records it) when a step so far diverged: reads the device.
      auto diverged = [&]() {
        const auto bad = step_->bad_step();
        if (!bad) return false;
        bar.finish();
        Divergence d;
        d.loss = bad->loss;
        d.first_loss = bad->first_loss;
        d.kind = std::isnan(d.loss)   ? Divergence::Kind::NaN
                 : std::isinf(d.loss) ? Divergence::Kind::Infinite
                                      : Divergence::Kind::Exploded;
        d.epoch = bad->index / num_batches + 1;
        d.step = bad->index % num_batches + 1;
        h.divergence = d.describe();
        divergence_ = d;
        return true;
      };
      // One process reads its flag where it stands; several act on the flags of the step's
      // round, the same on every rank.
      if (!dist) stop_now = stop_flag().load();
      if (point || on_batch_ || stop_now) {
        const auto sums = step_->sums();
        cur_loss = (base_loss + sums.loss) / examples;
        cur_acc = (base_correct + sums.correct) / examples;
        if (diverged()) return h;  // no checkpoint: the last one on disk predates the bad step
      } else if (draw) {
        // What has arrived from the device; never waits for it.
        const auto sums = step_->sums_nowait();
        const double seen = examples - state_.sum_examples;
        if (seen > 0 && sums.loss > 0) {
          cur_loss = (base_loss + sums.loss) / examples;
          cur_acc = (base_correct + sums.correct) / examples;
        }
      }
      if (point) {
        ChartPoint p{static_cast<double>(epoch) + static_cast<double>(i + 1) / num_batches,
                     cur_loss, cur_acc, std::nullopt, std::nullopt};
        if (opts_.lr_at) p.lr = lr_now;
        h.points.push_back(p);
        if (on_point_ && !last) on_point_(p);  // the epoch's last point waits for test acc
      }
      if (draw) {
        last_bar = now;
        const double eps = (examples - state_.sum_examples) / std::max(1e-9, now);
        char msg[96];
        std::snprintf(msg, sizeof msg, "loss %.3f acc %.3f %.0f ex/s", cur_loss, cur_acc, eps);
        bar.update(static_cast<std::size_t>(i + 1), msg);
      }
      if (on_batch_) on_batch_({epoch, i, num_batches, cur_loss, cur_acc});
      if (dist ? stop_now : stop_flag().load()) {  // on_batch_ may have asked to stop
        if (diverged()) return h;
        sync(dev);
        bar.finish();
        const auto sums = step_->sums();
        state_.epoch = epoch;
        state_.batch = i + 1;
        state_.sum_loss = base_loss + sums.loss;
        state_.sum_correct = base_correct + sums.correct;
        state_.sum_examples = examples;
        state_.seconds = seconds_before + timer.elapsed();
        if (!opts_.checkpoint.empty()) save(opts_.checkpoint);
        stopped_ = true;
        return h;
      }
      if (steps_done) break;
    }
    sync(dev);
    const double seconds = seconds_before + timer.elapsed();
    bar.finish();
    if (dist) dist->broadcast_buffers(*net_);
    const double test_acc = evaluate_accuracy(net_, test, dev, opts_.max_steps);
    const double epoch_examples = examples;
    EpochStats es{epoch + 1, cur_loss, cur_acc,
                  test_acc,  seconds,  seconds > 0 ? epoch_examples / seconds : 0};
    h.per_epoch.push_back(es);
    h.examples_seen += static_cast<std::int64_t>(epoch_examples);
    if (!h.points.empty()) {
      h.points.back().test_acc = test_acc;
      if (on_point_) on_point_(h.points.back());
    }
    state_ = TrainState{epoch + 1, 0, 0, 0, 0, 0, h};
    if (!opts_.checkpoint.empty()) save(opts_.checkpoint);
    if (opts_.epoch_lines) {
      std::printf(
          "epoch %lld/%lld: loss %.3f, train acc %.3f, test acc %.3f, %.1f examples/sec, %s\n",
          static_cast<long long>(epoch + 1), static_cast<long long>(opts_.max_epochs), es.loss,
          es.train_acc, es.test_acc, es.examples_per_sec, format_duration(es.seconds).c_str());
      std::fflush(stdout);
    }
    if (on_epoch_) on_epoch_(es, h);
  }
  if (opts_.verbose && !h.per_epoch.empty()) {
    std::printf("loss %.3f, train acc %.3f, test acc %.3f\n", h.loss(), h.train_acc(),
                h.test_acc());
    std::printf("%.1f examples/sec on %s\n", h.examples_per_sec(), h.device.c_str());
    std::fflush(stdout);
  }
  return h;
}

}  // namespace d2l
