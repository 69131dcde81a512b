#include "d2l/core/history.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "d2l/core/error.h"

TEST(History, JsonRoundTrip) {
  d2l::History h;
  h.model = "lenet";
  h.dataset = "fashion-mnist";
  h.resize = 96;
  h.grad_clip = 1.5;
  h.per_epoch.push_back({1, 0.5, 0.8, 0.75, 2.0, 1000});
  h.points.push_back({0.2, 0.9, 0.6, std::nullopt, std::nullopt});
  h.points.push_back({1.0, 0.5, 0.8, 0.75, 0.05});
  h.examples_seen = 2000;
  auto back = d2l::History::from_json(h.to_json());
  EXPECT_EQ(back.model, "lenet");
  EXPECT_EQ(back.resize, 96);
  EXPECT_DOUBLE_EQ(back.grad_clip, 1.5);
  EXPECT_TRUE(back.divergence.empty());
  EXPECT_DOUBLE_EQ(back.test_acc(), 0.75);
  EXPECT_DOUBLE_EQ(back.examples_per_sec(), 1000);
  EXPECT_FALSE(back.points[0].test_acc);
  EXPECT_TRUE(back.points[1].test_acc);
  EXPECT_FALSE(back.points[0].lr);
  EXPECT_DOUBLE_EQ(back.points[1].lr.value_or(0), 0.05);
  EXPECT_EQ(back.optimizer, "sgd");
  EXPECT_EQ(back.schedule, "constant");
  EXPECT_NE(h.to_csv().find("epoch,loss,train_acc,test_acc"), std::string::npos);
  EXPECT_FALSE(back.distributed);  // one process: no "distributed" section
  EXPECT_EQ(h.to_json().find("distributed"), std::string::npos);
}

TEST(History, TheDistributedSectionRoundTripsWithTheAllreduceShare) {
  d2l::History h;
  d2l::DistributedSummary d;
  d.world_size = 2;
  d.backend = "gloo";
  d.steps = 6;
  d.step_seconds = 4.0;
  d.allreduce_seconds = 0.5;
  d.broadcast_seconds = 0.25;
  h.distributed = d;
  const std::string text = h.to_json();
  EXPECT_NE(text.find("\"allreduce_share\": 0.125"), std::string::npos) << text;
  const auto back = d2l::History::from_json(text);
  ASSERT_TRUE(back.distributed);
  EXPECT_EQ(back.distributed->world_size, 2);
  EXPECT_EQ(back.distributed->backend, "gloo");
  EXPECT_EQ(back.distributed->steps, 6);
  EXPECT_DOUBLE_EQ(back.distributed->allreduce_seconds, 0.5);
  EXPECT_DOUBLE_EQ(back.distributed->broadcast_seconds, 0.25);
  EXPECT_DOUBLE_EQ(back.distributed->allreduce_share(), 0.125);
  EXPECT_DOUBLE_EQ(d2l::DistributedSummary{}.allreduce_share(), 0);  // no step yet
}

TEST(History, ADivergedRunStaysReadable) {
  d2l::History h;
  h.divergence = "loss became NaN at epoch 1, step 3";
  h.points.push_back(
      {0.2, std::numeric_limits<double>::quiet_NaN(), 0.1, std::nullopt, std::nullopt});
  const auto back = d2l::History::from_json(h.to_json());
  EXPECT_EQ(back.divergence, h.divergence);
  ASSERT_EQ(back.points.size(), 1u);
  EXPECT_TRUE(std::isnan(back.points[0].loss));  // NaN is written as null and read back as NaN
}

TEST(History, MissingNumbersReadAsNaNAndBadDocumentsNameTheFile) {
  const auto h = d2l::History::from_json(R"({"history": [{"epoch": 2, "loss": 0.4}]})", "m.json");
  ASSERT_EQ(h.per_epoch.size(), 1u);
  EXPECT_EQ(h.per_epoch[0].epoch, 2);
  EXPECT_TRUE(std::isnan(h.per_epoch[0].test_acc));
  for (const char* text : {"{", "[1]", R"({"history": 3})", R"({"history": [{"loss": 1}]})",
                           R"({"points": [{"loss": 1}]})", R"({"lr": "fast"})",
                           R"({"distributed": 3})", R"({"distributed": {"steps": "six"}})"}) {
    try {
      d2l::History::from_json(text, "runs/a/metrics.json");
      ADD_FAILURE() << text;
    } catch (const d2l::Error& e) {
      EXPECT_EQ(e.exit_code(), 2) << text;
      EXPECT_EQ(std::string(e.what()).rfind("runs/a/metrics.json: ", 0), 0u) << e.what();
    }
  }
}
