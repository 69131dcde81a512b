#pragma once
/// \file d2l/core/process.h
/// The one child-process runner, for every area: run a program and capture its output within a
/// time limit (doctor's LibTorch probe, autostop's warn and action commands), start a program
/// detached from us (the notebook's Jupyter server), and ask whether a process still lives.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace d2l {

/// How run_child() runs a program.
struct ChildOptions {
  double timeout_s = 60;  ///< the program (and its process group) is killed after this long
  std::string input;      ///< written to its stdin, which is then closed; "" = /dev/null
  bool capture = true;    ///< capture stdout and stderr; false: they go to ours
};

/// What became of a program run by run_child().
struct ChildResult {
  std::optional<int> exit_code;  ///< its exit status; nullopt when it did not exit by itself
  std::optional<int> signal;     ///< the signal that ended it, when one did
  bool timed_out = false;        ///< killed after ChildOptions::timeout_s
  std::string out, err;          ///< what it wrote (when captured)
  std::string error;             ///< why it could not run or finish; "" when it exited
  /// True when it ran and exited with status 0.
  bool ok() const { return exit_code && *exit_code == 0; }
  /// `exit 3`, `killed by signal 9`, `timed out after 2 s`, `cannot run X: ...`: for messages.
  std::string describe() const;
};

/// Runs `argv[0]` (searched in PATH when it has no '/') with the arguments, without a shell, in
/// its own process group. Never throws for the program's sake: a program that cannot be started
/// gives `error` ("cannot run X: No such file or directory") and no exit code; one that runs past
/// the time limit is killed with its whole process group (`timed_out`).
ChildResult run_child(const std::vector<std::string>& argv, const ChildOptions& options);

/// run_child() capturing the output, with stdin from /dev/null.
ChildResult run_child(const std::vector<std::string>& argv, double timeout_s);

/// Runs `/bin/sh -c command` through run_child().
ChildResult run_shell(const std::string& command, const ChildOptions& options);

/// How spawn_detached() starts a program.
struct DetachedOptions {
  /// The whole environment (`NAME=value` strings); nullopt = ours.
  std::optional<std::vector<std::string>> env;
  /// Where its stdout and stderr go (an open file descriptor, e.g. a log file, that stays ours to
  /// close); nullopt = /dev/null. Its stdin is /dev/null.
  std::optional<int> output_fd;
};

/// Starts `argv[0]` (a path) detached from us: in a new session, as a grandchild that init
/// adopts (a double fork), so that it outlives us and our terminal and we never have to reap it.
/// Returns its pid once it has started the program. Throws d2l::Error naming the program when it
/// cannot be started (fork fails, exec fails: the reason is also written to its output).
pid_t spawn_detached(const std::vector<std::string>& argv, const DetachedOptions& options = {});

/// True when `pid` is a live process (not a zombie); reaps it if it is our exited child.
bool process_alive(pid_t pid);

/// Waits up to `seconds` for `pid` to be gone (polling process_alive()); true when it is.
bool wait_gone(pid_t pid, double seconds);

}  // namespace d2l
