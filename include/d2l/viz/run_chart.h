#pragma once
/// \file d2l/viz/run_chart.h
/// The training chart of finished runs: reads the metrics.json that `d2l train --out DIR`
/// writes and draws the book's chart (train loss, train acc, test acc against epochs), one run
/// or several in one chart to compare them. Used by `d2l plot`.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "d2l/viz/figure.h"

namespace d2l {

/// One finished run. The chart points are the book's five per epoch (x in epochs); a value
/// missing at a point is NaN (test_acc exists only at epoch ends).
struct RunMetrics {
  std::string path;               ///< the metrics.json read
  std::string label;              ///< the run's name in a legend (its folder's name)
  std::string model;              ///< e.g. "lenet"
  std::string dataset;            ///< e.g. "fashion-mnist"
  int epochs = 0;                 ///< epochs run
  std::vector<double> x;          ///< chart x values, in epochs
  std::vector<double> loss;       ///< train loss at x
  std::vector<double> train_acc;  ///< train accuracy at x
  std::vector<double> test_acc;   ///< test accuracy at x (NaN between epoch ends)
};

/// Reads a metrics.json: the chart from "points" or, when absent, from "history" (one point
/// per epoch). Throws d2l::Error (BadInput) naming the path and the field when the file is
/// missing, not JSON, or lacks both.
RunMetrics read_run_metrics(const std::string& path);

/// What to draw.
struct RunChartOptions {
  std::vector<std::string> metrics = {"loss", "train_acc", "test_acc"};  ///< lines per run
  std::string title;                                                     ///< over the chart
  std::pair<double, double> figsize{0, 0};  ///< 0 x 0: 3.5 x 2.5 for one run, 6 x 4 else
  double scale = 1.0;                       ///< PNG pixels per inch / 100
  std::optional<viz::Range> ylim;           ///< empty: from the data
};

/// The chart: one run as the book draws it (formats "-", "m--", "g-.", x from 1 to epochs);
/// several runs with one colour per run and one line style per metric, legend "run: metric".
/// Throws d2l::Error (BadInput) for no runs or an unknown metric (loss, train_acc, test_acc).
viz::Figure make_run_chart(const std::vector<RunMetrics>& runs, const RunChartOptions& opts = {});

}  // namespace d2l
