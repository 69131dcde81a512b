#include "d2l/train/optim.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "d2l/core/error.h"

using d2l::ScheduleKind;
using d2l::ScheduleSpec;

TEST(Schedule, ConstantAndStepFollowTheirDefinitions) {
  EXPECT_DOUBLE_EQ(d2l::scheduled_lr({}, 0.1, 57, 10, 100), 0.1);
  ScheduleSpec step{ScheduleKind::Step, 2, 0.5};
  EXPECT_DOUBLE_EQ(d2l::scheduled_lr(step, 0.1, 0, 10, 100), 0.1);
  EXPECT_DOUBLE_EQ(d2l::scheduled_lr(step, 0.1, 19, 10, 100), 0.1);   // epoch 1
  EXPECT_DOUBLE_EQ(d2l::scheduled_lr(step, 0.1, 20, 10, 100), 0.05);  // epoch 2
  EXPECT_DOUBLE_EQ(d2l::scheduled_lr(step, 0.1, 45, 10, 100), 0.025);
}

TEST(Schedule, CosineGoesFromLrToZeroThroughHalf) {
  ScheduleSpec cos{ScheduleKind::Cosine, 1, 0.1};
  EXPECT_DOUBLE_EQ(d2l::scheduled_lr(cos, 0.2, 0, 10, 101), 0.2);
  EXPECT_NEAR(d2l::scheduled_lr(cos, 0.2, 50, 10, 101), 0.1, 1e-12);
  EXPECT_NEAR(d2l::scheduled_lr(cos, 0.2, 100, 10, 101), 0.0, 1e-12);
  double prev = 1;
  for (int s = 0; s <= 100; ++s) {
    const double v = d2l::scheduled_lr(cos, 0.2, s, 10, 101);
    EXPECT_LE(v, prev);
    prev = v;
  }
}

TEST(Schedule, OneCycleRisesToLrThenFallsFarBelowIt) {
  ScheduleSpec one{ScheduleKind::OneCycle, 1, 0.1};
  const std::int64_t total = 1001;
  EXPECT_NEAR(d2l::scheduled_lr(one, 1.0, 0, 10, total), 1.0 / 25, 1e-12);
  EXPECT_NEAR(d2l::scheduled_lr(one, 1.0, 300, 10, total), 1.0, 1e-12);  // the peak at 30%
  EXPECT_NEAR(d2l::scheduled_lr(one, 1.0, 1000, 10, total), 1e-4, 1e-12);
  EXPECT_LT(d2l::scheduled_lr(one, 1.0, 150, 10, total), 1.0);
  EXPECT_GT(d2l::scheduled_lr(one, 1.0, 150, 10, total), 1.0 / 25);
}

TEST(Optimizer, BuildsEachKindAndRefusesNonsense) {
  auto w = torch::ones({3}, torch::requires_grad());
  for (auto kind : {d2l::OptimizerKind::SGD, d2l::OptimizerKind::Adam, d2l::OptimizerKind::AdamW}) {
    d2l::OptimizerSpec s;
    s.kind = kind;
    s.lr = 0.5;
    auto opt = d2l::make_optimizer({w}, s);
    EXPECT_DOUBLE_EQ(opt->param_groups()[0].options().get_lr(), 0.5);
    EXPECT_EQ(d2l::parse_optimizer(d2l::to_string(kind)), kind);
  }
  d2l::OptimizerSpec nesterov;
  nesterov.nesterov = true;
  EXPECT_THROW(d2l::make_optimizer({w}, nesterov), d2l::Error);
  nesterov.momentum = 0.9;
  EXPECT_NO_THROW(d2l::make_optimizer({w}, nesterov));
  d2l::OptimizerSpec bad;
  bad.momentum = 1.0;
  EXPECT_THROW(d2l::make_optimizer({w}, bad), d2l::Error);
  EXPECT_THROW(d2l::parse_optimizer("rmsprop"), d2l::Error);
  EXPECT_THROW(d2l::parse_schedule("linear"), d2l::Error);
  for (auto k :
       {ScheduleKind::Constant, ScheduleKind::Step, ScheduleKind::Cosine, ScheduleKind::OneCycle})
    EXPECT_EQ(d2l::parse_schedule(d2l::to_string(k)), k);
}

TEST(Optimizer, SgdWithMomentumAndWeightDecayFollowsTheUpdateRule) {
  // One parameter, gradient 1: v1 = g + wd*w; w1 = w - lr*v1; v2 = m*v1 + g + wd*w1.
  auto w = torch::full({1}, 2.0, torch::requires_grad());
  d2l::OptimizerSpec s;
  s.lr = 0.1;
  s.momentum = 0.9;
  s.weight_decay = 0.01;
  auto opt = d2l::make_optimizer({w}, s);
  double wv = 2.0, v = 0;
  for (int step = 0; step < 3; ++step) {
    opt->zero_grad();
    (w * 1.0).sum().backward();
    opt->step();
    const double g = 1.0 + 0.01 * wv;
    v = step == 0 ? g : 0.9 * v + g;
    wv -= 0.1 * v;
    EXPECT_NEAR(w.item<double>(), wv, 1e-6) << step;
  }
}
