#include "d2l/train/device_step.h"

#include <torch/torch.h>

#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "d2l/core/error.h"

namespace d2l {
namespace {

enum class Kind { SGD, Adam, AdamW };

// The optimiser's state map is keyed by the parameter's TensorImpl: as a string in LibTorch 1.x
// (c10::guts::to_string of the pointer), as the pointer itself in 2.x.
template <class Map>
typename Map::key_type state_key(const Map&, const at::Tensor& p) {
  using Key = typename Map::key_type;
  if constexpr (std::is_same<Key, std::string>::value) {
    std::ostringstream s;
    s << p.unsafeGetTensorImpl();
    return s.str();
  } else {
    return p.unsafeGetTensorImpl();
  }
}

bool kind_of(const torch::optim::Optimizer& opt, Kind* kind) {
  if (dynamic_cast<const torch::optim::SGD*>(&opt)) {
    *kind = Kind::SGD;
  } else if (dynamic_cast<const torch::optim::Adam*>(&opt)) {
    *kind = Kind::Adam;
  } else if (dynamic_cast<const torch::optim::AdamW*>(&opt)) {
    *kind = Kind::AdamW;
  } else {
    return false;
  }
  return true;
}

// `t` as a state tensor for `p`: itself when it already fits (device, dtype, shape), else zeros
// like `p` holding t's values where t is defined.
at::Tensor fitted_state(const at::Tensor& t, const at::Tensor& p) {
  if (t.defined() && t.device() == p.device() && t.scalar_type() == p.scalar_type() &&
      t.sizes() == p.sizes())
    return t;
  at::Tensor z = torch::zeros_like(p, torch::MemoryFormat::Preserve);
  if (t.defined()) z.copy_(t.reshape(p.sizes()));
  return z;
}

// Copies `from` into `into` (zeros when `from` is undefined); returns `into`.
const at::Tensor& copy_into(const at::Tensor& into, const at::Tensor& from) {
  if (!from.defined())
    into.zero_();
  else if (!from.is_same(into))
    into.copy_(from.reshape(into.sizes()));
  return into;
}

template <class T>
std::vector<T> pick(const std::vector<T>& v, const std::vector<std::size_t>& idx) {
  std::vector<T> out;
  out.reserve(idx.size());
  for (auto i : idx) out.push_back(v[i]);
  return out;
}

}  // namespace

struct DeviceStep::Impl {
  struct Group {
    std::vector<at::Tensor> params;      // the optimiser group's tensors (same TensorImpl)
    at::Tensor lr;                       // 0-dim float64 on the group's device
    std::vector<at::Tensor> buf;         // SGD momentum buffers (undefined while momentum is 0)
    std::vector<at::Tensor> m, v;        // Adam's moments
    at::Tensor steps;                    // Adam: [n] float64, one count a parameter
    at::Tensor bc1, neg_step, bc2_sqrt;  // Adam: [n] float64 scratch, rewritten each step
    std::vector<at::Tensor> steps_i, neg_step_i, bc2_sqrt_i;  // 0-dim views of the above
    c10::Device device = c10::Device(c10::kCPU);
  };

  std::shared_ptr<torch::optim::Optimizer> opt;
  Kind kind = Kind::SGD;
  bool prepared = false;
  std::vector<Group> groups;

  void check_options() const;
  template <class State>
  void prepare_adam(Group& g);
  void prepare_sgd(Group& g, const torch::optim::SGDOptions& o);
  void sgd_step(Group& g, const torch::optim::SGDOptions& o, const std::vector<std::size_t>& idx,
                const at::Tensor& skip);
  template <class Options>
  void adam_step(Group& g, const Options& o, const std::vector<std::size_t>& idx,
                 const at::Tensor& skip, bool decoupled);
};

void DeviceStep::Impl::check_options() const {
  for (const auto& group : opt->param_groups()) {
    if (kind == Kind::SGD) {
      const auto& o = static_cast<const torch::optim::SGDOptions&>(group.options());
      if (o.dampening() != 0)
        throw Error("DeviceStep: SGD dampening is not supported (got " +
                    std::to_string(o.dampening()) + ")");
    } else {
      const bool ams =
          kind == Kind::Adam
              ? static_cast<const torch::optim::AdamOptions&>(group.options()).amsgrad()
              : static_cast<const torch::optim::AdamWOptions&>(group.options()).amsgrad();
      if (ams) throw Error("DeviceStep: amsgrad is not supported");
    }
  }
}

DeviceStep::DeviceStep(std::shared_ptr<torch::optim::Optimizer> opt) : impl_(new Impl) {
  if (!opt) throw Error("DeviceStep: no optimizer");
  if (!kind_of(*opt, &impl_->kind))
    throw Error("DeviceStep: only torch::optim::SGD, Adam and AdamW can be stepped on the device");
  impl_->opt = std::move(opt);
  impl_->check_options();
}

DeviceStep::~DeviceStep() = default;

bool DeviceStep::supports(const torch::optim::Optimizer& opt) {
  Kind k;
  return kind_of(opt, &k);
}

void DeviceStep::Impl::prepare_sgd(Group& g, const torch::optim::SGDOptions& o) {
  auto& state = opt->state();
  g.buf.assign(g.params.size(), at::Tensor());
  for (std::size_t i = 0; i < g.params.size(); ++i) {
    const auto& p = g.params[i];
    auto it = state.find(state_key(state, p));
    if (it != state.end()) {
      auto& st = static_cast<torch::optim::SGDParamState&>(*it->second);
      g.buf[i] = fitted_state(st.momentum_buffer(), p);
      st.momentum_buffer(g.buf[i]);
    } else if (o.momentum() != 0) {
      g.buf[i] = torch::zeros_like(p, torch::MemoryFormat::Preserve);
      auto st = std::make_unique<torch::optim::SGDParamState>();
      st->momentum_buffer(g.buf[i]);
      state[state_key(state, p)] = std::move(st);
    }
  }
}

template <class State>
void DeviceStep::Impl::prepare_adam(Group& g) {
  auto& state = opt->state();
  const std::size_t n = g.params.size();
  g.m.assign(n, at::Tensor());
  g.v.assign(n, at::Tensor());
  std::vector<double> steps(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& p = g.params[i];
    auto it = state.find(state_key(state, p));
    if (it == state.end()) {
      auto st = std::make_unique<State>();
      st->step(0);
      st->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
      st->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
      it = state.emplace(state_key(state, p), std::move(st)).first;
    }
    auto& st = static_cast<State&>(*it->second);
    g.m[i] = fitted_state(st.exp_avg(), p);
    g.v[i] = fitted_state(st.exp_avg_sq(), p);
    st.exp_avg(g.m[i]);
    st.exp_avg_sq(g.v[i]);
    steps[i] = static_cast<double>(st.step());
  }
  const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
  g.steps = torch::tensor(steps, f64).to(g.device);
  g.bc1 = torch::zeros({static_cast<std::int64_t>(n)}, f64.device(g.device));
  g.neg_step = torch::zeros_like(g.bc1);
  g.bc2_sqrt = torch::zeros_like(g.bc1);
  g.steps_i.clear();
  g.neg_step_i.clear();
  g.bc2_sqrt_i.clear();
  for (std::size_t i = 0; i < n; ++i) {
    const auto k = static_cast<std::int64_t>(i);
    g.steps_i.push_back(g.steps.select(0, k));
    g.neg_step_i.push_back(g.neg_step.select(0, k));
    g.bc2_sqrt_i.push_back(g.bc2_sqrt.select(0, k));
  }
}

void DeviceStep::prepare() {
  auto& im = *impl_;
  if (im.prepared) return;
  im.check_options();
  torch::NoGradGuard no_grad;
  auto& groups = im.opt->param_groups();
  im.groups.assign(groups.size(), Impl::Group());
  for (std::size_t gi = 0; gi < groups.size(); ++gi) {
    auto& g = im.groups[gi];
    g.params = groups[gi].params();
    if (!g.params.empty()) g.device = g.params.front().device();
    g.lr = torch::full({}, groups[gi].options().get_lr(),
                       torch::TensorOptions().dtype(torch::kDouble).device(g.device));
    switch (im.kind) {
      case Kind::SGD:
        im.prepare_sgd(g, static_cast<const torch::optim::SGDOptions&>(groups[gi].options()));
        break;
      case Kind::Adam:
        im.prepare_adam<torch::optim::AdamParamState>(g);
        break;
      case Kind::AdamW:
        im.prepare_adam<torch::optim::AdamWParamState>(g);
        break;
    }
  }
  im.prepared = true;
}

void DeviceStep::set_lr(double lr) {
  prepare();
  for (std::size_t gi = 0; gi < impl_->groups.size(); ++gi) set_lr(gi, lr);
}

void DeviceStep::set_lr(std::size_t group, double lr) {
  prepare();
  auto& im = *impl_;
  if (group >= im.groups.size())
    throw Error("DeviceStep::set_lr: no parameter group " + std::to_string(group));
  im.groups[group].lr.fill_(lr);
  im.opt->param_groups()[group].options().set_lr(lr);
}

const at::Tensor& DeviceStep::lr_tensor(std::size_t group) const {
  const_cast<DeviceStep*>(this)->prepare();
  if (group >= impl_->groups.size())
    throw Error("DeviceStep::lr_tensor: no parameter group " + std::to_string(group));
  return impl_->groups[group].lr;
}

void DeviceStep::Impl::sgd_step(Group& g, const torch::optim::SGDOptions& o,
                                const std::vector<std::size_t>& idx, const at::Tensor& skip) {
  auto P = pick(g.params, idx);
  std::vector<at::Tensor> G;
  G.reserve(P.size());
  for (const auto& p : P) G.push_back(p.grad());
  // d_p = grad + weight_decay * p
  std::vector<at::Tensor> D = o.weight_decay() != 0 ? at::_foreach_add(G, P, o.weight_decay()) : G;
  if (o.momentum() != 0) {
    auto& state = opt->state();
    for (auto i : idx) {
      if (g.buf[i].defined()) continue;  // momentum turned on after prepare(): allocates once
      g.buf[i] = torch::zeros_like(g.params[i], torch::MemoryFormat::Preserve);
      auto st = std::make_unique<torch::optim::SGDParamState>();
      st->momentum_buffer(g.buf[i]);
      state[state_key(state, g.params[i])] = std::move(st);
    }
    auto B = pick(g.buf, idx);
    // buf = momentum * buf + (1 - dampening) * d_p  (a zero buffer gives LibTorch's first clone)
    std::vector<at::Tensor> NB;
    if (skip.defined()) {
      NB = at::_foreach_mul(B, o.momentum());
    } else {
      at::_foreach_mul_(B, o.momentum());
      NB = B;
    }
    at::_foreach_add_(NB, D, 1 - o.dampening());
    D = o.nesterov() ? at::_foreach_add(D, NB, o.momentum()) : NB;
    if (skip.defined())
      for (std::size_t k = 0; k < B.size(); ++k) at::where_out(B[k], skip, B[k], NB[k]);
  }
  // p += (-lr) * d_p, the learning rate read on the device
  const std::vector<at::Tensor> NL(P.size(), g.lr.neg());
  if (skip.defined()) {
    const auto NP = at::_foreach_addcmul(P, D, NL);
    for (std::size_t k = 0; k < P.size(); ++k) at::where_out(P[k], skip, P[k], NP[k]);
  } else {
    at::_foreach_addcmul_(P, D, NL);
  }
}

template <class Options>
void DeviceStep::Impl::adam_step(Group& g, const Options& o, const std::vector<std::size_t>& idx,
                                 const at::Tensor& skip, bool decoupled) {
  if (o.amsgrad()) throw Error("DeviceStep: amsgrad is not supported");
  const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
  const double wd = o.weight_decay();
  auto P = pick(g.params, idx), M = pick(g.m, idx), V = pick(g.v, idx);
  std::vector<at::Tensor> G;
  G.reserve(P.size());
  for (const auto& p : P) G.push_back(p.grad());

  // Step counts (not advanced on a skipped step), then bias corrections for every parameter of
  // the group at once: bc1 = 1 - beta1^t, -lr / bc1, sqrt(1 - beta2^t).
  const at::Tensor inc = skip.defined() ? skip.logical_not() : at::Tensor();
  if (idx.size() == g.params.size()) {
    if (inc.defined())
      g.steps.add_(inc);
    else
      g.steps.add_(1);
  } else {
    for (auto i : idx) {
      if (inc.defined())
        g.steps_i[i].add_(inc);
      else
        g.steps_i[i].add_(1);
    }
  }
  at::pow_out(g.bc1, beta1, g.steps);
  g.bc1.neg_().add_(1);
  at::div_out(g.neg_step, g.lr, g.bc1);
  g.neg_step.neg_();
  at::pow_out(g.bc2_sqrt, beta2, g.steps);
  g.bc2_sqrt.neg_().add_(1).sqrt_();

  // AdamW: p *= 1 - lr * weight_decay (decoupled decay, before the update)
  std::vector<at::Tensor> PT = P;  // where the new parameters go
  if (decoupled && wd != 0) {
    const at::Tensor factor = g.lr.mul(wd).neg_().add_(1);
    const std::vector<at::Tensor> F(P.size(), factor);
    if (skip.defined())
      PT = at::_foreach_mul(P, F);
    else
      at::_foreach_mul_(P, F);
  }
  // Adam: grad += weight_decay * p (L2)
  const std::vector<at::Tensor> GD = !decoupled && wd != 0 ? at::_foreach_add(G, P, wd) : G;
  // m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
  std::vector<at::Tensor> MT = M, VT = V;
  if (skip.defined()) {
    MT = at::_foreach_mul(M, beta1);
    VT = at::_foreach_mul(V, beta2);
  } else {
    at::_foreach_mul_(M, beta1);
    at::_foreach_mul_(V, beta2);
  }
  at::_foreach_add_(MT, GD, 1 - beta1);
  at::_foreach_addcmul_(VT, GD, GD, 1 - beta2);
  // p += (-lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)
  auto denom = at::_foreach_sqrt(VT);
  at::_foreach_div_(denom, pick(g.bc2_sqrt_i, idx));
  at::_foreach_add_(denom, o.eps());
  const auto num = at::_foreach_mul(MT, pick(g.neg_step_i, idx));
  if (skip.defined()) {
    if (PT[0].is_same(P[0]))
      PT = at::_foreach_addcdiv(P, num, denom);
    else
      at::_foreach_addcdiv_(PT, num, denom);
    for (std::size_t k = 0; k < P.size(); ++k) {
      at::where_out(P[k], skip, P[k], PT[k]);
      at::where_out(M[k], skip, M[k], MT[k]);
      at::where_out(V[k], skip, V[k], VT[k]);
    }
  } else {
    at::_foreach_addcdiv_(P, num, denom);
  }
}

void DeviceStep::step(const at::Tensor& found_inf) {
  prepare();
  auto& im = *impl_;
  torch::NoGradGuard no_grad;
  auto& groups = im.opt->param_groups();
  for (std::size_t gi = 0; gi < im.groups.size(); ++gi) {
    auto& g = im.groups[gi];
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < g.params.size(); ++i)
      if (g.params[i].grad().defined()) idx.push_back(i);
    if (idx.empty()) continue;
    at::Tensor skip;
    if (found_inf.defined()) skip = found_inf.to(g.device).reshape({}).ne(0);
    switch (im.kind) {
      case Kind::SGD:
        im.sgd_step(g, static_cast<const torch::optim::SGDOptions&>(groups[gi].options()), idx,
                    skip);
        break;
      case Kind::Adam:
        im.adam_step(g, static_cast<const torch::optim::AdamOptions&>(groups[gi].options()), idx,
                     skip, false);
        break;
      case Kind::AdamW:
        im.adam_step(g, static_cast<const torch::optim::AdamWOptions&>(groups[gi].options()), idx,
                     skip, true);
        break;
    }
  }
}

void DeviceStep::zero_grad() {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> grads;
  for (const auto& group : impl_->opt->param_groups())
    for (const auto& p : group.params())
      if (p.grad().defined()) grads.push_back(p.grad());
  if (!grads.empty()) at::_foreach_zero_(grads);
}

void DeviceStep::sync_to_optimizer() {
  auto& im = *impl_;
  if (!im.prepared || im.kind == Kind::SGD) return;
  auto& state = im.opt->state();
  for (auto& g : im.groups) {
    const at::Tensor steps = g.steps.to(torch::kCPU);
    const double* s = steps.data_ptr<double>();
    for (std::size_t i = 0; i < g.params.size(); ++i) {
      auto it = state.find(state_key(state, g.params[i]));
      if (it == state.end()) continue;
      const auto t = static_cast<std::int64_t>(s[i]);
      if (im.kind == Kind::Adam)
        static_cast<torch::optim::AdamParamState&>(*it->second).step(t);
      else
        static_cast<torch::optim::AdamWParamState&>(*it->second).step(t);
    }
  }
}

void DeviceStep::sync_from_optimizer() {
  auto& im = *impl_;
  if (!im.prepared) {
    prepare();  // adopts the loaded state
    return;
  }
  im.check_options();
  torch::NoGradGuard no_grad;
  auto& groups = im.opt->param_groups();
  if (groups.size() != im.groups.size())
    throw Error("DeviceStep: the optimizer's parameter groups changed");
  auto& state = im.opt->state();
  for (std::size_t gi = 0; gi < groups.size(); ++gi) {
    auto& g = im.groups[gi];
    g.lr.fill_(groups[gi].options().get_lr());
    if (im.kind == Kind::SGD) {
      for (std::size_t i = 0; i < g.params.size(); ++i) {
        auto it = state.find(state_key(state, g.params[i]));
        if (it == state.end()) {
          if (g.buf[i].defined()) {  // no state saved: a fresh buffer, as LibTorch would start
            g.buf[i].zero_();
            auto st = std::make_unique<torch::optim::SGDParamState>();
            st->momentum_buffer(g.buf[i]);
            state[state_key(state, g.params[i])] = std::move(st);
          }
          continue;
        }
        auto& st = static_cast<torch::optim::SGDParamState&>(*it->second);
        if (!g.buf[i].defined())
          g.buf[i] = torch::zeros_like(g.params[i], torch::MemoryFormat::Preserve);
        st.momentum_buffer(copy_into(g.buf[i], st.momentum_buffer()));
      }
      continue;
    }
    std::vector<double> steps(g.params.size(), 0.0);
    for (std::size_t i = 0; i < g.params.size(); ++i) {
      const auto& p = g.params[i];
      auto it = state.find(state_key(state, p));
      if (it == state.end()) {
        g.m[i].zero_();
        g.v[i].zero_();
        if (im.kind == Kind::Adam) {
          auto st = std::make_unique<torch::optim::AdamParamState>();
          st->step(0);
          st->exp_avg(g.m[i]);
          st->exp_avg_sq(g.v[i]);
          state[state_key(state, p)] = std::move(st);
        } else {
          auto st = std::make_unique<torch::optim::AdamWParamState>();
          st->step(0);
          st->exp_avg(g.m[i]);
          st->exp_avg_sq(g.v[i]);
          state[state_key(state, p)] = std::move(st);
        }
        continue;
      }
      if (im.kind == Kind::Adam) {
        auto& st = static_cast<torch::optim::AdamParamState&>(*it->second);
        st.exp_avg(copy_into(g.m[i], st.exp_avg()));
        st.exp_avg_sq(copy_into(g.v[i], st.exp_avg_sq()));
        steps[i] = static_cast<double>(st.step());
      } else {
        auto& st = static_cast<torch::optim::AdamWParamState&>(*it->second);
        st.exp_avg(copy_into(g.m[i], st.exp_avg()));
        st.exp_avg_sq(copy_into(g.v[i], st.exp_avg_sq()));
        steps[i] = static_cast<double>(st.step());
      }
    }
    g.steps.copy_(torch::tensor(steps, torch::TensorOptions().dtype(torch::kDouble)));
  }
}

}  // namespace d2l
