#pragma once
/// \file d2l/train/reproduce.h
/// Trains the book's networks with the book's settings and puts the results beside the book's
/// published figures: how a user checks a new GPU box, and how d2l-cpp proves its fidelity
/// (LibTorch). Behind `d2l reproduce`.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "d2l/train/run.h"

namespace d2l {

/// The test accuracy the book (v1, PyTorch) prints for `model` after its default training, if it
/// prints one.
std::optional<double> book_test_acc(const std::string& model);

/// The models `d2l reproduce` trains when none is named: those the book publishes a figure for.
std::vector<std::string> reproduce_default_models();

/// One trained model in the table.
struct ReproduceRow {
  std::string model, dataset, device, out;
  std::int64_t epochs = 0;
  double loss = 0, train_acc = 0, test_acc = 0;
  std::optional<double> book_test_acc;
  double examples_per_sec = 0;
  double wall_seconds = 0;  ///< the whole run: data, training, evaluation, pictures
  RunStatus status = RunStatus::Finished;
};

/// The table and where it was written.
struct ReproduceResult {
  std::vector<ReproduceRow> rows;
  std::string table_md, table_json, chart;  ///< files in the output folder
  bool interrupted = false;
};

/// Trains each of `models` with the book's settings, adjusted by `base` (device, data folder,
/// --max-steps, --batch-size, --epochs: its model and out are ignored), each in
/// OUT/MODEL/, then writes OUT/reproduce.md, OUT/reproduce.json and OUT/test-acc.png (every run's
/// test accuracy by epoch). `on_row` is called after each model. Stops at an interruption (the
/// table holds what finished). Throws d2l::Error (BadInput) for an unknown model.
ReproduceResult reproduce(const std::vector<std::string>& models, const RunOptions& base,
                          const std::string& out,
                          const std::function<void(const ReproduceRow&)>& on_row = {});

/// "ok", "diverged", "interrupted": a run's status in the table.
const char* to_string(RunStatus status);

/// The markdown table of `rows` (model, epochs, loss, train acc, test acc, book, examples/s,
/// wall time, device).
std::string reproduce_markdown(const std::vector<ReproduceRow>& rows);

}  // namespace d2l
