// `d2l plot METRICS.json [MORE.json ...] -o FILE`: redraws the training chart of finished runs
// (the metrics.json of `d2l train --out DIR`), several runs in one chart to compare them.
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../common/command.h"
#include "d2l/core/error.h"
#include "d2l/viz/run_chart.h"
#include "flag_checks.h"

namespace {

struct PlotOpts {
  std::vector<std::string> inputs;
  std::string out;
  std::string metrics = "loss,train_acc,test_acc";
  std::vector<std::string> labels;
  std::string title;
  std::string figsize;
  std::string ylim;
  double scale = 1.0;
  bool json = false;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::pair<double, double> two_numbers(const std::string& s, char sep, const char* what) {
  const auto parts = split(s, sep);
  try {
    if (parts.size() == 2) return {std::stod(parts[0]), std::stod(parts[1])};
  } catch (const std::exception&) {
  }
  throw d2l::bad_input(std::string(what) + " '" + s + "': expected two numbers separated by '" +
                       sep + "'");
}

int run(const PlotOpts& o) {
  std::vector<d2l::RunMetrics> runs;
  for (const auto& path : o.inputs) runs.push_back(d2l::read_run_metrics(path));
  if (!o.labels.empty() && o.labels.size() != runs.size())
    throw d2l::bad_input("--label given " + std::to_string(o.labels.size()) + " times for " +
                         std::to_string(runs.size()) + " runs");
  for (std::size_t i = 0; i < o.labels.size(); ++i) runs[i].label = o.labels[i];
  d2l::RunChartOptions c;
  c.metrics = split(o.metrics, ',');
  c.title = o.title;
  c.scale = o.scale;
  if (!o.figsize.empty()) {
    c.figsize = two_numbers(o.figsize, 'x', "--figsize");
    if (!(c.figsize.first > 0.5 && c.figsize.second > 0.5 && c.figsize.first < 100 &&
          c.figsize.second < 100))
      throw d2l::bad_input("--figsize '" + o.figsize + "': inches between 0.5 and 100");
  }
  if (!o.ylim.empty()) {
    const auto [lo, hi] = two_numbers(o.ylim, ',', "--ylim");
    if (!(std::isfinite(lo) && std::isfinite(hi) && lo < hi))
      throw d2l::bad_input("--ylim '" + o.ylim +
                           "': expected two finite numbers LO,HI with LO < HI");
    c.ylim = d2l::viz::Range{lo, hi};
  }
  d2l::viz::format_for_path(o.out);  // bad extension: usage error before drawing
  const d2l::viz::Figure fig = d2l::make_run_chart(runs, c);
  d2l::viz::save_figure(fig, o.out);
  if (o.json) {
    nlohmann::json j;
    j["path"] = o.out;
    j["runs"] = runs.size();
    nlohmann::json labels = nlohmann::json::array();
    for (const auto& r : runs) labels.push_back(r.label);
    j["labels"] = labels;
    j["width_in"] = fig.width;
    j["height_in"] = fig.height;
    if (d2l::viz::format_for_path(o.out) == d2l::viz::ImageFormat::Png) {
      const auto [w, h] = d2l::viz::png_size(fig);
      j["width_px"] = w;
      j["height_px"] = h;
    }
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("wrote %s (%zu run%s)\n", o.out.c_str(), runs.size(), runs.size() == 1 ? "" : "s");
  }
  return 0;
}

d2l::cli::Registrar reg{
    "plot", "Redraw the training chart of finished runs (metrics.json)", [](CLI::App& cmd) {
      auto o = std::make_shared<PlotOpts>();
      cmd.add_option("metrics", o->inputs, "metrics.json files written by `d2l train --out DIR`")
          ->required()
          ->check(CLI::ExistingFile);
      cmd.add_option("-o,--output", o->out, "Picture to write: .png, .svg or .pdf")->required();
      cmd.add_option("--metrics", o->metrics,
                     "Lines per run, comma-separated: loss, train_acc, test_acc")
          ->capture_default_str()
          ->check(d2l::cli::non_empty());
      cmd.add_option("--label", o->labels,
                     "Name of each run in the legend, once per file (default: its folder)");
      cmd.add_option("--title", o->title, "Title over the chart");
      cmd.add_option("--figsize", o->figsize,
                     "WxH in inches (default 3.5x2.5 for one run, 6x4 for several)")
          ->check(d2l::cli::non_empty());
      cmd.add_option("--ylim", o->ylim, "LO,HI of the y axis (default: from the data)")
          ->check(d2l::cli::non_empty());
      cmd.add_option("--scale", o->scale, "PNG resolution: 100*SCALE pixels per inch")
          ->check(d2l::cli::positive_up_to(20))
          ->capture_default_str();
      cmd.add_flag("--json", o->json, "Print what was written as JSON");
      cmd.footer(
          "Examples:\n"
          "  d2l plot runs/lenet/metrics.json -o lenet.png\n"
          "  d2l plot runs/*/metrics.json --metrics test_acc -o compare.svg\n"
          "Exit codes: 0 written, 1 cannot write or built without Cairo, 2 bad input.");
      return [o]() { return run(*o); };
    }};

}  // namespace
