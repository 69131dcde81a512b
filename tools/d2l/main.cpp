// `d2l`: the command-line program. It links only d2l::tools (no LibTorch), so the machine tools
// start in milliseconds; the tensor commands are exec'd in `d2l-torch`, git-style.
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../common/command.h"
#include "../common/torch_exe.h"

#ifndef D2L_TORCH_VERSION_STR
#define D2L_TORCH_VERSION_STR "none"
#endif
#ifndef D2L_CUDA_IN_BUILD
#define D2L_CUDA_IN_BUILD 0
#endif

namespace {

struct TorchCommand {
  const char* name;
  const char* summary;
};
// Commands that compute with tensors: they run in d2l-torch (tools/d2l-torch/).
constexpr TorchCommand kTorchCommands[] = {
    {"train", "Train a book model on a real data set (LibTorch)"},
    {"bench", "Benchmarks: matmul, train MODEL, loader (LibTorch)"},
    {"summary", "A network's layers: output shapes, parameters, multiply-adds (LibTorch)"},
    {"fit", "Before renting a GPU: memory, largest batch, epoch time and cost of a run (LibTorch)"},
    {"reproduce",
     "Train the book's networks with its settings; compare with its figures (LibTorch)"},
};

[[noreturn]] void exec_torch(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  args.push_back(nullptr);
  std::string looked;
  for (const auto& path : d2l::cli::torch_exe_candidates()) {
    if (::access(path.c_str(), X_OK) != 0) {
      looked += (looked.empty() ? "" : ", ") + path;
      continue;
    }
    ::execv(path.c_str(), args.data());
    std::fprintf(stderr, "d2l: %s: cannot run: %s\n", path.c_str(), std::strerror(errno));
    std::exit(1);
  }
  std::fprintf(
      stderr,
      "d2l: '%s' needs the LibTorch helper d2l-torch, not found (looked in %s); build with "
      "-DD2L_WITH_TORCH=ON or set D2L_TORCH_EXE\n",
      argv[1], looked.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) {
    for (const auto& c : kTorchCommands)
      if (std::strcmp(argv[1], c.name) == 0) exec_torch(argc, argv);
  }
  const std::string version = std::string("d2l ") + D2L_VERSION + " (LibTorch " +
                              D2L_TORCH_VERSION_STR + ", CUDA " +
                              (D2L_CUDA_IN_BUILD ? "in the build" : "not in the build") + ")";
  return d2l::cli::run_main(
      "d2l", "d2l: tools for deep learning (Dive into Deep Learning, in C++)", argc, argv,
      [&](CLI::App& app) {
        app.set_version_flag("--version", version);
        for (const auto& c : kTorchCommands) app.add_subcommand(c.name, c.summary);
        app.footer(
            "Exit codes: 0 ok, 1 failure, 2 usage or bad input, 130 interrupted.\n"
            "Run 'd2l COMMAND --help' for a command's options.");
      });
}
