#pragma once
// Where `d2l` finds its LibTorch helper `d2l-torch`: $D2L_TORCH_EXE, beside the running
// executable (the build tree), then ../libexec/d2l/ (an installed tree).
#include <limits.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace d2l::cli {

inline std::string self_dir() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string p(buf, static_cast<std::size_t>(n));
  return p.substr(0, p.find_last_of('/'));
}

inline std::vector<std::string> torch_exe_candidates() {
  std::vector<std::string> out;
  if (const char* env = std::getenv("D2L_TORCH_EXE"); env && *env) out.emplace_back(env);
  const std::string dir = self_dir();
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
