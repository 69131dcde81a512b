// `d2l-torch`: the tensor commands of `d2l` (train, show, bench). `d2l` execs it with its own
// arguments; it can also be run directly.
#include "../common/command.h"

int main(int argc, char** argv) {
  return d2l::cli::run_main(
      "d2l", "d2l: tools for deep learning (LibTorch commands)", argc, argv,
      [](CLI::App& app) { app.set_version_flag("--version", std::string("d2l ") + D2L_VERSION); });
}
