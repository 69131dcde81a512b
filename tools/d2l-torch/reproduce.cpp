// `d2l reproduce [MODEL...]`: trains the book's networks with the book's settings and writes one
// table beside the book's published test accuracies, and one chart.
#include "d2l/train/reproduce.h"

#include <torch/torch.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "../common/command.h"
#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"

namespace {

struct ReproduceCli {
  std::vector<std::string> models;
  d2l::RunOptions run;
  std::string out = "runs/reproduce";
  std::int64_t max_steps = 0, batch_size = 0, epochs = 0, threads = 0;
  CLI::Option *steps_opt = nullptr, *batch_opt = nullptr, *epochs_opt = nullptr,
              *threads_opt = nullptr;
  bool json = false, no_download = false;
};

int run_reproduce(ReproduceCli& c) {
  auto& o = c.run;
  if (c.steps_opt->count()) o.max_steps = c.max_steps;
  if (c.batch_opt->count()) o.batch_size = c.batch_size;
  if (c.epochs_opt->count()) o.epochs = c.epochs;
  if (c.threads_opt->count()) o.threads = c.threads;
  o.download = !c.no_download;
  o.verbose = false;
  o.progress = !c.json;
  o.terminal_chart = false;
  const auto models = c.models.empty() ? d2l::reproduce_default_models() : c.models;
  d2l::install_stop_signals();
  const auto result = d2l::reproduce(models, o, c.out, [&](const d2l::ReproduceRow& r) {
    if (c.json) return;
    static bool header = false;
    if (!header)
      std::printf("%-17s %6s %7s %9s %8s %8s %12s\n", "MODEL", "EPOCHS", "LOSS", "TRAIN ACC",
                  "TEST ACC", "BOOK", "EXAMPLES/S");
    header = true;
    char book[16] = "-";
    if (r.book_test_acc) std::snprintf(book, sizeof book, "%.3f", *r.book_test_acc);
    std::printf("%-17s %6lld %7.3f %9.3f %8.3f %8s %12.1f%s%s\n", r.model.c_str(),
                static_cast<long long>(r.epochs), r.loss, r.train_acc, r.test_acc, book,
                r.examples_per_sec, r.status == d2l::RunStatus::Finished ? "" : "  ",
                r.status == d2l::RunStatus::Finished ? "" : d2l::to_string(r.status));
    std::fflush(stdout);
  });
  if (c.json) {
    std::fputs(d2l::read_file(result.table_json).c_str(), stdout);
  } else {
    std::printf("wrote %s, %s%s%s\n", result.table_md.c_str(), result.table_json.c_str(),
                result.chart.empty() ? "" : ", ", result.chart.c_str());
  }
  if (result.interrupted) return 130;
  for (const auto& r : result.rows)
    if (r.status != d2l::RunStatus::Finished) return 1;
  return 0;
}

d2l::cli::Registrar reg{
    "reproduce", "Train the book's networks with its settings; compare with its figures",
    [](CLI::App& cmd) {
      auto c = std::make_shared<ReproduceCli>();
      cmd.add_option("models", c->models,
                     "Models (default: alexnet vgg nin googlenet bn-lenet resnet densenet)");
      cmd.add_option("--device", c->run.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
      cmd.add_option("--out", c->out,
                     "Folder: one run folder per model, reproduce.md/.json, "
                     "test-acc.png")
          ->capture_default_str();
      cmd.add_option("--data-dir", c->run.data_dir, "Folder with the data set's files");
      c->epochs_opt = cmd.add_option("--epochs", c->epochs, "Epochs, >= 1 (default: the book's)");
      c->batch_opt = cmd.add_option("--batch-size", c->batch_size,
                                    "Mini-batch size, >= 1 (default: the book's)");
      c->steps_opt =
          cmd.add_option("--max-steps", c->max_steps,
                         "Stop each model after N steps, test on N batches (smoke runs)");
      c->threads_opt = cmd.add_option("--threads", c->threads, "LibTorch threads, >= 1");
      cmd.add_flag("--no-download", c->no_download, "Never download a missing data set");
      cmd.add_flag("--json", c->json, "Print the table as JSON");
      cmd.footer(
          "Exit codes: 0 every model trained, 1 a failure or a model diverged, 2 bad input, 130 "
          "interrupted (the table holds the models that finished).");
      return [c]() { return run_reproduce(*c); };
    }};

}  // namespace
