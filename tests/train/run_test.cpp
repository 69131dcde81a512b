// The training run in the library: settings, resume, divergence stop, --max-steps.
#include "d2l/train/run.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"
#include "d2l/core/torch_error.h"
#include "d2l/data/loader.h"
#include "d2l/models/registry.h"
#include "d2l/train/train.h"
#include "support/fixtures.h"

using d2l::test::TempDir;

namespace {

const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

// A small learnable data set in Fashion-MNIST's files, written once per test process.
std::string data_dir() {
  static TempDir dir;
  static const bool written = (d2l::test::write_fake_mnist(dir.str(), 400, 100), true);
  (void)written;
  return dir.str();
}

std::pair<d2l::data::DataLoader, d2l::data::DataLoader> small_data(std::int64_t batch = 40) {
  d2l::data::DataOptions o;
  o.data_dir = data_dir();
  o.download = false;
  o.seed = 5;
  return d2l::data::load_data("fashion-mnist", batch, 0, o);
}

d2l::TrainerOptions quiet(std::int64_t epochs, const std::string& ckpt = "") {
  d2l::TrainerOptions o;
  o.max_epochs = epochs;
  o.verbose = false;
  o.progress = false;
  o.epoch_lines = false;
  o.checkpoint = ckpt;
  return o;
}

std::string plan_error(const d2l::RunOptions& o) {
  try {
    d2l::plan_run(o);
  } catch (const d2l::Error& e) {
    EXPECT_EQ(e.exit_code(), 2) << e.what();
    return e.what();
  }
  return "";
}

}  // namespace

TEST(RunPlan, RefusesValuesOutsideTheirDomainNamingTheFlag) {
  d2l::RunOptions base;
  base.model = "softmax";
  for (double lr : {-1.0, 0.0, kNaN, kInf, -kInf}) {
    auto o = base;
    o.lr = lr;
    EXPECT_NE(plan_error(o).find("--lr"), std::string::npos) << lr;
  }
  for (double clip : {-1.0, kNaN, kInf}) {
    auto o = base;
    o.grad_clip = clip;
    EXPECT_NE(plan_error(o).find("--grad-clip"), std::string::npos) << clip;
  }
  const std::pair<std::optional<std::int64_t> d2l::RunOptions::*, const char*> ints[] = {
      {&d2l::RunOptions::epochs, "--epochs"},
      {&d2l::RunOptions::batch_size, "--batch-size"},
      {&d2l::RunOptions::max_steps, "--max-steps"},
      {&d2l::RunOptions::threads, "--threads"},
      {&d2l::RunOptions::resize, "--resize"}};
  for (const auto& [field, flag] : ints)
    for (std::int64_t v : {std::int64_t{0}, std::int64_t{-1}}) {
      auto o = base;
      o.*field = v;
      EXPECT_NE(plan_error(o).find(flag), std::string::npos) << flag << " " << v;
    }
  auto o = base;
  o.resize = 5000;
  EXPECT_NE(plan_error(o).find("--resize"), std::string::npos);
  o = base;
  o.model = "resnet50";
  EXPECT_NE(plan_error(o).find("unknown model 'resnet50'"), std::string::npos);
}

TEST(RunPlan, UserValuesWinOverTheBooksAndZeroClipIsOff) {
  d2l::RunOptions o;
  o.model = "lenet";
  auto p = d2l::plan_run(o);
  const auto& spec = d2l::model_spec("lenet");
  EXPECT_EQ(p.lr, spec.lr);
  EXPECT_EQ(p.epochs, spec.epochs);
  EXPECT_EQ(p.batch_size, spec.batch_size);
  EXPECT_EQ(p.data, "fashion-mnist");
  EXPECT_EQ(p.out.rfind("runs/lenet-", 0), 0u) << p.out;
  EXPECT_EQ(p.plot, p.out + "/training.png");
  EXPECT_FALSE(p.max_steps);
  o.lr = 1e9;  // huge but finite: accepted (the divergence stop ends such a run)
  o.epochs = 2;
  o.grad_clip = 0;
  o.seed = 0;
  p = d2l::plan_run(o);
  EXPECT_EQ(p.lr, 1e9);
  EXPECT_EQ(p.epochs, 2);
  EXPECT_EQ(p.grad_clip, 0);
  EXPECT_EQ(p.seed, 0u);
  // A model the book trains on resized images gets that size unless told otherwise.
  for (const auto& m : d2l::model_specs()) {
    if (m.resize == 0) continue;
    d2l::RunOptions r;
    r.model = m.name;
    EXPECT_EQ(d2l::plan_run(r).resize, m.resize) << m.name;
    r.resize = 32;
    EXPECT_EQ(d2l::plan_run(r).resize, 32) << m.name;
  }
}

TEST(RunPlan, ResumeTakesTheCheckpointsSettingsAndRefusesContradictions) {
  TempDir dir;
  auto [train, test] = small_data();
  auto net = d2l::make_model("softmax");
  auto opt = std::make_shared<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(0.3));
  d2l::Trainer t(net, opt, quiet(1, dir / "checkpoint.pt"));
  d2l::History meta;
  meta.model = "softmax";
  meta.dataset = "fashion-mnist";
  meta.lr = 0.3;
  meta.batch_size = 40;
  meta.seed = 7;
  t.fit(train, test, meta);

  d2l::RunOptions o;
  o.resume = dir.str();
  o.epochs = 3;
  auto p = d2l::plan_run(o);
  EXPECT_EQ(p.model, "softmax");
  EXPECT_EQ(p.lr, 0.3);
  EXPECT_EQ(p.batch_size, 40);
  EXPECT_EQ(p.seed, 7u);
  EXPECT_EQ(p.out, dir.str());
  EXPECT_EQ(p.resumed.epoch, 1);
  EXPECT_EQ(p.checkpoint_in, dir / "checkpoint.pt");

  auto bad = o;
  bad.seed = 8;
  EXPECT_NE(plan_error(bad).find("--seed 8"), std::string::npos);
  bad = o;
  bad.model = "mlp";
  EXPECT_NE(plan_error(bad).find("of model softmax"), std::string::npos);
  bad = o;
  bad.epochs = 1;
  EXPECT_NE(plan_error(bad).find("already trained 1 epochs"), std::string::npos);
  bad = o;
  bad.resume = dir / "nothing";
  EXPECT_NE(plan_error(bad).find("no checkpoint.pt"), std::string::npos);
}

TEST(Divergence, HugeStepsStopWithinTheEpochAndKeepTheLastSoundCheckpoint) {
  TempDir dir;
  const std::string ckpt = dir / "checkpoint.pt";
  auto [train, test] = small_data();
  {  // one sound epoch
    auto net = d2l::make_model("mlp");
    auto opt =
        std::make_shared<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(0.1));
    d2l::Trainer t(net, opt, quiet(1, ckpt));
    t.fit(train, test);
    ASSERT_FALSE(t.divergence());
  }
  const std::string sound = d2l::read_file(ckpt);
  auto net = d2l::make_model("mlp");
  auto opt = std::make_shared<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(1e9));
  d2l::Trainer t(net, opt, quiet(4, ckpt));
  t.resume(ckpt);
  std::int64_t points = 0;
  t.on_point([&](const d2l::ChartPoint&) { ++points; });
  const auto h = t.fit(train, test);
  ASSERT_TRUE(t.divergence());
  const auto& d = *t.divergence();
  EXPECT_EQ(d.epoch, 2);  // the first resumed epoch
  EXPECT_GE(d.step, 1);
  EXPECT_LE(d.step, train.size());
  EXPECT_EQ(h.per_epoch.size(), 1u);  // the diverged epoch is not recorded as finished
  EXPECT_EQ(h.divergence, d.describe());
  EXPECT_NE(d.describe().find("at epoch 2, step " + std::to_string(d.step)), std::string::npos);
  EXPECT_EQ(points, 0);  // stopped at the first read, within a fifth of the epoch
  EXPECT_EQ(d2l::read_file(ckpt), sound) << "the checkpoint was overwritten after divergence";
  EXPECT_FALSE(t.stopped());
}

TEST(Divergence, NaNIsNamedAndTheStopCanBeTurnedOff) {
  auto [train, test] = small_data();
  auto make = [](double lr) {
    auto net = d2l::make_model("softmax");
    auto opt = std::make_shared<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(lr));
    return std::make_pair(net, opt);
  };
  auto [net, opt] = make(kInf);
  d2l::Trainer t(net, opt, quiet(2));
  t.fit(train, test);
  ASSERT_TRUE(t.divergence());
  EXPECT_NE(t.divergence()->kind, d2l::Divergence::Kind::Exploded);
  EXPECT_EQ(t.divergence()->step, 2);  // the first step's loss is finite; the update is not
  auto [net2, opt2] = make(kInf);
  auto o = quiet(2);
  o.stop_on_divergence = false;
  d2l::Trainer on(net2, opt2, o);
  const auto h = on.fit(train, test);
  EXPECT_FALSE(on.divergence());
  EXPECT_EQ(h.per_epoch.size(), 2u);  // trained on, as the book's code does
  EXPECT_TRUE(std::isnan(h.loss()));
}

TEST(Divergence, TrainCh6ThrowsNamingTheStep) {
  auto [train, test] = small_data();
  auto net = d2l::make_model("mlp");
  testing::internal::CaptureStdout();
  try {
    d2l::train_ch6(net, train, test, 2, 1e12, torch::kCPU);
    testing::internal::GetCapturedStdout();
    FAIL() << "no error";
  } catch (const d2l::Error& e) {
    testing::internal::GetCapturedStdout();
    EXPECT_NE(std::string(e.what()).find("at epoch 1, step"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("lower lr (now 1e+12)"), std::string::npos) << e.what();
  }
}

TEST(Trainer, MaxStepsStopsAfterThatManyStepsAndEvaluatesAsFew) {
  auto [train, test] = small_data(40);
  auto net = d2l::make_model("softmax");
  auto opt = std::make_shared<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(0.1));
  auto o = quiet(5);
  o.max_steps = 3;
  d2l::Trainer t(net, opt, o);
  std::int64_t batches = 0;
  t.on_batch([&](const d2l::BatchEvent&) { ++batches; });
  const auto h = t.fit(train, test);
  EXPECT_EQ(batches, 3);
  EXPECT_EQ(h.examples_seen, 120);
  ASSERT_EQ(h.per_epoch.size(), 1u);
  EXPECT_GE(h.test_acc(), 0.0);
}

TEST(TrainRun, WritesTheRunFolderAndStopsOnDivergence) {
  TempDir dir;
  d2l::RunOptions o;
  o.model = "softmax";
  o.data_dir = data_dir();
  o.download = false;
  o.out = dir / "run";
  o.epochs = 1;
  o.batch_size = 50;
  o.verbose = o.progress = o.terminal_chart = false;
  auto r = d2l::train_run(d2l::plan_run(o), o);
  EXPECT_EQ(r.status, d2l::RunStatus::Finished);
  for (const char* f : {"metrics.json", "metrics.csv", "checkpoint.pt"})
    EXPECT_TRUE(std::filesystem::exists(dir / ("run/" + std::string(f)))) << f;
  const auto h = d2l::History::from_json(d2l::read_file(dir / "run/metrics.json"));
  EXPECT_EQ(h.per_epoch.size(), 1u);
  EXPECT_EQ(h.batch_size, 50);

  o.out = dir / "diverged";
  o.lr = 1e12;
  r = d2l::train_run(d2l::plan_run(o), o);
  EXPECT_EQ(r.status, d2l::RunStatus::Diverged);
  ASSERT_TRUE(r.divergence);
  EXPECT_FALSE(std::filesystem::exists(dir / "diverged/checkpoint.pt"));
  EXPECT_EQ(d2l::History::from_json(d2l::read_file(dir / "diverged/metrics.json")).divergence,
            r.divergence->describe());
}

TEST(Trainer, AScheduleSetsTheLearningRateOfEveryStepAndIsRecorded) {
  auto [train, test] = small_data(40);  // 10 steps an epoch
  auto net = d2l::make_model("softmax");
  auto opt = std::make_shared<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(0.1));
  auto o = quiet(2);
  std::vector<std::int64_t> asked;
  o.lr_at = [&](std::int64_t step) {
    asked.push_back(step);
    return 0.01 * static_cast<double>(step + 1);
  };
  d2l::Trainer t(net, opt, o);
  const auto h = t.fit(train, test);
  ASSERT_EQ(asked.size(), 20u);
  EXPECT_EQ(asked.front(), 0);
  EXPECT_EQ(asked.back(), 19);
  EXPECT_DOUBLE_EQ(opt->param_groups()[0].options().get_lr(), 0.2);
  ASSERT_FALSE(h.points.empty());
  EXPECT_DOUBLE_EQ(h.points.back().lr.value_or(0), 0.2);
}

TEST(ErrorMessage, LibTorchErrorsLoseTheirBacktrace) {
  try {
    auto a = torch::zeros({2, 3});
    auto b = torch::zeros({4, 5});
    (void)torch::matmul(a, b);
    FAIL() << "no error";
  } catch (const std::exception& e) {
    const std::string full = e.what(), short_ = d2l::error_message(e);
    EXPECT_EQ(short_.find('\n'), std::string::npos) << short_;
    EXPECT_EQ(short_.find("Exception raised from"), std::string::npos) << short_;
    EXPECT_NE(short_.find("cannot be multiplied"), std::string::npos) << short_;
    EXPECT_LT(short_.size(), full.size());
  }
  EXPECT_EQ(d2l::error_message(std::runtime_error("one\ntwo")), "one");
}
