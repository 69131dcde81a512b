#pragma once
/// \file d2l/core/build_info.h
/// Facts of the build, evaluated where the header is compiled (so `d2l` and `d2l-torch` each
/// report their own).
#include <string>

namespace d2l {

/// The compiler that compiled the including file, e.g. "GCC 12.2.0".
inline std::string compiler_name() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("GCC ") + __VERSION__;
#else
  return "unknown";
#endif
}

}  // namespace d2l
