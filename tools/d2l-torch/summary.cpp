// `d2l summary MODEL`: the book's layer-by-layer printout of a network (each top-level layer's
// output shape), with parameters and multiply-adds, for the models of `d2l train --list`.
#include "d2l/models/summary.h"

#include <torch/torch.h>

#include <cstdio>
#include <memory>
#include <string>

#include "common/command.h"
#include "d2l/core/error.h"
#include "d2l/data/registry.h"
#include "d2l/models/registry.h"

namespace {

struct SummaryOpts {
  std::string model;
  std::string data;         // empty: the model's data set
  std::int64_t resize = 0;  // 0: the book's resize, else the data set's size
  std::int64_t batch = 1;   // the book prints batch 1
  bool json = false;
};

int run_summary(const SummaryOpts& o) {
  const d2l::ModelSpec& spec = d2l::model_spec(o.model);
  if (spec.name == "linreg")
    throw d2l::bad_input("summary: linreg is not a network (try lenet, alexnet, resnet, ...)");
  const auto& info = d2l::data::dataset_info(o.data.empty() ? spec.dataset : o.data);
  const std::int64_t size = o.resize > 0 ? o.resize : spec.resize > 0 ? spec.resize : info.height;
  const std::int64_t channels = info.channels;
  const auto classes = static_cast<std::int64_t>(info.classes.size());
  auto net = d2l::make_model(spec.name, channels, size, classes);
  const auto s = d2l::summary(net, {o.batch, channels, size, size});
  if (o.json) {
    std::fputs(d2l::summary_json(s).c_str(), stdout);
    return 0;
  }
  std::printf("%s on %s images of %lld x %lld x %lld, %lld classes\n", spec.name.c_str(),
              info.name.c_str(), static_cast<long long>(channels), static_cast<long long>(size),
              static_cast<long long>(size), static_cast<long long>(classes));
  std::fputs(d2l::summary_table(s).c_str(), stdout);
  return 0;
}

d2l::cli::Registrar reg{
    "summary", "A network's layers: output shapes, parameters, multiply-adds (LibTorch)",
    [](CLI::App& cmd) {
      auto o = std::make_shared<SummaryOpts>();
      cmd.add_option("model", o->model, "A model of `d2l train --list` (e.g. lenet, resnet)")
          ->required();
      cmd.add_option("--data", o->data,
                     "The data set whose images it takes: fashion-mnist, mnist or cifar10 "
                     "(default: the model's)");
      cmd.add_option("--resize", o->resize,
                     "Image height and width (default: the book's resize, else the data set's)")
          ->check(CLI::PositiveNumber);
      cmd.add_option("--batch", o->batch, "Batch size of the input (default 1, as the book)")
          ->check(CLI::PositiveNumber);
      cmd.add_flag("--json", o->json, "Machine-readable output (exact integer counts)");
      cmd.footer(
          "Multiply-adds count convolutions (output elements x in channels / groups x kernel "
          "size) and linear layers (batch x in x out); other layers count 0.");
      return [o]() { return run_summary(*o); };
    }};

}  // namespace
