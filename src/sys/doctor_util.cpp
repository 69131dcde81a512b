// The small helpers the doctor's files share (src/sys/doctor_internal.h).
#include <cstdio>

#include "d2l/sys/environment.h"
#include "doctor_internal.h"

namespace d2l::sys::detail {

Probe make(std::string id, std::string section, std::string label, ProbeStatus status,
           std::string value, std::string hint) {
  return Probe{std::move(id), std::move(section), std::move(label),
               status,        std::move(value),   std::move(hint)};
}

std::string gib(double bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f GiB", bytes / kGiB);
  return b;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string trim(const std::string& s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace d2l::sys::detail
