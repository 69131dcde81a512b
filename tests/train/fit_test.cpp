#include "d2l/train/fit.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "d2l/core/error.h"
#include "d2l/models/registry.h"
#include "d2l/ops/pricing.h"

using d2l::OptimizerKind;
using d2l::OptimizerSpec;
using d2l::Precision;
using d2l::StepProfile;

namespace {

// LeNet on Fashion-MNIST, profiled once for the tests that need a real profile.
const StepProfile& lenet_profile() {
  static const StepProfile p = [] {
    torch::manual_seed(0);
    return d2l::profile_step(d2l::make_model("lenet", 1, 28, 10), {1, 28, 28}, 10, {});
  }();
  return p;
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
  p.forward_transient.per_example = 10.0 * (1 << 20);
  p.backward_transient.per_example = 20.0 * (1 << 20);
  p.optimizer_transient = 4000000;
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
  EXPECT_THROW(d2l::profile_step(d2l::make_model("lenet", 1, 28, 10), {1, 5, 5}, 10, {}),
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

// The prediction against a real step measured through the counting allocator, at batches the
// profile never ran: the linear extrapolation of what autograd keeps must hold (docs/fit.md).
TEST(Fit, PredictionMatchesAMeasuredStepOnTheCpu) {
  struct Case {
    const char* model;
    std::int64_t channels, size, batch;
    OptimizerKind optimizer;
  };
  for (const Case& c :
       {Case{"lenet", 1, 28, 32, OptimizerKind::SGD}, Case{"lenet", 1, 28, 64, OptimizerKind::Adam},
        Case{"resnet", 1, 96, 8, OptimizerKind::SGD}}) {
    OptimizerSpec opt;
    opt.kind = c.optimizer;
    opt.lr = 0.01;
    torch::manual_seed(0);
    const auto prof = d2l::profile_step(d2l::make_model(c.model, c.channels, c.size, 10),
                                        {c.channels, c.size, c.size}, 10, opt);
    const auto predicted =
        d2l::estimate_memory(prof, c.batch, Precision::FP32, opt, std::nullopt).total;
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
