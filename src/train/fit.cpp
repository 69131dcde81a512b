#include "d2l/train/fit.h"

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <mutex>
#include <unordered_map>

#include "d2l/core/error.h"
#include "d2l/core/torch_error.h"
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

LinearBytes line_through(std::int64_t b1, double v1, std::int64_t b2, double v2) {
  LinearBytes l;
  l.per_example = std::max(0.0, (v2 - v1) / static_cast<double>(b2 - b1));
  l.fixed = v1 - l.per_example * static_cast<double>(b1);
  return l;
}

// One step's measurements at one batch, all in bytes.
struct Probe {
  double input = 0, saved = 0, forward_transient = 0, backward_transient = 0, optimizer = 0;
};

Probe probe(torch::nn::Sequential& net, torch::optim::Optimizer& opt, CpuMemoryCounter& counter,
            const std::vector<std::int64_t>& example_shape, std::int64_t classes,
            std::int64_t batch) {
  Probe p;
  const std::int64_t base = counter.live();
  std::vector<std::int64_t> shape{batch};
  shape.insert(shape.end(), example_shape.begin(), example_shape.end());
  auto x = torch::randn(shape);
  auto y = torch::randint(0, classes, {batch}, torch::kLong);
  const std::int64_t with_input = counter.live();
  p.input = static_cast<double>(with_input - base);
  counter.reset_peak();
  {
    auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    const std::int64_t after_forward = counter.live();
    p.saved = static_cast<double>(after_forward - with_input);
    p.forward_transient = static_cast<double>(counter.peak() - after_forward);
    counter.reset_peak();
    loss.backward();
    p.backward_transient = static_cast<double>(counter.peak() - after_forward);
  }  // the graph and the loss go here
  const std::int64_t before_step = counter.live();
  counter.reset_peak();
  opt.step();
  p.optimizer = static_cast<double>(counter.peak() - before_step);
  torch::NoGradGuard no_grad;
  for (auto& prm : net->parameters())
    if (prm.grad().defined()) prm.mutable_grad().zero_();
  return p;
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

StepProfile profile_step(torch::nn::Sequential net, const std::vector<std::int64_t>& example_shape,
                         std::int64_t classes, const OptimizerSpec& opt) {
  if (example_shape.empty())
    throw bad_input("fit: the example shape is empty (channels, height, width)");
  if (classes < 1) throw bad_input("fit: classes must be >= 1, got " + std::to_string(classes));
  StepProfile prof;
  prof.example_shape = example_shape;
  std::vector<std::int64_t> one{1};
  one.insert(one.end(), example_shape.begin(), example_shape.end());
  const ModelSummary s = summary(net, one);
  prof.params = s.total_params;
  prof.trainable_params = s.trainable_params;
  prof.mult_adds = s.total_mult_adds;
  for (const auto& p : net->parameters())
    prof.largest_param = std::max(prof.largest_param, p.numel());

  net->train();
  {
    // Gradients exist between steps (zero_grad zeroes them in place), as in a run.
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters())
      if (p.requires_grad() && !p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
  }
  OptimizerSpec tiny = opt;
  tiny.lr = 1e-6;
  auto optimizer = make_optimizer(net->parameters(), tiny);
  CpuMemoryCounter counter;
  // Batches 2 and 4: batch 1 cannot train with BatchNorm1d, and at batch 1 LibTorch's CPU
  // convolutions take another path (no weight-sized buffers), which a line through 1 and 2
  // would read as a cost per example.
  const std::int64_t b1 = 2, b2 = 4;
  Probe p1;
  try {
    p1 = probe(net, *optimizer, counter, example_shape, classes, b1);
  } catch (const c10::Error& e) {
    throw bad_input("fit: the network cannot train on inputs of " + format_shape(one) + ": " +
                    error_message(e));
  }
  const Probe p2 = probe(net, *optimizer, counter, example_shape, classes, b2);
  prof.probe_batches = {b1, b2};
  prof.input = line_through(b1, p1.input, b2, p2.input);
  prof.saved = line_through(b1, p1.saved, b2, p2.saved);
  prof.forward_transient = line_through(b1, p1.forward_transient, b2, p2.forward_transient);
  prof.backward_transient = line_through(b1, p1.backward_transient, b2, p2.backward_transient);
  // The first step also allocated the optimiser's state; the second shows its temporaries.
  prof.optimizer_transient = static_cast<std::int64_t>(p2.optimizer);
  return prof;
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
  m.activations = static_cast<std::int64_t>(static_cast<double>(profile.saved.at(batch)) * scale);
  m.transient = static_cast<std::int64_t>(
      static_cast<double>(
          std::max(profile.forward_transient.at(batch), profile.backward_transient.at(batch))) *
      scale);
  m.optimizer_transient = profile.optimizer_transient;
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

MeasuredStep measure_step(const std::string& model, const std::vector<std::int64_t>& example_shape,
                          std::int64_t classes, std::int64_t batch, const OptimizerSpec& opt,
                          int steps) {
  if (batch < 1) throw bad_input("fit: the batch must be >= 1, got " + std::to_string(batch));
  if (example_shape.size() != 3)
    throw bad_input("fit: the example shape must be channels, height, width");
  MeasuredStep m;
  m.batch = batch;
  CpuMemoryCounter counter;
  {
    auto net = make_model(model, example_shape[0], example_shape[1], classes);
    net->train();
    auto optimizer = make_optimizer(net->parameters(), opt);
    auto x = torch::randn({batch, example_shape[0], example_shape[1], example_shape[2]});
    auto y = torch::randint(0, classes, {batch}, torch::kLong);
    for (int i = 0; i < steps; ++i) {
      const auto start = std::chrono::steady_clock::now();
      optimizer->zero_grad();
      auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
      loss.backward();
      optimizer->step();
      m.step_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      ++m.steps;
    }
    m.peak_bytes = counter.peak();
  }
  return m;
}

}  // namespace d2l
