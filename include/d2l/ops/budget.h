#pragma once
/// \file d2l/ops/budget.h
/// Monthly budgets with alert thresholds, checked against a local usage ledger (hours per instance
/// type), for `d2l cost budget` and `d2l cost log`.
#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

namespace d2l::ops {

/// A monthly budget in USD with alert thresholds in percent of it (e.g. 50, 80, 90).
struct Budget {
  double monthly = 0;                      ///< USD per calendar month (UTC)
  std::vector<double> alerts{50, 80, 90};  ///< percent of `monthly`, ascending
};

/// Loads a budget file (JSON: {"monthly": 1000, "alerts": [50, 80, 90]}). Throws d2l::bad_input
/// with one line naming the file and the fault when it is missing, unreadable or malformed.
Budget load_budget(const std::string& path);

/// Writes `budget` to `path` atomically (0600). Throws d2l::bad_input when monthly <= 0 or an
/// alert is outside (0, 1000].
void save_budget(const std::string& path, const Budget& budget);

/// One ledger line: some hours on one instance type, priced when it was logged.
struct UsageEntry {
  std::int64_t time = 0;      ///< when the usage ended, Unix seconds (UTC)
  std::string instance_type;  ///< e.g. `p3.2xlarge`
  double hours = 0;           ///< hours of use
  double price_per_hour = 0;  ///< USD per hour at logging time
  std::string source;         ///< who logged it: `cli`, `autostop`, `monitor`
  /// hours * price_per_hour
  double cost() const { return hours * price_per_hour; }
};

/// The usage ledger: a JSON file {"version": 1, "entries": [...]}. A missing file is an empty
/// ledger; a corrupt one throws d2l::bad_input with one line naming the file and the fault, and is
/// never overwritten.
std::vector<UsageEntry> load_ledger(const std::string& path);

/// Appends `entry` to the ledger at `path` (read, append, write atomically, 0600). Throws like
/// load_ledger() when the existing ledger is corrupt, so a corrupt file is never replaced.
void append_ledger(const std::string& path, const UsageEntry& entry);

/// The ledger `d2l cost` reads: `<config_dir()>/usage.json`.
std::string default_ledger_path();

/// Where a threshold stands.
struct ThresholdStatus {
  double percent = 0;          ///< the alert threshold, % of the budget
  double amount = 0;           ///< the threshold in USD
  bool actual_over = false;    ///< month-to-date spend >= amount
  bool forecast_over = false;  ///< forecast for the month >= amount
};

/// The result of checking a budget: spend this month so far and its linear forecast.
struct BudgetStatus {
  double monthly = 0;         ///< the budget, USD
  double actual = 0;          ///< USD spent in the current month up to `now`
  double forecast = 0;        ///< actual / (elapsed fraction of the month)
  double month_fraction = 0;  ///< elapsed fraction of the month, (0, 1]
  std::string month;          ///< `YYYY-MM` (UTC)
  std::vector<ThresholdStatus> thresholds;
  /// 0: actual and forecast under every alert; 3: actual or forecast at/over an alert threshold;
  /// 4: actual at/over the budget itself.
  int exit_code = 0;
};

/// Checks `budget` against `entries` at time `now` (Unix seconds): sums the entries of now's UTC
/// month, forecasts linearly to the month's end (the elapsed fraction counts at least one hour,
/// so a month's first minutes do not forecast millions).
BudgetStatus check_budget(const Budget& budget, const std::vector<UsageEntry>& entries,
                          std::int64_t now);

/// Parses `50,80,90` into {50, 80, 90}. Throws d2l::bad_input on a bad number or one outside
/// (0, 1000].
std::vector<double> parse_alerts(const std::string& text);

}  // namespace d2l::ops
