// The training step of d2l/train/step.h on the CPU: the static step (what a CUDA graph holds,
// run uncaptured) against the optimiser's own step, with a schedule; bf16 autocast; the device
// clip; the read-backs.
#include "d2l/train/step.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "d2l/core/error.h"
#include "d2l/data/loader.h"
#include "d2l/models/registry.h"
#include "d2l/train/optim.h"
#include "d2l/train/trainer.h"
#include "support/fixtures.h"

using d2l::data::DataLoader;

namespace {

std::pair<DataLoader, DataLoader> small_data(std::int64_t batch) {
  static d2l::test::TempDir dir;
  static bool written = false;
  if (!written) {
    d2l::test::write_fake_mnist(dir.str(), 230, 60);  // 230 = 5 full batches of 40 + 30
    written = true;
  }
  d2l::data::DataOptions o;
  o.data_dir = dir.str();
  o.download = false;
  o.seed = 3;
  return d2l::data::load_data("fashion-mnist", batch, 0, o);
}

struct Run {
  d2l::History history;
  std::vector<at::Tensor> params, initial;
};

// Two epochs of LeNet with `kind`'s optimiser and a step schedule (the learning rate changes
// every step), eager or as the static step.
Run train(d2l::OptimizerKind kind, bool static_step, double grad_clip = 0) {
  torch::manual_seed(11);
  auto net = d2l::make_model("lenet", 1, 28, 10);
  Run r;
  for (const auto& p : net->parameters()) r.initial.push_back(p.detach().clone());
  d2l::OptimizerSpec spec;
  spec.kind = kind;
  spec.lr = kind == d2l::OptimizerKind::SGD ? 0.3 : 0.003;
  if (kind == d2l::OptimizerKind::SGD) spec.momentum = 0.9;
  spec.weight_decay = 1e-4;
  auto opt = d2l::make_optimizer(net->parameters(), spec);
  d2l::TrainerOptions o;
  o.max_epochs = 2;
  o.verbose = false;
  o.progress = false;
  o.epoch_lines = false;
  o.static_step = static_step;
  o.grad_clip = grad_clip;
  const double lr = spec.lr;
  o.lr_at = [lr](std::int64_t step) { return lr * std::pow(0.9, static_cast<double>(step)); };
  d2l::Trainer t(net, opt, o);
  auto [train_iter, test_iter] = small_data(40);
  r.history = t.fit(train_iter, test_iter);
  for (const auto& p : net->parameters()) r.params.push_back(p.detach().clone());
  return r;
}

void expect_same(const Run& a, const Run& b, double tol) {
  ASSERT_EQ(a.params.size(), b.params.size());
  for (std::size_t i = 0; i < a.params.size(); ++i) {
    const double diff = (a.params[i] - b.params[i]).abs().max().item<double>();
    const double scale = std::max(1e-3, a.params[i].abs().max().item<double>());
    EXPECT_LT(diff / scale, tol) << "parameter " << i;
  }
  ASSERT_EQ(a.history.per_epoch.size(), b.history.per_epoch.size());
  for (std::size_t e = 0; e < a.history.per_epoch.size(); ++e) {
    EXPECT_NEAR(a.history.per_epoch[e].loss, b.history.per_epoch[e].loss, 1e-4);
    EXPECT_NEAR(a.history.per_epoch[e].train_acc, b.history.per_epoch[e].train_acc, 1e-9);
  }
}

}  // namespace

TEST(TrainStep, StaticStepWithAScheduleEqualsTheEagerLoop) {
  // SGD with momentum and weight decay, and Adam: the static step (device learning rate, the
  // short last batch eager) against LibTorch's own step(), the rate set every step.
  for (auto kind : {d2l::OptimizerKind::SGD, d2l::OptimizerKind::Adam}) {
    SCOPED_TRACE(d2l::to_string(kind));
    const auto eager = train(kind, false);
    const auto fixed = train(kind, true);
    expect_same(eager, fixed, 1e-4);
    // The runs trained: not a comparison of two untouched networks.
    double moved = 0;
    for (std::size_t i = 0; i < eager.params.size(); ++i)
      moved = std::max(moved, (eager.params[i] - eager.initial[i]).abs().max().item<double>());
    EXPECT_GT(moved, 1e-3);
  }
}

TEST(TrainStep, DeviceClipEqualsLibTorchs) {
  torch::manual_seed(2);
  auto a = torch::randn({5, 7}, torch::requires_grad());
  auto b = torch::randn({3}, torch::requires_grad());
  (a.pow(2).sum() * 3 + b.sum() * 10).backward();
  auto a2 = a.detach().clone().requires_grad_(), b2 = b.detach().clone().requires_grad_();
  a2.mutable_grad() = a.grad().clone();
  b2.mutable_grad() = b.grad().clone();
  torch::nn::utils::clip_grad_norm_(std::vector<at::Tensor>{a, b}, 1.5);
  d2l::clip_grad_norm_on_device({a2, b2}, 1.5);
  EXPECT_TRUE(torch::allclose(a.grad(), a2.grad(), 1e-6, 1e-7));
  EXPECT_TRUE(torch::allclose(b.grad(), b2.grad(), 1e-6, 1e-7));
  const double norm = torch::cat({a2.grad().flatten(), b2.grad().flatten()}).norm().item<double>();
  EXPECT_NEAR(norm, 1.5, 1e-4);
  // Below the limit nothing changes.
  const auto before = a2.grad().clone();
  d2l::clip_grad_norm_on_device({a2, b2}, 100.0);
  EXPECT_TRUE(torch::equal(before, a2.grad()));
}

TEST(TrainStep, StaticStepWithClippingEqualsTheEagerLoop) {
  expect_same(train(d2l::OptimizerKind::SGD, false, 0.5), train(d2l::OptimizerKind::SGD, true, 0.5),
              1e-4);
}

TEST(TrainStep, SumsAndDivergenceAreKeptOnTheDevice) {
  torch::manual_seed(4);
  auto net = d2l::make_model("softmax", 1, 28, 10);
  auto opt = std::make_shared<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(0.1));
  d2l::StepOptions so;
  so.static_step = true;
  d2l::TrainStep step(net, opt, so);
  step.begin_epoch(0);
  auto [train_iter, test_iter] = small_data(40);
  auto it = train_iter.epoch_begin(0);
  step.run(it->X, it->y);
  const auto s = step.sums();
  EXPECT_GT(s.loss, 40 * 1.0);  // about 40 x ln(10) for an untrained softmax
  EXPECT_LE(s.correct, 40);
  const auto nowait = step.sums_nowait();  // the CPU has nothing to wait for
  EXPECT_EQ(nowait.loss, s.loss);
  EXPECT_FALSE(step.bad_step());
  // A learning rate that blows the loss up: the check names the step where it happened.
  step.set_lr(1e6);
  for (int k = 0; k < 3; ++k) {
    ++it;
    step.run(it->X, it->y);
  }
  const auto bad = step.bad_step();
  ASSERT_TRUE(bad);
  EXPECT_GE(bad->index, 2);
  EXPECT_TRUE(!std::isfinite(bad->loss) || bad->loss > 1000 * bad->first_loss);
  EXPECT_NE(step.describe().find("static step"), std::string::npos);
}

TEST(TrainStep, Bf16AutocastTrainsOnTheCpu) {
  torch::manual_seed(5);
  auto net = d2l::make_model("lenet", 1, 28, 10);
  auto opt = std::make_shared<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(0.9));
  d2l::TrainerOptions o;
  o.max_epochs = 3;
  o.verbose = false;
  o.progress = false;
  o.epoch_lines = false;
  o.precision = d2l::Precision::BF16;
  d2l::Trainer t(net, opt, o);
  auto [train_iter, test_iter] = small_data(40);
  const auto h = t.fit(train_iter, test_iter);
  ASSERT_EQ(h.per_epoch.size(), 3u);
  EXPECT_TRUE(std::isfinite(h.per_epoch.back().loss));
  EXPECT_LT(h.per_epoch.back().loss, h.per_epoch.front().loss);
  EXPECT_NE(t.describe_step().find("bf16"), std::string::npos);
  // The weights stay fp32: autocast computes in bf16, it does not convert the model.
  for (const auto& p : net->parameters()) EXPECT_EQ(p.scalar_type(), torch::kFloat);
}

TEST(TrainStep, Fp16OnTheCpuIsRefusedWithOneLine) {
  auto net = d2l::make_model("softmax", 1, 28, 10);
  auto opt = std::make_shared<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(0.1));
  d2l::StepOptions so;
  so.precision = d2l::Precision::FP16;
  try {
    d2l::TrainStep step(net, opt, so);
    FAIL() << "fp16 on the CPU was accepted";
  } catch (const d2l::Error& e) {
    EXPECT_EQ(e.kind(), d2l::Error::Kind::BadInput);
    EXPECT_NE(std::string(e.what()).find("fp16"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
}
