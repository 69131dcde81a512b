#include "d2l/core/history.h"

#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "d2l/core/error.h"

namespace d2l {
namespace {

double number_or_nan(const nlohmann::json& obj, const char* key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_number() ? it->get<double>()
                                            : std::numeric_limits<double>::quiet_NaN();
}

template <typename T>
T value_or(const nlohmann::json& obj, const char* key, T fallback) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  return it->get<T>();
}

}  // namespace

double History::seconds() const {
  double s = 0;
  for (const auto& e : per_epoch) s += e.seconds;
  return s;
}

double History::examples_per_sec() const {
  const double s = seconds();
  return s > 0 ? static_cast<double>(examples_seen) / s : 0;
}

std::string History::to_json() const {
  nlohmann::json j;
  j["model"] = model;
  j["dataset"] = dataset;
  j["device"] = device;
  j["epochs"] = epochs;
  j["batch_size"] = batch_size;
  j["lr"] = lr;
  j["seed"] = seed;
  j["resize"] = resize;
  j["grad_clip"] = grad_clip;
  j["optimizer"] = optimizer;
  j["momentum"] = momentum;
  j["weight_decay"] = weight_decay;
  j["nesterov"] = nesterov;
  j["schedule"] = schedule;
  j["step_epochs"] = step_epochs;
  j["gamma"] = gamma;
  j["augment"] = augment;
  j["precision"] = precision;
  if (!divergence.empty()) j["divergence"] = divergence;
  j["history"] = nlohmann::json::array();
  for (const auto& e : per_epoch)
    j["history"].push_back({{"epoch", e.epoch},
                            {"loss", e.loss},
                            {"train_acc", e.train_acc},
                            {"test_acc", e.test_acc},
                            {"seconds", e.seconds},
                            {"examples_per_sec", e.examples_per_sec}});
  j["points"] = nlohmann::json::array();
  for (const auto& p : points) {
    nlohmann::json q = {{"x", p.x}, {"loss", p.loss}, {"train_acc", p.train_acc}};
    if (p.test_acc) q["test_acc"] = *p.test_acc;
    if (p.lr) q["lr"] = *p.lr;
    j["points"].push_back(q);
  }
  j["examples_seen"] = examples_seen;
  j["first_batch_seconds"] = first_batch_seconds;
  if (distributed) {
    const auto& d = *distributed;
    j["distributed"] = {{"world_size", d.world_size},
                        {"backend", d.backend},
                        {"steps", d.steps},
                        {"step_seconds", d.step_seconds},
                        {"allreduce_seconds", d.allreduce_seconds},
                        {"broadcast_seconds", d.broadcast_seconds},
                        {"allreduce_share", d.allreduce_share()}};
  }
  j["loss"] = loss();
  j["train_acc"] = train_acc();
  j["test_acc"] = test_acc();
  j["examples_per_sec"] = examples_per_sec();
  j["seconds"] = seconds();
  // NaN and infinities (a diverged loss) are written as null, which JSON can hold.
  return j.dump(2) + "\n";
}

History History::from_json(const std::string& text, const std::string& name) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw bad_input(name + ": not JSON: " + std::string(e.what()).substr(0, 120));
  }
  if (!j.is_object()) throw bad_input(name + ": expected a JSON object (a d2l metrics file)");
  History h;
  try {
    h.model = value_or(j, "model", std::string());
    h.dataset = value_or(j, "dataset", std::string());
    h.device = value_or(j, "device", std::string());
    h.epochs = value_or(j, "epochs", std::int64_t{0});
    h.batch_size = value_or(j, "batch_size", std::int64_t{0});
    h.lr = value_or(j, "lr", 0.0);
    h.seed = value_or(j, "seed", std::uint64_t{0});
    h.resize = value_or(j, "resize", std::int64_t{0});
    h.grad_clip = value_or(j, "grad_clip", 0.0);
    h.optimizer = value_or(j, "optimizer", std::string("sgd"));
    h.momentum = value_or(j, "momentum", 0.0);
    h.weight_decay = value_or(j, "weight_decay", 0.0);
    h.nesterov = value_or(j, "nesterov", false);
    h.schedule = value_or(j, "schedule", std::string("constant"));
    h.step_epochs = value_or(j, "step_epochs", std::int64_t{1});
    h.gamma = value_or(j, "gamma", 0.1);
    h.augment = value_or(j, "augment", std::string("none"));
    h.precision = value_or(j, "precision", std::string("fp32"));
    h.divergence = value_or(j, "divergence", std::string());
    h.examples_seen = value_or(j, "examples_seen", std::int64_t{0});
    h.first_batch_seconds = value_or(j, "first_batch_seconds", 0.0);
    if (j.contains("distributed")) {
      const auto& d = j["distributed"];
      if (!d.is_object()) throw bad_input(name + ": distributed: expected an object");
      DistributedSummary s;
      s.world_size = value_or(d, "world_size", std::int64_t{0});
      s.backend = value_or(d, "backend", std::string());
      s.steps = value_or(d, "steps", std::int64_t{0});
      s.step_seconds = value_or(d, "step_seconds", 0.0);
      s.allreduce_seconds = value_or(d, "allreduce_seconds", 0.0);
      s.broadcast_seconds = value_or(d, "broadcast_seconds", 0.0);
      h.distributed = s;
    }
  } catch (const nlohmann::json::exception& e) {
    throw bad_input(name +
                    ": a setting has the wrong type: " + std::string(e.what()).substr(0, 120));
  }
  if (j.contains("history")) {
    if (!j["history"].is_array()) throw bad_input(name + ": history: expected an array");
    for (const auto& e : j["history"]) {
      if (!e.is_object() || !e.contains("epoch") || !e["epoch"].is_number())
        throw bad_input(name + ": history: each needs a number \"epoch\"");
      h.per_epoch.push_back({e["epoch"].get<std::int64_t>(), number_or_nan(e, "loss"),
                             number_or_nan(e, "train_acc"), number_or_nan(e, "test_acc"),
                             number_or_nan(e, "seconds"), number_or_nan(e, "examples_per_sec")});
    }
  }
  if (j.contains("points")) {
    if (!j["points"].is_array()) throw bad_input(name + ": points: expected an array");
    for (const auto& p : j["points"]) {
      if (!p.is_object() || !p.contains("x") || !p["x"].is_number())
        throw bad_input(name + ": points: each needs a number \"x\"");
      ChartPoint c{p["x"].get<double>(), number_or_nan(p, "loss"), number_or_nan(p, "train_acc"),
                   std::nullopt, std::nullopt};
      if (p.contains("test_acc") && p["test_acc"].is_number())
        c.test_acc = p["test_acc"].get<double>();
      if (p.contains("lr") && p["lr"].is_number()) c.lr = p["lr"].get<double>();
      h.points.push_back(c);
    }
  }
  return h;
}

std::string History::to_csv() const {
  std::ostringstream out;
  out << "epoch,loss,train_acc,test_acc,seconds,examples_per_sec\n";
  out.precision(6);
  for (const auto& e : per_epoch)
    out << e.epoch << ',' << e.loss << ',' << e.train_acc << ',' << e.test_acc << ',' << e.seconds
        << ',' << e.examples_per_sec << '\n';
  return out.str();
}

}  // namespace d2l
