#include "d2l/viz/run_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"
#include "d2l/core/history.h"

namespace d2l {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string folder_name(const std::string& path) {
  std::string dir =
      path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  const auto slash = dir.find_last_of('/');
  const std::string base = slash == std::string::npos ? dir : dir.substr(slash + 1);
  return base == "." || base == ".." ? "" : base;
}

const char* metric_name(const std::string& m) {
  if (m == "loss") return "train loss";
  if (m == "train_acc") return "train acc";
  if (m == "test_acc") return "test acc";
  throw bad_input("metric '" + m + "': expected loss, train_acc or test_acc");
}

const std::vector<double>& metric_values(const RunMetrics& r, const std::string& m) {
  if (m == "loss") return r.loss;
  if (m == "train_acc") return r.train_acc;
  return r.test_acc;
}

}  // namespace

RunMetrics read_run_metrics(const std::string& path) {
  const History h = History::from_json(read_file(path), path);
  RunMetrics r;
  r.path = path;
  r.model = h.model;
  r.dataset = h.dataset;
  r.epochs = static_cast<int>(h.epochs);
  const auto add = [&](double x, double loss, double train_acc, double test_acc) {
    r.x.push_back(x);
    r.loss.push_back(loss);
    r.train_acc.push_back(train_acc);
    r.test_acc.push_back(test_acc);
  };
  if (!h.points.empty()) {
    for (const auto& p : h.points) add(p.x, p.loss, p.train_acc, p.test_acc.value_or(kNaN));
  } else if (!h.per_epoch.empty()) {
    for (const auto& e : h.per_epoch)
      add(static_cast<double>(e.epoch), e.loss, e.train_acc, e.test_acc);
  } else {
    throw bad_input(path + ": no \"points\" or \"history\" to draw");
  }
  if (r.epochs <= 0)
    r.epochs = static_cast<int>(std::ceil(*std::max_element(r.x.begin(), r.x.end())));
  r.label = folder_name(path);
  if (r.label.empty()) r.label = r.model.empty() ? "run" : r.model;
  return r;
}

viz::Figure make_run_chart(const std::vector<RunMetrics>& runs, const RunChartOptions& opts) {
  if (runs.empty()) throw bad_input("plot: no runs");
  if (opts.metrics.empty()) throw bad_input("plot: no metrics");
  for (const auto& m : opts.metrics) metric_name(m);
  viz::Axes ax;
  ax.xlabel = "epoch";
  ax.title = opts.title;
  ax.ylim = opts.ylim;
  int epochs = 1;
  for (const auto& r : runs) epochs = std::max(epochs, r.epochs);
  if (epochs > 1) ax.xlim = viz::Range{1, static_cast<double>(epochs)};
  static const char* kBookFmts[] = {"-", "m--", "g-."};
  static const char* kStyles[] = {"-", "--", "-."};
  for (std::size_t k = 0; k < runs.size(); ++k) {
    for (std::size_t i = 0; i < opts.metrics.size(); ++i) {
      const std::string& m = opts.metrics[i];
      viz::Series s;
      // Drop missing values so test_acc's epoch-end points join up, as the Animator draws them.
      const auto& ys = metric_values(runs[k], m);
      for (std::size_t p = 0; p < runs[k].x.size() && p < ys.size(); ++p)
        if (std::isfinite(ys[p])) s.x.push_back(runs[k].x[p]), s.y.push_back(ys[p]);
      const int which = m == "loss" ? 0 : m == "train_acc" ? 1 : 2;
      if (runs.size() == 1) {
        s.fmt = opts.metrics.size() == 3 ? kBookFmts[which] : kBookFmts[i % 3];
        s.label = metric_name(m);
      } else {
        // One colour per run (C0, C1, ...), one line style per metric.
        s.fmt = kStyles[which];
        s.color = viz::cycle_color(k);
        s.label = runs[k].label + ": " + metric_name(m);
      }
      ax.series.push_back(std::move(s));
    }
  }
  viz::Figure fig;
  fig.width = opts.figsize.first > 0 ? opts.figsize.first : runs.size() == 1 ? 3.5 : 6.0;
  fig.height = opts.figsize.second > 0 ? opts.figsize.second : runs.size() == 1 ? 2.5 : 4.0;
  fig.scale = opts.scale;
  fig.axes.push_back(std::move(ax));
  return fig;
}

}  // namespace d2l
