// --augment in the training run: the book's defaults, the flag's domain, the record in
// metrics.json, and a resumed augmented run that repeats the uninterrupted one.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"
#include "d2l/core/history.h"
#include "d2l/train/run.h"
#include "support/fixtures.h"

using d2l::test::TempDir;

namespace {

std::string data_dir() {
  static TempDir dir;
  static const bool written = (d2l::test::write_fake_mnist(dir.str(), 200, 50), true);
  (void)written;
  return dir.str();
}

d2l::RunOptions quiet_run(const std::string& model) {
  d2l::RunOptions o;
  o.model = model;
  o.data_dir = data_dir();
  o.download = false;
  o.verbose = o.progress = o.terminal_chart = false;
  return o;
}

std::string plan_error(const d2l::RunOptions& o) {
  try {
    d2l::plan_run(o);
  } catch (const d2l::Error& e) {
    EXPECT_EQ(e.kind(), d2l::Error::Kind::BadInput) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "plan_run accepted the options";
  return "";
}

}  // namespace

TEST(AugmentRun, TheBooksDefaults) {
  // Chapter 8 trains on Fashion-MNIST as it is; chapter 14.1 flips CIFAR-10 for resnet18.
  for (const char* m : {"lenet", "alexnet", "bn-lenet", "resnet", "densenet"})
    EXPECT_FALSE(d2l::plan_run(quiet_run(m)).augment.any()) << m;
  const auto p = d2l::plan_run(quiet_run("resnet18"));
  EXPECT_EQ(p.data, "cifar10");
  EXPECT_EQ(p.augment.to_string(), "flip");
  EXPECT_NE(p.to_json().find("\"augment\": \"flip\""), std::string::npos) << p.to_json();
  auto o = quiet_run("resnet18");
  o.augment = "none";
  EXPECT_FALSE(d2l::plan_run(o).augment.any());
  o.augment = "crop=0.64-1,flip,normalize";
  EXPECT_EQ(d2l::plan_run(o).augment.to_string(), "crop=0.64-1,flip,normalize");
}

TEST(AugmentRun, BadListsAreRefusedNamingTheFlag) {
  auto o = quiet_run("lenet");
  o.augment = "flip,rotate";
  EXPECT_NE(plan_error(o).find("--augment"), std::string::npos);
  o = quiet_run("linreg");
  o.augment = "flip";
  EXPECT_NE(plan_error(o).find("--augment"), std::string::npos);
}

TEST(AugmentRun, AResumedAugmentedRunRepeatsTheUninterruptedOne) {
  TempDir dir;
  auto o = quiet_run("lenet");
  o.augment = "flip,crop=0.5-1,jitter=0.3-0.3-0.3,normalize";
  o.batch_size = 50;
  o.lr = 0.5;
  o.epochs = 2;
  o.out = dir / "whole";
  const auto whole = d2l::train_run(d2l::plan_run(o), o);
  ASSERT_EQ(whole.status, d2l::RunStatus::Finished);
  const auto h = d2l::History::from_json(d2l::read_file(dir / "whole/metrics.json"));
  EXPECT_EQ(h.augment, "crop=0.5-1,flip,jitter=0.3-0.3-0.3,normalize");

  o.out = dir / "parts";
  o.epochs = 1;
  ASSERT_EQ(d2l::train_run(d2l::plan_run(o), o).status, d2l::RunStatus::Finished);
  auto resume = quiet_run("");
  resume.resume = dir / "parts";
  resume.epochs = 2;
  const auto plan = d2l::plan_run(resume);
  EXPECT_EQ(plan.augment.to_string(), h.augment);  // the checkpoint's augmentation
  const auto parts = d2l::train_run(plan, resume);
  ASSERT_EQ(parts.history.per_epoch.size(), 2u);
  EXPECT_NEAR(parts.history.per_epoch[1].loss, whole.history.per_epoch[1].loss, 1e-6);
  EXPECT_NEAR(parts.history.per_epoch[1].test_acc, whole.history.per_epoch[1].test_acc, 1e-9);

  // Another list would not continue the run.
  resume.augment = "flip";
  EXPECT_NE(plan_error(resume).find("--augment"), std::string::npos);
}
