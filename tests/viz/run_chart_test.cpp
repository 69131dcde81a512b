#include "d2l/viz/run_chart.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "d2l/core/error.h"
#include "support/images.h"

using d2l::test::TempDir;

namespace {

// A metrics.json as `d2l train --out DIR` writes it, with `epochs` epochs of 5 points.
std::string metrics_json(int epochs, bool with_points = true) {
  std::string pts, hist;
  for (int e = 1; e <= epochs; ++e) {
    for (int i = 1; i <= 5; ++i) {
      const double x = e - 1 + i / 5.0;
      pts += (pts.empty() ? "" : ",") + std::string("{\"x\":") + std::to_string(x) +
             ",\"loss\":" + std::to_string(2.0 / x) +
             ",\"train_acc\":" + std::to_string(0.9 - 0.5 / x) +
             (i == 5 ? ",\"test_acc\":" + std::to_string(0.85 - 0.5 / x) : "") + "}";
    }
    hist += (hist.empty() ? "" : ",") + std::string("{\"epoch\":") + std::to_string(e) +
            ",\"loss\":1.0,\"train_acc\":0.5,\"test_acc\":0.4,\"seconds\":5.2}";
  }
  return "{\"model\":\"lenet\",\"dataset\":\"fashion-mnist\",\"device\":\"cpu\",\"epochs\":" +
         std::to_string(epochs) + ",\"batch_size\":256,\"lr\":0.9,\"history\":[" + hist + "]" +
         (with_points ? ",\"points\":[" + pts + "]" : "") + ",\"loss\":0.3,\"test_acc\":0.8}";
}

std::string write(const TempDir& dir, const std::string& sub, const std::string& text) {
  std::filesystem::create_directories(dir / sub);
  const std::string path = dir / sub + "/metrics.json";
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST(RunChart, ReadsPointsWithTestAccuracyAtEpochEnds) {
  TempDir dir;
  const auto r = d2l::read_run_metrics(write(dir, "lenet-a", metrics_json(4)));
  EXPECT_EQ(r.label, "lenet-a");
  EXPECT_EQ(r.model, "lenet");
  EXPECT_EQ(r.epochs, 4);
  ASSERT_EQ(r.x.size(), 20u);
  EXPECT_TRUE(std::isnan(r.test_acc[3]));
  EXPECT_FALSE(std::isnan(r.test_acc[4]));
  const auto h = d2l::read_run_metrics(write(dir, "b", metrics_json(3, false)));
  EXPECT_EQ(h.x.size(), 3u);  // history: one point per epoch
}

TEST(RunChart, BadFilesNameThePath) {
  TempDir dir;
  for (const std::string text :
       {"not json", "[1,2]", "{\"model\":\"x\"}", "{\"points\":[{\"loss\":1}]}"}) {
    const std::string path = write(dir, "bad", text);
    try {
      d2l::read_run_metrics(path);
      FAIL() << text;
    } catch (const d2l::Error& e) {
      EXPECT_EQ(e.exit_code(), 2);
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(d2l::read_run_metrics(dir / "missing.json"), d2l::Error);
}

TEST(RunChart, OneRunIsTheBookChartSeveralGetAColourEach) {
  TempDir dir;
  const auto a = d2l::read_run_metrics(write(dir, "a", metrics_json(5)));
  const auto b = d2l::read_run_metrics(write(dir, "b", metrics_json(10)));
  const auto one = d2l::make_run_chart({a});
  ASSERT_EQ(one.axes[0].series.size(), 3u);
  EXPECT_EQ(one.axes[0].series[1].fmt, "m--");
  EXPECT_EQ(one.axes[0].series[2].label, "test acc");
  EXPECT_EQ(one.axes[0].series[2].x.size(), 5u);  // the epoch ends only, joined up
  EXPECT_DOUBLE_EQ(one.axes[0].xlim->hi, 5);
  EXPECT_DOUBLE_EQ(one.width, 3.5);
  d2l::RunChartOptions o;
  o.metrics = {"test_acc"};
  const auto two = d2l::make_run_chart({a, b}, o);
  ASSERT_EQ(two.axes[0].series.size(), 2u);
  EXPECT_EQ(two.axes[0].series[1].label, "b: test acc");
  EXPECT_DOUBLE_EQ(two.axes[0].xlim->hi, 10);
  const auto colors = d2l::viz::resolve_colors(two.axes[0].series);
  EXPECT_NE(colors[0].r, colors[1].r);
  o.metrics = {"accuracy"};
  EXPECT_THROW(d2l::make_run_chart({a}, o), d2l::Error);
  EXPECT_THROW(d2l::make_run_chart({}), d2l::Error);
}
