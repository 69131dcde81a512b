#include "d2l/train/reproduce.h"

#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "d2l/core/atomic_file.h"
#include "d2l/core/duration.h"
#include "d2l/core/error.h"
#include "d2l/models/registry.h"
#include "d2l/viz/run_chart.h"

namespace d2l {
namespace {

std::string fixed(double v, int digits) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

}  // namespace

const char* to_string(RunStatus s) {
  switch (s) {
    case RunStatus::Finished:
      return "ok";
    case RunStatus::Diverged:
      return "diverged";
    case RunStatus::Interrupted:
      return "interrupted";
  }
  return "ok";
}

std::optional<double> book_test_acc(const std::string& model) {
  // The test accuracies the book's v1 PyTorch edition prints (chapters 6-8, Fashion-MNIST).
  static const std::map<std::string, double> kBook = {
      {"lenet", 0.791},     {"alexnet", 0.877},  {"vgg", 0.918},    {"nin", 0.836},
      {"googlenet", 0.896}, {"bn-lenet", 0.874}, {"resnet", 0.913}, {"densenet", 0.900}};
  const auto it = kBook.find(model);
  if (it == kBook.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> reproduce_default_models() {
  return {"alexnet", "vgg", "nin", "googlenet", "bn-lenet", "resnet", "densenet"};
}

std::string reproduce_markdown(const std::vector<ReproduceRow>& rows) {
  std::string md =
      "| model | epochs | loss | train acc | test acc | book test acc | examples/s | wall time | "
      "device |\n|---|---:|---:|---:|---:|---:|---:|---:|---|\n";
  for (const auto& r : rows) {
    md += "| " + r.model +
          (r.status == RunStatus::Finished ? "" : std::string(" (") + to_string(r.status) + ")") +
          " | " + std::to_string(r.epochs) + " | " + fixed(r.loss, 3) + " | " +
          fixed(r.train_acc, 3) + " | " + fixed(r.test_acc, 3) + " | " +
          (r.book_test_acc ? fixed(*r.book_test_acc, 3) : std::string("-")) + " | " +
          fixed(r.examples_per_sec, 1) + " | " + format_duration(r.wall_seconds) + " | " +
          r.device + " |\n";
  }
  return md;
}

ReproduceResult reproduce(const std::vector<std::string>& models, const RunOptions& base,
                          const std::string& out,
                          const std::function<void(const ReproduceRow&)>& on_row) {
  for (const auto& m : models) {
    model_spec(m);  // every name is checked before anything trains
    if (m == "linreg") throw bad_input("reproduce: linreg is not an image classifier");
  }
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec || !std::filesystem::is_directory(out))
    throw Error("--out " + out + ": cannot create: " + ec.message());
  ReproduceResult result;
  std::vector<RunMetrics> charts;
  for (const auto& m : models) {
    RunOptions o = base;
    o.model = m;
    o.resume.clear();
    o.out = out + "/" + m;
    o.plot.clear();
    const auto t0 = std::chrono::steady_clock::now();
    const RunPlan plan = plan_run(o);
    const RunResult r = train_run(plan, o);
    ReproduceRow row;
    row.model = m;
    row.dataset = plan.data;
    row.device = r.history.device;
    row.out = o.out;
    row.epochs = static_cast<std::int64_t>(r.history.per_epoch.size());
    row.loss = r.history.loss();
    row.train_acc = r.history.train_acc();
    row.test_acc = r.history.test_acc();
    row.book_test_acc = book_test_acc(m);
    row.examples_per_sec = r.history.examples_per_sec();
    row.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    row.status = r.status;
    result.rows.push_back(row);
    if (!r.history.per_epoch.empty()) {
      try {
        auto rm = read_run_metrics(o.out + "/metrics.json");
        rm.label = m;
        charts.push_back(std::move(rm));
      } catch (const Error&) {
        // a run without metrics is still in the table
      }
    }
    if (on_row) on_row(row);
    if (r.status == RunStatus::Interrupted) {
      result.interrupted = true;
      break;
    }
  }
  nlohmann::json j = nlohmann::json::array();
  for (const auto& r : result.rows)
    j.push_back({{"model", r.model},
                 {"dataset", r.dataset},
                 {"epochs", r.epochs},
                 {"loss", r.loss},
                 {"train_acc", r.train_acc},
                 {"test_acc", r.test_acc},
                 {"book_test_acc",
                  r.book_test_acc ? nlohmann::json(*r.book_test_acc) : nlohmann::json(nullptr)},
                 {"examples_per_sec", r.examples_per_sec},
                 {"wall_seconds", r.wall_seconds},
                 {"device", r.device},
                 {"status", to_string(r.status)},
                 {"out", r.out}});
  result.table_json = out + "/reproduce.json";
  result.table_md = out + "/reproduce.md";
  write_file_atomic(result.table_json, j.dump(2) + "\n");
  write_file_atomic(result.table_md, reproduce_markdown(result.rows));
  if (!charts.empty()) {
    RunChartOptions copts;
    copts.metrics = {"test_acc"};
    copts.title = "test accuracy by epoch";
    if (viz::try_save_figure(make_run_chart(charts, copts), out + "/test-acc.png"))
      result.chart = out + "/test-acc.png";
  }
  return result;
}

}  // namespace d2l
