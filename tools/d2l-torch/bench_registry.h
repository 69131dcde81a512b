#pragma once
// The subcommands of `d2l bench` (run in d2l-torch). Each benchmark lives in its own .cpp file
// under tools/d2l-torch/ and registers itself with a static BenchRegistrar, exactly like the
// top-level commands (tools/common/command.h):
//
//   static d2l::cli::BenchRegistrar reg{"loader", "Data loader throughput", [](CLI::App& cmd) {
//     auto opts = std::make_shared<MyOpts>();
//     d2l::cli::add_bench_options(cmd, opts->common);
//     return [opts]() -> int { ...; return 0; };
//   }};
//
// bench.cpp adds every registered benchmark as a CLI11 subcommand of `bench` and runs the one
// chosen. Shared flags (warm-up, repeats, --json) come from add_bench_options().
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "../common/command.h"
#include "d2l/sys/bench.h"

namespace d2l::cli {

/// One `d2l bench NAME` subcommand.
struct BenchCommand {
  std::string name;
  std::string summary;
  Setup setup;  ///< adds the subcommand's flags, returns its runner
};

/// All registered benchmarks, in registration order.
inline std::vector<BenchCommand>& bench_registry() {
  static std::vector<BenchCommand> commands;
  return commands;
}

/// Registers a benchmark at static-initialisation time.
struct BenchRegistrar {
  BenchRegistrar(std::string name, std::string summary, Setup setup) {
    bench_registry().push_back({std::move(name), std::move(summary), std::move(setup)});
  }
};

/// The flags every benchmark shares.
struct CommonBenchOptions {
  d2l::sys::BenchOptions timing;
  bool json = false;
};

/// Adds --warmup, --repeats, --max-seconds and --json to a benchmark's subcommand.
inline void add_bench_options(CLI::App& cmd, CommonBenchOptions& o) {
  cmd.add_option("--warmup", o.timing.warmup, "Untimed runs first")->capture_default_str();
  cmd.add_option("--repeats", o.timing.repeats, "Timed runs")->capture_default_str();
  cmd.add_option("--max-seconds", o.timing.max_seconds,
                 "Stop repeating once this many seconds were measured (0: no limit)")
      ->capture_default_str();
  cmd.add_flag("--json", o.json, "Print the results as JSON");
}

}  // namespace d2l::cli
