// Data-parallel training on c10d with real processes: this test binary starts copies of itself
// as workers (the DistributedWorker test, which runs only with D2L_TEST_DIST_OUT set) through
// d2l::launch_workers, which hosts a real TCPStore; the workers meet in a real Gloo group on
// loopback.
#include "d2l/train/distributed.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pty.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "d2l/core/error.h"
#include "d2l/data/loader.h"
#include "d2l/train/trainer.h"
#include "support/fixtures.h"

using d2l::data::DataLoader;
using d2l::test::TempDir;

namespace {

constexpr std::int64_t kExamples = 100;
constexpr std::int64_t kGlobalBatch = 8;  // 13 batches an epoch, the last one of 4
constexpr std::int64_t kSteps = 20;       // into the second epoch, past the short batch

// A small deterministic problem: the same images, labels and initial weights everywhere.
struct Problem {
  torch::nn::Sequential net;
  DataLoader train, test;
};

Problem make_problem(std::int64_t shard_index, std::int64_t shard_count, bool batch_norm) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  auto images = torch::randint(0, 256, {kExamples, 1, 4, 4}, gen, torch::kLong).to(torch::kUInt8);
  auto labels = torch::randint(0, 3, {kExamples}, gen, torch::kLong);
  d2l::data::LoaderOptions lo;
  lo.batch_size = kGlobalBatch;
  lo.shuffle = true;
  lo.seed = 11;
  lo.shard_index = shard_index;
  lo.shard_count = shard_count;
  d2l::data::LoaderOptions te;
  te.batch_size = 32;
  torch::manual_seed(3);
  torch::nn::Sequential net(torch::nn::Flatten(), torch::nn::Linear(16, 12));
  if (batch_norm) net->push_back(torch::nn::BatchNorm1d(12));
  net->push_back(torch::nn::ReLU());
  net->push_back(torch::nn::Linear(12, 3));
  return {net, DataLoader(images, labels, lo), DataLoader(images, labels, te)};
}

d2l::History train(Problem& p, std::shared_ptr<d2l::Distributed> dist) {
  auto opt =
      std::make_shared<torch::optim::SGD>(p.net->parameters(), torch::optim::SGDOptions(0.05));
  d2l::TrainerOptions o;
  o.max_epochs = 3;
  o.max_steps = kSteps;
  o.verbose = false;
  o.progress = false;
  o.epoch_lines = false;
  o.distributed = std::move(dist);
  d2l::Trainer t(p.net, opt, o);
  return t.fit(p.train, p.test);
}

std::vector<at::Tensor> state_of(torch::nn::Module& net) {
  std::vector<at::Tensor> out;
  for (const auto& t : net.parameters()) out.push_back(t.detach().clone());
  for (const auto& t : net.buffers()) out.push_back(t.detach().to(torch::kFloat).clone());
  return out;
}

std::string self_exe() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

// Runs `nproc` workers of this binary; returns the launcher's exit code.
int run_workers(std::int64_t nproc, const std::string& out, bool batch_norm) {
  ::setenv("D2L_TEST_DIST_OUT", out.c_str(), 1);
  ::setenv("D2L_TEST_DIST_BN", batch_norm ? "1" : "0", 1);
  d2l::LaunchOptions lo;
  lo.argv = {self_exe(), "--gtest_filter=DistributedWorker.Train"};
  lo.nproc = nproc;
  lo.timeout_s = 30;
  const int rc = d2l::launch_workers(lo);
  ::unsetenv("D2L_TEST_DIST_OUT");
  ::unsetenv("D2L_TEST_DIST_BN");
  return rc;
}

std::vector<at::Tensor> load_state(const std::string& path) {
  std::vector<at::Tensor> v;
  torch::load(v, path);
  return v;
}

double max_rel_diff(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    const auto d = (a[i] - b[i]).abs().max().item<double>();
    const auto scale = std::max(1.0, b[i].abs().max().item<double>());
    worst = std::max(worst, d / scale);
  }
  return worst;
}

std::map<std::string, double> read_metrics(const std::string& path) {
  std::map<std::string, double> m;
  std::ifstream in(path);
  std::string k;
  double v;
  while (in >> k >> v) m[k] = v;
  return m;
}

}  // namespace

// The worker: skipped unless a test above started this binary as one.
TEST(DistributedWorker, Train) {
  const char* out = std::getenv("D2L_TEST_DIST_OUT");
  if (!out) GTEST_SKIP() << "runs only as a worker of the Distributed tests";
  auto env = d2l::distributed_from_env();
  ASSERT_TRUE(env.has_value());
  env->timeout_s = 30;
  auto dist = std::make_shared<d2l::Distributed>(*env);
  const bool bn = std::string(std::getenv("D2L_TEST_DIST_BN")) == "1";
  Problem p = make_problem(dist->rank(), dist->world_size(), bn);
  const d2l::History h = train(p, dist);
  const std::string prefix = std::string(out) + "/rank" + std::to_string(dist->rank());
  torch::save(state_of(*p.net), prefix + ".pt");
  std::ofstream m(prefix + ".txt");
  m.precision(17);
  m << "loss " << h.loss() << "\ntrain_acc " << h.train_acc() << "\ntest_acc " << h.test_acc()
    << "\nexamples " << h.examples_seen << "\n";
  const auto t = dist->timings();
  m << "steps " << t.steps << "\nstep_seconds " << t.step_seconds << "\nallreduce_seconds "
    << t.allreduce_seconds << "\nworld " << t.world_size << "\n";
}

TEST(Distributed, TwoAndThreeRanksMatchOneProcessWithTheGlobalBatch) {
  // One process with batch 8 on the same order of examples.
  Problem alone = make_problem(0, 1, false);
  const d2l::History ha = train(alone, nullptr);
  const auto ref = state_of(*alone.net);
  for (std::int64_t nproc : {2, 3}) {  // 3 ranks split 8 as 3, 3, 2 and the last batch as 2, 1, 1
    TempDir dir;
    ASSERT_EQ(run_workers(nproc, dir.str(), false), 0) << nproc << " ranks";
    const auto r0 = load_state(dir / "rank0.pt");
    for (std::int64_t r = 1; r < nproc; ++r) {
      const auto rr = load_state(dir / ("rank" + std::to_string(r) + ".pt"));
      EXPECT_EQ(max_rel_diff(rr, r0), 0.0) << "rank " << r << " differs from rank 0";
    }
    EXPECT_LT(max_rel_diff(r0, ref), 1e-5) << nproc << " ranks vs one process";
    // The metrics are global: every rank reports those of the single process.
    for (std::int64_t r = 0; r < nproc; ++r) {
      auto m = read_metrics(dir / ("rank" + std::to_string(r) + ".txt"));
      EXPECT_NEAR(m["loss"], ha.loss(), 1e-6 * std::max(1.0, ha.loss()));
      EXPECT_DOUBLE_EQ(m["train_acc"], ha.train_acc());
      EXPECT_DOUBLE_EQ(m["test_acc"], ha.test_acc());
      EXPECT_EQ(static_cast<std::int64_t>(m["examples"]), ha.examples_seen);
      // Every step was timed, the allreduce inside it.
      EXPECT_EQ(static_cast<std::int64_t>(m["steps"]), kSteps);
      EXPECT_EQ(static_cast<std::int64_t>(m["world"]), nproc);
      EXPECT_GT(m["allreduce_seconds"], 0.0);
      EXPECT_LT(m["allreduce_seconds"], m["step_seconds"]);
    }
  }
}

TEST(Distributed, BatchNormBuffersFollowRankZero) {
  TempDir dir;
  ASSERT_EQ(run_workers(2, dir.str(), true), 0);
  // Each replica normalises with its own part's statistics (as DDP), the parameters are
  // averaged, and rank 0's running statistics reach every rank before every forward pass and
  // before the evaluation that ends a fit: the replicas end identical, buffers included, though
  // each rank updated its running statistics from different examples.
  const auto r0 = load_state(dir / "rank0.pt");
  const auto r1 = load_state(dir / "rank1.pt");
  ASSERT_EQ(r0.size(), 9u);  // 6 parameters, running mean, running var, batches tracked
  for (std::size_t i = 0; i < r0.size(); ++i) EXPECT_TRUE(torch::equal(r0[i], r1[i])) << i;
  EXPECT_GT(r0[7].sub(1).abs().max().item<double>(), 0.0);  // the running variance has moved
}

TEST(Distributed, EnvironmentOfTheLaunchers) {
  using Env = std::map<std::string, std::string>;
  EXPECT_FALSE(d2l::distributed_from_env(Env{{"HOME", "/tmp"}}).has_value());
  auto t = d2l::distributed_from_env(Env{{"RANK", "1"},
                                         {"WORLD_SIZE", "4"},
                                         {"LOCAL_RANK", "1"},
                                         {"MASTER_ADDR", "10.0.0.2"},
                                         {"MASTER_PORT", "29400"},
                                         {"TORCHELASTIC_USE_AGENT_STORE", "True"}});
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->rank, 1);
  EXPECT_EQ(t->world_size, 4);
  EXPECT_EQ(t->local_rank, 1);
  EXPECT_EQ(t->master_addr, "10.0.0.2");
  EXPECT_EQ(t->master_port, 29400);
  EXPECT_TRUE(t->agent_store);
  auto mpi = d2l::distributed_from_env(Env{{"OMPI_COMM_WORLD_RANK", "2"},
                                           {"OMPI_COMM_WORLD_SIZE", "3"},
                                           {"OMPI_COMM_WORLD_LOCAL_RANK", "0"},
                                           {"MASTER_ADDR", "h"},
                                           {"MASTER_PORT", "1234"}});
  ASSERT_TRUE(mpi.has_value());
  EXPECT_EQ(mpi->rank, 2);
  EXPECT_FALSE(mpi->agent_store);
  auto slurm = d2l::distributed_from_env(Env{
      {"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "9"}});
  ASSERT_TRUE(slurm.has_value());
  EXPECT_EQ(slurm->world_size, 2);
  // Bad values name the variable.
  auto expect_bad = [](const Env& e, const std::string& needle) {
    try {
      d2l::distributed_from_env(e);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const d2l::Error& err) {
      EXPECT_EQ(err.kind(), d2l::Error::Kind::BadInput);
      EXPECT_NE(std::string(err.what()).find(needle), std::string::npos) << err.what();
    }
  };
  expect_bad(Env{{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}},
             "RANK");
  expect_bad(Env{{"RANK", "x"}, {"WORLD_SIZE", "2"}}, "RANK");
  expect_bad(Env{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "1"}}, "MASTER_ADDR");
  expect_bad(Env{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "0"}},
             "MASTER_PORT");
}

TEST(Distributed, LoaderShardsPartitionEveryBatch) {
  auto images = torch::arange(0, 10, torch::kLong).to(torch::kUInt8).reshape({10, 1, 1, 1});
  auto labels = torch::arange(0, 10, torch::kLong);
  d2l::data::LoaderOptions lo;
  lo.batch_size = 4;  // batches of 4, 4, 2 over 3 shards: 2+1+1, 2+1+1, 1+1+0
  lo.shuffle = true;
  lo.seed = 9;
  DataLoader whole(images, labels, lo);
  std::vector<std::vector<std::int64_t>> global;
  for (const auto& b : whole) {
    auto y = b.y.contiguous();
    global.emplace_back(y.data_ptr<std::int64_t>(), y.data_ptr<std::int64_t>() + y.numel());
  }
  std::vector<std::vector<std::int64_t>> joined(global.size());
  const std::vector<std::vector<std::int64_t>> sizes = {{2, 2, 1}, {1, 1, 1}, {1, 1, 0}};
  for (std::int64_t r = 0; r < 3; ++r) {
    auto o = lo;
    o.shard_index = r;
    o.shard_count = 3;
    DataLoader part(images, labels, o);
    EXPECT_EQ(part.size(), whole.size());
    std::size_t i = 0;
    for (const auto& b : part) {
      EXPECT_EQ(b.y.numel(), sizes[static_cast<std::size_t>(r)][i])
          << "rank " << r << " batch " << i;
      auto y = b.y.contiguous();
      joined[i].insert(joined[i].end(), y.data_ptr<std::int64_t>(),
                       y.data_ptr<std::int64_t>() + y.numel());
      ++i;
    }
  }
  EXPECT_EQ(joined, global);
  auto bad = lo;
  bad.shard_index = 3;
  bad.shard_count = 3;
  EXPECT_THROW(DataLoader(images, labels, bad), d2l::Error);
}

TEST(Launcher, ARankThatDiesStopsTheOthersWithOneLine) {
  TempDir dir;
  // Rank 1 kills itself; rank 0 would wait a minute: the launcher must stop it.
  const std::string script = "cd " + dir.str() +
                             " && echo $$ > pid$RANK.tmp && mv pid$RANK.tmp pid$RANK; "
                             "if [ $RANK = 1 ]; then while [ ! -s pid0 ]; do sleep 0.05; done; "
                             "kill -9 $$; fi; exec sleep 60";
  d2l::LaunchOptions lo;
  lo.argv = {"/bin/sh", "-c", script};
  lo.nproc = 2;
  lo.kill_grace_s = 1;
  testing::internal::CaptureStderr();
  const int rc = d2l::launch_workers(lo);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(d2l::test::count_lines(err), 1) << err;
  EXPECT_NE(err.find("rank 1 of 2 failed (killed by signal 9"), std::string::npos) << err;
  // No worker is left behind.
  for (const char* r : {"0", "1"}) {
    std::ifstream in(dir / (std::string("pid") + r));
    pid_t pid = 0;
    in >> pid;
    ASSERT_GT(pid, 0);
    EXPECT_NE(::kill(pid, 0), 0) << "worker " << r << " still runs";
  }
}

TEST(Launcher, WorkersGetTheVariablesAndAFailureCodeIsPassedOn) {
  TempDir dir;
  d2l::LaunchOptions lo;
  lo.argv = {"/bin/sh", "-c",
             "echo $RANK $LOCAL_RANK $WORLD_SIZE $MASTER_ADDR $TORCHELASTIC_USE_AGENT_STORE > " +
                 dir.str() + "/env$RANK; [ -n \"$MASTER_PORT\" ]"};
  lo.nproc = 3;
  EXPECT_EQ(d2l::launch_workers(lo), 0);
  for (int r = 0; r < 3; ++r) {
    std::ifstream in(dir / ("env" + std::to_string(r)));
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, std::to_string(r) + " " + std::to_string(r) + " 3 127.0.0.1 True");
  }
  lo.argv = {"/bin/sh", "-c", "if [ $RANK = 2 ]; then echo 'd2l: error: no data' >&2; exit 2; fi"};
  testing::internal::CaptureStderr();
  EXPECT_EQ(d2l::launch_workers(lo), 2);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(d2l::test::count_lines(err), 1) << err;
  EXPECT_NE(err.find("rank 2 of 3 failed (exit 2): no data"), std::string::npos) << err;
}

TEST(Launcher, ForwardsSigtermToTheWorkers) {
  d2l::LaunchOptions lo;
  TempDir dir;
  lo.argv = {"/bin/sh", "-c",
             "trap 'exit 130' TERM; sleep 60 & touch " + dir.str() + "/up$RANK; wait"};
  lo.nproc = 2;
  std::thread poke([&dir] {  // once both workers are up (and so the launcher's handlers)
    while (!std::filesystem::exists(dir / "up0") || !std::filesystem::exists(dir / "up1"))
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ::kill(::getpid(), SIGTERM);
  });
  const int rc = d2l::launch_workers(lo);
  poke.join();
  EXPECT_EQ(rc, 130);
}

TEST(Launcher, RankZeroAloneGetsTheLaunchersTerminalForItsProgressBar) {
  EXPECT_TRUE(d2l::launcher_gives_progress(0, true));
  EXPECT_FALSE(d2l::launcher_gives_progress(1, true));
  EXPECT_FALSE(d2l::launcher_gives_progress(0, false));
  TempDir dir;
  d2l::LaunchOptions lo;
  // Each worker records the descriptor it was given and whether it is a terminal.
  lo.argv = {"/bin/sh", "-c",
             "fd=${D2L_PROGRESS_FD:-none}; t=no; if [ $fd != none ] && [ -t $fd ]; then t=yes; "
             "fi; echo $fd $t > " +
                 dir.str() + "/fd$RANK"};
  lo.nproc = 2;
  auto seen = [&](int rank) {
    std::ifstream in(dir / ("fd" + std::to_string(rank)));
    std::string fd, tty;
    in >> fd >> tty;
    return std::make_pair(fd, tty);
  };
  // Our stderr is not a terminal here (ctest's pipe, or a file): no worker gets one.
  const int saved = ::dup(2);
  ASSERT_GE(saved, 0);
  {
    const std::string log = dir / "stderr";
    const int f = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(f, 0);
    ::dup2(f, 2);
    ::close(f);
  }
  const int rc_pipe = d2l::launch_workers(lo);
  // Now on a pseudo-terminal: rank 0 alone gets it.
  int master = -1, slave = -1;
  ASSERT_EQ(::openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  const char* term = std::getenv("TERM");
  const std::string old_term = term ? term : "";
  ::setenv("TERM", "xterm", 1);  // is_terminal refuses TERM=dumb (as CI may set)
  ::dup2(slave, 2);
  const int rc_tty = d2l::launch_workers(lo);
  ::dup2(saved, 2);
  ::close(saved);
  if (term)
    ::setenv("TERM", old_term.c_str(), 1);
  else
    ::unsetenv("TERM");
  ::close(slave);
  ::close(master);
  EXPECT_EQ(rc_pipe, 0);
  EXPECT_EQ(rc_tty, 0);
  EXPECT_EQ(seen(1), std::make_pair(std::string("none"), std::string("no")));
  const auto [fd0, tty0] = seen(0);
  EXPECT_NE(fd0, "none");
  EXPECT_EQ(tty0, "yes") << "rank 0's descriptor " << fd0;
}

TEST(Launcher, ProgressStreamIsTheDescriptorGivenElseStderr) {
  EXPECT_EQ(d2l::progress_stream({{"PATH", "/bin"}}), stderr);
  EXPECT_EQ(d2l::progress_stream({{"D2L_PROGRESS_FD", "x"}}), stderr);
  EXPECT_EQ(d2l::progress_stream({{"D2L_PROGRESS_FD", "2"}}), stderr);      // not below 3
  EXPECT_EQ(d2l::progress_stream({{"D2L_PROGRESS_FD", "65000"}}), stderr);  // not open
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::FILE* f = d2l::progress_stream({{"D2L_PROGRESS_FD", std::to_string(fds[1])}});
  ASSERT_NE(f, stderr);
  std::fputs("bar", f);
  std::fflush(f);
  char buf[8] = {};
  EXPECT_EQ(::read(fds[0], buf, sizeof buf), 3);
  EXPECT_STREQ(buf, "bar");
  ::close(fds[0]);  // fds[1] now belongs to the stream, kept for the process's life
}

TEST(SplitBatch, SplitsEvenlyFirstPartsLarger) {
  auto X = torch::arange(0, 14, torch::kFloat).reshape({7, 2});
  auto y = torch::arange(0, 7, torch::kLong);
  auto [xs, ys] = d2l::split_batch(X, y, {torch::kCPU, torch::kCPU, torch::kCPU});
  ASSERT_EQ(xs.size(), 3u);
  EXPECT_EQ(xs[0].size(0), 3);
  EXPECT_EQ(xs[1].size(0), 2);
  EXPECT_EQ(xs[2].size(0), 2);
  EXPECT_TRUE(torch::equal(torch::cat(xs), X));
  EXPECT_TRUE(torch::equal(torch::cat(ys), y));
  EXPECT_THROW(d2l::split_batch(X, y.narrow(0, 0, 6), {torch::kCPU}), d2l::Error);
  EXPECT_THROW(d2l::split_batch(X.narrow(0, 0, 1), y.narrow(0, 0, 1), {torch::kCPU, torch::kCPU}),
               d2l::Error);
}

TEST(TrainCh13, PrintsTheBookLinesOnCpu) {
  Problem p = make_problem(0, 1, false);
  torch::optim::SGD sgd(p.net->parameters(), torch::optim::SGDOptions(0.01));
  auto loss = [](const at::Tensor& y_hat, const at::Tensor& y) {
    return torch::nn::functional::cross_entropy(
        y_hat, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  };
  testing::internal::CaptureStdout();
  const d2l::History h = d2l::train_ch13(p.net, p.train, p.test, loss, sgd, 2, {torch::kCPU});
  const std::string out = testing::internal::GetCapturedStdout();
  ASSERT_EQ(h.per_epoch.size(), 2u);
  char line[96];
  std::snprintf(line, sizeof line, "loss %.3f, train acc %.3f, test acc %.3f\n", h.loss(),
                h.train_acc(), h.test_acc());
  EXPECT_NE(out.find(line), std::string::npos) << out;
  EXPECT_NE(out.find(" examples/sec on [cpu]\n"), std::string::npos) << out;
  EXPECT_EQ(d2l::test::count_lines(out), 2) << out;
  EXPECT_EQ(h.examples_seen, 2 * kExamples);
  EXPECT_GT(h.train_acc(), 0.0);
  EXPECT_THROW(d2l::train_ch13(p.net, p.train, p.test, loss, sgd, 1, {torch::kCPU, torch::kCPU}),
               d2l::Error);
}

// ------------------------------------------------------------------------------------------
// `d2l train` as users launch it: real programs, real files.

namespace {

std::string cli_env(const TempDir& home) {
  return "env HOME=" + home.str() + " XDG_CACHE_HOME= D2L_DATA_DIR= D2L_OFFLINE=1 ";
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    return 29511;
  const int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

void expect_same_metrics(const nlohmann::json& a, const nlohmann::json& b,
                         const std::string& what) {
  ASSERT_EQ(a["history"].size(), b["history"].size()) << what;
  for (std::size_t i = 0; i < a["history"].size(); ++i) {
    const auto &x = a["history"][i], &y = b["history"][i];
    EXPECT_NEAR(x["loss"].get<double>(), y["loss"].get<double>(), 1e-6) << what;
    EXPECT_DOUBLE_EQ(x["train_acc"].get<double>(), y["train_acc"].get<double>()) << what;
    EXPECT_NEAR(x["test_acc"].get<double>(), y["test_acc"].get<double>(), 1e-9) << what;
  }
  EXPECT_EQ(a["examples_seen"], b["examples_seen"]) << what;
}

}  // namespace

TEST(TrainCli, NprocAndTorchrunVariablesMatchOneProcess) {
  TempDir home;
  d2l::test::write_fake_mnist(home.str(), 300, 100);
  const std::string base = cli_env(home) + d2l::test::bin("d2l") +
                           " train mlp --threads 1 --epochs 2 --max-steps 14 --batch-size 32 -q "
                           "--no-chart --data-dir " +
                           home.str() + " ";
  auto r = d2l::test::run(base + "--out " + home / "one");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto one = read_json(home / "one/metrics.json");
  EXPECT_FALSE(one.contains("distributed"));
  r = d2l::test::run(base + "--nproc 2 --out " + home / "two");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("wrote " + home / "two"), std::string::npos) << r.output;
  const auto two = read_json(home / "two/metrics.json");
  expect_same_metrics(two, one, "--nproc 2");
  // Rank 0's timings: 14 steps, the allreduce a part of each.
  ASSERT_TRUE(two.contains("distributed")) << two.dump();
  EXPECT_EQ(two["distributed"]["world_size"], 2);
  EXPECT_EQ(two["distributed"]["backend"], "gloo");
  EXPECT_EQ(two["distributed"]["steps"], 14);
  const double share = two["distributed"]["allreduce_share"].get<double>();
  EXPECT_GT(share, 0.0);
  EXPECT_LT(share, 1.0);
  char line[64];
  std::snprintf(line, sizeof line, "allreduce: %.1f%% of a step on rank 0 (2 processes, gloo",
                100 * share);
  EXPECT_NE(r.output.find(line), std::string::npos) << r.output;
  // --nproc 1: a group of one (the path a single GPU takes with NCCL), the same run.
  r = d2l::test::run(base + "--nproc 1 --out " + home / "single");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto single = read_json(home / "single/metrics.json");
  expect_same_metrics(single, one, "--nproc 1");
  ASSERT_TRUE(single.contains("distributed")) << single.dump();
  EXPECT_EQ(single["distributed"]["world_size"], 1);
  EXPECT_NE(r.output.find("(1 process, gloo:"), std::string::npos) << r.output;
  // As torchrun starts them: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT; rank 0 hosts the store.
  // Each is given its own --out: only rank 0's folder may appear.
  const std::string vars = "RANK=%d WORLD_SIZE=2 LOCAL_RANK=%d MASTER_ADDR=127.0.0.1 MASTER_PORT=" +
                           std::to_string(free_port()) + " ";
  auto rank = [&](int k) {
    std::string v = vars;
    for (int i = 0; i < 2; ++i) v.replace(v.find("%d"), 2, std::to_string(k));
    return "env " + v + base + "--dist-timeout 30 --out " + home / ("r" + std::to_string(k));
  };
  r = d2l::test::run("sh -c '" + rank(1) + " & " + rank(0) + "; s=$?; wait $! || s=1; exit $s'");
  ASSERT_EQ(r.code, 0) << r.output;
  expect_same_metrics(read_json(home / "r0/metrics.json"), one, "torchrun variables");
  EXPECT_FALSE(std::filesystem::exists(home / "r1")) << "rank 1 wrote a run folder";
}

TEST(TrainCli, NprocBadInputAndAKilledWorker) {
  TempDir home;
  d2l::test::write_fake_mnist(home.str(), 300, 100);
  const std::string d2l = cli_env(home) + d2l::test::bin("d2l") + " train mlp --data-dir " +
                          home.str() + " -q --no-chart --threads 1 ";
  for (const std::string& args : {std::string("--nproc 0"), std::string("--nproc 2 --batch-size 1"),
                                  std::string("--nproc 2 --dist-timeout 0")}) {
    auto r = d2l::test::run(d2l + args + " --out " + home / "bad");
    EXPECT_EQ(r.code, 2) << args << ": " << r.output;
    EXPECT_EQ(d2l::test::count_lines(r.output), 1) << args << ": " << r.output;
  }
  auto r = d2l::test::run("env RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=1 " + d2l +
                          "--nproc 2 --out " + home / "bad");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("--nproc"), std::string::npos) << r.output;
  // A worker killed with SIGKILL while the run goes on: the launcher stops the other, exits 1
  // with one line naming the rank, and leaves no process behind.
  const std::string script =
      d2l + "--nproc 2 --epochs 100000 --out " + home / "k" + " 2> " + home / "err" +
      " & L=$!; "
      "while [ $(pgrep -P $L | wc -l) -lt 2 ]; do sleep 0.1; done; sleep 1; "
      "kids=$(pgrep -P $L); "
      "for c in $kids; do if tr \"\\0\" \"\\n\" < /proc/$c/environ | grep -qx RANK=1; then "
      "kill -9 $c; fi; done; "
      "wait $L; echo rc=$?; for c in $kids; do kill -0 $c 2>/dev/null && echo alive $c; done; "
      "true";
  r = d2l::test::run("timeout 120 sh -c '" + script + "'");
  EXPECT_NE(r.output.find("rc=1"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("alive"), std::string::npos) << r.output;
  std::ifstream in(home / "err");
  const std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(d2l::test::count_lines(err), 1) << err;
  EXPECT_NE(err.find("rank 1 of 2 failed (killed by signal 9"), std::string::npos) << err;
}

TEST(TrainCli, AStoppedWorkerMakesTheOtherGiveUpWithinTheTimeout) {
  TempDir home;
  d2l::test::write_fake_mnist(home.str(), 300, 100);
  const std::string d2l = cli_env(home) + d2l::test::bin("d2l") + " train mlp --data-dir " +
                          home.str() + " -q --no-chart --threads 1 ";
  // Rank 1 is stopped with SIGSTOP (alive, not dead: its sockets stay open) while the run goes
  // on. Rank 0 gives up at its next collective after --dist-timeout 3; the launcher names the
  // hung rank in one line, exits 1 and leaves no process, the stopped one included.
  const std::string script =
      d2l + "--nproc 2 --epochs 100000 --dist-timeout 3 --out " + home / "s" + " 2> " +
      home / "err" +
      " & L=$!; "
      "while [ $(pgrep -P $L | wc -l) -lt 2 ]; do sleep 0.1; done; sleep 1; "
      "kids=$(pgrep -P $L); "
      "for c in $kids; do if tr \"\\0\" \"\\n\" < /proc/$c/environ | grep -qx RANK=1; then "
      "kill -STOP $c; fi; done; t0=$(date +%s); "
      "wait $L; echo rc=$?; echo took=$(($(date +%s) - t0)); "
      "for c in $kids; do kill -0 $c 2>/dev/null && echo alive $c && kill -9 $c; done; "
      "true";
  auto r = d2l::test::run("timeout 120 sh -c '" + script + "'");
  EXPECT_NE(r.output.find("rc=1"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("alive"), std::string::npos) << r.output;
  // 3 s of timeout, the others stopped at once: well under the 60 s default, whatever the load.
  const auto took = r.output.find("took=");
  ASSERT_NE(took, std::string::npos) << r.output;
  EXPECT_LT(std::stoi(r.output.substr(took + 5)), 30) << r.output;
  std::ifstream in(home / "err");
  const std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(d2l::test::count_lines(err), 1) << err;
  EXPECT_NE(err.find("rank 1 of 2 hung (its process was stopped"), std::string::npos) << err;
  EXPECT_NE(err.find("rank 0 gave up waiting for it (exit 1)"), std::string::npos) << err;
}

TEST(TrainCli, RankZeroDrawsTheProgressBarOnTheLaunchersTerminal) {
  TempDir home;
  d2l::test::write_fake_mnist(home.str(), 300, 100);
  const std::string cmd = cli_env(home) + "TERM=xterm " + d2l::test::bin("d2l") +
                          " train mlp --threads 1 --epochs 1 --max-steps 4 --batch-size 32 "
                          "--no-chart --nproc 2 --data-dir " +
                          home.str() + " --out " + home / "p";
  // The launcher on a pseudo-terminal, as in a user's shell.
  int master = -1;
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string out;
  char buf[4096];
  for (;;) {  // until the terminal closes (EIO once every writer is gone)
    const ssize_t n = ::read(master, buf, sizeof buf);
    if (n > 0)
      out.append(buf, static_cast<std::size_t>(n));
    else if (n < 0 && errno == EINTR)
      continue;
    else
      break;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(master);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  // The bar, drawn in place: its label, its frame and its first count (later ones are drawn at
  // most ten times a second).
  EXPECT_NE(out.find("\r\033[2Kepoch 1/1 ["), std::string::npos) << out;
  EXPECT_NE(out.find("] 1/10 "), std::string::npos) << out;
  EXPECT_NE(out.find("wrote " + home / "p"), std::string::npos) << out;
}

TEST(TrainCli, ACheckpointOfTwoProcessesResumesWithOneAndWithThree) {
  TempDir home;
  d2l::test::write_fake_mnist(home.str(), 300, 100);
  const std::string base = cli_env(home) + d2l::test::bin("d2l") +
                           " train mlp --threads 1 --batch-size 32 -q --no-chart --data-dir " +
                           home.str() + " ";
  auto r = d2l::test::run(base + "--epochs 2 --out " + home / "whole");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto whole = read_json(home / "whole/metrics.json");
  r = d2l::test::run(base + "--epochs 1 --nproc 2 --out " + home / "a");
  ASSERT_EQ(r.code, 0) << r.output;
  std::filesystem::copy(home / "a", home / "b");
  r = d2l::test::run(base + "--epochs 2 --resume " + home / "a");
  ASSERT_EQ(r.code, 0) << r.output;
  expect_same_metrics(read_json(home / "a/metrics.json"), whole, "2 then 1 process");
  r = d2l::test::run(base + "--epochs 2 --nproc 3 --resume " + home / "b");
  ASSERT_EQ(r.code, 0) << r.output;
  expect_same_metrics(read_json(home / "b/metrics.json"), whole, "2 then 3 processes");
}

TEST(TrainCli, TwoNodesOfOneProcessEachMatchOneProcess) {
  TempDir home;
  d2l::test::write_fake_mnist(home.str(), 300, 100);
  const std::string base = cli_env(home) + d2l::test::bin("d2l") +
                           " train mlp --threads 1 --epochs 1 --max-steps 6 --batch-size 32 -q "
                           "--no-chart --data-dir " +
                           home.str() + " ";
  auto r = d2l::test::run(base + "--out " + home / "one");
  ASSERT_EQ(r.code, 0) << r.output;
  // Two launchers as on two machines, here both on loopback; node 0 hosts the store.
  const std::string nodes = "--nproc 1 --nnodes 2 --master-addr 127.0.0.1 --master-port " +
                            std::to_string(free_port()) + " --dist-timeout 30 ";
  r = d2l::test::run("sh -c '" + base + nodes + "--node-rank 1 --out " + home / "n1" + " & " +
                     base + nodes + "--node-rank 0 --out " + home / "n0" +
                     "; s=$?; wait $! || s=1; exit $s'");
  ASSERT_EQ(r.code, 0) << r.output;
  expect_same_metrics(read_json(home / "n0/metrics.json"), read_json(home / "one/metrics.json"),
                      "--nnodes 2");
  EXPECT_FALSE(std::filesystem::exists(home / "n1")) << "node 1's rank wrote a run folder";
  r = d2l::test::run(base + "--nproc 1 --nnodes 2 --node-rank 2 --master-port 5 --out " +
                     home / "bad");
  EXPECT_EQ(r.code, 2) << r.output;
  r = d2l::test::run(base + "--nproc 1 --node-rank 1 --out " + home / "bad");
  EXPECT_EQ(r.code, 2) << r.output;
}
