#include "d2l/viz/ticks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "d2l/core/error.h"

namespace d2l::viz {

Scale parse_scale(const std::string& name) {
  if (name == "linear" || name.empty()) return Scale::Linear;
  if (name == "log") return Scale::Log;
  throw bad_input("scale '" + name + "': expected linear or log");
}

double nice_step(double span, int max_ticks) {
  if (!(span > 0) || !std::isfinite(span)) return 1.0;
  const int intervals = std::max(1, max_ticks - 1);
  const double raw = span / intervals;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * mag >= raw * (1 - 1e-9)) return m * mag;
  }
  return 10 * mag;
}

std::vector<double> linear_ticks(double lo, double hi, int max_ticks) {
  std::vector<double> out;
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(hi > lo)) return out;
  const double step = nice_step(hi - lo, max_ticks);
  const double eps = step * 1e-9;
  const double first = std::ceil((lo - eps) / step);
  for (double k = first;; ++k) {
    double v = k * step;
    if (v > hi + eps) break;
    if (std::fabs(v) < eps) v = 0.0;  // no "-0"
    out.push_back(v);
    if (out.size() > 1000) break;
  }
  return out;
}

std::vector<double> log_ticks(double lo, double hi, int max_ticks) {
  std::vector<double> out;
  if (!(lo > 0) || !(hi > lo) || !std::isfinite(hi)) return out;
  const double a = std::log10(lo), b = std::log10(hi);
  const int first = static_cast<int>(std::ceil(a - 1e-9));
  const int last = static_cast<int>(std::floor(b + 1e-9));
  const int decades = last - first + 1;
  if (decades >= 2) {
    int every = 1;
    while (decades / every > max_ticks) ++every;
    for (int k = first; k <= last; ++k)
      if ((k - first) % every == 0) out.push_back(std::pow(10.0, k));
    return out;
  }
  for (int k = static_cast<int>(std::floor(a)) - 1; k <= static_cast<int>(std::ceil(b)); ++k) {
    for (double m : {1.0, 2.0, 5.0}) {
      const double v = m * std::pow(10.0, k);
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push_back(v);
    }
  }
  if (out.size() < 2) {  // less than a factor of 2.5: fall back to linear steps
    out = linear_ticks(lo, hi, 5);
    out.erase(std::remove_if(out.begin(), out.end(), [](double v) { return v <= 0; }), out.end());
  }
  return out;
}

std::vector<std::string> format_ticks(const std::vector<double>& ticks) {
  std::vector<std::string> out;
  double biggest = 0;
  for (double v : ticks) biggest = std::max(biggest, std::fabs(v));
  char buf[64];
  if (biggest >= 1e5 || (biggest > 0 && biggest < 1e-4)) {
    for (double v : ticks) {
      std::snprintf(buf, sizeof buf, "%.3g", v);
      out.emplace_back(v == 0 ? "0" : buf);
    }
    return out;
  }
  int decimals = 0;
  for (; decimals < 8; ++decimals) {
    const double p = std::pow(10.0, decimals);
    bool exact = true;
    for (double v : ticks) {
      const double s = v * p;
      if (std::fabs(s - std::round(s)) > 1e-6 * std::max(1.0, std::fabs(s))) {
        exact = false;
        break;
      }
    }
    if (exact) break;
  }
  for (double v : ticks) {
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    std::string s = buf;
    if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
    out.push_back(s);
  }
  return out;
}

std::string format_log_tick(double value) {
  if (!(value > 0)) return "";
  const double e = std::log10(value);
  const double k = std::round(e);
  char buf[64];
  if (std::fabs(e - k) < 1e-9) {
    if (k >= -2 && k <= 2) {
      std::snprintf(buf, sizeof buf, "%g", std::pow(10.0, k));
      return buf;
    }
    std::snprintf(buf, sizeof buf, "10^{%d}", static_cast<int>(k));
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%g", value);
  return buf;
}

Range auto_limits(double lo, double hi, Scale scale) {
  if (scale == Scale::Log) {
    if (!(lo > 0) || !(hi >= lo) || !std::isfinite(lo) || !std::isfinite(hi)) return {1, 10};
    double a = std::log10(lo), b = std::log10(hi);
    if (b - a < 1e-12) {
      a -= 1;
      b += 1;
    } else {
      const double m = 0.05 * (b - a);
      a -= m;
      b += m;
    }
    return {std::pow(10.0, a), std::pow(10.0, b)};
  }
  if (!std::isfinite(lo) || !std::isfinite(hi) || hi < lo) return {0, 1};
  if (hi - lo < 1e-12 * std::max(1.0, std::fabs(lo))) {
    const double d = lo == 0 ? 1.0 : 0.05 * std::fabs(lo);
    return {lo - d, hi + d};
  }
  const double m = 0.05 * (hi - lo);
  return {lo - m, hi + m};
}

}  // namespace d2l::viz
