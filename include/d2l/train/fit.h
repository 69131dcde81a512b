#pragma once
/// \file d2l/train/fit.h
/// `d2l fit`: before renting a GPU, predict a training run's memory, time and cost (LibTorch).
///
/// The estimate has two halves. A network's *step profile* is computed without training it
/// (analyse_step()): the parameters, gradients and optimiser state are counted from the
/// parameter tensors, and the activations come
/// from one forward pass of 2 examples recorded op by op, with what autograd keeps per op kind
/// and how long every other tensor lives. The profile is then scaled to any batch, precision and
/// GPU with datasheet figures (gpu_specs()) and stated overheads (GpuOverhead). `--measure`
/// checks it against real steps (measure_step(): a counting CPU allocator, or CUDA's caching
/// allocator's statistics). docs/fit.md says what the estimate leaves out.
#include <c10/core/Device.h>
#include <torch/nn/modules/container/sequential.h>

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "d2l/ops/pricing.h"
#include "d2l/train/optim.h"
#include "d2l/train/precision.h"  // Precision, parse_precision, to_string
#include "d2l/train/run.h"

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

/// What autograd keeps for one op of the forward pass (analyse_step()).
struct OpMemory {
  std::string op;     ///< the ATen operator: "aten::convolution", "aten::relu", ...
  LinearBytes saved;  ///< bytes of the tensors it keeps that no earlier op keeps already
};

/// The memory of one fp32 training step of a network, computed without training it
/// (analyse_step()): the parameters counted, the activations from the ops' shapes and what
/// autograd keeps per op kind.
struct StepProfile {
  std::vector<std::int64_t> example_shape;  ///< one input: channels, height, width
  std::int64_t params = 0;                  ///< all parameters (elements)
  std::int64_t trainable_params = 0;        ///< those with requires_grad (they get gradients)
  std::int64_t largest_param = 0;           ///< elements of the largest parameter tensor
  std::int64_t mult_adds = 0;               ///< multiply-adds of one example's forward pass
  /// The input batch: images in fp32 and int64 labels.
  LinearBytes input;
  /// What autograd keeps from the forward pass for the backward pass (each storage once), as
  /// this CPU keeps it in fp32.
  LinearBytes saved;
  /// Of `saved`: integer tensors (max-pool indices, labels), not halved by half precision.
  LinearBytes saved_integer;
  /// Of `saved`: dropout's masks (fp32 noise on the CPU; CUDA keeps a 1-byte mask).
  LinearBytes saved_dropout;
  /// For every op of the forward pass: the bytes live after it above `saved` (the tensors not
  /// kept, until their last use). Their largest value at a batch is the forward transient.
  std::vector<LinearBytes> forward_peaks;
  /// For every op, in the backward pass: the saved tensors not yet released, the gradients of
  /// activations alive (from their last consumer's backward to their producer's) and the
  /// weight gradients it computes before adding them to `.grad`, minus `saved`.
  std::vector<LinearBytes> backward_peaks;
  std::vector<OpMemory> ops;      ///< the ops that keep something, in forward order
  std::int64_t traced_batch = 0;  ///< the batch of the forward pass the shapes came from
  /// The largest of forward_peaks / backward_peaks at `batch` (at least 0).
  std::int64_t forward_transient(std::int64_t batch) const;
  std::int64_t backward_transient(std::int64_t batch) const;
};

/// The step profile of `net` for inputs of `example_shape` (channels, height, width) and
/// `classes` classes, without training: one forward pass of 2 examples (training mode, autograd
/// on, cross-entropy; batch 1 cannot run BatchNorm1d in training mode) recorded op by op through
/// ATen's RecordFunction, and what autograd keeps per op kind: convolution and linear their
/// input, ReLU/sigmoid/tanh their output, max-pool its input and int64 indices, average and
/// adaptive pooling their input (a 1 x 1 adaptive pool: nothing), batch norm its input and the
/// per-channel mean and inverse std, dropout its mask (on the CPU: mul's noise tensor), mul/div
/// their operands, log-softmax its output, NLL its input and labels; views, flatten, additions and
/// concatenation nothing. Each storage counts once (a ReLU's output that the next convolution
/// also keeps), tensors of batch size scale with the batch, the rest (per-channel statistics) is
/// fixed. Whether a storage is kept at all is what survived the pass (the record holds storages
/// weakly): a survivor no rule names is kept by its first consumer (1.13's mean keeps its input).
/// No backward pass and no optimiser step run. Throws d2l::Error (BadInput) when the input
/// does not fit the network.
StepProfile analyse_step(torch::nn::Sequential net, const std::vector<std::int64_t>& example_shape,
                         std::int64_t classes);

/// The version of analyse_step()'s results: a stored profile of another version is analysed
/// again. Bump it whenever a change to the analysis changes what it returns.
inline constexpr int kStepProfileVersion = 2;

/// Where step_profile_for() found a profile.
enum class ProfileSource {
  Shipped,   ///< the store made at build time (share/d2l/fit-profiles)
  Cache,     ///< the user's cache (cache_dir()/fit)
  Analysed,  ///< analyse_step() just now
};

/// "shipped", "cache" or "analysed".
std::string to_string(ProfileSource s);

/// A stored profile's name: the network, the example shape and the classes, e.g.
/// `lenet-1x28x28-10.json`.
std::string step_profile_file_name(const std::string& model,
                                   const std::vector<std::int64_t>& example_shape,
                                   std::int64_t classes);

/// `profile` of network `model` with `classes` classes as a JSON document, stamped with
/// kStepProfileVersion, the LibTorch and the d2l versions.
std::string step_profile_to_json(const StepProfile& profile, const std::string& model,
                                 std::int64_t classes);

/// The profile stored in `text` (read from `what`, named in errors). Throws d2l::Error naming
/// `what` and the fault when the text is not such a document, is of another format version,
/// LibTorch or d2l version, or is not the profile of `model` for `example_shape` and `classes`.
StepProfile step_profile_from_json(const std::string& text, const std::string& what,
                                   const std::string& model,
                                   const std::vector<std::int64_t>& example_shape,
                                   std::int64_t classes);

/// The folders step_profile_for() reads: `$D2L_FIT_PROFILES` (may be empty: no shipped store),
/// else `share/d2l/fit-profiles` beside the executable's folder (the build tree's bin/) or two
/// up (an installed libexec/d2l/), "" when neither exists; and cache_dir() + "/fit".
std::string shipped_profile_dir();
std::string cached_profile_dir();

/// The step profile of the registry's network `model` (make_model()) for images of `channels`
/// x `size` x `size` and `classes` classes, without analysing it again when it is stored: the
/// shipped store first, then the user's cache; else analyse_step() on a new network, and the
/// result is written into the cache atomically (a cache that cannot be written is passed over).
/// A stored file that cannot be read, is corrupt or of another version is passed over (and
/// replaced in the cache). `use_store` false: analysed, nothing read or written. `source`, when
/// given, says where the profile came from. Throws what analyse_step() and make_model() throw.
StepProfile step_profile_for(const std::string& model, std::int64_t channels, std::int64_t size,
                             std::int64_t classes, bool use_store = true,
                             ProfileSource* source = nullptr);

/// Writes the profile of every network of the registry that trains on images (all but linreg),
/// for its data set at the book's resize, into `dir` (created), atomically; returns how many.
/// What the build runs to make the shipped store. Throws d2l::Error when `dir` cannot be written.
int write_book_profiles(const std::string& dir);

/// The optimiser step's temporaries in bytes (after the graph is freed): LibTorch's SGD makes
/// one parameter-sized tensor for weight decay and one for Nesterov, Adam/AdamW two (the square
/// root and its quotient) plus one for Adam's L2 weight decay; the largest parameter sets the
/// size (the step goes parameter by parameter).
std::int64_t optimizer_transient_bytes(const StepProfile& profile, const OptimizerSpec& opt);

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
/// overhead, keeps dropout masks in 1 byte an element (CUDA's) and scales floating-point
/// activations to the precision (bf16/fp16 halve them); nullopt is this CPU in fp32. Throws
/// d2l::Error (BadInput) for a batch under 1.
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

/// Real training steps measured on a device.
struct MeasuredStep {
  std::int64_t batch = 0;
  std::string device;  ///< "cpu", "cuda:0"
  /// The whole step's peak, comparable to MemoryEstimate::total: on the CPU the counting
  /// allocator's peak (model, gradients and optimiser state included); on CUDA the caching
  /// allocator's peak reserved bytes plus the context (the device's used memory before the
  /// first tensor).
  std::int64_t peak_bytes = 0;
  /// The tensors' peak, comparable to MemoryEstimate::peak (CUDA: peak allocated bytes; the CPU:
  /// peak_bytes).
  std::int64_t tensor_peak_bytes = 0;
  std::int64_t context_bytes = 0;  ///< CUDA: the context's and libraries' memory, else 0
  double step_seconds = 0;         ///< the last step's wall time (synchronised on CUDA)
  int steps = 0;
};

/// Builds `make_model(model, ...)` and runs `steps` real training steps (random inputs of
/// `example_shape`, cross-entropy, `opt`) at `batch` in fp32 on `device`: on the CPU under a
/// CpuMemoryCounter, on CUDA with the caching allocator's peak statistics reset first. Throws
/// d2l::Error (BadInput) for a CUDA device in a build without CUDA or a GPU that is absent.
MeasuredStep measure_step(const std::string& model, const std::vector<std::int64_t>& example_shape,
                          std::int64_t classes, std::int64_t batch, const OptimizerSpec& opt,
                          int steps = 2, c10::Device device = c10::Device(c10::DeviceType::CPU));

/// A CUDA device's name and memory.
struct DeviceMemory {
  std::string name;  ///< as CUDA reports it: "NVIDIA H200", "Tesla T4"
  std::int64_t total_bytes = 0;
  std::int64_t free_bytes = 0;  ///< cudaMemGetInfo's free memory (the context exists by then)
};

/// The name and memory of CUDA device `device`; nullopt for a CPU device or in a build without
/// CUDA. Creates the device's context.
std::optional<DeviceMemory> cuda_device_memory(c10::Device device);

/// The datasheet row of a GPU by the name CUDA reports ("NVIDIA A100-SXM4-80GB", "Tesla T4"):
/// the first family named in it (longest first), the row whose memory is nearest `memory_gib`;
/// nullptr when none is named.
const GpuSpec* gpu_for_device_name(const std::string& name, double memory_gib);

/// Whether a run fits a device's free memory (check_fit()).
struct FitVerdict {
  bool fits = false;
  std::int64_t batch = 0;
  std::int64_t needed_bytes = 0;              ///< MemoryEstimate::total at the batch
  std::int64_t available_bytes = 0;           ///< what the device has for it
  std::optional<std::int64_t> largest_batch;  ///< nullopt: not even batch 1 fits
};

/// Whether a step at `batch` fits in `available_bytes` of a GPU (estimate_memory() with
/// `overhead`; pass context_bytes 0 when `available_bytes` is free memory measured after the
/// context was made), and the largest batch that does.
FitVerdict check_fit(const StepProfile& profile, std::int64_t batch, Precision precision,
                     const OptimizerSpec& opt, std::int64_t available_bytes,
                     const GpuOverhead& overhead);

/// The one line `d2l train` prints when a run will not fit or ran out of memory, e.g. "resnet at
/// batch 4096 needs about 41.2 GiB on cuda:0, which has 38.5 GiB free: the largest batch that
/// fits is about 3791; pass --batch-size 3791" (with `force_flag`, ", or --no-fit-check to try
/// anyway"). Without a batch that fits it says that not even batch 1 fits.
std::string fit_advice(const std::string& model, const std::string& device,
                       const FitVerdict& verdict, const std::string& force_flag = "");

/// Whether `what` is the text of a CUDA out-of-memory error (LibTorch 1.13's c10::Error starts
/// with "CUDA out of memory"; 2.x's c10::OutOfMemoryError says the same).
bool is_out_of_memory_message(const std::string& what);

/// Whether `e` is a CUDA out-of-memory error (c10::OutOfMemoryError where LibTorch has it, or its
/// message).
bool is_out_of_memory(const std::exception& e);

/// What `d2l train` asks before its first step: for a run on a CUDA device, the prediction for
/// `plan` (its model, data set, resize, batch per process over `world_size` processes,
/// optimiser) against the device's free memory; the advice line (fit_advice() with
/// `--no-fit-check`) when it will not fit, nullopt when it fits, the device is not CUDA or the
/// build has no CUDA.
std::optional<std::string> gpu_fit_check(const RunPlan& plan, int world_size = 1);

/// The line `d2l train` prints for a CUDA out-of-memory error during `plan`'s run: the largest
/// batch the prediction gives for the device's memory (its cache emptied first).
std::string out_of_memory_advice(const RunPlan& plan, int world_size = 1);

}  // namespace d2l
