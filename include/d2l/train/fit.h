#pragma once
/// \file d2l/train/fit.h
/// `d2l fit`: before renting a GPU, predict a training run's memory, time and cost (LibTorch).
///
/// The estimate has two halves. A network's *step profile* is measured once on this machine's
/// CPU: one training step (forward, backward, optimiser step) at two small batches with a
/// counting CPU allocator installed, which gives the bytes autograd keeps for the backward pass
/// (per example and fixed), the largest transient buffers, and the optimiser's temporaries; the
/// parameters, gradients and optimiser state are counted exactly from the parameter tensors.
/// The profile is then scaled to any batch, precision and GPU with datasheet figures
/// (gpu_specs()) and stated overheads (GpuOverhead). No GPU is needed: GPU figures are
/// datasheet-based estimates (docs/fit.md says what is left out).
#include <torch/nn/modules/container/sequential.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "d2l/ops/pricing.h"
#include "d2l/train/optim.h"
#include "d2l/train/precision.h"  // Precision, parse_precision, to_string

namespace d2l {

/// One GPU's datasheet figures (dense, no sparsity), per GPU.
struct GpuSpec {
  std::string name;    ///< "T4", "V100-16GB", "A100-40GB", ...
  std::string family;  ///< the catalogue's AcceleratorName: "T4", "V100", "A100", ...
  double memory_gib;   ///< memory on the board, GiB
  double fp32_tflops;  ///< float32 without tensor cores
  std::optional<double> tf32_tflops;  ///< TF32 tensor cores; nullopt before Ampere
  std::optional<double> bf16_tflops;  ///< bfloat16 tensor cores; nullopt before Ampere
  std::optional<double> fp16_tflops;  ///< float16 tensor cores; nullopt without them
  double bandwidth_gbs;               ///< memory bandwidth, GB/s
  std::string source;                 ///< the datasheet the figures come from
};

/// The GPUs `d2l fit` knows, from NVIDIA's datasheets (each row names its source).
const std::vector<GpuSpec>& gpu_specs();

/// The GPU called `name` (its name or family, case-insensitive: "a100" is the 40 GB one); throws
/// d2l::Error (BadInput) listing the known names.
const GpuSpec& gpu_spec(const std::string& name);

/// The GPU of a catalogue row: the spec of its AcceleratorName whose memory is closest to the
/// row's memory per GPU; nullptr for CPU-only rows and GPUs missing from gpu_specs().
const GpuSpec* gpu_for_offer(const ops::InstanceOffer& offer);

/// The throughput for `p` in TFLOP/s: TF32 falls back to fp32 before Ampere; nullopt where the
/// GPU cannot run `p` at all (bf16 before Ampere).
std::optional<double> gpu_tflops(const GpuSpec& gpu, Precision p);

/// bytes = fixed + per_example x batch (never below 0).
struct LinearBytes {
  double fixed = 0;
  double per_example = 0;
  /// The value at `batch`, rounded, at least 0.
  std::int64_t at(std::int64_t batch) const;
};

/// What one fp32 training step of a network allocates, measured on the CPU (profile_step()).
struct StepProfile {
  std::vector<std::int64_t> example_shape;  ///< one input: channels, height, width
  std::int64_t params = 0;                  ///< all parameters (elements)
  std::int64_t trainable_params = 0;        ///< those with requires_grad (they get gradients)
  std::int64_t largest_param = 0;           ///< elements of the largest parameter tensor
  std::int64_t mult_adds = 0;               ///< multiply-adds of one example's forward pass
  /// The input batch: images in fp32 and int64 labels.
  LinearBytes input;
  /// What autograd keeps from the forward pass for the backward pass (saved tensors, the
  /// output and the loss), fp32.
  LinearBytes saved;
  /// The most the forward pass holds beyond what it keeps (its transient buffers).
  LinearBytes forward_transient;
  /// The most the backward pass holds beyond the saved tensors at its start (gradients of
  /// activations, the backward kernels' buffers; the parameters' gradients exist already).
  LinearBytes backward_transient;
  /// The most the optimiser step holds beyond its state (temporaries), after the graph is freed.
  std::int64_t optimizer_transient = 0;
  std::vector<std::int64_t> probe_batches;  ///< the two batches measured
};

/// Measures `net`'s step profile for inputs of `example_shape` (channels, height, width) and
/// `classes` classes with the optimiser `opt`: one training step at batch 2 and one at batch 4
/// (batch 1 takes other code paths, and BatchNorm1d cannot train on it), on the CPU in fp32,
/// through CpuMemoryCounter. The network is left in training mode with its parameters moved by two
/// tiny steps. Throws d2l::Error (BadInput) when the input does not fit the network.
StepProfile profile_step(torch::nn::Sequential net, const std::vector<std::int64_t>& example_shape,
                         std::int64_t classes, const OptimizerSpec& opt);

/// The framework's own memory on a GPU: estimates, not measurements (docs/fit.md gives sources).
struct GpuOverhead {
  /// CUDA context with PyTorch's kernels loaded (300-500 MiB with lazy module loading, more
  /// without; PyTorch's "CUDA semantics" notes).
  std::int64_t context_bytes = 450LL << 20;
  /// cuDNN convolution workspace and cuBLAS workspaces (PyTorch's default cuBLAS config is
  /// 8 x 4 MiB; cuDNN's workspace depends on the algorithm chosen).
  std::int64_t workspace_bytes = 256LL << 20;
  /// The caching allocator's rounding (512 B granules, 2 MiB and 20 MiB segments) and
  /// fragmentation, as a share of the tensors' bytes.
  double rounding = 0.10;
};

/// Memory of one training step, broken down, in bytes.
struct MemoryEstimate {
  std::int64_t batch = 0;                ///< the batch on this device
  std::int64_t params = 0;               ///< the parameters (fp32)
  std::int64_t gradients = 0;            ///< their gradients (fp32, kept between steps)
  std::int64_t optimizer_state = 0;      ///< SGD momentum 1x params, Adam/AdamW 2x, plain SGD 0
  std::int64_t weight_copies = 0;        ///< bf16/fp16: autocast's half copies of the weights
  std::int64_t input = 0;                ///< the batch of images and labels
  std::int64_t activations = 0;          ///< saved for the backward pass
  std::int64_t transient = 0;            ///< the largest transient of forward or backward
  std::int64_t optimizer_transient = 0;  ///< the optimiser step's temporaries
  std::int64_t framework = 0;            ///< GPU only: context + workspace + allocator rounding
  std::int64_t peak = 0;                 ///< the tensors' peak over the step (without framework)
  std::int64_t total = 0;                ///< peak + framework
};

/// The memory of a step at `batch` in `precision` with `opt`; `gpu` adds the framework's
/// overhead and scales activations to the precision (bf16/fp16 halve them), nullopt is this CPU
/// in fp32. Throws d2l::Error (BadInput) for a batch under 1.
MemoryEstimate estimate_memory(const StepProfile& profile, std::int64_t batch, Precision precision,
                               const OptimizerSpec& opt, const std::optional<GpuOverhead>& gpu);

/// The largest batch (on one GPU) whose estimate_memory(...).total fits in `capacity_bytes`,
/// searched up to 2^24; nullopt when not even batch 1 fits.
std::optional<std::int64_t> largest_batch(const StepProfile& profile, Precision precision,
                                          const OptimizerSpec& opt, std::int64_t capacity_bytes,
                                          const GpuOverhead& gpu = {});

/// The share of the datasheet throughput a training step reaches: stated assumptions (docs/fit.md:
/// ResNet-50's published training throughputs reach about half the fp32 peak and a fifth of the
/// tensor-core peak); the bandwidth share is 0.8.
double default_efficiency(Precision p);

/// Seconds of one training step at `batch` (per GPU) on `gpu`: 3 x multiply-adds x 2 FLOPs x
/// batch over (the datasheet throughput x `efficiency`), plus the activations' traffic (written,
/// read back, their gradients written and read: 4 x saved bytes) over 0.8 x the bandwidth.
/// nullopt where the GPU cannot run `precision`.
std::optional<double> step_seconds(const StepProfile& profile, std::int64_t batch,
                                   const GpuSpec& gpu, Precision precision, double efficiency);

/// Training examples in an epoch of a data set ("fashion-mnist", "mnist": 60000; "cifar10":
/// 50000); throws d2l::Error (BadInput) for another name.
std::int64_t train_examples(const std::string& dataset);

/// One GPU or instance of the table.
struct FitRow {
  std::string instance;  ///< the catalogue's InstanceType ("" for a bare --gpu)
  std::string region;
  std::string gpu;  ///< the GpuSpec's name
  int gpus = 1;     ///< GPUs of the instance (data parallel: the batch is split evenly)
  std::int64_t gpu_memory_bytes = 0;  ///< per GPU (the catalogue's, else the datasheet's)
  std::optional<double> price;        ///< USD per hour, on-demand
  bool supported = true;  ///< false: the GPU cannot run the precision (bf16 before Ampere)
  MemoryEstimate memory;  ///< per GPU at the asked batch
  bool fits = false;
  std::optional<std::int64_t> max_batch;  ///< the largest global batch that fits
  std::optional<double> epoch_seconds;
  std::optional<double> run_cost;  ///< USD for the run's epochs
};

/// The run `d2l fit` is asked about.
struct FitQuery {
  std::int64_t batch = 256;
  Precision precision = Precision::FP32;
  OptimizerSpec optimizer;
  std::int64_t epochs = 10;
  std::int64_t examples = 60000;     ///< training examples per epoch
  std::optional<double> efficiency;  ///< default_efficiency(precision) when not given
  GpuOverhead overhead;
};

/// The row for `gpu` (on `offer` when given: its GPU count, memory per GPU and price).
FitRow fit_row(const StepProfile& profile, const FitQuery& q, const GpuSpec& gpu,
               const ops::InstanceOffer* offer = nullptr);

/// A row for every GPU instance of `catalog` whose GPU is in gpu_specs() (CPU-only rows are left
/// out), in catalogue order.
std::vector<FitRow> fit_rows(const StepProfile& profile, const FitQuery& q,
                             const ops::Catalog& catalog);

/// The index of the row that fits with the lowest run cost (ties: the first); nullopt when none
/// fits or none has a price.
std::optional<std::size_t> cheapest_fit(const std::vector<FitRow>& rows);

/// Counts the bytes the CPU allocator hands out while it lives: it installs a counting
/// allocator with c10::SetCPUAllocator over the one in place and puts that back when destroyed.
/// Only tensors allocated while it lives are counted (also when freed later). One at a time:
/// a second throws d2l::Error.
class CpuMemoryCounter {
 public:
  CpuMemoryCounter();
  ~CpuMemoryCounter();
  CpuMemoryCounter(const CpuMemoryCounter&) = delete;
  CpuMemoryCounter& operator=(const CpuMemoryCounter&) = delete;
  /// Bytes allocated since construction and not yet freed.
  std::int64_t live() const;
  /// The most live() has been since construction or the last reset_peak().
  std::int64_t peak() const;
  /// Sets peak() to live().
  void reset_peak();
};

/// A real training step measured on the CPU.
struct MeasuredStep {
  std::int64_t batch = 0;
  std::int64_t peak_bytes = 0;  ///< the counting allocator's peak over the steps, model included
  double step_seconds = 0;      ///< the last step's wall time
  int steps = 0;
};

/// Builds `make_model(model, ...)` under a CpuMemoryCounter and runs `steps` real training
/// steps (random inputs of `example_shape`, cross-entropy, `opt`) at `batch` on the CPU in
/// fp32: the peak bytes that allocator saw, parameters, gradients and optimiser state included.
MeasuredStep measure_step(const std::string& model, const std::vector<std::int64_t>& example_shape,
                          std::int64_t classes, std::int64_t batch, const OptimizerSpec& opt,
                          int steps = 2);

}  // namespace d2l
