#pragma once
/// \file d2l/train/precision.h
/// Numeric precision of a training run (`d2l train --precision fp32|tf32|bf16|fp16`): the
/// process-wide math modes, autocast while the forward pass runs, and loss scaling for fp16
/// (what PyTorch's `torch.autocast` and `GradScaler` do), with the scaler's state kept on the
/// device so that a step neither synchronises with the host nor escapes a CUDA graph.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <string>
#include <vector>

namespace torch {
namespace serialize {
class OutputArchive;
class InputArchive;
}  // namespace serialize
}  // namespace torch

namespace d2l {

/// The number formats a run may train in (`d2l train --precision`, `d2l fit --precision`).
enum class Precision {
  FP32,  ///< float32 throughout, TF32 off
  TF32,  ///< float32 storage, TensorFloat-32 matrix products on CUDA (Ampere and later; else fp32)
  BF16,  ///< mixed precision (autocast): fp32 weights, bfloat16 activations and products
  FP16,  ///< mixed precision (autocast): fp32 weights, float16 activations and products; CUDA
};

/// "fp32", "tf32", "bf16", "fp16" -> Precision; anything else throws d2l::Error (BadInput)
/// naming --precision and the four values.
Precision parse_precision(const std::string& name);
/// The name parse_precision reads.
std::string to_string(Precision p);

/// Checks that `p` can run on `device`; throws d2l::Error (BadInput), one line, for a combination
/// that cannot: fp16 on the CPU ("--precision fp16 needs a CUDA device; on the CPU use bf16 or
/// fp32"), bf16/fp16 on a device other than the CPU and CUDA. tf32 on the CPU is allowed: there
/// it is plain fp32 (the CPU has no TF32 mode).
void check_precision(Precision p, const c10::Device& device);

/// Sets the process-wide math modes for `p` on `device`: on CUDA, TF32 allowed in cuBLAS and
/// cuDNN for TF32, BF16 and FP16, and disallowed for FP32 (at::globalContext()'s
/// setAllowTF32CuBLAS / setAllowTF32CuDNN). Nothing changes for a CPU device.
void apply_math_mode(Precision p, const c10::Device& device);

/// The autocast dtype of `p`: kBFloat16 for BF16, kHalf for FP16, kFloat otherwise.
c10::ScalarType autocast_dtype(Precision p);

/// RAII autocast, as `torch.autocast(device_type, dtype)` in Python: while alive, autocast is on
/// for `type` (CPU or CUDA) with bfloat16 (BF16) or float16 (FP16); for FP32 and TF32 the guard
/// does nothing. Throws as check_precision for a combination that cannot run (fp16 on the CPU).
/// The destructor restores the previous state (enabled flag, dtype, cache flag)
/// and clears the autocast cache when it leaves the outermost guard.
///
/// `cache_enabled` is autocast's cast cache (`torch.autocast(cache_enabled=...)`): the cache keeps
/// the low-precision copies of the weights for as long as the outermost guard lives, so pass
/// false when a CUDA graph is captured inside a guard that also ran eager steps (a cached cast
/// made before the capture would not be in the graph, and replays would use stale weights).
class AutocastGuard {
 public:
  AutocastGuard(Precision p, c10::DeviceType type, bool cache_enabled = true);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;
  /// Whether this guard turned autocast on (BF16/FP16).
  bool active() const { return active_; }

 private:
  c10::DeviceType type_;
  bool active_ = false;
  bool prev_enabled_ = false;
  bool prev_cache_ = true;
  c10::ScalarType prev_dtype_ = c10::ScalarType::Float;
};

/// Loss scaling for fp16 (what PyTorch's GradScaler does), with every value (scale, growth
/// tracker, count of skipped steps) kept in device tensors: scale(), unscale() and update() read
/// nothing back to the host, so a step can be captured in a CUDA graph and replayed. The tensors
/// keep their storage for the scaler's life (load() copies into them).
class LossScaler {
 public:
  struct Options {
    double init_scale = 65536.0;
    double growth_factor = 2.0;
    double backoff_factor = 0.5;
    std::int64_t growth_interval = 2000;
  };
  /// Throws d2l::Error (BadInput) for options outside their domain (init_scale finite and > 0,
  /// growth_factor > 1, backoff_factor in (0, 1), growth_interval >= 1).
  LossScaler(Options o, c10::Device device);

  /// loss x scale (a new tensor).
  at::Tensor scale(const at::Tensor& loss) const;
  /// Divides the gradients of `params` by the scale in place (parameters whose grad is undefined
  /// are skipped) and returns found_inf: a 0-dim float tensor on the device, 1 if any unscaled
  /// gradient holds inf or nan, else 0. The returned tensor is the scaler's own (the same storage
  /// at every call), overwritten by the next unscale().
  at::Tensor unscale(const std::vector<at::Tensor>& params);
  /// After the optimiser step: on found_inf (> 0) scale x= backoff_factor and the growth tracker
  /// resets; otherwise the tracker counts one more clean step and, when it reaches
  /// growth_interval, scale x= growth_factor (kept if that is not finite) and the tracker
  /// resets. Counts skipped steps. No host read.
  void update(const at::Tensor& found_inf);

  /// The scale, a 0-dim float tensor on the device.
  const at::Tensor& scale_tensor() const { return scale_; }
  /// The scale as a number (reads the device).
  double scale_value() const;
  /// Clean steps since the last growth or backoff (reads the device).
  std::int64_t growth_tracker_value() const;
  /// Steps with found_inf so far (reads the device).
  std::int64_t skipped_steps() const;
  const Options& options() const { return options_; }

  /// Writes scale, growth tracker and skipped count as "scale", "growth_tracker" and
  /// "skipped_steps" (CPU tensors; reads the device). load() reads them back into this scaler's
  /// tensors (same storage), throwing c10::Error if a key is missing. Options are not saved:
  /// they come from the command line.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  Options options_;
  c10::Device device_;
  at::Tensor scale_;                   // float, 0-dim
  at::Tensor growth_tracker_;          // int32, 0-dim
  at::Tensor skipped_;                 // int64, 0-dim
  at::Tensor found_inf_;               // float, 0-dim
  at::Tensor growth_, backoff_, one_;  // float constants, 0-dim
};

}  // namespace d2l
