#include "d2l/ops/autostop.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

#include "d2l/cloud/self_stop.h"
#include "d2l/core/atomic_file.h"
#include "d2l/core/duration.h"
#include "d2l/core/error.h"
#include "d2l/core/paths.h"
#include "d2l/core/process.h"
#include "d2l/core/procfs.h"
#include "d2l/ops/budget.h"
#include "d2l/ops/jupyter.h"
#include "d2l/ops/pricing.h"

namespace d2l::ops {
namespace {

using nlohmann::json;

std::string iso(double t) {
  if (t <= 0) return "never";
  return format_utc_time(static_cast<std::time_t>(t));
}

bool wants(const AutostopOptions& o, const std::string& s) {
  return std::find(o.signals.begin(), o.signals.end(), s) != o.signals.end();
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void append_log(const std::string& path, const std::string& line) {
  const auto slash = path.find_last_of('/');
  if (slash != std::string::npos) ensure_dir(path.substr(0, slash));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) throw Error(path + ": cannot append to the log: " + std::strerror(errno));
  const std::string l = line + "\n";
  const ssize_t n = ::write(fd, l.data(), l.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(l.size())) throw Error(path + ": cannot append to the log");
}

std::vector<ActivitySignal> jupyter_signals(const AutostopOptions& o) {
  std::vector<ActivitySignal> out;
  const NotebookPaths paths = NotebookPaths::under(o.notebook_dir);
  const auto dirs = o.runtime_dirs.empty() ? runtime_dirs(paths) : o.runtime_dirs;
  for (const auto& s : list_servers(dirs)) {
    const ServerStatus st = query_server(s, http_options_for(s, paths));
    if (!st.reachable) {
      out.push_back({"jupyter",
                     "Jupyter server pid " + std::to_string(s.pid) + " does not answer (" +
                         st.error + "): counted as busy, to be safe",
                     true, 0, s.pid});
      continue;
    }
    for (const auto& k : st.kernels) {
      const bool busy = k.execution_state == "busy" || k.execution_state == "starting" ||
                        k.execution_state == "restarting";
      ActivitySignal a;
      a.kind = "kernel";
      a.pid = s.pid;
      a.busy_now = busy;
      a.last_active = k.last_activity_unix;
      a.detail = "kernel " + k.id.substr(0, 8) + " (" + k.name + ") is " + k.execution_state +
                 ", last activity " + iso(k.last_activity_unix) + ", " +
                 std::to_string(k.connections) + " connection(s)";
      out.push_back(a);
    }
    for (const auto& t : st.terminals) {
      ActivitySignal a;
      a.kind = "terminal";
      a.pid = s.pid;
      a.last_active = t.last_activity_unix;
      a.detail = "Jupyter terminal " + t.name + ", last activity " + iso(t.last_activity_unix);
      out.push_back(a);
    }
  }
  return out;
}

}  // namespace

const char* verdict_name(AutostopVerdict v) {
  switch (v) {
    case AutostopVerdict::busy:
      return "busy";
    case AutostopVerdict::active:
      return "active";
    case AutostopVerdict::warn:
      return "warn";
    case AutostopVerdict::act:
      return "act";
    case AutostopVerdict::acted:
      return "acted";
    case AutostopVerdict::dry_run_act:
      return "dry-run-act";
  }
  return "?";
}

std::vector<ActivitySignal> ssh_sessions() {
  std::map<int, procfs::ProcessInfo> procs;
  for (int p : procfs::list_pids("/"))
    if (auto st = procfs::read_process_stat("/", p)) procs[p] = std::move(*st);
  std::map<int, ActivitySignal> by_tty;
  for (const auto& [pid, st] : procs) {
    if (st.tty_nr == 0 || st.state == 'Z') continue;
    const unsigned maj = ::major(static_cast<dev_t>(st.tty_nr));
    if (maj < 136 || maj > 143) continue;  // Unix98 pseudo-terminals only
    bool under_sshd = false;
    int cur = st.ppid;
    for (int depth = 0; cur > 1 && depth < 64; ++depth) {
      const auto it = procs.find(cur);
      if (it == procs.end()) break;
      if (it->second.comm == "sshd" || it->second.comm == "sshd-session") {
        under_sshd = true;
        break;
      }
      cur = it->second.ppid;
    }
    if (!under_sshd || by_tty.count(st.tty_nr)) continue;
    const unsigned mnr = ::minor(static_cast<dev_t>(st.tty_nr)) + (maj - 136) * 256;
    const std::string dev = "/dev/pts/" + std::to_string(mnr);
    struct stat ts {};
    double input = 0;
    if (::stat(dev.c_str(), &ts) == 0)
      input = static_cast<double>(ts.st_atim.tv_sec) + ts.st_atim.tv_nsec * 1e-9;
    ActivitySignal a;
    a.kind = "ssh";
    a.pid = pid;
    a.last_active = input;
    a.detail = "SSH session on " + dev + " (" + st.comm + ", pid " + std::to_string(pid) +
               "), last input " + iso(input);
    by_tty[st.tty_nr] = a;
  }
  std::vector<ActivitySignal> out;
  for (auto& [tty, a] : by_tty) out.push_back(a);
  return out;
}

std::vector<ActivitySignal> training_processes() {
  std::vector<ActivitySignal> out;
  const int self = static_cast<int>(::getpid());
  for (int p : procfs::list_pids("/")) {
    if (p == self) continue;
    const auto argv = procfs::read_cmdline("/", p);
    if (procfs::classify_process(argv) != procfs::ProcessKind::training_run) continue;
    const auto st = procfs::read_process_stat("/", p);
    if (!st || st->state == 'Z' || st->state == 'X') continue;
    ActivitySignal a;
    a.kind = "train";
    a.pid = static_cast<pid_t>(p);
    a.busy_now = true;
    std::string cmd;
    for (const auto& x : argv) cmd += (cmd.empty() ? "" : " ") + x;
    if (cmd.size() > 80) cmd = cmd.substr(0, 77) + "...";
    a.detail = "training run pid " + std::to_string(p) + ": " + cmd;
    out.push_back(a);
  }
  return out;
}

std::vector<ActivitySignal> observe(const AutostopOptions& o) {
  std::vector<ActivitySignal> out;
  if (wants(o, "jupyter")) {
    auto j = jupyter_signals(o);
    out.insert(out.end(), j.begin(), j.end());
  }
  if (wants(o, "ssh")) {
    auto s = ssh_sessions();
    out.insert(out.end(), s.begin(), s.end());
  }
  if (wants(o, "train")) {
    auto t = training_processes();
    out.insert(out.end(), t.begin(), t.end());
  }
  if (wants(o, "gpu")) {
    std::string why;
    const auto util = gpu_utilisation(&why);
    for (std::size_t i = 0; i < util.size(); ++i) {
      ActivitySignal a;
      a.kind = "gpu";
      char buf[128];
      if (util[i] < 0) {
        std::snprintf(buf, sizeof buf, "GPU %zu utilisation unknown", i);
      } else {
        a.busy_now = util[i] >= o.gpu_busy_percent;
        std::snprintf(buf, sizeof buf, "GPU %zu at %.0f%% utilisation (busy from %.0f%%)", i,
                      util[i], o.gpu_busy_percent);
      }
      a.detail = buf;
      out.push_back(a);
    }
    if (util.empty()) out.push_back({"gpu", "GPU utilisation n/a: " + why, false, 0, 0});
  }
  if (wants(o, "cpu")) {
    if (const auto load = procfs::read_loadavg("/")) {
      const double l1 = load->one;
      const long ncpu = ::sysconf(_SC_NPROCESSORS_ONLN);
      const double limit =
          o.max_load ? *o.max_load : 0.5 * static_cast<double>(ncpu > 0 ? ncpu : 1);
      char buf[160];
      std::snprintf(buf, sizeof buf,
                    "CPU load %.2f over the last minute (%ld CPUs; busy above %.2f)", l1, ncpu,
                    limit);
      out.push_back({"cpu", buf, l1 > limit, 0, 0});
    }
  }
  return out;
}

std::string current_boot_id() { return procfs::read_boot_id("/").value_or(""); }

AutostopDecision decide(const std::vector<ActivitySignal>& signals, AutostopState& state,
                        double now, const std::string& boot_id, const AutostopOptions& o) {
  AutostopDecision d;
  d.now = now;
  d.signals = signals;
  if (state.boot_id != boot_id || state.last_active <= 0) {
    d.notes.push_back(
        state.boot_id.empty() || state.last_active <= 0
            ? "first check: counting idle time from now"
            : "the machine rebooted since the last check: counting idle time from now");
    state = AutostopState{};
    state.boot_id = boot_id;
    state.last_active = now;
  }
  for (const auto& s : signals) {
    if (s.busy_now) d.busy = true;
    if (s.last_active > state.last_active) state.last_active = std::min(s.last_active, now);
  }
  if (d.busy) state.last_active = now;
  d.last_active = state.last_active;
  d.idle_for = std::max(0.0, now - state.last_active);
  const double warn_at = std::max(0.0, o.idle_s - o.grace_s);
  if (d.busy) {
    d.verdict = AutostopVerdict::busy;
    std::string why;
    for (const auto& s : signals)
      if (s.busy_now) why += (why.empty() ? "" : "; ") + s.detail;
    d.summary = "busy: " + why;
  } else if (d.idle_for < warn_at) {
    d.verdict = AutostopVerdict::active;
    d.summary = "idle for " + format_duration(d.idle_for) + " (last activity " +
                iso(d.last_active) + "), under the " + format_duration(o.idle_s) + " limit";
  } else if (d.idle_for < o.idle_s) {
    d.verdict = AutostopVerdict::warn;
    d.warn_due = state.warned_at < state.last_active;
    d.summary = "idle for " + format_duration(d.idle_for) + ": '" + o.action + "' in " +
                format_duration(o.idle_s - d.idle_for) +
                (d.warn_due ? "" : " (users already warned)");
  } else if (state.acted_at >= state.last_active) {
    d.verdict = AutostopVerdict::acted;
    d.summary = "idle for " + format_duration(d.idle_for) + "; '" + o.action + "' already ran at " +
                iso(state.acted_at);
  } else {
    d.verdict = o.dry_run ? AutostopVerdict::dry_run_act : AutostopVerdict::act;
    d.act_due = true;
    d.warn_due = false;
    d.summary = "idle for " + format_duration(d.idle_for) + " (limit " + format_duration(o.idle_s) +
                "): " + (o.dry_run ? "would run '" : "running '") + o.action + "'";
  }
  if (d.verdict == AutostopVerdict::busy || d.verdict == AutostopVerdict::active)
    state.warned_at = 0;
  return d;
}

AutostopState load_state(const std::string& path) {
  AutostopState s;
  if (!path_exists(path)) return s;
  const std::string text = read_file(path);
  try {
    const json j = json::parse(text);
    s.boot_id = j.at("boot_id").get<std::string>();
    s.last_active = j.at("last_active").get<double>();
    s.warned_at = j.value("warned_at", 0.0);
    s.acted_at = j.value("acted_at", 0.0);
    s.last_check = j.value("last_check", 0.0);
    s.unlogged_s = j.value("unlogged_s", 0.0);
  } catch (const json::exception& e) {
    throw bad_input(path + ": corrupt autostop state: " + std::string(e.what()) +
                    " (fix or remove the file; it is left untouched)");
  }
  return s;
}

void save_state(const std::string& path, const AutostopState& s) {
  const auto slash = path.find_last_of('/');
  if (slash != std::string::npos) ensure_dir(path.substr(0, slash));
  json j = {{"boot_id", s.boot_id},
            {"last_active", s.last_active},
            {"last_active_utc", iso(s.last_active)},
            {"warned_at", s.warned_at},
            {"acted_at", s.acted_at},
            {"last_check", s.last_check},
            {"unlogged_s", s.unlogged_s}};
  write_file_atomic(path, j.dump(2) + "\n", 0600);
}

std::string check_cloud_stop() {
  const cloud::CloudStopResult r = cloud::cloud_stop_this_instance(true);
  return "cloud-stop: would stop " + r.instance_id + " in " + r.region + " with " +
         r.credentials_source + " (ec2:StopInstances allowed: AWS's dry run said so)";
}

std::string autostop_state_file(const AutostopOptions& o) {
  return o.state_file.empty() ? config_dir() + "/autostop.json" : o.state_file;
}
std::string autostop_log_file(const AutostopOptions& o) {
  return o.log_file.empty() ? config_dir() + "/autostop.log" : o.log_file;
}

AutostopDecision check_once(const AutostopOptions& o, bool record_state) {
  const std::string state_path = autostop_state_file(o);
  AutostopState state = load_state(state_path);  // throws on corrupt: never overwrite it
  if (!o.instance_type.empty()) Catalog::load_default().find(o.instance_type);  // bad type: now
  const auto signals = observe(o);
  const double now = now_s();
  const std::string boot = current_boot_id();
  const AutostopState before = state;
  AutostopDecision d = decide(signals, state, now, boot, o);
  if (!record_state) return d;
  if (!o.instance_type.empty()) {
    // up time since the last check of this boot, logged to the ledger in whole hours
    double carried = before.boot_id == boot ? before.unlogged_s : 0;
    if (before.boot_id == boot && before.last_check > 0 && now > before.last_check)
      carried += now - before.last_check;
    const bool last_chance = d.act_due && !o.dry_run;  // a shutdown may follow
    if (carried >= 3600 || (last_chance && carried > 0)) {
      const double hours = last_chance ? carried / 3600 : std::floor(carried / 3600);
      const InstanceOffer& offer = Catalog::load_default().find(o.instance_type);
      append_ledger(default_ledger_path(), {static_cast<std::int64_t>(now), offer.instance_type,
                                            hours, offer.price, "autostop"});
      carried -= hours * 3600;
      d.notes.push_back("logged " + format_duration(hours * 3600) + " of " + offer.instance_type +
                        " to " + default_ledger_path());
    }
    state.unlogged_s = carried;
  }
  state.last_check = now;
  const std::string log = autostop_log_file(o);
  std::string reasons;
  for (const auto& n : d.notes) reasons += " | " + n;
  for (const auto& s : d.signals)
    reasons += std::string(" | ") + (s.busy_now ? "BUSY " : "") + s.kind + ": " + s.detail;
  if (d.signals.empty())
    reasons += " | no signal: no Jupyter kernel or terminal, SSH session, training run";
  append_log(log, iso(now) + " [" + verdict_name(d.verdict) + "] " + d.summary + reasons);
  const std::string action_cmd = o.action == "shutdown" ? "shutdown -h now" : o.action;
  if (d.warn_due) {
    const std::string msg = "d2l autostop: this machine has been idle for " +
                            format_duration(d.idle_for) + "; it will run '" + o.action + "' in " +
                            format_duration(o.idle_s - d.idle_for) +
                            " unless something starts (see: d2l autostop status)\n";
    if (o.dry_run) {
      append_log(log, iso(now) + " dry-run: would warn users with '" + o.warn_command + "'");
    } else {
      ChildOptions run;
      run.input = msg;
      run.timeout_s = o.command_timeout_s;
      run.capture = false;
      const ChildResult rc = run_shell(o.warn_command, run);
      append_log(log,
                 iso(now) + " warned users with '" + o.warn_command + "' (" + rc.describe() + ")");
    }
    state.warned_at = now;
  }
  if (d.act_due) {
    if (o.dry_run) {
      append_log(log, iso(now) + " dry-run: would run '" + action_cmd + "'");
    } else if (o.action == kCloudStop) {
      state.acted_at = now;
      save_state(state_path, state);
      try {
        const cloud::CloudStopResult r = cloud::cloud_stop_this_instance(false);
        const std::string line = "stopped " + r.instance_id + " in " + r.region + " (" +
                                 (r.previous_state.empty() ? "?" : r.previous_state) + " -> " +
                                 (r.current_state.empty() ? "?" : r.current_state) + ") with " +
                                 r.credentials_source;
        d.notes.push_back(line);
        append_log(log, iso(now) + " cloud-stop: " + line);
      } catch (const Error& e) {
        // Not done: the next check tries again.
        state.acted_at = before.acted_at;
        save_state(state_path, state);
        append_log(log, iso(now) + " " + e.what());
        throw;
      }
    } else {
      state.acted_at = now;
      save_state(state_path, state);  // before a shutdown can cut us off
      ChildOptions run;
      run.timeout_s = o.command_timeout_s;
      run.capture = false;
      const ChildResult rc = run_shell(action_cmd, run);
      append_log(log, iso(now) + " ran '" + action_cmd + "' (" + rc.describe() + ")");
    }
  }
  save_state(state_path, state);
  return d;
}

}  // namespace d2l::ops
