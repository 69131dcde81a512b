// `d2l autostop`: stop paying for an idle machine. `check` once (cron, systemd timer), `run` in a
// loop, `status` in plain words.
#include "d2l/ops/autostop.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../common/command.h"
#include "d2l/core/duration.h"
#include "d2l/core/error.h"
#include "flag_checks.h"

namespace {

using nlohmann::json;
using namespace d2l::ops;
using d2l::parse_duration;

struct Opts {
  std::string idle = "2h", grace = "5m", interval = "1m";
  std::string signals = "jupyter,ssh,train,gpu,cpu";
  AutostopOptions a;
  bool json = false;
};

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

AutostopOptions resolve(const Opts& o) {
  AutostopOptions a = o.a;
  a.idle_s = parse_duration(o.idle);
  a.grace_s = parse_duration(o.grace);
  if (a.grace_s >= a.idle_s) throw d2l::bad_input("--grace must be shorter than --idle");
  a.signals.clear();
  std::stringstream ss(o.signals);
  std::string s;
  while (std::getline(ss, s, ',')) {
    if (s != "jupyter" && s != "ssh" && s != "train" && s != "gpu" && s != "cpu")
      throw d2l::bad_input("--signals: unknown signal '" + s + "' (jupyter, ssh, train, gpu, cpu)");
    a.signals.push_back(s);
  }
  if (a.action.empty()) throw d2l::bad_input("--action: empty");
  return a;
}

json decision_json(const AutostopDecision& d) {
  json sig = json::array();
  for (const auto& s : d.signals)
    sig.push_back({{"kind", s.kind},
                   {"detail", s.detail},
                   {"busy_now", s.busy_now},
                   {"last_active", s.last_active},
                   {"pid", s.pid}});
  return {{"now", d.now},
          {"verdict", verdict_name(d.verdict)},
          {"busy", d.busy},
          {"idle_for_s", d.idle_for},
          {"last_active", d.last_active},
          {"summary", d.summary},
          {"notes", d.notes},
          {"signals", sig},
          {"warn_due", d.warn_due},
          {"act_due", d.act_due}};
}

void print(const AutostopDecision& d, bool js, bool verbose) {
  if (js) {
    std::cout << decision_json(d).dump(2) << "\n" << std::flush;
    return;
  }
  std::printf("%s\n", d.summary.c_str());
  if (!verbose) return;
  for (const auto& n : d.notes) std::printf("  note: %s\n", n.c_str());
  if (d.signals.empty())
    std::printf("  no Jupyter kernel or terminal, no SSH session, no training run\n");
  for (const auto& s : d.signals)
    std::printf("  %-5s %-8s %s\n", s.busy_now ? "BUSY" : "-", s.kind.c_str(), s.detail.c_str());
}

d2l::cli::Registrar reg{
    "autostop", "Shut down (or run a command) when the machine has been idle too long",
    [](CLI::App& cmd) -> d2l::cli::Runner {
      auto o = std::make_shared<Opts>();
      cmd.require_subcommand(1);
      cmd.footer(
          "Signals: Jupyter kernels (busy, last activity) and terminals, SSH sessions (a pty "
          "under\n"
          "sshd; last input), d2l/d2l-torch train processes, GPU utilisation (NVML), CPU load.\n"
          "State: $D2L_CONFIG_DIR/autostop.json (last active time; reset after a reboot); every\n"
          "decision is appended with its reasons to $D2L_CONFIG_DIR/autostop.log.\n"
          "Exit codes: 0 a decision was made (whatever it is), 1 failure, 2 bad input or a "
          "corrupt\n"
          "state file; with --action cloud-stop, 1 also when this machine cannot stop itself\n"
          "(not on EC2, no credentials, no ec2:StopInstances). See docs/ops.md for the cron line\n"
          "and systemd units, docs/cloud.md for cloud-stop.");
      auto add = [&](CLI::App* s) {
        const auto duration =
            d2l::cli::parsed_by([](const std::string& t) { parse_duration(t); }, "DURATION");
        s->add_option("--idle", o->idle, "Idle time before the action (default 2h)")
            ->check(duration);
        s->add_option("--grace", o->grace, "Warn logged-in users this long before (default 5m)")
            ->check(duration);
        s->add_option("--action", o->a.action,
                      "shutdown (default); cloud-stop: stop this EC2 instance through the API "
                      "(IMDSv2, the instance's role; for instances whose shutdown behaviour is "
                      "terminate); or a shell command");
        s->add_option("--warn-command", o->a.warn_command,
                      "Command that gets the warning on stdin (default wall)");
        s->add_flag("--dry-run", o->a.dry_run,
                    "Decide and log, run nothing (cloud-stop: check the permission with AWS's "
                    "dry run)");
        s->add_option("--signals", o->signals, "Signals to use (default jupyter,ssh,train,gpu,cpu)")
            ->check(d2l::cli::non_empty());
        s->add_option("--max-load", o->a.max_load,
                      "1-min load average above which the CPU is busy (default: half the CPUs)")
            ->check(d2l::cli::number_in(0, 1e9));
        s->add_option("--gpu-busy", o->a.gpu_busy_percent,
                      "GPU utilisation % from which a GPU is busy (default 5)")
            ->check(d2l::cli::positive_up_to(100));
        s->add_option("--dir", o->a.notebook_dir,
                      "Our Jupyter folder (default $D2L_CONFIG_DIR/jupyter)")
            ->check(d2l::cli::non_empty());
        s->add_option(
             "--runtime-dir", o->a.runtime_dirs,
             "Jupyter runtime folder to search (repeat; default: ours, $JUPYTER_RUNTIME_DIR, "
             "~/.local/share/jupyter/runtime)")
            ->check(d2l::cli::non_empty());
        s->add_option("--state", o->a.state_file,
                      "State file (default $D2L_CONFIG_DIR/autostop.json)")
            ->check(d2l::cli::non_empty());
        s->add_option("--log", o->a.log_file, "Log file (default $D2L_CONFIG_DIR/autostop.log)")
            ->check(d2l::cli::non_empty());
        s->add_option("--instance-type", o->a.instance_type,
                      "Record this machine's up time as INSTANCE hours in d2l cost's ledger")
            ->check(d2l::cli::non_empty());
        s->add_flag("--json", o->json, "Machine-readable output");
      };
      auto* check = cmd.add_subcommand("check", "Decide once (for cron or a systemd timer)");
      add(check);
      auto* run = cmd.add_subcommand("run", "Decide every --interval until stopped");
      add(run);
      run->add_option("--interval", o->interval, "Time between checks, 1s to 1d (default 1m)")
          ->check(d2l::cli::parsed_by(
              [](const std::string& t) {
                const double s = parse_duration(t);
                if (s < 1 || s > d2l::cli::kDaySeconds)
                  throw d2l::bad_input("'" + t + "' is not from 1s to 1d");
              },
              "DURATION"));
      auto* status = cmd.add_subcommand("status", "Why the machine counts as busy or idle now");
      add(status);
      return [=]() -> int {
        const AutostopOptions a = resolve(*o);
        // cloud-stop: a watchdog that could not act says so now, not hours later.
        if (a.action == kCloudStop && !status->parsed() && (a.dry_run || run->parsed())) {
          const std::string line = check_cloud_stop();
          std::fprintf(o->json ? stderr : stdout, "%s\n", line.c_str());
          std::fflush(stdout);
        }
        if (status->parsed()) {
          print(check_once(a, false), o->json, true);
          return 0;
        }
        if (check->parsed()) {
          print(check_once(a, true), o->json, !o->json);
          return 0;
        }
        const double every = parse_duration(o->interval);
        ::signal(SIGTERM, on_signal);
        ::signal(SIGINT, on_signal);
        while (!g_stop) {
          try {
            print(check_once(a, true), o->json, false);
          } catch (const d2l::Error& e) {
            if (e.kind() == d2l::Error::Kind::BadInput) throw;  // a corrupt state file: stop
            std::fprintf(stderr, "d2l autostop: %s\n", e.what());
          }
          std::fflush(stdout);
          const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(every);
          while (!g_stop && std::chrono::steady_clock::now() < end)
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        return 0;
      };
    }};

}  // namespace
