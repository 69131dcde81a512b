#include "d2l/train/optim.h"

#include <torch/torch.h>

#include <cmath>

#include "d2l/core/error.h"

namespace d2l {
namespace {
constexpr double kPi = 3.14159265358979323846;
constexpr double kOneCycleWarmup = 0.3;  // share of the steps spent rising
constexpr double kOneCycleStart = 25;    // lr / this at the start
constexpr double kOneCycleEnd = 1e4;     // lr / this at the end

std::string number(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}
}  // namespace

std::shared_ptr<torch::optim::Optimizer> make_optimizer(std::vector<at::Tensor> params,
                                                        const OptimizerSpec& s) {
  if (!(std::isfinite(s.lr) && s.lr > 0))
    throw bad_input("--lr must be a finite number > 0, got " + number(s.lr));
  if (!(s.momentum >= 0 && s.momentum < 1))
    throw bad_input("--momentum must be in [0, 1), got " + number(s.momentum));
  if (!(std::isfinite(s.weight_decay) && s.weight_decay >= 0))
    throw bad_input("--weight-decay must be a finite number >= 0, got " + number(s.weight_decay));
  switch (s.kind) {
    case OptimizerKind::SGD:
      if (s.nesterov && s.momentum <= 0) throw bad_input("--nesterov needs --momentum > 0");
      return std::make_shared<torch::optim::SGD>(std::move(params),
                                                 torch::optim::SGDOptions(s.lr)
                                                     .momentum(s.momentum)
                                                     .weight_decay(s.weight_decay)
                                                     .nesterov(s.nesterov));
    case OptimizerKind::Adam:
    case OptimizerKind::AdamW:
      if (s.momentum > 0 || s.nesterov)
        throw bad_input("--momentum and --nesterov are for --optimizer sgd");
      if (s.kind == OptimizerKind::Adam)
        return std::make_shared<torch::optim::Adam>(
            std::move(params), torch::optim::AdamOptions(s.lr).weight_decay(s.weight_decay));
      return std::make_shared<torch::optim::AdamW>(
          std::move(params), torch::optim::AdamWOptions(s.lr).weight_decay(s.weight_decay));
  }
  throw Error("make_optimizer: unknown optimizer");
}

double scheduled_lr(const ScheduleSpec& s, double lr, std::int64_t step,
                    std::int64_t steps_per_epoch, std::int64_t total_steps) {
  const double t = total_steps > 1 ? static_cast<double>(step) / (total_steps - 1) : 0.0;
  switch (s.kind) {
    case ScheduleKind::Constant:
      return lr;
    case ScheduleKind::Step: {
      const std::int64_t epoch = steps_per_epoch > 0 ? step / steps_per_epoch : 0;
      return lr * std::pow(s.gamma,
                           static_cast<double>(epoch / std::max<std::int64_t>(1, s.step_epochs)));
    }
    case ScheduleKind::Cosine:
      return lr * 0.5 * (1 + std::cos(kPi * std::min(1.0, t)));
    case ScheduleKind::OneCycle: {
      const double lo = lr / kOneCycleStart, end = lr / kOneCycleEnd;
      if (t < kOneCycleWarmup)
        return lo + (lr - lo) * 0.5 * (1 - std::cos(kPi * t / kOneCycleWarmup));
      const double u = std::min(1.0, (t - kOneCycleWarmup) / (1 - kOneCycleWarmup));
      return end + (lr - end) * 0.5 * (1 + std::cos(kPi * u));
    }
  }
  return lr;
}

OptimizerKind parse_optimizer(const std::string& name) {
  if (name == "sgd") return OptimizerKind::SGD;
  if (name == "adam") return OptimizerKind::Adam;
  if (name == "adamw") return OptimizerKind::AdamW;
  throw bad_input("--optimizer '" + name + "': expected sgd, adam or adamw");
}

std::string to_string(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::SGD:
      return "sgd";
    case OptimizerKind::Adam:
      return "adam";
    case OptimizerKind::AdamW:
      return "adamw";
  }
  return "sgd";
}

ScheduleKind parse_schedule(const std::string& name) {
  if (name == "constant") return ScheduleKind::Constant;
  if (name == "step") return ScheduleKind::Step;
  if (name == "cosine") return ScheduleKind::Cosine;
  if (name == "one-cycle") return ScheduleKind::OneCycle;
  throw bad_input("--schedule '" + name + "': expected constant, step, cosine or one-cycle");
}

std::string to_string(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::Constant:
      return "constant";
    case ScheduleKind::Step:
      return "step";
    case ScheduleKind::Cosine:
      return "cosine";
    case ScheduleKind::OneCycle:
      return "one-cycle";
  }
  return "constant";
}

}  // namespace d2l
