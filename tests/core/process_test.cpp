// Unit tests for d2l/core/process.h: real child processes (/bin/sh, sleep, a program that does
// not exist), captured output, input on stdin, time limits that kill a whole process group, the
// detached start and the liveness check.
#include "d2l/core/process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"
#include "d2l/core/timer.h"
#include "support/fixtures.h"

using d2l::ChildOptions;
using d2l::ChildResult;
using d2l::test::TempDir;
using d2l::test::wait_for;

namespace {

/// A log file in a temp folder, open for a detached program's output.
struct DetachedLog {
  TempDir dir;
  std::string path = dir / "log";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ~DetachedLog() {
    if (fd >= 0) ::close(fd);
  }
  d2l::DetachedOptions options() const {
    d2l::DetachedOptions o;
    o.output_fd = fd;
    return o;
  }
  std::string text() const { return d2l::read_file(path); }
};

}  // namespace

TEST(RunChild, CapturesOutputAndExitCode) {
  const ChildResult r = d2l::run_child({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, 10);
  ASSERT_TRUE(r.exit_code);
  EXPECT_EQ(*r.exit_code, 3);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_FALSE(r.timed_out);
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.describe(), "exit 3");
}

TEST(RunChild, SearchesPathAndSucceeds) {
  const ChildResult r = d2l::run_child({"echo", "a b", "c"}, 10);
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.out, "a b c\n") << "arguments pass without a shell";
}

TEST(RunChild, ProgramThatCannotRunHasAReasonAndNoExitCode) {
  const ChildResult r = d2l::run_child({"/nonexistent/program", "x"}, 10);
  EXPECT_FALSE(r.exit_code);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("cannot run /nonexistent/program"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("No such file"), std::string::npos) << r.error;
  EXPECT_EQ(d2l::run_child({}, 10).error, "no program to run");
}

TEST(RunChild, LargeOutputOnBothStreamsDoesNotDeadlock) {
  // 1 MiB on each stream: more than a pipe holds, so both must be drained together.
  const ChildResult r = d2l::run_child(
      {"/bin/sh", "-c", "head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2"}, 30);
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.out.size(), 1048576u);
  EXPECT_EQ(r.err.size(), 1048576u);
}

TEST(RunChild, FeedsInputOnStdin) {
  ChildOptions o;
  o.timeout_s = 30;
  o.input = std::string(300000, 'x') + "\nend\n";  // larger than a pipe buffer
  const ChildResult r = d2l::run_child({"/usr/bin/wc", "-c"}, o);
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(std::stoul(r.out), o.input.size());
}

TEST(RunChild, ChildClosingStdinEarlyIsNoCrash) {
  ChildOptions o;
  o.timeout_s = 30;
  o.input = std::string(1 << 20, 'y');  // `true` never reads it: our writes get EPIPE
  const ChildResult r = d2l::run_child({"/bin/true"}, o);
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST(RunChild, StdinIsDevNullWithoutInput) {
  const ChildResult r = d2l::run_child({"/bin/cat"}, 10);
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.out, "");
}

TEST(RunChild, TimeLimitKillsTheWholeGroup) {
  TempDir t;
  const std::string pid_file = t / "grandchild.pid";
  // The shell starts a grandchild and waits: both must die at the limit.
  const ChildResult r =
      d2l::run_child({"/bin/sh", "-c", "sleep 30 & echo $! > '" + pid_file + "'; wait"}, 0.5);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.exit_code);
  ASSERT_TRUE(r.signal);
  EXPECT_EQ(*r.signal, SIGKILL);
  EXPECT_NE(r.error.find("timed out after 0.5 s"), std::string::npos) << r.error;
  const pid_t grandchild = static_cast<pid_t>(std::stol(d2l::read_file(pid_file)));
  EXPECT_TRUE(wait_for([&] { return !d2l::process_alive(grandchild); }, 10))
      << "the sleep in the child's process group was killed too";
}

TEST(RunChild, SignalIsReported) {
  const ChildResult r = d2l::run_child({"/bin/sh", "-c", "kill -TERM $$"}, 10);
  EXPECT_FALSE(r.exit_code);
  ASSERT_TRUE(r.signal);
  EXPECT_EQ(*r.signal, SIGTERM);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.describe(), "killed by signal " + std::to_string(SIGTERM));
}

TEST(RunShell, RunsACommandLineWithInput) {
  ChildOptions o;
  o.input = "hello\n";
  o.timeout_s = 10;
  const ChildResult r = d2l::run_shell("tr a-z A-Z; exit 4", o);
  ASSERT_TRUE(r.exit_code);
  EXPECT_EQ(*r.exit_code, 4);
  EXPECT_EQ(r.out, "HELLO\n");
}

TEST(RunShell, UncapturedOutputGoesToOurs) {
  TempDir t;
  ChildOptions o;
  o.capture = false;
  o.timeout_s = 10;
  const ChildResult r = d2l::run_shell("echo done > '" + (t / "f") + "'", o);
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(d2l::read_file(t / "f"), "done\n");
}

TEST(SpawnDetached, StartsAProgramThatIsNotOurChild) {
  DetachedLog log;
  ASSERT_GE(log.fd, 0);
  d2l::DetachedOptions o = log.options();
  o.env = std::vector<std::string>{"D2L_TEST_VALUE=42", "PATH=/usr/bin:/bin"};
  const pid_t pid =
      d2l::spawn_detached({"/bin/sh", "-c", "echo value=$D2L_TEST_VALUE; exec sleep 30"}, o);
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(d2l::process_alive(pid));
  EXPECT_TRUE(wait_for([&] { return log.text() == "value=42\n"; }, 10))
      << "its output goes to the given file, with the given environment: " << log.text();
  // Not our child: waitpid cannot reap it; and it is in a new session (that of the first fork,
  // whose leader has exited, so it can never take a controlling terminal).
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_NE(::getsid(pid), ::getsid(0));
  EXPECT_NE(::getsid(pid), pid);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  EXPECT_TRUE(d2l::wait_gone(pid, 10)) << "init reaps it; process_alive sees it gone";
}

TEST(SpawnDetached, ProgramThatCannotRunThrowsNamingIt) {
  DetachedLog log;
  ASSERT_GE(log.fd, 0);
  try {
    d2l::spawn_detached({"/nonexistent/server", "--flag"}, log.options());
    ADD_FAILURE() << "no error";
  } catch (const d2l::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot run /nonexistent/server"), std::string::npos)
        << e.what();
  }
  EXPECT_NE(log.text().find("cannot run /nonexistent/server"), std::string::npos)
      << "the reason is in its log too";
  EXPECT_THROW(d2l::spawn_detached({}), d2l::Error);
}

TEST(ProcessAlive, ZombiesAndReapedChildrenAreGone) {
  EXPECT_TRUE(d2l::process_alive(::getpid()));
  EXPECT_FALSE(d2l::process_alive(0));
  EXPECT_FALSE(d2l::process_alive(-1));
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  // Until reaped, the exited child is a zombie: not alive; process_alive reaps it.
  EXPECT_TRUE(wait_for([&] { return !d2l::process_alive(child); }, 10));
  EXPECT_EQ(::waitpid(child, nullptr, WNOHANG), -1) << "already reaped";
}

TEST(ProcessStart, SecondsSinceStartIsPlausible) {
  // /proc's clocks tick in hundredths of a second: a fresh process may read 0, never less, and
  // the count grows with the time that passes.
  const double s = d2l::seconds_since_process_start();
  EXPECT_GE(s, 0.0);
  EXPECT_LT(s, 24 * 3600.0) << "this test binary started within the day";
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_GE(d2l::seconds_since_process_start(), s + 0.04);
}
