#include "d2l/train/precision.h"

#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "d2l/core/error.h"

using d2l::LossScaler;
using d2l::Precision;

namespace {

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const d2l::Error& e) {
    EXPECT_EQ(e.kind(), d2l::Error::Kind::BadInput);
    return e.what();
  }
  ADD_FAILURE() << "no d2l::Error thrown";
  return "";
}

// A parameter whose gradient is `g`.
torch::Tensor param_with_grad(const torch::Tensor& g) {
  auto p = torch::zeros_like(g).requires_grad_(true);
  p.mutable_grad() = g.clone();
  return p;
}

}  // namespace

TEST(Precision, NamesRoundTripAndBadNamesAreRefused) {
  for (auto p : {Precision::FP32, Precision::TF32, Precision::BF16, Precision::FP16})
    EXPECT_EQ(d2l::parse_precision(d2l::to_string(p)), p);
  EXPECT_EQ(d2l::to_string(Precision::BF16), "bf16");
  for (const char* bad : {"", "FP32", "fp8", "float16", "bf16 "}) {
    const std::string m = message_of([&] { d2l::parse_precision(bad); });
    EXPECT_NE(m.find("--precision"), std::string::npos) << m;
    for (const char* name : {"fp32", "tf32", "bf16", "fp16"})
      EXPECT_NE(m.find(name), std::string::npos) << m;
  }
}

TEST(Precision, Fp16OnTheCpuIsRefusedWithOneLine) {
  const std::string m =
      message_of([] { d2l::check_precision(Precision::FP16, torch::Device(torch::kCPU)); });
  EXPECT_EQ(m, "--precision fp16 needs a CUDA device; on the CPU use bf16 or fp32");
  for (auto p : {Precision::FP32, Precision::TF32, Precision::BF16})
    EXPECT_NO_THROW(d2l::check_precision(p, torch::Device(torch::kCPU)));
  for (auto p : {Precision::FP32, Precision::TF32, Precision::BF16, Precision::FP16})
    EXPECT_NO_THROW(d2l::check_precision(p, torch::Device(torch::kCUDA, 0)));
  // The guard refuses the same combination rather than turning on an autocast that cannot run.
  EXPECT_THROW(d2l::AutocastGuard(Precision::FP16, torch::kCPU), d2l::Error);
}

TEST(Precision, MathModeSetsTf32OnlyForCudaDevices) {
  auto& ctx = at::globalContext();
  const bool blas = ctx.allowTF32CuBLAS(), dnn = ctx.allowTF32CuDNN();
  ctx.setAllowTF32CuBLAS(false);
  ctx.setAllowTF32CuDNN(false);
  d2l::apply_math_mode(Precision::TF32, torch::Device(torch::kCPU));  // nothing on the CPU
  EXPECT_FALSE(ctx.allowTF32CuBLAS());
  EXPECT_FALSE(ctx.allowTF32CuDNN());
  for (auto p : {Precision::TF32, Precision::BF16, Precision::FP16}) {
    d2l::apply_math_mode(Precision::FP32, torch::Device(torch::kCUDA, 0));
    EXPECT_FALSE(ctx.allowTF32CuBLAS());
    EXPECT_FALSE(ctx.allowTF32CuDNN());
    d2l::apply_math_mode(p, torch::Device(torch::kCUDA, 0));
    EXPECT_TRUE(ctx.allowTF32CuBLAS()) << d2l::to_string(p);
    EXPECT_TRUE(ctx.allowTF32CuDNN()) << d2l::to_string(p);
  }
  ctx.setAllowTF32CuBLAS(blas);
  ctx.setAllowTF32CuDNN(dnn);
}

TEST(Autocast, Bf16GuardRunsLinearAndConvInBf16OnTheCpuAndOnlyInside) {
  torch::manual_seed(0);
  torch::nn::Linear linear(8, 4);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(1, 2, 3));
  const auto x = torch::randn({2, 8});
  const auto img = torch::randn({1, 1, 6, 6});
  EXPECT_EQ(linear(x).scalar_type(), torch::kFloat);
  at::Tensor inside_lin, inside_conv;
  {
    d2l::AutocastGuard guard(Precision::BF16, torch::kCPU);
    EXPECT_TRUE(guard.active());
    inside_lin = linear(x);
    inside_conv = conv(img);
    EXPECT_EQ(inside_lin.scalar_type(), torch::kBFloat16);
    EXPECT_EQ(inside_conv.scalar_type(), torch::kBFloat16);
  }
  const auto outside = linear(x);
  EXPECT_EQ(outside.scalar_type(), torch::kFloat);
  EXPECT_EQ(conv(img).scalar_type(), torch::kFloat);
  // The bf16 result is the float one to bf16's precision, not something else.
  EXPECT_TRUE(torch::allclose(inside_lin.to(torch::kFloat), outside, 0.05, 0.05));
  EXPECT_FALSE(torch::equal(inside_lin.to(torch::kFloat), outside));
  // FP32 and TF32 guards do nothing.
  for (auto p : {Precision::FP32, Precision::TF32}) {
    d2l::AutocastGuard guard(p, torch::kCPU);
    EXPECT_FALSE(guard.active());
    EXPECT_EQ(linear(x).scalar_type(), torch::kFloat);
  }
  // A CUDA guard leaves CPU tensors alone.
  {
    d2l::AutocastGuard guard(Precision::BF16, torch::kCUDA);
    EXPECT_TRUE(guard.active());
    EXPECT_EQ(linear(x).scalar_type(), torch::kFloat);
  }
}

TEST(Autocast, NestedGuardsRestoreTheOuterState) {
  torch::nn::Linear linear(4, 3);
  const auto x = torch::randn({2, 4});
  {
    d2l::AutocastGuard outer(Precision::BF16, torch::kCPU);
    {
      d2l::AutocastGuard inner(Precision::BF16, torch::kCPU, /*cache_enabled=*/false);
      EXPECT_FALSE(at::autocast::is_autocast_cache_enabled());
      EXPECT_EQ(linear(x).scalar_type(), torch::kBFloat16);
      {
        d2l::AutocastGuard none(Precision::FP32, torch::kCPU);
        EXPECT_EQ(linear(x).scalar_type(), torch::kBFloat16);  // fp32 guard changes nothing
      }
    }
    EXPECT_TRUE(at::autocast::is_autocast_cache_enabled());
    EXPECT_EQ(linear(x).scalar_type(), torch::kBFloat16);  // still inside the outer guard
  }
  EXPECT_EQ(linear(x).scalar_type(), torch::kFloat);
  // A guard inside a guard twice more, then out: the state is off again, as before.
  for (int i = 0; i < 2; ++i) {
    d2l::AutocastGuard g(Precision::BF16, torch::kCPU);
    EXPECT_EQ(linear(x).scalar_type(), torch::kBFloat16);
  }
  EXPECT_EQ(linear(x).scalar_type(), torch::kFloat);
}

TEST(LossScaler, ScalesAndUnscalesFiniteGradients) {
  LossScaler::Options o;
  o.init_scale = 3.0;  // not a power of two: the division is not exact
  LossScaler s(o, torch::kCPU);
  EXPECT_DOUBLE_EQ(s.scale_value(), 3.0);
  const auto loss = torch::tensor(1.5f);
  EXPECT_FLOAT_EQ(s.scale(loss).item<float>(), 4.5f);
  torch::manual_seed(1);
  const auto g1 = torch::randn({4, 5}), g2 = torch::randn({7});
  auto p1 = param_with_grad(g1), p2 = param_with_grad(g2);
  auto no_grad = torch::zeros({3}, torch::requires_grad());
  const at::Tensor found = s.unscale({p1, no_grad, p2});
  EXPECT_EQ(found.dim(), 0);
  EXPECT_EQ(found.scalar_type(), torch::kFloat);
  EXPECT_EQ(found.item<float>(), 0.0f);
  EXPECT_TRUE(torch::allclose(p1.grad(), g1 / 3, 1e-6, 1e-7));
  EXPECT_TRUE(torch::allclose(p2.grad(), g2 / 3, 1e-6, 1e-7));
  EXPECT_FALSE(no_grad.grad().defined());
}

TEST(LossScaler, FindsInfAndNanGradients) {
  const float bad[] = {std::numeric_limits<float>::infinity(),
                       -std::numeric_limits<float>::infinity(),
                       std::numeric_limits<float>::quiet_NaN()};
  for (float v : bad) {
    LossScaler s({}, torch::kCPU);
    auto g = torch::ones({3, 3});
    g[1][2] = v;
    auto clean = param_with_grad(torch::ones({5})), dirty = param_with_grad(g);
    EXPECT_EQ(s.unscale({clean, dirty}).item<float>(), 1.0f) << v;
    // The next unscale with clean gradients reports 0 again (the same tensor, overwritten).
    auto c2 = param_with_grad(torch::ones({5}));
    EXPECT_EQ(s.unscale({c2}).item<float>(), 0.0f);
  }
}

TEST(LossScaler, BacksOffOnInfAndGrowsAfterTheIntervalOfCleanSteps) {
  LossScaler::Options o;
  o.init_scale = 1024;
  o.growth_interval = 3;
  LossScaler s(o, torch::kCPU);
  const auto inf = torch::ones({}), clean = torch::zeros({});
  s.update(clean);
  s.update(clean);
  EXPECT_EQ(s.growth_tracker_value(), 2);
  EXPECT_DOUBLE_EQ(s.scale_value(), 1024);
  s.update(inf);  // backoff, tracker back to 0
  EXPECT_DOUBLE_EQ(s.scale_value(), 512);
  EXPECT_EQ(s.growth_tracker_value(), 0);
  EXPECT_EQ(s.skipped_steps(), 1);
  s.update(clean);
  s.update(clean);
  EXPECT_DOUBLE_EQ(s.scale_value(), 512);
  s.update(clean);  // the third clean step in a row: growth
  EXPECT_DOUBLE_EQ(s.scale_value(), 1024);
  EXPECT_EQ(s.growth_tracker_value(), 0);
  s.update(inf);
  s.update(inf);
  EXPECT_DOUBLE_EQ(s.scale_value(), 256);
  EXPECT_EQ(s.skipped_steps(), 3);
}

TEST(LossScaler, KeepsTheScaleWhenGrowthWouldOverflow) {
  LossScaler::Options o;
  o.init_scale = 3e38;
  o.growth_interval = 1;
  LossScaler s(o, torch::kCPU);
  s.update(torch::zeros({}));
  EXPECT_FLOAT_EQ(static_cast<float>(s.scale_value()), 3e38f);
  EXPECT_EQ(s.growth_tracker_value(), 0);
}

TEST(LossScaler, SavesAndLoadsItsState) {
  LossScaler::Options o;
  o.init_scale = 4096;
  o.growth_interval = 10;
  LossScaler a(o, torch::kCPU);
  a.update(torch::ones({}));
  a.update(torch::zeros({}));
  a.update(torch::zeros({}));
  torch::serialize::OutputArchive out;
  a.save(out);
  std::ostringstream bytes;
  out.save_to(bytes);

  LossScaler b({}, torch::kCPU);
  const auto storage = b.scale_tensor().data_ptr();
  torch::serialize::InputArchive in;
  std::istringstream read(bytes.str());
  in.load_from(read);
  b.load(in);
  EXPECT_DOUBLE_EQ(b.scale_value(), 2048);
  EXPECT_EQ(b.growth_tracker_value(), 2);
  EXPECT_EQ(b.skipped_steps(), 1);
  EXPECT_EQ(b.scale_tensor().data_ptr(), storage);  // loaded into the same storage
}

TEST(LossScaler, RefusesOptionsOutsideTheirDomain) {
  auto with = [](auto edit) {
    LossScaler::Options o;
    edit(o);
    return o;
  };
  EXPECT_THROW(LossScaler(with([](auto& o) { o.init_scale = 0; }), torch::kCPU), d2l::Error);
  EXPECT_THROW(LossScaler(with([](auto& o) { o.init_scale = INFINITY; }), torch::kCPU), d2l::Error);
  EXPECT_THROW(LossScaler(with([](auto& o) { o.growth_factor = 1; }), torch::kCPU), d2l::Error);
  EXPECT_THROW(LossScaler(with([](auto& o) { o.backoff_factor = 1; }), torch::kCPU), d2l::Error);
  EXPECT_THROW(LossScaler(with([](auto& o) { o.growth_interval = 0; }), torch::kCPU), d2l::Error);
}
