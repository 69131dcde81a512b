#include "d2l/train/checkpoint.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"
#include "d2l/core/torch_error.h"

namespace d2l {
namespace {

constexpr int kFormatVersion = 1;

at::Tensor bytes_tensor(const std::string& s) {
  auto t = torch::empty({static_cast<std::int64_t>(s.size())}, torch::kUInt8);
  std::memcpy(t.data_ptr(), s.data(), s.size());
  return t;
}

std::string tensor_bytes(const at::Tensor& t0) {
  auto t = t0.to(torch::kCPU).contiguous();
  return std::string(static_cast<const char*>(t.data_ptr()), static_cast<std::size_t>(t.numel()));
}

std::string state_json(const TrainState& s) {
  nlohmann::json j;
  j["format"] = kFormatVersion;
  j["epoch"] = s.epoch;
  j["batch"] = s.batch;
  j["sum_loss"] = s.sum_loss;
  j["sum_correct"] = s.sum_correct;
  j["sum_examples"] = s.sum_examples;
  j["seconds"] = s.seconds;
  j["history"] = nlohmann::json::parse(s.history.to_json());
  return j.dump();
}

TrainState parse_state(const std::string& text, const std::string& path) {
  TrainState s;
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.at("format").get<int>() != kFormatVersion)
      throw bad_input(path + ": checkpoint format " + j.at("format").dump() + " is not " +
                      std::to_string(kFormatVersion));
    s.epoch = j.at("epoch").get<std::int64_t>();
    s.batch = j.at("batch").get<std::int64_t>();
    s.sum_loss = j.at("sum_loss").get<double>();
    s.sum_correct = j.at("sum_correct").get<double>();
    s.sum_examples = j.at("sum_examples").get<double>();
    s.seconds = j.at("seconds").get<double>();
    s.history = History::from_json(j.at("history").dump(), path);
  } catch (const nlohmann::json::exception& e) {
    throw bad_input(path + ": corrupt checkpoint metadata: " + std::string(e.what()));
  }
  return s;
}

}  // namespace

void save_checkpoint(const std::string& path, torch::nn::Sequential& net,
                     torch::optim::Optimizer& opt, const TrainState& state) {
  std::ostringstream out;
  try {
    torch::serialize::OutputArchive ar, model_ar, opt_ar;
    net->save(model_ar);
    opt.save(opt_ar);
    ar.write("model", model_ar);
    ar.write("optimizer", opt_ar);
    ar.write("state", bytes_tensor(state_json(state)));
    auto gen = at::detail::getDefaultCPUGenerator();
    at::Tensor rng;
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      rng = gen.get_state();
    }
    ar.write("rng", rng);
    ar.save_to(out);
  } catch (const c10::Error& e) {
    throw Error(path + ": cannot save checkpoint: " + error_message(e));
  }
  write_file_atomic(path, out.str());
}

static torch::serialize::InputArchive open_archive(const std::string& path, c10::Device device) {
  const std::string bytes = read_file(path);
  torch::serialize::InputArchive ar;
  try {
    std::istringstream in(bytes);
    ar.load_from(in, device);
  } catch (const c10::Error& e) {
    throw bad_input(path + ": not a d2l checkpoint (corrupt or truncated): " + error_message(e));
  }
  return ar;
}

TrainState read_checkpoint_state(const std::string& path) {
  auto ar = open_archive(path, torch::kCPU);
  at::Tensor meta;
  try {
    ar.read("state", meta);
  } catch (const c10::Error& e) {
    throw bad_input(path + ": not a d2l checkpoint: no training state");
  }
  return parse_state(tensor_bytes(meta), path);
}

TrainState load_checkpoint(const std::string& path, torch::nn::Sequential& net,
                           torch::optim::Optimizer& opt) {
  c10::Device device = torch::kCPU;
  for (const auto& p : net->parameters()) {
    device = p.device();
    break;
  }
  auto ar = open_archive(path, device);
  TrainState state;
  try {
    at::Tensor meta, rng;
    ar.read("state", meta);
    state = parse_state(tensor_bytes(meta), path);
    torch::serialize::InputArchive model_ar, opt_ar;
    ar.read("model", model_ar);
    ar.read("optimizer", opt_ar);
    net->load(model_ar);
    opt.load(opt_ar);
    ar.read("rng", rng);
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(rng.to(torch::kCPU));
  } catch (const c10::Error& e) {
    throw bad_input(path + ": checkpoint does not fit this model: " + error_message(e));
  }
  return state;
}

}  // namespace d2l
