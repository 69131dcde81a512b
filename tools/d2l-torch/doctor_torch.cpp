// `d2l-torch doctor-torch --json` (hidden): the LibTorch half of `d2l doctor`. `d2l doctor` runs
// it as a child process so that the doctor itself never maps LibTorch; it prints one JSON object
// (schema d2l.doctor-torch/1, docs/machine-tools.md) and exits 0 even when a probe fails.
#include <cstdio>
#include <memory>

#include "../common/command.h"
#include "d2l/sys/environment_torch.h"

namespace {

d2l::cli::Registrar reg{"doctor-torch", "LibTorch probes for 'd2l doctor' (JSON)",
                        [](CLI::App& cmd) {
                          cmd.group("");  // hidden: `d2l doctor` runs it
                          auto json_flag = std::make_shared<bool>(false);
                          cmd.add_flag("--json", *json_flag, "Print JSON (the only format)");
                          return [json_flag]() -> int {
                            std::printf("%s\n", d2l::sys::torch_probe_json(2).c_str());
                            return 0;
                          };
                        }};

}  // namespace
