// d2l fit's profile store (d2l/train/fit.h): a profile survives the JSON round trip unchanged,
// bad files are named and passed over, and step_profile_for() reads the shipped store, then the
// user's cache, else analyses and fills the cache.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"
#include "d2l/core/paths.h"
#include "d2l/models/registry.h"
#include "d2l/train/fit.h"
#include "support/fixtures.h"

using d2l::Precision;
using d2l::ProfileSource;
using d2l::StepProfile;
using d2l::test::TempDir;

namespace {

const std::vector<std::int64_t> kShape{1, 28, 28};

// Sets an environment variable for the life of the object, then puts the old value back.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* v = std::getenv(name)) old_ = v;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

StepProfile lenet_profile() {
  return d2l::analyse_step(d2l::make_model("lenet", 1, 28, 10), kShape, 10);
}

// Two profiles give the same answers: every field, and the estimates built on them.
void expect_same(const StepProfile& a, const StepProfile& b) {
  EXPECT_EQ(a.example_shape, b.example_shape);
  EXPECT_EQ(a.params, b.params);
  EXPECT_EQ(a.trainable_params, b.trainable_params);
  EXPECT_EQ(a.largest_param, b.largest_param);
  EXPECT_EQ(a.mult_adds, b.mult_adds);
  EXPECT_EQ(a.traced_batch, b.traced_batch);
  ASSERT_EQ(a.forward_peaks.size(), b.forward_peaks.size());
  ASSERT_EQ(a.backward_peaks.size(), b.backward_peaks.size());
  ASSERT_EQ(a.ops.size(), b.ops.size());
  for (std::size_t i = 0; i < a.ops.size(); ++i) {
    EXPECT_EQ(a.ops[i].op, b.ops[i].op);
    EXPECT_EQ(a.ops[i].saved.per_example, b.ops[i].saved.per_example);
  }
  for (std::int64_t batch : {1, 7, 256, 4096}) {
    for (Precision p : {Precision::FP32, Precision::BF16}) {
      const auto x = d2l::estimate_memory(a, batch, p, {}, d2l::GpuOverhead{});
      const auto y = d2l::estimate_memory(b, batch, p, {}, d2l::GpuOverhead{});
      EXPECT_EQ(x.total, y.total) << batch;
      EXPECT_EQ(x.activations, y.activations) << batch;
      EXPECT_EQ(x.transient, y.transient) << batch;
    }
  }
}

std::string lenet_file() { return d2l::step_profile_file_name("lenet", kShape, 10); }

}  // namespace

TEST(FitStore, JsonRoundTripKeepsEveryAnswer) {
  const auto p = lenet_profile();
  EXPECT_EQ(lenet_file(), "lenet-1x28x28-10.json");
  const auto text = d2l::step_profile_to_json(p, "lenet", 10);
  expect_same(p, d2l::step_profile_from_json(text, "x.json", "lenet", kShape, 10));
}

TEST(FitStore, BadDocumentsAreNamedAndRefused) {
  const auto text = d2l::step_profile_to_json(lenet_profile(), "lenet", 10);
  auto refused = [&](const std::string& doc, const std::string& model,
                     const std::vector<std::int64_t>& shape, const std::string& needle) {
    try {
      d2l::step_profile_from_json(doc, "/cache/p.json", model, shape, 10);
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const d2l::Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("/cache/p.json"), std::string::npos) << what;
      EXPECT_NE(what.find(needle), std::string::npos) << what;
    }
  };
  refused(text.substr(0, text.size() / 2), "lenet", kShape, "truncated");
  refused("", "lenet", kShape, "truncated");
  refused("[1, 2]", "lenet", kShape, "not a JSON object");
  refused(text, "alexnet", kShape, "another network");
  refused(text, "lenet", {1, 32, 32}, "another network");
  auto edit = [&](const std::string& key, const std::string& value) {
    auto j = nlohmann::json::parse(text);
    j[key] = nlohmann::json::parse(value);
    return j.dump();
  };
  refused(edit("format", std::to_string(d2l::kStepProfileVersion + 1)), "lenet", kShape, "format");
  refused(edit("torch", "\"0.1.0\""), "lenet", kShape, "LibTorch 0.1.0");
  refused(edit("d2l", "\"0.0.1\""), "lenet", kShape, "d2l 0.0.1");
  refused(edit("saved", "\"many\""), "lenet", kShape, "[fixed, per_example]");
  refused(edit("params", "-1"), "lenet", kShape, "out of range");
  auto j = nlohmann::json::parse(text);
  j.erase("backward_peaks");
  refused(j.dump(), "lenet", kShape, "not a step profile");
}

TEST(FitStore, AnalysedOnceThenReadFromTheCacheAndRepairedWhenCorrupt) {
  TempDir tmp;
  const ScopedEnv no_shipped("D2L_FIT_PROFILES", "");
  const ScopedEnv cache("XDG_CACHE_HOME", tmp.str());
  const std::string file = tmp.str() + "/d2l/fit/" + lenet_file();
  ProfileSource source = ProfileSource::Shipped;
  const auto first = d2l::step_profile_for("lenet", 1, 28, 10, true, &source);
  EXPECT_EQ(source, ProfileSource::Analysed);
  ASSERT_TRUE(d2l::path_exists(file));
  const auto second = d2l::step_profile_for("lenet", 1, 28, 10, true, &source);
  EXPECT_EQ(source, ProfileSource::Cache);
  expect_same(first, second);

  // A corrupt cache file is passed over and replaced by a good one.
  d2l::write_file_atomic(file, "{\"format\": 2, \"torch\": ");
  const auto third = d2l::step_profile_for("lenet", 1, 28, 10, true, &source);
  EXPECT_EQ(source, ProfileSource::Analysed);
  expect_same(first, third);
  d2l::step_profile_for("lenet", 1, 28, 10, true, &source);
  EXPECT_EQ(source, ProfileSource::Cache);

  // use_store false: analysed, and the cache is not touched.
  std::remove(file.c_str());
  d2l::step_profile_for("lenet", 1, 28, 10, false, &source);
  EXPECT_EQ(source, ProfileSource::Analysed);
  EXPECT_FALSE(d2l::path_exists(file));
}

TEST(FitStore, TheShippedStoreComesFirstAndAnUnwritableCacheIsNoError) {
  TempDir shipped, tmp;
  const ScopedEnv store("D2L_FIT_PROFILES", shipped.str());
  // The cache folder's parent is a file: nothing can be written there.
  d2l::write_file_atomic(tmp.str() + "/cache", "a file, not a folder\n");
  const ScopedEnv cache("XDG_CACHE_HOME", tmp.str() + "/cache");
  ProfileSource source = ProfileSource::Shipped;
  const auto analysed = d2l::step_profile_for("lenet", 1, 28, 10, true, &source);
  EXPECT_EQ(source, ProfileSource::Analysed);

  EXPECT_GE(d2l::write_book_profiles(shipped.str()), 10);
  ASSERT_TRUE(d2l::path_exists(shipped.str() + "/" + lenet_file()));
  ASSERT_TRUE(d2l::path_exists(shipped.str() + "/alexnet-1x224x224-10.json"));
  const auto from_store = d2l::step_profile_for("lenet", 1, 28, 10, true, &source);
  EXPECT_EQ(source, ProfileSource::Shipped);
  expect_same(analysed, from_store);
  // A shape the store does not hold is analysed.
  d2l::step_profile_for("lenet", 1, 32, 10, true, &source);
  EXPECT_EQ(source, ProfileSource::Analysed);
}
