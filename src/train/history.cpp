#include "d2l/train/history.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "d2l/core/error.h"

namespace d2l {

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
    j["points"].push_back(q);
  }
  j["examples_seen"] = examples_seen;
  j["first_batch_seconds"] = first_batch_seconds;
  j["loss"] = loss();
  j["train_acc"] = train_acc();
  j["test_acc"] = test_acc();
  j["examples_per_sec"] = examples_per_sec();
  j["seconds"] = seconds();
  return j.dump(2) + "\n";
}

History History::from_json(const std::string& text, const std::string& name) {
  History h;
  try {
    const auto j = nlohmann::json::parse(text);
    h.model = j.value("model", "");
    h.dataset = j.value("dataset", "");
    h.device = j.value("device", "");
    h.epochs = j.value("epochs", std::int64_t{0});
    h.batch_size = j.value("batch_size", std::int64_t{0});
    h.lr = j.value("lr", 0.0);
    h.seed = j.value("seed", std::uint64_t{0});
    h.examples_seen = j.value("examples_seen", std::int64_t{0});
    h.first_batch_seconds = j.value("first_batch_seconds", 0.0);
    for (const auto& e : j.at("history"))
      h.per_epoch.push_back({e.at("epoch").get<std::int64_t>(), e.at("loss").get<double>(),
                             e.at("train_acc").get<double>(), e.at("test_acc").get<double>(),
                             e.at("seconds").get<double>(),
                             e.at("examples_per_sec").get<double>()});
    for (const auto& p : j.value("points", nlohmann::json::array())) {
      ChartPoint c{p.at("x").get<double>(), p.at("loss").get<double>(),
                   p.at("train_acc").get<double>(), std::nullopt};
      if (p.contains("test_acc")) c.test_acc = p.at("test_acc").get<double>();
      h.points.push_back(c);
    }
  } catch (const nlohmann::json::exception& e) {
    throw bad_input(name + ": not a d2l metrics file: " + std::string(e.what()));
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
