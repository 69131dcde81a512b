#include "d2l/ops/budget.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"
#include "d2l/core/paths.h"

namespace d2l::ops {
namespace {

using nlohmann::json;

json parse_json_file(const std::string& path, const std::string& what) {
  const std::string text = read_file(path);
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw bad_input(path + ": corrupt " + what + ": not valid JSON at byte " +
                    std::to_string(e.byte) + " (fix or move the file; it is left untouched)");
  }
}

std::string dir_of(const std::string& p) {
  const auto s = p.find_last_of('/');
  return s == std::string::npos ? "." : p.substr(0, s);
}

void validate(const Budget& b, const std::string& where) {
  if (!(b.monthly > 0) || !std::isfinite(b.monthly))
    throw bad_input(where + ": monthly budget must be more than 0");
  for (double a : b.alerts)
    if (!(a > 0 && a <= 1000))
      throw bad_input(where + ": alert " + std::to_string(a) + "% is outside (0, 1000]");
}

// Start of the UTC month containing t, and of the next one.
void month_bounds(std::int64_t t, std::int64_t& begin, std::int64_t& end, std::string& label) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::tm b{};
  b.tm_year = tm.tm_year;
  b.tm_mon = tm.tm_mon;
  b.tm_mday = 1;
  begin = static_cast<std::int64_t>(timegm(&b));
  std::tm e = b;
  e.tm_mon += 1;
  end = static_cast<std::int64_t>(timegm(&e));
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d", tm.tm_year + 1900, tm.tm_mon + 1);
  label = buf;
}

}  // namespace

std::string default_ledger_path() { return config_dir() + "/usage.json"; }

Budget load_budget(const std::string& path) {
  if (!path_exists(path))
    throw bad_input(path + ": no budget set (run: d2l cost budget set --monthly USD)");
  const json j = parse_json_file(path, "budget");
  Budget b;
  try {
    if (!j.is_object()) throw bad_input("not a JSON object");
    if (!j.contains("monthly") || !j["monthly"].is_number()) throw bad_input("no number 'monthly'");
    b.monthly = j["monthly"].get<double>();
    b.alerts.clear();
    if (j.contains("alerts")) {
      if (!j["alerts"].is_array()) throw bad_input("'alerts' is not a list");
      for (const auto& a : j["alerts"]) {
        if (!a.is_number()) throw bad_input("'alerts' holds a non-number");
        b.alerts.push_back(a.get<double>());
      }
    }
  } catch (const Error& e) {
    throw bad_input(path + ": corrupt budget: " + e.what() + " (fix or move the file)");
  }
  std::sort(b.alerts.begin(), b.alerts.end());
  validate(b, path);
  return b;
}

void save_budget(const std::string& path, const Budget& budget) {
  validate(budget, "budget");
  Budget b = budget;
  std::sort(b.alerts.begin(), b.alerts.end());
  json j = {{"monthly", b.monthly}, {"alerts", b.alerts}, {"currency", "USD"}};
  ensure_dir(dir_of(path));
  write_file_atomic(path, j.dump(2) + "\n", 0600);
}

std::vector<UsageEntry> load_ledger(const std::string& path) {
  std::vector<UsageEntry> out;
  if (!path_exists(path)) return out;
  const json j = parse_json_file(path, "ledger");
  std::size_t i = 0;
  try {
    if (!j.is_object() || !j.contains("entries") || !j["entries"].is_array())
      throw bad_input("expected {\"version\": 1, \"entries\": [...]}");
    for (const auto& e : j["entries"]) {
      if (!e.is_object()) throw bad_input("entry " + std::to_string(i) + " is not an object");
      UsageEntry u;
      u.time = e.at("time").get<std::int64_t>();
      u.instance_type = e.at("instance_type").get<std::string>();
      u.hours = e.at("hours").get<double>();
      u.price_per_hour = e.at("price_per_hour").get<double>();
      u.source = e.value("source", "");
      if (!(u.hours >= 0) || !(u.price_per_hour >= 0))
        throw bad_input("entry " + std::to_string(i) + " has negative hours or price");
      out.push_back(std::move(u));
      ++i;
    }
  } catch (const json::exception& e) {
    throw bad_input(path + ": corrupt ledger: entry " + std::to_string(i) + ": " + e.what() +
                    " (fix or move the file; it is left untouched)");
  } catch (const Error& e) {
    throw bad_input(path + ": corrupt ledger: " + e.what() +
                    " (fix or move the file; it is left untouched)");
  }
  return out;
}

void append_ledger(const std::string& path, const UsageEntry& entry) {
  if (!(entry.hours > 0) || !std::isfinite(entry.hours))
    throw bad_input("ledger: hours must be more than 0");
  auto entries = load_ledger(path);  // throws on a corrupt ledger: never overwrite it
  entries.push_back(entry);
  json arr = json::array();
  for (const auto& u : entries)
    arr.push_back({{"time", u.time},
                   {"instance_type", u.instance_type},
                   {"hours", u.hours},
                   {"price_per_hour", u.price_per_hour},
                   {"source", u.source}});
  ensure_dir(dir_of(path));
  write_file_atomic(path, json{{"version", 1}, {"entries", arr}}.dump(2) + "\n", 0600);
}

BudgetStatus check_budget(const Budget& budget, const std::vector<UsageEntry>& entries,
                          std::int64_t now) {
  validate(budget, "budget");
  BudgetStatus s;
  s.monthly = budget.monthly;
  std::int64_t begin = 0, end = 0;
  month_bounds(now, begin, end, s.month);
  for (const auto& e : entries)
    if (e.time >= begin && e.time <= now) s.actual += e.cost();
  const double elapsed = std::max<double>(3600.0, static_cast<double>(now - begin));
  s.month_fraction = std::min(1.0, elapsed / static_cast<double>(end - begin));
  s.forecast = s.actual / s.month_fraction;
  for (double a : budget.alerts) {
    ThresholdStatus t;
    t.percent = a;
    t.amount = budget.monthly * a / 100.0;
    t.actual_over = s.actual >= t.amount;
    t.forecast_over = s.forecast >= t.amount;
    if ((t.actual_over || t.forecast_over) && s.exit_code < 3) s.exit_code = 3;
    s.thresholds.push_back(t);
  }
  if (s.actual >= budget.monthly) s.exit_code = 4;
  return s;
}

std::vector<double> parse_alerts(const std::string& text) {
  std::vector<double> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    if (item.empty() || end != item.c_str() + item.size() || !(v > 0 && v <= 1000))
      throw bad_input("alerts '" + text + "': '" + item + "' is not a percentage in (0, 1000]");
    out.push_back(v);
  }
  if (out.empty()) throw bad_input("alerts: empty list");
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace d2l::ops
