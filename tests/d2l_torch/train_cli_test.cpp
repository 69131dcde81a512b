// d2l train as a user runs it: real processes, real files.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <tuple>
#include <vector>

#include "d2l/core/atomic_file.h"
#include "support/fixtures.h"

using d2l::test::bin;
using d2l::test::run;
using d2l::test::TempDir;

namespace {

// An environment with no cache and no downloads, so only the given folders count.
std::string env(const TempDir& home) {
  return "env HOME=" + home.str() + " XDG_CACHE_HOME= D2L_DATA_DIR= D2L_OFFLINE=1 ";
}

void expect_one_line_error(const d2l::test::RunResult& r, int code, const std::string& needle) {
  EXPECT_EQ(r.code, code) << r.output;
  EXPECT_NE(r.output.find(needle), std::string::npos) << r.output;
  EXPECT_EQ(d2l::test::count_lines(r.output), 1) << r.output;
  EXPECT_EQ(r.output.find("terminate"), std::string::npos) << r.output;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST(Cli, HelpAndVersion) {
  auto r = run(bin("d2l") + " --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.output.find("train"), std::string::npos);
  r = run(bin("d2l") + " --version");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.output.find("LibTorch"), std::string::npos) << r.output;
  r = run(bin("d2l") + " train --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.output.find("--resume"), std::string::npos) << r.output;
}

TEST(Cli, D2lItselfDoesNotLoadLibTorch) {
  // The dynamic loader lists every library `d2l` maps at start-up.
  auto r = run("env LD_TRACE_LOADED_OBJECTS=1 " + bin("d2l") + " --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.output.find("libc.so"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("libtorch"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("libc10"), std::string::npos) << r.output;
  // ... while the helper does.
  r = run("env LD_TRACE_LOADED_OBJECTS=1 " + bin("d2l-torch"));
  EXPECT_NE(r.output.find("libtorch"), std::string::npos) << r.output;
}

TEST(Cli, ListShowsBookDefaults) {
  auto r = run(bin("d2l") + " train --list --json");
  ASSERT_EQ(r.code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  bool found = false;
  for (const auto& m : j)
    if (m["name"] == "lenet") {
      found = true;
      EXPECT_EQ(m["lr"], 0.9);
      EXPECT_EQ(m["epochs"], 10);
      EXPECT_EQ(m["batch_size"], 256);
    }
  EXPECT_TRUE(found);
}

TEST(Cli, BadFlagsGetOneLineAndExit2) {
  TempDir home;
  const std::string d2l = env(home) + bin("d2l") + " train ";
  expect_one_line_error(run(d2l + "resnet50"), 2, "unknown model 'resnet50' (valid: linreg, ");
  expect_one_line_error(run(d2l + "lenet --data imagenet"), 2, "fashion-mnist, mnist, cifar10");
  expect_one_line_error(run(d2l + "lenet --lr 0"), 2, "--lr");
  expect_one_line_error(run(d2l + "lenet --lr -1.5"), 2, "--lr");
  expect_one_line_error(run(d2l + "lenet --batch-size 0"), 2, "--batch-size");
  expect_one_line_error(run(d2l + "lenet --epochs 0"), 2, "--epochs");
  expect_one_line_error(run(d2l + "lenet --device cuda:7"), 2, "cuda:7");
  expect_one_line_error(run(d2l + "lenet --device tpu"), 2, "--device");
  expect_one_line_error(run(d2l + "lenet --resume " + home / "none"), 2, "--resume");
  auto r = run(d2l + "lenet --epochs abc");
  EXPECT_EQ(r.code, 2) << r.output;
}

// Every numeric flag of `d2l train` with values from outside and inside its domain: one line
// and exit 2, or the documented meaning (checked through --dry-run, which prints the settings).
// A new flag is covered by adding rows.
TEST(Cli, NumericFlagsTakeTheirDomainOrGetOneLine) {
  TempDir home;
  struct Row {
    const char* args;
    int code;
    const char* key;  // exit 0: the setting in --dry-run's JSON ...
    double expected;  // ... and its value; exit 2: the flag the line must name
  };
  const Row rows[] = {
      {"--lr=-1", 2, "--lr", 0},
      {"--lr 0", 2, "--lr", 0},
      {"--lr nan", 2, "--lr", 0},
      {"--lr inf", 2, "--lr", 0},
      {"--lr -inf", 2, "--lr", 0},
      {"--lr 1e300", 0, "lr", 1e300},
      {"--lr 0.25", 0, "lr", 0.25},
      {"--epochs -1", 2, "--epochs", 0},
      {"--epochs 0", 2, "--epochs", 0},
      {"--epochs 99999999999", 0, "epochs", 99999999999.0},
      {"--epochs 1e300", 2, "--epochs", 0},
      {"--epochs nan", 2, "--epochs", 0},
      {"--epochs inf", 2, "--epochs", 0},
      {"--batch-size -1", 2, "--batch-size", 0},
      {"--batch-size 0", 2, "--batch-size", 0},
      {"--batch-size nan", 2, "--batch-size", 0},
      {"--batch-size inf", 2, "--batch-size", 0},
      {"--batch-size 99999999999", 0, "batch_size", 99999999999.0},
      {"--resize -1", 2, "--resize", 0},
      {"--resize 0", 2, "--resize", 0},
      {"--resize 99999", 2, "--resize", 0},
      {"--resize nan", 2, "--resize", 0},
      {"--resize 64", 0, "resize", 64},
      {"--threads -1", 2, "--threads", 0},
      {"--threads 0", 2, "--threads", 0},
      {"--threads 99999999999", 2, "--threads", 0},
      {"--threads inf", 2, "--threads", 0},
      {"--threads 2", 0, "threads", 2},
      {"--grad-clip -1", 2, "--grad-clip", 0},
      {"--grad-clip nan", 2, "--grad-clip", 0},
      {"--grad-clip inf", 2, "--grad-clip", 0},
      {"--grad-clip 0", 0, "grad_clip", 0},
      {"--grad-clip 1e300", 0, "grad_clip", 1e300},
      {"--max-steps -1", 2, "--max-steps", 0},
      {"--max-steps 0", 2, "--max-steps", 0},
      {"--max-steps nan", 2, "--max-steps", 0},
      {"--max-steps 99999999999", 0, "max_steps", 99999999999.0},
      {"--seed -1", 2, "--seed", 0},
      {"--seed nan", 2, "--seed", 0},
      {"--seed inf", 2, "--seed", 0},
      {"--seed 0", 0, "seed", 0},
      {"--seed 99999999999", 0, "seed", 99999999999.0},
      {"--momentum -1", 2, "--momentum", 0},
      {"--momentum 1", 2, "--momentum", 0},
      {"--momentum nan", 2, "--momentum", 0},
      {"--momentum inf", 2, "--momentum", 0},
      {"--weight-decay -1", 2, "--weight-decay", 0},
      {"--weight-decay nan", 2, "--weight-decay", 0},
      {"--weight-decay inf", 2, "--weight-decay", 0},
      {"--step-epochs 0", 2, "--step-epochs", 0},
      {"--step-epochs -1", 2, "--step-epochs", 0},
      {"--gamma 0", 2, "--gamma", 0},
      {"--gamma -1", 2, "--gamma", 0},
      {"--gamma nan", 2, "--gamma", 0},
      {"--gamma inf", 2, "--gamma", 0},
  };
  for (const auto& row : rows) {
    const auto r =
        run(env(home) + bin("d2l") + " train lenet --dry-run --out " + home / "o" + " " + row.args);
    if (row.code == 2) {
      expect_one_line_error(r, 2, row.key);
      continue;
    }
    ASSERT_EQ(r.code, 0) << row.args << ": " << r.output;
    const auto j = nlohmann::json::parse(r.output);
    EXPECT_DOUBLE_EQ(j.at(row.key).get<double>(), row.expected) << row.args;
  }
  // Accepted values of the optimiser's settings land where they belong.
  for (const auto& [args, path, expected] :
       std::vector<std::tuple<std::string, std::string, double>>{
           {"--momentum 0", "/optimizer/momentum", 0},
           {"--momentum 0.9 --nesterov", "/optimizer/momentum", 0.9},
           {"--weight-decay 0", "/optimizer/weight_decay", 0},
           {"--weight-decay 1e300", "/optimizer/weight_decay", 1e300},
           {"--schedule step --step-epochs 99999999999", "/schedule/step_epochs", 99999999999.0},
           {"--schedule step --gamma 1e300", "/schedule/gamma", 1e300}}) {
    const auto r = run(env(home) + bin("d2l") + " train lenet --dry-run " + args);
    ASSERT_EQ(r.code, 0) << args << ": " << r.output;
    EXPECT_DOUBLE_EQ(
        nlohmann::json::parse(r.output).at(nlohmann::json::json_pointer(path)).get<double>(),
        expected)
        << args;
  }
  EXPECT_FALSE(std::filesystem::exists(home / "o")) << "--dry-run wrote the run folder";
}

TEST(Cli, DivergedRunExits1AndKeepsTheLastSoundCheckpoint) {
  TempDir home;
  d2l::test::write_fake_mnist(home.str(), 300, 100);
  const std::string base = env(home) + bin("d2l") + " train mlp --threads 1 --data-dir " +
                           home.str() + " --batch-size 50 -q --no-chart ";
  // Diverges in its first epoch: no checkpoint at all, metrics say why.
  auto r = run("(" + base + "--lr 1e12 --epochs 2 --out " + home / "bad" + " >/dev/null)");
  expect_one_line_error(r, 1, "lower --lr (now 1e+12) or use --grad-clip");
  EXPECT_NE(r.output.find("at epoch 1, step "), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(home / "bad/checkpoint.pt"));
  EXPECT_NE(read_json(home / "bad/metrics.json").value("divergence", "").find("at epoch 1"),
            std::string::npos);
  // One sound epoch, then a resume with a learning rate that blows up: the sound checkpoint stays.
  ASSERT_EQ(run(base + "--lr 0.1 --epochs 1 --out " + home / "good").code, 0);
  const std::string sound = d2l::read_file(home / "good/checkpoint.pt");
  r = run("(" + env(home) + bin("d2l") + " train --threads 1 --data-dir " + home.str() +
          " -q --no-chart --epochs 3 --lr 1e12 --resume " + home / "good" + " >/dev/null)");
  expect_one_line_error(r, 1, "at epoch 2, step ");
  EXPECT_EQ(d2l::read_file(home / "good/checkpoint.pt"), sound);
  // The book's behaviour on request: train on to the end.
  r = run(base + "--lr 1e12 --epochs 1 --no-divergence-stop --out " + home / "on");
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST(Cli, OptimizerAndScheduleChoicesAreCheckedAndResumed) {
  TempDir home;
  const std::string d2l = env(home) + bin("d2l") + " train ";
  expect_one_line_error(run(d2l + "lenet --optimizer rmsprop --dry-run"), 2, "sgd, adam or adamw");
  expect_one_line_error(run(d2l + "lenet --schedule linear --dry-run"), 2,
                        "constant, step, cosine or one-cycle");
  expect_one_line_error(run(d2l + "lenet --nesterov --dry-run"), 2, "--nesterov needs --momentum");
  expect_one_line_error(run(d2l + "lenet --optimizer adam --momentum 0.9 --dry-run"), 2,
                        "--optimizer sgd");
  d2l::test::write_fake_mnist(home.str(), 300, 100);
  const std::string base = d2l + "mlp --threads 1 -q --no-chart --data-dir " + home.str() +
                           " --batch-size 50 --optimizer adamw --lr 0.01 --weight-decay 0.01 "
                           "--schedule cosine ";
  ASSERT_EQ(run(base + "--epochs 1 --out " + home / "a").code, 0);
  auto j = read_json(home / "a/metrics.json");
  EXPECT_EQ(j["optimizer"], "adamw");
  EXPECT_EQ(j["schedule"], "cosine");
  // The cosine schedule over one epoch of 6 steps: the recorded lr falls to 0 at the end.
  ASSERT_FALSE(j["points"].empty());
  EXPECT_LT(j["points"].back()["lr"].get<double>(), 1e-9);
  EXPECT_GT(j["points"].front()["lr"].get<double>(), 0.005);
  // Resume goes on with the run's optimiser; another one is refused.
  auto r = run(d2l + "--resume " + home / "a" + " --epochs 2 --optimizer sgd --dry-run");
  expect_one_line_error(r, 2, "--optimizer adamw");
  r = run(d2l + "--threads 1 -q --no-chart --data-dir " + home.str() + " --resume " + home / "a" +
          " --epochs 2");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(read_json(home / "a/metrics.json")["history"].size(), 2u);
}

TEST(Cli, MaxStepsMakesASmokeRun) {
  TempDir home;
  d2l::test::write_fake_mnist(home.str(), 300, 100);
  auto r = run(env(home) + bin("d2l") + " train lenet --threads 1 -q --no-chart --data-dir " +
               home.str() + " --batch-size 8 --max-steps 2 --out " + home / "s");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto j = read_json(home / "s/metrics.json");
  EXPECT_EQ(j["examples_seen"], 16);
  EXPECT_EQ(j["history"].size(), 1u);
}

TEST(Cli, PrecisionIsCheckedRecordedAndResumed) {
  TempDir home;
  const std::string d2l = env(home) + bin("d2l") + " train ";
  expect_one_line_error(run(d2l + "lenet --precision fp8 --dry-run"), 2, "fp32, tf32, bf16");
  // fp16 needs a GPU's loss scaling and half-precision kernels: refused before any data loads.
  expect_one_line_error(run(d2l + "lenet --device cpu --precision fp16 --dry-run"), 2, "fp16");
  d2l::test::write_fake_mnist(home.str(), 300, 100);
  const std::string base = d2l + "lenet --device cpu --threads 1 -q --no-chart --data-dir " +
                           home.str() + " --batch-size 50 ";
  auto r = run(base + "--precision bf16 --epochs 1 --out " + home / "b");
  ASSERT_EQ(r.code, 0) << r.output;
  auto j = read_json(home / "b/metrics.json");
  EXPECT_EQ(j["precision"], "bf16");
  EXPECT_TRUE(std::isfinite(j["loss"].get<double>()));
  // --resume keeps the run's precision.
  r = run(d2l + "--resume " + home / "b" + " --epochs 2 --dry-run");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("\"precision\": \"bf16\""), std::string::npos) << r.output;
}

TEST(Cli, MissingDataSetNamesPlacesAndWays) {
  TempDir home;
  auto r = run(env(home) + bin("d2l") + " train mlp --data mnist --data-dir " + home / "nowhere" +
               " --out " + home / "out");
  expect_one_line_error(r, 2, "mnist: data set not found");
  EXPECT_NE(r.output.find(home / "nowhere"), std::string::npos);
  EXPECT_NE(r.output.find("https://"), std::string::npos);
}

TEST(Cli, CorruptDataFileGetsOneLineNamingIt) {
  TempDir home;
  d2l::test::write_fake_mnist(home.str(), 50, 20);
  // Labels file with the images' magic number.
  d2l::test::write_bytes(home / "t10k-labels-idx1-ubyte",
                         d2l::test::idx_bytes(2051, {20}, std::vector<std::uint8_t>(20, 1)));
  auto r = run(env(home) + bin("d2l") + " train mlp --data-dir " + home.str() + " --out " +
               home / "out");
  expect_one_line_error(r, 2, "t10k-labels-idx1-ubyte: expected magic 2049, found 2051");
  // Truncated images.
  d2l::test::write_fake_mnist(home.str(), 50, 20);
  const std::string img = d2l::read_file(home / "train-images-idx3-ubyte");
  d2l::test::write_bytes(home / "train-images-idx3-ubyte", img.substr(0, img.size() - 100));
  r = run(env(home) + bin("d2l") + " train mlp --data-dir " + home.str() + " --out " +
          home / "out");
  expect_one_line_error(r, 2, "train-images-idx3-ubyte: truncated");
}

TEST(Cli, TrainWritesMetricsAndResumeContinuesExactly) {
  TempDir home;
  d2l::test::write_fake_mnist(home.str(), 300, 100, true);
  const std::string base = env(home) + bin("d2l") + " train mlp --threads 1 --data-dir " +
                           home.str() + " --seed 3 --batch-size 50 ";
  auto full = run(base + "--epochs 3 --out " + home / "full");
  ASSERT_EQ(full.code, 0) << full.output;
  EXPECT_NE(full.output.find("training on cpu"), std::string::npos);
  EXPECT_NE(full.output.find("examples/sec on cpu"), std::string::npos);
  auto part = run(base + "--epochs 1 --out " + home / "part");
  ASSERT_EQ(part.code, 0) << part.output;
  auto resumed = run(env(home) + bin("d2l") + " train --threads 1 --data-dir " + home.str() +
                     " --epochs 3 --resume " + home / "part");
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming mlp"), std::string::npos) << resumed.output;
  auto a = read_json(home / "full/metrics.json"), b = read_json(home / "part/metrics.json");
  EXPECT_EQ(b["history"].size(), 3u);
  EXPECT_NEAR(a["loss"].get<double>(), b["loss"].get<double>(), 1e-6);
  EXPECT_EQ(a["test_acc"], b["test_acc"]);
  EXPECT_EQ(a["train_acc"], b["train_acc"]);
  for (const char* k :
       {"loss", "train_acc", "test_acc", "examples_per_sec", "device", "seconds", "history"})
    EXPECT_TRUE(a.contains(k)) << k;
  std::ifstream csv(home / "full/metrics.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "epoch,loss,train_acc,test_acc,seconds,examples_per_sec");
}

TEST(Cli, SigtermSavesACheckpointThatResumes) {
  TempDir home;
  d2l::test::write_fake_mnist(home.str(), 2000, 100);
  const std::string out = home / "run";
  const std::string cmd = env(home) + bin("d2l") + " train lenet --threads 1 --data-dir " +
                          home.str() + " --epochs 1000 --out " + out;
  // Start it in the background, wait for its first epoch, then send SIGTERM.
  const std::string pidfile = home / "pid";
  ASSERT_EQ(std::system((cmd + " > " + home / "log" + " 2>&1 & echo $! > " + pidfile).c_str()), 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!std::filesystem::exists(out + "/metrics.json") &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(std::filesystem::exists(out + "/metrics.json"));
  std::string pid = d2l::read_file(pidfile);
  pid.erase(pid.find_last_not_of("\n") + 1);
  // The background shell may be `sh -c` wrapping env: signal the whole job by its children too.
  ASSERT_EQ(std::system(
                ("pkill -TERM -P " + pid + " ; kill -TERM " + pid + " 2>/dev/null; true").c_str()),
            0);
  // Wait for it to exit.
  const auto dl2 = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (::kill(std::stoi(pid), 0) == 0 && std::chrono::steady_clock::now() < dl2)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const std::string log = d2l::read_file(home / "log");
  EXPECT_NE(log.find("interrupted; checkpoint saved"), std::string::npos) << log;
  auto state = read_json(out + "/metrics.json");
  const auto done = state["history"].size();
  ASSERT_GE(done, 1u);
  // Resume for one more epoch than was finished.
  auto r = run(env(home) + bin("d2l") + " train --threads 1 --data-dir " + home.str() +
               " --epochs " + std::to_string(done + 1) + " --resume " + out);
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(read_json(out + "/metrics.json")["history"].size(), done + 1);
}

TEST(Cli, TrainDrawsChartPredictionsAndConfusion) {
  TempDir home;
  d2l::test::write_fake_mnist(home.str(), 200, 50);
  auto r = run(env(home) + bin("d2l") + " train softmax --epochs 2 --data-dir " + home.str() +
               " --out " + home / "out" + " --plot " + home / "out/chart.svg");
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* f : {"chart.svg", "predictions.png", "confusion.png", "metrics.json"})
    EXPECT_TRUE(std::filesystem::exists(home / (std::string("out/") + f))) << f;
  const std::string svg = d2l::read_file(home / "out/chart.svg");
  EXPECT_NE(svg.find("train loss"), std::string::npos);
  EXPECT_NE(svg.find("test acc"), std::string::npos);
}

TEST(Cli, UnwritableChartWarnsAndTrainingGoesOn) {
  TempDir home;
  d2l::test::write_fake_mnist(home.str(), 200, 50);
  auto r = run(env(home) + bin("d2l") + " train softmax --epochs 2 --data-dir " + home.str() +
               " --out " + home / "out" + " --plot /nonexistent-dir/chart.png");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("warning"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("/nonexistent-dir/chart.png"), std::string::npos) << r.output;
  EXPECT_EQ(read_json(home / "out/metrics.json")["history"].size(), 2u);
  // A bad extension is bad input, caught before training.
  r = run(env(home) + bin("d2l") + " train softmax --data-dir " + home.str() + " --out " +
          home / "o2" + " --plot " + home / "chart.gif");
  EXPECT_EQ(r.code, 2) << r.output;
}

TEST(Cli, ShowDrawsAGridOfLabelledImages) {
  TempDir home;
  d2l::test::write_fake_mnist(home.str(), 30, 10);
  auto r = run(env(home) + bin("d2l") + " show fashion-mnist --data-dir " + home.str() +
               " --rows 2 --cols 3 --split test -o " + home / "grid.svg");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("6 test images"), std::string::npos) << r.output;
  const std::string svg = d2l::read_file(home / "grid.svg");
  // Every title is one of the data set's class names.
  int titled = 0;
  for (const char* c : {"t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
                        "sneaker", "bag", "ankle boot"})
    titled += svg.find(c) != std::string::npos;
  EXPECT_GE(titled, 1);
  expect_one_line_error(run(env(home) + bin("d2l") + " show fashion-mnist --data-dir " +
                            home.str() + " --split valid"),
                        2, "--split");
  expect_one_line_error(run(env(home) + bin("d2l") + " show cifar10 --data-dir " + home / "none"),
                        2, "cifar10: data set not found");
}
