#include "d2l/train/train.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "d2l/core/error.h"
#include "d2l/data/loader.h"
#include "d2l/models/registry.h"
#include "d2l/train/checkpoint.h"
#include "d2l/train/evaluate.h"
#include "d2l/train/trainer.h"
#include "support/fixtures.h"

using d2l::data::DataLoader;

namespace {

// A small separable data set from the fixture generator.
std::pair<DataLoader, DataLoader> small_data(std::int64_t batch = 40) {
  static d2l::test::TempDir dir;
  static bool written = false;
  if (!written) {
    d2l::test::write_fake_mnist(dir.str(), 400, 100);
    written = true;
  }
  d2l::data::DataOptions o;
  o.data_dir = dir.str();
  o.download = false;
  o.seed = 5;
  return d2l::data::load_data("fashion-mnist", batch, 0, o);
}

d2l::History fit(torch::nn::Sequential net, std::int64_t epochs, const std::string& ckpt,
                 std::int64_t stop_after_batch = -1, const std::string& resume = "") {
  auto [train, test] = small_data();
  auto opt = std::make_shared<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(0.5));
  d2l::TrainerOptions o;
  o.max_epochs = epochs;
  o.verbose = false;
  o.progress = false;
  o.epoch_lines = false;
  o.checkpoint = ckpt;
  d2l::Trainer t(net, opt, o);
  if (!resume.empty()) t.resume(resume);
  std::int64_t seen = 0;
  if (stop_after_batch >= 0)
    t.on_batch([&](const d2l::BatchEvent&) {
      if (++seen == stop_after_batch) d2l::Trainer::request_stop();
    });
  auto h = t.fit(train, test);
  d2l::Trainer::clear_stop();
  return h;
}

}  // namespace

TEST(Accuracy, CountsCorrectPredictions) {
  auto y_hat = torch::tensor({{0.1, 0.9}, {0.8, 0.2}, {0.3, 0.7}});
  auto y = torch::tensor({1, 0, 0}, torch::kLong);
  EXPECT_EQ(d2l::accuracy(y_hat, y), 2.0);
}

TEST(Trainer, LearnsASeparableSetAndRecordsHistory) {
  torch::manual_seed(0);
  auto h = fit(d2l::make_model("mlp"), 3, "");
  ASSERT_EQ(h.per_epoch.size(), 3u);
  EXPECT_GT(h.test_acc(), 0.9);
  EXPECT_LT(h.per_epoch.back().loss, h.per_epoch.front().loss);
  EXPECT_EQ(h.examples_seen, 1200);
  // Five chart points per epoch; test accuracy only at epoch ends.
  ASSERT_EQ(h.points.size(), 15u);
  EXPECT_TRUE(h.points[4].test_acc.has_value());
  EXPECT_FALSE(h.points[3].test_acc.has_value());
  EXPECT_DOUBLE_EQ(h.points.back().x, 3.0);
}

TEST(Trainer, ResumeAfterAnEpochMatchesAnUninterruptedRun) {
  d2l::test::TempDir dir;
  torch::manual_seed(0);
  auto full = fit(d2l::make_model("mlp"), 3, dir / "full.pt");
  torch::manual_seed(0);
  fit(d2l::make_model("mlp"), 1, dir / "part.pt");
  auto resumed = fit(d2l::make_model("mlp"), 3, dir / "part.pt", -1, dir / "part.pt");
  ASSERT_EQ(resumed.per_epoch.size(), 3u);
  EXPECT_NEAR(resumed.loss(), full.loss(), 1e-6);
  EXPECT_NEAR(resumed.train_acc(), full.train_acc(), 1e-9);
  EXPECT_NEAR(resumed.test_acc(), full.test_acc(), 1e-9);
}

TEST(Trainer, StopMidEpochThenResumeMatchesAnUninterruptedRun) {
  d2l::test::TempDir dir;
  torch::manual_seed(0);
  auto full = fit(d2l::make_model("softmax"), 2, "");
  torch::manual_seed(0);
  auto part = fit(d2l::make_model("softmax"), 2, dir / "c.pt", /*stop_after_batch=*/17);
  EXPECT_EQ(part.per_epoch.size(), 1u);  // stopped in epoch 2 (10 batches an epoch)
  auto state = d2l::read_checkpoint_state(dir / "c.pt");
  EXPECT_EQ(state.epoch, 1);
  EXPECT_EQ(state.batch, 7);
  auto resumed = fit(d2l::make_model("softmax"), 2, dir / "c.pt", -1, dir / "c.pt");
  ASSERT_EQ(resumed.per_epoch.size(), 2u);
  EXPECT_NEAR(resumed.loss(), full.loss(), 1e-6);
  EXPECT_NEAR(resumed.test_acc(), full.test_acc(), 1e-9);
  EXPECT_EQ(resumed.points.size(), full.points.size());
}

TEST(Checkpoint, CorruptOrForeignFilesAreBadInput) {
  d2l::test::TempDir dir;
  d2l::test::write_bytes(dir / "bad.pt", "this is not a checkpoint");
  auto net = d2l::make_model("softmax");
  torch::optim::SGD opt(net->parameters(), 0.1);
  try {
    d2l::load_checkpoint(dir / "bad.pt", net, opt);
    FAIL();
  } catch (const d2l::Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("bad.pt"), std::string::npos);
  }
  d2l::save_checkpoint(dir / "mlp.pt", net, opt, d2l::TrainState{});
  auto other = d2l::make_model("lenet");
  torch::optim::SGD opt2(other->parameters(), 0.1);
  EXPECT_THROW(d2l::load_checkpoint(dir / "mlp.pt", other, opt2), d2l::Error);
  // A truncated checkpoint.
  const std::string bytes = d2l::read_file(dir / "mlp.pt");
  d2l::test::write_bytes(dir / "trunc.pt", bytes.substr(0, bytes.size() / 2));
  EXPECT_THROW(d2l::load_checkpoint(dir / "trunc.pt", net, opt), d2l::Error);
}

TEST(TrainCh6, PrintsTheBookSummary) {
  auto [train, test] = small_data(64);
  auto net = d2l::make_model("lenet");
  testing::internal::CaptureStdout();
  auto h = d2l::train_ch6(net, train, test, 1, 0.9, torch::kCPU);
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("training on cpu"), std::string::npos) << out;
  EXPECT_NE(out.find("loss "), std::string::npos);
  EXPECT_NE(out.find("examples/sec on cpu"), std::string::npos);
  EXPECT_EQ(h.per_epoch.size(), 1u);
}
