// The CPU's model, cores and SIMD features, from /proc/cpuinfo.
#include <set>
#include <sstream>

#include "d2l/sys/environment.h"
#include "d2l/sys/procfs.h"
#include "doctor_internal.h"

namespace d2l::sys {

using detail::trim;

int CpuFeatures::simd_level() const {
  if (avx512f && avx512bw && avx512vl && avx512dq) return 3;
  if (avx2 && fma) return 2;
  if (avx) return 1;
  return 0;
}

CpuFeatures read_cpu_features(const std::string& root) {
  CpuFeatures c;
  auto text = read_small_file(root, "/proc/cpuinfo");
  if (!text) return c;
  std::istringstream in(*text);
  std::string line, phys = "0";
  std::set<std::string> cores;
  bool have_flags = false;
  int processors = 0;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(line.substr(0, colon)), val = trim(line.substr(colon + 1));
    if (key == "processor") {
      ++processors;
    } else if (key == "model name" && c.model.empty()) {
      c.model = val;
    } else if (key == "physical id") {
      phys = val;
    } else if (key == "core id") {
      cores.insert(phys + ":" + val);
    } else if (key == "flags" && !have_flags) {
      have_flags = true;
      std::istringstream fl(val);
      std::string f;
      while (fl >> f) {
        if (f == "avx") c.avx = true;
        if (f == "avx2") c.avx2 = true;
        if (f == "fma") c.fma = true;
        if (f == "avx512f") c.avx512f = true;
        if (f == "avx512bw") c.avx512bw = true;
        if (f == "avx512vl") c.avx512vl = true;
        if (f == "avx512dq") c.avx512dq = true;
      }
    }
  }
  c.logical = processors;
  c.physical = static_cast<int>(cores.size());
  return c;
}

}  // namespace d2l::sys
