#pragma once
/// \file d2l/ops/autostop.h
/// `d2l autostop`: decides whether this machine is idle from every signal (Jupyter kernels and
/// terminals, SSH sessions, training runs, GPU utilisation, CPU load), keeps one persisted
/// "last active" time (forgotten after a reboot), warns logged-in users ahead of time and then
/// runs an action (shut down, or any command). Every decision is logged with its reasons.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace d2l::ops {

/// The action that stops this EC2 instance through the EC2 API (d2l::cloud::
/// cloud_stop_this_instance(): IMDSv2, credentials in the standard order, StopInstances), for
/// instances whose shutdown behaviour is terminate.
inline constexpr const char* kCloudStop = "cloud-stop";

/// One observed signal: something that makes (or made) the machine count as in use.
struct ActivitySignal {
  std::string kind;        ///< kernel, terminal, jupyter, ssh, train, gpu, cpu
  std::string detail;      ///< plain words, e.g. `kernel 1a2b3c4d (python3) is busy`
  bool busy_now = false;   ///< in use right now
  double last_active = 0;  ///< Unix seconds of its last known activity (0: unknown)
  pid_t pid = 0;           ///< the process concerned, when there is one
};

/// Which signals to look at and how to act.
struct AutostopOptions {
  double idle_s = 2 * 3600;  ///< idle time before the action (the seed's 2 h)
  double grace_s = 5 * 60;   ///< warn this long before the action
  /// `shutdown`, `cloud-stop` (kCloudStop: stop this EC2 instance through the API), or a shell
  /// command.
  std::string action = "shutdown";
  std::string warn_command = "wall";  ///< gets the warning on stdin
  bool dry_run = false;               ///< decide and log, run nothing
  std::optional<double> max_load;     ///< 1-min load average above which the CPU counts as busy
                                      ///< (not set: half the CPUs)
  double gpu_busy_percent = 5;        ///< GPU utilisation at/above which a GPU counts as busy
  std::vector<std::string> signals{"jupyter", "ssh", "train", "gpu", "cpu"};  ///< which to use
  std::vector<std::string> runtime_dirs;  ///< where Jupyter servers' runtime files are
  std::string notebook_dir;        ///< our Jupyter folder (for its certificate); "" = default
  std::string state_file;          ///< "" = <config_dir()>/autostop.json
  std::string log_file;            ///< "" = <config_dir()>/autostop.log
  double command_timeout_s = 120;  ///< the warn and action commands are killed after this
  /// When set (e.g. `p3.2xlarge`), the machine's up time between checks is recorded in the usage
  /// ledger of `d2l cost` (default_ledger_path()), priced from the catalogue, in whole-hour
  /// entries (the remainder is carried in the state), source `autostop`.
  std::string instance_type;
};

/// The persisted state.
struct AutostopState {
  std::string boot_id;     ///< /proc/sys/kernel/random/boot_id when written
  double last_active = 0;  ///< Unix seconds
  double warned_at = 0;    ///< when the last warning went out (0: none)
  double acted_at = 0;     ///< when the action last ran (0: never)
  double last_check = 0;   ///< when the last check ran (for the usage ledger)
  double unlogged_s = 0;   ///< up time not yet written to the ledger, seconds
};

/// What a check decided.
enum class AutostopVerdict {
  busy,         ///< some signal is busy right now
  active,       ///< idle, but for less than the warning time
  warn,         ///< idle into the grace period: users are (or were) warned
  act,          ///< idle past the limit: the action runs now
  acted,        ///< idle past the limit, and the action already ran
  dry_run_act,  ///< as `act`, but with --dry-run: nothing runs
};

/// The verdict as logs and `--json` write it: busy, active, warn, act, acted, dry-run-act.
const char* verdict_name(AutostopVerdict verdict);

/// A decision with its reasons.
struct AutostopDecision {
  double now = 0;
  bool busy = false;       ///< some signal is busy right now
  double last_active = 0;  ///< after this observation
  double idle_for = 0;     ///< now - last_active, seconds
  AutostopVerdict verdict = AutostopVerdict::active;
  std::string summary;  ///< one line in plain words
  std::vector<ActivitySignal> signals;
  std::vector<std::string> notes;  ///< e.g. `first check since boot: counting from now`
  bool warn_due = false;           ///< a warning should go out now
  bool act_due = false;            ///< the action should run now
};

/// Collects every signal named in `opts.signals` at this moment. Never throws for one signal
/// that cannot be read: it becomes a signal with its reason (an unreachable Jupyter server counts
/// as busy, to be safe).
std::vector<ActivitySignal> observe(const AutostopOptions& opts);

/// The pure decision: updates `state` from `signals` at `now` (any busy signal resets last
/// active; later activity times move it forward; a new `boot_id` starts from `now`).
AutostopDecision decide(const std::vector<ActivitySignal>& signals, AutostopState& state,
                        double now, const std::string& boot_id, const AutostopOptions& opts);

/// Loads the state file (missing: empty state). A corrupt file throws d2l::bad_input naming it;
/// it is never overwritten.
AutostopState load_state(const std::string& path);
/// Writes the state atomically (0600).
void save_state(const std::string& path, const AutostopState& state);

/// This boot's id (/proc/sys/kernel/random/boot_id), "" when unreadable.
std::string current_boot_id();

/// One check: observe, decide, warn or act (unless dry-run), save the state, append the decision
/// with its reasons to the log. `record_state` false (for `status`) changes nothing on disk.
AutostopDecision check_once(const AutostopOptions& opts, bool record_state = true);

/// For `--action cloud-stop`: checks now that this machine can stop itself (this instance found
/// through IMDSv2, credentials, and StopInstances with DryRun=true, which AWS answers without
/// stopping anything). Returns one line saying what would be stopped with which credentials.
/// Throws d2l::Error (one line) when it could not: not on EC2, no credentials, the permission
/// missing.
std::string check_cloud_stop();

/// Paths with defaults filled in.
std::string autostop_state_file(const AutostopOptions& opts);
std::string autostop_log_file(const AutostopOptions& opts);

/// GPU utilisation in percent for each GPU through NVML (libnvidia-ml.so.1, loaded with dlopen);
/// empty when there is no NVML or no GPU. `why` gets the reason when empty.
std::vector<double> gpu_utilisation(std::string* why = nullptr);

/// Processes on a pseudo-terminal whose ancestors include sshd: one entry per terminal, with the
/// terminal's last input time (its access time, as `who -u` uses).
std::vector<ActivitySignal> ssh_sessions();

/// Live training runs: the processes d2l::procfs::classify_process() calls
/// ProcessKind::training_run (the rule monitor uses too), zombies left out.
std::vector<ActivitySignal> training_processes();

}  // namespace d2l::ops
