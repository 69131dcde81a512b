#pragma once
// The subcommand registry shared by `d2l` and `d2l-torch`. Each subcommand lives in its own .cpp
// file under tools/d2l/ or tools/d2l-torch/ and registers itself with a static Registrar, so
// adding a command touches no other file:
//
//   static d2l::cli::Registrar reg{"doctor", "Check the machine", [](CLI::App& cmd) {
//     auto opts = std::make_shared<Opts>();
//     cmd.add_flag("--json", opts->json, "Machine-readable output");
//     return [opts]() -> int { ...; return 0; };   // the exit code
//   }};
//
// Runners report bad input by throwing d2l::Error (exit 2 for BadInput, 1 otherwise); main prints
// one line `d2l: <message>`.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace d2l::cli {

using Runner = std::function<int()>;
using Setup = std::function<Runner(CLI::App&)>;

struct Command {
  std::string name;
  std::string summary;
  Setup setup;
};

/// All commands registered in this executable, in registration order.
inline std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}

struct Registrar {
  Registrar(std::string name, std::string summary, Setup setup) {
    registry().push_back({std::move(name), std::move(summary), std::move(setup)});
  }
};

/// Parses argv with the registered commands and runs the chosen one; maps errors to exit codes
/// (0 ok, 1 failure, 2 usage or bad input, 130 interrupted). `prog` is the name shown in help.
int run_main(const std::string& prog, const std::string& description, int argc, char** argv,
             const std::function<void(CLI::App&)>& extra = {});

}  // namespace d2l::cli
