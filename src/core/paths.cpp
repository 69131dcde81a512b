#include "d2l/core/paths.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "d2l/core/error.h"

namespace d2l {

std::string config_dir() {
  if (const char* d = std::getenv("D2L_CONFIG_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return std::string(x) + "/d2l";
  const char* home = std::getenv("HOME");
  if (!home || !*home) throw Error("config: neither D2L_CONFIG_DIR nor HOME is set");
  return std::string(home) + "/.config/d2l";
}

std::string cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/d2l";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.cache/d2l";
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

}  // namespace d2l
