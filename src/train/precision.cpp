#include "d2l/train/precision.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <cmath>

#include "d2l/core/error.h"

// LibTorch 2.4 replaced the per-device autocast functions (is_cpu_enabled, set_autocast_gpu_dtype,
// ...) by ones taking the device type, and marks the old ones deprecated.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define D2L_AUTOCAST_BY_DEVICE_TYPE 1
#else
#define D2L_AUTOCAST_BY_DEVICE_TYPE 0
#endif

namespace d2l {
namespace {

bool autocast_enabled(c10::DeviceType type) {
#if D2L_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::is_autocast_enabled(type);
#else
  return type == c10::DeviceType::CPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}

void set_autocast_enabled(c10::DeviceType type, bool on) {
#if D2L_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_enabled(type, on);
#else
  if (type == c10::DeviceType::CPU)
    at::autocast::set_cpu_enabled(on);
  else
    at::autocast::set_enabled(on);
#endif
}

c10::ScalarType get_autocast_dtype(c10::DeviceType type) {
#if D2L_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::get_autocast_dtype(type);
#else
  return type == c10::DeviceType::CPU ? at::autocast::get_autocast_cpu_dtype()
                                      : at::autocast::get_autocast_gpu_dtype();
#endif
}

void set_autocast_dtype(c10::DeviceType type, c10::ScalarType dtype) {
#if D2L_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_dtype(type, dtype);
#else
  if (type == c10::DeviceType::CPU)
    at::autocast::set_autocast_cpu_dtype(dtype);
  else
    at::autocast::set_autocast_gpu_dtype(dtype);
#endif
}

bool low_precision(Precision p) { return p == Precision::BF16 || p == Precision::FP16; }

std::string number(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

}  // namespace

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::FP32;
  if (name == "tf32") return Precision::TF32;
  if (name == "bf16") return Precision::BF16;
  if (name == "fp16") return Precision::FP16;
  throw bad_input("--precision '" + name + "': expected fp32, tf32, bf16 or fp16");
}

std::string to_string(Precision p) {
  switch (p) {
    case Precision::FP32:
      return "fp32";
    case Precision::TF32:
      return "tf32";
    case Precision::BF16:
      return "bf16";
    case Precision::FP16:
      return "fp16";
  }
  return "fp32";
}

void check_precision(Precision p, const c10::Device& device) {
  if (!low_precision(p)) return;  // fp32 and tf32 run anywhere (tf32 is fp32 off CUDA)
  if (device.is_cuda()) return;
  if (device.is_cpu()) {
    if (p == Precision::FP16)
      throw bad_input("--precision fp16 needs a CUDA device; on the CPU use bf16 or fp32");
    return;
  }
  throw bad_input("--precision " + to_string(p) + " needs a CPU or CUDA device, not " +
                  device.str());
}

void apply_math_mode(Precision p, const c10::Device& device) {
  if (!device.is_cuda()) return;
  const bool tf32 = p != Precision::FP32;
  at::globalContext().setAllowTF32CuBLAS(tf32);
  at::globalContext().setAllowTF32CuDNN(tf32);
}

c10::ScalarType autocast_dtype(Precision p) {
  switch (p) {
    case Precision::BF16:
      return c10::ScalarType::BFloat16;
    case Precision::FP16:
      return c10::ScalarType::Half;
    default:
      return c10::ScalarType::Float;
  }
}

AutocastGuard::AutocastGuard(Precision p, c10::DeviceType type, bool cache_enabled) : type_(type) {
  if (!low_precision(p)) return;
  check_precision(p, c10::Device(type));
  prev_enabled_ = autocast_enabled(type);
  prev_dtype_ = get_autocast_dtype(type);
  prev_cache_ = at::autocast::is_autocast_cache_enabled();
  set_autocast_enabled(type, true);
  set_autocast_dtype(type, autocast_dtype(p));
  at::autocast::set_autocast_cache_enabled(cache_enabled);
  at::autocast::increment_nesting();
  active_ = true;
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast_enabled(type_, prev_enabled_);
  set_autocast_dtype(type_, prev_dtype_);
  at::autocast::set_autocast_cache_enabled(prev_cache_);
}

// --- LossScaler ---

LossScaler::LossScaler(Options o, c10::Device device) : options_(o), device_(device) {
  if (!(std::isfinite(o.init_scale) && o.init_scale > 0))
    throw bad_input("loss scaler: init_scale must be a finite number > 0, got " +
                    number(o.init_scale));
  if (!(std::isfinite(o.growth_factor) && o.growth_factor > 1))
    throw bad_input("loss scaler: growth_factor must be > 1, got " + number(o.growth_factor));
  if (!(o.backoff_factor > 0 && o.backoff_factor < 1))
    throw bad_input("loss scaler: backoff_factor must be in (0, 1), got " +
                    number(o.backoff_factor));
  if (o.growth_interval < 1)
    throw bad_input("loss scaler: growth_interval must be >= 1, got " +
                    std::to_string(o.growth_interval));
  const auto f = torch::TensorOptions().dtype(torch::kFloat).device(device);
  scale_ = torch::full({}, o.init_scale, f);
  growth_tracker_ = torch::zeros({}, f.dtype(torch::kInt));
  skipped_ = torch::zeros({}, f.dtype(torch::kLong));
  found_inf_ = torch::zeros({}, f);
  growth_ = torch::full({}, o.growth_factor, f);
  backoff_ = torch::full({}, o.backoff_factor, f);
  one_ = torch::ones({}, f);
}

at::Tensor LossScaler::scale(const at::Tensor& loss) const { return loss * scale_; }

at::Tensor LossScaler::unscale(const std::vector<at::Tensor>& params) {
  torch::NoGradGuard no_grad;
  // As GradScaler: the reciprocal in double, then float.
  const at::Tensor inv = scale_.to(torch::kDouble).reciprocal().to(torch::kFloat);
  std::vector<at::Tensor> finite;
  finite.reserve(params.size());
  for (const auto& p : params) {
    at::Tensor g = p.grad();
    if (!g.defined()) continue;
    g.mul_(inv);
    finite.push_back(torch::isfinite(g).all());
  }
  if (finite.empty())
    found_inf_.zero_();
  else
    found_inf_.copy_(torch::stack(finite).all().logical_not());
  return found_inf_;
}

void LossScaler::update(const at::Tensor& found_inf) {
  torch::NoGradGuard no_grad;
  const at::Tensor found = found_inf.to(device_).ne(0);
  growth_tracker_.add_(1);
  const at::Tensor grow = found.logical_not().logical_and(
      growth_tracker_.ge(static_cast<double>(options_.growth_interval)));
  const at::Tensor factor = torch::where(found, backoff_, torch::where(grow, growth_, one_));
  const at::Tensor next = scale_ * factor;
  scale_.copy_(torch::where(torch::isfinite(next), next, scale_));
  growth_tracker_.masked_fill_(found.logical_or(grow), 0);
  skipped_.add_(found);
}

double LossScaler::scale_value() const { return scale_.item<double>(); }

std::int64_t LossScaler::growth_tracker_value() const {
  return growth_tracker_.item<std::int64_t>();
}

std::int64_t LossScaler::skipped_steps() const { return skipped_.item<std::int64_t>(); }

void LossScaler::save(torch::serialize::OutputArchive& archive) const {
  archive.write("scale", scale_.to(torch::kCPU), /*is_buffer=*/true);
  archive.write("growth_tracker", growth_tracker_.to(torch::kCPU), /*is_buffer=*/true);
  archive.write("skipped_steps", skipped_.to(torch::kCPU), /*is_buffer=*/true);
}

void LossScaler::load(torch::serialize::InputArchive& archive) {
  torch::NoGradGuard no_grad;
  at::Tensor scale, tracker, skipped;
  archive.read("scale", scale, /*is_buffer=*/true);
  archive.read("growth_tracker", tracker, /*is_buffer=*/true);
  archive.read("skipped_steps", skipped, /*is_buffer=*/true);
  scale_.copy_(scale.reshape({}));
  growth_tracker_.copy_(tracker.reshape({}));
  skipped_.copy_(skipped.reshape({}));
}

}  // namespace d2l
