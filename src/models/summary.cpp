#include "d2l/models/summary.h"

#include <ATen/record_function.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

#include "d2l/core/error.h"
#include "d2l/core/torch_error.h"

namespace d2l {
namespace {

// Multiply-adds of the operators that ran on this thread while a MultAddCounter was alive,
// observed through ATen's RecordFunction callbacks: convolutions (every Conv*d goes through
// aten::convolution) and matrix products (LibTorch's Linear runs aten::addmm or aten::matmul).
// Only the outermost such operator counts: aten::linear's inner addmm, matmul's inner mm and a
// convolution's inner products are not counted again.
thread_local std::int64_t* tl_mult_adds = nullptr;
thread_local int tl_depth = 0;  // counted operators now running on this thread

enum class OpKind { Other, Convolution, Product };

OpKind kind_of(const char* name) {
  if (std::strcmp(name, "aten::convolution") == 0) return OpKind::Convolution;
  for (const char* product : {"aten::linear", "aten::addmm", "aten::mm", "aten::matmul",
                              "aten::bmm", "aten::baddbmm", "aten::addmv", "aten::mv"})
    if (std::strcmp(name, product) == 0) return OpKind::Product;
  return OpKind::Other;
}

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
  if (tl_mult_adds && kind_of(fn.name()) != OpKind::Other) ++tl_depth;
  return nullptr;
}

void on_end(const at::RecordFunction& fn, at::ObserverContext*) {
  if (!tl_mult_adds) return;
  if (kind_of(fn.name()) == OpKind::Other || --tl_depth > 0) return;
  const auto& outputs = fn.outputs();
  if (outputs.empty() || !outputs[0].isTensor()) return;
  std::vector<at::Tensor> args;
  for (const auto& v : fn.inputs()) args.push_back(v.isTensor() ? v.toTensor() : at::Tensor());
  *tl_mult_adds += op_mult_adds(fn.name(), args, outputs[0].toTensor());
}

class MultAddCounter {
 public:
  MultAddCounter() : guard_(true) {
    tl_mult_adds = &count_;
    handle_ = at::addThreadLocalCallback(
        at::RecordFunctionCallback(on_start, on_end).needsInputs(true).needsOutputs(true));
  }
  ~MultAddCounter() {
    at::removeCallback(handle_);
    tl_mult_adds = nullptr;
    tl_depth = 0;
  }
  MultAddCounter(const MultAddCounter&) = delete;
  MultAddCounter& operator=(const MultAddCounter&) = delete;
  std::int64_t take() {
    const auto n = count_;
    count_ = 0;
    return n;
  }

 private:
  at::RecordFunctionGuard guard_;
  std::int64_t count_ = 0;
  at::CallbackHandle handle_;
};

// "torch::nn::Conv2dImpl" -> "Conv2d", "d2l::ResidualImpl" -> "Residual".
std::string class_name(const torch::nn::Module& m) {
  std::string name = m.name();
  if (auto colon = name.rfind("::"); colon != std::string::npos) name = name.substr(colon + 2);
  if (name.size() > 4 && name.compare(name.size() - 4, 4, "Impl") == 0)
    name.resize(name.size() - 4);
  return name;
}

void count_params(const torch::nn::Module& m, std::int64_t& total, std::int64_t* trainable) {
  for (const auto& p : m.parameters()) {
    total += p.numel();
    if (trainable && p.requires_grad()) *trainable += p.numel();
  }
}

at::Tensor input_for(const std::vector<std::int64_t>& shape) {
  for (auto d : shape)
    if (d < 1)
      throw bad_input("summary: input shape " + format_shape(shape) + " has an empty axis");
  return torch::zeros(shape);
}

// Eval mode and no gradients for the pass; the module's mode is restored afterwards.
class EvalScope {
 public:
  explicit EvalScope(torch::nn::Module& m) : m_(m), was_training_(m.is_training()) { m_.eval(); }
  ~EvalScope() { m_.train(was_training_); }
  EvalScope(const EvalScope&) = delete;
  EvalScope& operator=(const EvalScope&) = delete;

 private:
  torch::nn::Module& m_;
  bool was_training_;
  torch::NoGradGuard no_grad_;
};

std::string fault_of(const std::exception& e) { return error_message(e); }

}  // namespace

std::int64_t op_mult_adds(const std::string& op, const std::vector<at::Tensor>& args,
                          const at::Tensor& output) {
  const OpKind kind = kind_of(op.c_str());
  if (kind == OpKind::Other || !output.defined()) return 0;
  const std::int64_t out = output.numel();
  if (kind == OpKind::Convolution) {
    // weight [out, in / groups, k...]: each output element sums in/groups x k... products.
    if (args.size() < 2 || !args[1].defined()) return 0;
    const auto& weight = args[1];
    std::int64_t per_output = 1;
    for (std::int64_t d = 1; d < weight.dim(); ++d) per_output *= weight.size(d);
    return out * per_output;
  }
  // A product: each output element sums over the inner dimension, the last one of the first
  // matrix (input [.., in] of linear; A of mm/matmul/bmm; the second argument of addmm & co.).
  const std::size_t a =
      (op == "aten::addmm" || op == "aten::baddbmm" || op == "aten::addmv") ? 1 : 0;
  if (args.size() <= a || !args[a].defined()) return 0;
  return args[a].dim() >= 1 ? out * args[a].size(-1) : 0;
}

ModelSummary summary(torch::nn::Sequential net, const std::vector<std::int64_t>& input_shape) {
  ModelSummary s;
  s.input_shape = input_shape;
  auto x = input_for(input_shape);
  EvalScope scope(*net);
  MultAddCounter counter;
  const auto children = net->children();
  std::size_t i = 0;
  for (auto& layer : *net) {
    LayerSummary row;
    row.name = class_name(*children[i]);
    try {
      x = layer.forward(x);
    } catch (const c10::Error& e) {
      throw bad_input("summary: layer " + std::to_string(i) + " (" + row.name + ") cannot take " +
                      format_shape(s.layers.empty() ? input_shape : s.layers.back().output_shape) +
                      ": " + fault_of(e));
    }
    row.output_shape = x.sizes().vec();
    count_params(*children[i], row.params, nullptr);
    row.mult_adds = counter.take();
    s.total_mult_adds += row.mult_adds;
    s.layers.push_back(std::move(row));
    ++i;
  }
  s.output_shape = x.sizes().vec();
  count_params(*net, s.total_params, &s.trainable_params);
  return s;
}

ModelSummary summary(torch::nn::AnyModule module, const std::vector<std::int64_t>& input_shape) {
  ModelSummary s;
  s.input_shape = input_shape;
  auto x = input_for(input_shape);
  auto m = module.ptr();
  EvalScope scope(*m);
  MultAddCounter counter;
  try {
    x = module.forward(x);
  } catch (const c10::Error& e) {
    throw bad_input("summary: " + class_name(*m) + " cannot take " + format_shape(input_shape) +
                    ": " + fault_of(e));
  }
  s.output_shape = x.sizes().vec();
  s.total_mult_adds = counter.take();
  count_params(*m, s.total_params, &s.trainable_params);
  return s;
}

std::string format_shape(const std::vector<std::int64_t>& shape) {
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + (shape.size() == 1 ? ",)" : ")");
}

std::string format_count(std::int64_t n) {
  const bool negative = n < 0;
  std::string digits = std::to_string(negative ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return negative ? "-" + out : out;
}

std::string summary_table(const ModelSummary& s) {
  std::ostringstream os;
  char line[256];
  std::snprintf(line, sizeof line, "%-4s %-20s %-22s %14s %18s\n", "#", "LAYER", "OUTPUT SHAPE",
                "PARAMS", "MULT-ADDS");
  os << line;
  std::snprintf(line, sizeof line, "%-4s %-20s %s\n", "", "input",
                format_shape(s.input_shape).c_str());
  os << line;
  for (std::size_t i = 0; i < s.layers.size(); ++i) {
    const auto& l = s.layers[i];
    std::snprintf(line, sizeof line, "%-4zu %-20s %-22s %14s %18s\n", i, l.name.c_str(),
                  format_shape(l.output_shape).c_str(), format_count(l.params).c_str(),
                  format_count(l.mult_adds).c_str());
    os << line;
  }
  os << "output shape:     " << format_shape(s.output_shape) << "\n";
  os << "total params:     " << format_count(s.total_params) << "\n";
  os << "trainable params: " << format_count(s.trainable_params) << "\n";
  os << "total mult-adds:  " << format_count(s.total_mult_adds) << "\n";
  return os.str();
}

std::string summary_json(const ModelSummary& s) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : s.layers)
    layers.push_back({{"name", l.name},
                      {"output_shape", l.output_shape},
                      {"params", l.params},
                      {"mult_adds", l.mult_adds}});
  nlohmann::json j = {{"input_shape", s.input_shape},
                      {"output_shape", s.output_shape},
                      {"layers", layers},
                      {"total_params", s.total_params},
                      {"trainable_params", s.trainable_params},
                      {"total_mult_adds", s.total_mult_adds}};
  return j.dump(2) + "\n";
}

}  // namespace d2l
