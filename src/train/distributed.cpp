#include "d2l/train/distributed.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <torch/version.h>
#include <unistd.h>

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

// NCCL where the LibTorch was built with it (its CMake config defines USE_C10D_NCCL: the CUDA
// LibTorch, not Debian's) and NCCL's header is there to compile ProcessGroupNCCL.hpp.
#if defined(USE_C10D_NCCL) && __has_include(<nccl.h>)
#define D2L_HAS_NCCL 1
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#ifdef D2L_HAS_CUDA  // data_parallel.h includes CUDA's headers: a CPU-only LibTorch lacks them
#include <torch/nn/parallel/data_parallel.h>
#endif

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "d2l/core/error.h"
#include "d2l/core/procfs.h"
#include "d2l/core/progress.h"
#include "d2l/core/timer.h"
#include "d2l/train/evaluate.h"

extern char** environ;

namespace d2l {
namespace {

constexpr const char* kProgressFdVar = "D2L_PROGRESS_FD";

std::string get_env(const std::map<std::string, std::string>& env, const std::string& name) {
  if (!env.empty()) {
    auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
  }
  const char* v = std::getenv(name.c_str());
  return v ? std::string(v) : std::string();
}

std::int64_t env_int(const std::map<std::string, std::string>& env, const std::string& name,
                     std::int64_t lo, std::int64_t hi) {
  const std::string v = get_env(env, name);
  char* end = nullptr;
  errno = 0;
  const long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || x < lo || x > hi)
    throw bad_input(name + " must be a whole number in " + std::to_string(lo) + ".." +
                    std::to_string(hi) + ", got '" + v + "'");
  return x;
}

bool truthy(const std::string& v) { return v == "1" || v == "True" || v == "true" || v == "yes"; }

std::chrono::milliseconds to_ms(double s) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::max(0.001, s) * 1000));
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

}  // namespace

std::optional<DistributedOptions> distributed_from_env(
    const std::map<std::string, std::string>& env) {
  struct Names {
    const char *rank, *size, *local;
  };
  const Names launchers[] = {
      {"RANK", "WORLD_SIZE", "LOCAL_RANK"},
      {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"},
      {"SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"}};
  for (const auto& n : launchers) {
    if (get_env(env, n.size).empty() && get_env(env, n.rank).empty()) continue;
    DistributedOptions o;
    o.world_size = env_int(env, n.size, 1, 1 << 20);
    o.rank = env_int(env, n.rank, 0, o.world_size - 1);
    o.local_rank = get_env(env, n.local).empty() ? 0 : env_int(env, n.local, 0, 1 << 20);
    const std::string addr = get_env(env, "MASTER_ADDR");
    if (addr.empty() && o.world_size > 1)
      throw bad_input(std::string(n.rank) +
                      " is set but MASTER_ADDR is not: set MASTER_ADDR and MASTER_PORT to the "
                      "host and port of rank 0's store");
    if (!addr.empty()) o.master_addr = addr;
    if (!get_env(env, "MASTER_PORT").empty())
      o.master_port = static_cast<int>(env_int(env, "MASTER_PORT", 1, 65535));
    else if (o.world_size > 1)
      throw bad_input("MASTER_PORT is not set: set it to the port of rank 0's store");
    o.agent_store = truthy(get_env(env, "TORCHELASTIC_USE_AGENT_STORE"));
    return o;
  }
  return std::nullopt;
}

// LibTorch 2 made the process groups' implementations c10d::Backend; 1.13's derive from
// c10d::ProcessGroup. The calls used here (broadcast, allreduce, barrier, Work::wait) are in both.
#if TORCH_VERSION_MAJOR >= 2
using GroupBase = c10d::Backend;
#else
using GroupBase = c10d::ProcessGroup;
#endif

using Clock = std::chrono::steady_clock;

namespace {
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}
}  // namespace

struct Distributed::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<GroupBase> pg;
  std::string backend = "gloo";
  bool in_step = false;
  Clock::time_point step_start;
  DistributedSummary times;
};

Distributed::Distributed(const DistributedOptions& options, c10::Device device)
    : options_(options), impl_(std::make_unique<Impl>()) {
  if (options_.world_size < 1 || options_.rank < 0 || options_.rank >= options_.world_size)
    throw bad_input("distributed: rank " + std::to_string(options_.rank) +
                    " is outside a world of " + std::to_string(options_.world_size));
  const std::string where = options_.master_addr + ":" + std::to_string(options_.master_port);
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(options_.master_port);
    so.isServer = options_.rank == 0 && !options_.agent_store;
    so.numWorkers = static_cast<std::size_t>(options_.world_size);
    so.waitWorkers = false;
    so.timeout = to_ms(options_.timeout_s);
    impl_->store = c10::make_intrusive<c10d::TCPStore>(options_.master_addr, so);
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw Error("distributed: rank " + std::to_string(options_.rank) +
                " cannot reach the store at " + where + ": " + what.substr(0, what.find('\n')));
  }
  try {
#ifdef D2L_HAS_NCCL
    if (device.is_cuda()) {
      auto no = c10d::ProcessGroupNCCL::Options::create();
      no->timeout = to_ms(options_.timeout_s);
      impl_->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(
          impl_->store, static_cast<int>(options_.rank), static_cast<int>(options_.world_size), no);
      impl_->backend = "nccl";
      return;
    }
#else
    (void)device;
#endif
    auto go = c10d::ProcessGroupGloo::Options::create(to_ms(options_.timeout_s));
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    if (ifname && *ifname)
      go->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    else if (is_loopback(options_.master_addr))
      go->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else
      go->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    go->threads = 2;
    impl_->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(
        impl_->store, static_cast<int>(options_.rank), static_cast<int>(options_.world_size), go);
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw Error("distributed: rank " + std::to_string(options_.rank) + " of " +
                std::to_string(options_.world_size) + " could not join the group at " + where +
                ": " + what.substr(0, what.find('\n')));
  }
}

Distributed::~Distributed() = default;

std::string Distributed::backend() const { return impl_->backend; }

namespace {

std::string short_what(const std::exception& e) {
  std::string what = e.what();
  return what.substr(0, what.find('\n'));
}

}  // namespace

void Distributed::broadcast_parameters(torch::nn::Module& net) {
  torch::NoGradGuard ng;
  std::vector<at::Tensor> ts;
  for (auto& p : net.parameters()) ts.push_back(p.data());
  for (auto& b : net.buffers()) ts.push_back(b);
  try {
    for (auto& t : ts) {
      // Broadcast works on contiguous tensors; copy back into one that is not (channels-last).
      std::vector<at::Tensor> one{t.is_contiguous() ? t : t.contiguous()};
      impl_->pg->broadcast(one)->wait();
      if (!t.is_contiguous()) t.copy_(one[0]);
    }
  } catch (const std::exception& e) {
    throw Error("distributed: rank " + std::to_string(rank()) +
                ": broadcasting the parameters failed: " + short_what(e));
  }
}

void Distributed::begin_step() {
  impl_->in_step = true;
  impl_->step_start = Clock::now();
}

void Distributed::end_step() {
  if (!impl_->in_step) return;
  impl_->in_step = false;
  impl_->times.step_seconds += seconds_since(impl_->step_start);
  ++impl_->times.steps;
}

DistributedSummary Distributed::timings() const {
  DistributedSummary s = impl_->times;
  s.world_size = world_size();
  s.backend = impl_->backend;
  return s;
}

void Distributed::broadcast_buffers(torch::nn::Module& net) {
  auto bufs = net.buffers();
  if (bufs.empty() || world_size() == 1) return;
  torch::NoGradGuard ng;
  const auto start = Clock::now();
  try {
    for (auto& b : bufs) {
      std::vector<at::Tensor> one{b.is_contiguous() ? b : b.contiguous()};
      impl_->pg->broadcast(one)->wait();
      if (!b.is_contiguous()) b.copy_(one[0]);
    }
  } catch (const std::exception& e) {
    throw Error("distributed: rank " + std::to_string(rank()) +
                ": broadcasting the buffers failed: " + short_what(e));
  }
  if (impl_->in_step) impl_->times.broadcast_seconds += seconds_since(start);
}

at::Tensor Distributed::sync_gradients(const std::vector<at::Tensor>& params, double local_examples,
                                       const at::Tensor& stats) {
  torch::NoGradGuard ng;
  const auto start = Clock::now();
  // Buckets of consecutive gradients of one dtype and device, about bucket_bytes each.
  struct Bucket {
    std::vector<std::size_t> members;
    std::int64_t bytes = 0;
    at::Tensor flat;
  };
  std::vector<at::Tensor> grads;
  for (const auto& p : params) {
    if (!p.requires_grad()) continue;
    at::Tensor g = p.grad();
    if (!g.defined()) {
      // A rank without examples this step (or a parameter unused): it adds zeros.
      const_cast<at::Tensor&>(p).mutable_grad() = torch::zeros_like(p);
      g = p.grad();
    }
    grads.push_back(g);
  }
  std::vector<Bucket> buckets;
  for (std::size_t i = 0; i < grads.size(); ++i) {
    const auto& g = grads[i];
    const std::int64_t bytes = g.numel() * static_cast<std::int64_t>(g.element_size());
    if (buckets.empty() || buckets.back().bytes + bytes > options_.bucket_bytes ||
        grads[buckets.back().members.front()].scalar_type() != g.scalar_type() ||
        grads[buckets.back().members.front()].device() != g.device())
      buckets.emplace_back();
    buckets.back().members.push_back(i);
    buckets.back().bytes += bytes;
  }
  // The step's stats ride at the end of the last bucket when its gradients are float or double
  // (exact for the counts, 1e-7 relative for the loss in float): one collective a step for a
  // network under 25 MB, and a collective's latency is most of the cost on a busy CPU.
  const std::int64_t k = stats.numel();
  const bool ride =
      !buckets.empty() && (grads[buckets.back().members.front()].scalar_type() == torch::kFloat ||
                           grads[buckets.back().members.front()].scalar_type() == torch::kDouble);
  at::Tensor out = stats.clone();
  at::Tensor last_buffer;
  try {
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    std::vector<std::vector<at::Tensor>> args;
    args.reserve(buckets.size() + 1);
    for (std::size_t j = 0; j < buckets.size(); ++j) {
      auto& b = buckets[j];
      std::vector<at::Tensor> views;
      for (auto i : b.members) views.push_back(grads[i].reshape({-1}));
      const bool with_stats = ride && j + 1 == buckets.size();
      if (with_stats) views.push_back(torch::zeros({k}, views.front().options()));
      at::Tensor buffer = torch::cat(views);
      b.flat = with_stats ? buffer.narrow(0, 0, buffer.numel() - k) : buffer;
      b.flat.mul_(local_examples);
      if (with_stats) {
        buffer.narrow(0, buffer.numel() - k, k).copy_(stats);
        last_buffer = buffer;
      }
      args.push_back({buffer});
      works.push_back(impl_->pg->allreduce(args.back()));
    }
    if (!ride) {
      args.push_back({out});
      works.push_back(impl_->pg->allreduce(args.back()));
    }
    for (auto& w : works) w->wait();
  } catch (const std::exception& e) {
    throw Error("distributed: rank " + std::to_string(rank()) +
                ": averaging the gradients failed (did another rank stop?): " + short_what(e));
  }
  if (ride) out = last_buffer.narrow(0, last_buffer.numel() - k, k).to(torch::kCPU, torch::kDouble);
  const double total = out[2].item<double>();
  for (auto& b : buckets) {
    if (total > 0) b.flat.div_(total);
    std::int64_t offset = 0;
    for (auto i : b.members) {
      auto& g = grads[i];
      g.copy_(b.flat.narrow(0, offset, g.numel()).view(g.sizes()));
      offset += g.numel();
    }
  }
  if (impl_->in_step) impl_->times.allreduce_seconds += seconds_since(start);
  return out;
}

void Distributed::allreduce_sum(at::Tensor& t) {
  std::vector<at::Tensor> one{t};
  try {
    impl_->pg->allreduce(one)->wait();
  } catch (const std::exception& e) {
    throw Error("distributed: rank " + std::to_string(rank()) +
                ": allreduce failed (did another rank stop?): " + short_what(e));
  }
}

void Distributed::barrier() {
  try {
    impl_->pg->barrier()->wait();
  } catch (const std::exception& e) {
    throw Error("distributed: rank " + std::to_string(rank()) +
                ": barrier failed (did another rank stop?): " + short_what(e));
  }
}

// ---------------------------------------------------------------------------------------------
// The launcher

bool launcher_gives_progress(std::int64_t rank, bool launcher_on_terminal) {
  return rank == 0 && launcher_on_terminal;
}

std::FILE* progress_stream(const std::map<std::string, std::string>& env) {
  static std::FILE* given = nullptr;  // opened once per descriptor, kept for the process's life
  static long given_fd = -1;
  const std::string v = get_env(env, kProgressFdVar);
  if (v.empty()) return stderr;
  char* end = nullptr;
  const long fd = std::strtol(v.c_str(), &end, 10);
  if (*end != '\0' || fd < 3 || fd > 65535 || ::fcntl(static_cast<int>(fd), F_GETFD) == -1)
    return stderr;
  if (!given || given_fd != fd) {
    given = ::fdopen(static_cast<int>(fd), "w");
    given_fd = fd;
  }
  return given ? given : stderr;
}

namespace {

std::atomic<int> g_launcher_signal{0};

extern "C" void on_launcher_signal(int sig) { g_launcher_signal.store(sig); }

struct Worker {
  std::int64_t rank = 0;
  pid_t pid = -1;
  int err_fd = -1;
  std::string pending;    // bytes of stderr not yet forwarded (the held-back last line)
  std::string last_line;  // the last complete line it wrote
  std::optional<int> status;
};

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int s = WTERMSIG(status);
    return "killed by signal " + std::to_string(s) + " (" + strsignal(s) + ")";
  }
  return "stopped";
}

// Reads what is there; forwards complete lines except the last one (held back until exit).
void drain(Worker& w, bool forward) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(w.err_fd, buf, sizeof buf);
    if (n <= 0) break;
    w.pending.append(buf, static_cast<std::size_t>(n));
  }
  // Everything up to the last complete line but one goes out now.
  const auto last_nl = w.pending.rfind('\n');
  if (last_nl == std::string::npos) return;
  const auto prev_nl = last_nl == 0 ? std::string::npos : w.pending.rfind('\n', last_nl - 1);
  w.last_line = w.pending.substr(prev_nl == std::string::npos ? 0 : prev_nl + 1,
                                 last_nl - (prev_nl == std::string::npos ? 0 : prev_nl + 1));
  if (prev_nl != std::string::npos) {
    if (forward) std::fwrite(w.pending.data(), 1, prev_nl + 1, stderr);
    w.pending.erase(0, prev_nl + 1);
  }
}

pid_t start_worker(const LaunchOptions& o, std::int64_t rank, int port, int err_write,
                   std::int64_t threads_each, int progress_fd) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string kv = *e;
    const std::string name = kv.substr(0, kv.find('='));
    if (name == "RANK" || name == "LOCAL_RANK" || name == "WORLD_SIZE" ||
        name == "LOCAL_WORLD_SIZE" || name == "MASTER_ADDR" || name == "MASTER_PORT" ||
        name == "TORCHELASTIC_USE_AGENT_STORE" || name == "OMP_NUM_THREADS" ||
        name == "GROUP_RANK" || name == kProgressFdVar)
      continue;
    env.push_back(kv);
  }
  env.push_back("RANK=" + std::to_string(o.node_rank * o.nproc + rank));
  env.push_back("LOCAL_RANK=" + std::to_string(rank));
  env.push_back("WORLD_SIZE=" + std::to_string(o.nnodes * o.nproc));
  env.push_back("LOCAL_WORLD_SIZE=" + std::to_string(o.nproc));
  env.push_back("GROUP_RANK=" + std::to_string(o.node_rank));
  env.push_back("MASTER_ADDR=" + o.master_addr);
  env.push_back("MASTER_PORT=" + std::to_string(port));
  env.push_back("TORCHELASTIC_USE_AGENT_STORE=True");
  env.push_back("OMP_NUM_THREADS=" + std::to_string(threads_each));
  if (progress_fd >= 0)
    env.push_back(std::string(kProgressFdVar) + "=" + std::to_string(progress_fd));
  std::vector<char*> argv, envp;
  for (const auto& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0)
    throw Error("train --nproc: cannot start worker " + std::to_string(rank) +
                ": fork: " + std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);  // Ctrl-C on the terminal reaches the launcher alone; it forwards once
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    if (rank != 0) {
      const int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) ::dup2(devnull, 1);
    }
    ::dup2(err_write, 2);
    if (progress_fd >= 0) ::fcntl(progress_fd, F_SETFD, 0);  // this one worker keeps it
    ::execve(argv[0], argv.data(), envp.data());
    const std::string msg =
        "d2l: train: cannot run " + o.argv[0] + ": " + std::strerror(errno) + "\n";
    (void)!::write(2, msg.data(), msg.size());
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  return pid;
}

}  // namespace

int launch_workers(const LaunchOptions& o) {
  if (o.nproc < 1) throw bad_input("--nproc must be at least 1, got " + std::to_string(o.nproc));
  if (o.argv.empty()) throw Error("train --nproc: no worker command");
  if (o.nnodes < 1 || o.node_rank < 0 || o.node_rank >= o.nnodes)
    throw bad_input("--node-rank must be in 0.." + std::to_string(o.nnodes - 1) + ", got " +
                    std::to_string(o.node_rank));
  if (o.nnodes > 1 && (o.master_port < 1 || o.master_port > 65535))
    throw bad_input("--nnodes " + std::to_string(o.nnodes) +
                    " needs --master-port, the port of node 0's store (1..65535)");
  // Node 0's launcher hosts the store (as torchrun's agent does), on a port the system picks
  // when there is one machine.
  c10::intrusive_ptr<c10d::TCPStore> store;
  int port = o.master_port;
  if (o.node_rank == 0) {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(o.nnodes > 1 ? o.master_port : 0);
    so.isServer = true;
    so.numWorkers = static_cast<std::size_t>(o.nnodes * o.nproc);
    so.waitWorkers = false;
    so.timeout = to_ms(o.timeout_s);
    try {
      store = c10::make_intrusive<c10d::TCPStore>(o.master_addr, so);
    } catch (const std::exception& e) {
      throw Error("train --nproc: cannot start the store on port " + std::to_string(so.port) +
                  ": " + short_what(e));
    }
    port = store->getPort();
  }
  const auto cores = static_cast<std::int64_t>(std::max(1u, std::thread::hardware_concurrency()));
  const std::int64_t threads_each = std::max<std::int64_t>(1, cores / o.nproc);

  struct sigaction sa {
  }, old_int{}, old_term{};
  sa.sa_handler = on_launcher_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);
  g_launcher_signal.store(0);

  // The worker's stderr is a pipe (its last line names a failure's cause), so rank 0 gets a
  // copy of our terminal for its progress bar, when ours is one.
  int progress_fd = -1;
  if (launcher_gives_progress(o.node_rank * o.nproc, is_terminal(stderr)))
    progress_fd = ::fcntl(2, F_DUPFD_CLOEXEC, 3);

  std::vector<Worker> workers(static_cast<std::size_t>(o.nproc));
  for (std::int64_t r = 0; r < o.nproc; ++r) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
      throw Error("train --nproc: pipe: " + std::string(std::strerror(errno)));
    Worker& w = workers[static_cast<std::size_t>(r)];
    w.rank = r;
    const bool bar = launcher_gives_progress(o.node_rank * o.nproc + r, progress_fd >= 0);
    w.pid = start_worker(o, r, port, fds[1], threads_each, bar ? progress_fd : -1);
    ::close(fds[1]);
    w.err_fd = fds[0];
    ::fcntl(w.err_fd, F_SETFL, ::fcntl(w.err_fd, F_GETFL) | O_NONBLOCK);
  }
  if (progress_fd >= 0) ::close(progress_fd);

  std::optional<std::size_t> failed;  // the first worker that failed
  std::optional<std::size_t> hung;    // another one found stopped when it did
  bool interrupted = false;
  double kill_at = -1;  // when the survivors get SIGKILL
  Timer clock;
  auto alive = [&]() {
    std::size_t n = 0;
    for (const auto& w : workers) n += !w.status;
    return n;
  };
  while (alive() > 0) {
    std::vector<pollfd> pfds;
    for (auto& w : workers)
      if (w.err_fd >= 0) pfds.push_back({w.err_fd, POLLIN, 0});
    if (!pfds.empty())
      ::poll(pfds.data(), pfds.size(), 100);
    else
      ::usleep(100 * 1000);
    for (auto& w : workers)
      if (w.err_fd >= 0) drain(w, !failed);
    if (const int sig = g_launcher_signal.exchange(0)) {
      interrupted = true;
      for (auto& w : workers)
        if (!w.status) ::kill(-w.pid, sig);
    }
    for (std::size_t i = 0; i < workers.size(); ++i) {
      auto& w = workers[i];
      if (w.status) continue;
      int status = 0;
      if (::waitpid(w.pid, &status, WNOHANG) != w.pid) continue;
      w.status = status;
      drain(w, !failed);
      const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      const bool stopped = interrupted && WIFEXITED(status) && WEXITSTATUS(status) == 130;
      if (!failed && (ok || stopped)) {
        if (!w.pending.empty()) std::fwrite(w.pending.data(), 1, w.pending.size(), stderr);
        w.pending.clear();
      }
      if (!ok && !stopped && !failed) {
        failed = i;
        // A worker that hangs because it was stopped (SIGSTOP, a debugger) is the likely cause
        // of the others' timeout: found before it is continued to take the SIGTERM.
        for (std::size_t j = 0; j < workers.size(); ++j) {
          if (workers[j].status || hung) continue;
          const auto st = procfs::read_process_stat("/", workers[j].pid);
          if (st && (st->state == 'T' || st->state == 't')) hung = j;
        }
        for (auto& other : workers)
          if (!other.status) {
            ::kill(-other.pid, SIGTERM);
            ::kill(-other.pid, SIGCONT);
          }
        kill_at = clock.elapsed() + o.kill_grace_s;
      }
      ::close(w.err_fd);
      w.err_fd = -1;
    }
    if (kill_at >= 0 && clock.elapsed() > kill_at) {
      for (auto& w : workers)
        if (!w.status) ::kill(-w.pid, SIGKILL);
      kill_at = -1;
    }
  }
  std::fflush(stderr);
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  if (failed) {
    const Worker& w = workers[*failed];
    std::string why = w.last_line;
    if (why.rfind("d2l: ", 0) == 0) why = why.substr(5);
    if (why.rfind("error: ", 0) == 0) why = why.substr(7);
    const auto world = static_cast<long long>(o.nnodes * o.nproc);
    const auto rank_of = [&](const Worker& x) {
      return static_cast<long long>(o.node_rank * o.nproc + x.rank);
    };
    if (hung)
      std::fprintf(stderr,
                   "d2l: train: rank %lld of %lld hung (its process was stopped, e.g. by SIGSTOP "
                   "or a debugger): rank %lld gave up waiting for it (%s)%s%s; stopped the "
                   "others\n",
                   rank_of(workers[*hung]), world, rank_of(w), describe_status(*w.status).c_str(),
                   why.empty() ? "" : ": ", why.c_str());
    else
      std::fprintf(stderr, "d2l: train: rank %lld of %lld failed (%s)%s%s; stopped the others\n",
                   rank_of(w), world, describe_status(*w.status).c_str(), why.empty() ? "" : ": ",
                   why.c_str());
    std::fflush(stderr);
    const int st = *w.status;
    return WIFEXITED(st) && WEXITSTATUS(st) != 0 ? WEXITSTATUS(st) : 1;
  }
  return interrupted ? 130 : 0;
}

// ---------------------------------------------------------------------------------------------
// The book's single-process API

std::pair<std::vector<at::Tensor>, std::vector<at::Tensor>> split_batch(
    const at::Tensor& X, const at::Tensor& y, const std::vector<c10::Device>& devices) {
  if (devices.empty()) throw bad_input("split_batch: no devices");
  if (X.dim() == 0 || y.dim() == 0 || X.size(0) != y.size(0))
    throw bad_input("split_batch: X and y must have the same length in their first dimension");
  const auto n = X.size(0);
  const auto k = static_cast<std::int64_t>(devices.size());
  if (n < k)
    throw bad_input("split_batch: " + std::to_string(n) + " examples cannot be split over " +
                    std::to_string(k) + " devices");
  std::vector<at::Tensor> xs, ys;
  std::int64_t start = 0;
  for (std::int64_t i = 0; i < k; ++i) {
    const std::int64_t len = n / k + (i < n % k ? 1 : 0);
    xs.push_back(X.narrow(0, start, len).to(devices[static_cast<std::size_t>(i)]));
    ys.push_back(y.narrow(0, start, len).to(devices[static_cast<std::size_t>(i)]));
    start += len;
  }
  return {xs, ys};
}

History train_ch13(torch::nn::Sequential& net, const data::DataLoader& train_iter,
                   const data::DataLoader& test_iter,
                   const std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>& loss,
                   torch::optim::Optimizer& trainer, std::int64_t num_epochs,
                   const std::vector<c10::Device>& devices) {
  if (devices.empty()) throw bad_input("train_ch13: no devices");
  if (num_epochs < 1) throw bad_input("train_ch13: num_epochs must be at least 1");
  std::size_t cpus = 0;
  for (const auto& d : devices) cpus += d.is_cpu();
  if (devices.size() > 1 && cpus > 0)
    throw bad_input("train_ch13: several devices must all be GPUs (one cpu works alone)");
#ifndef D2L_HAS_CUDA
  if (cpus == 0) throw bad_input("train_ch13: this build of d2l has no CUDA; pass {torch::kCPU}");
#endif
  std::string names = "[";
  for (std::size_t i = 0; i < devices.size(); ++i) names += (i ? ", " : "") + devices[i].str();
  names += "]";
  const c10::Device main = devices.front();
  net->to(main);
  History h;
  h.device = names;
  h.epochs = num_epochs;
  h.batch_size = train_iter.options().batch_size;
  Timer timer;
  double total_seconds = 0, total_examples = 0;
  for (std::int64_t epoch = 0; epoch < num_epochs; ++epoch) {
    net->train();
    double l_sum = 0, correct = 0, n = 0;
    timer.start();
    for (auto it = train_iter.epoch_begin(epoch); it != train_iter.end(); ++it) {
      const auto& batch = *it;
      auto X = batch.X.to(main);
      auto y = batch.y.to(main);
      trainer.zero_grad();
#ifdef D2L_HAS_CUDA
      at::Tensor y_hat = torch::nn::parallel::data_parallel(net, X, devices, main);
#else
      // What data_parallel does with one device (its only case without CUDA).
      at::Tensor y_hat = net->forward(X);
#endif
      auto l = loss(y_hat, y);
      const double b = static_cast<double>(y.size(0));
      // As the book's train_batch_ch13: `l.sum().backward()` on per-example losses.
      (l.dim() == 0 ? l : l.sum()).backward();
      trainer.step();
      torch::NoGradGuard ng;
      l_sum += (l.dim() == 0 ? l.item<double>() * b : l.sum().item<double>());
      correct += accuracy(y_hat, y);
      n += b;
    }
    const double secs = timer.stop();
    total_seconds += secs;
    total_examples += n;
    const double test_acc = evaluate_accuracy(net, test_iter, main);
    h.per_epoch.push_back(
        {epoch + 1, l_sum / n, correct / n, test_acc, secs, secs > 0 ? n / secs : 0});
    h.points.push_back(
        {static_cast<double>(epoch + 1), l_sum / n, correct / n, test_acc, std::nullopt});
    h.examples_seen += static_cast<std::int64_t>(n);
  }
  std::printf("loss %.3f, train acc %.3f, test acc %.3f\n", h.loss(), h.train_acc(), h.test_acc());
  std::printf("%.1f examples/sec on %s\n", total_seconds > 0 ? total_examples / total_seconds : 0.0,
              names.c_str());
  std::fflush(stdout);
  return h;
}

}  // namespace d2l
