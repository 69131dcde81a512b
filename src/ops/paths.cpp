#include "d2l/ops/paths.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "d2l/core/error.h"

namespace d2l::ops {

std::string config_dir() {
  if (const char* d = std::getenv("D2L_CONFIG_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return std::string(x) + "/d2l";
  const char* home = std::getenv("HOME");
  if (!home || !*home) throw Error("config: neither D2L_CONFIG_DIR nor HOME is set");
  return std::string(home) + "/.config/d2l";
}

void ensure_dir(const std::string& dir, unsigned mode) {
  if (dir.empty()) return;
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) throw Error(dir + ": exists and is not a folder");
    return;
  }
  const auto slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0) ensure_dir(dir.substr(0, slash), mode);
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST)
    throw Error(dir + ": cannot create folder: " + std::strerror(errno));
}

double parse_duration(const std::string& text) {
  if (text.empty()) throw bad_input("duration: empty (expected e.g. 8h, 90m, 2d)");
  double total = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    const char* start = text.c_str() + i;
    char* end = nullptr;
    const double v = std::strtod(start, &end);
    if (end == start || !std::isfinite(v) || v < 0)
      throw bad_input("duration '" + text + "': expected a number with a unit s, m, h or d");
    i += static_cast<std::size_t>(end - start);
    double unit = 3600;
    if (i < text.size()) {
      switch (text[i]) {
        case 's':
          unit = 1;
          break;
        case 'm':
          unit = 60;
          break;
        case 'h':
          unit = 3600;
          break;
        case 'd':
          unit = 86400;
          break;
        default:
          throw bad_input("duration '" + text + "': unknown unit '" + text.substr(i, 1) +
                          "' (use s, m, h or d)");
      }
      ++i;
    } else if (any) {
      throw bad_input("duration '" + text + "': the last number has no unit");
    }
    total += v * unit;
    any = true;
  }
  if (total <= 0) throw bad_input("duration '" + text + "': must be more than zero");
  return total;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds)) return "n/a";
  const bool neg = seconds < 0;
  long s = std::lround(std::fabs(seconds));
  char buf[64];
  if (s >= 86400)
    std::snprintf(buf, sizeof buf, "%ldd %02ldh", s / 86400, (s % 86400) / 3600);
  else if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh %02ldm", s / 3600, (s % 3600) / 60);
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%ldm %02lds", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lds", s);
  return (neg ? "-" : "") + std::string(buf);
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string executable_dir() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string p(buf, static_cast<std::size_t>(n));
  return p.substr(0, p.find_last_of('/'));
}

}  // namespace d2l::ops
