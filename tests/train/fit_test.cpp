#include "d2l/train/fit.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <stdexcept>
#include <string>

#include "d2l/core/error.h"
#include "d2l/models/registry.h"
#include "d2l/ops/pricing.h"

using d2l::OptimizerKind;
using d2l::OptimizerSpec;
using d2l::Precision;
using d2l::StepProfile;

namespace {

// LeNet on Fashion-MNIST, analysed once for the tests that need a real profile.
const StepProfile& lenet_profile() {
  static const StepProfile p = [] {
    return d2l::analyse_step(d2l::make_model("lenet", 1, 28, 10), {1, 28, 28}, 10);
  }();
  return p;
}

// A tiny network whose every kept tensor is counted by hand below: 1 x 4 x 4 images, 3 classes.
torch::nn::Sequential tiny_net() {
  namespace nn = torch::nn;
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 2, 3).padding(1)), nn::BatchNorm2d(2),
                        nn::ReLU(), nn::Dropout(0.5), nn::MaxPool2d(nn::MaxPool2dOptions(2)),
                        nn::Flatten(), nn::Linear(8, 3));
}

// The bytes a real forward pass leaves allocated (what autograd keeps, the output, the loss),
// through the counting allocator.
std::int64_t measured_forward_bytes(torch::nn::Sequential net, std::int64_t batch,
                                    const std::vector<std::int64_t>& example,
                                    std::int64_t classes) {
  net->train();
  std::vector<std::int64_t> shape{batch};
  shape.insert(shape.end(), example.begin(), example.end());
  auto x = torch::randn(shape);
  auto y = torch::randint(0, classes, {batch}, torch::kLong);
  d2l::CpuMemoryCounter counter;
  auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
  return counter.live();
}

// A hand-made profile: 1,000,000 parameters, 100 MiB saved and 20 MiB transient per example,
// 1 GFLOP (0.5 G multiply-adds) per example forward.
StepProfile synthetic_profile() {
  StepProfile p;
  p.example_shape = {3, 224, 224};
  p.params = p.trainable_params = 1000000;
  p.largest_param = 500000;
  p.mult_adds = 500000000;
  p.input.per_example = 3 * 224 * 224 * 4 + 8;
  p.saved.per_example = 100.0 * (1 << 20);
  p.forward_peaks = {{0, 10.0 * (1 << 20)}};
  p.backward_peaks = {{0, 20.0 * (1 << 20)}, {1000, 0}};
  return p;
}

std::int64_t gib(double g) { return static_cast<std::int64_t>(g * (1LL << 30)); }

}  // namespace

TEST(Fit, ParametersGradientsAndOptimizerStateAreExact) {
  const auto& p = lenet_profile();
  ASSERT_EQ(p.params, 61706);  // the book's LeNet-5 on 28 x 28 images, 10 classes
  ASSERT_EQ(p.trainable_params, 61706);
  OptimizerSpec sgd;
  auto m = d2l::estimate_memory(p, 256, Precision::FP32, sgd, std::nullopt);
  EXPECT_EQ(m.params, 61706 * 4);
  EXPECT_EQ(m.gradients, 61706 * 4);
  EXPECT_EQ(m.optimizer_state, 0);  // plain SGD keeps nothing
  sgd.momentum = 0.9;
  EXPECT_EQ(d2l::estimate_memory(p, 256, Precision::FP32, sgd, std::nullopt).optimizer_state,
            61706 * 4);
  for (auto kind : {OptimizerKind::Adam, OptimizerKind::AdamW}) {
    OptimizerSpec adam;
    adam.kind = kind;
    EXPECT_EQ(d2l::estimate_memory(p, 256, Precision::FP32, adam, std::nullopt).optimizer_state,
              2 * 61706 * 4);
  }
  // Mixed precision: fp32 master weights stay, autocast adds half copies.
  auto half = d2l::estimate_memory(p, 256, Precision::FP16, {}, d2l::GpuOverhead{});
  EXPECT_EQ(half.params, 61706 * 4);
  EXPECT_EQ(half.weight_copies, 61706 * 2);
  EXPECT_GT(half.framework, 0);
  EXPECT_EQ(half.total, half.peak + half.framework);
}

TEST(Fit, InputAndActivationsScaleLinearlyWithTheBatch) {
  const auto& p = lenet_profile();
  EXPECT_NEAR(p.input.per_example, 28 * 28 * 4 + 8, 1);  // one image and its int64 label
  EXPECT_GT(p.saved.per_example, 28 * 28 * 4);  // LeNet keeps several feature maps per image
  const auto a8 = d2l::estimate_memory(p, 8, Precision::FP32, {}, std::nullopt).activations;
  const auto a16 = d2l::estimate_memory(p, 16, Precision::FP32, {}, std::nullopt).activations;
  const auto a32 = d2l::estimate_memory(p, 32, Precision::FP32, {}, std::nullopt).activations;
  EXPECT_NEAR(static_cast<double>(a32 - a16), 2.0 * static_cast<double>(a16 - a8), 2.0);
  EXPECT_GT(a16, a8);
  // On a GPU in half precision the activations halve.
  const auto h32 = d2l::estimate_memory(p, 32, Precision::BF16, {}, d2l::GpuOverhead{});
  EXPECT_NEAR(static_cast<double>(h32.activations), a32 / 2.0, 1.0);
}

TEST(Fit, LargestBatchFitsAndGrowsWithMemory) {
  const StepProfile p = synthetic_profile();
  const d2l::GpuOverhead o;
  std::int64_t previous = 0;
  for (double g = 1; g <= 80; g += 1) {
    const auto b = d2l::largest_batch(p, Precision::FP32, {}, gib(g), o);
    ASSERT_TRUE(b.has_value()) << g;
    EXPECT_GE(*b, previous) << g;
    previous = *b;
    EXPECT_LE(d2l::estimate_memory(p, *b, Precision::FP32, {}, o).total, gib(g));
    EXPECT_GT(d2l::estimate_memory(p, *b + 1, Precision::FP32, {}, o).total, gib(g));
  }
  EXPECT_GT(previous, 500);  // 80 GiB at ~130 MiB an example
  // Less than the framework itself: nothing fits.
  EXPECT_FALSE(d2l::largest_batch(p, Precision::FP32, {}, 100 << 20, o).has_value());
}

TEST(Fit, CheapestInstanceIsTheCheapestRunThatFits) {
  const auto catalog = d2l::ops::Catalog::parse(
      "InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GPUInfo,Region,"
      "AvailabilityZone,Price,SpotPrice\n"
      "cpu.big,64,256,,,,r,,0.01,\n"
      "small.t4,4,16,T4,1,\"{'TotalGpuMemoryInMiB': 16384}\",r,,0.50,\n"
      "big.a100,12,100,A100,1,\"{'TotalGpuMemoryInMiB': 40960}\",r,,4.00,\n"
      "bigger.a100,12,100,A100,1,\"{'TotalGpuMemoryInMiB': 81920}\",r,,5.00,\n"
      "odd.gpu,4,16,X999,1,\"{'TotalGpuMemoryInMiB': 16384}\",r,,0.10,\n",
      "test");
  const StepProfile p = synthetic_profile();
  d2l::FitQuery q;
  q.epochs = 10;
  q.examples = 50000;

  q.batch = 16;  // ~2.5 GiB: everything fits; the T4 is slower but 8x cheaper an hour
  auto rows = d2l::fit_rows(p, q, catalog);
  ASSERT_EQ(rows.size(), 3u);  // the CPU-only row and the unknown GPU are left out
  EXPECT_EQ(rows[1].gpu, "A100-40GB");
  EXPECT_EQ(rows[2].gpu, "A100-80GB");
  for (const auto& r : rows) EXPECT_TRUE(r.fits) << r.instance;
  auto best = d2l::cheapest_fit(rows);
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(rows[*best].instance, "small.t4");

  q.batch = 200;  // ~26 GiB: only the A100s fit, the 40 GB one costs less
  rows = d2l::fit_rows(p, q, catalog);
  EXPECT_FALSE(rows[0].fits);
  EXPECT_TRUE(rows[1].fits);
  best = d2l::cheapest_fit(rows);
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(rows[*best].instance, "big.a100");
  EXPECT_LT(*rows[0].max_batch, 200);
  EXPECT_GE(*rows[1].max_batch, 200);

  q.batch = 1000;  // ~130 GiB: nothing fits
  rows = d2l::fit_rows(p, q, catalog);
  EXPECT_FALSE(d2l::cheapest_fit(rows).has_value());

  // The run's cost is the price times the epochs' hours.
  q.batch = 16;
  rows = d2l::fit_rows(p, q, catalog);
  ASSERT_TRUE(rows[0].epoch_seconds && rows[0].run_cost);
  EXPECT_NEAR(*rows[0].run_cost, 0.50 * 10 * *rows[0].epoch_seconds / 3600, 1e-9);
}

TEST(Fit, MultiGpuInstancesSplitTheBatch) {
  const StepProfile p = synthetic_profile();
  d2l::ops::InstanceOffer four;
  four.instance_type = "p3.8xlarge";
  four.accelerator_name = "V100";
  four.accelerator_count = 4;
  four.gpu_memory_gib = 64;
  four.price = 12.24;
  d2l::FitQuery q;
  q.batch = 256;
  const auto r = d2l::fit_row(p, q, *d2l::gpu_for_offer(four), &four);
  EXPECT_EQ(r.gpus, 4);
  EXPECT_EQ(r.memory.batch, 64);
  EXPECT_EQ(r.gpu_memory_bytes, gib(16));
  ASSERT_TRUE(r.max_batch.has_value());
  EXPECT_EQ(*r.max_batch % 4, 0);
}

TEST(Fit, PrecisionsAndGpus) {
  EXPECT_EQ(d2l::parse_precision("bf16"), Precision::BF16);
  EXPECT_EQ(d2l::to_string(Precision::TF32), "tf32");
  EXPECT_THROW(d2l::parse_precision("fp8"), d2l::Error);
  EXPECT_EQ(d2l::gpu_spec("a100").name, "A100-40GB");
  EXPECT_EQ(d2l::gpu_spec("h100").memory_gib, 80);
  EXPECT_THROW(d2l::gpu_spec("GTX 480"), d2l::Error);
  const auto& v100 = d2l::gpu_spec("V100-16GB");
  EXPECT_FALSE(d2l::gpu_tflops(v100, Precision::BF16).has_value());  // no bf16 before Ampere
  EXPECT_DOUBLE_EQ(*d2l::gpu_tflops(v100, Precision::TF32), v100.fp32_tflops);
  for (const auto& g : d2l::gpu_specs()) {
    EXPECT_FALSE(g.source.empty()) << g.name;
    EXPECT_GT(g.memory_gib, 0) << g.name;
    EXPECT_GT(g.bandwidth_gbs, 0) << g.name;
  }
  d2l::FitQuery q;
  q.precision = Precision::BF16;
  const auto r = d2l::fit_row(synthetic_profile(), q, v100);
  EXPECT_FALSE(r.supported);
  EXPECT_FALSE(r.fits);
  // A faster precision gives a shorter step.
  const auto p = synthetic_profile();
  const auto& a100 = d2l::gpu_spec("A100-40GB");
  EXPECT_LT(*d2l::step_seconds(p, 64, a100, Precision::FP16, 0.2),
            *d2l::step_seconds(p, 64, a100, Precision::FP32, 0.5));
}

TEST(Fit, BadInputIsRefused) {
  EXPECT_THROW(d2l::estimate_memory(synthetic_profile(), 0, Precision::FP32, {}, std::nullopt),
               d2l::Error);
  EXPECT_THROW(d2l::train_examples("imagenet"), d2l::Error);
  EXPECT_THROW(d2l::analyse_step(d2l::make_model("lenet", 1, 28, 10), {1, 5, 5}, 10),
               d2l::Error);  // 5 x 5 images are too small for LeNet
}

TEST(Fit, CounterSeesAllocationsAndFrees) {
  d2l::CpuMemoryCounter counter;
  EXPECT_THROW(d2l::CpuMemoryCounter second, d2l::Error);
  const auto before = counter.live();
  {
    auto t = torch::empty({1000}, torch::kFloat);
    EXPECT_EQ(counter.live() - before, 4000);
  }
  EXPECT_EQ(counter.live(), before);
  EXPECT_GE(counter.peak() - before, 4000);
  counter.reset_peak();
  EXPECT_EQ(counter.peak(), counter.live());
}

TEST(Fit, TinyNetworkKeepsWhatAutogradKeepsCountedByHand) {
  const auto p = d2l::analyse_step(tiny_net(), {1, 4, 4}, 3);
  EXPECT_EQ(p.params, (2 * 9 + 2) + (2 + 2) + (8 * 3 + 3));
  // Per example, in bytes (fp32 = 4, int64 = 8): the convolution keeps the input batch
  // (counted as the input, not again); batch norm its input, the conv output 2x4x4 (128), and
  // per channel the batch mean and inverse std (2 x 2 x 4 = 16 fixed); ReLU its output (128);
  // dropout its fp32 noise (128); max-pool its input, dropout's output (128), and its int64
  // indices 2x2x2 (64); Linear its input, the pooled 8 values (32, a view of the pool's
  // output); log-softmax its output (12); NLL its input (the same) and the labels (the batch's)
  // and a total weight (4 fixed); the loss (4 fixed) stays.
  EXPECT_DOUBLE_EQ(p.saved.per_example, 128 + 128 + 128 + 128 + 64 + 32 + 12);
  EXPECT_DOUBLE_EQ(p.saved.fixed, 16 + 4 + 4);
  EXPECT_DOUBLE_EQ(p.saved_integer.per_example, 64);
  EXPECT_DOUBLE_EQ(p.saved_dropout.per_example, 128);
  EXPECT_DOUBLE_EQ(p.input.per_example, 16 * 4 + 8);
  std::map<std::string, double> by_op;
  for (const auto& o : p.ops) by_op[o.op] += o.saved.per_example;
  EXPECT_DOUBLE_EQ(by_op["aten::native_batch_norm"], 128);
  EXPECT_DOUBLE_EQ(by_op["aten::relu"], 128);
  EXPECT_DOUBLE_EQ(by_op["aten::mul"], 128);  // dropout's noise
  EXPECT_DOUBLE_EQ(by_op["aten::max_pool2d_with_indices"], 128 + 64);
  EXPECT_DOUBLE_EQ(by_op["aten::linear"] + by_op["aten::addmm"], 32);
  EXPECT_EQ(by_op.count("aten::convolution"), 0u);  // its input is the batch
  // Multiply-adds of one example: conv 2x4x4 outputs x 9, linear 3 x 8.
  EXPECT_EQ(p.mult_adds, 32 * 9 + 24);
  // On a GPU the dropout mask is 1 byte an element (CUDA's native_dropout).
  const auto cpu = d2l::estimate_memory(p, 10, Precision::FP32, {}, std::nullopt);
  const auto gpu = d2l::estimate_memory(p, 10, Precision::FP32, {}, d2l::GpuOverhead{});
  EXPECT_EQ(cpu.activations - gpu.activations, 10 * (128 - 32));
}

// What the analysis says a forward pass keeps against what a real one leaves allocated.
TEST(Fit, ActivationCountMatchesTheCountingAllocator) {
  struct Case {
    const char* model;
    std::int64_t size, batch;
  };
  // The scratch BN-LeNet's means keep their inputs in LibTorch 1.13 (not in 2.x): what survives
  // the pass decides, not a table of one version.
  for (const Case& c : {Case{"lenet", 28, 16}, Case{"bn-lenet", 28, 16},
                        Case{"bn-lenet-scratch", 28, 16}, Case{"mlp", 28, 16}}) {
    const auto p =
        d2l::analyse_step(d2l::make_model(c.model, 1, c.size, 10), {1, c.size, c.size}, 10);
    torch::manual_seed(0);
    const auto measured = measured_forward_bytes(d2l::make_model(c.model, 1, c.size, 10), c.batch,
                                                 {1, c.size, c.size}, 10);
    const double ratio = static_cast<double>(p.saved.at(c.batch)) / static_cast<double>(measured);
    EXPECT_GT(ratio, 0.9) << c.model << ": " << p.saved.at(c.batch) << " vs " << measured;
    EXPECT_LT(ratio, 1.1) << c.model << ": " << p.saved.at(c.batch) << " vs " << measured;
  }
  torch::manual_seed(0);
  const auto measured = measured_forward_bytes(tiny_net(), 32, {1, 4, 4}, 3);
  const auto p = d2l::analyse_step(tiny_net(), {1, 4, 4}, 3);
  EXPECT_EQ(p.saved.at(32), measured);  // every byte accounted for
}

// The whole step's prediction against real steps measured through the counting allocator.
TEST(Fit, PredictionMatchesAMeasuredStepOnTheCpu) {
  struct Case {
    const char* model;
    std::int64_t channels, size, batch;
    OptimizerKind optimizer;
  };
  for (const Case& c :
       {Case{"lenet", 1, 28, 32, OptimizerKind::SGD}, Case{"lenet", 1, 28, 64, OptimizerKind::Adam},
        Case{"bn-lenet", 1, 28, 32, OptimizerKind::SGD},
        Case{"bn-lenet-scratch", 1, 28, 32, OptimizerKind::SGD},
        Case{"resnet", 1, 64, 4, OptimizerKind::SGD}}) {
    OptimizerSpec opt;
    opt.kind = c.optimizer;
    opt.lr = 0.01;
    const auto prof = d2l::analyse_step(d2l::make_model(c.model, c.channels, c.size, 10),
                                        {c.channels, c.size, c.size}, 10);
    const auto predicted =
        d2l::estimate_memory(prof, c.batch, Precision::FP32, opt, std::nullopt).total;
    torch::manual_seed(0);
    const auto measured =
        d2l::measure_step(c.model, {c.channels, c.size, c.size}, 10, c.batch, opt).peak_bytes;
    const double ratio = static_cast<double>(predicted) / static_cast<double>(measured);
    RecordProperty(std::string(c.model) + "_ratio", std::to_string(ratio));
    EXPECT_GT(ratio, 0.85) << c.model << " at " << c.batch << ": " << predicted << " vs "
                           << measured;
    EXPECT_LT(ratio, 1.15) << c.model << " at " << c.batch << ": " << predicted << " vs "
                           << measured;
  }
}

TEST(Fit, GpuCheckSaysWhatFitsAndWhichFlagToPass) {
  const StepProfile p = synthetic_profile();  // ~130 MiB an example
  d2l::GpuOverhead none;
  none.context_bytes = 0;
  // 16 GiB free: batch 64 (~8.4 GiB) fits, batch 256 does not.
  auto v = d2l::check_fit(p, 64, Precision::FP32, {}, gib(16), none);
  EXPECT_TRUE(v.fits);
  v = d2l::check_fit(p, 256, Precision::FP32, {}, gib(16), none);
  EXPECT_FALSE(v.fits);
  EXPECT_EQ(v.needed_bytes, d2l::estimate_memory(p, 256, Precision::FP32, {}, none).total);
  ASSERT_TRUE(v.largest_batch.has_value());
  EXPECT_LT(*v.largest_batch, 256);
  EXPECT_GT(*v.largest_batch, 64);
  EXPECT_LE(d2l::estimate_memory(p, *v.largest_batch, Precision::FP32, {}, none).total, gib(16));
  const std::string line = d2l::fit_advice("resnet", "cuda:0", v, "--no-fit-check");
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find("--batch-size " + std::to_string(*v.largest_batch)), std::string::npos)
      << line;
  EXPECT_NE(line.find("--no-fit-check"), std::string::npos) << line;
  EXPECT_NE(line.find("batch 256"), std::string::npos) << line;
  EXPECT_NE(line.find("16.0 GiB free"), std::string::npos) << line;
  // Nothing fits in 100 MiB: the line says so and names no batch.
  v = d2l::check_fit(p, 8, Precision::FP32, {}, 100 << 20, none);
  EXPECT_FALSE(v.fits);
  EXPECT_FALSE(v.largest_batch.has_value());
  EXPECT_NE(d2l::fit_advice("resnet", "cuda:0", v).find("not even batch 1"), std::string::npos);
  // Half precision halves the activations: a larger batch fits.
  const auto half = d2l::check_fit(p, 256, Precision::BF16, {}, gib(16), none);
  EXPECT_GT(*half.largest_batch,
            *d2l::check_fit(p, 256, Precision::FP32, {}, gib(16), none).largest_batch);
}

TEST(Fit, OutOfMemoryErrorsAreRecognisedByTheirText) {
  // LibTorch 1.13's c10::Error and 2.x's OutOfMemoryError begin so.
  EXPECT_TRUE(d2l::is_out_of_memory_message(
      "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity; 13.2 GiB "
      "already allocated; 1.1 GiB free; 13.5 GiB reserved in total by PyTorch)"));
  EXPECT_TRUE(d2l::is_out_of_memory_message("CUDA error: out of memory\nCUDA kernel errors ..."));
  EXPECT_FALSE(d2l::is_out_of_memory_message("CUDA error: device-side assert triggered"));
  EXPECT_FALSE(d2l::is_out_of_memory_message("DefaultCPUAllocator: can't allocate memory"));
  EXPECT_FALSE(d2l::is_out_of_memory_message(""));
  EXPECT_TRUE(d2l::is_out_of_memory(std::runtime_error("CUDA out of memory. Tried to allocate")));
  EXPECT_FALSE(d2l::is_out_of_memory(std::runtime_error("shape mismatch")));
  // On this machine's CPU there is no GPU to check: d2l train's check has nothing to say.
  d2l::RunPlan plan;
  plan.model = "lenet";
  plan.data = "fashion-mnist";
  plan.device = "cpu";
  plan.batch_size = 1 << 20;
  EXPECT_FALSE(d2l::gpu_fit_check(plan).has_value());
}

TEST(Fit, GpuNamesAsCudaReportsThem) {
  EXPECT_EQ(d2l::gpu_for_device_name("Tesla T4", 15)->name, "T4");
  EXPECT_EQ(d2l::gpu_for_device_name("NVIDIA A100-SXM4-80GB", 79.2)->name, "A100-80GB");
  EXPECT_EQ(d2l::gpu_for_device_name("NVIDIA A100-SXM4-40GB", 39.4)->name, "A100-40GB");
  EXPECT_EQ(d2l::gpu_for_device_name("NVIDIA L40S", 44.5)->name, "L40S");
  EXPECT_EQ(d2l::gpu_for_device_name("NVIDIA L4", 22)->name, "L4");
  EXPECT_EQ(d2l::gpu_for_device_name("NVIDIA H200", 139.8)->name, "H200");
  EXPECT_EQ(d2l::gpu_for_device_name("NVIDIA GeForce RTX 4090", 24), nullptr);
}
