#include "d2l/core/process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>

#include "d2l/core/error.h"
#include "d2l/core/procfs.h"
#include "d2l/core/timer.h"

namespace d2l {
namespace {

using Clock = std::chrono::steady_clock;

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

/// A pipe whose ends close with it (both O_CLOEXEC).
struct Pipe {
  int r = -1, w = -1;
  bool open() {
    int f[2];
    if (::pipe2(f, O_CLOEXEC) != 0) return false;
    r = f[0];
    w = f[1];
    return true;
  }
  ~Pipe() {
    close_fd(r);
    close_fd(w);
  }
};

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

/// Writes all of `n` bytes (a message from a forked child to its parent).
void write_all(int fd, const void* p, std::size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t w = ::write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    c += w;
    n -= static_cast<std::size_t>(w);
  }
}

/// Reads until `n` bytes or end of file; returns the count read.
std::size_t read_full(int fd, void* p, std::size_t n) {
  char* c = static_cast<char*>(p);
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, c + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

/// Blocks SIGPIPE in this thread while it lives, so that writing to a child that closed its stdin
/// gives EPIPE instead of killing us; a SIGPIPE raised meanwhile is consumed, not delivered.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~SigpipeBlock() {
    sigset_t pending;
    sigemptyset(&pending);
    if (::sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) &&
        !sigismember(&old_, SIGPIPE)) {
      const timespec zero{0, 0};
      ::sigtimedwait(&set_, nullptr, &zero);
    }
    ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t set_, old_;
};

}  // namespace

std::string ChildResult::describe() const {
  if (!error.empty()) return error;
  if (exit_code) return "exit " + std::to_string(*exit_code);
  if (signal) return "killed by signal " + std::to_string(*signal);
  return "did not finish";
}

ChildResult run_child(const std::vector<std::string>& argv_in, const ChildOptions& o) {
  ChildResult r;
  if (argv_in.empty() || argv_in[0].empty()) {
    r.error = "no program to run";
    return r;
  }
  std::vector<std::string> argv = argv_in;
  const std::vector<char*> args = c_strings(argv);
  Pipe in, out, err, report;
  if (!report.open() || (!o.input.empty() && !in.open()) ||
      (o.capture && (!out.open() || !err.open()))) {
    r.error = std::string("cannot run ") + argv[0] + ": pipe: " + std::strerror(errno);
    return r;
  }
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t pid = ::fork();
  if (pid < 0) {
    r.error = std::string("cannot run ") + argv[0] + ": fork: " + std::strerror(errno);
    if (devnull >= 0) ::close(devnull);
    return r;
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    const int stdin_fd = in.r >= 0 ? in.r : devnull;
    if (stdin_fd >= 0) ::dup2(stdin_fd, STDIN_FILENO);
    if (o.capture) {
      ::dup2(out.w, STDOUT_FILENO);
      ::dup2(err.w, STDERR_FILENO);
    }
    ::execvp(args[0], args.data());
    const int e = errno;
    write_all(report.w, &e, sizeof e);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here, so that a kill of the group cannot come before the child's
  if (devnull >= 0) ::close(devnull);
  close_fd(report.w);
  close_fd(in.r);
  close_fd(out.w);
  close_fd(err.w);
  int exec_errno = 0;
  if (read_full(report.r, &exec_errno, sizeof exec_errno) == sizeof exec_errno) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    r.error = "cannot run " + argv[0] + ": " + std::strerror(exec_errno);
    return r;
  }

  SigpipeBlock no_sigpipe;
  if (in.w >= 0) ::fcntl(in.w, F_SETFL, ::fcntl(in.w, F_GETFL) | O_NONBLOCK);
  std::size_t written = 0;
  const auto deadline = Clock::now() + std::chrono::duration<double>(std::max(0.0, o.timeout_s));
  bool reaped = false;
  int status = 0;
  char buf[8192];
  for (;;) {
    pollfd fds[3];
    int* owners[3];
    nfds_t n = 0;
    if (in.w >= 0) {
      fds[n] = {in.w, POLLOUT, 0};
      owners[n++] = &in.w;
    }
    if (out.r >= 0) {
      fds[n] = {out.r, POLLIN, 0};
      owners[n++] = &out.r;
    }
    if (err.r >= 0) {
      fds[n] = {err.r, POLLIN, 0};
      owners[n++] = &err.r;
    }
    if (n == 0) {  // no pipe left: wait for the exit itself
      const pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid) {
        reaped = true;
        break;
      }
      if (w < 0 && errno != EINTR) break;  // not ours to wait for (SIGCHLD ignored?)
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      r.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      break;
    }
    if (n == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<long long>(left, 20)));
      continue;
    }
    const int k = ::poll(fds, n, static_cast<int>(std::min<long long>(left, 1000)));
    if (k < 0 && errno != EINTR) break;
    for (nfds_t i = 0; k > 0 && i < n; ++i) {
      if (!fds[i].revents) continue;
      int& fd = *owners[i];
      if (&fd == &in.w) {
        const ssize_t w = ::write(fd, o.input.data() + written, o.input.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == o.input.size())
          close_fd(fd);  // done, or the child closed its stdin (EPIPE)
        continue;
      }
      const ssize_t got = ::read(fd, buf, sizeof buf);
      if (got > 0)
        (&fd == &out.r ? r.out : r.err).append(buf, static_cast<std::size_t>(got));
      else if (got == 0 || (errno != EINTR && errno != EAGAIN))
        close_fd(fd);
    }
  }
  close_fd(in.w);
  close_fd(out.r);
  close_fd(err.r);
  if (!reaped) {
    pid_t w;
    while ((w = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
    }
    reaped = w == pid;
  }
  if (reaped && WIFEXITED(status) && !r.timed_out) r.exit_code = WEXITSTATUS(status);
  if (reaped && WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  if (r.timed_out)
    r.error = argv[0] + ": timed out after " + seconds_text(o.timeout_s) + " (killed)";
  else if (!reaped)
    r.error = argv[0] + ": its exit status is lost (SIGCHLD ignored?)";
  return r;
}

ChildResult run_child(const std::vector<std::string>& argv, double timeout_s) {
  ChildOptions o;
  o.timeout_s = timeout_s;
  return run_child(argv, o);
}

ChildResult run_shell(const std::string& command, const ChildOptions& options) {
  return run_child({"/bin/sh", "-c", command}, options);
}

pid_t spawn_detached(const std::vector<std::string>& argv_in, const DetachedOptions& o) {
  if (argv_in.empty() || argv_in[0].empty()) throw Error("start: no program to run");
  std::vector<std::string> argv = argv_in;
  std::vector<std::string> env = o.env.value_or(std::vector<std::string>{});
  const std::vector<char*> args = c_strings(argv);
  const std::vector<char*> envp = c_strings(env);
  Pipe report;  // messages {kind, value}: kind 1 = the grandchild's pid, 2 = its exec errno
  if (!report.open())
    throw Error("start: " + argv[0] + ": pipe: " + std::string(std::strerror(errno)));
  const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const pid_t child = ::fork();
  if (child < 0) {
    const int e = errno;
    if (devnull >= 0) ::close(devnull);
    throw Error("start: " + argv[0] + ": fork: " + std::string(std::strerror(e)));
  }
  if (child == 0) {
    ::setsid();
    const pid_t grand = ::fork();
    if (grand == 0) {
      const int output = o.output_fd.value_or(devnull);
      if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
      if (output >= 0) {
        ::dup2(output, STDOUT_FILENO);
        ::dup2(output, STDERR_FILENO);
      }
      if (o.env)
        ::execve(args[0], args.data(), envp.data());
      else
        ::execv(args[0], args.data());
      const std::int32_t msg[2] = {2, errno};
      const std::string text = std::string("cannot run ") + args[0] + ": " +
                               std::strerror(static_cast<int>(msg[1])) + "\n";
      write_all(STDERR_FILENO, text.data(), text.size());
      write_all(report.w, msg, sizeof msg);
      ::_exit(127);
    }
    const std::int32_t msg[2] = {1, static_cast<std::int32_t>(grand)};
    write_all(report.w, msg, sizeof msg);
    ::_exit(grand > 0 ? 0 : 1);
  }
  close_fd(report.w);
  if (devnull >= 0) ::close(devnull);
  pid_t pid = 0;
  int exec_errno = 0;
  std::int32_t msg[2];
  while (read_full(report.r, msg, sizeof msg) == sizeof msg) {  // until the exec closes it
    if (msg[0] == 1) pid = static_cast<pid_t>(msg[1]);
    if (msg[0] == 2) exec_errno = msg[1];
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (exec_errno != 0)
    throw Error("start: cannot run " + argv[0] + ": " + std::string(std::strerror(exec_errno)));
  if (pid <= 0) throw Error("start: could not start " + argv[0] + " (fork failed)");
  return pid;
}

bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) return false;  // our child, now reaped
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  if (auto p = procfs::read_process_stat("/", static_cast<int>(pid)))
    if (p->state == 'Z' || p->state == 'X') return false;
  return true;
}

bool wait_gone(pid_t pid, double seconds) {
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    if (!process_alive(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return !process_alive(pid);
}

double seconds_since_process_start() {
  const auto me = procfs::read_process_stat("/", static_cast<int>(::getpid()));
  const auto up = procfs::read_uptime("/");
  if (!me || !up) return 0;
  // Both clocks tick in hundredths of a second: a process in its first tick reads 0.
  return std::max(0.0, *up - static_cast<double>(me->start_ticks) /
                                 static_cast<double>(procfs::clock_ticks_per_second()));
}

}  // namespace d2l
