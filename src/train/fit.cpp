#include "d2l/train/fit.h"

#include <ATen/record_function.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <torch/torch.h>
#include <torch/version.h>

#ifdef D2L_HAS_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
#endif

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "d2l/core/atomic_file.h"
#include "d2l/core/device.h"
#include "d2l/core/error.h"
#include "d2l/core/paths.h"
#include "d2l/core/torch_error.h"
#include "d2l/data/registry.h"
#include "d2l/models/registry.h"
#include "d2l/models/summary.h"

namespace d2l {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ---- the counting CPU allocator -------------------------------------------------------------
// Allocates with c10's own alloc_cpu/free_cpu (the default CPU allocator's functions) and keeps
// each block's size, so that the data pointer is its own context and the raw interface works.
class CountingAllocator final : public c10::Allocator {
 public:
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
  c10::DataPtr allocate(size_t n) override { return counted(n); }
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }
#else
  c10::DataPtr allocate(size_t n) const override { return counted(n); }
#endif
  c10::DeleterFnPtr raw_deleter() const override { return &release; }

  std::atomic<std::int64_t> live{0};
  std::atomic<std::int64_t> peak{0};

 private:
  c10::DataPtr counted(size_t n) const;
  static void release(void* p);
  mutable std::mutex mutex_;
  mutable std::unordered_map<void*, std::int64_t> sizes_;
  friend class d2l::CpuMemoryCounter;
};

CountingAllocator& counting_allocator() {
  static auto* a = new CountingAllocator;  // outlives every tensor it allocated
  return *a;
}

c10::DataPtr CountingAllocator::counted(size_t n) const {
  void* data = c10::alloc_cpu(n);
  const auto bytes = static_cast<std::int64_t>(n);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    sizes_[data] = bytes;
  }
  auto& self = const_cast<CountingAllocator&>(*this);
  const std::int64_t now = self.live.fetch_add(bytes) + bytes;
  std::int64_t seen = self.peak.load();
  while (now > seen && !self.peak.compare_exchange_weak(seen, now)) {
  }
  return {data, data, &release, c10::Device(c10::DeviceType::CPU)};
}

void CountingAllocator::release(void* p) {
  auto& a = counting_allocator();
  std::int64_t bytes = 0;
  {
    std::lock_guard<std::mutex> lock(a.mutex_);
    auto it = a.sizes_.find(p);
    if (it != a.sizes_.end()) {
      bytes = it->second;
      a.sizes_.erase(it);
    }
  }
  a.live.fetch_sub(bytes);
  c10::free_cpu(p);
}

c10::Allocator* g_previous = nullptr;  // non-null while a CpuMemoryCounter lives

// ---- the datasheet table --------------------------------------------------------------------
const std::vector<GpuSpec> kGpus = {
    // name, family, GiB, fp32, tf32, bf16, fp16 (dense TFLOP/s), GB/s, source
    {"T4", "T4", 16, 8.1, std::nullopt, std::nullopt, 65.0, 320,
     "NVIDIA T4 Tensor Core GPU datasheet (fp16: mixed-precision tensor cores)"},
    {"V100-16GB", "V100", 16, 15.7, std::nullopt, std::nullopt, 125.0, 900,
     "NVIDIA Tesla V100 datasheet, SXM2 (p3 instances)"},
    {"V100-32GB", "V100", 32, 15.7, std::nullopt, std::nullopt, 125.0, 900,
     "NVIDIA Tesla V100 datasheet, SXM2 32 GB (p3dn instances)"},
    {"A10G", "A10G", 24, 31.2, 62.5, 125.0, 125.0, 600,
     "NVIDIA A10 datasheet (A10G is AWS's variant of the A10; NVIDIA publishes no A10G sheet)"},
    {"L4", "L4", 24, 30.3, 60.0, 121.0, 121.0, 300,
     "NVIDIA L4 datasheet (dense: half the sparsity figures)"},
    {"A100-40GB", "A100", 40, 19.5, 156.0, 312.0, 312.0, 1555,
     "NVIDIA A100 datasheet, SXM4 40 GB (p4d instances)"},
    {"A100-80GB", "A100", 80, 19.5, 156.0, 312.0, 312.0, 2039,
     "NVIDIA A100 datasheet, SXM4 80 GB (p4de instances)"},
    {"L40S", "L40S", 48, 91.6, 183.0, 362.0, 362.0, 864,
     "NVIDIA L40S datasheet (dense: half the sparsity figures)"},
    {"H100", "H100", 80, 67.0, 494.7, 989.4, 989.4, 3350,
     "NVIDIA H100 datasheet, SXM5 80 GB (dense: half the sparsity figures)"},
    {"H200", "H200", 141, 67.0, 494.7, 989.4, 989.4, 4800,
     "NVIDIA H200 datasheet, SXM (dense: half the sparsity figures)"},
};

std::int64_t gib_bytes(double gib) {
  return static_cast<std::int64_t>(std::llround(gib * 1073741824.0));
}

bool half(Precision p) { return p == Precision::BF16 || p == Precision::FP16; }

// ---- the forward trace ----------------------------------------------------------------------
// One forward pass recorded op by op through ATen's RecordFunction. An op with its own
// derivative (derivatives.yaml) is one autograd node; what it calls runs below autograd, so its
// children are not recorded ("opaque"). Composite ops (conv2d, batch_norm, dropout, max_pool2d,
// cross_entropy_loss, ...) are recorded together with what they call.
// One tensor as the trace saw it, without keeping it alive: after the pass, a storage that is
// still alive is one autograd keeps (analyse_step()).
struct TensorSeen {
  const c10::StorageImpl* storage = nullptr;  // nullptr: undefined, or no storage
  std::int64_t nbytes = 0;                    // the storage's bytes when seen
  std::int64_t size0 = -1;                    // the first dimension (-1: a scalar)
  bool floating = false;
  bool requires_grad = false;
  bool defined() const { return storage != nullptr; }
};

struct TraceEvent {
  std::string name;
  std::vector<TensorSeen> args;       // positional; undefined where the argument is no tensor
  std::vector<TensorSeen> list_args;  // the tensors of list arguments (cat)
  std::vector<TensorSeen> outputs;    // positional
  std::int64_t mult_adds = 0;         // op_mult_adds() of the call
  bool in_dropout = false;            // called from within aten::dropout
  bool node() const {                 // whether autograd records a node for it
    for (const auto& o : outputs)
      if (o.requires_grad) return true;
    return false;
  }
};

const std::set<std::string>& opaque_ops() {
  static const std::set<std::string> ops = {"aten::convolution",
                                            "aten::linear",
                                            "aten::addmm",
                                            "aten::mm",
                                            "aten::bmm",
                                            "aten::matmul",
                                            "aten::baddbmm",
                                            "aten::addmv",
                                            "aten::mv",
                                            "aten::relu",
                                            "aten::relu_",
                                            "aten::sigmoid",
                                            "aten::sigmoid_",
                                            "aten::tanh",
                                            "aten::tanh_",
                                            "aten::threshold",
                                            "aten::hardtanh",
                                            "aten::leaky_relu",
                                            "aten::gelu",
                                            "aten::elu",
                                            "aten::silu",
                                            "aten::max_pool2d_with_indices",
                                            "aten::adaptive_max_pool2d",
                                            "aten::avg_pool2d",
                                            "aten::_adaptive_avg_pool2d",
                                            "aten::native_batch_norm",
                                            "aten::cudnn_batch_norm",
                                            "aten::mul",
                                            "aten::mul_",
                                            "aten::div",
                                            "aten::div_",
                                            "aten::pow",
                                            "aten::sqrt",
                                            "aten::rsqrt",
                                            "aten::exp",
                                            "aten::log",
                                            "aten::_log_softmax",
                                            "aten::_softmax",
                                            "aten::nll_loss_forward",
                                            "aten::var",
                                            "aten::std",
                                            "aten::mean",
                                            "aten::sum",
                                            "aten::add",
                                            "aten::add_",
                                            "aten::sub",
                                            "aten::sub_",
                                            "aten::cat",
                                            "aten::view",
                                            "aten::_reshape_alias",
                                            "aten::t",
                                            "aten::transpose",
                                            "aten::permute",
                                            "aten::expand",
                                            "aten::squeeze",
                                            "aten::unsqueeze",
                                            "aten::clone",
                                            "aten::neg",
                                            "aten::bernoulli_",
                                            "aten::zero_",
                                            "aten::fill_",
                                            "aten::copy_",
                                            "aten::detach",
                                            "aten::as_strided",
                                            "aten::select",
                                            "aten::slice",
                                            "aten::empty",
                                            "aten::empty_like",
                                            "aten::zeros",
                                            "aten::zeros_like",
                                            "aten::ones_like",
                                            "aten::native_dropout"};
  return ops;
}

struct TraceState {
  struct Frame {
    bool opaque, recorded, dropout;
    std::string name;
    std::vector<at::Tensor> args;  // taken at the start (the inputs may be gone by the end)
    std::vector<at::Tensor> list_args;
  };
  std::vector<Frame> stack;
  int opaque_depth = 0, dropout_depth = 0;
  std::vector<TraceEvent> events;
  // Every storage seen, weakly: the address stays unique while the trace lives, the bytes do not.
  std::unordered_map<const c10::StorageImpl*, c10::weak_intrusive_ptr<c10::StorageImpl>> weak;

  TensorSeen seen(const at::Tensor& t) {
    TensorSeen r;
    if (!t.defined() || !t.has_storage()) return r;
    r.storage = t.storage().unsafeGetStorageImpl();
    r.nbytes = static_cast<std::int64_t>(t.storage().nbytes());
    r.size0 = t.dim() >= 1 ? t.size(0) : -1;
    r.floating = at::isFloatingType(t.scalar_type());
    r.requires_grad = t.requires_grad();
    if (!weak.count(r.storage)) weak.emplace(r.storage, t.storage().getWeakStorageImpl());
    return r;
  }
  bool alive(const c10::StorageImpl* s) const {
    const auto it = weak.find(s);
    return it != weak.end() && !it->second.expired();
  }
};
thread_local TraceState* tl_trace = nullptr;

std::unique_ptr<at::ObserverContext> trace_start(const at::RecordFunction& fn) {
  if (!tl_trace) return nullptr;
  auto& t = *tl_trace;
  const std::string name = fn.name();
  TraceState::Frame f{
      opaque_ops().count(name) > 0,
      t.opaque_depth == 0,
      name == "aten::dropout" || name == "aten::feature_dropout" || name == "aten::native_dropout",
      name,
      {},
      {}};
  if (f.recorded) {
    for (const auto& v : fn.inputs()) {
      if (v.isTensor()) {
        f.args.push_back(v.toTensor());
      } else {
        f.args.emplace_back();
        if (v.isTensorList())
          for (const auto& x : v.toTensorVector()) f.list_args.push_back(x);
      }
    }
  }
  if (f.opaque) ++t.opaque_depth;
  if (f.dropout) ++t.dropout_depth;
  t.stack.push_back(std::move(f));
  return nullptr;
}

void trace_end(const at::RecordFunction& fn, at::ObserverContext*) {
  if (!tl_trace || tl_trace->stack.empty()) return;
  auto& t = *tl_trace;
  TraceState::Frame f = std::move(t.stack.back());
  t.stack.pop_back();
  if (f.opaque) --t.opaque_depth;
  if (f.dropout) --t.dropout_depth;
  if (!f.recorded) return;
  TraceEvent e;
  e.name = f.name;
  e.in_dropout = t.dropout_depth > 0 || f.dropout;
  std::vector<at::Tensor> outputs;
  for (const auto& v : fn.outputs()) outputs.push_back(v.isTensor() ? v.toTensor() : at::Tensor());
  if (!outputs.empty() && outputs[0].defined())
    e.mult_adds = op_mult_adds(e.name, f.args, outputs[0]);
  for (const auto& a : f.args) e.args.push_back(t.seen(a));
  for (const auto& a : f.list_args) e.list_args.push_back(t.seen(a));
  for (const auto& o : outputs) e.outputs.push_back(t.seen(o));
  t.events.push_back(std::move(e));
}

// The tensors autograd keeps for an op (derivatives.yaml), with whether each is of fixed size
// (per channel) whatever the batch.
struct Kept {
  const c10::StorageImpl* storage = nullptr;
  bool fixed = false;
};

std::vector<Kept> kept_by(const TraceEvent& e) {
  std::vector<Kept> k;
  if (!e.node()) return k;  // no node, nothing kept
  auto arg = [&](std::size_t i) { return i < e.args.size() ? e.args[i] : TensorSeen(); };
  auto grad = [&](std::size_t i) { return i < e.args.size() && e.args[i].requires_grad; };
  auto out = [&](std::size_t i) { return i < e.outputs.size() ? e.outputs[i] : TensorSeen(); };
  auto keep = [&](const TensorSeen& t, bool fixed = false) {
    if (t.defined()) k.push_back({t.storage, fixed});
  };
  const std::string& n = e.name;
  if (n == "aten::convolution" || n == "aten::linear" || n == "aten::mm" || n == "aten::bmm" ||
      n == "aten::matmul" || n == "aten::mv") {
    if (grad(1)) keep(arg(0));  // the input, for the weight's gradient
    if (grad(0)) keep(arg(1));  // the weight (a parameter: not counted again)
  } else if (n == "aten::addmm" || n == "aten::baddbmm" || n == "aten::addmv") {
    if (grad(2)) keep(arg(1));
    if (grad(1)) keep(arg(2));
  } else if (n == "aten::relu" || n == "aten::relu_" || n == "aten::sigmoid" ||
             n == "aten::sigmoid_" || n == "aten::tanh" || n == "aten::tanh_" ||
             n == "aten::sqrt" || n == "aten::rsqrt" || n == "aten::exp" || n == "aten::elu" ||
             n == "aten::_log_softmax" || n == "aten::_softmax") {
    keep(out(0));  // the result
  } else if (n == "aten::threshold" || n == "aten::hardtanh" || n == "aten::leaky_relu" ||
             n == "aten::gelu" || n == "aten::silu" || n == "aten::log" || n == "aten::pow" ||
             n == "aten::var" || n == "aten::std" || n == "aten::avg_pool2d" ||
             n == "aten::_adaptive_avg_pool2d") {
    keep(arg(0));  // the input
  } else if (n == "aten::max_pool2d_with_indices" || n == "aten::adaptive_max_pool2d") {
    keep(arg(0));
    keep(out(1));  // int64 indices
  } else if (n == "aten::native_batch_norm") {
    keep(arg(0));
    keep(out(1), true);  // the batch's mean and inverse std, per channel
    keep(out(2), true);
  } else if (n == "aten::cudnn_batch_norm") {
    keep(arg(0));
    keep(out(1), true);
    keep(out(2), true);
    keep(out(3), true);  // cuDNN's reserve
  } else if (n == "aten::mul" || n == "aten::mul_") {
    if (grad(0)) keep(arg(1));
    if (grad(1)) keep(arg(0));
  } else if (n == "aten::div" || n == "aten::div_") {
    if (grad(0) || grad(1)) keep(arg(1));
    if (grad(1)) keep(arg(0));
  } else if (n == "aten::native_dropout") {
    keep(out(1));  // CUDA's 1-byte mask
  } else if (n == "aten::nll_loss_forward") {
    keep(arg(0));
    keep(arg(1));
    keep(out(1), true);  // total weight
  }
  return k;
}

const c10::StorageImpl* storage_of(const at::Tensor& t) {
  if (!t.defined() || !t.has_storage()) return nullptr;
  return t.storage().unsafeGetStorageImpl();
}

LinearBytes operator+(LinearBytes a, const LinearBytes& b) {
  a.fixed += b.fixed;
  a.per_example += b.per_example;
  return a;
}
LinearBytes operator-(LinearBytes a, const LinearBytes& b) {
  a.fixed -= b.fixed;
  a.per_example -= b.per_example;
  return a;
}

// Everything the analysis needs to know of one storage made during the forward pass.
struct StorageUse {
  std::int64_t nbytes = 0;    // the storage's bytes (the last size seen counts)
  bool batch_shaped = false;  // seen with the batch as its first dimension
  bool fixed = false;         // kept as per-channel statistics
  LinearBytes bytes;          // set once the pass is over
  int created = 0, last_use = 0;
  int first_keeper = -1;  // the earliest op that keeps it (-1: none)
  bool integer = false, dropout = false, grad = false;
  bool alive = false;  // still alive after the pass with only the graph holding it
};

std::int64_t max_at(const std::vector<LinearBytes>& peaks, std::int64_t batch) {
  double best = 0;
  for (const auto& p : peaks)
    best = std::max(best, p.fixed + p.per_example * static_cast<double>(batch));
  return static_cast<std::int64_t>(std::llround(best));
}
}  // namespace

// ---- GPUs -----------------------------------------------------------------------------------
const std::vector<GpuSpec>& gpu_specs() { return kGpus; }

const GpuSpec& gpu_spec(const std::string& name) {
  const std::string want = lower(name);
  for (const auto& g : kGpus)
    if (lower(g.name) == want) return g;
  for (const auto& g : kGpus)  // a family alone: its first (smallest) board
    if (lower(g.family) == want) return g;
  std::string names;
  for (const auto& g : kGpus) names += (names.empty() ? "" : ", ") + g.name;
  throw bad_input("unknown GPU '" + name + "' (known: " + names + ")");
}

const GpuSpec* gpu_for_offer(const ops::InstanceOffer& offer) {
  if (offer.accelerator_name.empty() || offer.accelerator_count <= 0) return nullptr;
  const std::string family = lower(offer.accelerator_name);
  const double per_gpu = offer.gpu_memory_gib / offer.accelerator_count;
  const GpuSpec* best = nullptr;
  for (const auto& g : kGpus) {
    if (lower(g.family) != family) continue;
    if (!best ||
        (per_gpu > 0 && std::fabs(g.memory_gib - per_gpu) < std::fabs(best->memory_gib - per_gpu)))
      best = &g;
  }
  return best;
}

std::optional<double> gpu_tflops(const GpuSpec& gpu, Precision p) {
  switch (p) {
    case Precision::FP32:
      return gpu.fp32_tflops;
    case Precision::TF32:
      return gpu.tf32_tflops ? gpu.tf32_tflops : gpu.fp32_tflops;
    case Precision::BF16:
      return gpu.bf16_tflops;
    case Precision::FP16:
      return gpu.fp16_tflops;
  }
  return std::nullopt;
}

// ---- the profile ----------------------------------------------------------------------------
std::int64_t LinearBytes::at(std::int64_t batch) const {
  const double v = fixed + per_example * static_cast<double>(batch);
  return v <= 0 ? 0 : static_cast<std::int64_t>(std::llround(v));
}

std::int64_t StepProfile::forward_transient(std::int64_t batch) const {
  return max_at(forward_peaks, batch);
}

std::int64_t StepProfile::backward_transient(std::int64_t batch) const {
  return max_at(backward_peaks, batch);
}

StepProfile analyse_step(torch::nn::Sequential net, const std::vector<std::int64_t>& example_shape,
                         std::int64_t classes) {
  if (example_shape.empty())
    throw bad_input("fit: the example shape is empty (channels, height, width)");
  if (classes < 1) throw bad_input("fit: classes must be >= 1, got " + std::to_string(classes));
  constexpr std::int64_t b0 = 2;  // batch 1 cannot train BatchNorm1d
  StepProfile prof;
  prof.example_shape = example_shape;
  prof.traced_batch = b0;
  std::unordered_set<const c10::StorageImpl*> outside;  // parameters, buffers, the batch
  for (const auto& p : net->parameters()) {
    prof.params += p.numel();
    if (p.requires_grad()) prof.trainable_params += p.numel();
    prof.largest_param = std::max(prof.largest_param, p.numel());
    outside.insert(storage_of(p));
  }
  for (const auto& b : net->buffers()) outside.insert(storage_of(b));
  std::int64_t pixels = 1;
  for (auto d : example_shape) pixels *= d;
  prof.input.per_example = static_cast<double>(pixels * 4 + 8);

  std::vector<std::int64_t> shape{b0};
  shape.insert(shape.end(), example_shape.begin(), example_shape.end());
  const auto x = torch::randn(shape);
  const auto y = torch::randint(0, classes, {b0}, torch::kLong);
  outside.insert(storage_of(x));
  outside.insert(storage_of(y));

  TraceState trace;
  at::Tensor loss, logits;
  const bool was_training = net->is_training();
  net->train();
  try {
    torch::AutoGradMode grad_on(true);
    at::RecordFunctionGuard enable(true);
    tl_trace = &trace;
    const auto handle = at::addThreadLocalCallback(
        at::RecordFunctionCallback(trace_start, trace_end).needsInputs(true).needsOutputs(true));
    try {
      logits = net->forward(x);
      loss = torch::nn::functional::cross_entropy(logits, y);
    } catch (...) {
      at::removeCallback(handle);
      tl_trace = nullptr;
      throw;
    }
    at::removeCallback(handle);
    tl_trace = nullptr;
  } catch (const c10::Error& e) {
    net->train(was_training);
    throw bad_input("fit: the network cannot train on inputs of " + format_shape(shape) + ": " +
                    error_message(e));
  }
  net->train(was_training);

  // What outlives the pass: only autograd's graph (and the loss) hold anything now.
  logits = at::Tensor();
  // The storages made during the pass: size, life, who keeps them.
  const auto& events = trace.events;
  const int n = static_cast<int>(events.size());
  std::unordered_map<const c10::StorageImpl*, StorageUse> uses;
  auto note = [&](const TensorSeen& t, int i) {
    const auto* s = t.storage;
    if (!s || outside.count(s)) return;
    // First seen as an output, or as the input of a recorded op after an unrecorded maker
    // (a custom autograd function's kernel): made here.
    auto it = uses.find(s);
    if (it == uses.end()) {
      StorageUse u;
      u.created = i;
      u.integer = !t.floating;
      u.alive = trace.alive(s);
      it = uses.emplace(s, u).first;
    }
    auto& u = it->second;
    u.nbytes = t.nbytes;
    u.last_use = std::max(u.last_use, i);
    if (t.size0 == b0) u.batch_shaped = true;
    if (t.requires_grad && t.floating) u.grad = true;
  };
  for (int i = 0; i < n; ++i) {
    const auto& e = events[i];
    for (const auto& t : e.args) note(t, i);
    for (const auto& t : e.list_args) note(t, i);
    for (const auto& t : e.outputs) note(t, i);
  }
  // Who keeps what: the op kinds' rules (derivatives.yaml) say which op keeps a storage, which
  // orders its release in the backward pass; whether it is kept at all is what survived the pass
  // (the rules are of one LibTorch version, the survival is this one's: 1.13's mean keeps its
  // input, later versions' do not). A survivor no rule names is kept by its first consumer with
  // a node (else by its maker); a storage a rule names that did not survive is not kept.
  std::vector<std::vector<const c10::StorageImpl*>> first_kept(static_cast<std::size_t>(n));
  auto mark = [&](const c10::StorageImpl* s, int i) {
    auto& u = uses.at(s);
    if (u.first_keeper >= 0) return;
    u.first_keeper = i;
    u.dropout = events[static_cast<std::size_t>(i)].in_dropout;
    first_kept[static_cast<std::size_t>(i)].push_back(s);
  };
  for (int i = 0; i < n; ++i) {
    for (const auto& k : kept_by(events[static_cast<std::size_t>(i)])) {
      if (!k.storage || outside.count(k.storage)) continue;
      auto& u = uses.at(k.storage);
      if (!u.alive) continue;
      if (k.fixed) u.fixed = true;
      mark(k.storage, i);
    }
  }
  const auto* loss_storage = storage_of(loss);
  for (auto& [s, u] : uses) {
    if (!u.alive || u.first_keeper >= 0 || s == loss_storage) continue;
    int keeper = u.created;
    for (int i = u.created + 1; i <= u.last_use && keeper == u.created; ++i) {
      const auto& e = events[static_cast<std::size_t>(i)];
      if (!e.node()) continue;
      for (const auto& a : e.args)
        if (a.storage == s) keeper = i;
      for (const auto& a : e.list_args)
        if (a.storage == s) keeper = i;
    }
    mark(s, keeper);
  }
  for (auto& [s, u] : uses) {
    const double bytes = static_cast<double>(u.nbytes);
    if (u.batch_shaped && !u.fixed)
      u.bytes.per_example = bytes / static_cast<double>(b0);
    else
      u.bytes.fixed = bytes;
  }
  for (int i = 0; i < n; ++i) {
    LinearBytes first;
    for (const auto* s : first_kept[static_cast<std::size_t>(i)]) first = first + uses.at(s).bytes;
    if (!first_kept[static_cast<std::size_t>(i)].empty())
      prof.ops.push_back({events[static_cast<std::size_t>(i)].name, first});
  }
  // The loss stays until the backward pass starts (the logits go once log-softmax ran).
  std::unordered_set<const c10::StorageImpl*> held{loss_storage};
  for (auto& [s, u] : uses) {
    const bool kept = u.first_keeper >= 0;
    if (!kept && !held.count(s)) continue;
    prof.saved = prof.saved + u.bytes;
    if (kept && u.integer) prof.saved_integer = prof.saved_integer + u.bytes;
    if (kept && u.dropout) prof.saved_dropout = prof.saved_dropout + u.bytes;
  }

  // The forward pass: a storage lives from its maker to its last use, or to the end if kept.
  prof.forward_peaks.assign(static_cast<std::size_t>(n), LinearBytes{});
  {
    std::vector<LinearBytes> delta(static_cast<std::size_t>(n) + 1);
    for (const auto& [s, u] : uses) {
      const bool to_end = u.first_keeper >= 0 || held.count(s);
      delta[static_cast<std::size_t>(u.created)] =
          delta[static_cast<std::size_t>(u.created)] + u.bytes;
      if (!to_end)
        delta[static_cast<std::size_t>(u.last_use) + 1] =
            delta[static_cast<std::size_t>(u.last_use) + 1] - u.bytes;
    }
    LinearBytes live;
    for (int i = 0; i < n; ++i) {
      live = live + delta[static_cast<std::size_t>(i)];
      prof.forward_peaks[static_cast<std::size_t>(i)] = live - prof.saved;
    }
  }
  // The backward pass, node by node from the last op: kept storages are released after their
  // earliest keeper's node ran; the gradient of an activation lives from its last consumer's
  // node to its maker's; a node also holds the gradients of the parameters it takes before
  // they are added to `.grad`.
  for (int k = n - 1; k >= 0; --k) {
    const auto& e = events[k];
    if (!e.node()) continue;
    LinearBytes live;
    for (const auto& [s, u] : uses) {
      if (u.first_keeper >= 0 && u.first_keeper <= k) live = live + u.bytes;
      if (u.grad && u.created <= k && k <= u.last_use) live = live + u.bytes;
    }
    std::set<const c10::StorageImpl*> weights;
    for (const auto& a : e.args) {
      if (a.storage && a.requires_grad && outside.count(a.storage) &&
          weights.insert(a.storage).second)
        live.fixed += static_cast<double>(a.nbytes);
    }
    prof.backward_peaks.push_back(live - prof.saved);
  }
  // Multiply-adds of one example, from the recorded products (as d2l summary counts them).
  std::int64_t mult_adds = 0;
  for (const auto& e : events) mult_adds += e.mult_adds;
  prof.mult_adds = mult_adds / b0;
  return prof;
}

// ---- the profile store ----------------------------------------------------------------------
namespace {

std::string torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

nlohmann::json linear_to_json(const LinearBytes& l) {
  return nlohmann::json::array({l.fixed, l.per_example});
}

LinearBytes linear_from_json(const nlohmann::json& j) {
  if (!j.is_array() || j.size() != 2 || !j[0].is_number() || !j[1].is_number())
    throw std::invalid_argument("a byte count is not [fixed, per_example]");
  return {j[0].get<double>(), j[1].get<double>()};
}

std::vector<LinearBytes> linears_from_json(const nlohmann::json& j) {
  if (!j.is_array()) throw std::invalid_argument("a list of byte counts is not a list");
  std::vector<LinearBytes> v;
  v.reserve(j.size());
  for (const auto& x : j) v.push_back(linear_from_json(x));
  return v;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string t;
  for (auto d : shape) t += (t.empty() ? "" : "x") + std::to_string(d);
  return t;
}

// The profile in `path`, if it is a good one for the key; nullopt otherwise.
std::optional<StepProfile> read_profile(const std::string& path, const std::string& model,
                                        const std::vector<std::int64_t>& shape,
                                        std::int64_t classes) {
  if (!path_exists(path)) return std::nullopt;
  try {
    return step_profile_from_json(read_file(path), path, model, shape, classes);
  } catch (const Error&) {
    return std::nullopt;  // corrupt, truncated, another version: analysed again
  }
}

}  // namespace

std::string to_string(ProfileSource s) {
  switch (s) {
    case ProfileSource::Shipped:
      return "shipped";
    case ProfileSource::Cache:
      return "cache";
    case ProfileSource::Analysed:
      break;
  }
  return "analysed";
}

std::string step_profile_file_name(const std::string& model,
                                   const std::vector<std::int64_t>& example_shape,
                                   std::int64_t classes) {
  return model + "-" + shape_text(example_shape) + "-" + std::to_string(classes) + ".json";
}

std::string step_profile_to_json(const StepProfile& p, const std::string& model,
                                 std::int64_t classes) {
  nlohmann::json ops = nlohmann::json::array();
  for (const auto& o : p.ops) ops.push_back({{"op", o.op}, {"saved", linear_to_json(o.saved)}});
  auto linears = [](const std::vector<LinearBytes>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& l : v) a.push_back(linear_to_json(l));
    return a;
  };
  const nlohmann::json j = {{"format", kStepProfileVersion},
                            {"torch", torch_version()},
                            {"d2l", D2L_VERSION},
                            {"model", model},
                            {"example_shape", p.example_shape},
                            {"classes", classes},
                            {"params", p.params},
                            {"trainable_params", p.trainable_params},
                            {"largest_param", p.largest_param},
                            {"mult_adds", p.mult_adds},
                            {"traced_batch", p.traced_batch},
                            {"input", linear_to_json(p.input)},
                            {"saved", linear_to_json(p.saved)},
                            {"saved_integer", linear_to_json(p.saved_integer)},
                            {"saved_dropout", linear_to_json(p.saved_dropout)},
                            {"forward_peaks", linears(p.forward_peaks)},
                            {"backward_peaks", linears(p.backward_peaks)},
                            {"ops", ops}};
  return j.dump(1) + "\n";
}

StepProfile step_profile_from_json(const std::string& text, const std::string& what,
                                   const std::string& model,
                                   const std::vector<std::int64_t>& example_shape,
                                   std::int64_t classes) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    throw Error(what + ": not a JSON document (corrupt or truncated)");
  }
  try {
    if (!j.is_object()) throw std::invalid_argument("not a JSON object");
    if (j.at("format").get<int>() != kStepProfileVersion)
      throw std::invalid_argument("of format " + j.at("format").dump() + ", not " +
                                  std::to_string(kStepProfileVersion));
    if (j.at("torch").get<std::string>() != torch_version())
      throw std::invalid_argument("made with LibTorch " + j.at("torch").get<std::string>() +
                                  ", not " + torch_version());
    if (j.at("d2l").get<std::string>() != D2L_VERSION)
      throw std::invalid_argument("made by d2l " + j.at("d2l").get<std::string>() + ", not " +
                                  D2L_VERSION);
    if (j.at("model").get<std::string>() != model ||
        j.at("example_shape").get<std::vector<std::int64_t>>() != example_shape ||
        j.at("classes").get<std::int64_t>() != classes)
      throw std::invalid_argument("the profile of another network or shape");
    StepProfile p;
    p.example_shape = example_shape;
    p.params = j.at("params").get<std::int64_t>();
    p.trainable_params = j.at("trainable_params").get<std::int64_t>();
    p.largest_param = j.at("largest_param").get<std::int64_t>();
    p.mult_adds = j.at("mult_adds").get<std::int64_t>();
    p.traced_batch = j.at("traced_batch").get<std::int64_t>();
    p.input = linear_from_json(j.at("input"));
    p.saved = linear_from_json(j.at("saved"));
    p.saved_integer = linear_from_json(j.at("saved_integer"));
    p.saved_dropout = linear_from_json(j.at("saved_dropout"));
    p.forward_peaks = linears_from_json(j.at("forward_peaks"));
    p.backward_peaks = linears_from_json(j.at("backward_peaks"));
    const auto& ops = j.at("ops");
    if (!ops.is_array()) throw std::invalid_argument("ops is not a list");
    for (const auto& o : ops)
      p.ops.push_back({o.at("op").get<std::string>(), linear_from_json(o.at("saved"))});
    if (p.params < 0 || p.trainable_params < 0 || p.trainable_params > p.params ||
        p.mult_adds < 0 || p.traced_batch < 1)
      throw std::invalid_argument("counts out of range");
    return p;
  } catch (const nlohmann::json::exception& e) {
    throw Error(what + ": not a step profile (" + std::string(e.what()) + ")");
  } catch (const std::invalid_argument& e) {
    throw Error(what + ": " + e.what());
  }
}

std::string shipped_profile_dir() {
  if (const char* d = std::getenv("D2L_FIT_PROFILES")) return d;
  const std::string exe = executable_dir();
  if (exe.empty()) return "";
  // The build tree's bin/, or an installed libexec/d2l/.
  for (const char* up : {"/..", "/../.."})
    if (const std::string d = exe + up + "/share/d2l/fit-profiles"; path_exists(d)) return d;
  return "";
}

std::string cached_profile_dir() { return cache_dir() + "/fit"; }

StepProfile step_profile_for(const std::string& model, std::int64_t channels, std::int64_t size,
                             std::int64_t classes, bool use_store, ProfileSource* source) {
  const std::vector<std::int64_t> shape{channels, size, size};
  const std::string name = step_profile_file_name(model, shape, classes);
  if (use_store) {
    if (const std::string dir = shipped_profile_dir(); !dir.empty()) {
      if (auto p = read_profile(dir + "/" + name, model, shape, classes)) {
        if (source) *source = ProfileSource::Shipped;
        return *p;
      }
    }
    if (auto p = read_profile(cached_profile_dir() + "/" + name, model, shape, classes)) {
      if (source) *source = ProfileSource::Cache;
      return *p;
    }
  }
  StepProfile p = analyse_step(make_model(model, channels, size, classes), shape, classes);
  if (source) *source = ProfileSource::Analysed;
  if (use_store) {
    try {
      ensure_dir(cached_profile_dir());
      write_file_atomic(cached_profile_dir() + "/" + name, step_profile_to_json(p, model, classes));
    } catch (const Error&) {
      // A cache that cannot be written costs the next call an analysis, nothing more.
    }
  }
  return p;
}

int write_book_profiles(const std::string& dir) {
  ensure_dir(dir, 0755);
  int n = 0;
  for (const auto& spec : model_specs()) {
    if (spec.dataset == "synthetic") continue;  // linreg: no images
    const auto& info = data::dataset_info(spec.dataset);
    const std::int64_t size = spec.resize > 0 ? spec.resize : info.height;
    const auto classes = static_cast<std::int64_t>(info.classes.size());
    const std::vector<std::int64_t> shape{info.channels, size, size};
    const auto p =
        analyse_step(make_model(spec.name, info.channels, size, classes), shape, classes);
    write_file_atomic(dir + "/" + step_profile_file_name(spec.name, shape, classes),
                      step_profile_to_json(p, spec.name, classes), 0644);
    ++n;
  }
  return n;
}

std::int64_t optimizer_transient_bytes(const StepProfile& profile, const OptimizerSpec& opt) {
  int temporaries = 0;
  if (opt.kind == OptimizerKind::SGD) {
    if (opt.weight_decay > 0) ++temporaries;
    if (opt.nesterov && opt.momentum > 0) ++temporaries;
  } else {
    temporaries = 2;
    if (opt.kind == OptimizerKind::Adam && opt.weight_decay > 0) ++temporaries;
  }
  return temporaries * profile.largest_param * 4;
}

// ---- the estimate ---------------------------------------------------------------------------
MemoryEstimate estimate_memory(const StepProfile& profile, std::int64_t batch, Precision precision,
                               const OptimizerSpec& opt, const std::optional<GpuOverhead>& gpu) {
  if (batch < 1) throw bad_input("fit: the batch must be >= 1, got " + std::to_string(batch));
  MemoryEstimate m;
  m.batch = batch;
  m.params = profile.params * 4;
  m.gradients = profile.trainable_params * 4;
  if (opt.kind == OptimizerKind::SGD)
    m.optimizer_state = opt.momentum > 0 ? profile.trainable_params * 4 : 0;
  else
    m.optimizer_state = profile.trainable_params * 4 * 2;
  const bool halved = gpu.has_value() && half(precision);
  if (halved) m.weight_copies = profile.params * 2;
  const double scale = halved ? 0.5 : 1.0;
  m.input = profile.input.at(batch);
  // Floating-point activations in the precision of the run; integer ones (indices, labels) as
  // they are; dropout's mask as fp32 noise on the CPU and 1 byte an element on CUDA.
  const double integer = static_cast<double>(profile.saved_integer.at(batch));
  const double dropout = static_cast<double>(profile.saved_dropout.at(batch));
  const double floats = static_cast<double>(profile.saved.at(batch)) - integer - dropout;
  m.activations = static_cast<std::int64_t>(
      std::llround(floats * scale + integer + (gpu ? dropout / 4 : dropout)));
  m.transient =
      static_cast<std::int64_t>(static_cast<double>(std::max(profile.forward_transient(batch),
                                                             profile.backward_transient(batch))) *
                                scale);
  m.optimizer_transient = optimizer_transient_bytes(profile, opt);
  m.peak = m.params + m.gradients + m.optimizer_state + m.weight_copies + m.input +
           std::max(m.activations + m.transient, m.optimizer_transient);
  if (gpu)
    m.framework = gpu->context_bytes + gpu->workspace_bytes +
                  static_cast<std::int64_t>(gpu->rounding * static_cast<double>(m.peak));
  m.total = m.peak + m.framework;
  return m;
}

std::optional<std::int64_t> largest_batch(const StepProfile& profile, Precision precision,
                                          const OptimizerSpec& opt, std::int64_t capacity_bytes,
                                          const GpuOverhead& gpu) {
  auto fits = [&](std::int64_t b) {
    return estimate_memory(profile, b, precision, opt, gpu).total <= capacity_bytes;
  };
  if (!fits(1)) return std::nullopt;
  constexpr std::int64_t kMax = std::int64_t{1} << 24;
  std::int64_t lo = 1, hi = 2;  // fits(lo), and hi is the next to try
  while (hi <= kMax && fits(hi)) {
    lo = hi;
    hi *= 2;
  }
  if (hi > kMax) return lo;
  while (hi - lo > 1) {  // fits(lo), !fits(hi)
    const std::int64_t mid = lo + (hi - lo) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  return lo;
}

double default_efficiency(Precision p) { return p == Precision::FP32 ? 0.5 : 0.2; }

std::optional<double> step_seconds(const StepProfile& profile, std::int64_t batch,
                                   const GpuSpec& gpu, Precision precision, double efficiency) {
  const auto tflops = gpu_tflops(gpu, precision);
  if (!tflops || *tflops <= 0 || efficiency <= 0) return std::nullopt;
  const double flops =
      2.0 * 3.0 * static_cast<double>(profile.mult_adds) * static_cast<double>(batch);
  const double compute = flops / (*tflops * 1e12 * efficiency);
  const double scale = half(precision) ? 0.5 : 1.0;
  const double traffic = 4.0 * static_cast<double>(profile.saved.at(batch)) * scale;
  const double memory = traffic / (gpu.bandwidth_gbs * 1e9 * 0.8);
  return compute + memory;
}

std::int64_t train_examples(const std::string& dataset) {
  if (dataset == "fashion-mnist" || dataset == "mnist") return 60000;
  if (dataset == "cifar10") return 50000;
  throw bad_input("fit: no training-set size known for data set '" + dataset + "'");
}

FitRow fit_row(const StepProfile& profile, const FitQuery& q, const GpuSpec& gpu,
               const ops::InstanceOffer* offer) {
  if (q.batch < 1) throw bad_input("fit: the batch must be >= 1, got " + std::to_string(q.batch));
  FitRow r;
  r.gpu = gpu.name;
  if (offer) {
    r.instance = offer->instance_type;
    r.region = offer->region;
    r.gpus = std::max(1, static_cast<int>(std::lround(offer->accelerator_count)));
    r.price = offer->price;
  }
  const double per_gpu_gib =
      offer && offer->gpu_memory_gib > 0 ? offer->gpu_memory_gib / r.gpus : gpu.memory_gib;
  r.gpu_memory_bytes = gib_bytes(per_gpu_gib);
  const std::int64_t per_gpu_batch = (q.batch + r.gpus - 1) / r.gpus;
  r.memory = estimate_memory(profile, per_gpu_batch, q.precision, q.optimizer, q.overhead);
  r.supported = gpu_tflops(gpu, q.precision).has_value();
  if (!r.supported) return r;
  r.fits = r.memory.total <= r.gpu_memory_bytes;
  if (auto b = largest_batch(profile, q.precision, q.optimizer, r.gpu_memory_bytes, q.overhead))
    r.max_batch = *b * r.gpus;
  const double eff = q.efficiency.value_or(default_efficiency(q.precision));
  if (auto step = step_seconds(profile, per_gpu_batch, gpu, q.precision, eff)) {
    const std::int64_t steps = (q.examples + q.batch - 1) / q.batch;
    r.epoch_seconds = static_cast<double>(steps) * *step;
    if (r.price) r.run_cost = *r.price * static_cast<double>(q.epochs) * *r.epoch_seconds / 3600.0;
  }
  return r;
}

std::vector<FitRow> fit_rows(const StepProfile& profile, const FitQuery& q,
                             const ops::Catalog& catalog) {
  std::vector<FitRow> rows;
  for (const auto& offer : catalog.offers())
    if (const GpuSpec* g = gpu_for_offer(offer)) rows.push_back(fit_row(profile, q, *g, &offer));
  return rows;
}

std::optional<std::size_t> cheapest_fit(const std::vector<FitRow>& rows) {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (!rows[i].fits || !rows[i].run_cost) continue;
    if (!best || *rows[i].run_cost < *rows[*best].run_cost) best = i;
  }
  return best;
}

// ---- the counter ----------------------------------------------------------------------------
CpuMemoryCounter::CpuMemoryCounter() {
  if (g_previous) throw Error("fit: a CpuMemoryCounter is already counting");
  auto& a = counting_allocator();
  c10::Allocator* previous = c10::GetCPUAllocator();
  c10::SetCPUAllocator(&a, /*priority=*/0);
  if (c10::GetCPUAllocator() != &a)
    throw Error("fit: cannot install the counting CPU allocator (another one has priority)");
  g_previous = previous;
  a.live = 0;
  a.peak = 0;
  std::lock_guard<std::mutex> lock(a.mutex_);
  a.sizes_.clear();  // blocks of an earlier counter are freed uncounted
}

CpuMemoryCounter::~CpuMemoryCounter() {
  c10::SetCPUAllocator(g_previous, /*priority=*/0);
  g_previous = nullptr;
}

std::int64_t CpuMemoryCounter::live() const { return counting_allocator().live.load(); }
std::int64_t CpuMemoryCounter::peak() const { return counting_allocator().peak.load(); }
void CpuMemoryCounter::reset_peak() {
  auto& a = counting_allocator();
  a.peak = a.live.load();
}

namespace {

#ifdef D2L_HAS_CUDA
void cuda_check(cudaError_t e, const char* what) {
  if (e != cudaSuccess)
    throw Error(std::string("fit: ") + what + " failed: " + cudaGetErrorString(e));
}
#endif

std::string bytes_text(std::int64_t b) {
  char buf[32];
  const double v = static_cast<double>(b);
  if (v >= 1073741824.0)
    std::snprintf(buf, sizeof buf, "%.1f GiB", v / 1073741824.0);
  else
    std::snprintf(buf, sizeof buf, "%.0f MiB", v / 1048576.0);
  return buf;
}

void run_steps(MeasuredStep& m, const std::string& model,
               const std::vector<std::int64_t>& example_shape, std::int64_t classes,
               std::int64_t batch, const OptimizerSpec& opt, int steps, c10::Device device) {
  auto net = make_model(model, example_shape[0], example_shape[1], classes);
  net->to(device);
  net->train();
  auto optimizer = make_optimizer(net->parameters(), opt);
  const auto on = torch::TensorOptions().device(device);
  auto x = torch::randn({batch, example_shape[0], example_shape[1], example_shape[2]}, on);
  auto y = torch::randint(0, classes, {batch}, on.dtype(torch::kLong));
  for (int i = 0; i < steps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    optimizer->zero_grad();
    auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    loss.backward();
    optimizer->step();
#ifdef D2L_HAS_CUDA
    if (device.is_cuda()) cuda_check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
#endif
    m.step_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++m.steps;
  }
}

}  // namespace

MeasuredStep measure_step(const std::string& model, const std::vector<std::int64_t>& example_shape,
                          std::int64_t classes, std::int64_t batch, const OptimizerSpec& opt,
                          int steps, c10::Device device) {
  if (batch < 1) throw bad_input("fit: the batch must be >= 1, got " + std::to_string(batch));
  if (example_shape.size() != 3)
    throw bad_input("fit: the example shape must be channels, height, width");
  MeasuredStep m;
  m.batch = batch;
  m.device = device.str();
  if (device.is_cpu()) {
    CpuMemoryCounter counter;
    run_steps(m, model, example_shape, classes, batch, opt, steps, device);
    m.peak_bytes = m.tensor_peak_bytes = counter.peak();
    return m;
  }
#ifdef D2L_HAS_CUDA
  if (device.is_cuda()) {
    const int index = device.has_index() ? device.index() : 0;
    cuda_check(cudaSetDevice(index), "cudaSetDevice");
    namespace alloc = c10::cuda::CUDACachingAllocator;
    alloc::emptyCache();
    alloc::resetPeakStats(index);
    run_steps(m, model, example_shape, classes, batch, opt, steps, device);
    // Index 0 of the statistics is the aggregate over pool kinds (LibTorch 1.13 and 2.x).
    const auto stats = alloc::getDeviceStats(index);
    m.tensor_peak_bytes = stats.allocated_bytes[0].peak;
    std::size_t free = 0, total = 0;
    cuda_check(cudaMemGetInfo(&free, &total), "cudaMemGetInfo");
    // Everything the process holds outside the caching allocator: the context, cuDNN's and
    // cuBLAS's handles and kernels.
    m.context_bytes = std::max<std::int64_t>(
        0, static_cast<std::int64_t>(total - free) - stats.reserved_bytes[0].current);
    m.peak_bytes = stats.reserved_bytes[0].peak + m.context_bytes;
    return m;
  }
#endif
  throw bad_input("fit: cannot measure on " + device.str() + " (this build has no CUDA)");
}

std::optional<DeviceMemory> cuda_device_memory(c10::Device device) {
#ifdef D2L_HAS_CUDA
  if (!device.is_cuda()) return std::nullopt;
  const int index = device.has_index() ? device.index() : 0;
  cuda_check(cudaSetDevice(index), "cudaSetDevice");
  cudaDeviceProp prop{};
  cuda_check(cudaGetDeviceProperties(&prop, index), "cudaGetDeviceProperties");
  std::size_t free = 0, total = 0;
  cuda_check(cudaMemGetInfo(&free, &total), "cudaMemGetInfo");
  DeviceMemory d;
  d.name = prop.name;
  d.total_bytes = static_cast<std::int64_t>(total);
  d.free_bytes = static_cast<std::int64_t>(free);
  return d;
#else
  (void)device;
  return std::nullopt;
#endif
}

const GpuSpec* gpu_for_device_name(const std::string& name, double memory_gib) {
  const std::string have = lower(name);
  std::vector<std::string> families;
  for (const auto& g : kGpus)
    if (std::find(families.begin(), families.end(), lower(g.family)) == families.end())
      families.push_back(lower(g.family));
  std::stable_sort(families.begin(), families.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& f : families) {
    if (have.find(f) == std::string::npos) continue;
    const GpuSpec* best = nullptr;
    for (const auto& g : kGpus)
      if (lower(g.family) == f && (!best || std::fabs(g.memory_gib - memory_gib) <
                                                std::fabs(best->memory_gib - memory_gib)))
        best = &g;
    return best;
  }
  return nullptr;
}

FitVerdict check_fit(const StepProfile& profile, std::int64_t batch, Precision precision,
                     const OptimizerSpec& opt, std::int64_t available_bytes,
                     const GpuOverhead& overhead) {
  FitVerdict v;
  v.batch = batch;
  v.available_bytes = available_bytes;
  v.needed_bytes = estimate_memory(profile, batch, precision, opt, overhead).total;
  v.fits = v.needed_bytes <= available_bytes;
  v.largest_batch = largest_batch(profile, precision, opt, available_bytes, overhead);
  return v;
}

std::string fit_advice(const std::string& model, const std::string& device, const FitVerdict& v,
                       const std::string& force_flag) {
  std::string line = model + " at batch " + std::to_string(v.batch) + " needs about " +
                     bytes_text(v.needed_bytes) + " on " + device + ", which has " +
                     bytes_text(v.available_bytes) + " free: ";
  if (v.largest_batch)
    line += "the largest batch that fits is about " + std::to_string(*v.largest_batch) +
            "; pass --batch-size " + std::to_string(*v.largest_batch);
  else
    line += "not even batch 1 fits; use a GPU with more memory or a smaller --resize";
  if (!force_flag.empty()) line += ", or " + force_flag + " to try anyway";
  return line;
}

bool is_out_of_memory_message(const std::string& what) {
  return what.find("CUDA out of memory") != std::string::npos ||
         what.find("CUDA error: out of memory") != std::string::npos;
}

bool is_out_of_memory(const std::exception& e) {
  if (dynamic_cast<const c10::OutOfMemoryError*>(&e)) return true;
  if (const auto* c = dynamic_cast<const c10::Error*>(&e))
    return is_out_of_memory_message(c->what_without_backtrace());
  return is_out_of_memory_message(e.what());
}

namespace {

// The profile of a run's network (stored, or analysed once).
StepProfile run_profile(const RunPlan& plan) {
  const auto& info = data::dataset_info(plan.data);
  const std::int64_t size = plan.resize > 0 ? plan.resize : info.height;
  const auto classes = static_cast<std::int64_t>(info.classes.size());
  return step_profile_for(plan.model, info.channels, size, classes);
}

std::int64_t per_process_batch(const RunPlan& plan, int world_size) {
  const std::int64_t w = std::max(1, world_size);
  return (plan.batch_size + w - 1) / w;
}

}  // namespace

std::optional<std::string> gpu_fit_check(const RunPlan& plan, int world_size) {
  const c10::Device device = parse_device(plan.device);
  const auto mem = cuda_device_memory(device);
  if (!mem) return std::nullopt;
  GpuOverhead overhead;
  overhead.context_bytes = 0;  // the free memory is measured with the context made
  const auto v = check_fit(run_profile(plan), per_process_batch(plan, world_size), plan.precision,
                           plan.optimizer, mem->free_bytes, overhead);
  if (v.fits) return std::nullopt;
  return fit_advice(plan.model, device.str(), v, "--no-fit-check");
}

std::string out_of_memory_advice(const RunPlan& plan, int world_size) {
  const c10::Device device = parse_device(plan.device);
  std::optional<DeviceMemory> mem;
  try {
#ifdef D2L_HAS_CUDA
    c10::cuda::CUDACachingAllocator::emptyCache();
#endif
    mem = cuda_device_memory(device);
  } catch (const std::exception&) {
  }
  const std::string head = "CUDA out of memory on " + device.str() + " at batch " +
                           std::to_string(plan.batch_size) + ": ";
  if (!mem) return head + "lower --batch-size";
  GpuOverhead overhead;
  overhead.context_bytes = 0;
  const auto v = check_fit(run_profile(plan), per_process_batch(plan, world_size), Precision::FP32,
                           plan.optimizer, mem->free_bytes, overhead);
  if (!v.largest_batch) return head + "not even batch 1 fits by d2l fit's estimate";
  return head + "d2l fit's estimate gives batch " + std::to_string(*v.largest_batch) +
         " at most; pass --batch-size " + std::to_string(*v.largest_batch);
}

}  // namespace d2l
