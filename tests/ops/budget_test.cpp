// Unit tests for d2l/ops/budget.h: budget arithmetic and forecasts, alerts, the usage ledger,
// corrupt files that must never be overwritten; `d2l cost budget` as a real process.
#include "d2l/ops/budget.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <ctime>
#include <string>

#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"
#include "d2l/ops/pricing.h"
#include "support/fixtures.h"

using namespace d2l::ops;
using d2l::test::run_d2l;
using d2l::test::TempDir;
using d2l::test::write_bytes;

namespace {

std::int64_t utc(int y, int mon, int d, int h = 0) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace

TEST(Budget, ActualAndLinearForecast) {
  Budget b;
  b.monthly = 1000;
  b.alerts = {50, 80, 90};
  // 2026-04 has 30 days; at the start of day 16 (15 days gone) half the month is gone.
  const std::int64_t now = utc(2026, 4, 16);
  std::vector<UsageEntry> e = {
      {utc(2026, 4, 2), "p3.2xlarge", 10, 3.0, "cli"},       // 30
      {utc(2026, 4, 10), "g4dn.xlarge", 100, 2.0, "cli"},    // 200
      {utc(2026, 3, 31, 23), "p3.2xlarge", 1000, 3, "cli"},  // last month: not counted
      {utc(2026, 4, 20), "p3.2xlarge", 1000, 3, "cli"},      // future: not counted
  };
  BudgetStatus s = check_budget(b, e, now);
  EXPECT_EQ(s.month, "2026-04");
  EXPECT_DOUBLE_EQ(s.actual, 230);
  EXPECT_DOUBLE_EQ(s.month_fraction, 0.5);
  EXPECT_DOUBLE_EQ(s.forecast, 460);
  EXPECT_EQ(s.exit_code, 0);
  ASSERT_EQ(s.thresholds.size(), 3u);
  EXPECT_DOUBLE_EQ(s.thresholds[0].amount, 500);

  e.push_back({utc(2026, 4, 15), "x", 100, 3.0, "cli"});  // +300: 530 actual, 1060 forecast
  s = check_budget(b, e, now);
  EXPECT_TRUE(s.thresholds[0].actual_over);
  EXPECT_FALSE(s.thresholds[1].actual_over);
  EXPECT_TRUE(s.thresholds[2].forecast_over);
  EXPECT_EQ(s.exit_code, 3);

  e.push_back({utc(2026, 4, 15), "x", 1000, 1.0, "cli"});  // 1530: over the budget
  EXPECT_EQ(check_budget(b, e, now).exit_code, 4);
}

TEST(Budget, FirstMinutesOfAMonthDoNotExplode) {
  Budget b;
  b.monthly = 100;
  std::vector<UsageEntry> e = {{utc(2026, 5, 1), "x", 1, 1.0, "cli"}};
  const BudgetStatus s = check_budget(b, e, utc(2026, 5, 1) + 60);
  EXPECT_LE(s.forecast, 31 * 24 + 1);
  EXPECT_GT(s.month_fraction, 0);
}

TEST(Budget, AlertsParseAndValidate) {
  EXPECT_EQ(parse_alerts("90,50,80"), (std::vector<double>{50, 80, 90}));
  for (const char* bad : {"", "50,,80", "abc", "0", "-5", "2000"})
    EXPECT_THROW(parse_alerts(bad), d2l::Error) << bad;
}

TEST(Budget, SaveLoadRoundTripIs0600) {
  TempDir t;
  const std::string p = (t.path() / "sub/budget.json").string();
  Budget b;
  b.monthly = 250;
  b.alerts = {90, 50};
  save_budget(p, b);
  const Budget r = load_budget(p);
  EXPECT_DOUBLE_EQ(r.monthly, 250);
  EXPECT_EQ(r.alerts, (std::vector<double>{50, 90}));
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  b.monthly = 0;
  EXPECT_THROW(save_budget(p, b), d2l::Error);
}

TEST(Ledger, AppendsAndSurvivesReload) {
  TempDir t;
  const std::string p = (t.path() / "usage.json").string();
  EXPECT_TRUE(load_ledger(p).empty());
  append_ledger(p, {100, "p3.2xlarge", 2, 3.06, "cli"});
  append_ledger(p, {200, "g4dn.xlarge", 4, 0.526, "autostop"});
  const auto e = load_ledger(p);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[1].instance_type, "g4dn.xlarge");
  EXPECT_EQ(e[1].source, "autostop");
  EXPECT_DOUBLE_EQ(e[0].cost(), 6.12);
  EXPECT_THROW(append_ledger(p, {300, "x", 0, 1, "cli"}), d2l::Error);
}

TEST(Ledger, CorruptFileIsNamedAndNeverOverwritten) {
  TempDir t;
  const std::string p = (t.path() / "usage.json").string();
  for (const std::string bad :
       {"{\"version\": 1, \"entries\": [", "[1,2]", "{\"entries\": [{\"time\": 1}]}"}) {
    write_bytes(p, bad);
    try {
      append_ledger(p, {1, "x", 1, 1, "cli"});
      FAIL() << bad;
    } catch (const d2l::Error& e) {
      EXPECT_EQ(e.exit_code(), 2);
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "one line";
    }
    EXPECT_EQ(d2l::read_file(p), bad);
  }
}

TEST(Budget, CorruptBudgetIsNamed) {
  TempDir t;
  const std::string p = (t.path() / "budget.json").string();
  write_bytes(p, "{\"monthly\": \"lots\"}");
  try {
    load_budget(p);
    FAIL();
  } catch (const d2l::Error& e) {
    EXPECT_NE(std::string(e.what()).find(p), std::string::npos);
  }
  EXPECT_THROW(load_budget((t.path() / "missing.json").string()), d2l::Error);
}

TEST(CostCli, BudgetCheckExitStatusFollowsTheLedger) {
  TempDir t;
  std::string out;
  EXPECT_EQ(run_d2l(t.path(), "cost budget check", &out), 2) << out;  // no budget yet
  ASSERT_EQ(run_d2l(t.path(), "cost budget set --monthly 100 --alerts 50,80,90", &out), 0) << out;
  EXPECT_EQ(run_d2l(t.path(), "cost budget check", &out), 0) << out;
  ASSERT_EQ(run_d2l(t.path(), "cost log t3.medium 1", &out), 0) << out;
  // 1 h of p3.2xlarge = 3.06; 100 of them are over the 100 budget whatever the date
  ASSERT_EQ(run_d2l(t.path(), "cost log p3.2xlarge 40", &out), 0) << out;
  EXPECT_EQ(run_d2l(t.path(), "cost budget check --json", &out), 4) << out;
  EXPECT_NE(out.find("\"exit_code\": 4"), std::string::npos) << out;
  write_bytes(t.path() / "usage.json", "garbage");
  EXPECT_EQ(run_d2l(t.path(), "cost log t3.medium 1", &out), 2);
  EXPECT_NE(out.find("usage.json"), std::string::npos) << out;
  EXPECT_EQ(d2l::read_file((t.path() / "usage.json").string()), "garbage");
}
