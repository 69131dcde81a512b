// `d2l monitor`: a live view of CPU, memory, disks, network, GPUs and processes.
#include "d2l/sys/monitor.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include "../common/command.h"
#include "d2l/core/error.h"
#include "d2l/core/progress.h"
#include "flag_checks.h"

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

struct Opts {
  double interval = 1.0;
  bool once = false;
  bool json = false;
  std::string csv;
  std::string root = "/";
  std::optional<long> count;  // hidden: stop after N refreshes (not given: until interrupted)
  double window = 0.025;
  std::size_t top = 5;
  bool no_nvml = false;
};

int terminal_width() {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 100;
}

bool file_empty(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return true;
  const bool empty = std::fgetc(f) == EOF;
  std::fclose(f);
  return empty;
}

// Sleeps `seconds` in small steps so that Ctrl-C ends the wait at once.
void sleep_interruptible(double seconds) {
  using Clock = std::chrono::steady_clock;
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(seconds));
  while (!g_stop && Clock::now() < end) {
    const Clock::duration left = end - Clock::now();
    const Clock::duration step = std::chrono::milliseconds(100);
    std::this_thread::sleep_for(std::min(left, step));
  }
}

int run(const Opts& o) {
  d2l::sys::MonitorOptions mo;
  mo.root = o.root;
  mo.top = o.top;
  mo.use_nvml = !o.no_nvml;
  d2l::sys::Monitor mon(mo);

  std::FILE* csv = nullptr;
  bool csv_header_needed = false;
  if (!o.csv.empty()) {
    csv_header_needed = file_empty(o.csv);
    csv = std::fopen(o.csv.c_str(), "ab");
    if (!csv) throw d2l::bad_input("monitor: " + o.csv + ": cannot open for appending");
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> csv_guard(csv, csv ? &std::fclose : nullptr);

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  const bool live = !o.once && !o.json && o.count != 1L && d2l::is_terminal(stdout);
  // The first sample only primes the rates: take it, wait a short window, then show.
  mon.sample();
  sleep_interruptible(o.once ? o.window : std::min(o.window, o.interval));
  if (live) std::fputs("\033[?25l\033[2J", stdout);  // hide the cursor, clear once
  long shown = 0;
  while (!g_stop) {
    const d2l::sys::Snapshot s = mon.sample();
    if (csv) {
      if (csv_header_needed) {
        std::fprintf(csv, "%s\n", d2l::sys::csv_header(s.gpus.size()).c_str());
        csv_header_needed = false;
      }
      std::fprintf(csv, "%s\n", d2l::sys::csv_row(s).c_str());
      std::fflush(csv);
    }
    if (o.json) {
      std::printf("%s\n", d2l::sys::snapshot_json(s, o.once ? 2 : -1).c_str());
    } else if (live) {
      // Redraw in place: home, each line cleared to its end, the rest of the screen cleared.
      std::string text = d2l::sys::render_snapshot(s, terminal_width());
      std::string out = "\033[H";
      std::size_t start = 0;
      while (start < text.size()) {
        const auto nl = text.find('\n', start);
        out += text.substr(start, nl - start) + "\033[K\n";
        if (nl == std::string::npos) break;
        start = nl + 1;
      }
      out += "\033[J(Ctrl-C to quit)";
      std::fputs(out.c_str(), stdout);
    } else if (o.once || o.count) {
      if (shown > 0) std::fputs("\n", stdout);
      std::fputs(d2l::sys::render_snapshot(s, 100).c_str(), stdout);
    } else {
      std::fputs(d2l::sys::render_snapshot(s, 100).c_str(), stdout);
      std::fputs("\n", stdout);
    }
    std::fflush(stdout);
    ++shown;
    if (o.once || (o.count && shown >= *o.count)) break;
    sleep_interruptible(o.interval);
  }
  if (live) std::fputs("\033[?25h\n", stdout);
  return 0;
}

d2l::cli::Registrar reg{
    "monitor", "Live view of CPU, memory, disks, network, GPUs and processes", [](CLI::App& cmd) {
      auto o = std::make_shared<Opts>();
      cmd.add_option("-i,--interval", o->interval, "Seconds between refreshes (0: none)")
          ->check(d2l::cli::number_in(0, d2l::cli::kDaySeconds))
          ->capture_default_str();
      cmd.add_flag("--once", o->once, "Print one sample and exit");
      cmd.add_flag("--json", o->json, "JSON, one object per line (with --once: indented)");
      cmd.add_option("--csv", o->csv, "Append one row per refresh to FILE (header when new)")
          ->type_name("FILE")
          ->check(d2l::cli::non_empty());
      cmd.add_option("--top", o->top, "Processes in each top list (0: no lists)")
          ->check(d2l::cli::number_in(0, 10000))
          ->capture_default_str();
      cmd.add_option("--window", o->window, "Seconds the first sample's rates cover (with --once)")
          ->check(d2l::cli::number_in(0, 10))
          ->capture_default_str();
      cmd.add_flag("--no-nvml", o->no_nvml, "Do not query NVIDIA's library");
      cmd.add_option("--root", o->root, "File-system root for /proc and /sys (tests)")
          ->group("")
          ->check(d2l::cli::non_empty("--root"));
      cmd.add_option("--count", o->count, "Stop after N refreshes (benchmarks)")
          ->check(d2l::cli::number_in(1, 1e9, d2l::cli::LowerBound::Included, "--count"))
          ->group("");
      cmd.footer(
          "Rates (CPU %, network) cover the time since the previous refresh; with --once, a short "
          "--window.\nCtrl-C quits (exit 0). Missing values show n/a (null in JSON).");
      return [o]() { return run(*o); };
    }};

}  // namespace
