// `d2l doctor`: checks the machine, the build, LibTorch, the BLAS, NVIDIA's driver and GPUs, a
// matrix product on every device, and the data sets.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "../common/command.h"
#include "../common/torch_exe.h"
#include "d2l/core/atomic_file.h"
#include "d2l/core/build_info.h"
#include "d2l/core/error.h"
#include "d2l/core/progress.h"
#include "d2l/sys/environment.h"
#include "flag_checks.h"

namespace {

struct Opts {
  bool json = false;
  std::string save, compare;
  std::vector<std::string> data_dirs;
  std::string checkpoint_dir = ".";
  bool no_torch = false;
  double timeout = 60;
  bool hints = false;
  std::string root = "/";
};

std::string build() {
#ifdef NDEBUG
  const char* type = "optimised, assertions off";
#else
  const char* type = "assertions on";
#endif
  return std::string(D2L_VERSION) + " (" + type + ")";
}

int run(const Opts& o) {
  if (o.hints) {
    for (const auto& h : d2l::sys::doctor_hints())
      std::printf("%-20s %s\n%-20s %s\n\n", h.id.c_str(), h.symptom.c_str(), "", h.fix.c_str());
    return 0;
  }
  d2l::sys::DoctorReport saved;
  if (!o.compare.empty()) saved = d2l::sys::report_from_json(d2l::read_file(o.compare));

  d2l::sys::DoctorOptions d;
  d.root = o.root;
  d.compiler = d2l::compiler_name();
  d.build = build();
  d.checkpoint_dir = o.checkpoint_dir;
  d.torch_timeout_s = o.timeout;
  d.data_dirs = o.data_dirs;  // none: the data sets' own search ($D2L_DATA_DIR, Debian, cache)
  if (o.no_torch) {
    d.torch_missing_reason = "--no-torch";
  } else {
    d.torch_exe = d2l::cli::find_torch_exe();
    if (d.torch_exe.empty()) d.torch_missing_reason = "d2l-torch not found";
  }
  const auto report = d2l::sys::run_doctor(d);

  if (!o.save.empty()) d2l::write_file_atomic(o.save, d2l::sys::report_json(report) + "\n");
  if (o.json) {
    std::printf("%s\n", d2l::sys::report_json(report).c_str());
  } else {
    std::fputs(d2l::sys::render_report(report, d2l::is_terminal(stdout)).c_str(), stdout);
  }
  if (!o.compare.empty()) {
    const auto diffs = d2l::sys::compare_reports(saved, report);
    // With --json the differences go to stderr, so stdout stays one JSON document.
    std::FILE* out = o.json ? stderr : stdout;
    std::fprintf(out, "\ncompared with %s: %zu difference(s)\n", o.compare.c_str(), diffs.size());
    for (const auto& df : diffs) {
      auto show = [](const std::optional<d2l::sys::Probe>& p) {
        return p ? d2l::sys::to_string(p->status) + " " + p->value : std::string("(absent)");
      };
      std::fprintf(out, "  %s\n    was: %s\n    now: %s\n", df.label.c_str(),
                   show(df.before).c_str(), show(df.after).c_str());
    }
  }
  return report.any_fail() ? 1 : 0;
}

d2l::cli::Registrar reg{
    "doctor", "Check the machine, LibTorch, BLAS, NVIDIA driver, GPUs and data sets",
    [](CLI::App& cmd) {
      auto o = std::make_shared<Opts>();
      cmd.add_flag("--json", o->json, "Print the report as JSON (schema d2l.doctor/1)");
      cmd.add_option("--save", o->save, "Write the report as JSON to FILE (an environment record)")
          ->type_name("FILE")
          ->check(d2l::cli::non_empty());
      cmd.add_option("--compare", o->compare,
                     "Compare with a report saved by --save and list what changed")
          ->type_name("FILE")
          ->check(d2l::cli::non_empty());
      cmd.add_option("--data-dir", o->data_dirs,
                     "Data folder or archive, as d2l train's --data-dir (repeatable; default: "
                     "$D2L_DATA_DIR, then Debian's folder and the cache, as d2l show --help "
                     "lists)")
          ->check(d2l::cli::non_empty());
      cmd.add_option("--checkpoint-dir", o->checkpoint_dir, "Where checkpoints go (free disk)")
          ->capture_default_str()
          ->check(d2l::cli::non_empty());
      cmd.add_flag("--no-torch", o->no_torch, "Skip the LibTorch probes (d2l-torch)");
      cmd.add_option("--timeout", o->timeout, "Seconds allowed for the LibTorch probes")
          ->check(d2l::cli::positive_up_to(d2l::cli::kDaySeconds))
          ->capture_default_str();
      cmd.add_flag("--hints", o->hints, "Print the table of known failures and fixes");
      cmd.add_option("--root", o->root, "File-system root for /proc, /sys, /etc (tests)")
          ->group("")
          ->check(d2l::cli::non_empty("--root"));
      cmd.footer(
          "Each probe says PASS, WARN, FAIL or n/a. Exit codes: 0 when no probe FAILs, 1 when one "
          "does, 2 bad usage.\nThe NVML library can be overridden with D2L_NVML_LIBRARY, "
          "d2l-torch with D2L_TORCH_EXE.");
      return [o]() { return run(*o); };
    }};

}  // namespace
