#include "d2l/train/device_step.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "d2l/core/error.h"
#include "d2l/train/optim.h"
#include "d2l/train/precision.h"

using d2l::DeviceStep;
using d2l::OptimizerKind;
using d2l::OptimizerSpec;

namespace {

constexpr int kSteps = 20;
constexpr int kBatch = 16;

// A small MLP, the same weights for the same seed.
torch::nn::Sequential mlp(std::uint64_t seed = 7) {
  torch::manual_seed(seed);
  return torch::nn::Sequential(torch::nn::Linear(6, 16), torch::nn::ReLU(),
                               torch::nn::Linear(16, 3));
}

struct Data {
  torch::Tensor x, y;
};
// kSteps different mini-batches of a fixed problem (labels from a random linear map).
Data data() {
  torch::manual_seed(123);
  Data d;
  d.x = torch::randn({kSteps * 2, kBatch, 6});
  d.y = d.x.matmul(torch::randn({6, 3})).argmax(-1);
  return d;
}

double lr_at(const OptimizerSpec& s, int step) {
  return d2l::scheduled_lr({d2l::ScheduleKind::Cosine, 1, 0.1}, s.lr, step, 5, kSteps * 2);
}

torch::Tensor loss_of(torch::nn::Sequential& net, const Data& d, int t) {
  return torch::nn::functional::cross_entropy(net->forward(d.x[t]), d.y[t]);
}

// LibTorch's own step, with the schedule set through the groups' options.
void libtorch_steps(torch::nn::Sequential& net, torch::optim::Optimizer& opt,
                    const OptimizerSpec& s, const Data& d, int from, int to) {
  for (int t = from; t < to; ++t) {
    opt.zero_grad();
    loss_of(net, d, t).backward();
    for (auto& g : opt.param_groups()) g.options().set_lr(lr_at(s, t));
    opt.step();
  }
}

void device_steps(torch::nn::Sequential& net, DeviceStep& ds, const OptimizerSpec& s, const Data& d,
                  int from, int to) {
  for (int t = from; t < to; ++t) {
    ds.zero_grad();
    loss_of(net, d, t).backward();
    ds.set_lr(lr_at(s, t));
    ds.step();
  }
}

// ||a - b|| / ||a||, 0 for equal tensors.
double rel(const torch::Tensor& a, const torch::Tensor& b) {
  const double n = a.norm().item<double>();
  const double e = (a - b).norm().item<double>();
  return n > 0 ? e / n : e;
}

// The optimiser's state entry of `p` (its map is keyed by a string in LibTorch 1.x, by the
// TensorImpl pointer in 2.x), or nullptr.
template <class Map>
torch::optim::OptimizerParamState* state_of(Map& state, const torch::Tensor& p) {
  using Key = typename Map::key_type;
  Key key;
  if constexpr (std::is_same<Key, std::string>::value) {
    std::ostringstream s;
    s << p.unsafeGetTensorImpl();
    key = s.str();
  } else {
    key = p.unsafeGetTensorImpl();
  }
  auto it = state.find(key);
  return it == state.end() ? nullptr : it->second.get();
}

// Every state tensor of the optimiser, in parameter order (momentum buffers; Adam's moments).
std::vector<torch::Tensor> state_tensors(torch::optim::Optimizer& opt) {
  std::vector<torch::Tensor> out;
  for (auto& group : opt.param_groups())
    for (auto& p : group.params()) {
      auto* base = state_of(opt.state(), p);
      if (auto* sgd = dynamic_cast<torch::optim::SGDParamState*>(base)) {
        out.push_back(sgd->momentum_buffer());
      } else if (auto* adam = dynamic_cast<torch::optim::AdamParamState*>(base)) {
        out.push_back(adam->exp_avg());
        out.push_back(adam->exp_avg_sq());
      } else if (auto* adamw = dynamic_cast<torch::optim::AdamWParamState*>(base)) {
        out.push_back(adamw->exp_avg());
        out.push_back(adamw->exp_avg_sq());
      }
    }
  return out;
}

// Adam's step counts in parameter order (-1 where a parameter has no state).
std::vector<std::int64_t> adam_steps(torch::optim::Optimizer& opt) {
  std::vector<std::int64_t> out;
  for (auto& group : opt.param_groups())
    for (auto& p : group.params()) {
      auto* base = state_of(opt.state(), p);
      if (auto* a = dynamic_cast<torch::optim::AdamParamState*>(base))
        out.push_back(a->step());
      else if (auto* w = dynamic_cast<torch::optim::AdamWParamState*>(base))
        out.push_back(w->step());
      else
        out.push_back(-1);
    }
  return out;
}

struct Case {
  std::string name;
  OptimizerSpec spec;
};

std::vector<Case> cases() {
  auto spec = [](OptimizerKind k, double lr, double momentum, double wd, bool nesterov) {
    OptimizerSpec s;
    s.kind = k;
    s.lr = lr;
    s.momentum = momentum;
    s.weight_decay = wd;
    s.nesterov = nesterov;
    return s;
  };
  return {{"sgd", spec(OptimizerKind::SGD, 0.2, 0, 0, false)},
          {"sgd-momentum", spec(OptimizerKind::SGD, 0.1, 0.9, 0, false)},
          {"sgd-nesterov-wd", spec(OptimizerKind::SGD, 0.1, 0.9, 1e-2, true)},
          {"sgd-wd", spec(OptimizerKind::SGD, 0.2, 0, 5e-2, false)},
          {"adam", spec(OptimizerKind::Adam, 1e-2, 0, 0, false)},
          {"adam-wd", spec(OptimizerKind::Adam, 1e-2, 0, 1e-2, false)},
          {"adamw", spec(OptimizerKind::AdamW, 1e-2, 0, 5e-2, false)}};
}

void expect_close(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b,
                  const std::string& what, double tol = 1e-6) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_LE(rel(a[i], b[i]), tol) << what << " #" << i;
}

std::vector<torch::Tensor> clones(const std::vector<torch::Tensor>& v) {
  std::vector<torch::Tensor> out;
  for (const auto& t : v) out.push_back(t.detach().clone());
  return out;
}

bool all_equal(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i])) return false;
  return true;
}

std::string save_optimizer(torch::optim::Optimizer& opt) {
  torch::serialize::OutputArchive ar;
  opt.save(ar);
  std::ostringstream out;
  ar.save_to(out);
  return out.str();
}

void load_optimizer(torch::optim::Optimizer& opt, const std::string& bytes) {
  torch::serialize::InputArchive ar;
  std::istringstream in(bytes);
  ar.load_from(in);
  opt.load(ar);
}

}  // namespace

TEST(DeviceStep, MatchesLibTorchsOwnStepWithAScheduleForEachOptimizer) {
  const Data d = data();
  for (const auto& c : cases()) {
    auto ref_net = mlp(), dev_net = mlp();
    auto ref_opt = d2l::make_optimizer(ref_net->parameters(), c.spec);
    auto dev_opt = d2l::make_optimizer(dev_net->parameters(), c.spec);
    libtorch_steps(ref_net, *ref_opt, c.spec, d, 0, kSteps);
    DeviceStep ds(dev_opt);
    device_steps(dev_net, ds, c.spec, d, 0, kSteps);
    expect_close(ref_net->parameters(), dev_net->parameters(), c.name + " parameters");
    // The learning rate moved: the parameters are not where a constant rate would put them.
    EXPECT_GT(rel(ref_net->parameters()[0], mlp()->parameters()[0]), 1e-3) << c.name;
    EXPECT_DOUBLE_EQ(dev_opt->param_groups()[0].options().get_lr(), lr_at(c.spec, kSteps - 1));
    EXPECT_DOUBLE_EQ(ds.lr_tensor(0).item<double>(), lr_at(c.spec, kSteps - 1));
    if (c.spec.kind != OptimizerKind::SGD || c.spec.momentum > 0) {
      expect_close(state_tensors(*ref_opt), state_tensors(*dev_opt), c.name + " state");
      EXPECT_FALSE(state_tensors(*dev_opt).empty()) << c.name;
    }
    if (c.spec.kind != OptimizerKind::SGD) {
      ds.sync_to_optimizer();
      EXPECT_EQ(adam_steps(*dev_opt), adam_steps(*ref_opt)) << c.name;
      EXPECT_EQ(adam_steps(*dev_opt).front(), kSteps) << c.name;
    }
  }
}

TEST(DeviceStep, WorksOnTheOptimizersOwnStateSoLibTorchCanContinue) {
  // kSteps / 2 device steps, then LibTorch's step on the same optimiser, equals LibTorch all along.
  const Data d = data();
  for (const auto& c : cases()) {
    auto ref_net = mlp(), net = mlp();
    auto ref_opt = d2l::make_optimizer(ref_net->parameters(), c.spec);
    auto opt = d2l::make_optimizer(net->parameters(), c.spec);
    libtorch_steps(ref_net, *ref_opt, c.spec, d, 0, kSteps);
    DeviceStep ds(opt);
    device_steps(net, ds, c.spec, d, 0, kSteps / 2);
    ds.sync_to_optimizer();
    libtorch_steps(net, *opt, c.spec, d, kSteps / 2, kSteps);
    expect_close(ref_net->parameters(), net->parameters(), c.name);
  }
}

TEST(DeviceStep, AFoundInfStepLeavesParametersAndStateBitForBitUnchanged) {
  const Data d = data();
  for (const auto& c : cases()) {
    auto net = mlp(), twin = mlp();
    auto opt = d2l::make_optimizer(net->parameters(), c.spec);
    auto twin_opt = d2l::make_optimizer(twin->parameters(), c.spec);
    DeviceStep ds(opt), twin_ds(twin_opt);
    device_steps(net, ds, c.spec, d, 0, 3);
    device_steps(twin, twin_ds, c.spec, d, 0, 3);
    const auto params = clones(net->parameters());
    const auto state = clones(state_tensors(*opt));
    // Gradients with inf and nan, as an fp16 overflow leaves them.
    ds.zero_grad();
    (loss_of(net, d, 3) * 1e30).backward();
    net->parameters()[0].grad()[0][0] = INFINITY;
    net->parameters()[2].grad()[1][1] = NAN;
    ds.set_lr(0.05);
    ds.step(torch::ones({}));
    EXPECT_TRUE(all_equal(params, net->parameters())) << c.name;
    EXPECT_TRUE(all_equal(state, state_tensors(*opt))) << c.name;
    if (c.spec.kind != OptimizerKind::SGD) {
      ds.sync_to_optimizer();
      for (auto s : adam_steps(*opt)) EXPECT_EQ(s, 3) << c.name;
    }
    // found_inf == 0 steps as if there were no flag: the twin, flag-free, lands in the same place.
    ds.zero_grad();
    loss_of(net, d, 3).backward();
    ds.set_lr(lr_at(c.spec, 3));
    ds.step(torch::zeros({}));
    device_steps(twin, twin_ds, c.spec, d, 3, 4);
    EXPECT_TRUE(all_equal(twin->parameters(), net->parameters())) << c.name;
    EXPECT_TRUE(all_equal(state_tensors(*twin_opt), state_tensors(*opt))) << c.name;
  }
}

TEST(DeviceStep, ACheckpointInTheMiddleResumesExactly) {
  const Data d = data();
  for (const auto& c : cases()) {
    for (bool prepared_before_load : {false, true}) {
      const std::string what = c.name + (prepared_before_load ? " prepared" : " fresh");
      auto whole = mlp();
      auto whole_opt = d2l::make_optimizer(whole->parameters(), c.spec);
      DeviceStep whole_ds(whole_opt);
      device_steps(whole, whole_ds, c.spec, d, 0, kSteps);

      auto first = mlp();
      auto first_opt = d2l::make_optimizer(first->parameters(), c.spec);
      DeviceStep first_ds(first_opt);
      device_steps(first, first_ds, c.spec, d, 0, kSteps / 2);
      first_ds.sync_to_optimizer();
      const std::string bytes = save_optimizer(*first_opt);

      auto second = mlp(99);  // other weights, then the first half's
      {
        torch::NoGradGuard no_grad;
        for (std::size_t i = 0; i < second->parameters().size(); ++i)
          second->parameters()[i].copy_(first->parameters()[i]);
      }
      auto second_opt = d2l::make_optimizer(second->parameters(), c.spec);
      DeviceStep second_ds(second_opt);
      std::set<const void*> storage;
      if (prepared_before_load) {
        second_ds.prepare();
        for (const auto& t : state_tensors(*second_opt)) storage.insert(t.data_ptr());
      }
      load_optimizer(*second_opt, bytes);
      second_ds.sync_from_optimizer();
      if (prepared_before_load) {
        std::set<const void*> after;
        for (const auto& t : state_tensors(*second_opt)) after.insert(t.data_ptr());
        EXPECT_EQ(after, storage) << what << ": the state kept its storage";
      }
      device_steps(second, second_ds, c.spec, d, kSteps / 2, kSteps);
      expect_close(whole->parameters(), second->parameters(), what, 0.0);
      if (c.spec.kind != OptimizerKind::SGD) {
        whole_ds.sync_to_optimizer();
        second_ds.sync_to_optimizer();
        EXPECT_EQ(adam_steps(*whole_opt), adam_steps(*second_opt)) << what;
      }
    }
  }
}

TEST(DeviceStep, ZeroGradKeepsTheGradientsMemory) {
  auto net = mlp();
  auto opt = d2l::make_optimizer(net->parameters(), {});
  DeviceStep ds(opt);
  auto unused = torch::ones({2}, torch::requires_grad());
  ds.zero_grad();  // no gradients yet: nothing to do
  EXPECT_FALSE(net->parameters()[0].grad().defined());
  const Data d = data();
  loss_of(net, d, 0).backward();
  std::vector<const void*> ptrs;
  for (auto& p : net->parameters()) ptrs.push_back(p.grad().data_ptr());
  ds.zero_grad();
  for (std::size_t i = 0; i < ptrs.size(); ++i) {
    const auto& g = net->parameters()[i].grad();
    ASSERT_TRUE(g.defined());
    EXPECT_EQ(g.data_ptr(), ptrs[i]);
    EXPECT_EQ(g.abs().sum().item<double>(), 0.0);
  }
}

TEST(DeviceStep, RefusesWhatItCannotStep) {
  auto w = torch::ones({3}, torch::requires_grad());
  auto rms = std::make_shared<torch::optim::RMSprop>(std::vector<torch::Tensor>{w},
                                                     torch::optim::RMSpropOptions(0.1));
  EXPECT_FALSE(DeviceStep::supports(*rms));
  EXPECT_THROW(DeviceStep{rms}, d2l::Error);
  for (auto kind : {OptimizerKind::SGD, OptimizerKind::Adam, OptimizerKind::AdamW}) {
    OptimizerSpec s;
    s.kind = kind;
    EXPECT_TRUE(DeviceStep::supports(*d2l::make_optimizer({w}, s)));
  }
  auto ams = std::make_shared<torch::optim::Adam>(std::vector<torch::Tensor>{w},
                                                  torch::optim::AdamOptions(0.1).amsgrad(true));
  EXPECT_THROW(DeviceStep{ams}, d2l::Error);
  auto damp = std::make_shared<torch::optim::SGD>(
      std::vector<torch::Tensor>{w}, torch::optim::SGDOptions(0.1).momentum(0.9).dampening(0.1));
  EXPECT_THROW(DeviceStep{damp}, d2l::Error);
}

TEST(DeviceStep, AnFp16StyleRunSkipsOverflowingStepsBacksOffAndThenTrains) {
  // float32 gradients overflow when the loss is scaled by 3.4e38: the scaler must skip those steps
  // (parameters untouched), halve its scale until the gradients are finite, then train.
  // Inputs x1000 give first-layer gradients of ~10 (x the scale: beyond float32's 3.4e38).
  Data d = data();
  d.x = d.x * 1000;
  auto net = mlp();
  OptimizerSpec s;
  s.kind = OptimizerKind::Adam;
  s.lr = 1e-2;
  auto opt = d2l::make_optimizer(net->parameters(), s);
  DeviceStep ds(opt);
  d2l::LossScaler::Options so;
  so.init_scale = 3.4e38;  // near float32's largest: the scaled gradients overflow
  so.growth_interval = 1000;
  d2l::LossScaler scaler(so, torch::kCPU);
  const auto initial = clones(net->parameters());
  auto full_loss = [&] {
    torch::NoGradGuard no_grad;
    return torch::nn::functional::cross_entropy(net->forward(d.x.reshape({-1, 6})),
                                                d.y.reshape({-1}))
        .item<double>();
  };
  const double before = full_loss();
  int first_clean = -1;
  for (int t = 0; t < 2 * kSteps; ++t) {
    ds.zero_grad();
    scaler.scale(loss_of(net, d, t)).backward();
    const auto found = scaler.unscale(net->parameters());
    ds.step(found);
    scaler.update(found);
    if (t == 0) {
      EXPECT_EQ(found.item<float>(), 1.0f);
      EXPECT_TRUE(all_equal(initial, net->parameters()));
    }
    if (first_clean < 0 && found.item<float>() == 0) first_clean = t;
  }
  EXPECT_GE(scaler.skipped_steps(), 1);
  EXPECT_GE(scaler.skipped_steps(), first_clean);
  EXPECT_LE(scaler.skipped_steps(), first_clean + 3);
  EXPECT_LT(scaler.scale_value(), 3.4e38);
  EXPECT_GT(first_clean, 0);
  EXPECT_LT(first_clean, kSteps);
  EXPECT_LT(full_loss(), 0.8 * before);
}
