#include "d2l/core/duration.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "d2l/core/error.h"

namespace d2l {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds)) return "n/a";
  if (seconds < 0) return "-" + format_duration(-seconds);
  char buf[64];
  if (seconds < 59.95) {
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
    return buf;
  }
  const long long s = std::llround(seconds);
  if (s < 3600)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  else if (s < 86400)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
  else
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", s / 86400, (s % 86400) / 3600);
  return buf;
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
  if (!std::isfinite(total) || total <= 0)
    throw bad_input("duration '" + text + "': must be more than zero");
  if (total > 100 * 366 * 86400.0)  // also keeps format_duration()'s rounding in range
    throw bad_input("duration '" + text + "': more than 100 years");
  return total;
}

std::string format_utc_time(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace d2l
