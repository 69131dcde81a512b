#pragma once
// Where `d2l` finds its LibTorch helper `d2l-torch`: $D2L_TORCH_EXE, beside the running
// executable (the build tree), then ../libexec/d2l/ (an installed tree).
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "d2l/core/paths.h"

namespace d2l::cli {

inline std::vector<std::string> torch_exe_candidates() {
  std::vector<std::string> out;
  if (const char* env = std::getenv("D2L_TORCH_EXE"); env && *env) out.emplace_back(env);
  std::string dir = d2l::executable_dir();
  if (dir.empty()) dir = ".";
  out.push_back(dir + "/d2l-torch");
  out.push_back(dir + "/../libexec/d2l/d2l-torch");
  return out;
}

/// The first executable candidate, or "" when there is none.
inline std::string find_torch_exe() {
  for (const auto& p : torch_exe_candidates())
    if (::access(p.c_str(), X_OK) == 0) return p;
  return "";
}

}  // namespace d2l::cli
