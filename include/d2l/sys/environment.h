#pragma once
/// \file d2l/sys/environment.h
/// `d2l doctor`: independent probes of the machine, the build, LibTorch, the BLAS, the NVIDIA
/// driver and GPUs, a compute check on every device, and the data sets. Each probe gives
/// PASS / WARN / FAIL / n/a with its value and, when something is wrong, a hint from a table of
/// known failures. A probe that throws becomes a FAIL of its own; it never stops the others.
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace d2l::sys {

/// A probe's verdict.
enum class ProbeStatus { Pass, Warn, Fail, NA };
/// "PASS", "WARN", "FAIL" or "n/a".
std::string to_string(ProbeStatus s);
/// The inverse of to_string; throws d2l::Error (BadInput) for other text.
ProbeStatus probe_status_from_string(const std::string& s);

/// One probe's result.
struct Probe {
  std::string id;       ///< stable key, e.g. "cpu.simd", "nvidia.gpu0", "compute.cuda:0"
  std::string section;  ///< "system", "build", "torch", "blas", "nvidia", "compute", "data"
  std::string label;    ///< what a person reads, e.g. "SIMD"
  ProbeStatus status = ProbeStatus::NA;
  std::string value;    ///< what was found, e.g. "AVX2, AVX-512"
  std::string hint_id;  ///< a key of doctor_hints() when not PASS ("" for none)
};

/// A known failure and its fix.
struct Hint {
  std::string id, symptom, fix;
};
/// The hint table (see docs/machine-tools.md).
const std::vector<Hint>& doctor_hints();
/// The hint with this id, or nullptr.
const Hint* find_hint(const std::string& id);

/// The CPU's identity and the SIMD features that matter for BLAS kernels.
struct CpuFeatures {
  std::string model;
  int logical = 0;   ///< online logical CPUs
  int physical = 0;  ///< distinct (package, core) pairs; 0 when unknown
  bool avx = false, avx2 = false, fma = false, avx512f = false, avx512bw = false, avx512vl = false,
       avx512dq = false;
  /// 0 none of these, 1 AVX, 2 AVX2 + FMA, 3 AVX-512 (F, BW, VL, DQ): the level of kernels a
  /// BLAS should use on this CPU.
  int simd_level() const;
};
/// Parses ROOT/proc/cpuinfo (first processor's model and flags).
CpuFeatures read_cpu_features(const std::string& root = "/");

/// Which BLAS a process uses, and whether OpenBLAS picked kernels below the CPU's level.
struct BlasInfo {
  std::string kind;  ///< "openblas", "reference", "mkl", "blis", "atlas", "unknown"
  std::string path;  ///< the library that provides sgemm_
  std::optional<std::string> openblas_core;  ///< openblas_get_corename(), e.g. "Prescott"
  bool core_mismatch = false;                ///< OpenBLAS's core is below the CPU's SIMD level
  std::string suggested_coretype;            ///< OPENBLAS_CORETYPE value that fixes it
};
/// The BLAS kind of a library path: ".../openblas-pthread/libblas.so.3" is OpenBLAS,
/// ".../blas/libblas.so.3" is the reference (netlib) BLAS.
std::string blas_kind_of_path(const std::string& path);
/// The SIMD level (as CpuFeatures::simd_level) an OpenBLAS core name targets; nullopt for names
/// it does not know.
std::optional<int> openblas_core_level(const std::string& core);
/// Classifies the BLAS providing sgemm_ and compares OpenBLAS's core with the CPU.
BlasInfo classify_blas(const std::string& sgemm_path, const std::optional<std::string>& core,
                       const CpuFeatures& cpu);

/// Options of a doctor run.
struct DoctorOptions {
  std::string root = "/";              ///< file-system root for /proc, /sys, /etc
  std::string nvml_library;            ///< "" = $D2L_NVML_LIBRARY or libnvidia-ml.so.1
  std::string torch_exe;               ///< "" = none (the torch probes say n/a)
  std::string torch_missing_reason;    ///< why torch_exe is empty, for the n/a value
  double torch_timeout_s = 60;         ///< the LibTorch child's time limit
  std::vector<std::string> data_dirs;  ///< --data-dir values (none: $D2L_DATA_DIR), searched
                                       ///< as `d2l train --data-dir` does (the registry's search)
  std::string checkpoint_dir = ".";    ///< where checkpoints go (free disk)
  std::string compiler;                ///< the compiler that built d2l
  std::string build;                   ///< d2l's version and build type
};

/// A doctor run's results.
struct DoctorReport {
  std::string schema = "d2l.doctor/1";
  double unix_time = 0;
  double seconds = 0;  ///< how long the probes took
  std::vector<Probe> probes;
  /// Whether any probe FAILed.
  bool any_fail() const;
  /// The probe with this id, or nullptr.
  const Probe* find(const std::string& id) const;
};

/// Runs every probe. Never throws for the state of the machine.
DoctorReport run_doctor(const DoctorOptions& options);

/// Runs `make` and returns its probes; an exception becomes one FAIL probe `id` naming it.
std::vector<Probe> guarded(const std::string& id, const std::string& section,
                           const std::function<std::vector<Probe>()>& make);

// The probe groups, each usable alone (tests call them on fixture roots).
std::vector<Probe> probe_system(const std::string& root);
std::vector<Probe> probe_disks(const std::vector<std::string>& dirs,
                               const std::string& checkpoint_dir);
/// One probe per data set of the registry: where d2l::data::find_dataset (the search `d2l train`
/// runs) finds it with each of `dirs` as --data-dir in turn (none: the default search). Writes
/// and downloads nothing. Fashion-MNIST missing, or a data folder with only some files, is WARN.
std::vector<Probe> probe_datasets(const std::vector<std::string>& dirs);
/// The NVIDIA probes from NVML; `torch_cuda` is LibTorch's CUDA runtime ("12.1"), nullopt when
/// LibTorch was built without CUDA or is unknown (torch_known false).
std::vector<Probe> probe_nvidia(const std::string& nvml_library, bool torch_known,
                                const std::optional<std::string>& torch_cuda);
/// The LibTorch, BLAS and compute probes from `d2l-torch doctor-torch --json` output.
std::vector<Probe> probes_from_torch_json(const std::string& json, const CpuFeatures& cpu);
/// The BLAS probes without LibTorch: what libblas.so.3 resolves to for this process.
std::vector<Probe> probe_blas_without_torch(const CpuFeatures& cpu);

/// The report as JSON (schema "d2l.doctor/1", documented in docs/machine-tools.md).
std::string report_json(const DoctorReport& r, int indent = 2);
/// Parses report_json() output; throws d2l::Error (BadInput) naming the fault.
DoctorReport report_from_json(const std::string& text);
/// A table for a person: one line a probe, grouped by section, then the hints.
std::string render_report(const DoctorReport& r, bool color);

/// One difference between a saved report and a new one.
struct ProbeDifference {
  std::string id, label;
  std::optional<Probe> before, after;  ///< nullopt: the probe is new or gone
};
/// Whether a probe's value changes from run to run (free memory and disk, timings, a GPU's
/// temperature): compare_reports() then reports only a change of its status.
bool is_volatile_probe(const std::string& id);

/// The probes whose status or value changed (status only for volatile ones), appeared or
/// disappeared (ordered by the new report, then the gone ones).
std::vector<ProbeDifference> compare_reports(const DoctorReport& saved, const DoctorReport& now);

}  // namespace d2l::sys
