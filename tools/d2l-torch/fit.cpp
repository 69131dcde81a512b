// `d2l fit MODEL`: before renting a GPU, the memory a training step needs (broken down), the
// largest batch, the epoch time and the run's cost on every GPU instance of `d2l cost`'s
// catalogue, and the cheapest that fits; `--measure` runs real steps on the device beside it.
#include "d2l/train/fit.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/command.h"
#include "d2l/core/device.h"
#include "d2l/core/error.h"
#include "d2l/data/registry.h"
#include "d2l/models/registry.h"
#include "d2l/models/summary.h"
#include "d2l/ops/pricing.h"

namespace {

struct FitCli {
  std::string model, data, precision = "fp32", optimizer = "sgd", gpu, instance, catalog,
                           device = "auto", write_profiles;
  std::int64_t batch = 0, resize = 0, epochs = 0;
  double momentum = 0, efficiency = 0;
  bool json = false, check = false, no_cache = false;
  CLI::Option *batch_opt = nullptr, *resize_opt = nullptr, *epochs_opt = nullptr,
              *efficiency_opt = nullptr;
};

std::string bytes_text(std::int64_t b) {
  char buf[32];
  const double v = static_cast<double>(b);
  if (v >= 1073741824.0)
    std::snprintf(buf, sizeof buf, "%.2f GiB", v / 1073741824.0);
  else if (v >= 1048576.0)
    std::snprintf(buf, sizeof buf, "%.1f MiB", v / 1048576.0);
  else if (v >= 1024.0)
    std::snprintf(buf, sizeof buf, "%.1f KiB", v / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(b));
  return buf;
}

std::string seconds_text(std::optional<double> s) {
  if (!s) return "-";
  char buf[32];
  if (*s < 1)
    std::snprintf(buf, sizeof buf, "%.0f ms", *s * 1e3);
  else if (*s < 120)
    std::snprintf(buf, sizeof buf, "%.1f s", *s);
  else if (*s < 7200)
    std::snprintf(buf, sizeof buf, "%.1f min", *s / 60);
  else
    std::snprintf(buf, sizeof buf, "%.1f h", *s / 3600);
  return buf;
}

std::string money_text(std::optional<double> usd) {
  if (!usd) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, *usd < 0.01 ? "$%.4f" : "$%.2f", *usd);
  return buf;
}

nlohmann::json memory_json(const d2l::MemoryEstimate& m) {
  return {{"batch", m.batch},
          {"params_bytes", m.params},
          {"gradients_bytes", m.gradients},
          {"optimizer_state_bytes", m.optimizer_state},
          {"weight_copies_bytes", m.weight_copies},
          {"input_bytes", m.input},
          {"activations_bytes", m.activations},
          {"transient_bytes", m.transient},
          {"optimizer_transient_bytes", m.optimizer_transient},
          {"framework_bytes", m.framework},
          {"peak_tensor_bytes", m.peak},
          {"predicted_bytes", m.total}};
}

nlohmann::json row_json(const d2l::FitRow& r) {
  nlohmann::json j = {{"instance", r.instance},
                      {"region", r.region},
                      {"gpu", r.gpu},
                      {"gpus", r.gpus},
                      {"gpu_memory_bytes", r.gpu_memory_bytes},
                      {"supported", r.supported},
                      {"fits", r.fits},
                      {"memory", memory_json(r.memory)}};
  j["price_per_hour"] = r.price ? nlohmann::json(*r.price) : nlohmann::json(nullptr);
  j["max_batch"] = r.max_batch ? nlohmann::json(*r.max_batch) : nlohmann::json(nullptr);
  j["epoch_seconds"] = r.epoch_seconds ? nlohmann::json(*r.epoch_seconds) : nlohmann::json(nullptr);
  j["run_cost_usd"] = r.run_cost ? nlohmann::json(*r.run_cost) : nlohmann::json(nullptr);
  return j;
}

nlohmann::json linear_json(const d2l::LinearBytes& l) {
  return {{"fixed", l.fixed}, {"per_example", l.per_example}};
}

void print_breakdown(const d2l::MemoryEstimate& cpu, const std::string& cpu_title,
                     const d2l::MemoryEstimate* gpu, const std::string& gpu_title) {
  std::printf("\n%-42s %14s",
              ("MEMORY OF ONE STEP (batch " + std::to_string(cpu.batch) + ")").c_str(),
              cpu_title.c_str());
  if (gpu) std::printf(" %18s", gpu_title.c_str());
  std::printf("\n");
  auto line = [&](const char* what, std::int64_t c, std::optional<std::int64_t> g) {
    std::printf("  %-40s %14s", what, bytes_text(c).c_str());
    if (gpu) std::printf(" %18s", g ? bytes_text(*g).c_str() : "-");
    std::printf("\n");
  };
  const auto G = [&](std::int64_t d2l::MemoryEstimate::*f) -> std::optional<std::int64_t> {
    return gpu ? std::optional<std::int64_t>((*gpu).*f) : std::nullopt;
  };
  line("parameters (fp32)", cpu.params, G(&d2l::MemoryEstimate::params));
  line("gradients", cpu.gradients, G(&d2l::MemoryEstimate::gradients));
  line("optimizer state", cpu.optimizer_state, G(&d2l::MemoryEstimate::optimizer_state));
  line("half weight copies (autocast)", cpu.weight_copies, G(&d2l::MemoryEstimate::weight_copies));
  line("input batch", cpu.input, G(&d2l::MemoryEstimate::input));
  line("activations saved for backward", cpu.activations, G(&d2l::MemoryEstimate::activations));
  line("largest transient (forward/backward)", cpu.transient, G(&d2l::MemoryEstimate::transient));
  line("optimizer step temporaries", cpu.optimizer_transient,
       G(&d2l::MemoryEstimate::optimizer_transient));
  line("peak of the tensors", cpu.peak, G(&d2l::MemoryEstimate::peak));
  line("framework: CUDA context, workspaces", cpu.framework, G(&d2l::MemoryEstimate::framework));
  line("TOTAL", cpu.total, G(&d2l::MemoryEstimate::total));
}

int run_fit(const FitCli& c) {
  if (!c.write_profiles.empty()) {
    const int n = d2l::write_book_profiles(c.write_profiles);
    std::printf("%d step profiles written to %s\n", n, c.write_profiles.c_str());
    return 0;
  }
  if (c.model.empty()) throw d2l::bad_input("fit: MODEL is required (d2l fit --help)");
  const d2l::ModelSpec& spec = d2l::model_spec(c.model);
  if (spec.name == "linreg")
    throw d2l::bad_input("fit: linreg is not a network (try lenet, alexnet, resnet, ...)");
  if (!c.gpu.empty() && !c.instance.empty())
    throw d2l::bad_input("fit: give --gpu or --instance, not both");
  const auto& info = d2l::data::dataset_info(c.data.empty() ? spec.dataset : c.data);
  if (c.batch_opt->count() && c.batch < 1)
    throw d2l::bad_input("--batch-size must be >= 1, got " + std::to_string(c.batch));
  if (c.epochs_opt->count() && c.epochs < 1)
    throw d2l::bad_input("--epochs must be >= 1, got " + std::to_string(c.epochs));
  if (c.resize_opt->count() && (c.resize < 1 || c.resize > 4096))
    throw d2l::bad_input("--resize must be in 1..4096, got " + std::to_string(c.resize));
  if (!(c.momentum >= 0 && c.momentum < 1))
    throw d2l::bad_input("--momentum must be in [0, 1), got " + std::to_string(c.momentum));
  if (c.efficiency_opt->count() && !(c.efficiency > 0 && c.efficiency <= 1))
    throw d2l::bad_input("--efficiency must be in (0, 1], got " + std::to_string(c.efficiency));

  d2l::FitQuery q;
  q.batch = c.batch_opt->count() ? c.batch : spec.batch_size;
  q.epochs = c.epochs_opt->count() ? c.epochs : spec.epochs;
  q.precision = d2l::parse_precision(c.precision);
  q.optimizer.kind = d2l::parse_optimizer(c.optimizer);
  q.optimizer.lr = spec.lr;
  q.optimizer.momentum = c.momentum;
  if (q.optimizer.kind != d2l::OptimizerKind::SGD && c.momentum > 0)
    throw d2l::bad_input("--momentum is for sgd only (adam and adamw keep two moments)");
  if (c.efficiency_opt->count()) q.efficiency = c.efficiency;
  q.examples = d2l::train_examples(info.name);

  const d2l::GpuSpec* gpu = c.gpu.empty() ? nullptr : &d2l::gpu_spec(c.gpu);
  const d2l::ops::InstanceOffer* offer = nullptr;
  const auto catalog = d2l::ops::Catalog::load_default(c.catalog);
  if (!c.instance.empty()) {
    offer = &catalog.find(c.instance);
    gpu = d2l::gpu_for_offer(*offer);
    if (!gpu)
      throw d2l::bad_input(
          "fit: instance " + c.instance + " has no GPU that d2l fit knows (" +
          (offer->accelerator_name.empty() ? "CPU only" : offer->accelerator_name) + ")");
  }

  const c10::Device device = d2l::parse_device(c.device);  // an absent GPU: one line, exit 2
  const std::int64_t size = c.resize_opt->count() ? c.resize
                            : spec.resize > 0     ? spec.resize
                                                  : info.height;
  const std::int64_t channels = info.channels;
  const auto classes = static_cast<std::int64_t>(info.classes.size());
  const std::vector<std::int64_t> example{channels, size, size};
  // Shapes and counts only: one forward pass of 2 examples, nothing trains; stored once made.
  d2l::ProfileSource source = d2l::ProfileSource::Analysed;
  const d2l::StepProfile prof =
      d2l::step_profile_for(spec.name, channels, size, classes, !c.no_cache, &source);

  std::vector<d2l::FitRow> rows;
  if (gpu)
    rows.push_back(d2l::fit_row(prof, q, *gpu, offer));
  else
    rows = d2l::fit_rows(prof, q, catalog);
  const auto cheapest = d2l::cheapest_fit(rows);
  // The device of the run (--device): this CPU in fp32, or this machine's GPU.
  const auto cuda = d2l::cuda_device_memory(device);
  const d2l::MemoryEstimate here =
      cuda ? d2l::estimate_memory(prof, q.batch, q.precision, q.optimizer, q.overhead)
           : d2l::estimate_memory(prof, q.batch, d2l::Precision::FP32, q.optimizer, std::nullopt);
  std::string here_title = "this CPU, fp32";
  if (cuda) here_title = device.str() + ", " + d2l::to_string(q.precision);
  // The device whose total is memory.predicted_bytes: the one GPU asked for, else --device.
  const d2l::MemoryEstimate& predicted = gpu ? rows.front().memory : here;

  std::optional<d2l::MeasuredStep> measured;
  if (c.check)
    measured = d2l::measure_step(spec.name, example, classes, q.batch, q.optimizer, 2, device);
  const double eff = q.efficiency.value_or(d2l::default_efficiency(q.precision));
  const char* note =
      cuda ? "GPU rows are estimates from NVIDIA datasheets and stated overheads (docs/fit.md)"
           : "GPU figures are estimates from NVIDIA datasheets and stated overheads; no GPU was "
             "used (docs/fit.md)";
  // This machine's GPU in the datasheet table: the time the prediction gives for it.
  const d2l::GpuSpec* here_gpu =
      cuda ? d2l::gpu_for_device_name(cuda->name,
                                      static_cast<double>(cuda->total_bytes) / 1073741824.0)
           : nullptr;
  std::optional<double> here_step;
  if (here_gpu) here_step = d2l::step_seconds(prof, q.batch, *here_gpu, q.precision, eff);
  const std::int64_t steps_per_epoch = (q.examples + q.batch - 1) / q.batch;
  nlohmann::json by_op = nlohmann::json::object();
  for (const auto& o : prof.ops) {
    auto& e = by_op[o.op];
    if (e.is_null()) e = {{"fixed", 0.0}, {"per_example", 0.0}, {"count", 0}};
    e["fixed"] = e["fixed"].get<double>() + o.saved.fixed;
    e["per_example"] = e["per_example"].get<double>() + o.saved.per_example;
    e["count"] = e["count"].get<int>() + 1;
  }

  if (c.json) {
    nlohmann::json j = {{"model", spec.name},
                        {"data", info.name},
                        {"example_shape", example},
                        {"classes", classes},
                        {"batch", q.batch},
                        {"precision", d2l::to_string(q.precision)},
                        {"optimizer", d2l::to_string(q.optimizer.kind)},
                        {"momentum", q.optimizer.momentum},
                        {"epochs", q.epochs},
                        {"examples", q.examples},
                        {"efficiency", eff},
                        {"params", prof.params},
                        {"trainable_params", prof.trainable_params},
                        {"mult_adds", prof.mult_adds},
                        {"profile_source", d2l::to_string(source)},
                        {"note", note}};
    j["profile"] = {
        {"traced_batch", prof.traced_batch},
        {"input", linear_json(prof.input)},
        {"saved", linear_json(prof.saved)},
        {"saved_integer", linear_json(prof.saved_integer)},
        {"saved_dropout", linear_json(prof.saved_dropout)},
        {"saved_by_op", by_op},
        {"forward_transient_bytes", prof.forward_transient(q.batch)},
        {"backward_transient_bytes", prof.backward_transient(q.batch)},
        {"optimizer_transient_bytes", d2l::optimizer_transient_bytes(prof, q.optimizer)}};
    nlohmann::json mem = memory_json(predicted);
    mem["device"] = gpu ? gpu->name : device.str();
    mem["run_device"] = device.str();
    if (cuda) mem["run_device_name"] = cuda->name;
    mem["here"] = memory_json(here);
    if (here_gpu) j["device_gpu"] = here_gpu->name;
    if (here_step) {
      j["predicted_step_seconds"] = *here_step;
      j["predicted_epoch_seconds"] = *here_step * static_cast<double>(steps_per_epoch);
    }
    if (measured) {
      j["measured_step_seconds"] = measured->step_seconds;
      j["measured_epoch_seconds_from_step"] =
          measured->step_seconds * static_cast<double>(steps_per_epoch);
      mem["measured_device"] = measured->device;
      mem["measured_peak_bytes"] = measured->peak_bytes;
      mem["measured_tensor_peak_bytes"] = measured->tensor_peak_bytes;
      mem["measured_context_bytes"] = measured->context_bytes;
      mem["measured_step_seconds"] = measured->step_seconds;
      mem["predicted_over_measured"] =
          static_cast<double>(here.total) / static_cast<double>(measured->peak_bytes);
    }
    j["memory"] = mem;
    j["rows"] = nlohmann::json::array();
    for (const auto& r : rows) j["rows"].push_back(row_json(r));
    j["cheapest"] = cheapest ? nlohmann::json(rows[*cheapest].instance) : nlohmann::json(nullptr);
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }

  std::printf(
      "%s on %s images of %lld x %lld x %lld, %lld classes: %s parameters, %s "
      "multiply-adds per example\n",
      spec.name.c_str(), info.name.c_str(), static_cast<long long>(channels),
      static_cast<long long>(size), static_cast<long long>(size), static_cast<long long>(classes),
      d2l::format_count(prof.params).c_str(), d2l::format_count(prof.mult_adds).c_str());
  std::printf(
      "batch %lld, %s, %s%s, %lld epochs of %s examples\n", static_cast<long long>(q.batch),
      d2l::to_string(q.precision).c_str(), d2l::to_string(q.optimizer.kind).c_str(),
      q.optimizer.kind == d2l::OptimizerKind::SGD
          ? (" (momentum " + std::to_string(q.optimizer.momentum).substr(0, 4) + ")").c_str()
          : "",
      static_cast<long long>(q.epochs), d2l::format_count(q.examples).c_str());
  const d2l::MemoryEstimate* gpu_mem = rows.empty() ? nullptr : &rows.front().memory;
  std::string title =
      gpu ? "per GPU, " + d2l::to_string(q.precision) : "a GPU, " + d2l::to_string(q.precision);
  if (!gpu && !rows.empty() && rows.front().gpus > 1) gpu_mem = nullptr;  // split batch
  print_breakdown(here, here_title, gpu_mem, title);

  std::printf("\n%-16s %-10s %4s %9s %9s %4s %9s %9s %9s %7s\n", "INSTANCE", "GPU", "GPUS",
              "MEM/GPU", "NEED/GPU", "FITS", "MAX BATCH", "EPOCH",
              ("RUN x" + std::to_string(q.epochs)).c_str(), "$/HOUR");
  for (const auto& r : rows) {
    char price[16] = "-";
    if (r.price) std::snprintf(price, sizeof price, "%.3f", *r.price);
    std::printf("%-16s %-10s %4d %9s %9s %4s %9s %9s %9s %7s\n",
                r.instance.empty() ? "-" : r.instance.c_str(), r.gpu.c_str(), r.gpus,
                bytes_text(r.gpu_memory_bytes).c_str(), bytes_text(r.memory.total).c_str(),
                !r.supported ? "n/a"
                : r.fits     ? "yes"
                             : "no",
                r.max_batch ? std::to_string(*r.max_batch).c_str() : "-",
                seconds_text(r.epoch_seconds).c_str(), money_text(r.run_cost).c_str(), price);
  }
  if (rows.empty()) std::printf("(no GPU instance in the catalogue)\n");
  if (cheapest)
    std::printf("cheapest that fits: %s (%s, %s for %lld epochs)\n",
                rows[*cheapest].instance.c_str(), rows[*cheapest].gpu.c_str(),
                money_text(rows[*cheapest].run_cost).c_str(), static_cast<long long>(q.epochs));
  else if (!gpu)
    std::printf("no instance of the catalogue fits this batch: lower --batch-size\n");
  for (const auto& r : rows)
    if (!r.supported)
      std::printf("n/a: %s has no %s support\n", r.gpu.c_str(),
                  d2l::to_string(q.precision).c_str());
  std::printf(
      "epoch time: 6 x multiply-adds x examples / (datasheet TFLOP/s x efficiency %.2f) + "
      "activation traffic / bandwidth\n",
      eff);
  std::printf("%s\n", note);
  if (here_step)
    std::printf("%s as %s: step %s, epoch %s (predicted)\n", device.str().c_str(),
                here_gpu->name.c_str(), seconds_text(here_step).c_str(),
                seconds_text(*here_step * static_cast<double>(steps_per_epoch)).c_str());
  if (cuda)
    std::printf("%s (%s): %s of %s free now\n", device.str().c_str(), cuda->name.c_str(),
                bytes_text(cuda->free_bytes).c_str(), bytes_text(cuda->total_bytes).c_str());
  if (measured) {
    const double ratio =
        static_cast<double>(here.total) / static_cast<double>(measured->peak_bytes);
    std::printf(
        "\nmeasured on %s: %d real training steps at batch %lld: peak %s (%s), predicted %s: "
        "predicted/measured %.2f; step %.3f s\n",
        measured->device.c_str(), measured->steps, static_cast<long long>(q.batch),
        bytes_text(measured->peak_bytes).c_str(),
        device.is_cpu() ? "counting CPU allocator" : "caching allocator's peak + context",
        bytes_text(here.total).c_str(), ratio, measured->step_seconds);
  }
  return 0;
}

d2l::cli::Registrar reg{
    "fit", "Before renting a GPU: memory, largest batch, epoch time and cost of a run (LibTorch)",
    [](CLI::App& cmd) {
      auto o = std::make_shared<FitCli>();
      cmd.add_option("model", o->model, "A model of `d2l train --list` (e.g. lenet, resnet)");
      cmd.add_option("--data", o->data, "fashion-mnist, mnist or cifar10 (default: the model's)");
      o->batch_opt = cmd.add_option("--batch-size,--batch", o->batch,
                                    "Batch size, >= 1 (default: the book's)");
      o->resize_opt = cmd.add_option("--resize", o->resize,
                                     "Image height and width (default: the book's resize)");
      cmd.add_option("--precision", o->precision, "fp32, tf32, bf16 or fp16 (default fp32)");
      cmd.add_option("--optimizer", o->optimizer, "sgd, adam or adamw (default: sgd, the book's)");
      cmd.add_option("--momentum", o->momentum, "SGD momentum, in [0, 1) (default 0)");
      o->epochs_opt =
          cmd.add_option("--epochs", o->epochs, "Epochs of the run, >= 1 (default: the book's)");
      cmd.add_option("--gpu", o->gpu,
                     "One GPU of the datasheet table: T4, V100-16GB, V100-32GB, A10G, L4, "
                     "A100-40GB, A100-80GB, L40S, H100, H200");
      cmd.add_option("--instance", o->instance,
                     "One instance type of `d2l cost` (e.g. g4dn.xlarge)");
      cmd.add_option("--catalog", o->catalog, "A catalogue CSV instead of `d2l cost`'s");
      o->efficiency_opt = cmd.add_option(
          "--efficiency", o->efficiency,
          "Share of the datasheet TFLOP/s a step reaches, in (0, 1] (default 0.5 fp32, 0.2 "
          "tensor cores)");
      cmd.add_option("--device", o->device,
                     "The device of the run, as for d2l train: auto, cpu, cuda or cuda:N "
                     "(default auto: the first GPU, else the CPU)");
      cmd.add_flag("--measure,--check", o->check,
                   "Also run 2 real training steps on --device and print the measured peak "
                   "memory beside the prediction");
      cmd.add_flag("--json", o->json,
                   "One JSON object (memory.predicted_bytes, params, profile_source, rows)");
      cmd.add_flag("--no-cache", o->no_cache,
                   "Analyse the network afresh: neither read nor write a stored profile");
      cmd.add_option("--write-profiles", o->write_profiles,
                     "Write the profiles of every book network into DIR and stop (what the build "
                     "does for share/d2l/fit-profiles)");
      cmd.footer(
          "Nothing trains to predict: the activations come from the shapes of one forward pass "
          "of 2 examples and what autograd keeps; the result is stored (the build's "
          "share/d2l/fit-profiles, then ~/.cache/d2l/fit; D2L_FIT_PROFILES names another "
          "store). GPU figures are datasheet-based estimates. See docs/fit.md.\n"
          "Exit codes: 0 ok, 1 failure, 2 usage or bad input, 130 interrupted.");
      return [o]() { return run_fit(*o); };
    }};

}  // namespace
